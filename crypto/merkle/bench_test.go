package merkle

import (
	"fmt"
	"runtime"
	"testing"
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
