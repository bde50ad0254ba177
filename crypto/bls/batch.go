package bls

import (
	"bytes"
	"io"
	"slices"

	blst "github.com/supranational/blst/bindings/go"
)

// SignatureSet is one independently signed statement: Signature over
// Message under PublicKey.
type SignatureSet struct {
	PublicKey *PublicKey
	Message   []byte
	Signature *Signature
}

// Each signature of a batch is weighted by a random nonzero coefficient of
// coefficientBits bits. A batch holding a bad signature then passes with
// probability at most 2^-64 per draw, whatever the signer chose, including
// two bad signatures built to cancel in a plain sum.
const (
	coefficientBits  = 64
	coefficientBytes = coefficientBits / 8
	// maxZeroDraws bounds how often a zero coefficient is redrawn before the
	// source is deemed broken (a sound source draws zero with probability
	// 2^-64).
	maxZeroDraws = 4
)

// BatchVerify reports whether every set verifies, as Verify would say for
// each, with one randomised pairing check: it checks
//
//	e(G1, sum r_i*sig_i) == product over distinct messages m of e(sum_{i: msg_i = m} r_i*pk_i, H(m))
//
// for fresh 64-bit coefficients r_i read from rnd. Sets sharing a message
// share one hash and one Miller loop, so the same routine serves distinct and
// repeated messages. It is false for an empty batch, for nil keys or
// signatures, and for the identity key. If rnd fails, every set is verified
// on its own instead, so the answer stays exact.
func BatchVerify(sets []SignatureSet, rnd io.Reader) bool {
	if len(sets) == 0 {
		return false
	}
	for _, set := range sets {
		if !set.PublicKey.usable() || set.Signature == nil {
			return false
		}
	}
	return newSetBatch(sets).allValid(rnd)
}

// BatchVerifyFindInvalid returns, in increasing order, the indices of the
// sets that do not verify, or nil when all do (or sets is empty). It runs
// BatchVerify's single check first and, only when that fails, bisects: see
// the package documentation. Sets with a nil or identity key or a nil
// signature are named without any pairing.
func BatchVerifyFindInvalid(sets []SignatureSet, rnd io.Reader) []int {
	return newSetBatch(sets).invalid(rnd)
}

// VerifySameMessage checks a committee's votes on one message: sigs[i] must
// be pks[i]'s signature of msg. It returns, in increasing order, the indices
// of the votes that are not valid, or nil when all are.
//
// The valid path costs one hash to G2, two Miller loops and one final
// exponentiation whatever the committee size, plus one multi-scalar
// multiplication in each group, whose cost per vote is a small fraction of a
// pairing; the larger per-vote cost, left to the caller, is decoding each
// signature. When the check fails, bisection names exactly the bad votes.
//
// Every key must carry a verified proof of possession (see the package
// documentation). Indices present in only one of pks and sigs, nil entries
// and identity keys are invalid votes. If rnd fails, every vote is checked
// on its own instead (still hashing msg once).
func VerifySameMessage(msg []byte, pks []*PublicKey, sigs []*Signature, rnd io.Reader) []int {
	b := &batch{hashes: []*blst.P2Affine{nil}}
	var bad []int
	for i := range max(len(pks), len(sigs)) {
		if i >= len(pks) || i >= len(sigs) || !pks[i].usable() || sigs[i] == nil {
			bad = append(bad, i)
			continue
		}
		b.pks = append(b.pks, &pks[i].point)
		b.sigs = append(b.sigs, &sigs[i].point)
		b.group = append(b.group, 0)
		b.origin = append(b.origin, i)
	}
	b.malformed = bad
	if len(b.pks) > 0 {
		b.hashes[0] = hashToG2(msg, signatureDST)
	}
	return b.invalid(rnd)
}

// batch is a set of signatures under verification, ordered so that entries
// with the same message are contiguous: a range of entries then has one
// public-key sum per message run.
type batch struct {
	pks    []*blst.P1Affine
	sigs   []*blst.P2Affine
	group  []int // index into hashes of each entry's message
	origin []int // the caller's index of each entry
	hashes []*blst.P2Affine
	// coefficients holds coefficientBytes little-endian bytes per entry.
	coefficients []byte
	// malformed lists the caller's indices rejected before any pairing.
	malformed []int
}

