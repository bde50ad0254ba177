package netq_test

import (
	"bytes"
	stded25519 "crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/netq"
)

func seedOf(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestIdentityDerivation(t *testing.T) {
	id, err := netq.NewIdentity(seedOf(7))
	if err != nil {
		t.Fatal(err)
	}
	again, err := netq.NewIdentity(seedOf(7))
	if err != nil {
		t.Fatal(err)
	}
	if id.PeerID() != again.PeerID() {
		t.Fatal("one seed gave two PeerIDs")
	}
	other, err := netq.NewIdentity(seedOf(8))
	if err != nil {
		t.Fatal(err)
	}
	if id.PeerID() == other.PeerID() {
		t.Fatal("two seeds gave one PeerID")
	}
	pub := id.PublicKey()
	fromKey, err := netq.PeerIDFromPublicKey(pub[:])
	if err != nil || fromKey != id.PeerID() {
		t.Fatalf("PeerIDFromPublicKey = %s, %v; want %s", fromKey.Short(), err, id.PeerID().Short())
	}
	// The TLS signer is the same key as the identity's.
	stdPub, ok := id.Signer().Public().(stded25519.PublicKey)
	if !ok || !bytes.Equal(stdPub, pub[:]) {
		t.Fatalf("signer public key %x, want %x", id.Signer().Public(), pub)
	}
	if seed := id.Seed(); !bytes.Equal(seed[:], seedOf(7)) {
		t.Fatal("Seed does not return the seed")
	}
	if id.IsZero() || !(netq.Identity{}).IsZero() {
		t.Fatal("IsZero wrong")
	}
}

func TestIdentityErrors(t *testing.T) {
	if _, err := netq.NewIdentity(make([]byte, 31)); !errors.Is(err, ed25519.ErrSeedLength) {
		t.Fatalf("31-byte seed: got %v, want ErrSeedLength", err)
	}
	if _, err := netq.GenerateIdentity(nil); err == nil {
		t.Fatal("GenerateIdentity(nil) succeeded")
	}
	if _, err := netq.GenerateIdentity(strings.NewReader("short")); err == nil {
		t.Fatal("GenerateIdentity from a short reader succeeded")
	}
	id, err := netq.GenerateIdentity(bytes.NewReader(seedOf(3)))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := netq.NewIdentity(seedOf(3))
	if id.PeerID() != want.PeerID() {
		t.Fatal("GenerateIdentity does not derive from the seed it reads")
	}
}

func TestPeerIDFromPublicKeyRejects(t *testing.T) {
	smallOrder := make([]byte, 32) // the identity point's neighbour: y = 0, order 4
	for _, tc := range []struct {
		name string
		key  []byte
	}{
		{"empty", nil},
		{"short", make([]byte, 31)},
		{"long", make([]byte, 33)},
		{"small order", smallOrder},
		{"identity point", append([]byte{1}, make([]byte, 31)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := netq.PeerIDFromPublicKey(tc.key); !errors.Is(err, netq.ErrInvalidPublicKey) {
				t.Fatalf("got %v, want ErrInvalidPublicKey", err)
			}
		})
	}
}

func TestIdentityFormatHidesSeed(t *testing.T) {
	id, err := netq.NewIdentity(seedOf(0xab))
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		out := fmt.Sprintf(verb, id)
		if strings.Contains(strings.ToLower(out), "abababab") {
			t.Fatalf("%s prints the seed: %s", verb, out)
		}
		if !strings.Contains(out, id.PeerID().String()) {
			t.Fatalf("%s omits the PeerID: %s", verb, out)
		}
	}
}

func TestParsePeerID(t *testing.T) {
	id, _ := netq.NewIdentity(seedOf(1))
	s := id.PeerID().String()
	for _, tc := range []struct {
		name  string
		input string
		ok    bool
	}{
		{"round trip", s, true},
		{"upper case", strings.ToUpper(s), true},
		{"empty", "", false},
		{"short", s[:62], false},
		{"long", s + "00", false},
		{"not hex", "zz" + s[2:], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := netq.ParsePeerID(tc.input)
			if (err == nil) != tc.ok {
				t.Fatalf("ParsePeerID(%q) error %v, want ok=%v", tc.input, err, tc.ok)
			}
			if tc.ok && got != id.PeerID() {
				t.Fatalf("ParsePeerID(%q) = %s", tc.input, got)
			}
		})
	}
	text, err := id.PeerID().MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var back netq.PeerID
	if err := back.UnmarshalText(text); err != nil || back != id.PeerID() {
		t.Fatalf("text round trip: %s, %v", back, err)
	}
	if err := back.UnmarshalText([]byte("nope")); err == nil {
		t.Fatal("UnmarshalText accepted garbage")
	}
	if got := id.PeerID().Short(); got != s[:8] {
		t.Fatalf("Short() = %s, want %s", got, s[:8])
	}
}
