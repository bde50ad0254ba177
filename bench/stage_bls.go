package bench

import (
	cryptorand "crypto/rand"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/crypto/hash"
)

// The bls stage measures the BLS12-381 operations of consensus: key
// generation, signing, single verification, decoding with the subgroup
// check, aggregate verification, and the two batch paths against checking
// one signature at a time:
//
//   - votes/n=N: a committee of N members votes on one block hash. Both
//     sides start from the compressed signatures as they arrive from the
//     network, so decoding (decompression and the G2 subgroup check) is
//     counted on both sides; the members' public keys are decoded once per
//     epoch and are not. "one-by-one" decodes and Verifies each vote,
//     "batch" decodes each vote and calls VerifySameMessage once, and
//     "batch-predecoded" is VerifySameMessage alone, to show how the batch
//     cost splits between decoding and the aggregate check.
//     "batch-one-invalid" (largest committee only) is "batch" with one
//     vote signed over another message, so bisection runs.
//   - batch/n=N: N signatures over N distinct messages, already decoded,
//     verified one at a time or with BatchVerify.
//
// The batch coefficients come from crypto/rand, as they do in the node.

// blsMessageSize is the length of every signed payload: a block hash.
const blsMessageSize = hash.Size

// blsAggregateVerifySize is how many distinct (key, message) pairs the
// aggregate-verify case checks against one aggregate signature.
const blsAggregateVerifySize = 16

// blsCommitteeSizes is the committee-size sweep; the largest size is the one
// the target is stated for.
func blsCommitteeSizes(cfg Config) []int {
	if cfg.Quick {
		return []int{4, 100}
	}
	return []int{4, 16, 64, 100, 200, 400}
}

// blsVoteTarget is the bound on batch over one-by-one cost for a
// full committee's votes; smaller committees must merely not lose.
const (
	blsVoteTarget     = 0.10
	blsVoteTargetSize = 400
)

// blsFixture is a committee with its votes on one block hash and one
// signature per member over a distinct message.
type blsFixture struct {
	ikm       [][]byte
	secrets   []*bls.SecretKey
	keys      []*bls.PublicKey
	blockHash []byte
	// votes[i] is member i's compressed signature of blockHash.
	votes [][]byte
	// messages[i] is a distinct message signed by member i as signed[i].
	messages [][]byte
	signed   []*bls.Signature
}

func newBLSFixture(members int) (*blsFixture, error) {
	fx := &blsFixture{}
	digest := hash.Sum256([]byte("bench bls block"))
	fx.blockHash = digest[:]
	for i := range members {
		ikm := hash.Sum256(fmt.Appendf(nil, "bench bls member %d", i))
		sk, err := bls.GenerateKey(ikm[:])
		if err != nil {
			return nil, fmt.Errorf("bls fixture: member %d: %w", i, err)
		}
		msg := hash.Sum256(fmt.Appendf(nil, "bench bls message %d", i))
		fx.ikm = append(fx.ikm, ikm[:])
		fx.secrets = append(fx.secrets, sk)
		fx.keys = append(fx.keys, sk.PublicKey())
		fx.votes = append(fx.votes, bls.Sign(sk, fx.blockHash).Bytes())
		fx.messages = append(fx.messages, msg[:])
		fx.signed = append(fx.signed, bls.Sign(sk, msg[:]))
	}
	return fx, nil
}

// blsCase binds a benchmark body to the lazily built fixture.
func blsCase(name, unit string, fixture func() (*blsFixture, error), body func(*testing.B, *blsFixture)) Case {
	return Case{Stage: "bls", Name: name, Unit: unit, Run: func(b *testing.B) {
		fx, err := fixture()
		if err != nil {
			b.Fatal(err)
		}
		body(b, fx)
	}}
}

