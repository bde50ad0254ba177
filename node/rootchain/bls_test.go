package rootchain

import (
	"errors"
	"testing"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// blsCommittee is a committee of real BLS keys.
type blsCommittee struct {
	keys []*bls.SecretKey
	pubs []*bls.PublicKey
}

func newBLSCommittee(t *testing.T, n int, seed byte) *blsCommittee {
	t.Helper()
	c := &blsCommittee{}
	for i := range n {
		ikm := make([]byte, 32)
		ikm[0], ikm[1] = seed, byte(i)
		sk, err := bls.GenerateKey(ikm)
		if err != nil {
			t.Fatal(err)
		}
		c.keys = append(c.keys, sk)
		c.pubs = append(c.pubs, sk.PublicKey())
	}
	return c
}

// decide returns the record of h with a certificate aggregating the
// confirm votes of signers, each signed with the key of signedBy (the
// signer's own key unless a test substitutes another).
func (c *blsCommittee) decide(t *testing.T, h types.Header, signers []types.ValidatorIndex, signedBy func(types.ValidatorIndex) *bls.SecretKey) Record {
	t.Helper()
	set, err := types.NewSignerSet(len(c.keys))
	if err != nil {
		t.Fatal(err)
	}
	cert := types.Certificate{ChainID: h.ChainID, Height: h.Height, Round: h.Round, Kind: types.VoteConfirm}
	if !h.Empty {
		cert.BlockHash = h.Hash()
	}
	var sigs [][types.BLSSignatureSize]byte
	for _, i := range signers {
		v := types.Vote{ChainID: cert.ChainID, Height: cert.Height, Round: cert.Round, Kind: cert.Kind, BlockHash: cert.BlockHash, Voter: i}
		key := c.keys[i]
		if signedBy != nil {
			key = signedBy(i)
		}
		sigs = append(sigs, consensus.BLSSigner{Key: key}.Sign(v.SigningBytes()))
		if err := set.Add(i); err != nil {
			t.Fatal(err)
		}
	}
	cert.Signers = set
	if cert.AggregateSignature, err = (consensus.BLSAggregator{}).Aggregate(sigs); err != nil {
		t.Fatal(err)
	}
	return Record{Header: h, Certificate: cert}
}

// TestBLSCommittees checks decision certificates of real 4-member
// committees through BLSCommittees, alone and inside Verify.
func TestBLSCommittees(t *testing.T) {
	topo := mustUniform(t, 2)
	g := genesisOf(topo)
	st := mustState(t, topo, types.RootChain)
	c1, c2 := newBLSCommittee(t, 4, 1), newBLSCommittee(t, 4, 2)
	committees := NewBLSCommittees(map[types.ChainID][]*bls.PublicKey{1: c1.pubs, 2: c2.pubs})
	if committees.Size(1) != 4 || committees.Size(2) != 4 || committees.Size(3) != 0 {
		t.Fatal("committee sizes")
	}

	g1, g2 := g[1], g[2]
	b1 := blockAfter(&g1, 1)
	e2 := types.EmptyHeader(&b1)
	b3 := blockAfter(&e2, 3)
	other := blockAfter(&g2, 9)
	recs := []Record{
		c1.decide(t, b1, []types.ValidatorIndex{0, 1, 2}, nil),
		c1.decide(t, e2, []types.ValidatorIndex{1, 2, 3}, nil),
		c1.decide(t, b3, []types.ValidatorIndex{0, 1, 2, 3}, nil),
		c2.decide(t, other, []types.ValidatorIndex{0, 2, 3}, nil),
	}
	for i := range recs {
		if !committees.VerifyCertificate(recs[i].Header.ChainID, &recs[i].Certificate) {
			t.Fatalf("record %d: valid certificate refused", i)
		}
	}
	res, err := Execute(st, recs, committees, Limits{})
	if err != nil || len(res.Body.Records) != 4 || len(res.Rejected) != 0 {
		t.Fatalf("execute: %v, %d records, rejected %v", err, len(res.Body.Records), res.Rejected)
	}
	header := headerFor(st, &res)
	if _, err := Verify(st, &header, &res.Body, committees); err != nil {
		t.Fatal(err)
	}

	intruder := newBLSCommittee(t, 1, 9).keys[0]
	tests := []struct {
		name  string
		chain types.ChainID
		rec   func() Record
	}{
		{"signed by the other chain's committee", 1, func() Record {
			return c2.decide(t, b1, []types.ValidatorIndex{0, 1, 2}, nil)
		}},
		{"one vote signed by a key outside the committee", 1, func() Record {
			return c1.decide(t, b1, []types.ValidatorIndex{0, 1, 2}, func(i types.ValidatorIndex) *bls.SecretKey {
				if i == 2 {
					return intruder
				}
				return c1.keys[i]
			})
		}},
		{"signer set names a member who did not sign", 1, func() Record {
			r := c1.decide(t, b1, []types.ValidatorIndex{0, 1, 2}, nil)
			set, _ := types.NewSignerSet(4)
			for _, i := range []types.ValidatorIndex{0, 1, 3} {
				_ = set.Add(i)
			}
			r.Certificate.Signers = set
			return r
		}},
		{"signature of another height", 1, func() Record {
			r := c1.decide(t, b3, []types.ValidatorIndex{0, 1, 2}, nil)
			good := c1.decide(t, b1, []types.ValidatorIndex{0, 1, 2}, nil)
			good.Certificate.AggregateSignature = r.Certificate.AggregateSignature
			return good
		}},
		{"signature bytes not a point", 1, func() Record {
			r := c1.decide(t, b1, []types.ValidatorIndex{0, 1, 2}, nil)
			r.Certificate.AggregateSignature = [types.BLSSignatureSize]byte{0xff, 1}
			return r
		}},
		{"committee of another size", 1, func() Record {
			return newBLSCommittee(t, 5, 1).decide(t, b1, []types.ValidatorIndex{0, 1, 2, 3}, nil)
		}},
		{"unknown chain", 3, func() Record {
			return c1.decide(t, b1, []types.ValidatorIndex{0, 1, 2}, nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rec()
			if committees.VerifyCertificate(tt.chain, &r.Certificate) {
				t.Fatal("certificate accepted")
			}
		})
	}

	// Inside Verify, a forged certificate is refused as a bad signature.
	forged := res.Body
	forged.Records = append([]Record(nil), res.Body.Records...)
	forged.Records[3] = c1.decide(t, other, []types.ValidatorIndex{0, 1, 2}, nil)
	if _, err := Verify(st, &header, &forged, committees); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged certificate: %v", err)
	}
	// The committees copy their input.
	keys := map[types.ChainID][]*bls.PublicKey{1: c1.pubs}
	copied := NewBLSCommittees(keys)
	keys[1][0] = c2.pubs[0]
	if !copied.VerifyCertificate(1, &recs[0].Certificate) {
		t.Fatal("BLSCommittees shares its caller's slices")
	}
}
