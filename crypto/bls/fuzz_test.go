package bls

import (
	"bytes"
	"errors"
	"testing"
)

// The seed corpora live in testdata/fuzz/<FuzzName>: valid points, the
// identity, and the rejected encodings of the deserialization vectors.

func FuzzPublicKeyFromBytes(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := PublicKeyFromBytes(b)
		if err != nil {
			if pk != nil || !errors.Is(err, ErrInvalidPublicKey) {
				t.Fatalf("key %v with error %v", pk, err)
			}
			return
		}
		if !bytes.Equal(pk.Bytes(), b) {
			t.Fatalf("accepted %x re-encodes to %x", b, pk.Bytes())
		}
		if !pk.usable() {
			t.Fatalf("accepted the identity %x", b)
		}
	})
}

func FuzzSignatureFromBytes(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := SignatureFromBytes(b)
		if err != nil {
			if sig != nil || !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("signature %v with error %v", sig, err)
			}
			return
		}
		if !bytes.Equal(sig.Bytes(), b) {
			t.Fatalf("accepted %x re-encodes to %x", b, sig.Bytes())
		}
	})
}

func FuzzSecretKeyFromBytes(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		sk, err := SecretKeyFromBytes(b)
		if err != nil {
			if sk != nil || !errors.Is(err, ErrInvalidSecretKey) {
				t.Fatalf("key %v with error %v", sk, err)
			}
			return
		}
		if !bytes.Equal(sk.Bytes(), b) || sk.PublicKey() == nil {
			t.Fatalf("accepted %x re-encodes to %x", b, sk.Bytes())
		}
	})
}
