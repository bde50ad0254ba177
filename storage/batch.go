package storage

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/thinkey/thinkey/crypto/hash"
)

// Write is one state change of a block: set Key to Value, or delete Key when
// Delete is set (Value is then ignored). Writes apply in order; a later write
// to the same key wins.
type Write struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// Batch is an atomic group of writes: after Commit returns nil all of them are
// durable, and after a crash at any moment either all or none are visible.
//
// Staging methods check what they can without the store (sizes, heights
// contiguous inside the batch) and leave the batch unchanged when they return
// an error. Commit checks the batch against the committed store (each chain
// advances from its current head, no block conflicts) and writes nothing if a
// check fails. A Batch is used by one goroutine; it is single-use.
type Batch struct {
	db    *DB
	batch *pebble.Batch
	done  bool

	// chains lists the chains whose head the batch advances, in staging
	// order; heads holds, per chain, the first and last height staged.
	chains []uint32
	heads  map[uint32]stagedHeads
	// blocks lists the blocks staged, in order, for the conflict checks;
	// blockAt and heightOf find them by position and by hash.
	blocks   []stagedBlock
	blockAt  map[blockPos]hash.Digest
	heightOf map[chainHash]uint64
}

type stagedHeads struct{ first, last uint64 }

type blockPos struct {
	chain  uint32
	height uint64
}

type chainHash struct {
	chain uint32
	hash  hash.Digest
}

type stagedBlock struct {
	blockPos
	hash hash.Digest
}

// NewBatch starts an empty batch. Commit or Close it.
func (db *DB) NewBatch() *Batch {
	return &Batch{
		db:       db,
		batch:    db.pebble.NewBatch(),
		heads:    map[uint32]stagedHeads{},
		blockAt:  map[blockPos]hash.Digest{},
		heightOf: map[chainHash]uint64{},
	}
}

// PutBlock stages block (its canonical bytes, with blockHash the hash the
// chain knows it by) at height of chain, indexed by hash. The store does not
// decode or hash the block. Storing the same block again is harmless; a
// different block at the same height, or the same hash at another height, is
// ErrBlockConflict.
func (b *Batch) PutBlock(chain uint32, height uint64, blockHash hash.Digest, block []byte) error {
	if err := b.open(); err != nil {
		return err
	}
	if err := b.checkBlock(chain, height, blockHash, block); err != nil {
		return fmt.Errorf("put block %d of chain %d: %w", height, chain, err)
	}
	return b.stageBlock(chain, height, blockHash, block)
}

// ApplyBlock stages a block of chain together with its state writes and the
// new head (height, blockHash, stateRoot), so that they land in one commit.
// height must follow the chain's head: head+1, or 0 (the genesis) for a chain
// with no head. That is checked against heads staged earlier in this batch
// now, and against the committed head at Commit.
func (b *Batch) ApplyBlock(chain uint32, height uint64, writes []Write, block []byte, blockHash, stateRoot hash.Digest) error {
	if err := b.open(); err != nil {
		return err
	}
	if err := b.checkApply(chain, height, writes, block, blockHash); err != nil {
		return fmt.Errorf("apply block %d of chain %d: %w", height, chain, err)
	}
	if err := b.stageBlock(chain, height, blockHash, block); err != nil {
		return err
	}
	for _, w := range writes {
		var err error
		if w.Delete {
			err = b.batch.Delete(stateKey(chain, w.Key), nil)
		} else {
			err = b.batch.Set(stateKey(chain, w.Key), w.Value, nil)
		}
		if err != nil {
			return b.fail(wrapPebble("stage state write", err))
		}
	}
	head := Head{Height: height, BlockHash: blockHash, StateRoot: stateRoot}
	if err := b.batch.Set(headKey(chain), encodeHeadRecord(head), nil); err != nil {
		return b.fail(wrapPebble("stage head", err))
	}
	if staged, ok := b.heads[chain]; ok {
		b.heads[chain] = stagedHeads{first: staged.first, last: height}
	} else {
		b.chains = append(b.chains, chain)
		b.heads[chain] = stagedHeads{first: height, last: height}
	}
	return nil
}

// checkApply runs every check of ApplyBlock that needs no store read.
func (b *Batch) checkApply(chain uint32, height uint64, writes []Write, block []byte, blockHash hash.Digest) error {
	if staged, ok := b.heads[chain]; ok && (staged.last == ^uint64(0) || height != staged.last+1) {
		return fmt.Errorf("batch already advances the chain to %d: %w", staged.last, ErrNotNextHeight)
	}
	for i, w := range writes {
		if err := checkWrite(w); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
	}
	return b.checkBlock(chain, height, blockHash, block)
}

func checkWrite(w Write) error {
	switch {
	case len(w.Key) == 0:
		return ErrEmptyKey
	case len(w.Key) > MaxKeySize:
		return fmt.Errorf("key of %d bytes, limit %d: %w", len(w.Key), MaxKeySize, ErrTooLarge)
	case !w.Delete && len(w.Value) > MaxValueSize:
		return fmt.Errorf("value of key %x is %d bytes, limit %d: %w", w.Key, len(w.Value), MaxValueSize, ErrTooLarge)
	}
	return nil
}

