package relay

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

var txChains = []types.ChainID{chainA, chainB, chainC}

// drawRelays draws 1 to 40 distinct outer relays of source to the other
// transaction chains.
func drawRelays(t *rapid.T, source types.ChainID) []types.Message {
	n := rapid.IntRange(1, 40).Draw(t, "relays")
	msgs := make([]types.Message, n)
	for i := range msgs {
		var dest types.ChainID
		for dest = source; dest == source; {
			dest = rapid.SampledFrom(txChains).Draw(t, "dest")
		}
		to := addrOn(dest, rapid.Uint64().Draw(t, "to"))
		m := relayMsg(source, dest, uint64(i))
		m.To = to
		m.Value = rapid.Uint64().Draw(t, "value")
		m.Method = []byte(rapid.SampledFrom([]string{"", "add", "pay_in", "x1"}).Draw(t, "method"))
		m.Args = rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "args")
		msgs[i] = m
	}
	return msgs
}

// fullWithLifts turns a package proved by reference into the full form
// with hops lifts up the recorder tree (none: the full form with no lift).
func fullWithLifts(t *rapid.T, topo *chains.Topology, pkg Package, source *types.Header, hops int) Package {
	if hops == 0 {
		return fullForm(t, pkg, source)
	}
	last := source
	for i := range hops {
		c, _ := topo.Chain(last.ChainID)
		rh, paths := recorderBlock(t, c.Parent, types.Height(100+i), last)
		var err error
		if pkg, err = LiftPackage(pkg, source, &rh, paths[0]); err != nil {
			t.Fatal(err)
		}
		last = &rh
	}
	return pkg
}

// TestOutboxPackagesVerify: every package of a random block verifies at
// its destination, by reference once the source block is recorded there,
// and in the full form with the lifts its route needs; a single changed
// byte of its message or proof makes either form fail.
func TestOutboxPackagesVerify(t *testing.T) {
	topo := testTopology(t)
	rapid.Check(t, func(t *rapid.T) {
		source := rapid.SampledFrom(txChains).Draw(t, "source")
		msgs := drawRelays(t, source)
		h, body := sourceBlock(source, types.Height(rapid.Uint64Range(1, 1<<40).Draw(t, "height")), msgs)
		out, err := Outbox(&h, &body, topo)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(body.OuterRelay) {
			t.Fatalf("%d packages for %d relays", len(out), len(body.OuterRelay))
		}
		for i := range out {
			a := &out[i]
			m := &body.OuterRelay[i]
			if a.Package.Message.ID() != m.ID() || a.Dest != topo.OwnerOf(m.To) {
				t.Fatalf("package %d: message or destination not the body's", i)
			}
			if r := decodeRef(t, a.Package.Proof); r.Chain != h.ChainID || r.Height != h.Height {
				t.Fatalf("package %d: reference to chain %d height %d, not the block", i, r.Chain, r.Height)
			}
			recorded := anchors{}
			recorded.confirm(&h)
			v := Verifier{Chain: a.Dest, Topology: topo, Anchors: recorded, Consumed: consumed{}}
			checkPackage(t, &v, a.Package, fmt.Sprintf("package %d by reference", i))

			// From a sub-chain to the other branch, lift to the
			// coordinator or the root; otherwise no lift is needed but
			// one to the root is allowed.
			hops := 0
			switch {
			case source != chainA && a.Dest == chainA:
				hops = rapid.IntRange(1, 2).Draw(t, "hops")
			case source == chainA:
				hops = rapid.IntRange(0, 1).Draw(t, "hops")
			}
			full := fullWithLifts(t, topo, a.Package, &h, hops)
			p, err := DecodeProof(full.Proof)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Lifts) != hops || p.Source != h {
				t.Fatalf("package %d: full form with %d lifts of chain %d, want %d lifts of the block", i, len(p.Lifts), p.Source.ChainID, hops)
			}
			last := anchors{}
			last.confirm(p.Last())
			v.Anchors = last
			checkPackage(t, &v, full, fmt.Sprintf("package %d, %d lifts", i, hops))
		}
	})
}

