package merkle

import (
	"errors"
	"math"
	"testing"

	"github.com/thinkey/thinkey/crypto/hash"
	"pgregory.net/rapid"
)

func TestSiblingCount(t *testing.T) {
	cases := []struct {
		index, leafCount uint64
		want             int
		err              error
	}{
		{0, 0, 0, ErrIndexOutOfRange},
		{1, 1, 0, ErrIndexOutOfRange},
		{5, 5, 0, ErrIndexOutOfRange},
		{0, 1, 0, nil},
		{0, 2, 1, nil},
		{1, 2, 1, nil},
		{0, 3, 2, nil},
		{2, 3, 1, nil}, // promoted at the leaf level
		{0, 4, 2, nil},
		{4, 5, 1, nil}, // promoted twice, paired with the 4-leaf subtree at the top
		{3, 5, 3, nil},
		{6, 7, 2, nil},
		{0, 1 << 20, 20, nil},
		{0, math.MaxUint64, 64, nil},
		{math.MaxUint64 - 1, math.MaxUint64, 63, nil}, // last leaf: promoted once, then always a right child
		{math.MaxUint64, math.MaxUint64, 0, ErrIndexOutOfRange},
	}
	for _, c := range cases {
		got, err := SiblingCount(c.index, c.leafCount)
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("SiblingCount(%d, %d) error %v, want %v", c.index, c.leafCount, err, c.err)
			continue
		}
		if err == nil && got != c.want {
			t.Errorf("SiblingCount(%d, %d) = %d, want %d", c.index, c.leafCount, got, c.want)
		}
	}
}

// TestProofByHand pins the sibling lists of the five-leaf tree drawn in the
// package documentation.
func TestProofByHand(t *testing.T) {
	l := randomLeafHashes(5, 0)
	a, b := innerByHand(l[0], l[1]), innerByHand(l[2], l[3])
	c := innerByHand(a, b)
	root := innerByHand(c, l[4])
	cases := []struct {
		index uint64
		want  []hash.Digest
	}{
		{0, []hash.Digest{l[1], b, l[4]}},
		{3, []hash.Digest{l[2], a, l[4]}},
		{4, []hash.Digest{c}},
	}
	for _, tc := range cases {
		p, err := Prove(l, tc.index)
		if err != nil {
			t.Fatalf("Prove(%d): %v", tc.index, err)
		}
		if p.Index != tc.index || p.LeafCount != 5 || len(p.Siblings) != len(tc.want) {
			t.Fatalf("Prove(%d) = %+v", tc.index, p)
		}
		for i := range tc.want {
			if p.Siblings[i] != tc.want[i] {
				t.Errorf("Prove(%d) sibling %d = %s, want %s", tc.index, i, p.Siblings[i], tc.want[i])
			}
		}
		if err := Verify(root, l[tc.index], p); err != nil {
			t.Errorf("Verify(%d): %v", tc.index, err)
		}
	}
}

func TestProveOutOfRange(t *testing.T) {
	cases := []struct {
		n     int
		index uint64
	}{{0, 0}, {3, 3}, {3, math.MaxUint64}}
	for _, c := range cases {
		leaves := randomLeafHashes(c.n, 1)
		if _, err := Prove(leaves, c.index); !errors.Is(err, ErrIndexOutOfRange) {
			t.Errorf("Prove(n=%d, %d) error %v, want ErrIndexOutOfRange", c.n, c.index, err)
		}
		if _, err := NewTree(leaves).Prove(c.index); !errors.Is(err, ErrIndexOutOfRange) {
			t.Errorf("Tree.Prove(n=%d, %d) error %v, want ErrIndexOutOfRange", c.n, c.index, err)
		}
	}
}

func TestEveryProofVerifies(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 300).Draw(t, "n")
		leaves := randomLeafHashes(n, rapid.Byte().Draw(t, "seed"))
		root := RootFromLeafHashes(leaves)
		tree := NewTree(leaves)
		if tree.Root() != root || tree.LeafCount() != uint64(n) {
			t.Fatalf("tree root %s / count %d, want %s / %d", tree.Root(), tree.LeafCount(), root, n)
		}
		for i := range uint64(n) {
			p, err := Prove(leaves, i)
			if err != nil {
				t.Fatalf("Prove(%d): %v", i, err)
			}
			if want, _ := SiblingCount(i, uint64(n)); len(p.Siblings) != want {
				t.Fatalf("Prove(%d) has %d siblings, SiblingCount says %d", i, len(p.Siblings), want)
			}
			if err := Verify(root, leaves[i], p); err != nil {
				t.Fatalf("Verify(%d): %v", i, err)
			}
			tp, err := tree.Prove(i)
			if err != nil {
				t.Fatalf("Tree.Prove(%d): %v", i, err)
			}
			if !sameProof(p, tp) {
				t.Fatalf("Tree.Prove(%d) = %+v, Prove = %+v", i, tp, p)
			}
		}
	})
}

func sameProof(a, b Proof) bool {
	if a.Index != b.Index || a.LeafCount != b.LeafCount || len(a.Siblings) != len(b.Siblings) {
		return false
	}
	for i := range a.Siblings {
		if a.Siblings[i] != b.Siblings[i] {
			return false
		}
	}
	return true
}

