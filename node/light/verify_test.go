package light

import (
	"errors"
	"testing"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/types"
)

func TestVerifyHeaderAccepts(t *testing.T) {
	w := newWorld(t)
	prepare := w.rootProof()
	prepare.RootCertificate = w.certify(t, &w.root, types.VotePrepare, 0, 1, 2, 3)
	cases := []struct {
		name  string
		proof HeaderProof
	}{
		{"root header, no lift", w.rootProof()},
		{"transaction header, one lift", w.txProof(t)},
		{"EMPTY transaction header, one lift", w.emptyProof(t)},
		{"sub-chain header, two lifts through its coordinator", w.subProof(t)},
		{"coordinator header, one lift", HeaderProof{
			Header:          w.coord,
			Lifts:           []relay.Lift{{Recorder: w.root, Path: proveRecord(t, &w.rootBody, &w.coord)}},
			RootCertificate: w.cert,
		}},
		{"prepare certificate of all members", prepare},
		{"confirm certificate of all members", HeaderProof{Header: w.root, RootCertificate: w.certify(t, &w.root, types.VoteConfirm, 0, 1, 2, 3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := VerifyHeader(&c.proof, w.pubs); err != nil {
				t.Fatalf("without topology: %v", err)
			}
			if err := (Verifier{RootKeys: w.pubs, Topology: w.topo}).VerifyHeader(&c.proof); err != nil {
				t.Fatalf("with topology: %v", err)
			}
			dec, err := DecodeHeaderProof(mustEncode(t, &c.proof))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if err := VerifyHeader(&dec, w.pubs); err != nil {
				t.Fatalf("decoded proof: %v", err)
			}
		})
	}
}

func TestVerifyHeaderRejects(t *testing.T) {
	w := newWorld(t)
	_, otherKeys := rootKeys(t, 0x77, rootCommittee)
	_, fiveKeys := rootKeys(t, 0x5a, rootCommittee+1) // the same four and one more

	otherRoot := header(0, 41, 0x41)
	otherRoot.InputRoot = w.root.InputRoot
	emptyRoot := types.EmptyHeader(&w.root)

	cases := []struct {
		name   string
		keys   []*bls.PublicKey
		tamper func(p *HeaderProof)
		want   error
	}{
		{"wrong root key set", otherKeys, nil, ErrSignature},
		{"root key set of another size", fiveKeys, nil, ErrCertificate},
		{"too few signers", nil, func(p *HeaderProof) {
			p.RootCertificate = w.certify(t, &w.root, types.VoteConfirm, 0, 1)
		}, ErrCertificate},
		{"prepare certificate of a quorum only", nil, func(p *HeaderProof) {
			p.RootCertificate = w.certify(t, &w.root, types.VotePrepare, 0, 1, 2)
		}, ErrCertificate},
		{"certificate for another block", nil, func(p *HeaderProof) {
			c := w.cert
			c.BlockHash = otherRoot.Hash()
			p.RootCertificate = signCert(t, c, w.keys, rootCommittee, 0, 1, 2)
		}, ErrCertificate},
		{"certificate for another height", nil, func(p *HeaderProof) {
			c := w.cert
			c.Height++
			p.RootCertificate = signCert(t, c, w.keys, rootCommittee, 0, 1, 2)
		}, ErrCertificate},
		{"certificate for another chain", nil, func(p *HeaderProof) {
			c := w.cert
			c.ChainID = 1
			p.RootCertificate = signCert(t, c, w.keys, rootCommittee, 0, 1, 2)
		}, ErrCertificate},
		{"signature of other signers than the set names", nil, func(p *HeaderProof) {
			good := w.certify(t, &w.root, types.VoteConfirm, 1, 2, 3)
			p.RootCertificate.AggregateSignature = good.AggregateSignature
		}, ErrSignature},
		{"signature over another round", nil, func(p *HeaderProof) {
			c := w.cert
			c.Round++
			c = signCert(t, c, w.keys, rootCommittee, 0, 1, 2)
			p.RootCertificate.AggregateSignature = c.AggregateSignature
		}, ErrSignature},
		{"signature that is no curve point", nil, func(p *HeaderProof) {
			p.RootCertificate.AggregateSignature[5] ^= 0xff
		}, ErrSignature},
		{"tampered lift path", nil, func(p *HeaderProof) {
			p.Lifts[0].Path.Siblings[0][0] ^= 1
		}, ErrLift},
		{"lift path of another record", nil, func(p *HeaderProof) {
			p.Lifts[0].Path = proveRecord(t, &w.rootBody, &w.empty)
		}, ErrLift},
		{"tampered proven header", nil, func(p *HeaderProof) {
			p.Header.StateRoot[0] ^= 1
		}, ErrLift},
		{"tampered recorder header", nil, func(p *HeaderProof) {
			p.Lifts[0].Recorder.InputRoot[0] ^= 1
		}, ErrLift},
		{"root header tampered together with its certificate", nil, func(p *HeaderProof) {
			p.Lifts[0].Recorder.StateRoot[0] ^= 1
			p.RootCertificate.BlockHash = p.Lifts[0].Recorder.Hash()
		}, ErrSignature},
		{"last recorder not root", nil, func(p *HeaderProof) {
			p.Header, p.Lifts = w.sub, p.Lifts[:0]
			p.Lifts = append(p.Lifts, relay.Lift{Recorder: w.coord, Path: proveRecord(t, &w.coordBody, &w.sub)})
		}, ErrNotRoot},
		{"transaction header without lift", nil, func(p *HeaderProof) {
			p.Lifts = nil
		}, ErrNotRoot},
		{"lift above the root header", nil, func(p *HeaderProof) {
			p.Header, p.Lifts = w.root, []relay.Lift{{Recorder: otherRoot, Path: merkle.Proof{LeafCount: 1}}}
		}, ErrLift},
		{"EMPTY root header", nil, func(p *HeaderProof) {
			p.Header, p.Lifts = emptyRoot, nil
			p.RootCertificate = signCert(t, types.Certificate{ChainID: 0, Height: emptyRoot.Height, Kind: types.VoteConfirm}, w.keys, rootCommittee, 0, 1, 2)
		}, ErrCertificate},
		{"too many lifts", nil, func(p *HeaderProof) {
			for len(p.Lifts) <= relay.MaxLifts {
				p.Lifts = append(p.Lifts, p.Lifts[0])
			}
		}, ErrMalformed},
		{"header of an unknown version", nil, func(p *HeaderProof) {
			p.Header.Version = 2
		}, ErrMalformed},
		{"header without parent", nil, func(p *HeaderProof) {
			p.Header.ParentHash = types.Hash{}
		}, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := w.txProof(t).clone()
			if c.tamper != nil {
				c.tamper(&p)
			}
			keys := c.keys
			if keys == nil {
				keys = w.pubs
			}
			err := VerifyHeader(&p, keys)
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, c.want) {
				t.Fatalf("error %v, want one wrapping ErrInvalid and %v", err, c.want)
			}
		})
	}
}

