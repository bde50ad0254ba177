package merkle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/thinkey/thinkey/crypto/hash"
	"pgregory.net/rapid"
)

// encodeRaw builds an encoding field by field, without validation, so tests
// can write bytes MarshalBinary refuses to produce.
func encodeRaw(index, leafCount uint64, count byte, siblings int, trailing ...byte) []byte {
	b := binary.BigEndian.AppendUint64(nil, index)
	b = binary.BigEndian.AppendUint64(b, leafCount)
	b = append(b, count)
	for i := range siblings {
		b = append(b, bytes.Repeat([]byte{byte(i + 1)}, hash.Size)...)
	}
	return append(b, trailing...)
}

func TestMarshalLayout(t *testing.T) {
	p := Proof{Index: 3, LeafCount: 5, Siblings: []hash.Digest{{0xAA}, {0xBB}, {0xCC}}}
	got, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 5, 3}
	for _, s := range p.Siblings {
		want = append(want, s[:]...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("MarshalBinary = %x\nwant          %x", got, want)
	}
	if len(got) != p.EncodedSize() {
		t.Fatalf("EncodedSize = %d, encoding has %d bytes", p.EncodedSize(), len(got))
	}
	prefixed, err := p.AppendBinary([]byte("hdr"))
	if err != nil || !bytes.Equal(prefixed, append([]byte("hdr"), want...)) {
		t.Fatalf("AppendBinary = %x, %v", prefixed, err)
	}
}

func TestMarshalRefusesInvalidShape(t *testing.T) {
	cases := []struct {
		name  string
		proof Proof
		want  error
	}{
		{"empty tree", Proof{}, ErrIndexOutOfRange},
		{"index past end", Proof{Index: 5, LeafCount: 5}, ErrIndexOutOfRange},
		{"missing sibling", Proof{Index: 0, LeafCount: 2}, ErrProofLength},
		{"extra sibling", Proof{Index: 0, LeafCount: 1, Siblings: []hash.Digest{{}}}, ErrProofLength},
		{"too many siblings", Proof{Index: 0, LeafCount: math.MaxUint64, Siblings: make([]hash.Digest, 300)}, ErrProofLength},
	}
	for _, c := range cases {
		if b, err := c.proof.MarshalBinary(); !errors.Is(err, c.want) {
			t.Errorf("%s: MarshalBinary = %x, %v; want %v", c.name, b, err, c.want)
		}
	}
}

func TestUnmarshalProof(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want error // nil: accepted
	}{
		{"single leaf", encodeRaw(0, 1, 0, 0), nil},
		{"leaf 3 of 5", encodeRaw(3, 5, 3, 3), nil},
		{"last of 5", encodeRaw(4, 5, 1, 1), nil},
		{"deepest tree", encodeRaw(0, math.MaxUint64, 64, 64), nil},
		{"empty input", nil, ErrMalformedProof},
		{"truncated header", encodeRaw(0, 1, 0, 0)[:16], ErrMalformedProof},
		{"truncated sibling", encodeRaw(3, 5, 3, 3)[:17+3*32-1], ErrMalformedProof},
		{"missing sibling bytes", encodeRaw(3, 5, 3, 2), ErrMalformedProof},
		{"trailing byte", encodeRaw(3, 5, 3, 3, 0), ErrMalformedProof},
		{"trailing sibling", encodeRaw(0, 1, 0, 1), ErrMalformedProof},
		{"zero leaves", encodeRaw(0, 0, 0, 0), ErrIndexOutOfRange},
		{"index equals count", encodeRaw(5, 5, 1, 1), ErrIndexOutOfRange},
		{"index max", encodeRaw(math.MaxUint64, 5, 1, 1), ErrIndexOutOfRange},
		{"count too small", encodeRaw(3, 5, 2, 2), ErrProofLength},
		{"count too large", encodeRaw(3, 5, 4, 4), ErrProofLength},
		{"count over 64", encodeRaw(0, math.MaxUint64, 65, 65), ErrProofLength},
		{"count 255", encodeRaw(0, 1, 255, 0), ErrProofLength},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := UnmarshalProof(c.in)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("UnmarshalProof error %v, want %v", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("UnmarshalProof: %v", err)
			}
			again, err := p.MarshalBinary()
			if err != nil || !bytes.Equal(again, c.in) {
				t.Fatalf("re-encoding = %x, %v; want %x", again, err, c.in)
			}
		})
	}
}

func TestEncodingRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 500).Draw(t, "n")
		leaves := randomLeafHashes(n, rapid.Byte().Draw(t, "seed"))
		i := rapid.Uint64Range(0, uint64(n-1)).Draw(t, "index")
		p, err := Prove(leaves, i)
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		q, err := UnmarshalProof(b)
		if err != nil {
			t.Fatalf("decode own encoding: %v", err)
		}
		if !sameProof(p, q) {
			t.Fatalf("round trip %+v -> %+v", p, q)
		}
		if err := Verify(RootFromLeafHashes(leaves), leaves[i], q); err != nil {
			t.Fatalf("decoded proof does not verify: %v", err)
		}
	})
}

func TestUnmarshalDoesNotAlias(t *testing.T) {
	b := encodeRaw(0, 2, 1, 1)
	p, err := UnmarshalProof(b)
	if err != nil {
		t.Fatal(err)
	}
	before := p.Siblings[0]
	b[17] ^= 0xFF
	if p.Siblings[0] != before {
		t.Fatal("decoded siblings alias the input buffer")
	}
}

// FuzzUnmarshalProof: decoding never panics, an accepted input re-encodes to
// the same bytes, and verifying a decoded proof never panics.
func FuzzUnmarshalProof(f *testing.F) {
	f.Add(encodeRaw(0, 1, 0, 0))
	f.Add(encodeRaw(3, 5, 3, 3))
	f.Add(encodeRaw(0, math.MaxUint64, 64, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := UnmarshalProof(b)
		if err != nil {
			if p.LeafCount != 0 || p.Index != 0 || p.Siblings != nil {
				t.Fatalf("rejected input returned a partial proof %+v", p)
			}
			return
		}
		again, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("accepted proof does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", b, again)
		}
		var leaf hash.Digest
		if len(p.Siblings) > 0 {
			leaf = p.Siblings[0]
		}
		_ = Verify(EmptyRoot(), leaf, p)
	})
}
