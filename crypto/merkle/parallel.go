package merkle

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/thinkey/thinkey/crypto/hash"
)

// parallelThreshold is the leaf count below which ParallelRoot hashes on the
// calling goroutine: under it, starting and joining goroutines and copying
// the leaves cost about as much as the hashing they share. Measured with
// BenchmarkParallelThreshold (2 workers, 2-core Xeon with SHA-NI, machine
// under other load): an inner node costs about 130 ns (its 65-byte preimage
// is two SHA-256 blocks); at 1024 leaves parallel saves 4% (133 -> 128 µs),
// at 2048 about 20% (267-338 -> 209-251 µs), at 4096 35% (531 -> 346 µs).
const parallelThreshold = 2048

// chunksPerWorker is how many subtrees each worker gets on average. More
// subtrees than workers lets a worker that was descheduled fall behind
// without leaving the others idle at the end.
const chunksPerWorker = 4

// ParallelRoot returns the same root as [RootFromLeafHashes], computed by up
// to workers goroutines (workers <= 0 means runtime.GOMAXPROCS(0)).
//
// The leaves are cut into subtrees of 2^k leaves at multiples of 2^k. Such a
// subtree is a node of the whole tree at level k whatever the odd-node
// promotions elsewhere, and the last, partial subtree reduces to the last
// node at level k by the same promotion rule, so hashing the subtree roots
// as a tree of their own gives the sequential root exactly.
func ParallelRoot(leafHashes []hash.Digest, workers int) hash.Digest {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n := len(leafHashes)
	if workers == 1 || n < parallelThreshold {
		return RootFromLeafHashes(leafHashes)
	}
	perChunk := (n + workers*chunksPerWorker - 1) / (workers * chunksPerWorker)
	return parallelRoot(leafHashes, workers, perChunk)
}

// parallelRoot hashes subtrees of chunkLeaves leaves (rounded up to a power
// of two) on up to workers goroutines, then the tree of their roots.
func parallelRoot(leafHashes []hash.Digest, workers, chunkLeaves int) hash.Digest {
	n := len(leafHashes)
	if n == 0 {
		return EmptyRoot()
	}
	chunkLeaves = ceilPowerOfTwo(chunkLeaves)
	chunks := (n + chunkLeaves - 1) / chunkLeaves
	workers = min(workers, chunks)
	if workers <= 1 {
		return RootFromLeafHashes(leafHashes)
	}

	// Each subtree is reduced in place inside its own window of this copy,
	// so the goroutines never touch the same element.
	level := make([]hash.Digest, n)
	copy(level, leafHashes)
	roots := make([]hash.Digest, chunks)
	var next atomic.Int64
	work := func() {
		h := newInnerHasher()
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			lo := c * chunkLeaves
			hi := min(lo+chunkLeaves, n)
			roots[c] = reduceInPlace(level[lo:hi], h)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	return reduceInPlace(roots, newInnerHasher())
}

// ceilPowerOfTwo returns the smallest power of two >= n, and 1 for n <= 1.
func ceilPowerOfTwo(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}
