package relay

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// inboxWorld is a few source blocks with packages for chainB, all
// confirmed; the third package of each block is in the full form, the
// others by reference.
type inboxWorld struct {
	pkgs     []Package // for chainB, in the order of the blocks below
	headers  []types.Header
	anchors  anchors
	consumed consumed
	v        Verifier
}

func newInboxWorld(t fatalReporter) *inboxWorld {
	t.Helper()
	topo := testTopology(t)
	w := &inboxWorld{anchors: anchors{}, consumed: consumed{}}
	blocks := []struct {
		chain  types.ChainID
		height types.Height
	}{{chainC, 2}, {chainA, 5}, {chainA, 3}, {chainC, 9}}
	for i, b := range blocks {
		var msgs []types.Message
		for j := range 3 {
			msgs = append(msgs, relayMsg(b.chain, chainB, uint64(10*i+j)))
		}
		h, body := sourceBlock(b.chain, b.height, msgs)
		w.headers = append(w.headers, h)
		w.anchors.confirm(&h)
		for j, a := range outbox(t, &h, &body, topo) {
			if j == 2 {
				// Both forms arrive: the full one from a sender that
				// lifted it, or would have.
				a.Package = fullForm(t, a.Package, &h)
			}
			w.pkgs = append(w.pkgs, a.Package)
		}
	}
	w.v = Verifier{Chain: chainB, Topology: topo, Anchors: w.anchors, Consumed: w.consumed}
	return w
}

// sourceOf returns the source chain and height of a package.
func sourceOf(t fatalReporter, in exec.Input) (types.ChainID, types.Height) {
	p, err := decodeAnyProof(in.Proof)
	if err != nil {
		t.Fatal(err)
	}
	return p.source()
}

// checkInbox checks the inbox's own bookkeeping.
func checkInbox(t fatalReporter, b *Inbox) {
	t.Helper()
	size := 0
	for _, e := range b.byID {
		size += len(e.proofs)
		if len(e.proofs) == 0 || len(e.proofs) > MaxAlternatives {
			t.Fatalf("message with %d proofs", len(e.proofs))
		}
	}
	if size != b.size || size > b.max || len(b.order) != len(b.byID) {
		t.Fatalf("size %d, counted %d, max %d; %d ordered, %d held", b.size, size, b.max, len(b.order), len(b.byID))
	}
	for _, e := range b.order {
		if b.byID[e.id] != e {
			t.Fatal("ordered entry not held")
		}
	}
}

