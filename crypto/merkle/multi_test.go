package merkle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"testing"

	"github.com/thinkey/thinkey/crypto/hash"
	"pgregory.net/rapid"
)

// The oracle below restates the multi-proof by the recursive RFC 6962
// definition of the tree (split at the largest power of two below the size),
// independently of the level-by-level walk of multi.go.

// missingSubtree is a subtree of the recursion with no proven leaf below it:
// the multi-proof carries its root. It is consumed at the level of the split
// that produced it (the left half has 2^level leaves) and sits at position
// pos = lo>>level of that level; canonical order is (level, pos).
type missingSubtree struct {
	level  int
	pos    uint64
	lo, hi uint64
}

// largestPowerOfTwoBelow returns the largest power of two < size, size >= 2.
func largestPowerOfTwoBelow(size uint64) uint64 {
	return 1 << (bits.Len64(size-1) - 1)
}

// splitIndices returns how many of the sorted indices are below cut.
func splitIndices(indices []uint64, cut uint64) int {
	return sort.Search(len(indices), func(x int) bool { return indices[x] >= cut })
}

// missingSubtrees returns, in canonical order, the subtrees a multi-proof of
// indices (sorted, distinct, < leafCount) must carry.
func missingSubtrees(leafCount uint64, indices []uint64) []missingSubtree {
	var out []missingSubtree
	var visit func(lo, hi uint64, idx []uint64, level int)
	visit = func(lo, hi uint64, idx []uint64, level int) {
		if len(idx) == 0 {
			out = append(out, missingSubtree{level: level, pos: lo >> level, lo: lo, hi: hi})
			return
		}
		if hi-lo == 1 {
			return
		}
		k := largestPowerOfTwoBelow(hi - lo)
		cut := splitIndices(idx, lo+k)
		level = bits.TrailingZeros64(k)
		visit(lo, lo+k, idx[:cut], level)
		visit(lo+k, hi, idx[cut:], level)
	}
	visit(0, leafCount, indices, 0)
	slices.SortFunc(out, func(a, b missingSubtree) int {
		if a.level != b.level {
			return a.level - b.level
		}
		switch {
		case a.pos < b.pos:
			return -1
		case a.pos > b.pos:
			return 1
		}
		return 0
	})
	return out
}

// foldMulti evaluates the recursion over the proven leaves: leaf(k) stands
// for the leaf at indices[k], sibling(j) for the j-th sibling in canonical
// order, inner for an inner node.
func foldMulti[T any](leafCount uint64, indices []uint64, leaf func(k int) T, sibling func(j int) T, inner func(left, right T) T) T {
	rank := make(map[[2]uint64]int)
	for j, s := range missingSubtrees(leafCount, indices) {
		rank[[2]uint64{uint64(s.level), s.pos}] = j
	}
	var fold func(lo, hi uint64, first int, idx []uint64, level int) T
	fold = func(lo, hi uint64, first int, idx []uint64, level int) T {
		if len(idx) == 0 {
			return sibling(rank[[2]uint64{uint64(level), lo >> level}])
		}
		if hi-lo == 1 {
			return leaf(first)
		}
		k := largestPowerOfTwoBelow(hi - lo)
		cut := splitIndices(idx, lo+k)
		level = bits.TrailingZeros64(k)
		return inner(fold(lo, lo+k, first, idx[:cut], level), fold(lo+k, hi, first+cut, idx[cut:], level))
	}
	return fold(0, leafCount, 0, indices, 0)
}

// multiFormula is the root of the multi-proof of indices as an expression in
// the proven leaves L<k> and the siblings S<j>. Two shapes with the same
// formula accept the same multi-proofs; different formulas never do, short
// of a SHA-256 collision.
func multiFormula(leafCount uint64, indices []uint64) string {
	return foldMulti(leafCount, indices,
		func(k int) string { return fmt.Sprintf("L%d", k) },
		func(j int) string { return fmt.Sprintf("S%d", j) },
		func(l, r string) string { return "(" + l + " " + r + ")" })
}

// multiRootByRecursion is the root the oracle computes from a multi-proof;
// ok is false if the sibling count does not fit the shape.
func multiRootByRecursion(root *hash.Digest, leafHashes []hash.Digest, p MultiProof) bool {
	if len(p.Siblings) != len(missingSubtrees(p.LeafCount, p.Indices)) || len(leafHashes) != len(p.Indices) {
		return false
	}
	*root = foldMulti(p.LeafCount, p.Indices,
		func(k int) hash.Digest { return leafHashes[k] },
		func(j int) hash.Digest { return p.Siblings[j] },
		innerByHand)
	return true
}