// checkBlock checks a block's size and its consistency with the blocks
// staged earlier in this batch.
func (b *Batch) checkBlock(chain uint32, height uint64, blockHash hash.Digest, block []byte) error {
	switch {
	case len(block) == 0:
		return ErrEmptyBlock
	case len(block) > MaxBlockSize:
		return fmt.Errorf("block of %d bytes, limit %d: %w", len(block), MaxBlockSize, ErrTooLarge)
	}
	if staged, ok := b.blockAt[blockPos{chain, height}]; ok && staged != blockHash {
		return fmt.Errorf("batch already holds block %s at this height: %w", staged, ErrBlockConflict)
	}
	if staged, ok := b.heightOf[chainHash{chain, blockHash}]; ok && staged != height {
		return fmt.Errorf("batch already holds block %s at height %d: %w", blockHash, staged, ErrBlockConflict)
	}
	return nil
}

func (b *Batch) stageBlock(chain uint32, height uint64, blockHash hash.Digest, block []byte) error {
	if err := b.batch.Set(blockKey(chain, height), encodeBlockRecord(blockHash, block), nil); err != nil {
		return b.fail(wrapPebble("stage block", err))
	}
	if err := b.batch.Set(blockHashKey(chain, blockHash), encodeHeightRecord(height), nil); err != nil {
		return b.fail(wrapPebble("stage block hash index", err))
	}
	pos := blockPos{chain, height}
	if _, ok := b.blockAt[pos]; !ok {
		b.blocks = append(b.blocks, stagedBlock{blockPos: pos, hash: blockHash})
		b.blockAt[pos] = blockHash
		b.heightOf[chainHash{chain, blockHash}] = height
	}
	return nil
}

// Commit checks the batch against the committed store, then writes it and
// syncs the WAL before returning. On nil the batch is durable; on an error
// nothing of it was written. The batch is released either way.
func (b *Batch) Commit() error {
	if err := b.open(); err != nil {
		return err
	}
	defer b.Close()
	if err := b.db.usable(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if b.db.readOnly {
		return fmt.Errorf("commit: %w", ErrReadOnly)
	}
	if b.batch.Empty() {
		return nil
	}
	b.db.commitMu.Lock()
	defer b.db.commitMu.Unlock()
	for _, chain := range b.chains {
		if err := b.checkHead(chain); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	for _, blk := range b.blocks {
		if err := b.checkStoredBlock(blk); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	if err := b.batch.Commit(pebble.Sync); err != nil {
		return wrapPebble("commit", err)
	}
	return nil
}

// checkHead checks that the first height the batch applies to chain follows
// the committed head.
func (b *Batch) checkHead(chain uint32) error {
	first := b.heads[chain].first
	head, err := b.db.State().Head(chain)
	switch {
	case errors.Is(err, ErrNotFound):
		if first != 0 {
			return fmt.Errorf("block %d of chain %d: chain has no head, first block is 0: %w", first, chain, ErrNotNextHeight)
		}
		return nil
	case err != nil:
		return err
	case head.Height == ^uint64(0) || first != head.Height+1:
		return fmt.Errorf("block %d of chain %d: head is at %d: %w", first, chain, head.Height, ErrNotNextHeight)
	}
	return nil
}

// checkStoredBlock checks a staged block against the committed blocks: the
// height holds no other block and the hash is not stored at another height.
func (b *Batch) checkStoredBlock(blk stagedBlock) error {
	stored, err := b.db.Blocks().ByHeight(blk.chain, blk.height)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	case stored.Hash != blk.hash:
		return fmt.Errorf("block %d of chain %d: store holds block %s there, not %s: %w",
			blk.height, blk.chain, stored.Hash, blk.hash, ErrBlockConflict)
	}
	rec, err := b.db.get(blockHashKey(blk.chain, blk.hash))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("block %s of chain %d: %w", blk.hash, blk.chain, err)
	}
	height, err := decodeHeightRecord(rec)
	if err != nil {
		return fmt.Errorf("block %s of chain %d: %w", blk.hash, blk.chain, err)
	}
	if height != blk.height {
		return fmt.Errorf("block %s of chain %d at %d: store holds it at %d: %w",
			blk.hash, blk.chain, blk.height, height, ErrBlockConflict)
	}
	return nil
}

// Close discards an uncommitted batch. It is safe to call after Commit, and
// more than once, so `defer b.Close()` is always right.
func (b *Batch) Close() {
	if b.done {
		return
	}
	b.done = true
	_ = b.batch.Close() // releasing an in-memory batch cannot fail in a way that matters
}

func (b *Batch) open() error {
	if b.done {
		return fmt.Errorf("batch: %w", ErrClosed)
	}
	return nil
}

// fail poisons a batch that Pebble refused to stage into: it may hold part of
// an operation, so it must never commit.
func (b *Batch) fail(err error) error {
	b.Close()
	return err
}
