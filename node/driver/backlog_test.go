package driver

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// testPackage is a distinct relay package for chain dest.
func testPackage(dest types.ChainID, n int) relay.Addressed {
	m := types.Message{Kind: types.MessageOuterRelay, SourceChain: 1, Cause: hash.Sum256([]byte{byte(n), byte(n >> 8)}), Value: 1}
	return relay.Addressed{Dest: dest, Package: relay.Package{Message: m}}
}

// testHeader is a header of height h of chain 1.
func testHeader(h types.Height) types.Header {
	return types.Header{Version: types.HeaderVersion, ChainID: 1, Height: h}
}

// ackNode is the node whose acknowledgements count for chain d in these
// tests.
func ackNode(d types.ChainID) int { return 100 + int(d) }

// chainOutboxes is a committed chain's outboxes, by height from 1.
type chainOutboxes [][]relay.Addressed

func (c chainOutboxes) reader(t *rapid.T, head *types.Height) outboxReader {
	return func(h types.Height) (types.Header, []relay.Addressed, error) {
		if h < 1 || h > *head {
			t.Fatalf("read height %d, committed 1..%d", h, *head)
		}
		return testHeader(h), c[h-1], nil
	}
}

// The backlog against a model of the destinations. Whatever the order of
// commits, reads, acknowledgements (also from nodes that do not count),
// sends and restarts from the last marks written:
//
//   - a destination's mark never passes a package to it its destination
//     member did not acknowledge, and never decreases;
//   - each destination holds at most perDest packages plus the rest of
//     one block;
//   - once every destination acknowledges what it is sent, every package
//     is delivered and the mark reaches the head.
func TestRelayBacklogMarkNeverAheadOfAcks(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nDest := rapid.IntRange(1, 3).Draw(t, "destinations")
		dests := map[types.ChainID]int{}
		for d := range nDest {
			dests[types.ChainID(2+d)] = ackNode(types.ChainID(2 + d))
		}
		perBlock := rapid.IntRange(1, 4).Draw(t, "most relays a block")
		heights := rapid.IntRange(1, 40).Draw(t, "heights")
		chain := make(chainOutboxes, heights)
		heightOf := map[types.Hash]types.Height{}
		destOf := map[types.Hash]types.ChainID{}
		n := 0
		for h := range chain {
			for range rapid.IntRange(0, perBlock).Draw(t, "relays") {
				p := testPackage(types.ChainID(2+rapid.IntRange(0, nDest-1).Draw(t, "dest")), n)
				n++
				chain[h] = append(chain[h], p)
				heightOf[p.Package.Message.ID()] = types.Height(h + 1)
				destOf[p.Package.Message.ID()] = p.Dest
			}
		}
		perDest := rapid.IntRange(1, 5).Draw(t, "per destination")
		reads := rapid.IntRange(1, 6).Draw(t, "reads")
		head := types.Height(rapid.IntRange(0, heights).Draw(t, "head at start"))
		read := chain.reader(t, &head)

		acked := map[types.Hash]bool{} // by the member that counts, at some time
		b := newRelayBacklog(nil, head, dests, perDest, reads)
		written := b.marks()
		check := func() {
			marks := b.marks()
			for d := range dests {
				m := marks[d]
				if m < written[d] {
					t.Fatalf("chain %d: mark went down from %d to %d", d, written[d], m)
				}
				if m > head+1 {
					t.Fatalf("chain %d: mark %d above head %d + 1", d, m, head)
				}
				if m < b.mark() {
					t.Fatalf("chain %d: mark %d below the chain's %d", d, m, b.mark())
				}
			}
			for id, h := range heightOf {
				if m := marks[destOf[id]]; h < m && !acked[id] {
					t.Fatalf("chain %d: mark %d passes unacknowledged relay of height %d", destOf[id], m, h)
				}
			}
			held := map[types.ChainID]int{}
			for _, r := range b.byID {
				held[r.a.Dest]++
			}
			for d, s := range b.streams {
				if s.held != held[d] || s.held > perDest-1+perBlock {
					t.Fatalf("chain %d: %d held, %d counted, bound %d", d, s.held, held[d], perDest-1+perBlock)
				}
			}
		}
		heldIDs := func() []types.Hash {
			var ids []types.Hash
			for _, blk := range b.blocks {
				for _, r := range blk.relays {
					if !r.done {
						ids = append(ids, r.a.Package.Message.ID())
					}
				}
			}
			return ids
		}
		t.Repeat(map[string]func(*rapid.T){
			"commit": func(t *rapid.T) {
				if int(head) < heights {
					head++
					b.committed(head)
				}
			},
			"fill": func(t *rapid.T) {
				if _, _, err := b.fill(read); err != nil {
					t.Fatal(err)
				}
			},
			"ack": func(t *rapid.T) {
				ids := heldIDs()
				if len(ids) == 0 {
					return
				}
				id := rapid.SampledFrom(ids).Draw(t, "acked")
				node := ackNode(b.byID[id].a.Dest)
				if rapid.Bool().Draw(t, "from another node") {
					if got := b.ack(node+1, []types.Hash{id}); len(got) != 0 {
						t.Fatalf("acknowledgement of another node released %v", got)
					}
					return
				}
				if got := b.ack(node, []types.Hash{id, {7}}); len(got) != 1 || got[0] != id {
					t.Fatalf("ack released %v, want %s", got, id)
				}
				acked[id] = true
			},
			"queue": func(t *rapid.T) {
				for _, blk := range b.unsentBlocks() {
					for _, r := range blk.relays {
						if !r.done && rapid.Bool().Draw(t, "queued") {
							r.queued = true
						}
					}
					b.settle(blk)
				}
			},
			"restart": func(t *rapid.T) {
				b = newRelayBacklog(written, head, dests, perDest, reads)
			},
			"write mark": func(t *rapid.T) {
				written = b.marks()
			},
			"": func(t *rapid.T) { check() },
		})
		// Every destination comes back and acknowledges all it is sent.
		head = types.Height(heights)
		b.committed(head)
		for range 10 * (heights*perBlock + 1) {
			if b.mark() == head+1 {
				break
			}
			if _, _, err := b.fill(read); err != nil {
				t.Fatal(err)
			}
			for _, id := range heldIDs() {
				b.ack(ackNode(b.byID[id].a.Dest), []types.Hash{id})
				acked[id] = true
			}
			check()
		}
		if b.mark() != head+1 || len(b.byID) != 0 {
			t.Fatalf("mark %d with %d held, want head+1 = %d and none", b.mark(), len(b.byID), head+1)
		}
		for id := range heightOf {
			if !acked[id] {
				t.Fatalf("relay of height %d never delivered", heightOf[id])
			}
		}
	})
}

