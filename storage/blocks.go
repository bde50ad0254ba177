package storage

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/thinkey/thinkey/crypto/hash"
)

// Block is a stored block: its canonical bytes, opaque to this package, and
// the hash and height it was stored under.
type Block struct {
	Height uint64
	Hash   hash.Digest
	Bytes  []byte
}

// BlockStore reads and writes the blocks of every chain. It is a view over a
// DB; copy it freely.
type BlockStore struct{ db *DB }

// PutBlock stores block at height of chain, indexed by blockHash, in its own
// synced batch. See Batch.PutBlock for the rules.
func (s BlockStore) PutBlock(chain uint32, height uint64, blockHash hash.Digest, block []byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.PutBlock(chain, height, blockHash, block); err != nil {
		return err
	}
	return b.Commit()
}

// ByHeight returns the block at height of chain, or ErrNotFound.
func (s BlockStore) ByHeight(chain uint32, height uint64) (Block, error) {
	rec, err := s.db.get(blockKey(chain, height))
	if err != nil {
		return Block{}, fmt.Errorf("block %d of chain %d: %w", height, chain, err)
	}
	blockHash, bytes, err := decodeBlockRecord(rec)
	if err != nil {
		return Block{}, fmt.Errorf("block %d of chain %d: %w", height, chain, err)
	}
	return Block{Height: height, Hash: blockHash, Bytes: bytes}, nil
}

// ByHash returns the block of chain stored under blockHash, or ErrNotFound.
func (s BlockStore) ByHash(chain uint32, blockHash hash.Digest) (Block, error) {
	rec, err := s.db.get(blockHashKey(chain, blockHash))
	if err != nil {
		return Block{}, fmt.Errorf("block %s of chain %d: %w", blockHash, chain, err)
	}
	height, err := decodeHeightRecord(rec)
	if err != nil {
		return Block{}, fmt.Errorf("block %s of chain %d: %w", blockHash, chain, err)
	}
	blk, err := s.ByHeight(chain, height)
	switch {
	case errors.Is(err, ErrNotFound):
		// The index and the block are written in one batch, so a dangling
		// index entry means the store was damaged.
		return Block{}, fmt.Errorf("block %s of chain %d: index points at missing height %d: %w",
			blockHash, chain, height, ErrCorruption)
	case err != nil:
		return Block{}, err
	case blk.Hash != blockHash:
		return Block{}, fmt.Errorf("block %s of chain %d: index points at height %d, which holds %s: %w",
			blockHash, chain, height, blk.Hash, ErrCorruption)
	}
	return blk, nil
}

// LatestHeight returns the highest height of chain holding a block, or
// ErrNotFound if the chain has none. Blocks may be stored ahead of the state
// head (fetched but not yet applied), so this can exceed StateStore.Head.
func (s BlockStore) LatestHeight(chain uint32) (uint64, error) {
	if err := s.db.usable(); err != nil {
		return 0, err
	}
	lower := chainKey(prefixBlock, chain)
	iter, err := s.db.pebble.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upperBound(lower)})
	if err != nil {
		return 0, wrapPebble(fmt.Sprintf("latest block of chain %d", chain), err)
	}
	var height uint64
	found := iter.Last()
	if found {
		height, err = heightFromBlockKey(iter.Key())
	}
	if closeErr := iter.Close(); closeErr != nil && err == nil {
		err = wrapPebble("close iterator", closeErr)
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("latest block of chain %d: %w", chain, err)
	case !found:
		return 0, fmt.Errorf("latest block of chain %d: %w", chain, ErrNotFound)
	}
	return height, nil
}
