package merkle

import (
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/hash"
)

// MultiProof shows that the leaf hashes at positions Indices of a tree of
// LeafCount leaves are in it. Indices are strictly increasing. Siblings are
// the nodes a verifier cannot compute from those leaves, in canonical order:
// level by level from the leaves up, left to right within a level.
//
// The canonical walk keeps the sorted positions known at the current level
// and takes them left to right: a known node that is promoted goes up
// unchanged; an even node whose right neighbour is also known pairs with it;
// any other known node takes the next sibling of the list as its missing
// neighbour. Parents are i/2, and the walk stops at a level of one node.
type MultiProof struct {
	LeafCount uint64
	Indices   []uint64
	Siblings  []hash.Digest
}

// multiStep is what the canonical walk does with one known node.
type multiStep uint8

const (
	// stepPromoted: the last node of an odd level, it goes up unchanged.
	stepPromoted multiStep = iota
	// stepPaired: an even node whose right neighbour is known as well; the
	// two hash into their parent and no sibling is consumed.
	stepPaired
	// stepSiblingRight: an even node whose right neighbour is the next
	// sibling of the proof.
	stepSiblingRight
	// stepSiblingLeft: an odd node whose left neighbour is the next sibling
	// of the proof. Its left neighbour cannot be known: that one would have
	// paired with it.
	stepSiblingLeft
)

// stepAt classifies the known node pos[r] of a level of n nodes; pos holds
// the level's known positions, sorted and distinct. Every walk in this file
// goes through it, so they all agree on the canonical order.
func stepAt(pos []uint64, r int, n uint64) multiStep {
	i := pos[r]
	switch {
	case !hasSibling(i, n):
		return stepPromoted
	case i%2 == 1:
		return stepSiblingLeft
	case r+1 < len(pos) && pos[r+1] == i+1: // i+1 < n here, so no overflow
		return stepPaired
	default:
		return stepSiblingRight
	}
}

// checkIndices reports whether indices is a non-empty, strictly increasing
// list of leaves of a tree of leafCount leaves.
func checkIndices(indices []uint64, leafCount uint64) error {
	if len(indices) == 0 {
		return fmt.Errorf("no leaf indices: %w", ErrMalformedProof)
	}
	for k, i := range indices {
		if k > 0 && i <= indices[k-1] {
			return fmt.Errorf("index %d after %d: %w", i, indices[k-1], ErrUnsortedIndices)
		}
		if i >= leafCount {
			return fmt.Errorf("leaf %d of %d: %w", i, leafCount, ErrIndexOutOfRange)
		}
	}
	return nil
}

// countMultiSiblings returns the sibling count of the multi-proof of the
// checked positions pos in a tree of leafCount leaves. It overwrites pos.
// Parents of sorted distinct positions stay sorted, and two known nodes share
// a parent only when they pair, so the parents need no separate deduplication.
func countMultiSiblings(pos []uint64, leafCount uint64) int {
	count := 0
	for n := leafCount; n > 1; n = n/2 + n%2 {
		out := 0
		for r := 0; r < len(pos); r++ {
			i := pos[r]
			switch stepAt(pos, r, n) {
			case stepPaired:
				r++
			case stepSiblingLeft, stepSiblingRight:
				count++
			}
			pos[out] = i / 2
			out++
		}
		pos = pos[:out]
	}
	return count
}

// MultiSiblingCount returns how many siblings the multi-proof of indices in
// a tree of leafCount leaves has: fixed by the shape alone, so a verifier
// rejects a stretched or cut proof before hashing. It costs
// O(len(indices) * depth) whatever leafCount is.
func MultiSiblingCount(indices []uint64, leafCount uint64) (int, error) {
	if err := checkIndices(indices, leafCount); err != nil {
		return 0, fmt.Errorf("multi-proof sibling count: %w", err)
	}
	return countMultiSiblings(slices.Clone(indices), leafCount), nil
}

// ProveMulti returns the multi-proof of indices (strictly increasing) from
// the tree's levels, without hashing.
func (t *Tree) ProveMulti(indices []uint64) (MultiProof, error) {
	leafCount := t.LeafCount()
	if err := checkIndices(indices, leafCount); err != nil {
		return MultiProof{}, fmt.Errorf("prove multi-proof: %w", err)
	}
	pos := slices.Clone(indices)
	siblings := make([]hash.Digest, 0, countMultiSiblings(pos, leafCount))
	copy(pos, indices)
	for _, level := range t.levels[:len(t.levels)-1] {
		n := uint64(len(level))
		out := 0
		for r := 0; r < len(pos); r++ {
			i := pos[r]
			switch stepAt(pos, r, n) {
			case stepPaired:
				r++
			case stepSiblingLeft, stepSiblingRight:
				siblings = append(siblings, level[i^1])
			}
			pos[out] = i / 2
			out++
		}
		pos = pos[:out]
	}
	return MultiProof{LeafCount: leafCount, Indices: slices.Clone(indices), Siblings: siblings}, nil
}