func blsCases(cfg Config) []Case {
	sizes := blsCommitteeSizes(cfg)
	largest := max(sizes[len(sizes)-1], blsAggregateVerifySize)
	// The fixture takes a while to build for a full committee, so it is built
	// on first use, once per call of blsCases, and only if a bls case runs.
	fixture := sync.OnceValues(func() (*blsFixture, error) { return newBLSFixture(largest) })
	cases := []Case{
		blsCase("keygen", "key", fixture, benchBLSKeygen),
		blsCase("sign", "sig", fixture, benchBLSSign),
		blsCase("verify/single", "sig", fixture, benchBLSVerify),
		blsCase("decode/signature", "sig", fixture, benchBLSDecodeSignature),
		blsCase("decode/public-key", "key", fixture, benchBLSDecodePublicKey),
		blsCase(fmt.Sprintf("verify/aggregate/n=%d", blsAggregateVerifySize), fmt.Sprintf("%d sigs", blsAggregateVerifySize), fixture,
			func(b *testing.B, fx *blsFixture) { benchBLSAggregateVerify(b, fx, blsAggregateVerifySize) }),
	}
	for _, n := range sizes {
		votes := fmt.Sprintf("%d votes", n)
		sigs := fmt.Sprintf("%d sigs", n)
		cases = append(cases,
			blsCase(fmt.Sprintf("votes/n=%d/one-by-one", n), votes, fixture,
				func(b *testing.B, fx *blsFixture) { benchBLSVotesOneByOne(b, fx, n) }),
			blsCase(fmt.Sprintf("votes/n=%d/batch", n), votes, fixture,
				func(b *testing.B, fx *blsFixture) { benchBLSVotesBatch(b, fx, n) }),
			blsCase(fmt.Sprintf("votes/n=%d/batch-predecoded", n), votes, fixture,
				func(b *testing.B, fx *blsFixture) { benchBLSVotesPredecoded(b, fx, n) }),
			blsCase(fmt.Sprintf("batch/n=%d/one-by-one", n), sigs, fixture,
				func(b *testing.B, fx *blsFixture) { benchBLSDistinctOneByOne(b, fx, n) }),
			blsCase(fmt.Sprintf("batch/n=%d/distinct", n), sigs, fixture,
				func(b *testing.B, fx *blsFixture) { benchBLSDistinctBatch(b, fx, n) }),
		)
	}
	largestN := sizes[len(sizes)-1]
	cases = append(cases, blsCase(fmt.Sprintf("votes/n=%d/batch-one-invalid", largestN), fmt.Sprintf("%d votes", largestN), fixture,
		func(b *testing.B, fx *blsFixture) { benchBLSVotesOneInvalid(b, fx, largestN) }))
	return cases
}

func blsComparisons(cfg Config) []Comparison {
	var out []Comparison
	for _, n := range blsCommitteeSizes(cfg) {
		voteTarget := 1.0
		if n == blsVoteTargetSize {
			voteTarget = blsVoteTarget
		}
		out = append(out,
			Comparison{
				Name:        fmt.Sprintf("bls votes n=%d: batch / one-by-one", n),
				Numerator:   fmt.Sprintf("bls/votes/n=%d/batch", n),
				Denominator: fmt.Sprintf("bls/votes/n=%d/one-by-one", n),
				Target:      voteTarget,
				AtMost:      true,
			},
			Comparison{
				Name:        fmt.Sprintf("bls distinct n=%d: batch / one-by-one", n),
				Numerator:   fmt.Sprintf("bls/batch/n=%d/distinct", n),
				Denominator: fmt.Sprintf("bls/batch/n=%d/one-by-one", n),
				Target:      1.0,
				AtMost:      true,
			},
		)
	}
	return out
}

func benchBLSKeygen(b *testing.B, fx *blsFixture) {
	i := 0
	for b.Loop() {
		sk, err := bls.GenerateKey(fx.ikm[i%len(fx.ikm)])
		if err != nil || sk.PublicKey() == nil {
			b.Fatalf("keygen: %v", err)
		}
		i++
	}
}

func benchBLSSign(b *testing.B, fx *blsFixture) {
	b.SetBytes(blsMessageSize)
	i := 0
	for b.Loop() {
		if bls.Sign(fx.secrets[i%len(fx.secrets)], fx.blockHash) == nil {
			b.Fatal("sign failed")
		}
		i++
	}
}

func benchBLSVerify(b *testing.B, fx *blsFixture) {
	b.SetBytes(blsMessageSize)
	i := 0
	for b.Loop() {
		k := i % len(fx.keys)
		if !bls.Verify(fx.keys[k], fx.messages[k], fx.signed[k]) {
			b.Fatal("valid signature rejected")
		}
		i++
	}
}

