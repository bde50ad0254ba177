package relay

import (
	"errors"
	"slices"
	"testing"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// verifyFixture is a relay, its proof and the verifier of its destination.
type verifyFixture struct {
	msg      types.Message
	proof    Proof
	raw      []byte // when set, sent instead of the proof's encoding
	anchors  anchors
	consumed consumed
	v        Verifier
}

// fixtureBlock builds a block of source with relays to dest and others
// and returns its header and the Outbox package of its relay to dest.
func fixtureBlock(t *testing.T, source, dest types.ChainID) (types.Header, Package) {
	t.Helper()
	msgs := []types.Message{relayMsg(source, dest, 1), relayMsg(source, chainC, 2), relayMsg(source, dest, 3)}
	if source == chainC {
		msgs[1] = relayMsg(source, chainA, 2)
	}
	h, body := sourceBlock(source, 9, msgs)
	for _, a := range outbox(t, &h, &body, testTopology(t)) {
		if a.Package.Message.ID() == msgs[0].ID() {
			if a.Dest != dest {
				t.Fatalf("package addressed to %d, want %d", a.Dest, dest)
			}
			return h, a.Package
		}
	}
	t.Fatal("no package of the relay")
	return h, Package{}
}

// newFixture builds the fixture of a relay from source to dest in the full
// form, with lifts hops up to recorders (the parents in the test
// topology); the last header is confirmed.
func newFixture(t *testing.T, source, dest types.ChainID, lifts int) *verifyFixture {
	t.Helper()
	topo := testTopology(t)
	h, pkg := fixtureBlock(t, source, dest)
	f := verifyFixture{msg: pkg.Message, proof: Proof{Source: h, Path: decodeRef(t, pkg.Proof).Path}}
	prev := source
	for i := range lifts {
		c, _ := topo.Chain(prev)
		lift(t, &f.proof, c.Parent, types.Height(20+i))
		prev = c.Parent
	}
	f.anchors, f.consumed = anchors{}, consumed{}
	f.anchors.confirm(f.proof.Last())
	f.v = Verifier{Chain: dest, Topology: topo, Anchors: f.anchors, Consumed: f.consumed}
	return &f
}

func (f *verifyFixture) verify(t *testing.T) error {
	t.Helper()
	raw := f.raw
	if raw == nil {
		raw = encodeProof(t, &f.proof)
	}
	return f.v.VerifyRelay(&f.msg, raw)
}

func TestVerifyRelayAccepts(t *testing.T) {
	cases := []struct {
		name           string
		source, dest   types.ChainID
		lifts          int
		confirmedChain types.ChainID
	}{
		{"top-level source, no lift (root records it)", chainA, chainB, 0, chainA},
		{"sibling sub-chains, no lift (coordinator records it)", chainB, chainC, 0, chainB},
		{"sub-chain to other branch, lift to the coordinator block", chainB, chainA, 1, coord},
		{"sub-chain to other branch, lifts to the root block", chainC, chainA, 2, types.RootChain},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.source, tc.dest, tc.lifts)
			if got := len(f.proof.Lifts); got != tc.lifts {
				t.Fatalf("%d lifts, want %d", got, tc.lifts)
			}
			if last := f.proof.Last(); last.ChainID != tc.confirmedChain {
				t.Fatalf("last header of chain %d, want %d", last.ChainID, tc.confirmedChain)
			}
			if err := f.verify(t); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerifyRelayRejects(t *testing.T) {
	cases := []struct {
		name  string
		lifts int // of a chainC -> chainA fixture when positive, else chainA -> chainB
		edit  func(t *testing.T, f *verifyFixture)
		want  error
	}{
		{"wrong kind", 0, func(t *testing.T, f *verifyFixture) { f.msg.Kind = types.MessageInterRelay }, ErrInvalid},
		{"external message", 0, func(t *testing.T, f *verifyFixture) {
			priv, err := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
			if err != nil {
				t.Fatal(err)
			}
			f.msg = actor.NewTransfer(priv, 0, addrOn(chainB, 1), 1)
		}, ErrInvalid},
		{"message not valid", 0, func(t *testing.T, f *verifyFixture) { f.msg.Signature[0] = 1 }, ErrInvalid},
		{"source chain differs from the proof's", 0, func(t *testing.T, f *verifyFixture) { f.msg.SourceChain = chainC }, ErrInvalid},
		{"source chain is the destination", 0, func(t *testing.T, f *verifyFixture) {
			f.msg.SourceChain, f.proof.Source.ChainID = chainB, chainB
		}, ErrInvalid},
		{"source chain is a coordinator", 0, func(t *testing.T, f *verifyFixture) {
			f.msg.SourceChain, f.proof.Source.ChainID = coord, coord
		}, ErrInvalid},
		{"source chain unknown", 0, func(t *testing.T, f *verifyFixture) {
			f.msg.SourceChain, f.proof.Source.ChainID = 99, 99
		}, ErrInvalid},
		{"source block empty", 0, func(t *testing.T, f *verifyFixture) {
			f.proof.Source.Empty = true
			f.anchors.confirm(&f.proof.Source)
		}, ErrInvalid},
		{"recipient on another chain", 0, func(t *testing.T, f *verifyFixture) { f.v.Chain = chainC }, ErrInvalid},
		{"tampered path", 0, func(t *testing.T, f *verifyFixture) { f.proof.Path.Siblings[0][3] ^= 1 }, ErrInvalid},
		{"path of another relay of the block", 0, func(t *testing.T, f *verifyFixture) { f.msg = relayMsg(chainA, chainB, 3) }, ErrInvalid},
		{"tampered message", 0, func(t *testing.T, f *verifyFixture) { f.msg.Value++ }, ErrInvalid},
		{"tampered relay root", 0, func(t *testing.T, f *verifyFixture) {
			f.proof.Source.OuterRelayRoot[0] ^= 1
			f.anchors.confirm(&f.proof.Source)
		}, ErrInvalid},
		{"malformed proof", 0, func(t *testing.T, f *verifyFixture) { f.raw = encodeProof(t, &f.proof)[:100] }, ErrInvalid},
		{"proof with trailing byte", 0, func(t *testing.T, f *verifyFixture) { f.raw = append(encodeProof(t, &f.proof), 0) }, ErrInvalid},
		{"lift with the wrong recorder chain", 1, func(t *testing.T, f *verifyFixture) {
			f.proof.Lifts[0].Recorder.ChainID = types.RootChain
			f.anchors.confirm(f.proof.Last())
		}, ErrInvalid},
		{"lift path wrong", 1, func(t *testing.T, f *verifyFixture) { f.proof.Lifts[0].Path.Siblings[0][0] ^= 1 }, ErrInvalid},
		{"lift records another header", 1, func(t *testing.T, f *verifyFixture) {
			f.proof.Source.TimestampMillis++ // the path still holds; the recorded hash does not
		}, ErrInvalid},
		{"second lift path wrong", 2, func(t *testing.T, f *verifyFixture) { f.proof.Lifts[1].Path.Siblings[0][5] ^= 1 }, ErrInvalid},
		{"lift from an empty recorder block", 1, func(t *testing.T, f *verifyFixture) {
			f.proof.Lifts[0].Recorder.Empty = true
			f.anchors.confirm(f.proof.Last())
		}, ErrInvalid},
		{"lift beyond the root", 2, func(t *testing.T, f *verifyFixture) {
			lift(t, &f.proof, types.RootChain, 50)
			f.anchors.confirm(f.proof.Last())
		}, ErrInvalid},
		{"not confirmed", 0, func(t *testing.T, f *verifyFixture) { clear(f.anchors) }, ErrNotConfirmed},
		{"confirmed under another chain", 0, func(t *testing.T, f *verifyFixture) {
			clear(f.anchors)
			h := f.proof.Source
			f.anchors[chainHeight{chainC, h.Height}] = Anchor{Hash: h.Hash(), OuterRelayRoot: h.OuterRelayRoot}
		}, ErrNotConfirmed},
		{"source confirmed but the lifted block is not", 1, func(t *testing.T, f *verifyFixture) {
			clear(f.anchors)
			f.anchors.confirm(&f.proof.Source)
		}, ErrNotConfirmed},
		{"tampered source header (another block)", 0, func(t *testing.T, f *verifyFixture) { f.proof.Source.Round++ }, ErrNotConfirmed},
		{"consumed", 0, func(t *testing.T, f *verifyFixture) { f.consumed[f.msg.ID()] = true }, ErrConsumed},
		{"consumed, with lifts", 2, func(t *testing.T, f *verifyFixture) { f.consumed[f.msg.ID()] = true }, ErrConsumed},
	}
	sentinels := []error{ErrInvalid, ErrNotConfirmed, ErrConsumed}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, chainA, chainB, 0)
			if tc.lifts > 0 {
				f = newFixture(t, chainC, chainA, tc.lifts)
			}
			if err := f.verify(t); err != nil {
				t.Fatalf("fixture does not verify: %v", err)
			}
			tc.edit(t, f)
			err := f.verify(t)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			for _, s := range sentinels {
				if s != tc.want && errors.Is(err, s) {
					t.Fatalf("error %v also wraps %v", err, s)
				}
			}
		})
	}
}

