package relay

import (
	"errors"
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

// newFixture builds a block of source with relays to dest and others, and
// the fixture of its relay to dest with lifts hops up to recorders (the
// parents in the test topology); the last header is confirmed.
func newFixture(t *testing.T, source, dest types.ChainID, lifts int) *verifyFixture {
	t.Helper()
	topo := testTopology(t)
	msgs := []types.Message{relayMsg(source, dest, 1), relayMsg(source, chainC, 2), relayMsg(source, dest, 3)}
	if source == chainC {
		msgs[1] = relayMsg(source, chainA, 2)
	}
	h, body := sourceBlock(source, 9, msgs)
	var f verifyFixture
	for _, a := range outbox(t, &h, &body, topo) {
		if a.Package.Message.ID() == msgs[0].ID() {
			if a.Dest != dest {
				t.Fatalf("package addressed to %d, want %d", a.Dest, dest)
			}
			f.msg = a.Package.Message
			p, err := DecodeProof(a.Package.Proof)
			if err != nil {
				t.Fatal(err)
			}
			f.proof = p
		}
	}
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
			f.anchors[anchorKey{chainC, h.Height, h.Hash()}] = true
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
