package relay

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// packWorld is chain B's view of source blocks of chains A and C (both
// prove to B by reference) and the candidate relay inputs they give B.
type packWorld struct {
	anchors anchors
	// relays are B's relays of each source block, with stand-alone
	// proofs, by (chain, height).
	relays map[chainHeight][]exec.Input
	keys   []chainHeight
}

// newPackWorld builds blocks of chains A and C at heights 1..blocks, each
// with sizes[i] outer relays, about two in three of them to chain B.
func newPackWorld(tb fatalReporter, sizes []int) *packWorld {
	tb.Helper()
	w := &packWorld{anchors: anchors{}, relays: make(map[chainHeight][]exec.Input)}
	topo := testTopology(tb)
	n := uint64(0)
	for i, size := range sizes {
		source := []types.ChainID{chainA, chainC}[i%2]
		height := types.Height(1 + i/2)
		var msgs []types.Message
		for range size {
			n++
			dest := chainB
			if n%3 == 0 {
				dest = []types.ChainID{chainA, chainC}[(i+1)%2]
			}
			msgs = append(msgs, relayMsg(source, dest, n))
		}
		h, body := sourceBlock(source, height, msgs)
		w.anchors.confirm(&h)
		key := chainHeight{source, height}
		w.keys = append(w.keys, key)
		for _, a := range outbox(tb, &h, &body, topo) {
			if a.Dest == chainB {
				w.relays[key] = append(w.relays[key], a.Package.Input())
			}
		}
	}
	return w
}

func (w *packWorld) verifier(tb fatalReporter) Verifier {
	return Verifier{Chain: chainB, Topology: testTopology(tb), Anchors: w.anchors, Consumed: consumed{}}
}

// external is an external input: VerifyRelays passes it by.
func external(n uint64) exec.Input {
	return exec.Input{Message: types.Message{Kind: types.MessageExternal, From: addrOn(chainB, n), To: addrOn(chainB, n+1), Nonce: n}}
}

func packedForms(inputs []exec.Input) (heads, refs int) {
	for i := range inputs {
		switch tagOf(inputs[i].Proof) {
		case GroupProofTag:
			heads++
		case GroupRefTag:
			refs++
		}
	}
	return heads, refs
}

func TestPackRelays(t *testing.T) {
	w := newPackWorld(t, []int{30, 20, 2, 12})
	v := w.verifier(t)
	var candidates []exec.Input
	candidates = append(candidates, external(1))
	for _, key := range w.keys {
		candidates = append(candidates, w.relays[key]...)
	}
	candidates = append(candidates, external(2))
	// Interleave the groups: the packing must not depend on them being
	// contiguous.
	slices.Reverse(candidates[5:15])

	packed, ok := v.PackRelays(candidates)
	if !ok || len(packed) != len(candidates) {
		t.Fatalf("PackRelays: ok %v, %d inputs of %d", ok, len(packed), len(candidates))
	}
	before, after := 0, 0
	for i := range packed {
		if packed[i].Message.ID() != candidates[i].Message.ID() {
			t.Fatalf("input %d changed message", i)
		}
		before += len(candidates[i].Proof)
		after += len(packed[i].Proof)
	}
	groups, grouped := 0, 0
	for _, key := range w.keys {
		if n := len(w.relays[key]); n >= 2 {
			groups++
			grouped += n
		}
	}
	if heads, refs := packedForms(packed); heads != groups || heads+refs != grouped || grouped == len(candidates)-2 {
		t.Fatalf("%d group proofs and %d references; want %d groups over %d relays, one block's relay alone", heads, refs, groups, grouped)
	}
	if after*3 > before {
		t.Fatalf("packed proofs take %d bytes, stand-alone %d: want at most a third", after, before)
	}
	if _, err := v.VerifyRelays(packed); err != nil {
		t.Fatalf("packed block: %v", err)
	}
	if _, err := (Trusted{Chain: chainB, Topology: v.Topology}).VerifyRelays(packed); err != nil {
		t.Fatalf("packed block, trusted: %v", err)
	}
	if _, err := v.VerifyRelays(candidates); err != nil {
		t.Fatalf("stand-alone block: %v", err)
	}
	for i := range candidates {
		if err := v.VerifyRelay(&packed[i].Message, packed[i].Proof); candidates[i].Message.Kind != types.MessageExternal && tagOf(packed[i].Proof) >= GroupProofTag && err == nil {
			t.Fatalf("input %d: a packed proof verified standing alone", i)
		}
	}
	unpacked, err := Unpack(packed, w.anchors)
	if err != nil {
		t.Fatal(err)
	}
	for i := range unpacked {
		if !bytes.Equal(unpacked[i].Proof, candidates[i].Proof) {
			t.Fatalf("input %d: unpacked proof differs from the stand-alone one", i)
		}
	}
	again, _ := v.PackRelays(packed)
	for i := range again {
		if !bytes.Equal(again[i].Proof, packed[i].Proof) {
			t.Fatalf("packing a packed block changed input %d", i)
		}
	}
}

