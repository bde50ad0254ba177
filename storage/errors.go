package storage

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Sentinel errors. Every error the package returns wraps at most one of them
// with context (the chain, height or key concerned); branch with errors.Is.
var (
	// ErrNotFound: the block, head or state key asked for is not stored.
	ErrNotFound = errors.New("not found")
	// ErrNotNextHeight: ApplyBlock was given a height other than the chain's
	// head+1 (or 0 for a chain with no head yet).
	ErrNotNextHeight = errors.New("height is not the next height of the chain")
	// ErrBlockConflict: a different block is already stored at that height,
	// or the same hash is already stored at a different height. Blocks are
	// immutable once stored.
	ErrBlockConflict = errors.New("conflicting block")
	// ErrEmptyKey: a state write has an empty key.
	ErrEmptyKey = errors.New("empty state key")
	// ErrEmptyBlock: a block has no bytes.
	ErrEmptyBlock = errors.New("empty block")
	// ErrTooLarge: a key, value or block is over its limit (MaxKeySize,
	// MaxValueSize, MaxBlockSize).
	ErrTooLarge = errors.New("too large")
	// ErrCorruption: a stored record failed to decode, or Pebble reported a
	// checksum or structural failure. The store cannot be trusted for the
	// chain concerned; the node should stop and resync rather than continue.
	ErrCorruption = errors.New("storage corruption")
	// ErrReadOnly: a write was attempted on a DB opened with ReadOnly.
	ErrReadOnly = errors.New("storage opened read-only")
	// ErrClosed: the DB or the batch was already closed or committed.
	ErrClosed = errors.New("closed")
)

// wrapPebble adds context to an error from Pebble and marks Pebble's own
// corruption errors with ErrCorruption, so callers need not import Pebble to
// tell corruption from other failures.
func wrapPebble(context string, err error) error {
	if pebble.IsCorruptionError(err) {
		return fmt.Errorf("%s: %w: %w", context, ErrCorruption, err)
	}
	return fmt.Errorf("%s: %w", context, err)
}

// corrupt reports a stored record that does not decode.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorruption, fmt.Sprintf(format, args...))
}
