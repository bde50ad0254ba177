package consensus

import (
	"errors"
	"testing"

	"github.com/thinkey/thinkey/node/types"
)

func TestCheckDecisionCertificate(t *testing.T) {
	block := types.Hash{7}
	var zero types.Hash
	cases := []struct {
		name string
		cert func() *types.Certificate
		n    int
		ok   bool
	}{
		{"confirm quorum", func() *types.Certificate { c := sampleCertificate(4, 3, 5, 0, types.VoteConfirm, block); return &c }, 4, true},
		{"confirm of EMPTY", func() *types.Certificate { c := sampleCertificate(4, 3, 5, 1, types.VoteConfirm, zero); return &c }, 4, true},
		{"confirm below quorum", func() *types.Certificate { c := sampleCertificate(4, 2, 5, 0, types.VoteConfirm, block); return &c }, 4, false},
		{"fast prepare of all", func() *types.Certificate { c := sampleCertificate(4, 4, 5, 0, types.VotePrepare, block); return &c }, 4, true},
		{"prepare of a quorum only", func() *types.Certificate { c := sampleCertificate(4, 3, 5, 0, types.VotePrepare, block); return &c }, 4, false},
		{"fast leader faulty of all", func() *types.Certificate { c := sampleCertificate(4, 4, 5, 0, types.VoteLeaderFaulty, zero); return &c }, 4, true},
		{"committee size differs", func() *types.Certificate { c := sampleCertificate(7, 5, 5, 0, types.VoteConfirm, block); return &c }, 4, false},
		{"zero committee", func() *types.Certificate { c := sampleCertificate(4, 3, 5, 0, types.VoteConfirm, block); return &c }, 0, false},
		{"missing", func() *types.Certificate { return nil }, 4, false},
		{"unsigned", func() *types.Certificate {
			c := sampleCertificate(4, 3, 5, 0, types.VoteConfirm, block)
			c.AggregateSignature = [types.BLSSignatureSize]byte{}
			return &c
		}, 4, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckDecisionCertificate(tc.cert(), tc.n)
			if tc.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}