// TestVerifyRelaysRefuses covers the rules of packed blocks, each broken
// once from a valid packed block.
func TestVerifyRelaysRefuses(t *testing.T) {
	w := newPackWorld(t, []int{30, 20})
	v := w.verifier(t)
	a, c := w.relays[chainHeight{chainA, 1}], w.relays[chainHeight{chainC, 1}]
	good, _ := v.PackRelays(slices.Concat(a, c))
	if heads, _ := packedForms(good); heads != 2 {
		t.Fatalf("%d groups, want 2", heads)
	}
	headC := len(a)
	tests := []struct {
		name   string
		mutate func([]exec.Input) []exec.Input
		at     int
		want   error
	}{
		{"input dropped from a group", func(in []exec.Input) []exec.Input { return slices.Delete(in, 3, 4) }, 0, ErrInvalid},
		{"group proof dropped", func(in []exec.Input) []exec.Input { return in[1:] }, 0, ErrInvalid},
		{"reference before its group proof", func(in []exec.Input) []exec.Input {
			in[0], in[1] = in[1], in[0]
			return in
		}, 0, ErrInvalid},
		{"two inputs swapped within a group", func(in []exec.Input) []exec.Input {
			in[1].Message, in[2].Message = in[2].Message, in[1].Message
			return in
		}, 0, ErrInvalid},
		{"group proof twice", func(in []exec.Input) []exec.Input {
			in[1].Proof = in[0].Proof
			return in
		}, 1, ErrInvalid},
		{"reference to the other group", func(in []exec.Input) []exec.Input {
			in[headC+1].Proof = in[1].Proof
			return in
		}, headC + 1, ErrInvalid},
		{"message altered", func(in []exec.Input) []exec.Input {
			in[2].Message.Value++
			return in
		}, 0, ErrInvalid},
		{"message to another chain", func(in []exec.Input) []exec.Input {
			in[2].Message.To = addrOn(chainA, 99)
			return in
		}, 2, ErrInvalid},
		{"sibling altered", func(in []exec.Input) []exec.Input {
			in[0].Proof = slices.Clone(in[0].Proof)
			in[0].Proof[len(in[0].Proof)-1] ^= 1
			return in
		}, 0, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.mutate(slices.Clone(good))
			at, err := v.VerifyRelays(in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if at != tt.at {
				t.Fatalf("error at input %d, want %d: %v", at, tt.at, err)
			}
		})
	}
	t.Run("source not recorded", func(t *testing.T) {
		view := anchors{}
		for k, an := range w.anchors {
			if k.chain != chainC {
				view[k] = an
			}
		}
		stale := Verifier{Chain: chainB, Topology: v.Topology, Anchors: view, Consumed: consumed{}}
		at, err := stale.VerifyRelays(good)
		if !errors.Is(err, ErrNotConfirmed) || at != headC {
			t.Fatalf("at %d: %v, want ErrNotConfirmed at %d", at, err, headC)
		}
	})
	t.Run("consumed", func(t *testing.T) {
		used := v
		used.Consumed = consumed{good[headC+2].Message.ID(): true}
		at, err := used.VerifyRelays(good)
		if !errors.Is(err, ErrConsumed) || at != headC+2 {
			t.Fatalf("at %d: %v, want ErrConsumed at %d", at, err, headC+2)
		}
		tr := Trusted{Chain: chainB, Topology: v.Topology, Consumed: used.Consumed}
		if _, err := tr.VerifyRelays(good); !errors.Is(err, ErrConsumed) {
			t.Fatalf("trusted: %v, want ErrConsumed", err)
		}
	})
}

