package storage_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/storage"
)

func digest(s string) hash.Digest { return hash.Sum256([]byte(s)) }

func set(k, v string) storage.Write { return storage.Write{Key: []byte(k), Value: []byte(v)} }
func del(k string) storage.Write    { return storage.Write{Key: []byte(k), Delete: true} }

// applyTestBlock applies a block named by its height whose hash and root
// derive from the name, and fails the test on error.
func applyTestBlock(t *testing.T, db *storage.DB, chain uint32, height uint64, writes ...storage.Write) {
	t.Helper()
	block := fmt.Appendf(nil, "chain %d block %d", chain, height)
	if err := db.State().ApplyBlock(chain, height, writes, block, hash.Sum256(block), digest(fmt.Sprint("root", chain, height))); err != nil {
		t.Fatalf("apply block %d of chain %d: %v", height, chain, err)
	}
}

func TestApplyBlockRoundTrip(t *testing.T) {
	db := openStore(t, vfs.NewMem(), "db")
	applyTestBlock(t, db, 7, 0, set("alice", "100"), set("bob", "5"), set("carol", ""))
	applyTestBlock(t, db, 7, 1, set("alice", "90"), del("bob"), set("dave", "10"), set("alice", "80"))
	applyTestBlock(t, db, 8, 0, set("alice", "other chain"))

	head, err := db.State().Head(7)
	if err != nil {
		t.Fatal(err)
	}
	block1 := []byte("chain 7 block 1")
	if want := (storage.Head{Height: 1, BlockHash: hash.Sum256(block1), StateRoot: digest(fmt.Sprint("root", 7, 1))}); head != want {
		t.Errorf("head = %+v, want %+v", head, want)
	}
	wantState := map[string]string{"alice": "80", "carol": "", "dave": "10"}
	if got := readState(t, db, 7); !maps.Equal(got, wantState) {
		t.Errorf("state of chain 7:\n%s", diffState(got, wantState))
	}
	for _, tc := range []struct {
		chain uint32
		key   string
		want  string
		err   error
	}{
		{7, "alice", "80", nil},
		{7, "carol", "", nil},
		{7, "bob", "", storage.ErrNotFound},
		{7, "nobody", "", storage.ErrNotFound},
		{8, "alice", "other chain", nil},
		{8, "dave", "", storage.ErrNotFound},
		{9, "alice", "", storage.ErrNotFound},
	} {
		got, err := db.State().Get(tc.chain, []byte(tc.key))
		if !errors.Is(err, tc.err) || string(got) != tc.want {
			t.Errorf("Get(%d, %q) = %q, %v; want %q, %v", tc.chain, tc.key, got, err, tc.want, tc.err)
		}
	}

	blk, err := db.Blocks().ByHeight(7, 1)
	if err != nil || !bytes.Equal(blk.Bytes, block1) || blk.Hash != hash.Sum256(block1) || blk.Height != 1 {
		t.Errorf("ByHeight(7, 1) = %+v, %v", blk, err)
	}
	byHash, err := db.Blocks().ByHash(7, hash.Sum256(block1))
	if err != nil || !bytes.Equal(byHash.Bytes, blk.Bytes) || byHash.Height != 1 {
		t.Errorf("ByHash(7, block 1) = %+v, %v", byHash, err)
	}
	if latest, err := db.Blocks().LatestHeight(7); err != nil || latest != 1 {
		t.Errorf("LatestHeight(7) = %d, %v; want 1", latest, err)
	}
}

func TestNotFound(t *testing.T) {
	db := openStore(t, vfs.NewMem(), "db")
	applyTestBlock(t, db, 1, 0, set("k", "v"))
	genesis := hash.Sum256([]byte("chain 1 block 0"))
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"head of empty chain", func() error { _, err := db.State().Head(2); return err }},
		{"missing key", func() error { _, err := db.State().Get(1, []byte("x")); return err }},
		{"key of other chain", func() error { _, err := db.State().Get(2, []byte("k")); return err }},
		{"block above head", func() error { _, err := db.Blocks().ByHeight(1, 1); return err }},
		{"block of other chain", func() error { _, err := db.Blocks().ByHeight(2, 0); return err }},
		{"unknown hash", func() error { _, err := db.Blocks().ByHash(1, digest("nope")); return err }},
		{"hash of other chain", func() error { _, err := db.Blocks().ByHash(2, genesis); return err }},
		{"latest of empty chain", func() error { _, err := db.Blocks().LatestHeight(2); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})
	}
}

