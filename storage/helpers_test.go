package storage_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/storage"
)

// openStore opens a store in dir on fs and closes it when the test ends,
// unless the test closed it first.
func openStore(t testing.TB, fs vfs.FS, dir string) *storage.DB {
	t.Helper()
	db, err := storage.Open(dir, storage.Options{FS: fs})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// failer is what the checkers need of a *testing.T or a *rapid.T.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// dumpChain renders everything the public API shows of one chain (head,
// blocks 0..latest, whole state) so a test can check a failed call changed
// nothing.
func dumpChain(t failer, db *storage.DB, chain uint32) string {
	t.Helper()
	var out bytes.Buffer
	head, err := db.State().Head(chain)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		out.WriteString("head: none\n")
	case err != nil:
		t.Fatalf("head: %v", err)
	default:
		fmt.Fprintf(&out, "head: %d %s %s\n", head.Height, head.BlockHash, head.StateRoot)
	}
	latest, err := db.Blocks().LatestHeight(chain)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		t.Fatalf("latest height: %v", err)
	default:
		for h := uint64(0); h <= latest; h++ {
			blk, err := db.Blocks().ByHeight(chain, h)
			switch {
			case errors.Is(err, storage.ErrNotFound):
				fmt.Fprintf(&out, "block %d: none\n", h)
			case err != nil:
				t.Fatalf("block %d: %v", h, err)
			default:
				fmt.Fprintf(&out, "block %d: %s %x\n", h, blk.Hash, blk.Bytes)
			}
		}
	}
	state := readState(t, db, chain)
	for _, k := range slices.Sorted(maps.Keys(state)) {
		fmt.Fprintf(&out, "state %q = %q\n", k, state[k])
	}
	return out.String()
}

// readState returns the whole state of chain, by Scan.
func readState(t failer, db *storage.DB, chain uint32) map[string]string {
	t.Helper()
	state := map[string]string{}
	err := db.State().Scan(chain, nil, func(key, value []byte) error {
		state[string(key)] = string(value)
		return nil
	})
	if err != nil {
		t.Fatalf("scan state of chain %d: %v", chain, err)
	}
	return state
}

// diffState describes the first few differences between two states.
func diffState(got, want map[string]string) string {
	var out bytes.Buffer
	n := 0
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok || g != want[k] {
			if n < 5 {
				fmt.Fprintf(&out, "  key %q: got %q (present %v), want %q\n", k, g, ok, want[k])
			}
			n++
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			if n < 5 {
				fmt.Fprintf(&out, "  key %q: present (%q), want absent\n", k, got[k])
			}
			n++
		}
	}
	if n > 5 {
		fmt.Fprintf(&out, "  ... %d differences in all\n", n)
	}
	return out.String()
}

// The generated chain of the crash tests: a pure function of the height, so
// a checker can rebuild the state at any height without sharing memory with
// the writer (a goroutine or another process).
//
// Block i writes keys "<i>/<j>" for j < keysPerBlock with values derived from
// (i, j), sets "counter" to i, and from i >= 2 deletes every fourth key of
// block i-2, so the state at a height depends on the order of the blocks.

func genKey(i uint64, j int) string { return fmt.Sprintf("%d/%d", i, j) }

func genValue(i uint64, j int) string {
	return fmt.Sprintf("value of block %d key %d %x", i, j, hash.Sum256([]byte(genKey(i, j))))
}

type genBlock struct {
	writes    []storage.Write
	bytes     []byte
	hash      hash.Digest
	stateRoot hash.Digest
}

func generateBlock(i uint64, keysPerBlock int) genBlock {
	var g genBlock
	for j := range keysPerBlock {
		g.writes = append(g.writes, storage.Write{Key: []byte(genKey(i, j)), Value: []byte(genValue(i, j))})
	}
	g.writes = append(g.writes, storage.Write{Key: []byte("counter"), Value: fmt.Appendf(nil, "%d", i)})
	if i >= 2 {
		for j := 0; j < keysPerBlock; j += 4 {
			g.writes = append(g.writes, storage.Write{Key: []byte(genKey(i-2, j)), Delete: true})
		}
	}
	g.bytes = fmt.Appendf(nil, "block %d with %d writes", i, len(g.writes))
	g.hash = hash.Sum256(g.bytes)
	g.stateRoot = hash.Sum256(fmt.Appendf(nil, "state root %d", i))
	return g
}

// generatedState is the state after applying generated blocks 0..h.
func generatedState(h uint64, keysPerBlock int) map[string]string {
	state := map[string]string{}
	for i := uint64(0); i <= h; i++ {
		for _, w := range generateBlock(i, keysPerBlock).writes {
			if w.Delete {
				delete(state, string(w.Key))
			} else {
				state[string(w.Key)] = string(w.Value)
			}
		}
	}
	return state
}

// checkGenerated checks that db holds the generated chain up to its head h
// exactly: head h >= minHead, blocks 0..h, the state at h, and nothing of
// h+1. It returns h, or -1 when the chain has no head (allowed only when
// minHead < 0).
func checkGenerated(t failer, db *storage.DB, chain uint32, minHead int64, keysPerBlock int) int64 {
	t.Helper()
	head, err := db.State().Head(chain)
	if errors.Is(err, storage.ErrNotFound) {
		if minHead >= 0 {
			t.Fatalf("no head, but block %d was committed", minHead)
		}
		if state := readState(t, db, chain); len(state) != 0 {
			t.Fatalf("no head, but state holds %d keys", len(state))
		}
		if _, err := db.Blocks().ByHeight(chain, 0); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("no head, but block 0 reads: %v", err)
		}
		return -1
	}
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	h := head.Height
	if int64(h) < minHead {
		t.Fatalf("head at %d, but block %d was committed: a committed batch was lost", h, minHead)
	}
	top := generateBlock(h, keysPerBlock)
	if head.BlockHash != top.hash || head.StateRoot != top.stateRoot {
		t.Fatalf("head %d: hash %s root %s, want %s %s", h, head.BlockHash, head.StateRoot, top.hash, top.stateRoot)
	}
	for i := uint64(0); i <= h; i++ {
		g := generateBlock(i, keysPerBlock)
		blk, err := db.Blocks().ByHeight(chain, i)
		if err != nil {
			t.Fatalf("block %d under head %d: %v", i, h, err)
		}
		if blk.Hash != g.hash || !bytes.Equal(blk.Bytes, g.bytes) {
			t.Fatalf("block %d: got %s %q, want %s %q", i, blk.Hash, blk.Bytes, g.hash, g.bytes)
		}
	}
	if _, err := db.Blocks().ByHeight(chain, h+1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("block %d above head %d: got err %v, want ErrNotFound", h+1, h, err)
	}
	got := readState(t, db, chain)
	if want := generatedState(h, keysPerBlock); !maps.Equal(got, want) {
		t.Fatalf("state at head %d differs from the model (a partial or lost batch):\n%s", h, diffState(got, want))
	}
	return int64(h)
}