func sameMulti(a, b MultiProof) bool {
	return a.LeafCount == b.LeafCount && slices.Equal(a.Indices, b.Indices) && slices.Equal(a.Siblings, b.Siblings)
}

func cloneMulti(p MultiProof) MultiProof {
	return MultiProof{LeafCount: p.LeafCount, Indices: slices.Clone(p.Indices), Siblings: slices.Clone(p.Siblings)}
}

func pickLeaves(leaves []hash.Digest, indices []uint64) []hash.Digest {
	out := make([]hash.Digest, len(indices))
	for k, i := range indices {
		out[k] = leaves[i]
	}
	return out
}

// singlePaths returns tree.Prove of each index.
func singlePaths(t interface{ Fatalf(string, ...any) }, tree *Tree, indices []uint64) []Proof {
	paths := make([]Proof, len(indices))
	for k, i := range indices {
		p, err := tree.Prove(i)
		if err != nil {
			t.Fatalf("Tree.Prove(%d): %v", i, err)
		}
		paths[k] = p
	}
	return paths
}

// TestMultiProofByHand pins the sibling lists of small trees, worked out by
// hand with the canonical walk. A sibling "l/p" is node p of level l (level
// 0 are the leaves).
func TestMultiProofByHand(t *testing.T) {
	cases := []struct {
		n       int
		indices []uint64
		want    []string
	}{
		{1, []uint64{0}, nil},
		{2, []uint64{0}, []string{"0/1"}},
		{2, []uint64{1}, []string{"0/0"}},
		{2, []uint64{0, 1}, nil},
		{3, []uint64{2}, []string{"1/0"}},           // promoted, then a right child
		{3, []uint64{0, 2}, []string{"0/1"}},        // the parents 0 and 1 pair
		{3, []uint64{1, 2}, []string{"0/0"}},        //
		{4, []uint64{0, 3}, []string{"0/1", "0/2"}}, //
		{4, []uint64{1, 2}, []string{"0/0", "0/3"}}, //
		{4, []uint64{2}, []string{"0/3", "1/0"}},    //
		{4, []uint64{0, 1, 2, 3}, nil},              // every leaf: nothing to carry
		{5, []uint64{0, 3}, []string{"0/1", "0/2", "2/1"}},
		{5, []uint64{4}, []string{"2/0"}},
		{5, []uint64{0, 4}, []string{"0/1", "1/1"}},
		{5, []uint64{1, 4}, []string{"0/0", "1/1"}},
		{5, []uint64{0, 1, 2, 3, 4}, nil},
		{6, []uint64{5}, []string{"0/4", "2/0"}},
		{6, []uint64{0, 5}, []string{"0/1", "0/4", "1/1"}},
		{7, []uint64{6}, []string{"1/2", "2/0"}},
		{7, []uint64{3, 4}, []string{"0/2", "0/5", "1/0", "1/3"}},
		{8, []uint64{0, 7}, []string{"0/1", "0/6", "1/1", "1/2"}},
		{8, []uint64{2, 3, 4, 5}, []string{"1/0", "1/3"}},
		{9, []uint64{8}, []string{"3/0"}}, // promoted three times
		{9, []uint64{0, 8}, []string{"0/1", "1/1", "2/1"}},
		{9, []uint64{2, 3, 8}, []string{"1/0", "2/1"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("n=%d/%v", c.n, c.indices), func(t *testing.T) {
			leaves := randomLeafHashes(c.n, 7)
			tree := NewTree(leaves)
			want := make([]hash.Digest, len(c.want))
			for j, at := range c.want {
				var level, pos int
				if _, err := fmt.Sscanf(at, "%d/%d", &level, &pos); err != nil {
					t.Fatal(err)
				}
				want[j] = tree.levels[level][pos]
			}
			p, err := tree.ProveMulti(c.indices)
			if err != nil {
				t.Fatal(err)
			}
			if p.LeafCount != uint64(c.n) || !slices.Equal(p.Indices, c.indices) || !slices.Equal(p.Siblings, want) {
				t.Fatalf("ProveMulti = %+v, want siblings %v", p, c.want)
			}
			count, err := MultiSiblingCount(c.indices, uint64(c.n))
			if err != nil || count != len(c.want) {
				t.Fatalf("MultiSiblingCount = %d, %v; want %d", count, err, len(c.want))
			}
			if err := VerifyMulti(tree.Root(), pickLeaves(leaves, c.indices), p); err != nil {
				t.Fatalf("VerifyMulti: %v", err)
			}
			merged, err := MultiFromPaths(singlePaths(t, tree, c.indices))
			if err != nil || !sameMulti(merged, p) {
				t.Fatalf("MultiFromPaths = %+v, %v; want %+v", merged, err, p)
			}
		})
	}
}

// TestMultiProofOfDocTree checks the five-leaf example of the package
// documentation with hand-built inner nodes.
func TestMultiProofOfDocTree(t *testing.T) {
	l := randomLeafHashes(5, 0)
	a, b := innerByHand(l[0], l[1]), innerByHand(l[2], l[3])
	c := innerByHand(a, b)
	root := innerByHand(c, l[4])
	p := MultiProof{LeafCount: 5, Indices: []uint64{0, 3}, Siblings: []hash.Digest{l[1], l[2], l[4]}}
	got, err := NewTree(l).ProveMulti([]uint64{0, 3})
	if err != nil || !sameMulti(got, p) {
		t.Fatalf("ProveMulti = %+v, %v; want %+v", got, err, p)
	}
	if err := VerifyMulti(root, []hash.Digest{l[0], l[3]}, p); err != nil {
		t.Fatal(err)
	}
	paths, err := p.Paths(root, []hash.Digest{l[0], l[3]})
	if err != nil {
		t.Fatal(err)
	}
	want := []Proof{
		{Index: 0, LeafCount: 5, Siblings: []hash.Digest{l[1], b, l[4]}},
		{Index: 3, LeafCount: 5, Siblings: []hash.Digest{l[2], a, l[4]}},
	}
	for k := range want {
		if !sameProof(paths[k], want[k]) {
			t.Errorf("path %d = %+v, want %+v", k, paths[k], want[k])
		}
	}
}

func TestMultiProofErrors(t *testing.T) {
	leaves := randomLeafHashes(5, 4)
	tree := NewTree(leaves)
	root := tree.Root()
	good, err := tree.ProveMulti([]uint64{0, 3})
	if err != nil {
		t.Fatal(err)
	}
	goodLeaves := pickLeaves(leaves, good.Indices)
	const huge = uint64(1) << 63
	hugeCount, err := MultiSiblingCount([]uint64{0, huge / 2}, huge)
	if err != nil {
		t.Fatal(err)
	}

	verifyCases := []struct {
		name   string
		leaves []hash.Digest
		proof  MultiProof
		want   error
	}{
		{"no indices", nil, MultiProof{LeafCount: 5}, ErrMalformedProof},
		{"fewer leaf hashes", goodLeaves[:1], good, ErrMalformedProof},
		{"more leaf hashes", append(slices.Clone(goodLeaves), leaves[4]), good, ErrMalformedProof},
		{"index past end", goodLeaves, MultiProof{LeafCount: 5, Indices: []uint64{0, 5}, Siblings: good.Siblings}, ErrIndexOutOfRange},
		{"empty tree", goodLeaves[:1], MultiProof{LeafCount: 0, Indices: []uint64{0}}, ErrIndexOutOfRange},
		{"max index", goodLeaves[:1], MultiProof{LeafCount: math.MaxUint64, Indices: []uint64{math.MaxUint64}}, ErrIndexOutOfRange},
		{"unsorted", goodLeaves, MultiProof{LeafCount: 5, Indices: []uint64{3, 0}, Siblings: good.Siblings}, ErrUnsortedIndices},
		{"duplicate", goodLeaves, MultiProof{LeafCount: 5, Indices: []uint64{3, 3}, Siblings: good.Siblings}, ErrUnsortedIndices},
		{"missing sibling", goodLeaves, MultiProof{LeafCount: 5, Indices: good.Indices, Siblings: good.Siblings[:2]}, ErrProofLength},
		{"extra sibling", goodLeaves, MultiProof{LeafCount: 5, Indices: good.Indices, Siblings: append(slices.Clone(good.Siblings), root)}, ErrProofLength},
		{"siblings of a single leaf", goodLeaves[:1], MultiProof{LeafCount: 1, Indices: []uint64{0}, Siblings: good.Siblings[:1]}, ErrProofLength},
		{"other leaf", []hash.Digest{leaves[0], leaves[2]}, good, ErrRootMismatch},
		{"huge tree, no siblings", goodLeaves, MultiProof{LeafCount: huge, Indices: []uint64{0, huge / 2}}, ErrProofLength},
		{"huge tree, wrong root", goodLeaves, MultiProof{LeafCount: huge, Indices: []uint64{0, huge / 2}, Siblings: make([]hash.Digest, hugeCount)}, ErrRootMismatch},
	}
	for _, c := range verifyCases {
		if err := VerifyMulti(root, c.leaves, c.proof); !errors.Is(err, c.want) {
			t.Errorf("%s: VerifyMulti error %v, want %v", c.name, err, c.want)
		}
		if paths, err := c.proof.Paths(root, c.leaves); !errors.Is(err, c.want) || paths != nil {
			t.Errorf("%s: Paths = %d paths, error %v; want none and %v", c.name, len(paths), err, c.want)
		}
	}
	if err := VerifyMulti(EmptyRoot(), goodLeaves, good); !errors.Is(err, ErrRootMismatch) {
		t.Errorf("other root: VerifyMulti error %v, want ErrRootMismatch", err)
	}

	indexCases := []struct {
		name      string
		indices   []uint64
		leafCount uint64
		want      error
	}{
		{"no indices", nil, 5, ErrMalformedProof},
		{"empty tree", []uint64{0}, 0, ErrIndexOutOfRange},
		{"index past end", []uint64{1, 5}, 5, ErrIndexOutOfRange},
		{"unsorted", []uint64{2, 1}, 5, ErrUnsortedIndices},
		{"duplicate", []uint64{1, 1}, 5, ErrUnsortedIndices},
	}
	for _, c := range indexCases {
		if _, err := MultiSiblingCount(c.indices, c.leafCount); !errors.Is(err, c.want) {
			t.Errorf("%s: MultiSiblingCount error %v, want %v", c.name, err, c.want)
		}
		if c.leafCount == 5 {
			if p, err := tree.ProveMulti(c.indices); !errors.Is(err, c.want) || p.Indices != nil {
				t.Errorf("%s: ProveMulti = %+v, %v; want %v", c.name, p, err, c.want)
			}
		}
	}
	if _, err := NewTree(nil).ProveMulti([]uint64{0}); !errors.Is(err, ErrIndexOutOfRange) {
		t.Errorf("ProveMulti of an empty tree: %v, want ErrIndexOutOfRange", err)
	}

	paths := singlePaths(t, tree, []uint64{0, 3})
	otherTree, err := NewTree(leaves[:4]).Prove(3)
	if err != nil {
		t.Fatal(err)
	}
	stretched := paths[1]
	stretched.Siblings = append(slices.Clone(stretched.Siblings), root)
	pathCases := []struct {
		name  string
		paths []Proof
		want  error
	}{
		{"no paths", nil, ErrMalformedProof},
		{"other leaf count", []Proof{paths[0], otherTree}, ErrMalformedProof},
		{"unsorted", []Proof{paths[1], paths[0]}, ErrUnsortedIndices},
		{"duplicate", []Proof{paths[0], paths[0]}, ErrUnsortedIndices},
		{"stretched path", []Proof{paths[0], stretched}, ErrProofLength},
		{"index past end", []Proof{{Index: 5, LeafCount: 5}}, ErrIndexOutOfRange},
		{"empty tree", []Proof{{Index: 0, LeafCount: 0}}, ErrIndexOutOfRange},
	}
	for _, c := range pathCases {
		if p, err := MultiFromPaths(c.paths); !errors.Is(err, c.want) || p.Indices != nil {
			t.Errorf("%s: MultiFromPaths = %+v, %v; want %v", c.name, p, err, c.want)
		}
	}
}

// TestMultiProofOfHugeTree: with 2^63 or 2^64-1 leaves and a few indices,
// everything runs on the shape alone, agrees with the recursive oracle, and
// allocates a fixed number of buffers.
func TestMultiProofOfHugeTree(t *testing.T) {
	cases := []struct {
		leafCount uint64
		indices   []uint64
		want      int
	}{
		// 63 siblings each, one level (the top) without.
		{1 << 63, []uint64{0, 1 << 62}, 2 * 62},
		// Leaf 0 has 64 siblings, the last leaf 63; they pair at the top.
		{math.MaxUint64, []uint64{0, math.MaxUint64 - 1}, 63 + 62},
		{math.MaxUint64, []uint64{1, 2, 1 << 40, math.MaxUint64 - 3, math.MaxUint64 - 1}, -1},
	}
	for _, c := range cases {
		count, err := MultiSiblingCount(c.indices, c.leafCount)
		if err != nil {
			t.Fatal(err)
		}
		if oracle := len(missingSubtrees(c.leafCount, c.indices)); count != oracle || (c.want >= 0 && count != c.want) {
			t.Fatalf("%v of %d: MultiSiblingCount = %d, oracle %d, by hand %d", c.indices, c.leafCount, count, oracle, c.want)
		}
		p := MultiProof{LeafCount: c.leafCount, Indices: c.indices, Siblings: make([]hash.Digest, count)}
		for j := range p.Siblings {
			p.Siblings[j] = LeafHash([]byte{byte(j), byte(j >> 8)})
		}
		leafHashes := randomLeafHashes(len(c.indices), 5)
		var root hash.Digest
		if !multiRootByRecursion(&root, leafHashes, p) {
			t.Fatal("oracle rejects the shape")
		}
		if err := VerifyMulti(root, leafHashes, p); err != nil {
			t.Fatalf("VerifyMulti: %v", err)
		}
		paths, err := p.Paths(root, leafHashes)
		if err != nil {
			t.Fatalf("Paths: %v", err)
		}
		for k, path := range paths {
			if err := Verify(root, leafHashes[k], path); err != nil {
				t.Fatalf("path %d: %v", k, err)
			}
		}
		if merged, err := MultiFromPaths(paths); err != nil || !sameMulti(merged, p) {
			t.Fatalf("MultiFromPaths(Paths) = %+v, %v", merged, err)
		}
		// Index scratch, leaf scratch, hash buffer: nothing grows with the tree.
		if allocs := testing.AllocsPerRun(10, func() { _ = VerifyMulti(root, leafHashes, p) }); allocs > 3 {
			t.Errorf("VerifyMulti allocates %v times, want at most 3", allocs)
		}
	}
}

// drawSubset draws a non-empty, strictly increasing subset of [0, n).
func drawSubset(t *rapid.T, n int) []uint64 {
	indices := rapid.SliceOfNDistinct(rapid.Uint64Range(0, uint64(n-1)), 1, n, rapid.ID[uint64]).Draw(t, "indices")
	slices.Sort(indices)
	return indices
}

// multiCase is a random tree, a random subset of its leaves and their
// multi-proof, drawn for the property tests.
type multiCase struct {
	n       int
	leaves  []hash.Digest
	tree    *Tree
	root    hash.Digest
	indices []uint64
	proven  []hash.Digest
	p       MultiProof
}

func drawMultiCase(t *rapid.T) multiCase {
	n := rapid.IntRange(1, 300).Draw(t, "n")
	leaves := randomLeafHashes(n, rapid.Byte().Draw(t, "seed"))
	tree := NewTree(leaves)
	indices := drawSubset(t, n)
	p, err := tree.ProveMulti(indices)
	if err != nil {
		t.Fatalf("ProveMulti: %v", err)
	}
	return multiCase{n: n, leaves: leaves, tree: tree, root: tree.Root(), indices: indices, proven: pickLeaves(leaves, indices), p: p}
}

func TestMultiProofProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawMultiCase(t)
		n, leaves, tree, root, indices, proven, p := c.n, c.leaves, c.tree, c.root, c.indices, c.proven, c.p
		provenBefore, proofBefore := slices.Clone(proven), cloneMulti(p)
		if err := VerifyMulti(root, proven, p); err != nil {
			t.Fatalf("VerifyMulti: %v", err)
		}
		count, err := MultiSiblingCount(indices, uint64(n))
		if err != nil || len(p.Siblings) != count {
			t.Fatalf("%d siblings, MultiSiblingCount = %d, %v", len(p.Siblings), count, err)
		}
		missing := missingSubtrees(uint64(n), indices)
		if len(missing) != count {
			t.Fatalf("%d siblings, the recursion needs %d", count, len(missing))
		}
		for j, s := range missing {
			if want := rfc6962Root(leaves[s.lo:s.hi]); p.Siblings[j] != want {
				t.Fatalf("sibling %d is not the root of leaves [%d, %d)", j, s.lo, s.hi)
			}
		}

		paths := singlePaths(t, tree, indices)
		merged, err := MultiFromPaths(paths)
		if err != nil || !sameMulti(merged, p) {
			t.Fatalf("MultiFromPaths = %+v, %v; ProveMulti = %+v", merged, err, p)
		}
		split, err := p.Paths(root, proven)
		if err != nil {
			t.Fatalf("Paths: %v", err)
		}
		if !slices.Equal(proven, provenBefore) || !sameMulti(p, proofBefore) {
			t.Fatal("VerifyMulti or Paths modified its input")
		}
		if len(split) != len(paths) {
			t.Fatalf("Paths returned %d paths, want %d", len(split), len(paths))
		}
		for k := range paths {
			if !sameProof(split[k], paths[k]) {
				t.Fatalf("Paths[%d] = %+v, Tree.Prove = %+v", k, split[k], paths[k])
			}
		}
		if len(indices) == 1 && !slices.Equal(p.Siblings, paths[0].Siblings) {
			t.Fatalf("single-leaf multi-proof %v, single proof %v", p.Siblings, paths[0].Siblings)
		}

		// RootAndPaths trusts no root: it gives the tree's for the true
		// proof, and for a tampered one another root that every returned
		// path leads to.
		got, rootPaths, err := p.RootAndPaths(proven)
		if err != nil || got != root || len(rootPaths) != len(paths) || !sameProof(rootPaths[0], paths[0]) {
			t.Fatalf("RootAndPaths = %v, %d paths, %v; want the tree's root and paths", got, len(rootPaths), err)
		}
		if len(p.Siblings) > 0 {
			tampered := cloneMulti(p)
			tampered.Siblings[rapid.IntRange(0, len(p.Siblings)-1).Draw(t, "tampered")][0] ^= 1
			other, otherPaths, err := tampered.RootAndPaths(proven)
			if err != nil || other == root {
				t.Fatalf("tampered RootAndPaths = %v, %v; want another root", other, err)
			}
			for k := range otherPaths {
				if err := Verify(other, proven[k], otherPaths[k]); err != nil {
					t.Fatalf("tampered path %d does not lead to the root returned: %v", k, err)
				}
			}
		}
	})
}

