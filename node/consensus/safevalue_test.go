package consensus

import (
	"testing"

	"github.com/thinkey/thinkey/node/types"
)

// SafeValue's rules (docs/CONSENSUS.md, "SafeValue"), for a committee of 4
// (q = 3, t = 2) deciding round 5.
func TestSafeValueRules(t *testing.T) {
	a, b := types.Hash{0xa}, types.Hash{0xb}
	empty := types.Hash{}
	cert := func(r types.Round, v types.Hash) *types.Certificate {
		return &types.Certificate{Round: r, Kind: prepareKindFor(v), BlockHash: v}
	}
	last := func(r types.Round, v types.Hash) *types.Vote {
		return &types.Vote{Round: r, Kind: prepareKindFor(v), BlockHash: v}
	}
	rc := func(c *types.Certificate, l *types.Vote) RoundChange {
		return RoundChange{Round: 5, HighestCertificate: c, LastPrepare: l}
	}
	cases := []struct {
		name string
		just []RoundChange
		want SafeValueResult
	}{
		{"rule 4: nothing reported", []RoundChange{rc(nil, nil), rc(nil, nil), rc(nil, nil)}, SafeValueResult{Rule: SafeFree}},
		{"rule 4: reports split below t", []RoundChange{rc(nil, last(0, a)), rc(nil, last(0, b)), rc(nil, nil)}, SafeValueResult{Rule: SafeFree}},
		{"rule 2: t reports without certificate", []RoundChange{rc(nil, last(0, a)), rc(nil, last(1, a)), rc(nil, last(2, b))}, SafeValueResult{Rule: SafeByReports, Value: a}},
		{"rule 2: EMPTY reported by t", []RoundChange{rc(nil, last(0, empty)), rc(nil, last(0, empty)), rc(nil, last(0, a))}, SafeValueResult{Rule: SafeByReports, Value: empty}},
		{"rule 3: certificate, reports not above it", []RoundChange{rc(cert(2, a), last(2, a)), rc(nil, last(2, b)), rc(nil, last(1, b))}, SafeValueResult{Rule: SafeByCertificate, Value: a}},
		{"rule 3: certificate, reports above it split", []RoundChange{rc(cert(2, a), last(3, a)), rc(nil, last(3, b)), rc(nil, nil)}, SafeValueResult{Rule: SafeByCertificate, Value: a}},
		{"rule 2 over rule 3: t reports above the certificate", []RoundChange{rc(cert(1, a), last(1, a)), rc(nil, last(3, b)), rc(nil, last(4, b))}, SafeValueResult{Rule: SafeByReports, Value: b}},
		{"rule 1: the highest certificate counts", []RoundChange{rc(cert(1, a), nil), rc(cert(3, b), nil), rc(cert(2, a), nil)}, SafeValueResult{Rule: SafeByCertificate, Value: b}},
		{"rule 1: reports at the certificate's round do not count", []RoundChange{rc(cert(3, a), last(3, a)), rc(nil, last(3, b)), rc(nil, last(3, b))}, SafeValueResult{Rule: SafeByCertificate, Value: a}},
		{"rule 3 on a certificate of EMPTY", []RoundChange{rc(cert(0, empty), last(0, empty)), rc(nil, nil), rc(nil, last(0, a))}, SafeValueResult{Rule: SafeByCertificate, Value: empty}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := SafeValue(tc.just, 3)
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if !got.Allows(tc.want.Value) {
				t.Fatal("the result does not allow its own value")
			}
			if got.Rule != SafeFree && got.Allows(types.Hash{0xee}) {
				t.Fatal("a constrained result allows another value")
			}
		})
	}
}
