// Package storage is a node's persistent store: the blocks and the key/value
// state of every chain the node follows, in one Pebble instance, committed in
// atomic batches that are synced before they are acknowledged.
//
// # Who calls it
//
// The node's shell (node/driver) opens it on vfs.Default and persists what the
// cores emit: decided blocks with their state write sets (ApplyBlock), blocks
// fetched ahead of execution (PutBlock). The simulator (node/sim) opens it on
// vfs.NewCrashableMem and uses CrashClone to crash and restart nodes.
// Read-only tools open it with Options.ReadOnly. The cores never see it: they
// receive the state the shell loaded and return writes to persist.
//
// # Views
//
//   - DB: Open, Close, NewBatch, Flush; one per node.
//   - Batch: an atomic write group (PutBlock, ApplyBlock, PutRecord, Commit).
//   - BlockStore (db.Blocks()): blocks by (chain, height) and by hash, the
//     latest stored height of a chain.
//   - StateStore (db.State()): state reads (Get, Scan), the chain head, and
//     ApplyBlock in one call.
//   - Node records (Batch.PutRecord, DB.Record): the shell's own durable data
//     that is not chain state (a consensus member's votes and lock, the index
//     of confirmed messages), written in the same batch as the block it goes
//     with when it must be atomic with it.
//
// Blocks and state values are opaque bytes here: the canonical codec lives
// elsewhere and this package neither decodes nor hashes them. A block's hash
// is given by the caller and trusted as its identity.
//
// # Key layout
//
// Every key starts with one byte naming its keyspace. Integers are big-endian
// so that a chain's keys sort by height. The chain ID follows the prefix, so
// each chain's records are one contiguous range.
//
//	prefix  keyspace     key                                 value
//	------  -----------  ----------------------------------  ------------------------------------------
//	0x00    meta         0x00 | "format"                     version u32 (4 bytes, currently 1)
//	0x01    block        0x01 | chain u32 | height u64       block hash [32] | block bytes (1+ bytes)
//	0x02    block hash   0x02 | chain u32 | block hash [32]  height u64 (8 bytes)
//	0x03    head         0x03 | chain u32                    height u64 | block hash [32] | state root [32]
//	0x04    state        0x04 | chain u32 | key (1..1024 B)  value (0..4 MiB)
//	0x05    node record  0x05 | key (1..1024 B)              value (0..4 MiB), opaque
//
// A record that does not have the length its row states fails to decode with
// ErrCorruption. So does a hash index entry whose height holds no block or a
// block with another hash. Open refuses a store whose format version differs.
//
// # Invariants
//
//   - A chain's head moves only through ApplyBlock, in the same batch as the
//     block at that height and the state writes of that block. So the state
//     stored for a chain is exactly the state after its head block, and every
//     height 0..head holds a block.
//   - Heights advance one at a time from 0 (the genesis block): ApplyBlock at
//     any height other than head+1 fails with ErrNotNextHeight.
//   - A height holds one block forever, and a hash indexes one height
//     (ErrBlockConflict otherwise). Storing the same block again is a no-op.
//   - Bad input (empty key, oversized key, value or block, wrong height,
//     conflicting block) returns an error and changes nothing.
//
// # Durability contract
//
// Every Commit (and so every PutBlock and ApplyBlock) writes its batch to
// Pebble's write-ahead log and fsyncs it (pebble.Sync) before returning nil.
// Then:
//
//   - A batch whose Commit returned nil survives a process crash and a power
//     loss, as far as the device honours fsync.
//   - A batch is all or nothing: after a crash at any moment, including during
//     its Commit, either every record of it is visible or none is.
//   - Batches become durable in commit order. After a crash the store holds
//     every batch acknowledged before the crash, plus perhaps batches whose
//     Commit was still running, each whole.
//   - A Commit that returns an error wrote nothing. If Pebble cannot write or
//     sync its log or MANIFEST, it cannot continue safely; its Fatalf panics
//     (see pebbleLogger) so the process restarts from what is on disk instead
//     of acknowledging a batch that is not.
//   - Flushes and compactions change only where data lives, never what is
//     visible; Flush is never needed for durability.
//
// Open recovers by replaying the log; a torn tail from an interrupted write is
// discarded. The crash tests check this against vfs.NewCrashableMem clones
// (unsynced data lost at random) and against a writer process killed with
// SIGKILL mid-batch.
//
// # Concurrency
//
// A DB is safe for concurrent use; Close must not overlap other calls.
// Commits are serialized so that their height and conflict checks see the
// store they land on. Reads see committed batches only. A Batch belongs to
// one goroutine.
//
// # Tuning
//
// The defaults target the paper's node of one core and 2 GB of RAM:
//
//   - Block cache 64 MiB (DefaultCacheSize, configurable): big enough for
//     the index and filter blocks and the hot accounts, small next to the
//     memory the node needs for mempools, committees and signatures.
//   - Memtable 8 MiB (DefaultMemTableSize, configurable), at most 4 queued
//     before writes stall: a block of a few thousand writes fits many times
//     over, flushes stay short on one core, and memtables pin at most 32 MiB.
//   - One compaction at a time: with one core, parallel compactions would
//     only steal time from consensus and execution.
//   - At most 256 open files, to stay clear of the common 1024 descriptor
//     limit that sockets also draw from.
//   - The on-disk format is pinned to pebble.FormatValueSeparation (the
//     newest of Pebble v2.1) so that a Pebble upgrade never rewrites the
//     store silently; it includes WAL sync chunks, with which log replay
//     tells a torn tail from corruption.
//
// Every commit costs one fsync, and commits are serialized, so the device's
// fsync latency, not Pebble, dominates ApplyBlock and bounds the blocks per
// second a node can persist. The "pebble"
// benchmark stage measures it.
//
// # Why Pebble
//
// Pebble is a pure-Go LSM store (no cgo, unlike RocksDB bindings) with atomic
// synced batches and a pluggable filesystem (vfs.FS). That seam lets the
// simulator run the production store in memory and crash it with
// CrashClone. Pebble's log goes to slog (Options.Logger), discarded when nil.
package storage