// pathCursor follows, for a known node of the merge in MultiFromPaths, the
// single-leaf path that supplies its siblings: the path of the leftmost
// proven leaf below the node, and the position in that path's Siblings of
// the sibling at the current level.
type pathCursor struct {
	path int
	next int
}

// MultiFromPaths merges single-leaf proofs of leaves of one tree (same
// LeafCount, strictly increasing Index, each of the right shape) into their
// multi-proof without hashing: it picks each needed sibling from a path that
// carries it (the path of the leftmost proven leaf below the node that needs
// it).
//
// Since it does not hash, it cannot tell whether the paths agree. Paths that
// all lead to one root give a multi-proof that verifies against it; otherwise
// the result verifies only if the siblings it picked lead to the root, and a
// path's sibling that the other proven leaves make computable is dropped
// unchecked. Only [VerifyMulti] of the result says anything about a root.
func MultiFromPaths(paths []Proof) (MultiProof, error) {
	if len(paths) == 0 {
		return MultiProof{}, fmt.Errorf("merge paths: no paths: %w", ErrMalformedProof)
	}
	leafCount := paths[0].LeafCount
	indices := make([]uint64, len(paths))
	for k, path := range paths {
		if path.LeafCount != leafCount {
			return MultiProof{}, fmt.Errorf("merge paths: path %d is of a tree of %d leaves, path 0 of %d: %w",
				k, path.LeafCount, leafCount, ErrMalformedProof)
		}
		if k > 0 && path.Index <= paths[k-1].Index {
			return MultiProof{}, fmt.Errorf("merge paths: path %d of leaf %d after leaf %d: %w",
				k, path.Index, paths[k-1].Index, ErrUnsortedIndices)
		}
		if err := path.checkShape(); err != nil {
			return MultiProof{}, fmt.Errorf("merge paths: path %d: %w", k, err)
		}
		indices[k] = path.Index
	}

	pos := slices.Clone(indices)
	siblings := make([]hash.Digest, 0, countMultiSiblings(pos, leafCount))
	copy(pos, indices)
	cursors := make([]pathCursor, len(paths))
	for k := range cursors {
		cursors[k].path = k
	}
	// A known node's leftmost leaf has a sibling at every level at which the
	// node is not promoted, so its cursor advances at every such level, also
	// when the sibling is a known neighbour and not taken. The shape checks
	// above keep every cursor inside its path.
	for n := leafCount; n > 1; n = n/2 + n%2 {
		out := 0
		for r := 0; r < len(pos); r++ {
			i := pos[r]
			c := cursors[r]
			switch stepAt(pos, r, n) {
			case stepPaired:
				c.next++
				r++
			case stepSiblingLeft, stepSiblingRight:
				siblings = append(siblings, paths[c.path].Siblings[c.next])
				c.next++
			}
			pos[out] = i / 2
			cursors[out] = c
			out++
		}
		pos = pos[:out]
		cursors = cursors[:out]
	}
	return MultiProof{LeafCount: leafCount, Indices: indices, Siblings: siblings}, nil
}

// checkShape reports whether p is a multi-proof of leaves leaf hashes with a
// valid shape: non-empty strictly increasing indices inside the tree, one
// leaf hash per index, exactly the siblings the shape needs. It returns a
// copy of p.Indices to walk with.
func (p MultiProof) checkShape(leaves int) ([]uint64, error) {
	if err := checkIndices(p.Indices, p.LeafCount); err != nil {
		return nil, err
	}
	if leaves != len(p.Indices) {
		return nil, fmt.Errorf("%d leaf hashes for %d indices: %w", leaves, len(p.Indices), ErrMalformedProof)
	}
	pos := slices.Clone(p.Indices)
	if want := countMultiSiblings(pos, p.LeafCount); len(p.Siblings) != want {
		return nil, fmt.Errorf("%d leaves of %d have %d siblings, want %d: %w",
			len(p.Indices), p.LeafCount, len(p.Siblings), want, ErrProofLength)
	}
	copy(pos, p.Indices)
	return pos, nil
}

// VerifyMulti checks that p leads from leafHashes (leafHashes[k] at
// p.Indices[k]) to root. It derives the sibling count from the shape and
// rejects any other count before hashing; it costs one inner hash per node
// on the union of the leaves' paths, and O(len(p.Indices) * depth) otherwise.
//
// As with [Verify], the root commits to the leaves but not to their count:
// a caller that gives meaning to the indices must compare p.LeafCount with
// the leaf count committed next to the root.
func VerifyMulti(root hash.Digest, leafHashes []hash.Digest, p MultiProof) error {
	pos, err := p.checkShape(len(leafHashes))
	if err != nil {
		return fmt.Errorf("verify multi-proof: %w", err)
	}
	nodes := slices.Clone(leafHashes)
	if multiRoot(p.LeafCount, pos, nodes, p.Siblings, nil) != root {
		return fmt.Errorf("verify multi-proof of %d leaves of %d: %w", len(p.Indices), p.LeafCount, ErrRootMismatch)
	}
	return nil
}

