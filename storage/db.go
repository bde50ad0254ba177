package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Defaults sized for the 1-core / 2 GB target; see "Tuning" in doc.go.
const (
	// DefaultCacheSize is the block cache size when Options.CacheSize is 0.
	DefaultCacheSize int64 = 64 << 20
	// DefaultMemTableSize is the memtable size when Options.MemTableSize is 0.
	DefaultMemTableSize uint64 = 8 << 20
)

// Limits on what the store accepts. They bound the memory one batch can pin
// and reject garbage early; canonical decoders elsewhere enforce the
// consensus limits, which are smaller.
const (
	// MaxKeySize is the largest state key, in bytes.
	MaxKeySize = 1 << 10
	// MaxValueSize is the largest state value, in bytes.
	MaxValueSize = 4 << 20
	// MaxBlockSize is the largest block, in bytes.
	MaxBlockSize = 32 << 20
)

// Tuning constants that are not worth an option; see "Tuning" in doc.go.
const (
	memTableStopWritesThreshold = 4
	maxOpenFiles                = 256
)

// Options configures Open. The zero value opens a writable store on the
// operating system's filesystem with the default sizes.
type Options struct {
	// FS is the filesystem the store lives on: vfs.Default in production,
	// vfs.NewMem or vfs.NewCrashableMem in tests and the simulator. Nil
	// means vfs.Default.
	FS vfs.FS
	// CacheSize is the block cache size in bytes; 0 means DefaultCacheSize.
	CacheSize int64
	// MemTableSize is the memtable size in bytes; 0 means DefaultMemTableSize.
	MemTableSize uint64
	// ReadOnly opens the store for reading only: every commit fails with
	// ErrReadOnly and nothing on disk changes (no WAL replay is written back,
	// no format record is added).
	ReadOnly bool
	// Logger receives Pebble's messages with component=pebble. Nil discards
	// them, which keeps tests quiet.
	Logger *slog.Logger
}

// DB is one node's store: one Pebble instance holding every keyspace. It is
// safe for concurrent use, except that Close must not overlap any other call.
type DB struct {
	pebble   *pebble.DB
	readOnly bool
	closed   atomic.Bool
	// commitMu serializes the read-check-write of Batch.Commit, so the
	// height and conflict checks see the state the batch lands on.
	commitMu sync.Mutex
}

// Open opens or creates the store in dir on opts.FS.
func Open(dir string, opts Options) (*DB, error) {
	if opts.CacheSize < 0 {
		return nil, fmt.Errorf("open storage %s: cache size %d is negative", dir, opts.CacheSize)
	}
	popts := pebbleOptions(opts)
	pdb, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, wrapPebble("open storage "+dir, err)
	}
	db := &DB{pebble: pdb, readOnly: opts.ReadOnly}
	if err := db.checkFormat(); err != nil {
		return nil, errors.Join(fmt.Errorf("open storage %s: %w", dir, err), pdb.Close())
	}
	return db, nil
}

// pebbleOptions translates Options into Pebble's, with the tuning doc.go
// explains.
func pebbleOptions(opts Options) *pebble.Options {
	fs := opts.FS
	if fs == nil {
		fs = vfs.Default
	}
	cacheSize := opts.CacheSize
	if cacheSize == 0 {
		cacheSize = DefaultCacheSize
	}
	memTableSize := opts.MemTableSize
	if memTableSize == 0 {
		memTableSize = DefaultMemTableSize
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	plog := pebbleLogger{log: logger.With("component", "pebble")}
	return &pebble.Options{
		FS:                          fs,
		ReadOnly:                    opts.ReadOnly,
		CacheSize:                   cacheSize,
		MemTableSize:                memTableSize,
		MemTableStopWritesThreshold: memTableStopWritesThreshold,
		MaxOpenFiles:                maxOpenFiles,
		CompactionConcurrencyRange:  func() (lower, upper int) { return 1, 1 },
		FormatMajorVersion:          pebble.FormatValueSeparation,
		Logger:                      plog,
		EventListener: &pebble.EventListener{
			// Pebble's default for a checksum failure is Fatalf. The read
			// that hits it also returns a corruption error, which surfaces
			// as ErrCorruption; the node decides what to do.
			DataCorruption: func(info pebble.DataCorruptionInfo) {
				plog.log.Error("data corruption", "info", info.String())
			},
		},
	}
}

// checkFormat writes the format record into a new store and refuses a store
// written with another layout version.
func (db *DB) checkFormat() error {
	rec, err := db.get(formatKey())
	switch {
	case errors.Is(err, ErrNotFound):
		if db.readOnly {
			return nil // nothing has been written yet, so nothing to misread
		}
		if err := db.pebble.Set(formatKey(), encodeFormatRecord(formatVersion), pebble.Sync); err != nil {
			return wrapPebble("write format record", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read format record: %w", err)
	}
	version, err := decodeFormatRecord(rec)
	if err != nil {
		return err
	}
	if version != formatVersion {
		return fmt.Errorf("store has layout version %d, this build reads version %d", version, formatVersion)
	}
	return nil
}

// Close flushes nothing extra (every commit is already synced) and releases
// the store. Calls after Close return ErrClosed.
func (db *DB) Close() error {
	if !db.closed.CompareAndSwap(false, true) {
		return fmt.Errorf("close storage: %w", ErrClosed)
	}
	if err := db.pebble.Close(); err != nil {
		return wrapPebble("close storage", err)
	}
	return nil
}

// Flush writes the memtable out to sstables. Durability never needs it (the
// WAL is synced on commit); tests and benchmarks use it to make reads take
// the on-disk path and to exercise flushes under crash clones.
func (db *DB) Flush() error {
	if err := db.usable(); err != nil {
		return err
	}
	if db.readOnly {
		return fmt.Errorf("flush: %w", ErrReadOnly)
	}
	if err := db.pebble.Flush(); err != nil {
		return wrapPebble("flush", err)
	}
	return nil
}

// Blocks returns the block store view of db.
func (db *DB) Blocks() BlockStore { return BlockStore{db: db} }

// State returns the state store view of db.
func (db *DB) State() StateStore { return StateStore{db: db} }

func (db *DB) usable() error {
	if db.closed.Load() {
		return ErrClosed
	}
	return nil
}

// get returns a copy of the value at key, or ErrNotFound.
func (db *DB) get(key []byte) ([]byte, error) {
	if err := db.usable(); err != nil {
		return nil, err
	}
	v, closer, err := db.pebble.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, wrapPebble("get", err)
	}
	out := append([]byte(nil), v...)
	if err := closer.Close(); err != nil {
		return nil, wrapPebble("get", err)
	}
	return out, nil
}

// pebbleLogger routes Pebble's log calls to slog.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Info(fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...))
}

// Fatalf must not return: Pebble calls it when the commit pipeline or the
// MANIFEST cannot be written, and then goes on as if the write had worked.
// Returning would let Commit report a batch as durable when it is not, so the
// process stops here and restarts from what is on disk.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error(msg, "fatal", true)
	panic("storage: pebble fatal error: " + msg)
}
