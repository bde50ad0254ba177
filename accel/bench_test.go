package accel

import (
	"testing"

	"github.com/thinkey/thinkey/crypto/hash"
)

// BenchmarkSelectHashBackend is the start-up cost of the measurement with
// the default options:
//
//	go test -run '^$' -bench SelectHashBackend ./accel
func BenchmarkSelectHashBackend(b *testing.B) {
	prev := hash.Active()
	defer hash.Use(prev)
	for b.Loop() {
		if _, _, err := SelectHashBackend(SelectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