// TestPackedBlockProperty: whatever the relays a leader picks and their
// order among external inputs, the packed block verifies, unpacks to the
// stand-alone proofs, and no single changed byte of a proof verifies (the
// leaf count of a group proof aside, see below).
func TestPackedBlockProperty(t *testing.T) {
	w := newPackWorld(t, []int{60, 45, 9, 2, 33, 1})
	var all []exec.Input
	for _, key := range w.keys {
		all = append(all, w.relays[key]...)
	}
	rapid.Check(t, func(rt *rapid.T) {
		v := w.verifier(rt)
		picks := rapid.SliceOfNDistinct(rapid.IntRange(0, len(all)-1), 1, len(all), rapid.ID[int]).Draw(rt, "picks")
		var in []exec.Input
		for k, p := range picks {
			if k%5 == 0 {
				in = append(in, external(uint64(k)))
			}
			in = append(in, all[p])
		}
		packed, ok := v.PackRelays(in)
		if !ok {
			rt.Fatal("PackRelays declined")
		}
		if _, err := v.VerifyRelays(packed); err != nil {
			rt.Fatalf("packed: %v", err)
		}
		unpacked, err := Unpack(packed, w.anchors)
		if err != nil {
			rt.Fatal(err)
		}
		for i := range in {
			if !bytes.Equal(unpacked[i].Proof, in[i].Proof) {
				rt.Fatalf("input %d unpacks to another proof", i)
			}
		}
		var proofs []int
		for i := range packed {
			if len(packed[i].Proof) > 0 {
				proofs = append(proofs, i)
			}
		}
		i := rapid.SampledFrom(proofs).Draw(rt, "input")
		at := rapid.IntRange(0, len(packed[i].Proof)-1).Filter(func(at int) bool {
			// The root does not commit to the leaf count (crypto/merkle): a
			// count that gives the proven leaves the same tree shape proves
			// the same, so its bytes are left alone, in a group proof and in
			// a reference's path (after tag, chain, height, path length and
			// the path's index).
			switch tagOf(packed[i].Proof) {
			case GroupProofTag:
				return at < 13 || at >= 17
			case RefProofTag:
				return at < 25 || at >= 33
			}
			return true
		}).Draw(rt, "byte")
		flip := byte(rapid.IntRange(1, 255).Draw(rt, "flip"))
		bad := slices.Clone(packed)
		bad[i].Proof = slices.Clone(bad[i].Proof)
		bad[i].Proof[at] ^= flip
		if _, err := v.VerifyRelays(bad); err == nil {
			rt.Fatalf("input %d with byte %d changed verifies", i, at)
		}
	})
}

