package hash

import (
	"encoding/hex"
	"testing"

	"pgregory.net/rapid"
)

func TestKnownDigests(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	}
	for _, b := range Backends() {
		for _, c := range cases {
			got := b.Sum([]byte(c.in))
			if hex.EncodeToString(got[:]) != c.want {
				t.Errorf("%s(%q) = %x, want %s", b.Name, c.in, got, c.want)
			}
			h := b.New()
			h.Write([]byte(c.in))
			if s := hex.EncodeToString(h.Sum(nil)); s != c.want {
				t.Errorf("%s streaming(%q) = %s, want %s", b.Name, c.in, s, c.want)
			}
		}
	}
}

// TestBackendsAgree is the oracle check: every backend computes exactly the
// digest of the standard library, so switching backends cannot change state.
func TestBackendsAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		data := rapid.SliceOfN(rapid.Byte(), 0, 4096).Draw(t, "data")
		want := Stdlib.Sum(data)
		for _, b := range Backends() {
			if got := b.Sum(data); got != want {
				t.Fatalf("%s disagrees with stdlib on %x", b.Name, data)
			}
		}
	})
}

func TestUse(t *testing.T) {
	defer Use(Stdlib)
	for _, b := range Backends() {
		Use(b)
		if Active().Name != b.Name {
			t.Fatalf("Active() = %s after Use(%s)", Active().Name, b.Name)
		}
		if Sum256([]byte("abc")).String() != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
			t.Fatalf("Sum256 wrong with backend %s", b.Name)
		}
	}
}

func TestSum256DoesNotAllocate(t *testing.T) {
	defer Use(Stdlib)
	data := make([]byte, 240)
	for _, b := range Backends() {
		Use(b)
		if n := testing.AllocsPerRun(100, func() { _ = Sum256(data) }); n != 0 {
			t.Errorf("Sum256 with %s allocates %.0f times per call", b.Name, n)
		}
	}
}