// refFixture is a relay proved by reference and the verifier of its
// destination, whose anchors record the source block.
type refFixture struct {
	msg      types.Message
	ref      RefProof
	raw      []byte // when set, sent instead of the proof's encoding
	source   types.Header
	anchors  anchors
	consumed consumed
	v        Verifier
}

func newRefFixture(t *testing.T, source, dest types.ChainID) *refFixture {
	t.Helper()
	h, pkg := fixtureBlock(t, source, dest)
	f := &refFixture{msg: pkg.Message, ref: decodeRef(t, pkg.Proof), source: h, anchors: anchors{}, consumed: consumed{}}
	f.anchors.confirm(&h)
	f.v = Verifier{Chain: dest, Topology: testTopology(t), Anchors: f.anchors, Consumed: f.consumed}
	return f
}

func (f *refFixture) verify(t *testing.T) error {
	t.Helper()
	raw := f.raw
	if raw == nil {
		raw = encodeProof(t, &f.ref)
	}
	return f.v.VerifyRelay(&f.msg, raw)
}

func TestVerifyRefAccepts(t *testing.T) {
	cases := []struct {
		name         string
		source, dest types.ChainID
	}{
		{"top-level source to a sub-chain (the root records it)", chainA, chainB},
		{"sub-chain to its sibling (the coordinator records it)", chainB, chainC},
		{"sibling the other way", chainC, chainB},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newRefFixture(t, tc.source, tc.dest)
			if f.ref.Chain != tc.source || f.ref.Height != f.source.Height {
				t.Fatalf("reference to chain %d height %d, want the source block", f.ref.Chain, f.ref.Height)
			}
			if err := f.verify(t); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerifyRefRejects(t *testing.T) {
	cases := []struct {
		name string
		edit func(t *testing.T, f *refFixture)
		want error
	}{
		{"not recorded", func(t *testing.T, f *refFixture) { f.anchors.forget(&f.source) }, ErrNotConfirmed},
		{"another height named", func(t *testing.T, f *refFixture) { f.ref.Height++ }, ErrNotConfirmed},
		{"recorded under another chain only", func(t *testing.T, f *refFixture) {
			f.anchors.forget(&f.source)
			f.anchors[chainHeight{chainC, f.source.Height}] = Anchor{Hash: f.source.Hash(), OuterRelayRoot: f.source.OuterRelayRoot}
		}, ErrNotConfirmed},
		{"wrong recorded relay root", func(t *testing.T, f *refFixture) {
			an := f.anchors[chainHeight{f.ref.Chain, f.ref.Height}]
			an.OuterRelayRoot[0] ^= 1
			f.anchors[chainHeight{f.ref.Chain, f.ref.Height}] = an
		}, ErrInvalid},
		{"recorded block is empty", func(t *testing.T, f *refFixture) {
			e := types.EmptyHeader(&f.source)
			e.Height = f.source.Height
			f.anchors.confirm(&e)
		}, ErrInvalid},
		{"tampered path", func(t *testing.T, f *refFixture) { f.ref.Path.Siblings[0][3] ^= 1 }, ErrInvalid},
		{"path of another relay of the block", func(t *testing.T, f *refFixture) { f.msg = relayMsg(chainA, chainB, 3) }, ErrInvalid},
		{"tampered message", func(t *testing.T, f *refFixture) { f.msg.Value++ }, ErrInvalid},
		{"wrong kind", func(t *testing.T, f *refFixture) { f.msg.Kind = types.MessageInterRelay }, ErrInvalid},
		{"source chain differs from the reference's", func(t *testing.T, f *refFixture) { f.ref.Chain = chainC }, ErrInvalid},
		{"source chain is the destination", func(t *testing.T, f *refFixture) {
			f.msg.SourceChain, f.ref.Chain = chainB, chainB
		}, ErrInvalid},
		{"source chain is a coordinator", func(t *testing.T, f *refFixture) {
			f.msg.SourceChain, f.ref.Chain = coord, coord
		}, ErrInvalid},
		{"recipient on another chain", func(t *testing.T, f *refFixture) { f.v.Chain = chainC }, ErrInvalid},
		{"malformed proof", func(t *testing.T, f *refFixture) { f.raw = encodeProof(t, &f.ref)[:20] }, ErrInvalid},
		{"proof with trailing byte", func(t *testing.T, f *refFixture) { f.raw = append(encodeProof(t, &f.ref), 0) }, ErrInvalid},
		{"consumed", func(t *testing.T, f *refFixture) { f.consumed[f.msg.ID()] = true }, ErrConsumed},
	}
	sentinels := []error{ErrInvalid, ErrNotConfirmed, ErrConsumed}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newRefFixture(t, chainA, chainB)
			if err := f.verify(t); err != nil {
				t.Fatalf("fixture does not verify: %v", err)
			}
			tc.edit(t, f)
			err := f.verify(t)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			for _, s := range sentinels {
				if s != tc.want && errors.Is(err, s) {
					t.Fatalf("error %v also wraps %v", err, s)
				}
			}
		})
	}
}