func sampleGroupProof(tb fatalReporter) GroupProof {
	tb.Helper()
	w := newPackWorld(tb, []int{9})
	packed, _ := w.verifier(tb).PackRelays(w.relays[chainHeight{chainA, 1}])
	g, err := DecodeGroupProof(packed[0].Proof)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestGroupProofLayout(t *testing.T) {
	g := sampleGroupProof(t)
	b := marshal(t, &g)
	if len(b) != g.EncodedLen() || b[0] != GroupProofTag || len(b) != groupFixedSize+4*len(g.Indices)+hash.Size*len(g.Siblings) {
		t.Fatalf("encoding of %d bytes, EncodedLen %d", len(b), g.EncodedLen())
	}
	r := GroupRef{Chain: chainA, Height: 7}
	rb := marshal(t, r)
	if len(rb) != groupRefSize || rb[0] != GroupRefTag {
		t.Fatalf("reference encoding %x", rb)
	}
	if back, err := DecodeGroupRef(rb); err != nil || back != r {
		t.Fatalf("reference round trip: %+v, %v", back, err)
	}
	for _, bad := range []GroupProof{
		{Chain: chainA, Height: 1, LeafCount: 0, Indices: []uint32{0}},
		{Chain: chainA, Height: 1, LeafCount: 2},
		{Chain: chainA, Height: 1, LeafCount: 2, Indices: []uint32{2}, Siblings: make([]hash.Digest, 1)},
		{Chain: chainA, Height: 1, LeafCount: 2, Indices: []uint32{1, 1}},
		{Chain: chainA, Height: 1, LeafCount: 2, Indices: []uint32{1}},
		{Chain: chainA, Height: 1, LeafCount: MaxGroupLeaves + 1, Indices: []uint32{1}},
	} {
		if _, err := bad.MarshalBinary(); err == nil {
			t.Errorf("encoded a malformed group proof %+v", bad)
		}
	}
}

func groupSeeds(tb fatalReporter) (map[string][]byte, map[string][]byte) {
	g := sampleGroupProof(tb)
	b := marshal(tb, &g)
	sibAt := groupFixedSize + 4*len(g.Indices) - 4
	one := GroupProof{Chain: chainA, Height: 3, LeafCount: 1, Indices: []uint32{0}}
	ref := marshal(tb, GroupRef{Chain: chainC, Height: 9})
	groups := map[string][]byte{
		"valid":               b,
		"valid-one-leaf":      marshal(tb, &one),
		"wrong-tag":           withByte(b, 0, GroupRefTag),
		"truncated":           b[:len(b)-1],
		"trailing":            append(bytes.Clone(b), 0),
		"leaf-count-zero":     withUint32(b, 13, 0),
		"leaf-count-over":     withUint32(b, 13, MaxGroupLeaves+1),
		"index-out-of-range":  withUint32(b, 21, 1000),
		"index-twice":         withUint32(b, 21, binaryUint32(b, 25)),
		"too-many-indices":    withUint32(b, 17, MaxGroupLeaves+1),
		"no-index":            withUint32(withUint32(b, 17, 0), 21, 0)[:22],
		"siblings-one-short":  withUint32(b, sibAt, uint32(len(g.Siblings)-1))[:len(b)-hash.Size],
		"siblings-count-over": withUint32(b, sibAt, MaxGroupLeaves+1),
	}
	refs := map[string][]byte{
		"valid":     ref,
		"wrong-tag": withByte(ref, 0, GroupProofTag),
		"truncated": ref[:len(ref)-1],
		"trailing":  append(bytes.Clone(ref), 0),
	}
	return groups, refs
}

func binaryUint32(b []byte, at int) uint32 {
	return uint32(b[at])<<24 | uint32(b[at+1])<<16 | uint32(b[at+2])<<8 | uint32(b[at+3])
}

func FuzzDecodeGroupProof(f *testing.F) {
	g := sampleGroupProof(f)
	f.Add(marshal(f, &g))
	w := newPackWorld(f, []int{9})
	v := w.verifier(f)
	relays := w.relays[chainHeight{chainA, 1}]
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCanonical(t, "FuzzDecodeGroupProof", b)
		g, err := DecodeGroupProof(b)
		if err != nil || len(g.Indices) > len(relays) {
			return
		}
		in := slices.Clone(relays[:len(g.Indices)])
		ref := GroupRef{Chain: g.Chain, Height: g.Height}.AppendBinary(nil)
		for i := range in {
			in[i].Proof = ref
		}
		in[0].Proof = b
		if _, err := v.VerifyRelays(in); err != nil {
			return
		}
		// Whatever verifies as a group proves each relay standing alone.
		unpacked, err := Unpack(in, w.anchors)
		if err != nil {
			t.Fatalf("a verified group does not unpack: %v", err)
		}
		for i := range unpacked {
			if err := v.VerifyRelay(&unpacked[i].Message, unpacked[i].Proof); err != nil {
				t.Fatalf("input %d of a verified group: %v", i, err)
			}
		}
	})
}

