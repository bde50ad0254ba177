package bench

import (
	"testing"
)

// BenchmarkStages runs every case under `go test -bench`, with the same
// bodies as `thinkey bench`:
//
//	go test -run '^$' -bench 'Stages/bls/' ./bench
func BenchmarkStages(b *testing.B) {
	for _, c := range Cases(Config{Dir: b.TempDir()}) {
		b.Run(c.FullName(), c.Run)
	}
}