// TestMultiProofBindsLeavesAndShape: a multi-proof fails after any change to
// a sibling, a leaf hash, the leaf order or the sibling count, and after a
// change of LeafCount exactly when the new shape hashes differently.
func TestMultiProofBindsLeavesAndShape(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawMultiCase(t)
		n, root, indices, proven, p := c.n, c.root, c.indices, c.proven, c.p
		mustFail := func(what string, leafHashes []hash.Digest, q MultiProof, want error) {
			if err := VerifyMulti(root, leafHashes, q); !errors.Is(err, want) {
				t.Fatalf("%s: VerifyMulti error %v, want %v", what, err, want)
			}
			if paths, err := q.Paths(root, leafHashes); !errors.Is(err, want) || paths != nil {
				t.Fatalf("%s: Paths error %v, want %v", what, err, want)
			}
		}

		if len(p.Siblings) > 0 {
			tampered := cloneMulti(p)
			s := rapid.IntRange(0, len(p.Siblings)-1).Draw(t, "sibling")
			bit := rapid.IntRange(0, 8*hash.Size-1).Draw(t, "bit")
			tampered.Siblings[s][bit/8] ^= 1 << (bit % 8)
			mustFail("tampered sibling", proven, tampered, ErrRootMismatch)

			cut := cloneMulti(p)
			cut.Siblings = cut.Siblings[:len(cut.Siblings)-1]
			mustFail("missing sibling", proven, cut, ErrProofLength)
		}
		stretched := cloneMulti(p)
		at := rapid.IntRange(0, len(p.Siblings)).Draw(t, "insert at")
		stretched.Siblings = slices.Insert(stretched.Siblings, at, root)
		mustFail("extra sibling", proven, stretched, ErrProofLength)

		k := rapid.IntRange(0, len(proven)-1).Draw(t, "leaf")
		forged := slices.Clone(proven)
		bit := rapid.IntRange(0, 8*hash.Size-1).Draw(t, "leaf bit")
		forged[k][bit/8] ^= 1 << (bit % 8)
		mustFail("tampered leaf", forged, p, ErrRootMismatch)

		if len(proven) >= 2 {
			a := rapid.IntRange(0, len(proven)-2).Draw(t, "swap")
			b := rapid.IntRange(a+1, len(proven)-1).Draw(t, "with")
			swapped := slices.Clone(proven)
			swapped[a], swapped[b] = swapped[b], swapped[a]
			mustFail("swapped leaves", swapped, p, ErrRootMismatch)
		}

		// The root does not commit to the leaf count (see VerifyMulti): a
		// relabelled count is accepted exactly when it gives the same formula.
		other := uint64(rapid.IntRange(1, 2*n+2).Filter(func(m int) bool { return m != n }).Draw(t, "other leaf count"))
		relabelled := cloneMulti(p)
		relabelled.LeafCount = other
		err := VerifyMulti(root, proven, relabelled)
		fits := indices[len(indices)-1] < other
		same := fits && multiFormula(other, indices) == multiFormula(uint64(n), indices)
		switch {
		case !fits && !errors.Is(err, ErrIndexOutOfRange):
			t.Fatalf("leaf count %d below an index: %v", other, err)
		case same && err != nil:
			t.Fatalf("leaf count %d has the same formula but fails: %v", other, err)
		case !same && err == nil:
			t.Fatalf("leaf count %d has another formula but verifies", other)
		}
	})
}

