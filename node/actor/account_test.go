package actor

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
	"unicode"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

func sampleAccount(tb fatalReporter) Account {
	tb.Helper()
	storage, err := NewStorage([]StorageEntry{
		{Key: []byte("owner"), Value: bytes.Repeat([]byte{0xee}, 20)},
		{Key: []byte("count"), Value: []byte{7}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return Account{
		Address: types.Address{0xa1, 0xa2, 0xa3},
		Balance: 1_000_000,
		Nonce:   42,
		Code:    []byte("def ping():\n    pass\n"),
		Storage: storage,
	}
}

type fatalReporter interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func mustEncode(tb fatalReporter, a *Account) []byte {
	tb.Helper()
	b, err := a.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestAccountLayout pins every field to the offset doc.go gives it.
func TestAccountLayout(t *testing.T) {
	a := sampleAccount(t)
	b := mustEncode(t, &a)
	if len(b) != a.EncodedLen() {
		t.Fatalf("length %d, EncodedLen %d", len(b), a.EncodedLen())
	}
	be := binary.BigEndian
	c := len(a.Code)
	if b[0] != 0x10 || !bytes.Equal(b[1:21], a.Address[:]) || be.Uint64(b[21:]) != 1_000_000 || be.Uint64(b[29:]) != 42 ||
		be.Uint32(b[37:]) != uint32(c) || !bytes.Equal(b[41:41+c], a.Code) || be.Uint32(b[41+c:]) != 2 {
		t.Fatalf("fixed fields are not where doc.go puts them: % x", b)
	}
	// Entries in key order: "count" before "owner".
	rest := b[45+c:]
	if be.Uint32(rest) != 5 || string(rest[4:9]) != "count" || be.Uint32(rest[9:]) != 1 || rest[13] != 7 ||
		be.Uint32(rest[14:]) != 5 || string(rest[18:23]) != "owner" || be.Uint32(rest[23:]) != 20 || len(rest) != 47 {
		t.Fatalf("storage entries are not where doc.go puts them: % x", rest)
	}
	if AccountMaxSize != 297_005 {
		t.Fatalf("AccountMaxSize = %d, doc.go says 297005", AccountMaxSize)
	}
	if a.LeafHash() != merkle.LeafHash(b) {
		t.Fatal("LeafHash is not the Merkle leaf of the encoding")
	}
}

func TestAccountRoundTripAndClone(t *testing.T) {
	a := sampleAccount(t)
	b := mustEncode(t, &a)
	got, err := DecodeAccount(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(&a) {
		t.Fatalf("decoded %+v, want %+v", got, a)
	}
	clone := got.Clone()
	b[41] = 'X' // first byte of Code
	if got.Code[0] != 'X' {
		t.Fatal("decoded Code does not alias the input, as documented")
	}
	if clone.Code[0] != 'd' || !clone.Storage.Equal(a.Storage) {
		t.Fatal("Clone shares memory with the input")
	}
}

func TestAccountDecodeRejects(t *testing.T) {
	a := sampleAccount(t)
	valid := mustEncode(t, &a)
	c := len(a.Code)
	storageAt := 45 + c
	// rawStorage encodes an account with the given entries as they are,
	// canonical or not.
	rawStorage := func(pairs ...string) []byte {
		plain := Account{Address: a.Address}
		b := mustEncode(t, &plain)
		b = binary.BigEndian.AppendUint32(b[:len(b)-4], uint32(len(pairs)/2))
		for _, s := range pairs {
			b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
		return b
	}
	set32 := func(at int, v uint32) []byte {
		b := bytes.Clone(valid)
		binary.BigEndian.PutUint32(b[at:], v)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"trailing byte", append(bytes.Clone(valid), 0), codec.ErrTrailingBytes},
		{"over the maximum", make([]byte, AccountMaxSize+1), codec.ErrTooLarge},
		{"wrong tag", append([]byte{0x02}, valid[1:]...), codec.ErrWrongType},
		{"code over 16 KiB", set32(37, MaxCodeLen+1), codec.ErrTooLarge},
		{"257 entries", set32(storageAt, MaxStorageEntries+1), codec.ErrTooLarge},
		{"keys out of order", rawStorage("b", "2", "a", "1"), codec.ErrNonCanonical},
		{"duplicate key", rawStorage("k", "v", "k", "w"), codec.ErrNonCanonical},
		{"empty key", rawStorage("", "v"), codec.ErrNonCanonical},
		{"empty value", rawStorage("k", ""), codec.ErrNonCanonical},
		{"key over 64 bytes", rawStorage(string(make([]byte, 65)), "v"), codec.ErrTooLarge},
		{"value over 1 KiB", rawStorage("k", string(make([]byte, 1025))), codec.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeAccount(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("every prefix", func(t *testing.T) {
		for n := range len(valid) {
			if _, err := DecodeAccount(valid[:n]); !errors.Is(err, codec.ErrTruncated) {
				t.Fatalf("prefix of %d bytes: %v, want ErrTruncated", n, err)
			}
		}
	})
	t.Run("encode refuses long code", func(t *testing.T) {
		big := Account{Code: make([]byte, MaxCodeLen+1)}
		if out, err := big.AppendBinary(nil); !errors.Is(err, codec.ErrTooLarge) || out != nil {
			t.Fatalf("AppendBinary = %d bytes, %v", len(out), err)
		}
	})
}

func TestStorage(t *testing.T) {
	s, err := NewStorage([]StorageEntry{{Key: []byte("b"), Value: []byte("2")}, {Key: []byte("a"), Value: []byte("1")}})
	if err != nil {
		t.Fatal(err)
	}
	if e := s.Entries(); len(e) != 2 || string(e[0].Key) != "a" {
		t.Fatalf("NewStorage does not sort: %q", e)
	}
	replaced, err := s.With([]byte("a"), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	added, err := replaced.With([]byte("c"), []byte("3"))
	if err != nil {
		t.Fatal(err)
	}
	deleted, err := added.With([]byte("b"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get([]byte("a")); string(v) != "1" || s.Len() != 2 {
		t.Fatal("With changed the storage it was called on")
	}
	if v, ok := deleted.Get([]byte("a")); !ok || string(v) != "x" {
		t.Fatal("replace lost")
	}
	if _, ok := deleted.Get([]byte("b")); ok || deleted.Len() != 2 {
		t.Fatal("delete lost")
	}
	if same, err := deleted.With([]byte("zz"), nil); err != nil || !same.Equal(deleted) {
		t.Fatal("deleting a missing key changed the storage")
	}
	for name, f := range map[string]func() error{
		"duplicate": func() error {
			_, err := NewStorage([]StorageEntry{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("a"), Value: []byte("2")}})
			return err
		},
		"empty key":   func() error { _, err := s.With(nil, []byte("v")); return err },
		"long key":    func() error { _, err := s.With(make([]byte, 65), []byte("v")); return err },
		"long value":  func() error { _, err := s.With([]byte("k"), make([]byte, 1025)); return err },
		"entry limit": func() error { return fillStorage(MaxStorageEntries + 1) },
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := fillStorage(MaxStorageEntries); err != nil {
		t.Fatalf("%d entries: %v", MaxStorageEntries, err)
	}
}

func fillStorage(n int) error {
	var s Storage
	for i := range n {
		var err error
		if s, err = s.With(binary.BigEndian.AppendUint16(nil, uint16(i)), []byte{1}); err != nil {
			return err
		}
	}
	return nil
}

var genAccount = rapid.Custom(func(t *rapid.T) Account {
	a := Account{Balance: rapid.Uint64().Draw(t, "balance"), Nonce: rapid.Uint64().Draw(t, "nonce")}
	copy(a.Address[:], rapid.SliceOfN(rapid.Byte(), 20, 20).Draw(t, "address"))
	if code := rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, "code"); len(code) > 0 {
		a.Code = code
	}
	var entries []StorageEntry
	for _, k := range rapid.SliceOfNDistinct(rapid.StringOfN(rapid.RuneFrom(nil, unicode.ASCII_Hex_Digit), 1, MaxStorageKeyLen, -1), 0, 20, rapid.ID[string]).Draw(t, "keys") {
		entries = append(entries, StorageEntry{Key: []byte(k), Value: rapid.SliceOfN(rapid.Byte(), 1, 50).Draw(t, "value")})
	}
	s, err := NewStorage(entries)
	if err != nil {
		t.Fatal(err)
	}
	a.Storage = s
	return a
})

// TestAccountCanonical: every account encodes, decodes to itself, and a
// damaged encoding is either rejected with a codec sentinel or re-encodes
// to exactly the damaged bytes.
func TestAccountCanonical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genAccount.Draw(t, "account")
		b := mustEncode(t, &a)
		got, err := DecodeAccount(b)
		if err != nil || !got.Equal(&a) {
			t.Fatalf("round trip: %v", err)
		}
		damaged := bytes.Clone(b)
		switch rapid.IntRange(0, 2).Draw(t, "damage") {
		case 0:
			damaged[rapid.IntRange(0, len(damaged)-1).Draw(t, "at")] ^= rapid.ByteRange(1, 255).Draw(t, "xor")
		case 1:
			damaged = damaged[:rapid.IntRange(0, len(damaged)).Draw(t, "cut")]
		case 2:
			damaged = append(damaged, rapid.Byte().Draw(t, "extra"))
		}
		checkAccountCanonical(t, damaged)
	})
}

func checkAccountCanonical(t fatalReporter, b []byte) {
	a, err := DecodeAccount(b)
	if err != nil {
		for _, s := range []error{codec.ErrTruncated, codec.ErrTrailingBytes, codec.ErrNonCanonical, codec.ErrTooLarge, codec.ErrWrongType} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("error wraps no codec sentinel: %v", err)
	}
	again := mustEncode(t, &a)
	if !bytes.Equal(again, b) {
		t.Fatalf("accepted input re-encodes differently\n  in % x\n out % x", b, again)
	}
}

func TestAddressFromPublicKey(t *testing.T) {
	k, err := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	pub := k.Public()
	want := sha256.Sum256(append([]byte("thinkey/address/v1"), pub[:]...))
	if got := AddressFromPublicKey(pub); !bytes.Equal(got[:], want[:20]) {
		t.Fatalf("address %v, want the first 20 bytes of %x", got, want)
	}
}