// TestTrusted: the verifier of decided blocks accepts both forms with no
// recorder view, still refuses what needs none (addressing, a full
// proof's paths), and checks the consumed set when given one.
func TestTrusted(t *testing.T) {
	ref := newRefFixture(t, chainA, chainB)
	full := newFixture(t, chainC, chainA, 1)
	topo := testTopology(t)
	refRaw, fullRaw := encodeProof(t, &ref.ref), encodeProof(t, &full.proof)
	for name, tr := range map[string]Trusted{
		"without consumed set": {Chain: chainB, Topology: topo},
		"with consumed set":    {Chain: chainB, Topology: topo, Consumed: consumed{}},
	} {
		if err := tr.VerifyRelay(&ref.msg, refRaw); err != nil {
			t.Fatalf("%s: reference: %v", name, err)
		}
		tr.Chain = chainA
		if err := tr.VerifyRelay(&full.msg, fullRaw); err != nil {
			t.Fatalf("%s: full form: %v", name, err)
		}
	}
	tr := Trusted{Chain: chainA, Topology: topo}
	bad := full.proof
	bad.Lifts = slices.Clone(bad.Lifts)
	bad.Lifts[0].Path.Siblings = slices.Clone(bad.Lifts[0].Path.Siblings)
	bad.Lifts[0].Path.Siblings[0][0] ^= 1
	if err := tr.VerifyRelay(&full.msg, encodeProof(t, &bad)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("full proof with a broken lift: %v, want ErrInvalid", err)
	}
	tr.Chain = chainC
	if err := tr.VerifyRelay(&ref.msg, refRaw); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reference to another chain's account: %v, want ErrInvalid", err)
	}
	if err := tr.VerifyRelay(&ref.msg, refRaw[:10]); !errors.Is(err, ErrInvalid) {
		t.Fatalf("malformed reference: %v, want ErrInvalid", err)
	}
	used := Trusted{Chain: chainB, Topology: topo, Consumed: consumed{ref.msg.ID(): true}}
	if err := used.VerifyRelay(&ref.msg, refRaw); !errors.Is(err, ErrConsumed) {
		t.Fatalf("consumed relay: %v, want ErrConsumed", err)
	}
	if err := (Trusted{Chain: chainB}).VerifyRelay(&ref.msg, refRaw); err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("no topology: %v, want a configuration error", err)
	}
}

