package bench

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/storage"
)

// The pebble stage measures the node's store (package storage) on the real
// filesystem under cfg.Dir:
//
//   - apply-block/writes=<n>: one ApplyBlock, the block plus n state writes of
//     100-byte values plus the new head, committed with one fsync;
//   - get/hit: a point read of a state key that exists, on a store of 100k
//     accounts flushed to sstables;
//   - put-block: one synced PutBlock of a 64 KiB block.
//
// Synced commits wait for the device's fsync, which on most machines costs far
// more than Pebble's own work: apply-block and put-block measure mostly the
// disk (and differ hugely between a VPS's network volume, a local SSD and
// tmpfs). get/hit measures Pebble and the block cache.

const (
	pebbleValueSize     = 100
	pebbleBlockSize     = 64 << 10
	pebbleAccountKeyLen = 20 // the size of an address
	pebbleChain         = 1
)

func pebbleCases(cfg Config) []Case {
	writeCounts := []int{10, 100, 1000}
	storeKeys := 100_000
	if cfg.Quick {
		writeCounts = []int{100}
		storeKeys = 10_000
	}
	var cases []Case
	for _, n := range writeCounts {
		cases = append(cases, Case{
			Stage: "pebble",
			Name:  fmt.Sprintf("apply-block/writes=%d", n),
			Unit:  "block",
			Run:   func(b *testing.B) { benchApplyBlock(b, cfg.Dir, n) },
		})
	}
	cases = append(cases,
		Case{
			Stage: "pebble",
			Name:  "get/hit",
			Unit:  "read",
			Run:   func(b *testing.B) { benchGetHit(b, cfg.Dir, storeKeys) },
		},
		Case{
			Stage: "pebble",
			Name:  "put-block",
			Unit:  "block",
			Run:   func(b *testing.B) { benchPutBlock(b, cfg.Dir) },
		},
	)
	return cases
}

// openBenchStore opens a fresh store in a new directory under dir (os.TempDir
// when empty) and returns it with the function that closes and removes it.
func openBenchStore(b *testing.B, dir, name string) (*storage.DB, func()) {
	b.Helper()
	path, err := os.MkdirTemp(dir, "pebble-"+name+"-*")
	if err != nil {
		b.Fatalf("pebble stage: %v", err)
	}
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		_ = os.RemoveAll(path)
		b.Fatalf("pebble stage: %v", err)
	}
	return db, func() {
		if err := db.Close(); err != nil {
			b.Errorf("pebble stage: %v", err)
		}
		if err := os.RemoveAll(path); err != nil {
			b.Errorf("pebble stage: %v", err)
		}
	}
}

// accountKey is the state key of account i: a 20-byte address that looks
// random, as addresses do, from a cheap mix of i (a SHA-256 per key would
// show in the apply-block figures on a fast disk).
func accountKey(i uint64) []byte {
	key := make([]byte, 0, 24)
	for round := range uint64(3) {
		key = binary.BigEndian.AppendUint64(key, splitMix64(i*3+round))
	}
	return key[:pebbleAccountKeyLen]
}

// splitMix64 is the SplitMix64 output function: a bijective bit mixer.
func splitMix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// randomBytes returns n bytes from a fixed seed: incompressible, like signed
// and hashed data, so compression does not flatter the figures.
func randomBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(rng.Uint32())
	}
	return out
}

// heightDigest stands in for a block hash or state root: the store does not
// check them, and hashing 64 KiB per iteration would blur the figure.
func heightDigest(tag byte, height uint64) hash.Digest {
	var d hash.Digest
	d[0] = tag
	binary.BigEndian.PutUint64(d[1:], height)
	return d
}

// applyBenchBlock applies block height with one write per key, each a
// 100-byte value.
func applyBenchBlock(db *storage.DB, height uint64, keys [][]byte, value, block []byte) error {
	writes := make([]storage.Write, len(keys))
	for j, k := range keys {
		writes[j] = storage.Write{Key: k, Value: value}
	}
	return db.State().ApplyBlock(pebbleChain, height, writes, block, heightDigest('b', height), heightDigest('r', height))
}

func benchApplyBlock(b *testing.B, dir string, n int) {
	db, done := openBenchStore(b, dir, "apply")
	defer done()
	value := randomBytes(pebbleValueSize)
	block := randomBytes(n * pebbleValueSize) // a block carries about what it writes
	keys := make([][]byte, n)
	b.SetBytes(int64(n * pebbleValueSize))
	b.ResetTimer()
	for i := range uint64(b.N) {
		for j := range keys {
			keys[j] = accountKey(i*uint64(n) + uint64(j))
		}
		if err := applyBenchBlock(db, i, keys, value, block); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

func benchGetHit(b *testing.B, dir string, storeKeys int) {
	db, done := openBenchStore(b, dir, "get")
	defer done()
	const perBlock = 10_000
	value := randomBytes(pebbleValueSize)
	block := []byte("load")
	keys := make([][]byte, storeKeys)
	for i := range keys {
		keys[i] = accountKey(uint64(i))
	}
	for height := uint64(0); int(height)*perBlock < storeKeys; height++ {
		chunk := keys[int(height)*perBlock : min(int(height+1)*perBlock, storeKeys)]
		if err := applyBenchBlock(db, height, chunk, value, block); err != nil {
			b.Fatal(err)
		}
	}
	// Reads of a long-running node go through sstables and the block cache,
	// not the memtable.
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	state := db.State()
	b.ResetTimer()
	for range b.N {
		if _, err := state.Get(pebbleChain, keys[rng.IntN(storeKeys)]); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPutBlock(b *testing.B, dir string) {
	db, done := openBenchStore(b, dir, "put")
	defer done()
	block := randomBytes(pebbleBlockSize)
	blocks := db.Blocks()
	b.SetBytes(pebbleBlockSize)
	b.ResetTimer()
	for i := range uint64(b.N) {
		if err := blocks.PutBlock(pebbleChain, i, heightDigest('b', i), block); err != nil {
			b.Fatal(err)
		}
	}
}