// checkPackage checks that pkg verifies under v and that it does not once
// a byte of its message or proof changed.
func checkPackage(t *rapid.T, v *Verifier, pkg Package, what string) {
	if err := v.VerifyRelay(&pkg.Message, pkg.Proof); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	enc, err := pkg.Message.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	mut := flipByte(t, enc, "message")
	if mm, err := types.DecodeMessage(mut); err == nil {
		if err := v.VerifyRelay(&mm, pkg.Proof); err == nil {
			t.Fatalf("%s: changed message %x verifies", what, mut)
		}
	}
	mut = flipByte(t, pkg.Proof, "proof")
	if err := v.VerifyRelay(&pkg.Message, mut); err == nil {
		// crypto/merkle roots do not commit to the leaf count, so a path
		// can be relabelled to another tree shape with the same siblings
		// (see exec.VerifyRelayProof). Such a proof still proves this
		// message of this block, nothing else.
		if !sameButShape(t, pkg.Proof, mut) {
			t.Fatalf("%s: changed proof verifies", what)
		}
	}
}

// sameButShape reports whether two proof encodings differ at most in the
// index and leaf count of their paths.
func sameButShape(t *rapid.T, a, b []byte) bool {
	p, err := decodeAnyProof(a)
	if err != nil {
		t.Fatal(err)
	}
	q, err := decodeAnyProof(b)
	if err != nil || p.byRef != q.byRef {
		return false
	}
	if p.byRef {
		return p.ref.Chain == q.ref.Chain && p.ref.Height == q.ref.Height && slices.Equal(p.ref.Path.Siblings, q.ref.Path.Siblings)
	}
	if p.full.Source != q.full.Source || len(p.full.Lifts) != len(q.full.Lifts) || !slices.Equal(p.full.Path.Siblings, q.full.Path.Siblings) {
		return false
	}
	for i := range p.full.Lifts {
		if p.full.Lifts[i].Recorder != q.full.Lifts[i].Recorder || !slices.Equal(p.full.Lifts[i].Path.Siblings, q.full.Lifts[i].Path.Siblings) {
			return false
		}
	}
	return true
}

// flipByte returns a copy of b with one byte changed.
func flipByte(t *rapid.T, b []byte, what string) []byte {
	out := bytes.Clone(b)
	at := rapid.IntRange(0, len(out)-1).Draw(t, what+" byte")
	out[at] ^= rapid.ByteRange(1, 255).Draw(t, what+" xor")
	return out
}

func TestOutboxRejects(t *testing.T) {
	topo := testTopology(t)
	msgs := []types.Message{relayMsg(chainA, chainB, 1), relayMsg(chainA, chainC, 2)}
	cases := []struct {
		name string
		edit func(h *types.Header, body *exec.Body)
	}{
		{"root mismatch", func(h *types.Header, body *exec.Body) { h.OuterRelayRoot[0] ^= 1 }},
		{"empty block", func(h *types.Header, body *exec.Body) { h.Empty = true }},
		{"relay to the source chain", func(h *types.Header, body *exec.Body) { body.OuterRelay[0].To = addrOn(chainA, 1) }},
		{"inter-relay message", func(h *types.Header, body *exec.Body) { body.OuterRelay[1].Kind = types.MessageInterRelay }},
		{"relay of another chain", func(h *types.Header, body *exec.Body) { body.OuterRelay[1].SourceChain = chainC }},
		{"message that does not encode", func(h *types.Header, body *exec.Body) {
			body.OuterRelay[1].Args = make([]byte, types.MaxArgsLen+1)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, body := sourceBlock(chainA, 3, msgs)
			tc.edit(&h, &body)
			if out, err := Outbox(&h, &body, topo); err == nil {
				t.Fatalf("Outbox gave %d packages, want an error", len(out))
			}
		})
	}
	h, body := sourceBlock(chainA, 3, msgs)
	if _, err := Outbox(&h, &body, nil); err == nil {
		t.Fatal("Outbox without a topology succeeded")
	}
	if out, err := Outbox(&h, &exec.Body{}, topo); err != nil || out != nil {
		t.Fatalf("Outbox of a block without relays: %v, %v", out, err)
	}
}