func TestInboxReadyOrder(t *testing.T) {
	w := newInboxWorld(t)
	in := NewInbox(chainB, w.v.Topology, 100)
	for _, i := range []int{7, 0, 11, 3, 9, 1, 2, 4, 5, 6, 8, 10} {
		if err := in.Add(w.pkgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	got := in.Ready(&w.v, 100)
	if len(got) != len(w.pkgs) {
		t.Fatalf("%d ready, want %d", len(got), len(w.pkgs))
	}
	sorted := slices.IsSortedFunc(got, func(a, b exec.Input) int {
		ca, ha := sourceOf(t, a)
		cb, hb := sourceOf(t, b)
		ia, ib := a.Message.ID(), b.Message.ID()
		return cmp.Or(cmp.Compare(ca, cb), cmp.Compare(ha, hb), bytes.Compare(ia[:], ib[:]))
	})
	if !sorted {
		t.Fatal("Ready not in (source chain, source height, ID) order")
	}
	if c, h := sourceOf(t, got[0]); c != chainA || h != 3 {
		t.Fatalf("first from chain %d height %d, want chain %d height 3", c, h, chainA)
	}
	if first := in.Ready(&w.v, 5); len(first) != 5 || first[4].Message.ID() != got[4].Message.ID() {
		t.Fatalf("Ready(5) gave %d inputs, not the first five", len(first))
	}
	if in.Len() != len(w.pkgs) {
		t.Fatalf("Ready removed packages: %d left", in.Len())
	}
	checkInbox(t, in)
}

func TestInboxDedupeAndBounds(t *testing.T) {
	w := newInboxWorld(t)
	in := NewInbox(chainB, w.v.Topology, 3)
	for i := range 3 {
		if err := in.Add(w.pkgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Add(w.pkgs[1]); err != nil {
		t.Fatalf("duplicate: %v", err)
	}
	if err := in.Add(w.pkgs[3]); !errors.Is(err, ErrFull) {
		t.Fatalf("fourth package: %v, want ErrFull", err)
	}
	if in.Len() != 3 || !in.Has(w.pkgs[1].Message.ID()) || in.Has(w.pkgs[3].Message.ID()) {
		t.Fatalf("inbox holds %d", in.Len())
	}
	in.Forget([]types.Hash{w.pkgs[0].Message.ID(), {9}})
	if err := in.Add(w.pkgs[3]); err != nil {
		t.Fatalf("after Forget: %v", err)
	}
	if got := in.Ready(&w.v, 10); len(got) != 3 {
		t.Fatalf("%d ready, want 3", len(got))
	}
	checkInbox(t, in)
	if NewInbox(chainB, w.v.Topology, 0).max != DefaultInboxSize {
		t.Fatal("default size not applied")
	}
}

func TestInboxAddRejects(t *testing.T) {
	w := newInboxWorld(t)
	good := w.pkgs[0]
	cases := []struct {
		name string
		pkg  func() Package
	}{
		{"malformed proof", func() Package { return Package{Message: good.Message, Proof: good.Proof[:50]} }},
		{"no proof", func() Package { return Package{Message: good.Message} }},
		{"inter-relay message", func() Package {
			m := good.Message.Clone()
			m.Kind = types.MessageInterRelay
			return Package{Message: m, Proof: good.Proof}
		}},
		{"recipient on another chain", func() Package {
			m := good.Message.Clone()
			m.To = addrOn(chainA, 1)
			return Package{Message: m, Proof: good.Proof}
		}},
		{"source chain not the proof's", func() Package {
			m := good.Message.Clone()
			m.SourceChain = chainA
			return Package{Message: m, Proof: good.Proof}
		}},
		{"invalid message", func() Package {
			m := good.Message.Clone()
			m.Cause = types.Hash{}
			return Package{Message: m, Proof: good.Proof}
		}},
	}
	in := NewInbox(chainB, w.v.Topology, 10)
	for _, tc := range cases {
		if err := in.Add(tc.pkg()); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	if in.Len() != 0 {
		t.Fatalf("rejected packages held: %d", in.Len())
	}
	if err := NewInbox(chainB, nil, 10).Add(good); err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("inbox without topology: %v", err)
	}
}

func TestInboxReadyDropsAndKeeps(t *testing.T) {
	w := newInboxWorld(t)
	in := NewInbox(chainB, w.v.Topology, 100)
	for _, p := range w.pkgs {
		if err := in.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	// Block 0 (chainC, 2) is not recorded yet; one relay of block 1 is
	// consumed; one of block 2 carries a broken path by reference,
	// and one of block 3 a broken path in the full form.
	w.anchors.forget(&w.headers[0])
	usedID := w.pkgs[3].Message.ID()
	w.consumed[usedID] = true
	broken := decodeRef(t, w.pkgs[6].Proof)
	broken.Path.Siblings[0][0] ^= 1
	brokenFull, err := DecodeProof(w.pkgs[11].Proof)
	if err != nil {
		t.Fatal(err)
	}
	brokenFull.Path.Siblings[0][0] ^= 1
	in.Forget([]types.Hash{w.pkgs[6].Message.ID(), w.pkgs[11].Message.ID()})
	for _, p := range []Package{
		{Message: w.pkgs[6].Message, Proof: encodeProof(t, &broken)},
		{Message: w.pkgs[11].Message, Proof: encodeProof(t, &brokenFull)},
	} {
		if err := in.Add(p); err != nil {
			t.Fatalf("Add checks no path: %v", err)
		}
	}

	got := in.Ready(&w.v, 100)
	if len(got) != len(w.pkgs)-3-3 {
		t.Fatalf("%d ready, want %d", len(got), len(w.pkgs)-6)
	}
	if in.Len() != len(w.pkgs)-3 || in.Has(usedID) || in.Has(w.pkgs[6].Message.ID()) || in.Has(w.pkgs[11].Message.ID()) || !in.Has(w.pkgs[0].Message.ID()) {
		t.Fatalf("after Ready: %d held", in.Len())
	}
	checkInbox(t, in)

	// Once the block is confirmed its relays come first.
	w.anchors.confirm(&w.headers[0])
	got = in.Ready(&w.v, 100)
	if c, _ := sourceOf(t, got[len(got)-1]); c != chainC || len(got) != len(w.pkgs)-3 {
		t.Fatalf("%d ready after confirmation", len(got))
	}
	var ids []types.Hash
	for _, i := range got {
		ids = append(ids, i.Message.ID())
	}
	in.Forget(ids)
	if in.Len() != 0 || len(in.order) != 0 {
		t.Fatalf("after Forget of all: %d held", in.Len())
	}
	checkInbox(t, in)

	// A verifier of another chain or without its sets verifies nothing and
	// drops nothing.
	_ = in.Add(w.pkgs[0])
	for _, v := range []Verifier{{Chain: chainC, Topology: w.v.Topology, Anchors: w.anchors, Consumed: w.consumed}, {Chain: chainB}} {
		if got := in.Ready(&v, 10); len(got) != 0 || in.Len() != 1 {
			t.Fatalf("misconfigured verifier: %d ready, %d held", len(got), in.Len())
		}
	}
}

// forge returns pkg with a proof of a block no recorder ever records: it
// waits forever (ErrNotConfirmed). An odd n gives the full form of a
// changed header, an even one a reference to a height never recorded.
func (w *inboxWorld) forge(t fatalReporter, pkg Package, n byte) Package {
	t.Helper()
	p, err := decodeAnyProof(pkg.Proof)
	if err != nil {
		t.Fatal(err)
	}
	chain, height := p.source()
	path := p.ref.Path
	if !p.byRef {
		path = p.full.Path
	}
	if n%2 == 1 {
		for _, h := range w.headers {
			if h.ChainID == chain && h.Height == height {
				h.StateRoot[0] ^= n
				return Package{Message: pkg.Message, Proof: encodeProof(t, &Proof{Source: h, Path: path})}
			}
		}
		t.Fatal("package of no block of the world")
	}
	return Package{Message: pkg.Message, Proof: encodeProof(t, &RefProof{Chain: chain, Height: 1<<40 + types.Height(n), Path: path})}
}

func TestInboxAlternatives(t *testing.T) {
	w := newInboxWorld(t)
	honest := w.pkgs[0]
	in := NewInbox(chainB, w.v.Topology, 100)

	if err := in.Add(w.forge(t, honest, 1)); err != nil {
		t.Fatal(err)
	}
	if got := in.Ready(&w.v, 10); len(got) != 0 {
		t.Fatal("forged proof verified")
	}
	if err := in.Add(honest); err != nil {
		t.Fatal(err)
	}
	got := in.Ready(&w.v, 10)
	if len(got) != 1 || !bytes.Equal(got[0].Proof, honest.Proof) {
		t.Fatalf("the honest proof behind a forged one is not ready: %d inputs", len(got))
	}
	checkInbox(t, in)

	// Forgeries beyond MaxAlternatives evict the oldest proof.
	for n := byte(2); n < 2+MaxAlternatives-2; n++ {
		_ = in.Add(w.forge(t, honest, n))
	}
	if len(in.Ready(&w.v, 10)) != 1 {
		t.Fatal("honest proof evicted early")
	}
	_ = in.Add(w.forge(t, honest, 0x40))
	_ = in.Add(w.forge(t, honest, 0x41))
	if got := in.Ready(&w.v, 10); len(got) != 0 || in.Len() != 1 {
		t.Fatalf("%d ready, %d held after more forgeries", len(got), in.Len())
	}
	checkInbox(t, in)
	if err := in.Add(honest); err != nil || len(in.Ready(&w.v, 10)) != 1 {
		t.Fatalf("re-sent honest proof: %v", err)
	}

	// A proof that will never verify is dropped; the message goes with its
	// last proof.
	in = NewInbox(chainB, w.v.Topology, 100)
	broken := decodeRef(t, honest.Proof)
	broken.Path.Siblings[0][1] ^= 1
	_ = in.Add(Package{Message: honest.Message, Proof: encodeProof(t, &broken)})
	if got := in.Ready(&w.v, 10); len(got) != 0 || in.Len() != 0 {
		t.Fatalf("broken proof: %d ready, %d held", len(got), in.Len())
	}
	checkInbox(t, in)
}

// TestInboxBookkeeping: any sequence of Add, Ready and Forget keeps the
// inbox within its bound, its counts right, and Ready's inputs sorted,
// distinct and verified.
func TestInboxBookkeeping(t *testing.T) {
	w := newInboxWorld(t)
	rapid.Check(t, func(t *rapid.T) {
		clear(w.consumed)
		for i := range w.headers {
			w.anchors.confirm(&w.headers[i])
		}
		in := NewInbox(chainB, w.v.Topology, rapid.IntRange(1, 20).Draw(t, "max"))
		for range rapid.IntRange(1, 60).Draw(t, "ops") {
			pkg := w.pkgs[rapid.IntRange(0, len(w.pkgs)-1).Draw(t, "package")]
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0:
				_ = in.Add(pkg)
			case 1:
				_ = in.Add(w.forge(t, pkg, rapid.ByteRange(1, 255).Draw(t, "forgery")))
			case 2:
				w.consumed[pkg.Message.ID()] = true
			case 3:
				in.Forget([]types.Hash{pkg.Message.ID()})
			case 4:
				w.anchors.forget(&w.headers[rapid.IntRange(0, len(w.headers)-1).Draw(t, "header")])
			case 5:
				got := in.Ready(&w.v, rapid.IntRange(0, 30).Draw(t, "ready max"))
				seen := map[types.Hash]bool{}
				for _, i := range got {
					id := i.Message.ID()
					if seen[id] {
						t.Fatal("Ready returned a message twice")
					}
					seen[id] = true
					if err := w.v.VerifyRelay(&i.Message, i.Proof); err != nil {
						t.Fatalf("Ready returned an input that does not verify: %v", err)
					}
				}
			}
			checkInbox(t, in)
		}
	})
}