func TestApplyBlockRejects(t *testing.T) {
	const chain = 3
	good := []storage.Write{set("k", "v")}
	for _, tc := range []struct {
		name   string
		height uint64
		writes []storage.Write
		block  []byte
		hash   hash.Digest
		want   error
	}{
		{"height skips ahead", 3, good, []byte("b"), digest("b"), storage.ErrNotNextHeight},
		{"height repeats head", 1, good, []byte("b"), digest("b"), storage.ErrNotNextHeight},
		{"height goes back to genesis", 0, good, []byte("b"), digest("b"), storage.ErrNotNextHeight},
		{"empty key", 2, []storage.Write{set("k", "v"), set("", "v")}, []byte("b"), digest("b"), storage.ErrEmptyKey},
		{"empty key on delete", 2, []storage.Write{del("")}, []byte("b"), digest("b"), storage.ErrEmptyKey},
		{"key too large", 2, []storage.Write{set(string(make([]byte, storage.MaxKeySize+1)), "v")}, []byte("b"), digest("b"), storage.ErrTooLarge},
		{"value too large", 2, []storage.Write{{Key: []byte("k"), Value: make([]byte, storage.MaxValueSize+1)}}, []byte("b"), digest("b"), storage.ErrTooLarge},
		{"empty block", 2, good, nil, digest(""), storage.ErrEmptyBlock},
		{"block too large", 2, good, make([]byte, storage.MaxBlockSize+1), digest("big"), storage.ErrTooLarge},
		{"hash of a stored block", 2, good, []byte("b"), hash.Sum256([]byte("chain 3 block 1")), storage.ErrBlockConflict},
		{"other block fetched at that height", 2, good, []byte("b"), digest("b"), storage.ErrBlockConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openStore(t, vfs.NewMem(), "db")
			applyTestBlock(t, db, chain, 0, set("a", "1"))
			applyTestBlock(t, db, chain, 1, set("a", "2"), set("b", "3"))
			if tc.name == "other block fetched at that height" {
				if err := db.Blocks().PutBlock(chain, 2, digest("fetched"), []byte("fetched")); err != nil {
					t.Fatal(err)
				}
			}
			before := dumpChain(t, db, chain)
			err := db.State().ApplyBlock(chain, tc.height, tc.writes, tc.block, tc.hash, digest("root"))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if after := dumpChain(t, db, chain); after != before {
				t.Fatalf("store changed by a rejected block:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestFirstBlockMustBeGenesis(t *testing.T) {
	db := openStore(t, vfs.NewMem(), "db")
	err := db.State().ApplyBlock(1, 1, nil, []byte("b"), digest("b"), digest("r"))
	if !errors.Is(err, storage.ErrNotNextHeight) {
		t.Fatalf("block 1 on an empty chain: got %v, want ErrNotNextHeight", err)
	}
	if _, err := db.State().Head(1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("head after rejected block: %v", err)
	}
}

func TestApplyBlockOverFetchedBlock(t *testing.T) {
	// A block fetched ahead of execution is stored first; applying the same
	// block later must succeed.
	db := openStore(t, vfs.NewMem(), "db")
	block := []byte("chain 1 block 0")
	if err := db.Blocks().PutBlock(1, 0, hash.Sum256(block), block); err != nil {
		t.Fatal(err)
	}
	if latest, err := db.Blocks().LatestHeight(1); err != nil || latest != 0 {
		t.Fatalf("LatestHeight = %d, %v", latest, err)
	}
	if _, err := db.State().Head(1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PutBlock moved the head: %v", err)
	}
	applyTestBlock(t, db, 1, 0, set("k", "v"))
	if head, err := db.State().Head(1); err != nil || head.Height != 0 {
		t.Fatalf("head = %+v, %v", head, err)
	}
}

func TestPutBlock(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chain  uint32
		height uint64
		hash   hash.Digest
		block  string
		want   error
	}{
		{"same block again", 1, 5, digest("five"), "five", nil},
		{"next height", 1, 6, digest("six"), "six", nil},
		{"other chain, same height", 2, 5, digest("other five"), "other five", nil},
		{"same hash on other chain", 2, 9, digest("five"), "five", nil},
		{"other block at same height", 1, 5, digest("five'"), "five'", storage.ErrBlockConflict},
		{"same hash at other height", 1, 7, digest("five"), "five", storage.ErrBlockConflict},
		{"empty block", 1, 8, digest(""), "", storage.ErrEmptyBlock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openStore(t, vfs.NewMem(), "db")
			if err := db.Blocks().PutBlock(1, 5, digest("five"), []byte("five")); err != nil {
				t.Fatal(err)
			}
			before := dumpChain(t, db, 1) + dumpChain(t, db, 2)
			err := db.Blocks().PutBlock(tc.chain, tc.height, tc.hash, []byte(tc.block))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if after := dumpChain(t, db, 1) + dumpChain(t, db, 2); after != before {
					t.Fatalf("store changed by a rejected block:\nbefore:\n%s\nafter:\n%s", before, after)
				}
				return
			}
			got, err := db.Blocks().ByHash(tc.chain, tc.hash)
			if err != nil || got.Height != tc.height || string(got.Bytes) != tc.block {
				t.Fatalf("ByHash = %+v, %v", got, err)
			}
		})
	}
}

func TestLatestHeightChainBoundaries(t *testing.T) {
	// Chain IDs at the edges of the keyspace must not see each other's blocks.
	db := openStore(t, vfs.NewMem(), "db")
	for _, c := range []struct {
		chain  uint32
		height uint64
	}{{0, 3}, {1, 1 << 40}, {^uint32(0), ^uint64(0)}, {^uint32(0) - 1, 2}} {
		if err := db.Blocks().PutBlock(c.chain, c.height, digest(fmt.Sprint(c)), []byte("b")); err != nil {
			t.Fatal(err)
		}
		if err := db.Blocks().PutBlock(c.chain, 0, digest(fmt.Sprint(c, 0)), []byte("b")); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Blocks().LatestHeight(c.chain); err != nil || got != c.height {
			t.Errorf("LatestHeight(%d) = %d, %v; want %d", c.chain, got, err, c.height)
		}
	}
	if _, err := db.Blocks().LatestHeight(2); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("LatestHeight(2) = %v, want ErrNotFound", err)
	}
}

