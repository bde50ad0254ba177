package storage

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/thinkey/thinkey/crypto/hash"
)

// Head is the committed position of a chain's state: the last applied block
// and the state root after it.
type Head struct {
	Height    uint64
	BlockHash hash.Digest
	StateRoot hash.Digest
}

// StateStore reads and writes the key/value state of every chain. It is a
// view over a DB; copy it freely. State changes only through ApplyBlock, so
// the state of a chain is always the state at its head.
type StateStore struct{ db *DB }

// ApplyBlock stores block (with blockHash), applies writes to the state of
// chain and moves its head to (height, blockHash, stateRoot), all in one
// synced batch. height must be head+1, or 0 for a chain with no head;
// otherwise ErrNotNextHeight. On any error nothing changes.
func (s StateStore) ApplyBlock(chain uint32, height uint64, writes []Write, block []byte, blockHash, stateRoot hash.Digest) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.ApplyBlock(chain, height, writes, block, blockHash, stateRoot); err != nil {
		return err
	}
	return b.Commit()
}

// Head returns the committed head of chain, or ErrNotFound if no block was
// ever applied to it.
func (s StateStore) Head(chain uint32) (Head, error) {
	rec, err := s.db.get(headKey(chain))
	if err != nil {
		return Head{}, fmt.Errorf("head of chain %d: %w", chain, err)
	}
	h, err := decodeHeadRecord(rec)
	if err != nil {
		return Head{}, fmt.Errorf("head of chain %d: %w", chain, err)
	}
	return h, nil
}

// Get returns the value of key in the state of chain, or ErrNotFound.
func (s StateStore) Get(chain uint32, key []byte) ([]byte, error) {
	v, err := s.db.get(stateKey(chain, key))
	if err != nil {
		return nil, fmt.Errorf("state key %x of chain %d: %w", key, chain, err)
	}
	return v, nil
}

// Scan calls fn for every key of chain's state that starts with prefix, in
// key order, stopping at the first error fn returns (which Scan returns).
// key and value are valid only during the call. Scan reads one point-in-time
// view: blocks applied while it runs are not seen. State sync and checks of
// the whole state use it.
func (s StateStore) Scan(chain uint32, prefix []byte, fn func(key, value []byte) error) error {
	if err := s.db.usable(); err != nil {
		return err
	}
	lower := stateKey(chain, prefix)
	iter, err := s.db.pebble.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upperBound(lower)})
	if err != nil {
		return wrapPebble(fmt.Sprintf("scan state of chain %d", chain), err)
	}
	for valid := iter.First(); valid; valid = iter.Next() {
		var value []byte
		if value, err = iter.ValueAndErr(); err != nil {
			err = wrapPebble(fmt.Sprintf("scan state of chain %d", chain), err)
			break
		}
		if err = fn(iter.Key()[chainKeyLen:], value); err != nil {
			break
		}
	}
	if err == nil {
		if iterErr := iter.Error(); iterErr != nil {
			err = wrapPebble(fmt.Sprintf("scan state of chain %d", chain), iterErr)
		}
	}
	if closeErr := iter.Close(); closeErr != nil && err == nil {
		err = wrapPebble(fmt.Sprintf("scan state of chain %d", chain), closeErr)
	}
	return err
}
