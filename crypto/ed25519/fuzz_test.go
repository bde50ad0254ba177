package ed25519

import (
	"testing"
)

// FuzzVerifyAgreement feeds arbitrary (public key, message, signature) bytes
// to the decoders, to Verify, to a batch of one and to a batch that also
// holds a known-valid entry: the decoders must check lengths, nothing may
// panic, and every path must reach the same verdict.
func FuzzVerifyAgreement(f *testing.F) {
	for _, v := range rfc8032Vectors {
		f.Add(mustHex(f, v.pub), mustHex(f, v.msg), mustHex(f, v.sig))
	}
	f.Add(mustHex(f, identity), []byte("Zcash"), mustHex(f, identity+zero32))
	f.Add(mustHex(f, notOnCurve), []byte("Zcash"), mustHex(f, identity+zero32))
	f.Add([]byte{1, 2, 3}, []byte{}, []byte{4, 5, 6})

	known := testKeys(f, 1)[0]
	knownMsg := []byte("known-valid entry")
	knownSig := Sign(known, knownMsg)

	f.Fuzz(func(t *testing.T, pubBytes, msg, sigBytes []byte) {
		pub, errPub := PublicKeyFromBytes(pubBytes)
		if (errPub == nil) != (len(pubBytes) == PublicKeySize) {
			t.Fatalf("PublicKeyFromBytes(%d bytes) error %v", len(pubBytes), errPub)
		}
		sig, errSig := SignatureFromBytes(sigBytes)
		if (errSig == nil) != (len(sigBytes) == SignatureSize) {
			t.Fatalf("SignatureFromBytes(%d bytes) error %v", len(sigBytes), errSig)
		}
		// Verify every input, whatever its length, by fitting the bytes into
		// the fixed-size values (truncated or zero-padded).
		copy(pub[:], pubBytes)
		copy(sig[:], sigBytes)

		single := Verify(pub, msg, sig)

		one := NewBatch(1)
		one.Add(pub, msg, sig)
		allOne, validOne := one.Verify(seededReader(1))
		if allOne != single || len(validOne) != 1 || validOne[0] != single {
			t.Fatalf("single %v, batch of one %v %v", single, allOne, validOne)
		}

		two := NewBatch(2)
		two.Add(known.Public(), knownMsg, knownSig)
		two.Add(pub, msg, sig)
		allTwo, validTwo := two.Verify(seededReader(2))
		if len(validTwo) != 2 || !validTwo[0] || validTwo[1] != single || allTwo != single {
			t.Fatalf("single %v, batch with a known-valid entry %v %v", single, allTwo, validTwo)
		}
	})
}