func TestScanPrefix(t *testing.T) {
	db := openStore(t, vfs.NewMem(), "db")
	applyTestBlock(t, db, 1, 0, set("acct/a", "1"), set("acct/b", "2"), set("acct0", "x"), set("code/a", "c"))
	applyTestBlock(t, db, 2, 0, set("acct/c", "other chain"))
	var keys []string
	err := db.State().Scan(1, []byte("acct/"), func(key, value []byte) error {
		keys = append(keys, string(key)+"="+string(value))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(keys), "[acct/a=1 acct/b=2]"; got != want {
		t.Errorf("scan = %s, want %s", got, want)
	}
	stop := errors.New("stop")
	calls := 0
	err = db.State().Scan(1, nil, func(key, value []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("scan stopped with %v after %d calls, want stop after 1", err, calls)
	}
}

func TestBatchIsAtomicAcrossChains(t *testing.T) {
	db := openStore(t, vfs.NewMem(), "db")
	applyTestBlock(t, db, 1, 0, set("k", "1"))

	// Both chains advance together.
	b := db.NewBatch()
	defer b.Close()
	if err := b.ApplyBlock(1, 1, []storage.Write{set("k", "2")}, []byte("c1 b1"), digest("c1 b1"), digest("r")); err != nil {
		t.Fatal(err)
	}
	if err := b.ApplyBlock(1, 2, []storage.Write{set("k", "3")}, []byte("c1 b2"), digest("c1 b2"), digest("r")); err != nil {
		t.Fatal(err)
	}
	if err := b.ApplyBlock(2, 0, []storage.Write{set("k", "genesis")}, []byte("c2 b0"), digest("c2 b0"), digest("r")); err != nil {
		t.Fatal(err)
	}
	if err := b.ApplyBlock(1, 4, nil, []byte("c1 b4"), digest("c1 b4"), digest("r")); !errors.Is(err, storage.ErrNotNextHeight) {
		t.Fatalf("gap inside a batch: got %v, want ErrNotNextHeight", err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("second commit: got %v, want ErrClosed", err)
	}
	for chain, want := range map[uint32]string{1: "3", 2: "genesis"} {
		if v, err := db.State().Get(chain, []byte("k")); err != nil || string(v) != want {
			t.Errorf("chain %d: k = %q, %v; want %q", chain, v, err, want)
		}
	}

	// A batch whose second chain is stale at commit writes nothing at all.
	before := dumpChain(t, db, 1) + dumpChain(t, db, 3)
	stale := db.NewBatch()
	defer stale.Close()
	if err := stale.ApplyBlock(3, 0, []storage.Write{set("k", "x")}, []byte("c3 b0"), digest("c3 b0"), digest("r")); err != nil {
		t.Fatal(err)
	}
	if err := stale.ApplyBlock(1, 2, []storage.Write{set("k", "x")}, []byte("c1 b2'"), digest("c1 b2'"), digest("r")); err != nil {
		t.Fatal(err)
	}
	if err := stale.Commit(); !errors.Is(err, storage.ErrNotNextHeight) {
		t.Fatalf("stale batch: got %v, want ErrNotNextHeight", err)
	}
	if after := dumpChain(t, db, 1) + dumpChain(t, db, 3); after != before {
		t.Fatalf("rejected batch changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestBatchConflictsInsideBatch(t *testing.T) {
	db := openStore(t, vfs.NewMem(), "db")
	b := db.NewBatch()
	defer b.Close()
	if err := b.PutBlock(1, 4, digest("a"), []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := b.PutBlock(1, 4, digest("a"), []byte("a")); err != nil {
		t.Fatalf("same block twice in a batch: %v", err)
	}
	if err := b.PutBlock(1, 4, digest("b"), []byte("b")); !errors.Is(err, storage.ErrBlockConflict) {
		t.Fatalf("other block at same height: got %v", err)
	}
	if err := b.PutBlock(1, 5, digest("a"), []byte("a")); !errors.Is(err, storage.ErrBlockConflict) {
		t.Fatalf("same hash at other height: got %v", err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if latest, err := db.Blocks().LatestHeight(1); err != nil || latest != 4 {
		t.Fatalf("LatestHeight = %d, %v; want 4", latest, err)
	}
}

func TestReopenAndReadOnly(t *testing.T) {
	fs := vfs.NewMem()
	db, err := storage.Open("db", storage.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	applyTestBlock(t, db, 1, 0, set("k", "v"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := storage.Open("db", storage.Options{FS: fs, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if v, err := ro.State().Get(1, []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("read-only Get = %q, %v", v, err)
	}
	err = ro.State().ApplyBlock(1, 1, nil, []byte("b"), digest("b"), digest("r"))
	if !errors.Is(err, storage.ErrReadOnly) {
		t.Fatalf("write to read-only store: got %v, want ErrReadOnly", err)
	}
	if err := ro.Flush(); !errors.Is(err, storage.ErrReadOnly) {
		t.Fatalf("flush of read-only store: got %v, want ErrReadOnly", err)
	}
}

func TestClosed(t *testing.T) {
	db, err := storage.Open("db", storage.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	defer b.Close()
	if err := b.PutBlock(1, 0, digest("b"), []byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"close":   db.Close,
		"commit":  b.Commit,
		"flush":   db.Flush,
		"head":    func() error { _, err := db.State().Head(1); return err },
		"get":     func() error { _, err := db.State().Get(1, []byte("k")); return err },
		"scan":    func() error { return db.State().Scan(1, nil, func(k, v []byte) error { return nil }) },
		"latest":  func() error { _, err := db.Blocks().LatestHeight(1); return err },
		"block":   func() error { _, err := db.Blocks().ByHeight(1, 0); return err },
		"by hash": func() error { _, err := db.Blocks().ByHash(1, digest("b")); return err },
		"apply": func() error {
			return db.State().ApplyBlock(1, 0, nil, []byte("b"), digest("b"), digest("r"))
		},
	} {
		if err := call(); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after close: got %v, want ErrClosed", name, err)
		}
	}
}

func TestOpenRejectsNegativeCache(t *testing.T) {
	if _, err := storage.Open("db", storage.Options{FS: vfs.NewMem(), CacheSize: -1}); err == nil {
		t.Fatal("negative cache size accepted")
	}
}

func TestConcurrentApplyOneWinnerPerHeight(t *testing.T) {
	// Competing writers for the same height: the commit lock makes the head
	// check and the write one step, so exactly one of them lands.
	const writers, heights = 4, 10
	db := openStore(t, vfs.NewMem(), "db")
	for height := range uint64(heights) {
		wins := make(chan int, writers)
		errs := make(chan error, writers)
		for w := range writers {
			go func() {
				block := fmt.Appendf(nil, "writer %d block %d", w, height)
				err := db.State().ApplyBlock(1, height, []storage.Write{set("winner", fmt.Sprint(w))}, block, hash.Sum256(block), digest("r"))
				if err == nil {
					wins <- w
				}
				errs <- err
			}()
		}
		for range writers {
			if err := <-errs; err != nil && !errors.Is(err, storage.ErrNotNextHeight) && !errors.Is(err, storage.ErrBlockConflict) {
				t.Fatalf("height %d: unexpected error %v", height, err)
			}
		}
		close(wins)
		var winners []int
		for w := range wins {
			winners = append(winners, w)
		}
		if len(winners) != 1 {
			t.Fatalf("height %d: %d writers succeeded, want 1", height, len(winners))
		}
		if v, err := db.State().Get(1, []byte("winner")); err != nil || string(v) != fmt.Sprint(winners[0]) {
			t.Fatalf("height %d: winner key %q, %v; want %d", height, v, err, winners[0])
		}
	}
}