// TestTopologyChecksRecorders shows what a light client without the
// topology cannot check: a root block that records a sub-chain's header
// directly, skipping its coordinator. Only a root committee that broke
// its own rules signs such a block.
func TestTopologyChecksRecorders(t *testing.T) {
	w := newWorld(t)
	shortcut := header(0, 41, 0x41)
	body, root := recorderBody(w.sub)
	shortcut.InputRoot = root
	p := HeaderProof{
		Header:          w.sub,
		Lifts:           []relay.Lift{{Recorder: shortcut, Path: proveRecord(t, &body, &w.sub)}},
		RootCertificate: w.certify(t, &shortcut, types.VoteConfirm, 0, 1, 2),
	}
	if err := VerifyHeader(&p, w.pubs); err != nil {
		t.Fatalf("without topology: %v", err)
	}
	err := (Verifier{RootKeys: w.pubs, Topology: w.topo}).VerifyHeader(&p)
	if !errors.Is(err, ErrLift) {
		t.Fatalf("with topology: error %v, want ErrLift", err)
	}

	unknown := w.rootProof()
	unknown.Header = header(9, 1, 0x90)
	unknown.Lifts = []relay.Lift{{Recorder: w.root, Path: proveRecord(t, &w.rootBody, &w.tx)}}
	if err := (Verifier{RootKeys: w.pubs, Topology: w.topo}).VerifyHeader(&unknown); !errors.Is(err, ErrLift) {
		t.Fatalf("chain outside the topology: error %v, want ErrLift", err)
	}
}

