package sim

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"github.com/thinkey/thinkey/crypto/hash"
)

// streamKind names a family of random streams derived from the world seed.
type streamKind uint64

const (
	// streamNetwork: one stream per sending node, for the fate of its
	// messages (loss, jitter, reordering, duplication).
	streamNetwork streamKind = 1
	// streamNode: one stream per node, handed to its handler (World.Rand).
	streamNode streamKind = 2
	// streamFaults: one stream per fault kind, plus one for the swarm
	// choice, used by GenerateFaultPlan.
	streamFaults streamKind = 3
)

// streamLabel separates these derivations from any other use of SHA-256.
const streamLabel = "thinkey/sim/stream/v1"

// newStream returns the random stream (kind, index) of seed. Each stream is
// seeded by SHA-256 over (label, seed, kind, index), so streams are
// independent of each other and of how many exist: adding a node or a fault
// kind creates a new stream and leaves every other one untouched.
func newStream(seed uint64, kind streamKind, index uint64) *rand.Rand {
	var buf [len(streamLabel) + 24]byte
	n := copy(buf[:], streamLabel)
	binary.BigEndian.PutUint64(buf[n:], seed)
	binary.BigEndian.PutUint64(buf[n+8:], uint64(kind))
	binary.BigEndian.PutUint64(buf[n+16:], index)
	d := hash.Sum256(buf[:])
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(d[0:8]), binary.BigEndian.Uint64(d[8:16])))
}

// negLog returns -ln(x) for x in (0, 1].
//
// math.Log is assembly on amd64 and s390x and pure Go elsewhere, and the two
// may differ in the last bit; a seed must replay the same on every machine,
// so this uses only +, -, * and / with every product rounded explicitly
// (float64 conversions forbid fused multiply-add, which some architectures
// would otherwise use). It is the atanh series of ln on the mantissa, exact
// to a few ulps, which is all a delay distribution needs.
func negLog(x float64) float64 {
	if !(x > 0) || x > 1 {
		return 0
	}
	frac, exp := math.Frexp(x) // x = frac * 2^exp, frac in [0.5, 1)
	// ln(frac) = 2 atanh(s) with s = (frac-1)/(frac+1) in [-1/3, 0].
	s := float64((frac - 1) / (frac + 1))
	s2 := float64(s * s)
	term := s
	sum := 0.0
	for k := 1; k < 40; k += 2 {
		sum = float64(sum + float64(term/float64(k)))
		term = float64(term * s2)
	}
	ln := float64(2*sum) + float64(float64(exp)*math.Ln2)
	return -ln
}
