package types

import (
	"errors"
	"testing"

	"github.com/thinkey/thinkey/node/codec"
	"pgregory.net/rapid"
)

func TestAddressPrefix(t *testing.T) {
	a := Address{0b1011_0000, 0xff}
	tests := []struct {
		prefix uint64
		bits   uint8
		want   bool
	}{
		{0, 0, true},
		{1, 1, true},
		{0, 1, false},
		{0b101, 3, true},
		{0b1011, 4, true},
		{0b10110, 5, true},
		{0b10111, 5, false},
		{0b1011_0000_1111_1111, 16, true},
		{0b11, 1, false}, // prefix has bits above the first one
		{1, 65, false},
	}
	for _, tt := range tests {
		if got := a.HasPrefix(tt.prefix, tt.bits); got != tt.want {
			t.Errorf("HasPrefix(%b, %d) = %v, want %v", tt.prefix, tt.bits, got, tt.want)
		}
	}
	if got := a.Prefix(12); got != 0b1011_0000_1111 {
		t.Errorf("Prefix(12) = %b", got)
	}
}

// TestAddressPrefixMatchesBitOracle checks Prefix and HasPrefix against
// reading the address one bit at a time.
func TestAddressPrefixMatchesBitOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var a Address
		genBytesArray(t, a[:], "address")
		bits := uint8(rapid.IntRange(0, 64).Draw(t, "bits"))
		var want uint64
		for i := range int(bits) {
			want = want<<1 | uint64(a[i/8]>>(7-i%8)&1)
		}
		if got := a.Prefix(bits); got != want {
			t.Fatalf("Prefix(%d) = %b, want %b", bits, got, want)
		}
		if !a.HasPrefix(want, bits) {
			t.Fatalf("HasPrefix(%b, %d) is false for the address's own prefix", want, bits)
		}
		if bits > 0 && a.HasPrefix(want^1, bits) {
			t.Fatalf("HasPrefix(%b, %d) is true for another prefix", want^1, bits)
		}
	})
}

func TestTagOf(t *testing.T) {
	h, m, v, c := sampleHeader(), sampleMessage(), sampleVote(), sampleCertificate(t, 4)
	for want, enc := range map[Tag][]byte{
		TagHeader: mustEncode(t, &h), TagMessage: mustEncode(t, &m),
		TagVote: mustEncode(t, &v), TagCertificate: mustEncode(t, &c),
	} {
		got, err := TagOf(enc)
		if err != nil || got != want {
			t.Errorf("TagOf(%v encoding) = %v, %v", want, got, err)
		}
	}
	if _, err := TagOf(nil); !errors.Is(err, codec.ErrTruncated) {
		t.Errorf("TagOf(nil): %v, want ErrTruncated", err)
	}
	for _, b := range []byte{0, 5, 0xff} {
		if _, err := TagOf([]byte{b}); !errors.Is(err, codec.ErrUnknownKind) {
			t.Errorf("TagOf(%#x): %v, want ErrUnknownKind", b, err)
		}
	}
}

func TestKindNames(t *testing.T) {
	names := map[string]string{
		MessageExternal.String(): "external", MessageInterRelay.String(): "inter-relay",
		MessageOuterRelay.String(): "outer-relay", MessageKind(9).String(): "message-kind(9)",
		VotePrepare.String(): "prepare", VoteLeaderFaulty.String(): "leader-faulty",
		VoteConfirm.String(): "confirm", VoteKind(0).String(): "vote-kind(0)",
		TagHeader.String(): "header", TagCertificate.String(): "certificate", Tag(0).String(): "tag(0)",
	}
	for got, want := range names {
		if got != want {
			t.Errorf("name %q, want %q", got, want)
		}
	}
}
