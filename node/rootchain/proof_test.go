package rootchain

import (
	"errors"
	"testing"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/types"
)

func TestRecordProofs(t *testing.T) {
	f := newFixture(t)
	for i := range f.body.Records {
		h := f.rec(i).Header
		at, ok := f.body.Find(h.ChainID, h.Height)
		if !ok || at != i {
			t.Fatalf("Find(%d, %d) = %d, %v", h.ChainID, h.Height, at, ok)
		}
		p, err := ProveRecord(&f.body, h.ChainID, h.Height)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyRecordProof(&f.header, &h, p); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		// The proof survives its encoding.
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if p2, err := merkle.UnmarshalProof(enc); err != nil || VerifyRecordProof(&f.header, &h, p2) != nil {
			t.Fatalf("decoded proof: %v", err)
		}
	}

	h := f.rec(2).Header
	p, err := ProveRecord(&f.body, h.ChainID, h.Height)
	if err != nil {
		t.Fatal(err)
	}
	tampered := []struct {
		name     string
		recorder types.Header
		child    types.Header
		proof    merkle.Proof
	}{
		{"child header changed", f.header, func() types.Header { c := h; c.StateRoot[0] ^= 1; return c }(), p},
		{"child height changed", f.header, func() types.Header { c := h; c.Height++; return c }(), p},
		{"record of another block", f.header, f.rec(3).Header, p},
		{"sibling changed", f.header, h, func() merkle.Proof {
			q := merkle.Proof{Index: p.Index, LeafCount: p.LeafCount, Siblings: append([]types.Hash(nil), p.Siblings...)}
			q.Siblings[0][0] ^= 1
			return q
		}()},
		{"other record root", func() types.Header { r := f.header; r.InputRoot[0] ^= 1; return r }(), h, p},
		{"EMPTY recorder block", types.EmptyHeader(&f.header), h, p},
		{"recorder records itself", f.header, func() types.Header { c := h; c.ChainID = f.header.ChainID; return c }(), p},
	}
	for _, tt := range tampered {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifyRecordProof(&tt.recorder, &tt.child, tt.proof); !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
		})
	}
	if err := VerifyRecordProof(nil, &h, p); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nil recorder: %v", err)
	}

	if _, ok := f.body.Find(3, 1); ok {
		t.Fatal("Find of an absent record")
	}
	if _, err := ProveRecord(&f.body, 3, 1); err == nil {
		t.Fatal("proof of an absent record")
	}
	if _, err := ProveRecord(&Body{}, 1, 1); err == nil {
		t.Fatal("proof in an empty body")
	}
}