// newSetBatch groups sets by message, in order of first appearance, so the
// grouping never depends on map iteration order.
func newSetBatch(sets []SignatureSet) *batch {
	b := &batch{}
	groupOf := make(map[string]int)
	var messages [][]byte
	var groupSizes []int
	entryGroup := make([]int, len(sets))
	for i, set := range sets {
		if !set.PublicKey.usable() || set.Signature == nil {
			b.malformed = append(b.malformed, i)
			entryGroup[i] = -1
			continue
		}
		g, ok := groupOf[string(set.Message)]
		if !ok {
			g = len(messages)
			groupOf[string(set.Message)] = g
			messages = append(messages, set.Message)
			groupSizes = append(groupSizes, 0)
		}
		entryGroup[i] = g
		groupSizes[g]++
	}
	next := make([]int, len(messages)) // first free slot of each group
	total := 0
	for g, size := range groupSizes {
		next[g] = total
		total += size
	}
	b.pks = make([]*blst.P1Affine, total)
	b.sigs = make([]*blst.P2Affine, total)
	b.group = make([]int, total)
	b.origin = make([]int, total)
	for i, set := range sets {
		g := entryGroup[i]
		if g < 0 {
			continue
		}
		at := next[g]
		next[g]++
		b.pks[at] = &set.PublicKey.point
		b.sigs[at] = &set.Signature.point
		b.group[at] = g
		b.origin[at] = i
	}
	b.hashes = make([]*blst.P2Affine, len(messages))
	for g, msg := range messages {
		b.hashes[g] = hashToG2(msg, signatureDST)
	}
	return b
}

// allValid reports whether the batch has entries, none malformed, and all
// pass: one check, with no bisection when it fails.
func (b *batch) allValid(rnd io.Reader) bool {
	n := len(b.pks)
	if n == 0 || len(b.malformed) > 0 {
		return false
	}
	if b.drawCoefficients(rnd) {
		return b.check(0, n)
	}
	for i := range n {
		if !b.check(i, i+1) {
			return false
		}
	}
	return true
}

// invalid returns the caller's indices of every bad entry, sorted, or nil.
func (b *batch) invalid(rnd io.Reader) []int {
	bad := slices.Clone(b.malformed)
	n := len(b.pks)
	if n > 0 {
		if b.drawCoefficients(rnd) {
			bad = b.bisect(0, n, false, bad)
		} else {
			for i := range n {
				if !b.check(i, i+1) {
					bad = append(bad, b.origin[i])
				}
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return bad
}

// drawCoefficients fills b.coefficients with nonzero values from rnd. A zero
// coefficient would drop its signature from the check, so it is redrawn.
func (b *batch) drawCoefficients(rnd io.Reader) bool {
	if rnd == nil {
		return false
	}
	b.coefficients = make([]byte, len(b.pks)*coefficientBytes)
	if _, err := io.ReadFull(rnd, b.coefficients); err != nil {
		return false
	}
	var zero [coefficientBytes]byte
	for at := 0; at < len(b.coefficients); at += coefficientBytes {
		coefficient := b.coefficients[at : at+coefficientBytes]
		for draws := 0; bytes.Equal(coefficient, zero[:]); draws++ {
			if draws == maxZeroDraws {
				return false
			}
			if _, err := io.ReadFull(rnd, coefficient); err != nil {
				return false
			}
		}
	}
	return true
}

// bisect appends to bad the caller's indices of the bad entries in
// [lo, hi). knownFailing says the range is already known to fail its check.
//
// The check of a range is the product of its halves' checks (the same
// coefficients weight each entry at every level), so when a failing range's
// left half passes, its right half must fail and is not checked again; a
// single entry known to fail is bad without a further pairing.
func (b *batch) bisect(lo, hi int, knownFailing bool, bad []int) []int {
	if !knownFailing && b.check(lo, hi) {
		return bad
	}
	if hi-lo == 1 {
		return append(bad, b.origin[lo])
	}
	mid := lo + (hi-lo)/2
	if b.check(lo, mid) {
		return b.bisect(mid, hi, true, bad)
	}
	bad = b.bisect(lo, mid, true, bad)
	return b.bisect(mid, hi, false, bad)
}

// check reports whether the entries in [lo, hi) pass the randomised batch
// equation. A single entry is checked without its coefficient: the result is
// the same (the coefficient is nonzero below the group order) and a scalar
// multiplication is saved.
func (b *batch) check(lo, hi int) bool {
	if hi-lo == 1 {
		g := b.group[lo]
		return pairingCheck(b.sigs[lo], b.pks[lo:hi], b.hashes[g:g+1])
	}
	sig := blst.P2AffinesMult(b.sigs[lo:hi], b.coefficients[lo*coefficientBytes:hi*coefficientBytes], coefficientBits)
	if sig == nil {
		return false
	}
	var pks []*blst.P1Affine
	var hashes []*blst.P2Affine
	for start := lo; start < hi; {
		end := start + 1
		for end < hi && b.group[end] == b.group[start] {
			end++
		}
		pk := blst.P1AffinesMult(b.pks[start:end], b.coefficients[start*coefficientBytes:end*coefficientBytes], coefficientBits)
		if pk == nil {
			return false
		}
		pks = append(pks, pk.ToAffine())
		hashes = append(hashes, b.hashes[b.group[start]])
		start = end
	}
	return pairingCheck(sig.ToAffine(), pks, hashes)
}
