package consensus

import (
	"bytes"

	"github.com/thinkey/thinkey/node/types"
)

// SafeRule says which rule of SafeValue (docs/CONSENSUS.md) decided.
type SafeRule uint8

// The rules of SafeValue, numbered as in docs/CONSENSUS.md.
const (
	// SafeByReports (rule 2): a value is the last prepare, at a round above
	// the highest certificate's, of at least t round changes.
	SafeByReports SafeRule = 2
	// SafeByCertificate (rule 3): the value of the highest certificate.
	SafeByCertificate SafeRule = 3
	// SafeFree (rule 4): no constraint; the leader proposes any block or
	// EMPTY.
	SafeFree SafeRule = 4
)

// SafeValueResult is the outcome of SafeValue.
type SafeValueResult struct {
	Rule SafeRule
	// Value is the safe value (zero for EMPTY) unless Rule is SafeFree.
	Value types.Hash
}

// Allows reports whether a proposal of value v satisfies the result.
func (s SafeValueResult) Allows(v types.Hash) bool { return s.Rule == SafeFree || s.Value == v }

// SafeValue computes the value a leader of round r may propose from a
// justification: quorum round-change messages for r from distinct members,
// whose certificates of the highest round have been verified
// (docs/CONSENSUS.md, "SafeValue"):
//
//  1. C is the prepare certificate of highest round (rc), or rc = -1;
//  2. a value that is the last prepare, at a round > rc, of at least
//     t = floor(quorum/2)+1 messages is safe;
//  3. otherwise, if C exists, its value is safe;
//  4. otherwise the value is free.
//
// With exactly quorum messages at most one value can reach t (2t > q). Given
// more, the value with most reports wins, ties going to the smaller hash, so
// the result is still deterministic.
func SafeValue(justification []RoundChange, quorum int) SafeValueResult {
	var highest *types.Certificate
	for i := range justification {
		c := justification[i].HighestCertificate
		if c != nil && (highest == nil || c.Round > highest.Round) {
			highest = c
		}
	}
	rc := int64(-1)
	if highest != nil {
		rc = int64(highest.Round)
	}
	t := quorum/2 + 1
	counts := make(map[types.Hash]int)
	for i := range justification {
		v := justification[i].LastPrepare
		if v != nil && int64(v.Round) > rc {
			counts[v.BlockHash]++
		}
	}
	var best types.Hash
	bestCount := 0
	for v, n := range counts {
		if n > bestCount || (n == bestCount && bytes.Compare(v[:], best[:]) < 0) {
			best, bestCount = v, n
		}
	}
	if bestCount >= t {
		return SafeValueResult{Rule: SafeByReports, Value: best}
	}
	if highest != nil {
		return SafeValueResult{Rule: SafeByCertificate, Value: highest.BlockHash}
	}
	return SafeValueResult{Rule: SafeFree}
}
