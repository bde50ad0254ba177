package merkle

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/thinkey/thinkey/crypto/hash"
	"pgregory.net/rapid"
)

// leafByHand and innerByHand restate the domain separation with plain
// hash.Sum256 calls, independently of the package's buffers.
func leafByHand(data []byte) hash.Digest {
	return hash.Sum256(append([]byte{0x00}, data...))
}

func innerByHand(left, right hash.Digest) hash.Digest {
	return hash.Sum256(append(append([]byte{0x01}, left[:]...), right[:]...))
}

func TestKnownRoots(t *testing.T) {
	l := make([]hash.Digest, 5)
	for i, c := range "abcde" {
		l[i] = leafByHand([]byte{byte(c)})
	}
	cases := []struct {
		leaves string
		byHand hash.Digest
		// pinned was computed outside Go (Python hashlib) from the same
		// definition, so a change of the tree rules cannot go unnoticed.
		pinned string
	}{
		{"", hash.Sum256([]byte{0x02}), "dbc1b4c900ffe48d575b5da5c638040125f65db0fe3e24494b76ea986457d986"},
		{"a", l[0], "022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c"},
		{"ab", innerByHand(l[0], l[1]), "b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb"},
		{"abc", innerByHand(innerByHand(l[0], l[1]), l[2]), "36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1"},
		{"abcd", innerByHand(innerByHand(l[0], l[1]), innerByHand(l[2], l[3])), "33376a3bd63e9993708a84ddfe6c28ae58b83505dd1fed711bd924ec5a6239f0"},
		{"abcde", innerByHand(innerByHand(innerByHand(l[0], l[1]), innerByHand(l[2], l[3])), l[4]), "fe14a5426fbd70c0fa73f52342afed0da0bd23c4838662ccf6b88a3070ead97b"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d leaves", len(c.leaves)), func(t *testing.T) {
			var leaves [][]byte
			var hashes []hash.Digest
			for _, ch := range []byte(c.leaves) {
				leaves = append(leaves, []byte{ch})
				hashes = append(hashes, LeafHash([]byte{ch}))
			}
			if c.byHand.String() != c.pinned {
				t.Fatalf("hand-built root %s, pinned %s", c.byHand, c.pinned)
			}
			if got := Root(leaves); got != c.byHand {
				t.Errorf("Root = %s, want %s", got, c.byHand)
			}
			if got := RootFromLeafHashes(hashes); got != c.byHand {
				t.Errorf("RootFromLeafHashes = %s, want %s", got, c.byHand)
			}
			if got := NewTree(hashes).Root(); got != c.byHand {
				t.Errorf("Tree.Root = %s, want %s", got, c.byHand)
			}
			for workers := 1; workers <= 4; workers++ {
				if got := parallelRoot(hashes, workers, 1); got != c.byHand {
					t.Errorf("parallelRoot(workers=%d, chunk=1) = %s, want %s", workers, got, c.byHand)
				}
			}
		})
	}
}

func TestEmptyRootIsNotZero(t *testing.T) {
	if EmptyRoot().IsZero() {
		t.Fatal("the empty root must differ from the zero \"no digest\" value")
	}
	if Root(nil) != EmptyRoot() || RootFromLeafHashes(nil) != EmptyRoot() || ParallelRoot(nil, 4) != EmptyRoot() {
		t.Fatal("every root function must give EmptyRoot for no leaves")
	}
}

// TestNoDuplicationCollision is the CVE-2012-2459 check: appending a copy of
// the last leaf (or last pair) changes the root.
func TestNoDuplicationCollision(t *testing.T) {
	for n := 1; n <= 16; n++ {
		leaves := randomLeafHashes(n, byte(n))
		root := RootFromLeafHashes(leaves)
		dupLast := append(append([]hash.Digest(nil), leaves...), leaves[n-1])
		if RootFromLeafHashes(dupLast) == root {
			t.Errorf("n=%d: duplicating the last leaf keeps the root", n)
		}
		if n >= 2 {
			dupPair := append(append([]hash.Digest(nil), leaves...), leaves[n-2:]...)
			if RootFromLeafHashes(dupPair) == root {
				t.Errorf("n=%d: duplicating the last pair keeps the root", n)
			}
		}
	}
}

func TestLeafHashDomainSeparation(t *testing.T) {
	a, b := LeafHash([]byte("a")), LeafHash([]byte("b"))
	inner := innerByHand(a, b)
	// The 64-byte preimage of the inner node, presented as leaf data, must
	// not hash to the inner node.
	if LeafHash(append(a[:], b[:]...)) == inner {
		t.Fatal("a leaf collides with an inner node")
	}
	if LeafHash(nil) != leafByHand(nil) {
		t.Fatal("LeafHash(nil) must be SHA-256(0x00)")
	}
}

