package light

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/types"
)

func drawHash(t *rapid.T, label string) types.Hash {
	var h types.Hash
	copy(h[:], rapid.SliceOfN(rapid.Byte(), len(h), len(h)).Draw(t, label))
	return h
}

func drawHeader(t *rapid.T) types.Header {
	return types.Header{
		Version:         types.HeaderVersion,
		ChainID:         types.ChainID(rapid.Uint32().Draw(t, "chain")),
		Height:          types.Height(rapid.Uint64().Draw(t, "height")),
		Round:           types.Round(rapid.Uint32().Draw(t, "round")),
		ParentHash:      drawHash(t, "parent"),
		InputRoot:       drawHash(t, "input"),
		StateRoot:       drawHash(t, "state"),
		TimestampMillis: rapid.Uint64().Draw(t, "time"),
		Empty:           rapid.Bool().Draw(t, "empty"),
	}
}

func drawPath(t *rapid.T) merkle.Proof {
	n := rapid.Uint64Range(1, 1<<40).Draw(t, "leaves")
	i := rapid.Uint64Range(0, n-1).Draw(t, "index")
	k, err := merkle.SiblingCount(i, n)
	if err != nil {
		t.Fatalf("sibling count: %v", err)
	}
	p := merkle.Proof{Index: i, LeafCount: n, Siblings: make([]types.Hash, k)}
	for j := range p.Siblings {
		p.Siblings[j][0], p.Siblings[j][31] = byte(j), rapid.Byte().Draw(t, "sibling")
	}
	return p
}

func drawHeaderProof(t *rapid.T) HeaderProof {
	p := HeaderProof{Header: drawHeader(t)}
	for range rapid.IntRange(0, relay.MaxLifts).Draw(t, "lifts") {
		p.Lifts = append(p.Lifts, relay.Lift{Recorder: drawHeader(t), Path: drawPath(t)})
	}
	n := rapid.IntRange(1, types.MaxCommitteeSize).Draw(t, "committee")
	set, err := types.NewSignerSet(n)
	if err != nil {
		t.Fatalf("signer set: %v", err)
	}
	for _, i := range rapid.SliceOfN(rapid.IntRange(0, n-1), 0, 16).Draw(t, "signers") {
		_ = set.Add(types.ValidatorIndex(i))
	}
	p.RootCertificate = types.Certificate{
		Height: types.Height(rapid.Uint64().Draw(t, "cert height")), Kind: types.VoteKind(rapid.IntRange(1, 3).Draw(t, "kind")),
		BlockHash: drawHash(t, "block"), Signers: set,
	}
	copy(p.RootCertificate.AggregateSignature[:], rapid.SliceOfN(rapid.Byte(), types.BLSSignatureSize, types.BLSSignatureSize).Draw(t, "sig"))
	return p
}

// Every header proof that encodes decodes to a value that re-encodes to
// the same bytes, and EncodedLen is the encoding's length.
func TestPropertyHeaderProofRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := drawHeaderProof(t)
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if len(enc) != p.EncodedLen() {
			t.Fatalf("%d bytes, EncodedLen %d", len(enc), p.EncodedLen())
		}
		dec, err := DecodeHeaderProof(enc)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if again, _ := dec.MarshalBinary(); !bytes.Equal(again, enc) {
			t.Fatal("re-encodes differently")
		}
		if dec.Header != p.Header || len(dec.Lifts) != len(p.Lifts) || dec.RootCertificate.Hash() != p.RootCertificate.Hash() {
			t.Fatal("decoded proof differs")
		}
	})
}

// A tampered proof proves nothing else: whatever byte of a valid encoding
// is changed, the result fails to decode, fails to verify, or proves the
// very same facts (a path's index and leaf count can be relabelled, see
// crypto/merkle, without changing what it proves).
func TestPropertyTamperProvesNothingElse(t *testing.T) {
	w := newWorld(t)
	sub, acct, rel := w.subProof(t), w.accountProof(t, 1), w.relayProof(t, 0)
	type facts struct {
		header  types.Hash
		subject []byte // the account encoding or the message ID
	}
	targets := []struct {
		name  string
		enc   []byte
		prove func([]byte) (facts, bool)
	}{
		{"header", mustEncode(t, &sub), func(b []byte) (facts, bool) {
			p, err := DecodeHeaderProof(b)
			if err != nil || VerifyHeader(&p, w.pubs) != nil {
				return facts{}, false
			}
			return facts{header: p.Header.Hash()}, true
		}},
		{"account", mustEncode(t, &acct), func(b []byte) (facts, bool) {
			p, err := DecodeAccountProof(b)
			if err != nil {
				return facts{}, false
			}
			a, err := VerifyAccount(&p, w.pubs)
			if err != nil {
				return facts{}, false
			}
			return facts{header: p.Block.Header.Hash(), subject: mustEncode(t, &a)}, true
		}},
		{"relay", mustEncode(t, &rel), func(b []byte) (facts, bool) {
			p, err := DecodeRelayProof(b)
			if err != nil || VerifyRelay(&p, w.pubs) != nil {
				return facts{}, false
			}
			id := p.Message.ID()
			return facts{header: p.Block.Header.Hash(), subject: id[:]}, true
		}},
	}
	for _, target := range targets {
		want, ok := target.prove(target.enc)
		if !ok {
			t.Fatalf("%s: the untampered proof does not verify", target.name)
		}
		t.Run(target.name, func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				at := rapid.IntRange(0, len(target.enc)-1).Draw(rt, "at")
				mask := rapid.ByteRange(1, 255).Draw(rt, "mask")
				b := bytes.Clone(target.enc)
				b[at] ^= mask
				got, ok := target.prove(b)
				if ok && (got.header != want.header || !bytes.Equal(got.subject, want.subject)) {
					rt.Fatalf("byte %d ^ %#x: the proof verifies and proves something else", at, mask)
				}
			})
		})
	}
}

// A confirm certificate verifies exactly when a quorum of the root
// committee signed it.
func TestPropertyQuorumOfSigners(t *testing.T) {
	w := newWorld(t)
	msg := w.cert.VoteSigningBytes()
	sigs := make([][types.BLSSignatureSize]byte, rootCommittee)
	for i, k := range w.keys {
		sigs[i] = consensus.BLSSigner{Key: k}.Sign(msg)
	}
	quorum := consensus.ThresholdsFor(rootCommittee).Quorum
	rapid.Check(t, func(t *rapid.T) {
		members := rapid.SliceOfNDistinct(rapid.IntRange(0, rootCommittee-1), 1, rootCommittee, rapid.ID).Draw(t, "signers")
		set, _ := types.NewSignerSet(rootCommittee)
		var parts [][types.BLSSignatureSize]byte
		for _, m := range members {
			_ = set.Add(types.ValidatorIndex(m))
			parts = append(parts, sigs[m])
		}
		agg, err := (consensus.BLSAggregator{}).Aggregate(parts)
		if err != nil {
			t.Fatalf("aggregate: %v", err)
		}
		p := w.rootProof()
		p.RootCertificate.Signers, p.RootCertificate.AggregateSignature = set, agg
		err = VerifyHeader(&p, w.pubs)
		if (err == nil) != (len(members) >= quorum) {
			t.Fatalf("%d signers of %d (quorum %d): error %v", len(members), rootCommittee, quorum, err)
		}
	})
}