// A destination that never acknowledges stops its own stream at its bound,
// not the others: every relay to the other chain is read and released.
func TestRelayBacklogSilentDestinationBlocksOnlyItself(t *testing.T) {
	dests := map[types.ChainID]int{2: ackNode(2), 3: ackNode(3)}
	var chain [][]relay.Addressed
	for h := range 50 {
		chain = append(chain, []relay.Addressed{testPackage(2, 2*h), testPackage(3, 2*h+1)})
	}
	b := newRelayBacklog(nil, 50, dests, 4, 8)
	reads := 0
	read := func(h types.Height) (types.Header, []relay.Addressed, error) {
		reads++
		return testHeader(h), chain[h-1], nil
	}
	for range 100 {
		if _, _, err := b.fill(read); err != nil {
			t.Fatal(err)
		}
		for id, r := range b.byID {
			if r.a.Dest == 3 {
				b.ack(ackNode(3), []types.Hash{id})
			}
		}
	}
	if s := b.streams[3]; s.next != 51 || s.held != 0 {
		t.Fatalf("chain 3: next %d, %d held; want 51 and none", s.next, s.held)
	}
	if s := b.streams[2]; s.next != 5 || s.held != 4 {
		t.Fatalf("chain 2: next %d, %d held; want 5 and 4", s.next, s.held)
	}
	if m := b.mark(); m != 1 {
		t.Fatalf("mark %d, want 1", m)
	}
	if m2, m3 := b.markOf(2), b.markOf(3); m2 != 1 || m3 != 51 {
		t.Fatalf("marks toward chains 2 and 3: %d and %d, want 1 and 51", m2, m3)
	}
	// A restart from those marks reads nothing again for chain 3.
	again := newRelayBacklog(b.marks(), 50, dests, 4, 8)
	if s := again.streams[3]; s.next != 51 {
		t.Fatalf("chain 3 restarts at %d, want 51", s.next)
	}
	if reads > 50+4 {
		t.Fatalf("%d reads of 50 heights", reads)
	}
}