// TestMultiLeafCountIsNotCommitted pins a relabelling that verifies, as
// TestLeafCountIsNotCommitted does for single proofs: leaves 0 and 1 of four
// hash with one right sibling, like leaves 0 and 1 of three.
func TestMultiLeafCountIsNotCommitted(t *testing.T) {
	leaves := randomLeafHashes(4, 2)
	tree := NewTree(leaves)
	p, err := tree.ProveMulti([]uint64{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	p.LeafCount = 3
	if err := VerifyMulti(tree.Root(), leaves[:2], p); err != nil {
		t.Fatalf("the relabelled multi-proof is a valid proof of the same root: %v", err)
	}
}

// TestMultiFromPathsTakesUncheckedSiblings pins what MultiFromPaths
// documents: a path's sibling that other proven leaves make computable is
// dropped unchecked, and a wrong sibling that is taken makes the result fail.
func TestMultiFromPathsTakesUncheckedSiblings(t *testing.T) {
	leaves := randomLeafHashes(5, 6)
	tree := NewTree(leaves)
	paths := singlePaths(t, tree, []uint64{0, 1, 4})
	proven := pickLeaves(leaves, []uint64{0, 1, 4})

	// Leaf 1's first sibling is leaf 0, which is proven: never taken.
	bogus := slices.Clone(paths)
	bogus[1].Siblings = slices.Clone(bogus[1].Siblings)
	bogus[1].Siblings[0] = EmptyRoot()
	p, err := MultiFromPaths(bogus)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyMulti(tree.Root(), proven, p); err != nil {
		t.Fatalf("an unused wrong sibling changed the result: %v", err)
	}
	// Leaf 0's second sibling (B) is taken: the result fails.
	bogus[0].Siblings = slices.Clone(bogus[0].Siblings)
	bogus[0].Siblings[1] = EmptyRoot()
	if p, err = MultiFromPaths(bogus); err != nil {
		t.Fatal(err)
	}
	if err := VerifyMulti(tree.Root(), proven, p); !errors.Is(err, ErrRootMismatch) {
		t.Fatalf("a taken wrong sibling: %v, want ErrRootMismatch", err)
	}
}

// TestPathsDoNotShareStorage: appending to one returned path must not write
// into the next one's siblings.
func TestPathsDoNotShareStorage(t *testing.T) {
	leaves := randomLeafHashes(9, 8)
	tree := NewTree(leaves)
	indices := []uint64{1, 2, 8}
	p, err := tree.ProveMulti(indices)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := p.Paths(tree.Root(), pickLeaves(leaves, indices))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(paths[1].Siblings)
	paths[0].Siblings = append(paths[0].Siblings, EmptyRoot())
	if !slices.Equal(paths[1].Siblings, before) {
		t.Fatal("appending to path 0 changed path 1")
	}
}

// fuzzInput reads the fuzzer's bytes; past the end it reads zeros.
type fuzzInput struct{ data []byte }

func (in *fuzzInput) byte() byte {
	if len(in.data) == 0 {
		return 0
	}
	b := in.data[0]
	in.data = in.data[1:]
	return b
}

func (in *fuzzInput) uvarint() uint64 {
	v, n := binary.Uvarint(in.data)
	if n <= 0 {
		return uint64(in.byte())
	}
	in.data = in.data[n:]
	return v
}

// Flags of the first fuzz byte.
const (
	fuzzRawIndices   = 1 << 0 // indices as read, not forced increasing
	fuzzHonestRoot   = 1 << 1 // root computed by the recursive oracle
	fuzzExtraSibling = 1 << 2
	fuzzFewerSibling = 1 << 3
	fuzzLeafMissing  = 1 << 4 // one leaf hash fewer than indices
)

// FuzzVerifyMulti builds a multi-proof from data: flags, an index count (at
// most 8), the indices as uvarints (gaps unless raw), one byte per leaf hash
// and per sibling, and a root byte. VerifyMulti and Paths never panic, every
// error wraps a sentinel, a proof is accepted exactly when the recursive
// oracle gives the same root, and an accepted proof splits into paths that
// each verify and merge back into the proof.
func FuzzVerifyMulti(f *testing.F) {
	sentinels := []error{ErrMalformedProof, ErrIndexOutOfRange, ErrUnsortedIndices, ErrProofLength, ErrRootMismatch}
	wrapsSentinel := func(err error) bool {
		return slices.ContainsFunc(sentinels, func(s error) bool { return errors.Is(err, s) })
	}
	f.Fuzz(func(t *testing.T, data []byte, leafCount uint64) {
		in := &fuzzInput{data: data}
		flags := in.byte()
		indices := make([]uint64, in.byte()%9)
		for k := range indices {
			v := in.uvarint()
			switch {
			case flags&fuzzRawIndices != 0 || k == 0:
				indices[k] = v
			default:
				indices[k] = indices[k-1] + 1 + v // may wrap: unsorted
			}
		}
		leafHashes := make([]hash.Digest, len(indices))
		for k := range leafHashes {
			leafHashes[k] = LeafHash([]byte{byte(k), in.byte()})
		}
		if flags&fuzzLeafMissing != 0 && len(leafHashes) > 0 {
			leafHashes = leafHashes[1:]
		}
		siblingCount := int(in.byte() % 4)
		want, countErr := MultiSiblingCount(indices, leafCount)
		if countErr == nil {
			siblingCount = want
			if flags&fuzzExtraSibling != 0 {
				siblingCount++
			}
			if flags&fuzzFewerSibling != 0 && siblingCount > 0 {
				siblingCount--
			}
			if oracle := len(missingSubtrees(leafCount, indices)); want != oracle {
				t.Fatalf("MultiSiblingCount(%v, %d) = %d, oracle %d", indices, leafCount, want, oracle)
			}
		} else if !wrapsSentinel(countErr) {
			t.Fatalf("MultiSiblingCount error %v wraps no sentinel", countErr)
		}
		p := MultiProof{LeafCount: leafCount, Indices: indices, Siblings: make([]hash.Digest, siblingCount)}
		for j := range p.Siblings {
			p.Siblings[j] = hash.Sum256([]byte{0xff, byte(j), byte(j >> 8), in.byte()})
		}
		root := hash.Sum256([]byte{in.byte()})
		var oracleRoot hash.Digest
		oracleFits := countErr == nil && multiRootByRecursion(&oracleRoot, leafHashes, p)
		if flags&fuzzHonestRoot != 0 && oracleFits {
			root = oracleRoot
		}

		err := VerifyMulti(root, leafHashes, p)
		if err != nil && !wrapsSentinel(err) {
			t.Fatalf("VerifyMulti error %v wraps no sentinel", err)
		}
		if accept := oracleFits && oracleRoot == root; accept != (err == nil) {
			t.Fatalf("VerifyMulti: %v; the oracle accepts: %v", err, accept)
		}
		paths, pathsErr := p.Paths(root, leafHashes)
		if (err == nil) != (pathsErr == nil) {
			t.Fatalf("VerifyMulti: %v, Paths: %v", err, pathsErr)
		}
		if err != nil {
			return
		}
		for k, path := range paths {
			if path.Index != indices[k] || path.LeafCount != leafCount {
				t.Fatalf("path %d is of leaf %d of %d, want %d of %d", k, path.Index, path.LeafCount, indices[k], leafCount)
			}
			if err := Verify(root, leafHashes[k], path); err != nil {
				t.Fatalf("path %d of an accepted multi-proof: %v", k, err)
			}
		}
		if merged, err := MultiFromPaths(paths); err != nil || !sameMulti(merged, p) {
			t.Fatalf("MultiFromPaths(Paths) = %+v, %v; want %+v", merged, err, p)
		}
	})
}