func benchBLSDecodeSignature(b *testing.B, fx *blsFixture) {
	i := 0
	for b.Loop() {
		if _, err := bls.SignatureFromBytes(fx.votes[i%len(fx.votes)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchBLSDecodePublicKey(b *testing.B, fx *blsFixture) {
	encoded := make([][]byte, len(fx.keys))
	for i, pk := range fx.keys {
		encoded[i] = pk.Bytes()
	}
	i := 0
	for b.Loop() {
		if _, err := bls.PublicKeyFromBytes(encoded[i%len(encoded)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchBLSAggregateVerify(b *testing.B, fx *blsFixture, n int) {
	aggregate, err := bls.AggregateSignatures(fx.signed[:n])
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !bls.AggregateVerify(fx.keys[:n], fx.messages[:n], aggregate) {
			b.Fatal("valid aggregate rejected")
		}
	}
}

// benchBLSVotesOneByOne decodes and verifies each vote on its own, as a node
// without batching would.
func benchBLSVotesOneByOne(b *testing.B, fx *blsFixture, n int) {
	for b.Loop() {
		for i := range n {
			sig, err := bls.SignatureFromBytes(fx.votes[i])
			if err != nil {
				b.Fatal(err)
			}
			if !bls.Verify(fx.keys[i], fx.blockHash, sig) {
				b.Fatalf("vote %d rejected", i)
			}
		}
	}
}

// benchBLSVotesBatch decodes each vote and checks them all at once.
func benchBLSVotesBatch(b *testing.B, fx *blsFixture, n int) {
	sigs := make([]*bls.Signature, n)
	for b.Loop() {
		for i := range n {
			sig, err := bls.SignatureFromBytes(fx.votes[i])
			if err != nil {
				b.Fatal(err)
			}
			sigs[i] = sig
		}
		if bad := bls.VerifySameMessage(fx.blockHash, fx.keys[:n], sigs, cryptorand.Reader); bad != nil {
			b.Fatalf("votes %v rejected", bad)
		}
	}
}

// benchBLSVotesPredecoded is the aggregate check alone, on decoded votes.
func benchBLSVotesPredecoded(b *testing.B, fx *blsFixture, n int) {
	sigs := make([]*bls.Signature, n)
	for i := range n {
		sig, err := bls.SignatureFromBytes(fx.votes[i])
		if err != nil {
			b.Fatal(err)
		}
		sigs[i] = sig
	}
	for b.Loop() {
		if bad := bls.VerifySameMessage(fx.blockHash, fx.keys[:n], sigs, cryptorand.Reader); bad != nil {
			b.Fatalf("votes %v rejected", bad)
		}
	}
}

// benchBLSVotesOneInvalid is benchBLSVotesBatch with the middle vote
// replaced by a valid signature of another message, so the aggregate check
// fails and bisection has to name it.
func benchBLSVotesOneInvalid(b *testing.B, fx *blsFixture, n int) {
	votes := slices.Clone(fx.votes[:n])
	invalid := n / 2
	votes[invalid] = fx.signed[invalid].Bytes()
	sigs := make([]*bls.Signature, n)
	for b.Loop() {
		for i := range n {
			sig, err := bls.SignatureFromBytes(votes[i])
			if err != nil {
				b.Fatal(err)
			}
			sigs[i] = sig
		}
		if bad := bls.VerifySameMessage(fx.blockHash, fx.keys[:n], sigs, cryptorand.Reader); len(bad) != 1 || bad[0] != invalid {
			b.Fatalf("invalid votes %v, want [%d]", bad, invalid)
		}
	}
}

func benchBLSDistinctOneByOne(b *testing.B, fx *blsFixture, n int) {
	for b.Loop() {
		for i := range n {
			if !bls.Verify(fx.keys[i], fx.messages[i], fx.signed[i]) {
				b.Fatalf("signature %d rejected", i)
			}
		}
	}
}

func benchBLSDistinctBatch(b *testing.B, fx *blsFixture, n int) {
	sets := make([]bls.SignatureSet, n)
	for i := range sets {
		sets[i] = bls.SignatureSet{PublicKey: fx.keys[i], Message: fx.messages[i], Signature: fx.signed[i]}
	}
	for b.Loop() {
		if !bls.BatchVerify(sets, cryptorand.Reader) {
			b.Fatal("valid batch rejected")
		}
	}
}