// TestOutboxPackagesIndependent: packages of one call share a buffer but
// not bytes, and do not alias the body.
func TestOutboxPackagesIndependent(t *testing.T) {
	topo := testTopology(t)
	h, body := sourceBlock(chainB, 4, []types.Message{relayMsg(chainB, chainA, 1), relayMsg(chainB, chainC, 2), relayMsg(chainB, chainA, 3)})
	out := outbox(t, &h, &body, topo)
	want := bytes.Clone(out[1].Package.Proof)
	out[0].Package.Proof = append(out[0].Package.Proof, 0xff)
	if !bytes.Equal(out[1].Package.Proof, want) {
		t.Fatal("appending to one proof changed the next")
	}
	body.OuterRelay[2].Method[0] = 'X'
	if string(out[2].Package.Message.Method) != "add" {
		t.Fatal("package message aliases the body")
	}
}

func TestAddLiftBounds(t *testing.T) {
	f := newFixture(t, chainA, chainB, 0)
	rh, paths := recorderBlock(t, types.RootChain, 1, &f.proof.Source)
	for i := range MaxLifts {
		if err := AddLift(&f.proof, &rh, paths[0]); err != nil {
			t.Fatalf("lift %d: %v", i, err)
		}
	}
	if err := AddLift(&f.proof, &rh, paths[0]); err == nil {
		t.Fatal("lift beyond MaxLifts accepted")
	}
	f.proof.Lifts = append(f.proof.Lifts, Lift{Recorder: rh, Path: paths[0]})
	if _, err := f.proof.MarshalBinary(); err == nil {
		t.Fatal("encoding with more than MaxLifts lifts succeeded")
	}
	if _, err := LiftPackage(Package{Message: f.msg, Proof: []byte{1, 2}}, &f.proof.Source, &rh, paths[0]); err == nil {
		t.Fatal("LiftPackage of a malformed proof succeeded")
	}
}

func TestLiftPackage(t *testing.T) {
	topo := testTopology(t)
	h, body := sourceBlock(chainB, 4, []types.Message{relayMsg(chainB, chainA, 1), relayMsg(chainB, chainC, 2)})
	pkg := outbox(t, &h, &body, topo)[0].Package
	rh, paths := recorderBlock(t, coord, 6, &h)

	lifted, err := LiftPackage(pkg, &h, &rh, paths[0])
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodeProof(lifted.Proof)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source != h || len(p.Lifts) != 1 || p.Lifts[0].Recorder != rh || !slices.Equal(p.Path.Siblings, decodeRef(t, pkg.Proof).Path.Siblings) {
		t.Fatal("a reference lifted is not the full form over the source header with one lift")
	}
	root, rootPaths := recorderBlock(t, types.RootChain, 3, &rh)
	twice, err := LiftPackage(lifted, &h, &root, rootPaths[0])
	if err != nil {
		t.Fatal(err)
	}
	if p, err = DecodeProof(twice.Proof); err != nil || len(p.Lifts) != 2 || p.Last().ChainID != types.RootChain {
		t.Fatalf("a full proof lifted again: %v", err)
	}

	other := h
	other.Height++
	if _, err := LiftPackage(pkg, &other, &rh, paths[0]); err == nil {
		t.Fatal("a reference lifted over the header of another height")
	}
	other = h
	other.TimestampMillis++
	if _, err := LiftPackage(lifted, &other, &root, rootPaths[0]); err == nil {
		t.Fatal("a full proof lifted with another source header")
	}
}
