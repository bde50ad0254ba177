package bls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	blst "github.com/supranational/blst/bindings/go"
	"pgregory.net/rapid"
)

// committee is a pool of signers with their signatures of a few messages,
// made once per test so that property checks pay only for verification.
type committee struct {
	pks    []*PublicKey
	msgs   [][]byte
	sigs   [][]*Signature // sigs[member][message]
	offset *Signature     // a point of G2 used to build cancelling forgeries
}

func newCommittee(t testing.TB, members, messages int) *committee {
	t.Helper()
	c := &committee{}
	for m := range messages {
		c.msgs = append(c.msgs, fmt.Appendf(nil, "block %d", m))
	}
	for k := range members {
		sk := testKey(t, fmt.Sprintf("member %d", k))
		c.pks = append(c.pks, sk.PublicKey())
		row := make([]*Signature, messages)
		for m, msg := range c.msgs {
			row[m] = Sign(sk, msg)
		}
		c.sigs = append(c.sigs, row)
	}
	c.offset = Sign(testKey(t, "offset"), []byte("offset"))
	return c
}

// shifted returns sig + d, or sig - d when negate is set.
func shifted(sig, d *Signature, negate bool) *Signature {
	var p blst.P2
	p.FromAffine(&sig.point)
	if negate {
		p.SubAssign(&d.point)
	} else {
		p.AddAssign(&d.point)
	}
	return &Signature{point: *p.ToAffine()}
}

// seededReader is a reproducible coefficient source for tests.
func seededReader(seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return rand.NewChaCha8(key)
}

func fixedReader(seed byte) io.Reader { return seededReader(uint64(seed)) }

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy source broken") }

// zeroReader draws only zero coefficients, which must not be used.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type corruption int

const (
	intact       corruption = iota
	wrongMessage            // the signer's signature of another message
	wrongSigner             // another member's signature of the message
	identity                // the infinity signature
)

// corrupt draws which entries to spoil and how. Half of the cases are all
// valid, so the single-check path is exercised as much as bisection. A
// cancelling pair adds d to one signature and subtracts it from another: the
// plain sum is unchanged, so only the random coefficients catch it.
func corrupt(t *rapid.T, n int) (kinds []corruption, cancelA, cancelB int) {
	kinds = make([]corruption, n)
	cancelA, cancelB = -1, -1
	if rapid.Bool().Draw(t, "all valid") {
		return kinds, cancelA, cancelB
	}
	kinds = rapid.SliceOfN(rapid.SampledFrom([]corruption{intact, intact, wrongMessage, wrongSigner, identity}), n, n).Draw(t, "kinds")
	if n >= 2 && rapid.Bool().Draw(t, "cancelling pair") {
		cancelA = rapid.IntRange(0, n-1).Draw(t, "cancel a")
		cancelB = (cancelA + rapid.IntRange(1, n-1).Draw(t, "cancel b offset")) % n
	}
	return kinds, cancelA, cancelB
}

// oneByOne is the oracle: the indices Verify rejects.
func oneByOne(pks []*PublicKey, msgs [][]byte, sigs []*Signature) []int {
	var bad []int
	for i := range pks {
		if !Verify(pks[i], msgs[i], sigs[i]) {
			bad = append(bad, i)
		}
	}
	return bad
}

func TestVerifySameMessageMatchesOneByOne(t *testing.T) {
	c := newCommittee(t, 16, 2)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, len(c.pks)).Draw(t, "votes")
		kinds, cancelA, cancelB := corrupt(t, n)
		seed := rapid.Uint64().Draw(t, "seed")
		pks, msgs, sigs := c.pks[:n], make([][]byte, n), make([]*Signature, n)
		var corrupted []int
		for i := range n {
			msgs[i] = c.msgs[0]
			switch kinds[i] {
			case intact:
				sigs[i] = c.sigs[i][0]
			case wrongMessage:
				sigs[i] = c.sigs[i][1]
			case wrongSigner:
				sigs[i] = c.sigs[(i+1)%len(c.pks)][0]
			case identity:
				sigs[i] = &Signature{}
			}
			switch i {
			case cancelA:
				sigs[i] = shifted(sigs[i], c.offset, false)
			case cancelB:
				sigs[i] = shifted(sigs[i], c.offset, true)
			}
			if kinds[i] != intact || i == cancelA || i == cancelB {
				corrupted = append(corrupted, i)
			}
		}
		want := oneByOne(pks, msgs, sigs)
		if !slices.Equal(want, corrupted) {
			t.Fatalf("oracle rejects %v, corrupted %v", want, corrupted)
		}
		rnd := seededReader(seed)
		if got := VerifySameMessage(c.msgs[0], pks, sigs, rnd); !slices.Equal(got, want) {
			t.Fatalf("VerifySameMessage = %v, one by one %v", got, want)
		}
	})
}

