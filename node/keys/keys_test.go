package keys_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/node/keys"
)

// seeded is a deterministic randomness source for key generation in tests.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := range s {
		s[i] = byte(seed >> (8 * (i % 8)))
	}
	return rand.NewChaCha8(s)
}

func TestMarshalParseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k, err := keys.Generate(seeded(rapid.Uint64().Draw(t, "seed")))
		if err != nil {
			t.Fatal(err)
		}
		data, err := k.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := keys.Parse(data)
		if err != nil {
			t.Fatalf("Parse(Marshal(k)): %v", err)
		}
		if !bytes.Equal(got.BLS.Bytes(), k.BLS.Bytes()) || got.Identity.Seed() != k.Identity.Seed() {
			t.Fatal("round trip changed the key")
		}
		again, err := got.Marshal()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("re-marshal differs: %v", err)
		}
	})
}

func TestPublicVerifies(t *testing.T) {
	k, err := keys.Generate(seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	pub := k.Public()
	if !bls.VerifyPossession(pub.BLSPublicKey, pub.ProofOfPossession) {
		t.Fatal("proof of possession does not verify")
	}
	if pub.PeerID != k.Identity.PeerID() {
		t.Fatal("peer id differs from the identity's")
	}
	other, err := keys.Generate(seeded(2))
	if err != nil {
		t.Fatal(err)
	}
	if other.Public().PeerID == pub.PeerID || other.Public().BLSPublicKey.Equal(pub.BLSPublicKey) {
		t.Fatal("two seeds gave the same key")
	}
}

func TestFormatHidesSecrets(t *testing.T) {
	k, err := keys.Generate(seeded(3))
	if err != nil {
		t.Fatal(err)
	}
	seed := k.Identity.Seed()
	secrets := []string{fmt.Sprintf("%x", k.BLS.Bytes()), fmt.Sprintf("%x", seed[:])}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		out := fmt.Sprintf(verb, k)
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s of a key prints a secret: %s", verb, out)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	k, err := keys.Generate(seeded(4))
	if err != nil {
		t.Fatal(err)
	}
	good, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	other, err := keys.Generate(seeded(5))
	if err != nil {
		t.Fatal(err)
	}
	otherFile, err := other.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// edit returns good with field set to value (or removed when value is nil).
	edit := func(field string, value any) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		if value == nil {
			delete(m, field)
		} else {
			m[field] = value
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var otherFields map[string]string
	if err := json.Unmarshal(otherFile, &otherFields); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want error
		says string
	}{
		{"empty", nil, keys.ErrMalformed, "EOF"},
		{"not json", []byte("bls=1"), keys.ErrMalformed, "invalid character"},
		{"trailing data", append(append([]byte{}, good...), []byte("{}")...), keys.ErrMalformed, "after the JSON"},
		{"too large", bytes.Repeat([]byte(" "), keys.MaxFileSize+1), keys.ErrMalformed, "at most"},
		{"wrong type", edit("type", "ssh-key"), keys.ErrMalformed, "type"},
		{"unknown field", edit("comment", "x"), keys.ErrMalformed, "comment"},
		{"missing secret", edit("bls_secret_key", nil), keys.ErrMalformed, "bls_secret_key is missing"},
		{"bad hex", edit("netq_identity_seed", "zz"), keys.ErrMalformed, "netq_identity_seed"},
		{"short secret", edit("bls_secret_key", "0102"), keys.ErrMalformed, "bls_secret_key is 2 bytes"},
		{"zero secret", edit("bls_secret_key", strings.Repeat("00", 32)), keys.ErrMalformed, "bls_secret_key"},
		{"public key of another", edit("bls_public_key", otherFields["bls_public_key"]), keys.ErrMismatch, "bls_public_key"},
		{"proof of another", edit("bls_proof_of_possession", otherFields["bls_proof_of_possession"]), keys.ErrMismatch, "bls_proof_of_possession"},
		{"peer id of another", edit("netq_peer_id", otherFields["netq_peer_id"]), keys.ErrMismatch, "netq_peer_id"},
		{"seed of another", edit("netq_identity_seed", otherFields["netq_identity_seed"]), keys.ErrMismatch, "netq_peer_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := keys.Parse(c.data)
			if !errors.Is(err, c.want) {
				t.Fatalf("Parse = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %q does not mention %q", err, c.says)
			}
		})
	}
}

func TestCheckFileMode(t *testing.T) {
	for _, c := range []struct {
		mode fs.FileMode
		ok   bool
	}{
		{0o600, true}, {0o400, true}, {0o700, true},
		{0o640, false}, {0o604, false}, {0o666, false}, {0o620, false},
	} {
		err := keys.CheckFileMode(c.mode)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, keys.ErrExposed)) {
			t.Errorf("CheckFileMode(%04o) = %v, want ok=%v", c.mode, err, c.ok)
		}
	}
}

func TestMarshalIncompleteKey(t *testing.T) {
	if _, err := (keys.Key{}).Marshal(); !errors.Is(err, keys.ErrMalformed) {
		t.Fatalf("Marshal of the zero key = %v, want ErrMalformed", err)
	}
}