func TestVerifierNeedsKeys(t *testing.T) {
	w := newWorld(t)
	p := w.rootProof()
	for name, keys := range map[string][]*bls.PublicKey{
		"no keys":   nil,
		"a nil key": {w.pubs[0], nil, w.pubs[2], w.pubs[3]},
	} {
		err := VerifyHeader(&p, keys)
		if !errors.Is(err, ErrNoRootKeys) || errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want ErrNoRootKeys alone", name, err)
		}
	}
	if err := VerifyHeader(nil, w.pubs); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil proof: error %v, want ErrMalformed", err)
	}
	if _, err := VerifyAccount(nil, w.pubs); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil account proof: error %v, want ErrMalformed", err)
	}
	if err := VerifyRelay(nil, w.pubs); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil relay proof: error %v, want ErrMalformed", err)
	}
}

func TestVerifyAccountAccepts(t *testing.T) {
	w := newWorld(t)
	for i := range 3 { // the fourth is foreign to chain 1
		p := w.accountProof(t, i)
		for _, v := range []Verifier{{RootKeys: w.pubs}, {RootKeys: w.pubs, Topology: w.topo}} {
			got, err := v.VerifyAccount(&p)
			if err != nil {
				t.Fatalf("account %d (topology %v): %v", i, v.Topology != nil, err)
			}
			if !got.Equal(&w.accounts[i]) {
				t.Fatalf("account %d: verified %+v, want %+v", i, got, w.accounts[i])
			}
		}
		// The account returned shares no memory with the proof.
		got, _ := VerifyAccount(&p, w.pubs)
		clear(p.Account)
		if !got.Equal(&w.accounts[i]) {
			t.Fatalf("account %d changed with the proof's bytes", i)
		}
	}
}

func TestVerifyAccountRejects(t *testing.T) {
	w := newWorld(t)
	reencode := func(t *testing.T, p *AccountProof, change func(a *actor.Account)) {
		a, err := actor.DecodeAccount(p.Account)
		if err != nil {
			t.Fatal(err)
		}
		a = a.Clone()
		change(&a)
		p.Account = mustEncode(t, &a)
	}
	cases := []struct {
		name     string
		account  int
		topology bool
		tamper   func(t *testing.T, p *AccountProof)
		want     error
	}{
		{"tampered balance", 0, false, func(t *testing.T, p *AccountProof) {
			reencode(t, p, func(a *actor.Account) { a.Balance++ })
		}, ErrAccount},
		{"tampered nonce", 1, false, func(t *testing.T, p *AccountProof) {
			reencode(t, p, func(a *actor.Account) { a.Nonce = 0 })
		}, ErrAccount},
		{"another account's state", 0, false, func(t *testing.T, p *AccountProof) {
			p.Account = mustEncode(t, &w.accounts[2])
		}, ErrAccount},
		{"account that does not decode", 0, false, func(_ *testing.T, p *AccountProof) {
			p.Account = p.Account[:10]
		}, ErrAccount},
		{"tampered path", 2, false, func(_ *testing.T, p *AccountProof) {
			p.Path.Siblings[0][3] ^= 1
		}, ErrAccount},
		{"path of another leaf", 0, false, func(t *testing.T, p *AccountProof) {
			p.Path = w.accountProof(t, 1).Path
		}, ErrAccount},
		{"block of the root chain", 0, false, func(_ *testing.T, p *AccountProof) {
			p.Block = w.rootProof()
		}, ErrAccount},
		{"block of a coordinator", 0, true, func(t *testing.T, p *AccountProof) {
			p.Block = HeaderProof{
				Header:          w.coord,
				Lifts:           []relay.Lift{{Recorder: w.root, Path: proveRecord(t, &w.rootBody, &w.coord)}},
				RootCertificate: w.cert,
			}
		}, ErrAccount},
		{"account of another chain", 3, true, nil, ErrAccount},
		{"block proof that fails", 0, false, func(_ *testing.T, p *AccountProof) {
			p.Block.Lifts[0].Path.Siblings[0][0] ^= 1
		}, ErrLift},
		{"certificate of too few signers", 0, false, func(t *testing.T, p *AccountProof) {
			p.Block.RootCertificate = w.certify(t, &w.root, types.VoteConfirm, 3)
		}, ErrCertificate},
		{"bad root signature", 0, false, func(_ *testing.T, p *AccountProof) {
			p.Block.RootCertificate.Round++
		}, ErrSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := w.accountProof(t, c.account)
			p.Block = p.Block.clone()
			if c.tamper != nil {
				c.tamper(t, &p)
			}
			v := Verifier{RootKeys: w.pubs}
			if c.topology {
				v.Topology = w.topo
			}
			_, err := v.VerifyAccount(&p)
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, c.want) {
				t.Fatalf("error %v, want one wrapping ErrInvalid and %v", err, c.want)
			}
		})
	}
	// Without the topology, the foreign account verifies: the state root
	// commits to it, and only the topology says it should not be there.
	p := w.accountProof(t, 3)
	if _, err := VerifyAccount(&p, w.pubs); err != nil {
		t.Fatalf("foreign account without topology: %v", err)
	}
}