// Paths checks p against root like [VerifyMulti], then returns the
// single-leaf proof of each of its leaves, equal to what [Tree.Prove] gives:
// how a holder of a multi-proof hands one leaf's path on. It hashes the tree
// once, as VerifyMulti does.
func (p MultiProof) Paths(root hash.Digest, leafHashes []hash.Digest) ([]Proof, error) {
	got, proofs, err := p.RootAndPaths(leafHashes)
	if err != nil {
		return nil, err
	}
	if got != root {
		return nil, fmt.Errorf("split multi-proof of %d leaves of %d: %w", len(p.Indices), p.LeafCount, ErrRootMismatch)
	}
	return proofs, nil
}

// RootAndPaths returns the root p leads to from leafHashes and the
// single-leaf proof of each leaf, every one leading to that root: for a
// receiver that checks the root later, against a root it learns
// afterwards. It fails only on a malformed shape.
func (p MultiProof) RootAndPaths(leafHashes []hash.Digest) (hash.Digest, []Proof, error) {
	pos, err := p.checkShape(len(leafHashes))
	if err != nil {
		return hash.Digest{}, nil, fmt.Errorf("split multi-proof: %w", err)
	}
	// One backing array for every path's siblings; each path gets a window
	// capped at its own length, so that appending to one path never writes
	// into the next.
	// checkShape checked every index against LeafCount, so SiblingCount
	// cannot fail here.
	total := 0
	for _, i := range p.Indices {
		depth, _ := SiblingCount(i, p.LeafCount)
		total += depth
	}
	backing := make([]hash.Digest, total)
	proofs := make([]Proof, len(p.Indices))
	offset := 0
	for k, i := range p.Indices {
		depth, _ := SiblingCount(i, p.LeafCount)
		proofs[k] = Proof{Index: i, LeafCount: p.LeafCount, Siblings: backing[offset : offset : offset+depth]}
		offset += depth
	}
	collector := &pathCollector{first: make([]int, len(p.Indices)), proofs: proofs}
	for k := range collector.first {
		collector.first[k] = k
	}
	nodes := slices.Clone(leafHashes)
	root := multiRoot(p.LeafCount, pos, nodes, p.Siblings, collector)
	return root, proofs, nil
}

// pathCollector rebuilds, while a multi-proof is hashed, the single-leaf path
// of each of its leaves: the sibling a known node meets at a level (from the
// proof or a known neighbour) is the sibling at that level of the path of
// every proven leaf below the node.
type pathCollector struct {
	// first[r] is the position in Indices of the leftmost proven leaf below
	// known node r of the current level. The leaves below a known node are
	// contiguous in Indices, so they end where the next node's begin.
	first  []int
	proofs []Proof
}

// meet appends sibling to the paths of the leaves below known node r of a
// level that has known nodes in all.
func (c *pathCollector) meet(r, known int, sibling *hash.Digest) {
	end := len(c.proofs)
	if r+1 < known {
		end = c.first[r+1]
	}
	for k := c.first[r]; k < end; k++ {
		c.proofs[k].Siblings = append(c.proofs[k].Siblings, *sibling)
	}
}

// multiRoot hashes the known nodes (positions pos, digests nodes) of a tree of
// leafCount leaves up to the root, taking missing neighbours from siblings in
// canonical order, and returns the root. The caller has checked the shape, so
// siblings holds exactly the count the walk consumes. pos and nodes are
// overwritten: parent r is written only after children r and r+1 are read.
// paths, if not nil, collects each leaf's single-leaf path on the way.
func multiRoot(leafCount uint64, pos []uint64, nodes, siblings []hash.Digest, paths *pathCollector) hash.Digest {
	h := newInnerHasher()
	next := 0
	for n := leafCount; n > 1; n = n/2 + n%2 {
		known := len(pos)
		out := 0
		for r := 0; r < known; r++ {
			i := pos[r]
			leftmost := r
			switch stepAt(pos, r, n) {
			case stepPromoted:
				nodes[out] = nodes[r]
			case stepPaired:
				if paths != nil {
					paths.meet(r, known, &nodes[r+1])
					paths.meet(r+1, known, &nodes[r])
				}
				nodes[out] = h.node(&nodes[r], &nodes[r+1])
				r++
			case stepSiblingRight:
				if paths != nil {
					paths.meet(r, known, &siblings[next])
				}
				nodes[out] = h.node(&nodes[r], &siblings[next])
				next++
			case stepSiblingLeft:
				if paths != nil {
					paths.meet(r, known, &siblings[next])
				}
				nodes[out] = h.node(&siblings[next], &nodes[r])
				next++
			}
			if paths != nil {
				// Later meets of this level read first past r only.
				paths.first[out] = paths.first[leftmost]
			}
			pos[out] = i / 2
			out++
		}
		pos = pos[:out]
		nodes = nodes[:out]
	}
	return nodes[0]
}