func TestBatchVerifyMatchesOneByOne(t *testing.T) {
	c := newCommittee(t, 16, 3)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 16).Draw(t, "sets")
		members := rapid.SliceOfN(rapid.IntRange(0, len(c.pks)-1), n, n).Draw(t, "members")
		messages := rapid.SliceOfN(rapid.IntRange(0, len(c.msgs)-1), n, n).Draw(t, "messages")
		kinds, cancelA, cancelB := corrupt(t, n)
		seed := rapid.Uint64().Draw(t, "seed")
		sets := make([]SignatureSet, n)
		pks, msgs, sigs := make([]*PublicKey, n), make([][]byte, n), make([]*Signature, n)
		var corrupted []int
		for i := range n {
			k, m := members[i], messages[i]
			pks[i], msgs[i] = c.pks[k], c.msgs[m]
			switch kinds[i] {
			case intact:
				sigs[i] = c.sigs[k][m]
			case wrongMessage:
				sigs[i] = c.sigs[k][(m+1)%len(c.msgs)]
			case wrongSigner:
				sigs[i] = c.sigs[(k+1)%len(c.pks)][m]
			case identity:
				sigs[i] = &Signature{}
			}
			switch i {
			case cancelA:
				sigs[i] = shifted(sigs[i], c.offset, false)
			case cancelB:
				sigs[i] = shifted(sigs[i], c.offset, true)
			}
			if kinds[i] != intact || i == cancelA || i == cancelB {
				corrupted = append(corrupted, i)
			}
			sets[i] = SignatureSet{PublicKey: pks[i], Message: msgs[i], Signature: sigs[i]}
		}
		want := oneByOne(pks, msgs, sigs)
		if !slices.Equal(want, corrupted) {
			t.Fatalf("oracle rejects %v, corrupted %v", want, corrupted)
		}
		rnd := seededReader(seed)
		if got := BatchVerify(sets, rnd); got != (want == nil) {
			t.Fatalf("BatchVerify = %v, one by one rejects %v", got, want)
		}
		if got := BatchVerifyFindInvalid(sets, rnd); !slices.Equal(got, want) {
			t.Fatalf("BatchVerifyFindInvalid = %v, one by one %v", got, want)
		}
	})
}

// TestCancellingForgeries shows why the batch checks are randomised: two
// signatures shifted by +d and -d are each invalid while their plain sum is
// the valid aggregate.
func TestCancellingForgeries(t *testing.T) {
	c := newCommittee(t, 4, 1)
	sigs := []*Signature{c.sigs[0][0], shifted(c.sigs[1][0], c.offset, false), c.sigs[2][0], shifted(c.sigs[3][0], c.offset, true)}
	sum, err := AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	if !FastAggregateVerify(c.pks, c.msgs[0], sum) {
		t.Fatal("the forged pair does not cancel in the plain sum")
	}
	want := []int{1, 3}
	if got := VerifySameMessage(c.msgs[0], c.pks, sigs, fixedReader(1)); !slices.Equal(got, want) {
		t.Fatalf("VerifySameMessage = %v, want %v", got, want)
	}
	sets := make([]SignatureSet, len(sigs))
	for i := range sigs {
		sets[i] = SignatureSet{PublicKey: c.pks[i], Message: c.msgs[0], Signature: sigs[i]}
	}
	if BatchVerify(sets, fixedReader(2)) {
		t.Fatal("BatchVerify accepted the forged pair")
	}
	if got := BatchVerifyFindInvalid(sets, fixedReader(3)); !slices.Equal(got, want) {
		t.Fatalf("BatchVerifyFindInvalid = %v, want %v", got, want)
	}
}

// Without usable randomness the batch falls back to checking one at a time
// and still gives the exact answer.
func TestBrokenRandomness(t *testing.T) {
	c := newCommittee(t, 4, 1)
	sigs := []*Signature{c.sigs[0][0], shifted(c.sigs[1][0], c.offset, false), c.sigs[2][0], shifted(c.sigs[3][0], c.offset, true)}
	sets := make([]SignatureSet, len(sigs))
	valid := make([]SignatureSet, len(sigs))
	for i := range sigs {
		sets[i] = SignatureSet{PublicKey: c.pks[i], Message: c.msgs[0], Signature: sigs[i]}
		valid[i] = SignatureSet{PublicKey: c.pks[i], Message: c.msgs[0], Signature: c.sigs[i][0]}
	}
	want := []int{1, 3}
	for _, tc := range []struct {
		name string
		rnd  io.Reader
	}{
		{"nil", nil},
		{"failing", failingReader{}},
		{"only zeros", zeroReader{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := VerifySameMessage(c.msgs[0], c.pks, sigs, tc.rnd); !slices.Equal(got, want) {
				t.Fatalf("VerifySameMessage = %v, want %v", got, want)
			}
			if got := BatchVerifyFindInvalid(sets, tc.rnd); !slices.Equal(got, want) {
				t.Fatalf("BatchVerifyFindInvalid = %v, want %v", got, want)
			}
			if BatchVerify(sets, tc.rnd) || !BatchVerify(valid, tc.rnd) {
				t.Fatal("BatchVerify without randomness gave a wrong answer")
			}
		})
	}
}