func TestVerifyRelay(t *testing.T) {
	w := newWorld(t)
	for _, first := range []byte{0x90, 0xd0} {
		p := w.relayProof(t, w.relayTo(t, first))
		if err := VerifyRelay(&p, w.pubs); err != nil {
			t.Fatalf("relay to %x: %v", first, err)
		}
		if err := (Verifier{RootKeys: w.pubs, Topology: w.topo}).VerifyRelay(&p); err != nil {
			t.Fatalf("relay to %x with topology: %v", first, err)
		}
	}

	cases := []struct {
		name     string
		to       byte
		topology bool
		tamper   func(t *testing.T, p *RelayProof)
		want     error
	}{
		{"tampered value", 0x90, false, func(_ *testing.T, p *RelayProof) { p.Message.Value++ }, ErrRelay},
		{"tampered recipient", 0x90, false, func(_ *testing.T, p *RelayProof) { p.Message.To[19] ^= 1 }, ErrRelay},
		{"tampered path", 0xd0, false, func(_ *testing.T, p *RelayProof) { p.Path.Siblings[0][0] ^= 1 }, ErrRelay},
		{"path of another relay", 0x90, false, func(t *testing.T, p *RelayProof) {
			p.Path = w.relayProof(t, w.relayTo(t, 0xd0)).Path
		}, ErrRelay},
		{"EMPTY header", 0x90, false, func(t *testing.T, p *RelayProof) {
			p.Block = w.emptyProof(t)
		}, ErrRelay},
		{"inter-relay message", 0x90, false, func(_ *testing.T, p *RelayProof) {
			p.Message.Kind = types.MessageInterRelay
		}, ErrRelay},
		{"message of another source chain", 0x90, false, func(_ *testing.T, p *RelayProof) {
			p.Message.SourceChain = 3
		}, ErrRelay},
		{"header of another chain", 0x90, false, func(t *testing.T, p *RelayProof) {
			p.Block = w.subProof(t)
		}, ErrRelay},
		{"recipient on the source chain", 0x10, true, nil, ErrRelay},
		{"source is a coordinator", 0x90, true, func(t *testing.T, p *RelayProof) {
			p.Message.SourceChain = 2
			p.Block = HeaderProof{
				Header:          w.coord,
				Lifts:           []relay.Lift{{Recorder: w.root, Path: proveRecord(t, &w.rootBody, &w.coord)}},
				RootCertificate: w.cert,
			}
		}, ErrRelay},
		{"block proof that fails", 0x90, false, func(_ *testing.T, p *RelayProof) {
			p.Block.Header.OuterRelayRoot[0] ^= 1
		}, ErrLift},
		{"wrong root key set", 0x90, false, func(t *testing.T, p *RelayProof) {
			_, other := rootKeys(t, 0x77, rootCommittee)
			if err := VerifyRelay(p, other); !errors.Is(err, ErrSignature) {
				t.Fatalf("other keys: error %v, want ErrSignature", err)
			}
			p.Block.RootCertificate.AggregateSignature[0] ^= 1
		}, ErrSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := w.relayProof(t, w.relayTo(t, c.to))
			p.Block = p.Block.clone()
			if c.tamper != nil {
				c.tamper(t, &p)
			}
			v := Verifier{RootKeys: w.pubs}
			if c.topology {
				v.Topology = w.topo
			}
			err := v.VerifyRelay(&p)
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, c.want) {
				t.Fatalf("error %v, want one wrapping ErrInvalid and %v", err, c.want)
			}
		})
	}
	// Without the topology the relay to chain 1 itself verifies: the block
	// commits to it.
	p := w.relayProof(t, w.relayTo(t, 0x10))
	if err := VerifyRelay(&p, w.pubs); err != nil {
		t.Fatalf("relay to the source chain without topology: %v", err)
	}
}
