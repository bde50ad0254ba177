package types

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/thinkey/thinkey/node/codec"
)

func TestVoteLayout(t *testing.T) {
	v := sampleVote()
	v.Kind = VoteConfirm
	b := mustEncode(t, &v)
	if len(b) != VoteSize || VoteSize != 150 {
		t.Fatalf("length %d, VoteSize %d, want 150", len(b), VoteSize)
	}
	be := binary.BigEndian
	if b[0] != 0x03 || be.Uint32(b[1:]) != 7 || be.Uint64(b[5:]) != 1000 || be.Uint32(b[13:]) != 2 ||
		b[17] != 3 || !bytes.Equal(b[18:50], v.BlockHash[:]) || be.Uint32(b[50:]) != 9 ||
		!bytes.Equal(b[54:150], v.Signature[:]) {
		t.Fatalf("fields are not where doc.go puts them: % x", b)
	}
	sb := v.SigningBytes()
	if len(sb) != VoteSigningSize || VoteSigningSize != 64 {
		t.Fatalf("signing bytes length %d, VoteSigningSize %d, want 64", len(sb), VoteSigningSize)
	}
	want := append([]byte("thinkey/vote/v1"), b[1:50]...)
	if !bytes.Equal(sb, want) {
		t.Fatalf("signing bytes\n got % x\nwant % x", sb, want)
	}
}

func TestVoteRoundTripAndHash(t *testing.T) {
	for _, kind := range []VoteKind{VotePrepare, VoteLeaderFaulty, VoteConfirm} {
		v := sampleVote()
		v.Kind = kind
		b := mustEncode(t, &v)
		got, err := DecodeVote(b)
		if err != nil {
			t.Fatal(err)
		}
		if got != v {
			t.Fatalf("decoded %+v, want %+v", got, v)
		}
		if v.Hash() != Hash(sha256.Sum256(b)) {
			t.Fatal("Hash is not SHA-256 of the encoding")
		}
	}
}

func TestVoteSigningBytesIgnoreVoterAndSignature(t *testing.T) {
	a, b := sampleVote(), sampleVote()
	b.Voter = 300
	b.Signature[0] ^= 0xff
	if !bytes.Equal(a.SigningBytes(), b.SigningBytes()) {
		t.Fatal("two members voting for the same block sign different bytes")
	}
	for name, mutate := range map[string]func(v *Vote){
		"ChainID":   func(v *Vote) { v.ChainID++ },
		"Height":    func(v *Vote) { v.Height++ },
		"Round":     func(v *Vote) { v.Round++ },
		"Kind":      func(v *Vote) { v.Kind = VoteConfirm },
		"BlockHash": func(v *Vote) { v.BlockHash[31]++ },
	} {
		c := sampleVote()
		mutate(&c)
		if bytes.Equal(a.SigningBytes(), c.SigningBytes()) {
			t.Errorf("changing %s does not change the signing bytes", name)
		}
	}
}

func TestVoteDecodeRejects(t *testing.T) {
	valid := func() []byte { v := sampleVote(); return mustEncode(t, &v) }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"trailing byte (over the fixed size)", append(valid(), 0), codec.ErrTooLarge},
		{"kind 0", withByte(valid(), 17, 0), codec.ErrUnknownKind},
		{"kind 4", withByte(valid(), 17, 4), codec.ErrUnknownKind},
		{"kind 0xff", withByte(valid(), 17, 0xff), codec.ErrUnknownKind},
		{"header tag", withByte(valid(), 0, byte(TagHeader)), codec.ErrWrongType},
		{"certificate tag", withByte(valid(), 0, byte(TagCertificate)), codec.ErrWrongType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeVote(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("every prefix", func(t *testing.T) {
		checkEveryPrefixTruncated(t, valid(), func(b []byte) error { _, err := DecodeVote(b); return err })
	})
	t.Run("error names the field", func(t *testing.T) {
		_, err := DecodeVote(valid()[:15])
		want := "decode vote: field Round: truncated input: need 4 bytes at offset 13, have 2"
		if err == nil || err.Error() != want {
			t.Fatalf("error %q, want %q", err, want)
		}
	})
}

func TestVoteEncodeRefusesUnknownKind(t *testing.T) {
	v := sampleVote()
	v.Kind = 0
	if _, err := v.MarshalBinary(); !errors.Is(err, codec.ErrUnknownKind) {
		t.Fatalf("error %v, want ErrUnknownKind", err)
	}
}

func TestVoteValidateBasic(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(v *Vote)
		want   error
	}{
		{"prepare", func(*Vote) {}, nil},
		{"confirm", func(v *Vote) { v.Kind = VoteConfirm }, nil},
		{"leader faulty", func(v *Vote) { v.Kind = VoteLeaderFaulty; v.BlockHash = Hash{} }, nil},
		{"leader faulty naming a block", func(v *Vote) { v.Kind = VoteLeaderFaulty }, ErrInvalid},
		{"prepare naming no block", func(v *Vote) { v.BlockHash = Hash{} }, ErrInvalid},
		{"confirm of EMPTY", func(v *Vote) { v.Kind = VoteConfirm; v.BlockHash = Hash{} }, nil},
		{"unsigned", func(v *Vote) { v.Signature = [BLSSignatureSize]byte{} }, ErrInvalid},
		{"unknown kind", func(v *Vote) { v.Kind = 7 }, codec.ErrUnknownKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := sampleVote()
			tt.mutate(&v)
			err := v.ValidateBasic()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.want != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}