func TestVerifyRelayNotConfigured(t *testing.T) {
	f := newFixture(t, chainA, chainB, 0)
	for name, v := range map[string]Verifier{
		"no topology": {Chain: chainB, Anchors: f.anchors, Consumed: f.consumed},
		"no anchors":  {Chain: chainB, Topology: f.v.Topology, Consumed: f.consumed},
		"no consumed": {Chain: chainB, Topology: f.v.Topology, Anchors: f.anchors},
	} {
		f.v = v
		err := f.verify(t)
		if err == nil || errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotConfirmed) || errors.Is(err, ErrConsumed) {
			t.Fatalf("%s: error %v, want a configuration error wrapping no sentinel", name, err)
		}
	}
}

// findAddress returns a key whose account is on chain c of the test
// topology.
func findAddress(t *testing.T, c types.ChainID) ed25519.PrivateKey {
	t.Helper()
	topo := testTopology(t)
	seed := make([]byte, ed25519.SeedSize)
	for i := range 1000 {
		seed[0], seed[1] = byte(i), byte(i>>8)
		priv, err := ed25519.NewKeyFromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		if topo.OwnerOf(actor.AddressFromPublicKey(priv.Public())) == c {
			return priv
		}
	}
	t.Fatalf("no key on chain %d", c)
	return ed25519.PrivateKey{}
}