// A read error stops the backlog at that height, which is read again next
// time: nothing is skipped.
func TestRelayBacklogReadErrorSkipsNothing(t *testing.T) {
	b := newRelayBacklog(nil, 3, map[types.ChainID]int{2: ackNode(2)}, 10, 10)
	fail := true
	read := func(h types.Height) (types.Header, []relay.Addressed, error) {
		if h == 2 && fail {
			return types.Header{}, nil, storage.ErrCorruption
		}
		return testHeader(h), []relay.Addressed{testPackage(2, int(h))}, nil
	}
	if _, _, err := b.fill(read); !errors.Is(err, storage.ErrCorruption) {
		t.Fatalf("fill: %v, want the read error", err)
	}
	if s := b.streams[2]; s.next != 2 || s.held != 1 {
		t.Fatalf("after the error: next %d, %d held", s.next, s.held)
	}
	fail = false
	if more, _, err := b.fill(read); err != nil || more || b.streams[2].held != 3 {
		t.Fatalf("fill: %v, more %v, %d held", err, more, b.streams[2].held)
	}
}

func TestDeliveryMarkRecord(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want types.Height
		err  error
	}{
		{"height", []byte{0, 0, 0, 0, 0, 0, 1, 2}, 258, nil},
		{"empty", nil, 0, storage.ErrCorruption},
		{"short", []byte{1, 2, 3}, 0, storage.ErrCorruption},
		{"long", make([]byte, 9), 0, storage.ErrCorruption},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeDeliveryMark(tc.in)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("decode %x: %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
	db, err := storage.Open("db", storage.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dests := []types.ChainID{1, 2}
	if marks, err := readDeliveryMarks(db, 3, dests); len(marks) != 0 || err != nil {
		t.Fatalf("marks in an empty store: %v, %v", marks, err)
	}
	// A store of an earlier version holds one mark for every destination:
	// each destination starts from it until it has its own.
	legacy := db.NewBatch()
	if err := legacy.PutRecord(chainDeliveryMarkKey(3), encodeDeliveryMark(7)); err != nil {
		t.Fatal(err)
	}
	if err := legacy.Commit(); err != nil {
		t.Fatal(err)
	}
	legacy.Close()
	if marks, err := readDeliveryMarks(db, 3, dests); err != nil || marks[1] != 7 || marks[2] != 7 {
		t.Fatalf("marks from the chain's single mark: %v, %v; want 7 for both", marks, err)
	}
	for _, m := range []types.Height{9, 1 << 40} {
		if err := writeDeliveryMarks(db, 3, map[types.ChainID]types.Height{2: m}); err != nil {
			t.Fatal(err)
		}
		marks, err := readDeliveryMarks(db, 3, dests)
		if err != nil || marks[1] != 7 || marks[2] != m {
			t.Fatalf("read back %v, %v; want 7 toward chain 1 and %d toward chain 2", marks, err, m)
		}
	}
	if marks, _ := readDeliveryMarks(db, 4, dests); len(marks) != 0 {
		t.Fatalf("another chain's marks: %v", marks)
	}
}

// FuzzDecodeDeliveryMark checks that the delivery mark decoder never
// panics and that what it accepts re-encodes to the same bytes.
func FuzzDecodeDeliveryMark(f *testing.F) {
	f.Add(encodeDeliveryMark(1))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeDeliveryMark(b)
		if err != nil {
			return
		}
		if again := encodeDeliveryMark(h); !bytes.Equal(again, b) {
			t.Fatalf("mark %x re-encodes to %x", b, again)
		}
	})
}
