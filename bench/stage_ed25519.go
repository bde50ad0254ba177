package bench

import (
	stded25519 "crypto/ed25519"
	cryptorand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/thinkey/thinkey/crypto/ed25519"
)

// The ed25519 stage measures account-message signatures: signing, single
// verification under the node's rule (ZIP-215, curve25519-voi), Go's
// crypto/ed25519 single verification as a reference point only (its rule is
// not the node's), and batch verification over a sweep of batch sizes.

// ed25519MessageSize is the length of every signed payload, about the size
// of an account transfer's canonical encoding.
const ed25519MessageSize = 128

// ed25519SingleRing is how many distinct signatures the single-signature
// cases cycle through, so that one entry's data does not stay hot in cache.
const ed25519SingleRing = 64

// ed25519BatchSizes is the batch-size sweep.
func ed25519BatchSizes(cfg Config) []int {
	if cfg.Quick {
		return []int{64}
	}
	return []int{16, 64, 256, 1024}
}

func ed25519Cases(cfg Config) []Case {
	single := newEd25519Fixture(ed25519SingleRing)
	cases := []Case{
		{Stage: "ed25519", Name: "sign", Unit: "sig", Run: single.benchSign},
		{Stage: "ed25519", Name: "verify/single-voi", Unit: "sig", Run: single.benchVerifySingle},
		{Stage: "ed25519", Name: "verify/single-stdlib", Unit: "sig", Run: single.benchVerifyStdlib},
	}
	for _, n := range ed25519BatchSizes(cfg) {
		fixture := newEd25519Fixture(n)
		cases = append(cases, Case{
			Stage: "ed25519",
			Name:  fmt.Sprintf("verify/batch/n=%d", n),
			Unit:  fmt.Sprintf("%d sigs", n),
			Run:   fixture.benchVerifyBatch,
		})
	}
	return cases
}

// ed25519ComparedBatch is the batch size whose per-signature cost the
// comparisons state. A quick run does not measure it, so it states none.
const ed25519ComparedBatch = 1024

func ed25519Comparisons(Config) []Comparison {
	n := ed25519ComparedBatch
	batch := fmt.Sprintf("ed25519/verify/batch/n=%d", n)
	return []Comparison{
		{
			// The design's bound: batching must make a signature at least
			// 2.5 times cheaper than the standard library's single verify.
			Name:        fmt.Sprintf("ed25519 batch n=%d per sig / stdlib single (cost fraction)", n),
			Numerator:   batch,
			Denominator: "ed25519/verify/single-stdlib",
			Scale:       float64(n),
			Target:      0.4,
			AtMost:      true,
		},
		{
			// Against the single verify the node would otherwise run (same
			// rule, same library): batching is worth its complexity only if
			// it at least halves the cost.
			Name:        fmt.Sprintf("ed25519 batch n=%d per sig / voi single (cost fraction)", n),
			Numerator:   batch,
			Denominator: "ed25519/verify/single-voi",
			Scale:       float64(n),
			Target:      0.5,
			AtMost:      true,
		},
	}
}

// ed25519Fixture holds n signed messages by n distinct signers. It is built
// on the first run of a case that uses it and reused by later runs, since
// testing.Benchmark calls a case several times while it sizes b.N.
type ed25519Fixture struct {
	n    int
	keys []ed25519.PrivateKey
	pubs []ed25519.PublicKey
	msgs [][]byte
	sigs []ed25519.Signature
}

func newEd25519Fixture(n int) *ed25519Fixture { return &ed25519Fixture{n: n} }

func (f *ed25519Fixture) build(b *testing.B) {
	if f.keys != nil {
		return
	}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(f.n))
	rnd := rand.NewChaCha8(seed) // fixed inputs, so runs measure the same work
	for range f.n {
		priv, err := ed25519.GenerateKey(rnd)
		if err != nil {
			b.Fatal(err)
		}
		msg := make([]byte, ed25519MessageSize)
		_, _ = rnd.Read(msg) // ChaCha8.Read never fails
		f.keys = append(f.keys, priv)
		f.pubs = append(f.pubs, priv.Public())
		f.msgs = append(f.msgs, msg)
		f.sigs = append(f.sigs, ed25519.Sign(priv, msg))
	}
}

func (f *ed25519Fixture) benchSign(b *testing.B) {
	f.build(b)
	b.SetBytes(ed25519MessageSize)
	b.ResetTimer()
	for i := range b.N {
		j := i % f.n
		_ = ed25519.Sign(f.keys[j], f.msgs[j])
	}
}

func (f *ed25519Fixture) benchVerifySingle(b *testing.B) {
	f.build(b)
	b.SetBytes(ed25519MessageSize)
	b.ResetTimer()
	for i := range b.N {
		j := i % f.n
		if !ed25519.Verify(f.pubs[j], f.msgs[j], f.sigs[j]) {
			b.Fatalf("signature %d rejected", j)
		}
	}
}

func (f *ed25519Fixture) benchVerifyStdlib(b *testing.B) {
	f.build(b)
	stdPubs := make([]stded25519.PublicKey, f.n)
	for i := range f.pubs {
		stdPubs[i] = f.pubs[i][:]
	}
	b.SetBytes(ed25519MessageSize)
	b.ResetTimer()
	for i := range b.N {
		j := i % f.n
		if !stded25519.Verify(stdPubs[j], f.msgs[j], f.sigs[j][:]) {
			b.Fatalf("signature %d rejected by crypto/ed25519", j)
		}
	}
}

// benchVerifyBatch times filling and verifying a batch of all n signatures,
// with production randomness (crypto/rand), and reports the cost per
// signature as ns/sig.
func (f *ed25519Fixture) benchVerifyBatch(b *testing.B) {
	f.build(b)
	batch := ed25519.NewBatch(f.n)
	b.SetBytes(int64(f.n) * ed25519MessageSize)
	b.ResetTimer()
	for range b.N {
		batch.Reset()
		for j := range f.n {
			batch.Add(f.pubs[j], f.msgs[j], f.sigs[j])
		}
		if allValid, _ := batch.Verify(cryptorand.Reader); !allValid {
			b.Fatal("batch of valid signatures rejected")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*f.n), "ns/sig")
}