// rfc6962Root is the recursive definition of RFC 6962 section 2.1 with our
// domain bytes and empty root, an independent oracle for the level-by-level
// promotion rule.
func rfc6962Root(leaves []hash.Digest) hash.Digest {
	switch n := len(leaves); n {
	case 0:
		return hash.Sum256([]byte{0x02})
	case 1:
		return leaves[0]
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		return innerByHand(rfc6962Root(leaves[:k]), rfc6962Root(leaves[k:]))
	}
}

func randomLeafHashes(n int, seed byte) []hash.Digest {
	out := make([]hash.Digest, n)
	for i := range out {
		out[i] = LeafHash([]byte{seed, byte(i), byte(i >> 8), byte(i >> 16)})
	}
	return out
}

func TestRootMatchesRFC6962Shape(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 600).Draw(t, "n")
		leaves := randomLeafHashes(n, rapid.Byte().Draw(t, "seed"))
		if got, want := RootFromLeafHashes(leaves), rfc6962Root(leaves); got != want {
			t.Fatalf("n=%d: root %s, RFC 6962 shape %s", n, got, want)
		}
	})
}

func TestRootOfRawLeaves(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		leaves := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 0, 80), 0, 40).Draw(t, "leaves")
		hashes := make([]hash.Digest, len(leaves))
		for i, l := range leaves {
			hashes[i] = leafByHand(l)
		}
		if Root(leaves) != RootFromLeafHashes(hashes) {
			t.Fatal("Root disagrees with RootFromLeafHashes of the leaf hashes")
		}
	})
}

func TestRootFromLeafHashesKeepsInput(t *testing.T) {
	leaves := randomLeafHashes(7, 1)
	before := append([]hash.Digest(nil), leaves...)
	RootFromLeafHashes(leaves)
	ParallelRoot(leaves, 3)
	parallelRoot(leaves, 3, 2)
	NewTree(leaves)
	if _, err := Prove(leaves, 3); err != nil {
		t.Fatal(err)
	}
	for i := range leaves {
		if leaves[i] != before[i] {
			t.Fatalf("leaf %d was modified", i)
		}
	}
}

func TestParallelRootEqualsRoot(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 5000).Draw(t, "n")
		workers := rapid.IntRange(1, 8).Draw(t, "workers")
		leaves := randomLeafHashes(n, rapid.Byte().Draw(t, "seed"))
		want := RootFromLeafHashes(leaves)
		if got := ParallelRoot(leaves, workers); got != want {
			t.Fatalf("ParallelRoot(n=%d, workers=%d) = %s, want %s", n, workers, got, want)
		}
		// Below the threshold ParallelRoot is sequential; force the split
		// with small subtrees so that every size exercises it.
		chunk := rapid.IntRange(1, 700).Draw(t, "chunk")
		if got := parallelRoot(leaves, workers, chunk); got != want {
			t.Fatalf("parallelRoot(n=%d, workers=%d, chunk=%d) = %s, want %s", n, workers, chunk, got, want)
		}
	})
}

func TestParallelRootDefaultWorkers(t *testing.T) {
	leaves := randomLeafHashes(3*parallelThreshold+5, 9)
	want := RootFromLeafHashes(leaves)
	for _, workers := range []int{-1, 0} {
		if got := ParallelRoot(leaves, workers); got != want {
			t.Errorf("ParallelRoot(workers=%d) = %s, want %s", workers, got, want)
		}
	}
}

func TestCeilPowerOfTwo(t *testing.T) {
	cases := []struct{ in, want int }{{-3, 1}, {0, 1}, {1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {1000, 1024}, {1024, 1024}}
	for _, c := range cases {
		if got := ceilPowerOfTwo(c.in); got != c.want {
			t.Errorf("ceilPowerOfTwo(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestLeafHashReusesNothingVisible(t *testing.T) {
	// Root reuses one preimage buffer across leaves; a long leaf followed by
	// a short one must not leak the long one's tail into the short hash.
	long := bytes.Repeat([]byte{0xAB}, 100)
	short := []byte{0xAB}
	want := innerByHand(leafByHand(long), leafByHand(short))
	if got := Root([][]byte{long, short}); got != want {
		t.Fatalf("Root = %s, want %s", got, want)
	}
}
