package bench

import (
	"fmt"
	"testing"

	"github.com/thinkey/thinkey/accel"
	"github.com/thinkey/thinkey/crypto/hash"
)

// The sha256 stage times every SHA-256 backend of crypto/hash on the input
// sizes the node hashes: 64 B (Merkle inner nodes), 256 B (message ids),
// 1 KiB, 16 KiB (block-body chunks) and 1 MiB (large blocks). Cases call the
// backend's Sum directly, so they measure that backend whatever is
// installed. The "select" case is the start-up cost of accel's measurement.

// sha256Sizes are the input sizes of the sweep.
func sha256Sizes(cfg Config) []int {
	if cfg.Quick {
		return []int{64, 16 << 10}
	}
	return []int{64, 256, 1 << 10, 16 << 10, 1 << 20}
}

// sizeLabel names a byte count as the case names do: 64B, 1KiB, 1MiB.
func sizeLabel(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	default:
		return fmt.Sprintf("%dB", n)
	}
}

func sha256Cases(cfg Config) []Case {
	var cases []Case
	for _, size := range sha256Sizes(cfg) {
		for _, backend := range hash.Backends() {
			cases = append(cases, Case{
				Stage: "sha256",
				Name:  backend.Name + "/" + sizeLabel(size),
				Unit:  "hash",
				Run:   sha256Sum(backend, size),
			})
		}
	}
	cases = append(cases, Case{Stage: "sha256", Name: "select", Unit: "selection", Run: sha256Select})
	return cases
}

func sha256Sum(backend hash.Backend, size int) func(b *testing.B) {
	return func(b *testing.B) {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i)
		}
		sum := backend.Sum
		b.SetBytes(int64(size))
		b.ResetTimer()
		for range b.N {
			sum(data)
		}
	}
}

// sha256Select times accel.SelectHashBackend with its defaults and reports
// the last run's score ratio as "simd/stdlib" (below 0.97 means the node
// would install sha256-simd). It restores the backend that was active.
func sha256Select(b *testing.B) {
	prev := hash.Active()
	defer hash.Use(prev)
	var timings []accel.BackendTiming
	b.ResetTimer()
	for range b.N {
		var err error
		if _, timings, err = accel.SelectHashBackend(accel.SelectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	scores := map[string]float64{}
	for _, t := range timings {
		scores[t.Name] = t.Score
	}
	if std, simd := scores[hash.Stdlib.Name], scores[hash.SIMD.Name]; std > 0 && simd > 0 {
		b.ReportMetric(simd/std, "simd/stdlib")
	}
}

// sha256Comparisons states sha256-simd's cost relative to the standard
// library at each size. The target (at most 1) only says whether simd is
// not slower; the figure that matters is the ratio, which decides what
// accel installs.
func sha256Comparisons(cfg Config) []Comparison {
	var out []Comparison
	for _, size := range sha256Sizes(cfg) {
		label := sizeLabel(size)
		out = append(out, Comparison{
			Name:        "sha256-simd vs stdlib, " + label,
			Numerator:   "sha256/" + hash.SIMD.Name + "/" + label,
			Denominator: "sha256/" + hash.Stdlib.Name + "/" + label,
			Target:      1.0,
			AtMost:      true,
		})
	}
	return out
}
