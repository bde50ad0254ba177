package merkle

import (
	"errors"
	"fmt"

	"github.com/thinkey/thinkey/crypto/hash"
)

// Errors callers branch on. Every error returned by this package wraps one of
// them.
var (
	// ErrIndexOutOfRange: the leaf index is not below the leaf count (which
	// includes any index into an empty tree).
	ErrIndexOutOfRange = errors.New("merkle: leaf index out of range")
	// ErrProofLength: the proof does not carry exactly the number of siblings
	// that its (index, leaf count) shape requires.
	ErrProofLength = errors.New("merkle: wrong number of siblings for the tree shape")
	// ErrRootMismatch: the proof is well formed but does not lead from the
	// leaf to the root.
	ErrRootMismatch = errors.New("merkle: proof does not lead to the root")
	// ErrMalformedProof: the bytes are not a canonical proof encoding
	// (truncated, trailing bytes).
	ErrMalformedProof = errors.New("merkle: malformed proof encoding")
	// ErrUnsortedIndices: the leaf indices of a multi-proof, or the indices
	// of the paths merged into one, are not strictly increasing.
	ErrUnsortedIndices = errors.New("merkle: multi-proof indices not strictly increasing")
)

// MaxSiblings is the longest possible path: a tree of 2^64-1 leaves is 64
// levels deep.
const MaxSiblings = 64

// Proof shows that one leaf hash is at position Index of a tree of LeafCount
// leaves. Siblings are ordered from the leaf level up; a level at which the
// path node is promoted (it is the last, unpaired node) contributes no
// sibling.
type Proof struct {
	Index     uint64
	LeafCount uint64
	Siblings  []hash.Digest
}

// SiblingCount returns how many siblings a proof of leaf index in a tree of
// leafCount leaves has. It is determined by the shape alone, which is what
// lets a verifier reject a proof stretched or cut to fit another tree.
func SiblingCount(index, leafCount uint64) (int, error) {
	if index >= leafCount {
		return 0, fmt.Errorf("leaf %d of %d: %w", index, leafCount, ErrIndexOutOfRange)
	}
	count := 0
	for n := leafCount; n > 1; n = n/2 + n%2 {
		if hasSibling(index, n) {
			count++
		}
		index /= 2
	}
	return count, nil
}

// hasSibling reports whether node i of a level of n nodes is paired, that
// is, it is not the promoted last node of an odd level. i < n, so i+1 does
// not overflow.
func hasSibling(i, n uint64) bool { return i%2 == 1 || i+1 < n }

// Prove returns the inclusion proof of leaf index in the tree over
// leafHashes. It hashes the whole tree once; to prove many leaves of one
// tree, build a [Tree].
func Prove(leafHashes []hash.Digest, index uint64) (Proof, error) {
	n := uint64(len(leafHashes))
	depth, err := SiblingCount(index, n)
	if err != nil {
		return Proof{}, fmt.Errorf("prove: %w", err)
	}
	proof := Proof{Index: index, LeafCount: n, Siblings: make([]hash.Digest, 0, depth)}
	level := make([]hash.Digest, n)
	copy(level, leafHashes)
	h := newInnerHasher()
	for i := index; len(level) > 1; i /= 2 {
		if hasSibling(i, uint64(len(level))) {
			proof.Siblings = append(proof.Siblings, level[i^1])
		}
		level = h.nextLevel(level)
	}
	return proof, nil
}

// Verify checks that proof leads from leafHash to root. It derives the
// sibling count from (Index, LeafCount) and rejects a proof with any other
// count before hashing.
//
// The root commits to the leaves but not to their count: the path of the
// last leaf of a five-leaf tree is also a valid path for leaf 1 of a
// two-leaf tree. A caller that gives meaning to Index must therefore compare
// proof.LeafCount with the leaf count it trusts, committed next to the root
// (the block digest carries both), before trusting Index.
func Verify(root, leafHash hash.Digest, proof Proof) error {
	if err := proof.checkShape(); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	node := leafHash
	h := newInnerHasher()
	next := 0
	i := proof.Index
	for n := proof.LeafCount; n > 1; n = n/2 + n%2 {
		switch {
		case i%2 == 1:
			node = h.node(&proof.Siblings[next], &node)
			next++
		case i+1 < n:
			node = h.node(&node, &proof.Siblings[next])
			next++
		}
		i /= 2
	}
	if node != root {
		return fmt.Errorf("verify leaf %d of %d: %w", proof.Index, proof.LeafCount, ErrRootMismatch)
	}
	return nil
}

// checkShape reports whether the index fits the tree and the sibling count is
// exactly the one the shape requires.
func (p Proof) checkShape() error {
	want, err := SiblingCount(p.Index, p.LeafCount)
	if err != nil {
		return err
	}
	if len(p.Siblings) != want {
		return fmt.Errorf("leaf %d of %d has %d siblings, want %d: %w",
			p.Index, p.LeafCount, len(p.Siblings), want, ErrProofLength)
	}
	return nil
}

// Tree keeps every level of a tree so that proofs cost O(log n) each, for a
// producer that proves many leaves of one tree (all relay messages of a
// block). It holds about twice the leaf hashes in memory.
type Tree struct {
	// levels[0] are the leaf hashes, the last level is the root alone.
	levels [][]hash.Digest
}

// NewTree hashes the tree over leafHashes. The input slice is not retained.
func NewTree(leafHashes []hash.Digest) *Tree {
	level := make([]hash.Digest, len(leafHashes))
	copy(level, leafHashes)
	t := &Tree{levels: [][]hash.Digest{level}}
	h := newInnerHasher()
	for len(level) > 1 {
		level = h.parents(make([]hash.Digest, (len(level)+1)/2), level)
		t.levels = append(t.levels, level)
	}
	return t
}

// LeafCount returns the number of leaves.
func (t *Tree) LeafCount() uint64 { return uint64(len(t.levels[0])) }

// Root returns the root, equal to [RootFromLeafHashes] of the leaves.
func (t *Tree) Root() hash.Digest {
	top := t.levels[len(t.levels)-1]
	if len(top) == 0 {
		return EmptyRoot()
	}
	return top[0]
}

// Prove returns the inclusion proof of leaf index, equal to [Prove]'s.
func (t *Tree) Prove(index uint64) (Proof, error) {
	depth, err := SiblingCount(index, t.LeafCount())
	if err != nil {
		return Proof{}, fmt.Errorf("prove: %w", err)
	}
	proof := Proof{Index: index, LeafCount: t.LeafCount(), Siblings: make([]hash.Digest, 0, depth)}
	i := index
	for _, level := range t.levels[:len(t.levels)-1] {
		if hasSibling(i, uint64(len(level))) {
			proof.Siblings = append(proof.Siblings, level[i^1])
		}
		i /= 2
	}
	return proof, nil
}
