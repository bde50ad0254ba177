package types

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/thinkey/thinkey/node/codec"
)

func TestCertificateLayout(t *testing.T) {
	c := sampleCertificate(t, 10)
	b := mustEncode(t, &c)
	if len(b) != 150+2 || c.EncodedLen() != len(b) {
		t.Fatalf("length %d, EncodedLen %d, want 152", len(b), c.EncodedLen())
	}
	be := binary.BigEndian
	// Members 0,1,3,4,6,7,9 signed: bits 0b11011011 then 0b10.
	if b[0] != 0x04 || be.Uint32(b[1:]) != 7 || be.Uint64(b[5:]) != 1000 || be.Uint32(b[13:]) != 2 ||
		b[17] != 1 || !bytes.Equal(b[18:50], c.BlockHash[:]) || be.Uint32(b[50:]) != 10 ||
		b[54] != 0b11011011 || b[55] != 0b10 || !bytes.Equal(b[56:], c.AggregateSignature[:]) {
		t.Fatalf("fields are not where doc.go puts them: % x", b)
	}
	if CertificateMaxSize != 278 {
		t.Fatalf("CertificateMaxSize = %d, doc.go says 278", CertificateMaxSize)
	}
}

func TestCertificateRoundTripAndHash(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 400, MaxCommitteeSize} {
		c := sampleCertificate(t, n)
		b := mustEncode(t, &c)
		got, err := DecodeCertificate(b)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if got != c {
			t.Fatalf("n=%d: decoded certificate differs", n)
		}
		if c.Hash() != Hash(sha256.Sum256(b)) {
			t.Fatalf("n=%d: Hash is not SHA-256 of the encoding", n)
		}
	}
}

func TestCertificateSigners(t *testing.T) {
	c := sampleCertificate(t, 10)
	want := []ValidatorIndex{0, 1, 3, 4, 6, 7, 9}
	if got := c.SignerIndices(nil); !slices.Equal(got, want) {
		t.Fatalf("SignerIndices = %v, want %v", got, want)
	}
	if c.SignerCount() != len(want) || c.Signers.CommitteeSize() != 10 {
		t.Fatalf("SignerCount %d, CommitteeSize %d", c.SignerCount(), c.Signers.CommitteeSize())
	}
	for i := range ValidatorIndex(12) {
		if c.HasSigner(i) != slices.Contains(want, i) {
			t.Errorf("HasSigner(%d) = %v", i, c.HasSigner(i))
		}
	}
	buf := make([]ValidatorIndex, 0, 16)
	if got := c.SignerIndices(buf); &got[0] != &buf[:1][0] {
		t.Fatal("SignerIndices allocated despite room in dst")
	}
	if err := c.Signers.Add(10); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Add outside the committee: %v, want ErrInvalid", err)
	}
	if _, err := NewSignerSet(MaxCommitteeSize + 1); !errors.Is(err, codec.ErrTooLarge) {
		t.Fatalf("NewSignerSet over the maximum: %v, want ErrTooLarge", err)
	}
	if _, err := NewSignerSet(-1); err == nil {
		t.Fatal("NewSignerSet(-1) succeeded")
	}
}

func TestCertificateVoteSigningBytesMatchVotes(t *testing.T) {
	c := sampleCertificate(t, 10)
	v := Vote{ChainID: c.ChainID, Height: c.Height, Round: c.Round, Kind: c.Kind, BlockHash: c.BlockHash, Voter: 3}
	if !bytes.Equal(c.VoteSigningBytes(), v.SigningBytes()) {
		t.Fatal("a certificate's vote signing bytes differ from its votes' signing bytes")
	}
}

func TestCertificateDecodeRejects(t *testing.T) {
	valid := func() []byte { c := sampleCertificate(t, 10); return mustEncode(t, &c) }
	withSize := func(size uint32) []byte {
		b := valid()
		binary.BigEndian.PutUint32(b[50:], size)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"trailing byte", append(valid(), 0), codec.ErrTrailingBytes},
		{"input over the maximum", make([]byte, CertificateMaxSize+1), codec.ErrTooLarge},
		{"padding bit 10 set", withByte(valid(), 55, 0b110), codec.ErrNonCanonical},
		{"padding bit 15 set", withByte(valid(), 55, 0x82), codec.ErrNonCanonical},
		{"committee over the maximum", withSize(MaxCommitteeSize + 1), codec.ErrTooLarge},
		{"committee 2^32-1", withSize(0xffffffff), codec.ErrTooLarge},
		{"committee larger than the bitmap", withSize(200), codec.ErrTruncated},
		{"kind 0", withByte(valid(), 17, 0), codec.ErrUnknownKind},
		{"kind 4", withByte(valid(), 17, 4), codec.ErrUnknownKind},
		{"message tag", withByte(valid(), 0, byte(TagMessage)), codec.ErrWrongType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCertificate(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("every prefix", func(t *testing.T) {
		for _, n := range []int{8, 10, 400} {
			c := sampleCertificate(t, n)
			checkEveryPrefixTruncated(t, mustEncode(t, &c), func(b []byte) error { _, err := DecodeCertificate(b); return err })
		}
	})
	t.Run("a full last byte has no padding", func(t *testing.T) {
		c := sampleCertificate(t, 8)
		for _, i := range []ValidatorIndex{2, 5} {
			if err := c.Signers.Add(i); err != nil {
				t.Fatal(err)
			}
		}
		b := mustEncode(t, &c)
		if b[54] != 0xff {
			t.Fatalf("bitmap byte %08b, want all set", b[54])
		}
		if _, err := DecodeCertificate(b); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCertificateValidateBasic(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Certificate)
		want   error
	}{
		{"valid", func(*Certificate) {}, nil},
		{"leader faulty", func(c *Certificate) { c.Kind = VoteLeaderFaulty; c.BlockHash = Hash{} }, nil},
		{"leader faulty naming a block", func(c *Certificate) { c.Kind = VoteLeaderFaulty }, ErrInvalid},
		{"confirm of EMPTY", func(c *Certificate) { c.Kind = VoteConfirm; c.BlockHash = Hash{} }, nil},
		{"prepare naming nothing", func(c *Certificate) { c.Kind = VotePrepare; c.BlockHash = Hash{} }, ErrInvalid},
		{"no signers", func(c *Certificate) { c.Signers, _ = NewSignerSet(10) }, ErrInvalid},
		{"empty committee", func(c *Certificate) { c.Signers = SignerSet{} }, ErrInvalid},
		{"zero aggregate signature", func(c *Certificate) { c.AggregateSignature = [BLSSignatureSize]byte{} }, ErrInvalid},
		{"unknown kind", func(c *Certificate) { c.Kind = 0 }, codec.ErrUnknownKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sampleCertificate(t, 10)
			tt.mutate(&c)
			err := c.ValidateBasic()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.want != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestCertificateEncodeRefusesUnknownKind(t *testing.T) {
	c := sampleCertificate(t, 10)
	c.Kind = 5
	if _, err := c.MarshalBinary(); !errors.Is(err, codec.ErrUnknownKind) {
		t.Fatalf("error %v, want ErrUnknownKind", err)
	}
}
