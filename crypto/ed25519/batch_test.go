package ed25519

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"pgregory.net/rapid"
)

type batchCase struct {
	pub  PublicKey
	msg  []byte
	sig  Signature
	want bool
}

// mixedBatch returns twelve entries, valid and invalid in a known pattern.
func mixedBatch(t tb) []batchCase {
	keys := testKeys(t, 3)
	var out []batchCase
	for i := range 12 {
		priv := keys[i%len(keys)]
		msg := []byte(fmt.Sprintf("message %d", i))
		out = append(out, batchCase{pub: priv.Public(), msg: msg, sig: Sign(priv, msg), want: true})
	}
	out[2].msg = []byte("message 2, altered")
	out[2].want = false
	out[5].pub = keys[0].Public() // signed by keys[2]
	out[5].want = false
	out[7].sig[40] ^= 0x10 // S
	out[7].want = false
	out[8].sig[3] ^= 0x01 // R
	out[8].want = false
	out[11].pub = mustPublicKey(t, notOnCurve)
	out[11].want = false
	return out
}

func TestBatchFindsExactlyTheInvalidEntries(t *testing.T) {
	entries := mixedBatch(t)
	batch := NewBatch(len(entries))
	var wantInvalid []int
	for i, e := range entries {
		batch.Add(e.pub, e.msg, e.sig)
		if !e.want {
			wantInvalid = append(wantInvalid, i)
		}
	}
	allValid, valid := batch.Verify(seededReader(4))
	if allValid {
		t.Fatal("allValid with invalid entries in the batch")
	}
	var gotInvalid []int
	for i, ok := range valid {
		if !ok {
			gotInvalid = append(gotInvalid, i)
		}
	}
	if !slices.Equal(gotInvalid, wantInvalid) {
		t.Fatalf("invalid entries %v, want %v", gotInvalid, wantInvalid)
	}
}

func TestBatchAllValid(t *testing.T) {
	batch := NewBatch(0)
	for _, e := range mixedBatch(t) {
		if e.want {
			batch.Add(e.pub, e.msg, e.sig)
		}
	}
	allValid, valid := batch.Verify(seededReader(5))
	if !allValid || len(valid) != batch.Len() || slices.Contains(valid, false) {
		t.Fatalf("valid batch: allValid %v, entries %v", allValid, valid)
	}
}

