package merkle

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/thinkey/thinkey/crypto/hash"
)

// BenchmarkParallelThreshold compares the sequential root with the forced
// parallel split around the sizes where parallelThreshold is chosen:
//
//	go test -run '^$' -bench ParallelThreshold ./crypto/merkle
func BenchmarkParallelThreshold(b *testing.B) {
	workers := runtime.GOMAXPROCS(0)
	for _, n := range []int{128, 256, 512, 1024, 2048, 4096} {
		leaves := randomLeafHashes(n, 1)
		b.Run(fmt.Sprintf("n=%d/sequential", n), func(b *testing.B) {
			for b.Loop() {
				RootFromLeafHashes(leaves)
			}
		})
		perChunk := (n + workers*chunksPerWorker - 1) / (workers * chunksPerWorker)
		b.Run(fmt.Sprintf("n=%d/parallel", n), func(b *testing.B) {
			for b.Loop() {
				parallelRoot(leaves, workers, perChunk)
			}
		})
	}
}

// relayBatch is the relay layer's case: a destination block proves 700
// random messages of a source block whose relay tree has 2,048 leaves.
type relayBatch struct {
	tree    *Tree
	indices []uint64
	proven  []hash.Digest
	multi   MultiProof
	paths   []Proof
}

func newRelayBatch(b *testing.B) relayBatch {
	const leafCount, provenCount = 2048, 700
	leaves := randomLeafHashes(leafCount, 11)
	tree := NewTree(leaves)
	rng := rand.New(rand.NewPCG(1, 2))
	indices := make([]uint64, 0, provenCount)
	for _, i := range rng.Perm(leafCount)[:provenCount] {
		indices = append(indices, uint64(i))
	}
	slices.Sort(indices)
	multi, err := tree.ProveMulti(indices)
	if err != nil {
		b.Fatal(err)
	}
	return relayBatch{
		tree:    tree,
		indices: indices,
		proven:  pickLeaves(leaves, indices),
		multi:   multi,
		paths:   singlePaths(b, tree, indices),
	}
}

// BenchmarkVerifyMulti compares one multi-proof of the relay batch with one
// single proof per leaf, and reports the siblings each carries:
//
//	go test -run '^$' -bench 'Multi' ./crypto/merkle
func BenchmarkVerifyMulti(b *testing.B) {
	batch := newRelayBatch(b)
	root := batch.tree.Root()
	b.Run("multi", func(b *testing.B) {
		for b.Loop() {
			if err := VerifyMulti(root, batch.proven, batch.multi); err != nil {
				b.Fatal(err)
			}
		}
		// After the loop: b.Loop resets the metrics when it starts timing.
		b.ReportMetric(float64(len(batch.multi.Siblings)), "siblings")
	})
	b.Run("singles", func(b *testing.B) {
		siblings := 0
		for _, p := range batch.paths {
			siblings += len(p.Siblings)
		}
		for b.Loop() {
			for k, p := range batch.paths {
				if err := Verify(root, batch.proven[k], p); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(siblings), "siblings")
	})
}

// BenchmarkMultiFromPaths merges the 700 single proofs of the relay batch.
func BenchmarkMultiFromPaths(b *testing.B) {
	batch := newRelayBatch(b)
	for b.Loop() {
		if _, err := MultiFromPaths(batch.paths); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProveMulti builds the multi-proof of the relay batch from a Tree.
func BenchmarkProveMulti(b *testing.B) {
	batch := newRelayBatch(b)
	for b.Loop() {
		if _, err := batch.tree.ProveMulti(batch.indices); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMultiPaths verifies the relay batch's multi-proof and splits it
// into its 700 single proofs.
func BenchmarkMultiPaths(b *testing.B) {
	batch := newRelayBatch(b)
	root := batch.tree.Root()
	for b.Loop() {
		if _, err := batch.multi.Paths(root, batch.proven); err != nil {
			b.Fatal(err)
		}
	}
}