// TestVerifierInExec runs a transfer across chains through exec: the
// source block's Outbox package is included by the destination's Execute,
// and exec's BlockError lets errors.Is find the relay sentinels.
func TestVerifierInExec(t *testing.T) {
	topo := testTopology(t)
	alice := findAddress(t, chainA)
	aliceAddr := actor.AddressFromPublicKey(alice.Public())
	bob := addrOn(chainB, 7)
	specA, _ := topo.Spec(chainA, exec.Limits{})
	specB, _ := topo.Spec(chainB, exec.Limits{})

	stateA, err := exec.NewMemState([]actor.Account{{Address: aliceAddr, Balance: 100}})
	if err != nil {
		t.Fatal(err)
	}
	resA, err := exec.Execute(stateA, specA, []exec.Input{{Message: actor.NewTransfer(alice, 0, bob, 30)}}, exec.Env{})
	if err != nil {
		t.Fatal(err)
	}
	header := types.Header{Version: types.HeaderVersion, ChainID: chainA, Height: 1, ParentHash: types.Hash{1}}
	resA.Roots.SetHeader(&header)
	pkgs := outbox(t, &header, &resA.Body, topo)
	if len(pkgs) != 1 || pkgs[0].Dest != chainB {
		t.Fatalf("outbox %+v, want one package for chain %d", pkgs, chainB)
	}

	stateB, err := exec.NewMemState(nil)
	if err != nil {
		t.Fatal(err)
	}
	anc, used := anchors{}, consumed{}
	v := Verifier{Chain: chainB, Topology: topo, Anchors: anc, Consumed: used}
	inputs := []exec.Input{pkgs[0].Package.Input()}

	res, err := exec.Execute(stateB, specB, inputs, exec.Env{Relays: v})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Receipts[0]; r.Included || !errors.Is(r.Reason, ErrNotConfirmed) || !errors.Is(r.Reason, exec.ErrBadRelayProof) {
		t.Fatalf("unconfirmed relay: receipt %+v, want left out with ErrNotConfirmed", r)
	}

	anc.confirm(&header)
	res, err = exec.Execute(stateB, specB, inputs, exec.Env{Relays: v})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Receipts[0]; !r.Included {
		t.Fatalf("confirmed relay left out: %v", r.Reason)
	}
	if len(res.WriteSet) != 1 || res.WriteSet[0].Address != bob || res.WriteSet[0].Balance != 30 {
		t.Fatalf("write set %+v, want bob with 30", res.WriteSet)
	}
	if _, err := exec.Check(stateB, specB, &res.Body, exec.Env{Relays: v}); err != nil {
		t.Fatalf("check: %v", err)
	}

	clear(anc)
	if _, err := exec.Check(stateB, specB, &res.Body, exec.Env{Relays: v}); !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("check with the source unknown: %v, want ErrNotConfirmed", err)
	}
	anc.confirm(&header)
	used[pkgs[0].Package.Message.ID()] = true
	_, err = exec.Check(stateB, specB, &res.Body, exec.Env{Relays: v})
	var be *exec.BlockError
	if !errors.Is(err, ErrConsumed) || !errors.As(err, &be) || be.Reason != exec.ErrBadRelayProof {
		t.Fatalf("check of a consumed relay: %v, want a BlockError with ErrConsumed", err)
	}
}
