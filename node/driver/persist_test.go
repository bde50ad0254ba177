package driver

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

func keptBlock(i int) consensus.Block {
	h := types.Header{Version: types.HeaderVersion, Height: 2, ParentHash: hash.Sum256([]byte("parent")), StateRoot: hash.Sum256([]byte{byte(i)})}
	return consensus.Block{Header: h, Body: []byte(fmt.Sprintf("body %d", i))}
}

func confirmCertificate(h types.Height, value types.Hash) types.Certificate {
	set, _ := types.NewSignerSet(4)
	for i := range 3 {
		_ = set.Add(types.ValidatorIndex(i))
	}
	c := types.Certificate{Height: h, Round: 0, Kind: types.VoteConfirm, BlockHash: value, Signers: set}
	c.AggregateSignature[0] = 0xa0
	return c
}

// The slim record and the slots give back the whole state: its kept blocks
// from the slots, its previous decision from the block store.
func TestConsensusRecordRoundTrip(t *testing.T) {
	db, err := storage.Open("db", storage.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	genesis := types.Header{Version: types.HeaderVersion}
	rec0, _ := (&StoredBlock{Header: genesis}).AppendBinary(nil)
	if err := db.State().ApplyBlock(0, 0, nil, rec0, genesis.Hash(), types.Hash{}); err != nil {
		t.Fatal(err)
	}
	b1 := keptBlock(100)
	b1.Header.Height, b1.Header.ParentHash = 1, genesis.Hash()
	d1 := consensus.Decision{Block: &b1, Certificate: confirmCertificate(1, b1.Hash())}
	rec1, err := (&StoredBlock{Header: b1.Header, Decision: &d1}).AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.State().ApplyBlock(0, 1, nil, rec1, b1.Hash(), types.Hash{}); err != nil {
		t.Fatal(err)
	}

	ps := consensus.InitialState(0, 2)
	ps.Round = 1
	ps.Blocks = []consensus.Block{keptBlock(1), keptBlock(2)}
	ps.PreviousDecision = &d1
	var slots keptSlots
	rec, writes, next, err := encodeConsensusRecord(&ps, &slots)
	if err != nil {
		t.Fatal(err)
	}
	if len(writes) != 2 {
		t.Fatalf("%d slot writes for 2 new blocks", len(writes))
	}
	if len(rec) > 200 {
		t.Fatalf("consensus record of %d bytes: the blocks went into it", len(rec))
	}
	b := db.NewBatch()
	for s, w := range writes {
		_ = b.PutRecord(keptSlotRecordKey(0, s), w)
	}
	_ = b.PutRecord(consensusRecordKey(0), rec)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	got, gotSlots, found, err := loadConsensusState(db, 0)
	if err != nil || !found {
		t.Fatalf("load: %v %v", found, err)
	}
	if gotSlots != next {
		t.Fatalf("slots %v, written %v", gotSlots, next)
	}
	want, _ := consensus.EncodePersistentState(&ps)
	have, _ := consensus.EncodePersistentState(&got)
	if !bytes.Equal(want, have) {
		t.Fatal("the loaded state differs from the persisted one")
	}
	// Writing the same state again writes no block.
	if _, again, _, err := encodeConsensusRecord(&ps, &next); err != nil || len(again) != 0 {
		t.Fatalf("re-persisting the same blocks wrote %d slots, %v", len(again), err)
	}
}

// Whatever sequence of kept-block sets the core goes through, the slots on
// disk hold every block the latest state names.
func TestKeptSlotsHoldEveryNamedBlock(t *testing.T) {
	pool := make([]consensus.Block, 10)
	for i := range pool {
		pool[i] = keptBlock(i)
	}
	rapid.Check(t, func(t *rapid.T) {
		var slots keptSlots
		disk := map[int]types.Hash{}
		for step := range rapid.IntRange(1, 20).Draw(t, "steps") {
			n := rapid.IntRange(0, consensus.MaxKeptBlocks).Draw(t, "n")
			picks := rapid.SliceOfNDistinct(rapid.IntRange(0, len(pool)-1), n, n, rapid.ID).Draw(t, "picks")
			ps := consensus.InitialState(0, 2)
			for _, p := range picks {
				ps.Blocks = append(ps.Blocks, pool[p])
			}
			_, writes, next, err := encodeConsensusRecord(&ps, &slots)
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			for s, w := range writes {
				b, err := decodeKeptBlock(w)
				if err != nil {
					t.Fatal(err)
				}
				disk[s] = b.Hash()
			}
			slots = next
			for _, b := range ps.Blocks {
				found := false
				for _, h := range disk {
					found = found || h == b.Hash()
				}
				if !found {
					t.Fatalf("step %d: block %s named but in no slot", step, b.Hash())
				}
			}
		}
	})
}

// FuzzDecodeRecords checks that the consensus and kept-block record decoders
// never panic and that what they accept re-encodes to the same bytes.
func FuzzDecodeRecords(f *testing.F) {
	ps := consensus.InitialState(0, 7)
	ps.Blocks = []consensus.Block{keptBlock(1)}
	var slots keptSlots
	rec, writes, _, err := encodeConsensusRecord(&ps, &slots)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec)
	for _, w := range writes {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		switch b[0] {
		case ConsensusRecordTag:
			r, err := decodeConsensusRecord(b)
			if err != nil {
				return
			}
			again, err := r.encode()
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("consensus record re-encodes differently: %v", err)
			}
		case KeptBlockRecordTag:
			blk, err := decodeKeptBlock(b)
			if err != nil {
				return
			}
			again, err := encodeKeptBlock(&blk)
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("kept block re-encodes differently: %v", err)
			}
		}
	})
}
