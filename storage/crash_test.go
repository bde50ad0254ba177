package storage_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/storage"
)

// crashChains are the chains the crash model writes to.
var crashChains = []uint32{1, 2}

// chainModel is what a chain must hold: every block applied, and the state
// after each.
type chainModel struct {
	blocks []storage.Block
	roots  []hash.Digest
	states []map[string]string // states[h] is the state after block h
}

func (m *chainModel) apply(blk storage.Block, root hash.Digest, writes []storage.Write) {
	state := map[string]string{}
	if n := len(m.states); n > 0 {
		state = maps.Clone(m.states[n-1])
	}
	for _, w := range writes {
		if w.Delete {
			delete(state, string(w.Key))
		} else {
			state[string(w.Key)] = string(w.Value)
		}
	}
	m.blocks = append(m.blocks, blk)
	m.roots = append(m.roots, root)
	m.states = append(m.states, state)
}

// check compares db with the model: the head at the model's last block,
// every block, the state, nothing above.
func (m *chainModel) check(t failer, db *storage.DB, chain uint32) {
	t.Helper()
	head, err := db.State().Head(chain)
	if len(m.blocks) == 0 {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("chain %d: no block committed, head reads %+v, %v", chain, head, err)
		}
	} else {
		top := len(m.blocks) - 1
		want := storage.Head{Height: uint64(top), BlockHash: m.blocks[top].Hash, StateRoot: m.roots[top]}
		if err != nil || head != want {
			t.Fatalf("chain %d: head %+v, %v; want %+v (committed batches lost or extra ones seen)", chain, head, err, want)
		}
		if got := readState(t, db, chain); !maps.Equal(got, m.states[top]) {
			t.Fatalf("chain %d: state at %d differs from the model:\n%s", chain, top, diffState(got, m.states[top]))
		}
	}
	for _, want := range m.blocks {
		got, err := db.Blocks().ByHeight(chain, want.Height)
		if err != nil || got.Hash != want.Hash || !bytes.Equal(got.Bytes, want.Bytes) {
			t.Fatalf("chain %d block %d: got %s %v, want %s", chain, want.Height, got.Hash, err, want.Hash)
		}
	}
	if _, err := db.Blocks().ByHeight(chain, uint64(len(m.blocks))); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("chain %d: block %d above the head: %v", chain, len(m.blocks), err)
	}
}

// TestCrashCloneKeepsCommittedBatches applies random blocks to two chains,
// with flushes, and crashes at random moments: it takes a CrashClone of the
// filesystem that keeps a random share of the unsynced data, reopens the
// store on the clone and goes on from there. After each crash the store must
// hold exactly what the model holds: commits return only once synced, so no
// acknowledged batch may be lost, and none is in flight to appear.
func TestCrashCloneKeepsCommittedBatches(t *testing.T) {
	keys := []string{"a", "b", "c", "d", "acct/1", "acct/2", "acct/3", "code"}
	rapid.Check(t, func(rt *rapid.T) {
		fs := vfs.NewCrashableMem()
		open := func() *storage.DB {
			db, err := storage.Open("db", storage.Options{FS: fs, MemTableSize: 256 << 10})
			if err != nil {
				rt.Fatalf("open: %v", err)
			}
			return db
		}
		db := open()
		defer func() { _ = db.Close() }()
		models := map[uint32]*chainModel{}
		for _, c := range crashChains {
			models[c] = &chainModel{}
		}
		steps := rapid.IntRange(1, 25).Draw(rt, "steps")
		for range steps {
			switch rapid.IntRange(0, 9).Draw(rt, "action") {
			case 0: // crash and restart
				clone := fs.CrashClone(vfs.CrashCloneCfg{
					UnsyncedDataPercent: rapid.IntRange(0, 100).Draw(rt, "unsynced percent"),
					RNG:                 rand.New(rand.NewPCG(rapid.Uint64().Draw(rt, "crash seed"), 0)),
				})
				_ = db.Close() // the old instance keeps writing to the old filesystem only
				fs = clone
				db = open()
				for _, c := range crashChains {
					models[c].check(rt, db, c)
				}
			case 1:
				if err := db.Flush(); err != nil {
					rt.Fatalf("flush: %v", err)
				}
			default: // apply a block
				chain := rapid.SampledFrom(crashChains).Draw(rt, "chain")
				m := models[chain]
				height := uint64(len(m.blocks))
				var writes []storage.Write
				for range rapid.IntRange(0, 8).Draw(rt, "writes") {
					w := storage.Write{Key: []byte(rapid.SampledFrom(keys).Draw(rt, "key"))}
					if w.Delete = rapid.IntRange(0, 3).Draw(rt, "delete") == 0; !w.Delete {
						// Values up to a few KiB cross the 4 KiB pages that
						// CrashClone keeps or drops independently.
						w.Value = bytes.Repeat([]byte{byte(height)}, rapid.IntRange(0, 6000).Draw(rt, "value size"))
					}
					writes = append(writes, w)
				}
				blockBytes := fmt.Appendf(nil, "chain %d block %d %d", chain, height, rapid.Uint32().Draw(rt, "block nonce"))
				blk := storage.Block{Height: height, Hash: hash.Sum256(blockBytes), Bytes: blockBytes}
				root := hash.Sum256(fmt.Appendf(nil, "root %d %d", chain, height))
				if err := db.State().ApplyBlock(chain, height, writes, blk.Bytes, blk.Hash, root); err != nil {
					rt.Fatalf("apply block %d of chain %d: %v", height, chain, err)
				}
				m.apply(blk, root, writes)
			}
		}
		for _, c := range crashChains {
			models[c].check(rt, db, c)
		}
	})
}

// TestCrashCloneMidCommit crashes while a writer goroutine is committing
// batches of 200 keys, so clones land before, inside and after a commit.
// Each clone must recover to a head h at or above the last height whose
// Commit had returned before the clone, at or below the last one started,
// with blocks 0..h and the state at h exactly as generated: nothing of a
// partial batch, nothing lost.
func TestCrashCloneMidCommit(t *testing.T) {
	const (
		keysPerBlock = 200
		blocks       = 40
		seeds        = 3
		clonesPerRun = 8
	)
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0xc1a5))
			fs := vfs.NewCrashableMem()
			db := openStore(t, fs, "db")

			// committed is the last height whose Commit returned; started is
			// the height being committed (committed+1 while a commit runs).
			var committed, started atomic.Int64
			committed.Store(-1)
			started.Store(-1)
			var wg sync.WaitGroup
			var writeErr error
			wg.Go(func() {
				for i := range uint64(blocks) {
					g := generateBlock(i, keysPerBlock)
					started.Store(int64(i))
					if err := db.State().ApplyBlock(1, i, g.writes, g.bytes, g.hash, g.stateRoot); err != nil {
						writeErr = err
						return
					}
					committed.Store(int64(i))
				}
			})

			type crash struct {
				fs       *vfs.MemFS
				min, max int64
			}
			var crashes []crash
			for range clonesPerRun {
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
				low := committed.Load()
				clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rand.New(rand.NewPCG(rng.Uint64(), 0))})
				crashes = append(crashes, crash{fs: clone, min: low, max: started.Load()})
			}
			wg.Wait()
			if writeErr != nil {
				t.Fatalf("writer: %v", writeErr)
			}
			for i, c := range crashes {
				recovered := openStore(t, c.fs, "db")
				h := checkGenerated(t, recovered, 1, c.min, keysPerBlock)
				if h > c.max {
					t.Fatalf("crash %d: head %d above the last block started (%d)", i, h, c.max)
				}
				if err := recovered.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
