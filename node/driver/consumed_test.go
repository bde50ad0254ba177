package driver

import (
	"encoding/binary"
	"log/slog"
	"runtime"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

func relayID(n uint64) types.Hash { return hash.Sum256(binary.BigEndian.AppendUint64(nil, n)) }

// commitConsumed writes ids as consumed by block height of chain, as
// persist does, and settles the index.
func commitConsumed(t interface{ Fatalf(string, ...any) }, db *storage.DB, x *consumedIndex, chain uint32, height uint64, ids []types.Hash) {
	writes := make([]storage.Write, len(ids))
	for i, id := range ids {
		writes[i] = storage.Write{Key: consumedStoreKey(id), Value: binary.BigEndian.AppendUint64(nil, height)}
		x.add(id)
	}
	if err := db.State().ApplyBlock(chain, height, writes, []byte("block"), relayID(1<<40+height), hash.Digest{}); err != nil {
		t.Fatalf("apply block %d: %v", height, err)
	}
	x.settle()
}

// TestConsumedIndexIsExact: whatever the filters' sizes and false-positive
// rates, the index answers exactly as a set would, before and after a
// restart rebuilds it from the store, and IDs of a block not yet durable
// count as consumed.
func TestConsumedIndexIsExact(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		db, err := storage.Open("consumed", storage.Options{FS: vfs.NewMem()})
		if err != nil {
			rt.Fatalf("open: %v", err)
		}
		defer db.Close()
		const chain = 3
		newIndex := func() *consumedIndex {
			x := newConsumedIndex(db, chain, slog.New(slog.DiscardHandler))
			// Tiny stages with many false positives: every path is taken.
			x.base = uint(rapid.IntRange(1, 16).Draw(rt, "base"))
			x.fp = rapid.Float64Range(0.05, 0.9).Draw(rt, "fp")
			return x
		}
		x := newIndex()
		set := map[types.Hash]bool{}
		blocks := rapid.IntRange(1, 8).Draw(rt, "blocks")
		next := uint64(0)
		for h := range uint64(blocks) {
			n := rapid.IntRange(0, 40).Draw(rt, "consumed")
			ids := make([]types.Hash, n)
			for i := range ids {
				ids[i] = relayID(next)
				set[ids[i]] = true
				next += uint64(rapid.IntRange(1, 3).Draw(rt, "gap"))
			}
			commitConsumed(rt, db, x, chain, h, ids)
		}
		check := func(what string, x *consumedIndex) {
			for n := range next + 64 {
				id := relayID(n)
				if got := x.Consumed(id); got != set[id] {
					rt.Fatalf("%s: relay %d consumed = %v, want %v", what, n, got, set[id])
				}
			}
		}
		check("after commits", x)

		reopened := newIndex()
		err = db.State().Scan(chain, []byte{consumedKeyPrefix}, func(key, _ []byte) error {
			reopened.load(types.Hash(key[1:]))
			return nil
		})
		if err != nil {
			rt.Fatalf("scan: %v", err)
		}
		check("rebuilt from the store", reopened)

		// A block planned but not durable yet: its IDs count as consumed
		// for the next block of the same batch.
		fresh := relayID(next + 1000)
		x.add(fresh)
		if !x.Consumed(fresh) {
			rt.Fatal("a pending relay is not consumed")
		}
	})
}

// TestConsumedIndexMemory: the filters of 200,000 consumed relays take
// under 4 bytes a relay, and under a fifth of a Go map of the IDs (about
// 52 bytes a relay; -v prints both).
func TestConsumedIndexMemory(t *testing.T) {
	x := newConsumedIndex(nil, 1, slog.New(slog.DiscardHandler))
	const n = 200_000
	for i := range uint64(n) {
		x.load(relayID(i))
	}
	perRelay := float64(x.memoryBytes()) / n
	if perRelay > 4 {
		t.Fatalf("%.2f bytes a relay", perRelay)
	}
	// The map the index replaced, measured the same way in heap bytes.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := make(map[types.Hash]struct{})
	for i := range uint64(n) {
		m[relayID(i)] = struct{}{}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	mapPerRelay := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	runtime.KeepAlive(m)
	if perRelay*5 > mapPerRelay {
		t.Fatalf("filters %.2f bytes a relay, map %.2f: want at most a fifth", perRelay, mapPerRelay)
	}
	t.Logf("%.2f bytes a relay in %d stages; a map of the IDs %.1f", perRelay, len(x.stages), mapPerRelay)
	if len(x.stages) < 2 {
		t.Fatalf("%d stages for %d relays with stages from %d", len(x.stages), n, consumedFilterBase)
	}
}

// BenchmarkConsumedIndexAbsent is the check of a relay not consumed, the
// common case of every relay input built or checked, with 200,000 relays
// in the set; BenchmarkConsumedMapAbsent is the map the index replaced.
func BenchmarkConsumedIndexAbsent(b *testing.B) {
	x := newConsumedIndex(nil, 1, slog.New(slog.DiscardHandler))
	for i := range uint64(200_000) {
		x.load(relayID(i))
	}
	// IDs the filters refuse: the store is not read (about 1% are
	// positives, settled by a store read, which this leaves out).
	var ids []types.Hash
	for n := uint64(1 << 32); len(ids) < 1024; n++ {
		if id := relayID(n); !x.maybe(id) {
			ids = append(ids, id)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if x.maybe(ids[i%len(ids)]) {
			b.Fatal("filter positive")
		}
		i++
	}
}

func BenchmarkConsumedMapAbsent(b *testing.B) {
	m := make(map[types.Hash]struct{})
	for i := range uint64(200_000) {
		m[relayID(i)] = struct{}{}
	}
	ids := make([]types.Hash, 1024)
	for i := range ids {
		ids[i] = relayID(1<<32 + uint64(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := m[ids[i%len(ids)]]; ok {
			b.Fatal("present")
		}
		i++
	}
}
