package bench

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
)

// The merkle stage times the relay-message tree: the root of 1000, 16000
// and 128000 leaf hashes, sequential and parallel (GOMAXPROCS workers), and
// at 16000 leaves one proof from scratch, one proof from a built tree, the
// tree build itself, and one verification. Hashing goes through whichever
// backend is active (the standard library unless something installed
// another); the sha256 stage gives the ratio to the other backend.

// merkleRootSizes are the leaf counts of the root sweep.
func merkleRootSizes(cfg Config) []int {
	if cfg.Quick {
		return []int{1000, 16000}
	}
	return []int{1000, 16000, 128000}
}

// merkleProofLeaves is the tree size of the proof cases.
const merkleProofLeaves = 16000

func merkleCases(cfg Config) []Case {
	var cases []Case
	for _, n := range merkleRootSizes(cfg) {
		cases = append(cases,
			Case{Stage: "merkle", Name: fmt.Sprintf("root/n=%d/sequential", n), Unit: "root", Run: merkleRoot(n, 1)},
			Case{Stage: "merkle", Name: fmt.Sprintf("root/n=%d/parallel", n), Unit: "root", Run: merkleRoot(n, 0)},
		)
	}
	n := merkleProofLeaves
	cases = append(cases,
		Case{Stage: "merkle", Name: fmt.Sprintf("tree/n=%d", n), Unit: "tree", Run: merkleTree(n)},
		Case{Stage: "merkle", Name: fmt.Sprintf("prove/n=%d", n), Unit: "proof", Run: merkleProve(n)},
		Case{Stage: "merkle", Name: fmt.Sprintf("prove/n=%d/tree", n), Unit: "proof", Run: merkleTreeProve(n)},
		Case{Stage: "merkle", Name: fmt.Sprintf("verify/n=%d", n), Unit: "proof", Run: merkleVerify(n)},
	)
	return cases
}

// merkleLeaves returns n distinct leaf hashes.
func merkleLeaves(n int) []hash.Digest {
	leaves := make([]hash.Digest, n)
	var buf [8]byte
	for i := range leaves {
		binary.BigEndian.PutUint64(buf[:], uint64(i))
		leaves[i] = merkle.LeafHash(buf[:])
	}
	return leaves
}

// merkleRoot times the root of n leaves; workers 1 is the sequential root,
// 0 is ParallelRoot with GOMAXPROCS workers.
func merkleRoot(n, workers int) func(b *testing.B) {
	return func(b *testing.B) {
		leaves := merkleLeaves(n)
		b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "gomaxprocs")
		b.ResetTimer()
		for range b.N {
			if workers == 1 {
				merkle.RootFromLeafHashes(leaves)
			} else {
				merkle.ParallelRoot(leaves, workers)
			}
		}
	}
}

func merkleTree(n int) func(b *testing.B) {
	return func(b *testing.B) {
		leaves := merkleLeaves(n)
		b.ResetTimer()
		for range b.N {
			merkle.NewTree(leaves)
		}
	}
}

// merkleProve times merkle.Prove, which hashes the whole tree per proof.
func merkleProve(n int) func(b *testing.B) {
	return func(b *testing.B) {
		leaves := merkleLeaves(n)
		b.ResetTimer()
		for i := range b.N {
			if _, err := merkle.Prove(leaves, uint64(i%n)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// merkleTreeProve times a proof from a built tree, the producer's path when
// it proves every relay message of a block.
func merkleTreeProve(n int) func(b *testing.B) {
	return func(b *testing.B) {
		tree := merkle.NewTree(merkleLeaves(n))
		b.ResetTimer()
		for i := range b.N {
			if _, err := tree.Prove(uint64(i % n)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// merkleVerify times Verify over a rotating set of proofs (different
// indices have different depths).
func merkleVerify(n int) func(b *testing.B) {
	return func(b *testing.B) {
		leaves := merkleLeaves(n)
		tree := merkle.NewTree(leaves)
		root := tree.Root()
		const distinct = 256
		proofs := make([]merkle.Proof, distinct)
		for i := range proofs {
			p, err := tree.Prove(uint64(i * (n / distinct)))
			if err != nil {
				b.Fatal(err)
			}
			proofs[i] = p
		}
		b.ResetTimer()
		for i := range b.N {
			p := proofs[i%distinct]
			if err := merkle.Verify(root, leaves[p.Index], p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// merkleComparisons states the parallel speedup of the largest root in the
// sweep. With one core there is nothing to gain, and the bound only asks
// that splitting the work costs little.
func merkleComparisons(cfg Config) []Comparison {
	sizes := merkleRootSizes(cfg)
	n := sizes[len(sizes)-1]
	target := 1.05
	if runtime.GOMAXPROCS(0) >= 2 {
		target = 0.65
	}
	return []Comparison{{
		Name:        fmt.Sprintf("merkle root parallel vs sequential, n=%d", n),
		Numerator:   fmt.Sprintf("merkle/root/n=%d/parallel", n),
		Denominator: fmt.Sprintf("merkle/root/n=%d/sequential", n),
		Target:      target,
		AtMost:      true,
	}}
}
