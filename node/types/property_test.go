package types

import (
	"bytes"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// mutate returns b changed in one of the ways an attacker or a bad link
// would: a flipped byte, a cut, an extra byte.
func mutate(t *rapid.T, b []byte) []byte {
	out := bytes.Clone(b)
	switch rapid.IntRange(0, 2).Draw(t, "mutation") {
	case 0:
		if len(out) > 0 {
			i := rapid.IntRange(0, len(out)-1).Draw(t, "at")
			out[i] ^= rapid.ByteRange(1, 255).Draw(t, "xor")
		}
	case 1:
		out = out[:rapid.IntRange(0, len(out)).Draw(t, "cut")]
	case 2:
		out = append(out, rapid.Byte().Draw(t, "extra"))
	}
	return out
}

// checkCanonical is the property every decoder shares: what it accepts
// re-encodes to exactly the bytes it was given, and what it rejects it
// rejects with a codec sentinel.
func checkCanonical[T any](t *rapid.T, b []byte, decode func([]byte) (T, error), encode func(*T) ([]byte, error)) {
	v, err := decode(b)
	if err != nil {
		if !wrapsCodecSentinel(err) {
			t.Fatalf("error wraps no codec sentinel: %v", err)
		}
		return
	}
	again, err := encode(&v)
	if err != nil {
		t.Fatalf("accepted input does not re-encode: %v", err)
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("accepted input re-encodes differently\n  in % x\n out % x", b, again)
	}
}

func TestHeaderCanonical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHeader.Draw(t, "header")
		b := mustEncode(t, &h)
		got, err := DecodeHeader(b)
		if err != nil || got != h {
			t.Fatalf("round trip: %v, %+v", err, got)
		}
		checkCanonical(t, b, DecodeHeader, (*Header).MarshalBinary)
		checkCanonical(t, mutate(t, b), DecodeHeader, (*Header).MarshalBinary)
	})
}

func TestMessageCanonical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := genMessage.Draw(t, "message")
		b := mustEncode(t, &m)
		got, err := DecodeMessage(b)
		if err != nil || !messagesEqual(got, m) {
			t.Fatalf("round trip: %v, %+v", err, got)
		}
		if sb := m.SigningBytes(); !bytes.Equal(sb, append([]byte(MessageSigningDomain), b[:len(b)-Ed25519SignatureSize]...)) {
			t.Fatal("signing bytes are not the domain and the unsigned encoding")
		}
		checkCanonical(t, b, DecodeMessage, (*Message).MarshalBinary)
		checkCanonical(t, mutate(t, b), DecodeMessage, (*Message).MarshalBinary)
	})
}

func TestVoteCanonical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genVote.Draw(t, "vote")
		b := mustEncode(t, &v)
		got, err := DecodeVote(b)
		if err != nil || got != v {
			t.Fatalf("round trip: %v, %+v", err, got)
		}
		checkCanonical(t, b, DecodeVote, (*Vote).MarshalBinary)
		checkCanonical(t, mutate(t, b), DecodeVote, (*Vote).MarshalBinary)
	})
}

func TestCertificateCanonical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCertificate.Draw(t, "certificate")
		b := mustEncode(t, &c)
		got, err := DecodeCertificate(b)
		if err != nil || got != c {
			t.Fatalf("round trip: %v", err)
		}
		checkCanonical(t, b, DecodeCertificate, (*Certificate).MarshalBinary)
		checkCanonical(t, mutate(t, b), DecodeCertificate, (*Certificate).MarshalBinary)
	})
}

// TestSignerSetOracle checks the bitmap against a plain list of indices.
func TestSignerSetOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSignerSet(t)
		var oracle []ValidatorIndex
		for i := range ValidatorIndex(s.CommitteeSize()) {
			if s.Has(i) {
				oracle = append(oracle, i)
			}
		}
		if got := s.Indices(nil); !slices.Equal(got, oracle) {
			t.Fatalf("Indices = %v, want %v", got, oracle)
		}
		if s.Count() != len(oracle) {
			t.Fatalf("Count = %d, want %d", s.Count(), len(oracle))
		}
		if s.Has(ValidatorIndex(s.CommitteeSize())) {
			t.Fatal("Has is true past the committee")
		}
		if len(s.Bitmap()) != (s.CommitteeSize()+7)/8 {
			t.Fatalf("bitmap of %d bytes for %d members", len(s.Bitmap()), s.CommitteeSize())
		}
	})
}

// TestCertificateSigningBytesMatchAnyVote checks that a certificate and any
// vote it could aggregate agree on the signed bytes, whoever the voter.
func TestCertificateSigningBytesMatchAnyVote(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genVote.Draw(t, "vote")
		c := Certificate{ChainID: v.ChainID, Height: v.Height, Round: v.Round, Kind: v.Kind, BlockHash: v.BlockHash}
		if !bytes.Equal(c.VoteSigningBytes(), v.SigningBytes()) {
			t.Fatal("certificate and vote signing bytes differ")
		}
	})
}