// TestProofBindsLeafIndexAndShape: a proof of leaf i fails for another leaf
// hash, another index, a tampered sibling, and an extra or missing sibling.
func TestProofBindsLeafIndexAndShape(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 200).Draw(t, "n")
		leaves := randomLeafHashes(n, rapid.Byte().Draw(t, "seed"))
		root := RootFromLeafHashes(leaves)
		i := rapid.Uint64Range(0, uint64(n-1)).Draw(t, "index")
		p, err := Prove(leaves, i)
		if err != nil {
			t.Fatal(err)
		}

		other := rapid.Uint64Range(0, uint64(n-1)).Draw(t, "other")
		if other != i {
			if err := Verify(root, leaves[other], p); !errors.Is(err, ErrRootMismatch) {
				t.Fatalf("proof of %d accepted leaf %d: %v", i, other, err)
			}
			moved := p
			moved.Index = other
			if err := Verify(root, leaves[i], moved); err == nil {
				t.Fatalf("proof of %d accepted at index %d", i, other)
			}
		}
		var forged hash.Digest
		forged[rapid.IntRange(0, hash.Size-1).Draw(t, "forged byte")] = 1
		if err := Verify(root, forged, p); !errors.Is(err, ErrRootMismatch) {
			t.Fatalf("proof accepted a forged leaf: %v", err)
		}

		if len(p.Siblings) > 0 {
			tampered := p
			tampered.Siblings = append([]hash.Digest(nil), p.Siblings...)
			s := rapid.IntRange(0, len(p.Siblings)-1).Draw(t, "sibling")
			bit := rapid.IntRange(0, 8*hash.Size-1).Draw(t, "bit")
			tampered.Siblings[s][bit/8] ^= 1 << (bit % 8)
			if err := Verify(root, leaves[i], tampered); !errors.Is(err, ErrRootMismatch) {
				t.Fatalf("tampered sibling %d accepted: %v", s, err)
			}
			cut := p
			cut.Siblings = p.Siblings[:len(p.Siblings)-1]
			if err := Verify(root, leaves[i], cut); !errors.Is(err, ErrProofLength) {
				t.Fatalf("proof missing a sibling: %v, want ErrProofLength", err)
			}
		}
		stretched := p
		stretched.Siblings = append(append([]hash.Digest(nil), p.Siblings...), root)
		if err := Verify(root, leaves[i], stretched); !errors.Is(err, ErrProofLength) {
			t.Fatalf("proof with an extra sibling: %v, want ErrProofLength", err)
		}
	})
}

func TestVerifyRejectsBadShapes(t *testing.T) {
	leaf := LeafHash([]byte("x"))
	cases := []struct {
		name  string
		proof Proof
		want  error
	}{
		{"empty tree", Proof{Index: 0, LeafCount: 0}, ErrIndexOutOfRange},
		{"index past end", Proof{Index: 2, LeafCount: 2, Siblings: []hash.Digest{{}}}, ErrIndexOutOfRange},
		{"single leaf with a sibling", Proof{Index: 0, LeafCount: 1, Siblings: []hash.Digest{{}}}, ErrProofLength},
		{"65 siblings", Proof{Index: 0, LeafCount: math.MaxUint64, Siblings: make([]hash.Digest, 65)}, ErrProofLength},
		{"deepest tree, wrong root", Proof{Index: 0, LeafCount: math.MaxUint64, Siblings: make([]hash.Digest, 64)}, ErrRootMismatch},
		{"single leaf, other root", Proof{Index: 0, LeafCount: 1}, ErrRootMismatch},
	}
	for _, c := range cases {
		if err := Verify(EmptyRoot(), leaf, c.proof); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify error %v, want %v", c.name, err, c.want)
		}
	}
	if err := Verify(leaf, leaf, Proof{Index: 0, LeafCount: 1}); err != nil {
		t.Errorf("a single leaf is its own root: %v", err)
	}
}

// TestLeafCountIsNotCommitted pins the contract stated on Verify: the root
// commits to the leaves, not to their count, so the (Index, LeafCount) of a
// proof is only as trustworthy as the leaf count the caller compares it with.
// The last leaf of a five-leaf tree has one sibling, on the left, exactly
// like leaf 1 of a two-leaf tree.
func TestLeafCountIsNotCommitted(t *testing.T) {
	leaves := randomLeafHashes(5, 3)
	root := RootFromLeafHashes(leaves)
	p, err := Prove(leaves, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(root, leaves[4], p); err != nil {
		t.Fatal(err)
	}
	relabelled := Proof{Index: 1, LeafCount: 2, Siblings: p.Siblings}
	if err := Verify(root, leaves[4], relabelled); err != nil {
		t.Fatalf("the relabelled path is a valid path to the same root: %v", err)
	}
	// The sibling-count rule still stops a relabelling that changes the
	// number of levels with a sibling.
	if err := Verify(root, leaves[4], Proof{Index: 0, LeafCount: 5, Siblings: p.Siblings}); !errors.Is(err, ErrProofLength) {
		t.Fatalf("leaf 0 of 5 needs 3 siblings: %v", err)
	}
}