func TestBatchMalformedInput(t *testing.T) {
	c := newCommittee(t, 3, 1)
	msg := c.msgs[0]
	good := func(i int) SignatureSet {
		return SignatureSet{PublicKey: c.pks[i], Message: msg, Signature: c.sigs[i][0]}
	}
	for _, tc := range []struct {
		name string
		sets []SignatureSet
		bad  []int
	}{
		{"empty", nil, nil},
		{"nil key", []SignatureSet{good(0), {Message: msg, Signature: c.sigs[1][0]}, good(2)}, []int{1}},
		{"identity key", []SignatureSet{good(0), {PublicKey: &PublicKey{}, Message: msg, Signature: c.sigs[1][0]}}, []int{1}},
		{"nil signature", []SignatureSet{{PublicKey: c.pks[0], Message: msg}, good(1)}, []int{0}},
		{"all malformed", []SignatureSet{{}, {}}, []int{0, 1}},
		{"all valid", []SignatureSet{good(0), good(1), good(2)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BatchVerifyFindInvalid(tc.sets, fixedReader(1)); !slices.Equal(got, tc.bad) {
				t.Fatalf("BatchVerifyFindInvalid = %v, want %v", got, tc.bad)
			}
			wantValid := len(tc.sets) > 0 && tc.bad == nil
			if got := BatchVerify(tc.sets, fixedReader(1)); got != wantValid {
				t.Fatalf("BatchVerify = %v, want %v", got, wantValid)
			}
		})
	}
}

func TestVerifySameMessageMalformedInput(t *testing.T) {
	c := newCommittee(t, 3, 1)
	msg := c.msgs[0]
	sigs := []*Signature{c.sigs[0][0], c.sigs[1][0], c.sigs[2][0]}
	for _, tc := range []struct {
		name string
		pks  []*PublicKey
		sigs []*Signature
		bad  []int
	}{
		{"empty", nil, nil, nil},
		{"all valid", c.pks, sigs, nil},
		{"signature missing", c.pks, sigs[:2], []int{2}},
		{"keys missing", c.pks[:1], sigs, []int{1, 2}},
		{"no keys", nil, sigs, []int{0, 1, 2}},
		{"nil key", []*PublicKey{c.pks[0], nil, c.pks[2]}, sigs, []int{1}},
		{"identity key", []*PublicKey{{}, c.pks[1], c.pks[2]}, sigs, []int{0}},
		{"nil signature", c.pks, []*Signature{sigs[0], sigs[1], nil}, []int{2}},
		{"identity signature", c.pks, []*Signature{sigs[0], {}, sigs[2]}, []int{1}},
		{"everything bad", []*PublicKey{nil, {}}, []*Signature{{}, nil, nil}, []int{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := VerifySameMessage(msg, tc.pks, tc.sigs, fixedReader(1)); !slices.Equal(got, tc.bad) {
				t.Fatalf("VerifySameMessage = %v, want %v", got, tc.bad)
			}
		})
	}
}

// A zero coefficient would drop its signature from the check; it is redrawn
// and the batch path still gives the exact answer.
func TestZeroCoefficientsRedrawn(t *testing.T) {
	c := newCommittee(t, 4, 1)
	sigs := []*Signature{c.sigs[0][0], shifted(c.sigs[1][0], c.offset, false), c.sigs[2][0], shifted(c.sigs[3][0], c.offset, true)}
	zerosThenRandom := func() io.Reader {
		return io.MultiReader(bytes.NewReader(make([]byte, 2*coefficientBytes)), fixedReader(9))
	}
	if got, want := VerifySameMessage(c.msgs[0], c.pks, sigs, zerosThenRandom()), []int{1, 3}; !slices.Equal(got, want) {
		t.Fatalf("VerifySameMessage = %v, want %v", got, want)
	}
	b := &batch{pks: make([]*blst.P1Affine, 3)}
	if !b.drawCoefficients(zerosThenRandom()) {
		t.Fatal("coefficients not drawn")
	}
	for at := 0; at < len(b.coefficients); at += coefficientBytes {
		if bytes.Equal(b.coefficients[at:at+coefficientBytes], make([]byte, coefficientBytes)) {
			t.Fatalf("coefficient %d is zero", at/coefficientBytes)
		}
	}
}