func TestEmptyBatchIsAllValid(t *testing.T) {
	rnd := &countingReader{r: seededReader(6)}
	allValid, valid := NewBatch(-1).Verify(rnd)
	if !allValid || valid == nil || len(valid) != 0 {
		t.Fatalf("empty batch: %v %v", allValid, valid)
	}
	if rnd.n != 0 {
		t.Fatalf("empty batch read %d random bytes", rnd.n)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// A seeded source must advance identically whatever the batch holds, or
// simulations would diverge on the contents of a batch.
func TestBatchReadsFixedRandomness(t *testing.T) {
	entries := mixedBatch(t)
	for _, onlyValid := range []bool{true, false} {
		batch := NewBatch(len(entries))
		for _, e := range entries {
			if e.want || !onlyValid {
				batch.Add(e.pub, e.msg, e.sig)
			}
		}
		rnd := &countingReader{r: seededReader(7)}
		batch.Verify(rnd)
		if rnd.n != BatchRandomnessSize {
			t.Errorf("onlyValid=%v: read %d random bytes, want %d", onlyValid, rnd.n, BatchRandomnessSize)
		}
	}
}

// Without randomness the batch falls back to single verification and still
// returns the verdicts of Verify.
func TestBatchWithoutRandomness(t *testing.T) {
	entries := mixedBatch(t)
	batch := NewBatch(len(entries))
	for _, e := range entries {
		batch.Add(e.pub, e.msg, e.sig)
	}
	sources := map[string]io.Reader{
		"nil":                nil,
		"failing":            iotest.ErrReader(errors.New("entropy exhausted")),
		"short":              io.LimitReader(seededReader(8), BatchRandomnessSize-1),
		"one byte at a time": iotest.OneByteReader(seededReader(8)),
	}
	for name, rnd := range sources {
		allValid, valid := batch.Verify(rnd)
		if allValid {
			t.Errorf("%s: allValid with invalid entries", name)
		}
		for i, e := range entries {
			if valid[i] != e.want {
				t.Errorf("%s: entry %d valid=%v, want %v", name, i, valid[i], e.want)
			}
		}
	}
}

func TestBatchResetAndReuse(t *testing.T) {
	entries := mixedBatch(t)
	batch := NewBatch(4)
	for _, e := range entries {
		batch.Add(e.pub, e.msg, e.sig)
	}
	first, firstValid := batch.Verify(seededReader(9))
	second, secondValid := batch.Verify(seededReader(10))
	if first != second || !slices.Equal(firstValid, secondValid) {
		t.Fatal("verifying the same batch twice gave different verdicts")
	}
	batch.Reset()
	if batch.Len() != 0 {
		t.Fatalf("Len after Reset = %d", batch.Len())
	}
	good := entries[0]
	batch.Add(good.pub, good.msg, good.sig)
	if allValid, valid := batch.Verify(seededReader(11)); !allValid || len(valid) != 1 {
		t.Fatalf("reused batch: %v %v", allValid, valid)
	}
}

// entryKind names how a property-test entry is built.
type entryKind int

const (
	kindValid            entryKind = iota // honest signature
	kindMixedOrder                        // honest, with small-order components in A and R (valid under ZIP-215)
	kindSmallOrderZeroS                   // small-order A and R, S = 0 (valid under ZIP-215)
	kindMutatedMessage                    // honest signature, message changed
	kindMutatedSignature                  // honest signature, one byte of R or S changed
	kindSwappedKey                        // signed by one key, presented with another
	kindSPlusL                            // honest signature with S replaced by S + L
	kindEdge                              // A and R from the edge list, S from a fixed list
	kindCount
)

// edgePoint is an encoding the property test may use as A or R.
type edgePoint struct {
	hex        string
	smallOrder bool // decodes to a point of small order
}

var edgePoints = func() []edgePoint {
	out := []edgePoint{{notOnCurve, false}, {largeOrderYPlusP, false}}
	for _, h := range smallOrderEncodings {
		out = append(out, edgePoint{h, true})
	}
	return out
}()

// edgeScalars are S values: only zero can make an edge signature valid.
var edgeScalars = []string{zero32, one32, orderL, allOnes32}

type propertyEntry struct {
	kind entryKind
	pub  PublicKey
	msg  []byte
	sig  Signature
	// want is the verdict known from construction. Mutations of an honest
	// signature are invalid except with negligible probability.
	want bool
}

func drawEntry(t *rapid.T, keys []PrivateKey, torsion []*curve.EdwardsPoint, kinds []entryKind, label string) propertyEntry {
	kind := rapid.SampledFrom(kinds).Draw(t, label+".kind")
	keyIndex := rapid.IntRange(0, len(keys)-1).Draw(t, label+".key")
	priv := keys[keyIndex]
	msg := rapid.SliceOfN(rapid.Byte(), 0, 48).Draw(t, label+".msg")
	e := propertyEntry{kind: kind, pub: priv.Public(), msg: msg}
	switch kind {
	case kindValid:
		e.sig, e.want = Sign(priv, msg), true
	case kindMixedOrder:
		var nonce [64]byte
		copy(nonce[:], rapid.SliceOfN(rapid.Byte(), 64, 64).Draw(t, label+".nonce"))
		torsionA := rapid.SampledFrom(torsion).Draw(t, label+".torsionA")
		torsionR := rapid.SampledFrom(torsion).Draw(t, label+".torsionR")
		e.pub, e.sig = signMixedOrder(t, priv, msg, torsionA, torsionR, nonce)
		e.want = true
	case kindSmallOrderZeroS:
		a := rapid.SampledFrom(smallOrderEncodings).Draw(t, label+".A")
		r := rapid.SampledFrom(smallOrderEncodings).Draw(t, label+".R")
		e.pub, e.sig, e.want = mustPublicKey(t, a), mustSignature(t, r, zero32), true
	case kindMutatedMessage:
		e.sig = Sign(priv, msg)
		if len(msg) == 0 || rapid.Bool().Draw(t, label+".append") {
			e.msg = append(slices.Clone(msg), rapid.Byte().Draw(t, label+".extra"))
		} else {
			e.msg = slices.Clone(msg)
			i := rapid.IntRange(0, len(msg)-1).Draw(t, label+".at")
			e.msg[i] ^= rapid.ByteRange(1, 255).Draw(t, label+".flip")
		}
	case kindMutatedSignature:
		e.sig = Sign(priv, msg)
		i := rapid.IntRange(0, SignatureSize-1).Draw(t, label+".at")
		e.sig[i] ^= rapid.ByteRange(1, 255).Draw(t, label+".flip")
	case kindSwappedKey:
		other := (keyIndex + rapid.IntRange(1, len(keys)-1).Draw(t, label+".other")) % len(keys)
		e.sig, e.pub = Sign(priv, msg), keys[other].Public()
	case kindSPlusL:
		e.sig = Sign(priv, msg)
		addOrderL(t, &e.sig)
	case kindEdge:
		a := rapid.SampledFrom(edgePoints).Draw(t, label+".A")
		r := rapid.SampledFrom(edgePoints).Draw(t, label+".R")
		s := rapid.SampledFrom(edgeScalars).Draw(t, label+".S")
		e.pub, e.sig = mustPublicKey(t, a.hex), mustSignature(t, r.hex, s)
		e.want = a.smallOrder && r.smallOrder && s == zero32
	}
	return e
}

// addOrderL adds L to the S half of sig. S < L < 2^253, so S + L fits.
func addOrderL(t tb, sig *Signature) {
	l := mustHex(t, orderL)
	carry := 0
	for i := range 32 {
		sum := int(sig[32+i]) + int(l[i]) + carry
		sig[32+i] = byte(sum)
		carry = sum >> 8
	}
}

// The invariant the node relies on: the batch accepts exactly what single
// verification accepts, entry by entry, and both match the verdict known
// from how the entry was built.
func TestPropertyBatchAgreesWithSingle(t *testing.T) {
	keys := testKeys(t, 4)
	torsion := make([]*curve.EdwardsPoint, 8)
	for i, enc := range smallOrderEncodings[:8] {
		torsion[i] = decodePoint(t, mustHex(t, enc))
	}
	validKinds := []entryKind{kindValid, kindValid, kindMixedOrder, kindSmallOrderZeroS}
	allKinds := make([]entryKind, 0, kindCount)
	for k := range kindCount {
		allKinds = append(allKinds, k)
	}
	rapid.Check(t, func(t *rapid.T) {
		kinds := allKinds
		if rapid.Bool().Draw(t, "onlyValidKinds") {
			kinds = validKinds // so that all-valid batches are common
		}
		n := rapid.IntRange(1, 40).Draw(t, "n")
		batch := NewBatch(n)
		entries := make([]propertyEntry, n)
		for i := range entries {
			entries[i] = drawEntry(t, keys, torsion, kinds, fmt.Sprintf("entry%d", i))
			batch.Add(entries[i].pub, entries[i].msg, entries[i].sig)
		}
		allValid, valid := batch.Verify(seededReader(rapid.Uint64().Draw(t, "randomness")))
		if len(valid) != n {
			t.Fatalf("%d verdicts for %d entries", len(valid), n)
		}
		allSingle := true
		for i, e := range entries {
			single := Verify(e.pub, e.msg, e.sig)
			allSingle = allSingle && single
			if valid[i] != single {
				t.Fatalf("entry %d (kind %d): batch says %v, single says %v", i, e.kind, valid[i], single)
			}
			if single != e.want {
				t.Fatalf("entry %d (kind %d): verdict %v, want %v", i, e.kind, single, e.want)
			}
		}
		if allValid != allSingle {
			t.Fatalf("allValid %v, conjunction of singles %v", allValid, allSingle)
		}
	})
}