func FuzzDecodeGroupRef(f *testing.F) {
	f.Add(marshal(f, GroupRef{Chain: chainA, Height: 1}))
	f.Fuzz(func(t *testing.T, b []byte) { checkCanonical(t, "FuzzDecodeGroupRef", b) })
}

// TestBatchPacking: SplitBatches packs the packages of each source block,
// the receiver's Unpacked gives back exactly the stand-alone packages, and
// a tampered or broken packing never yields a package that verifies.
func TestBatchPacking(t *testing.T) {
	w := newPackWorld(t, []int{90, 60, 1})
	v := w.verifier(t)
	var pkgs []Package
	for _, key := range w.keys {
		for _, in := range w.relays[key] {
			pkgs = append(pkgs, Package{Message: in.Message, Proof: in.Proof})
		}
	}
	standAlone := Batch{Source: chainA, Dest: chainB, Packages: pkgs}
	batches := SplitBatches(chainA, chainB, pkgs, 0)
	if len(batches) != 1 {
		t.Fatalf("%d batches, want 1", len(batches))
	}
	b := batches[0]
	if heads, _ := packedForms(inputsOf(b.Packages)); heads != 2 {
		t.Fatalf("%d group proofs in the batch, want 2", heads)
	}
	// Blocks of 90 and 60 relays: paths of 6 or 7 siblings, most shared.
	if b.EncodedLen()*5 > standAlone.EncodedLen()*3 {
		t.Fatalf("packed batch of %d bytes, stand-alone %d: want at most 60%%", b.EncodedLen(), standAlone.EncodedLen())
	}
	decoded, err := DecodeBatch(marshal(t, &b))
	if err != nil {
		t.Fatal(err)
	}
	got, err := decoded.Unpacked()
	if err != nil || len(got) != len(pkgs) {
		t.Fatalf("Unpacked: %d packages, %v", len(got), err)
	}
	for i := range got {
		if got[i].Message.ID() != pkgs[i].Message.ID() || !bytes.Equal(got[i].Proof, pkgs[i].Proof) {
			t.Fatalf("package %d does not unpack to the one sent", i)
		}
		if err := v.VerifyRelay(&got[i].Message, got[i].Proof); err != nil {
			t.Fatalf("unpacked package %d: %v", i, err)
		}
	}

	t.Run("tampered sibling", func(t *testing.T) {
		bad := Batch{Source: b.Source, Dest: b.Dest, Packages: slices.Clone(b.Packages)}
		bad.Packages[0].Proof = slices.Clone(bad.Packages[0].Proof)
		bad.Packages[0].Proof[len(bad.Packages[0].Proof)-1] ^= 1
		got, err := bad.Unpacked()
		if err != nil {
			t.Fatalf("a well-formed group does not unpack: %v", err)
		}
		n := len(w.relays[w.keys[0]])
		for i := range got[:n] {
			if err := v.VerifyRelay(&got[i].Message, got[i].Proof); !errors.Is(err, ErrInvalid) {
				t.Fatalf("package %d of a tampered group: %v, want ErrInvalid", i, err)
			}
		}
	})
	t.Run("reference without its group proof", func(t *testing.T) {
		bad := Batch{Source: b.Source, Dest: b.Dest, Packages: slices.Clone(b.Packages[1:])}
		got, err := bad.Unpacked()
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v, want ErrInvalid", err)
		}
		if len(got) != 1 || !bytes.Equal(got[0].Proof, pkgs[len(pkgs)-1].Proof) {
			t.Fatalf("%d packages kept, want the lone stand-alone one", len(got))
		}
	})
}

func inputsOf(pkgs []Package) []exec.Input {
	out := make([]exec.Input, len(pkgs))
	for i := range pkgs {
		out[i] = pkgs[i].Input()
	}
	return out
}
