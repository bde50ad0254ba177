package ed25519

import (
	"bytes"
	stded25519 "crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/oasisprotocol/curve25519-voi/curve"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// RFC 8032, section 7.1, tests 1 to 3.
var rfc8032Vectors = []struct {
	name, seed, pub, msg, sig string
}{
	{
		name: "test 1",
		seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		pub:  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		msg:  "",
		sig:  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
	},
	{
		name: "test 2",
		seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		pub:  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		msg:  "72",
		sig:  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
	},
	{
		name: "test 3",
		seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		pub:  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
		msg:  "af82",
		sig:  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
	},
}

func TestRFC8032Vectors(t *testing.T) {
	for _, v := range rfc8032Vectors {
		t.Run(v.name, func(t *testing.T) {
			priv, err := NewKeyFromSeed(mustHex(t, v.seed))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := priv.Public(), mustPublicKey(t, v.pub); got != want {
				t.Fatalf("public key %s, want %s", got, want)
			}
			msg := mustHex(t, v.msg)
			sig := Sign(priv, msg)
			if got := sig.String(); got != v.sig {
				t.Fatalf("signature %s, want %s", got, v.sig)
			}
			if !Verify(priv.Public(), msg, sig) {
				t.Fatal("Verify rejected the RFC 8032 signature")
			}
		})
	}
}

// Table of verdicts, each with what ZIP-215 says about the case. The RFC 8032
// test 1 key and signature serve as the honest baseline.
func TestVerifyTable(t *testing.T) {
	const (
		rfcPub  = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
		rfcR    = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		rfcS    = "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
		rfcSAdL = "4c8c7872aa064e049dbb3013fbf29380d25bf5f0595bbe24655141438e7a101b" // rfcS + L
		otherPk = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c" // RFC 8032 test 2
	)
	cases := []struct {
		name       string
		pub        string
		msg        string
		r, s       string
		want       bool
		zip215Says string
	}{
		{"valid", rfcPub, "", rfcR, rfcS, true,
			"an honest signature satisfies the equation"},
		{"wrong message", rfcPub, "x", rfcR, rfcS, false,
			"k changes with the message, so the equation fails"},
		{"wrong key", otherPk, "", rfcR, rfcS, false,
			"k and A change, so the equation fails"},
		{"S plus L", rfcPub, "", rfcR, rfcSAdL, false,
			"S >= L is rejected although S mod L satisfies the equation (no malleability)"},
		{"S = 2^256-1", rfcPub, "", rfcR, allOnes32, false,
			"S >= L is rejected"},
		{"identity A and R, S = 0", identity, "Zcash", identity, zero32, true,
			"small-order A and R are allowed; [8]([0]B - R - [k]A) is the identity (ZIP-215 vector 0)"},
		{"identity A and R, S = 0, another message", identity, "pay 100 to mallory", identity, zero32, true,
			"a small-order key verifies every message: it authenticates nothing"},
		{"identity A and R, S = L", identity, "Zcash", identity, orderL, false,
			"S = L is non-canonical, rejected even though L = 0 mod L would satisfy the equation"},
		{"identity A and R, S = 1", identity, "Zcash", identity, one32, false,
			"[8]([1]B) is not the identity"},
		{"identity A, non-canonical R (y = p+1), S = 0", identity, "Zcash", identityYPlusP, zero32, true,
			"non-canonical R is decoded modulo p and hashed as received"},
		{"non-canonical A (x = 0, sign bit set), order-8 R, S = 0", identityNegZero, "Zcash", order8Point, zero32, true,
			"non-canonical A is accepted; both points are of small order"},
		{"order-8 A, identity R, S = 0", order8Point, "Zcash", identity, zero32, true,
			"[8] kills every small-order component"},
		{"order-8 A, identity R, S = 1", order8Point, "Zcash", identity, one32, false,
			"[8]([1]B) is not the identity"},
		{"A not on the curve", notOnCurve, "Zcash", identity, zero32, false,
			"A must decode to a point"},
		{"R not on the curve", identity, "Zcash", notOnCurve, zero32, false,
			"R must decode to a point"},
		{"non-canonical large-order A (y = p+3), identity R, S = 0", largeOrderYPlusP, "Zcash", identity, zero32, false,
			"the encoding decodes, but -[8][k]A is not the identity"},
		{"real key, identity R, S = 0", rfcPub, "", identity, zero32, false,
			"-[8][k]A is not the identity for a key of large order"},
		{"real key, all-zero signature", rfcPub, "", zero32, zero32, false,
			"R (y = 0) is of order 4, but -[8][k]A is not the identity"},
		{"all-zero key and signature", zero32, "any message at all", zero32, zero32, true,
			"A and R (y = 0) are of order 4 and S = 0: an unset key verifies everything"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pub := mustPublicKey(t, c.pub)
			sig := mustSignature(t, c.r, c.s)
			msg := []byte(c.msg)
			if got := Verify(pub, msg, sig); got != c.want {
				t.Fatalf("Verify = %v, want %v (ZIP-215: %s)", got, c.want, c.zip215Says)
			}
			batch := NewBatch(1)
			batch.Add(pub, msg, sig)
			allValid, valid := batch.Verify(seededReader(1))
			if allValid != c.want || len(valid) != 1 || valid[0] != c.want {
				t.Fatalf("batch of one = %v %v, want %v", allValid, valid, c.want)
			}
		})
	}
}

// All 196 ZIP-215 test vectors: every small-order encoding as A with every
// one as R, S = 0, message "Zcash". ZIP-215 accepts every one, singly and in
// a batch.
func TestZIP215Vectors(t *testing.T) {
	msg := []byte("Zcash")
	batch := NewBatch(len(smallOrderEncodings) * len(smallOrderEncodings))
	for _, a := range smallOrderEncodings {
		for _, r := range smallOrderEncodings {
			pub := mustPublicKey(t, a)
			sig := mustSignature(t, r, zero32)
			if !Verify(pub, msg, sig) {
				t.Errorf("Verify rejected A=%s R=%s", a, r)
			}
			batch.Add(pub, msg, sig)
		}
	}
	allValid, valid := batch.Verify(seededReader(2))
	if !allValid {
		t.Errorf("batch of the %d vectors failed: %v", batch.Len(), valid)
	}
}

// Signatures whose R or A carries a small-order component are valid under
// ZIP-215, singly and in a batch. Go's crypto/ed25519 rejects them, which is
// why it must never be mixed with a batch verifier.
func TestMixedOrderSignatures(t *testing.T) {
	priv := testKeys(t, 1)[0]
	msg := []byte("transfer 5 to carol")
	torsion := make([]*curve.EdwardsPoint, 8)
	for i, enc := range smallOrderEncodings[:8] {
		torsion[i] = decodePoint(t, mustHex(t, enc))
	}
	batch := NewBatch(64)
	nonce := [64]byte{7}
	for i, torsionA := range torsion {
		for j, torsionR := range torsion {
			nonce[1], nonce[2] = byte(i), byte(j)
			pub, sig := signMixedOrder(t, priv, msg, torsionA, torsionR, nonce)
			if !Verify(pub, msg, sig) {
				t.Errorf("torsion A %d, R %d: Verify rejected a ZIP-215-valid signature", i, j)
			}
			if i == 0 && j != 0 && stded25519.Verify(stded25519.PublicKey(pub[:]), msg, sig[:]) {
				t.Errorf("torsion R %d: crypto/ed25519 accepted; the cofactorless rule should reject", j)
			}
			batch.Add(pub, msg, sig)
		}
	}
	if allValid, valid := batch.Verify(seededReader(3)); !allValid {
		t.Errorf("batch rejected ZIP-215-valid signatures: %v", valid)
	}
}

func TestStdlibRejectsNonCanonicalR(t *testing.T) {
	pub := mustPublicKey(t, identity)
	sig := mustSignature(t, identityYPlusP, zero32)
	msg := []byte("Zcash")
	if !Verify(pub, msg, sig) {
		t.Fatal("ZIP-215 should accept a non-canonical R")
	}
	if stded25519.Verify(stded25519.PublicKey(pub[:]), msg, sig[:]) {
		t.Fatal("crypto/ed25519 accepted a non-canonical R; the reason not to mix the two rules has changed")
	}
}

// The library's preset is what the documentation calls ZIP-215; a change in
// a future release of the library must not change the node's rule silently.
func TestVerifyOptionsAreZIP215(t *testing.T) {
	want := voi.VerifyOptions{
		AllowSmallOrderA:   true,
		AllowSmallOrderR:   true,
		AllowNonCanonicalA: true,
		AllowNonCanonicalR: true,
		CofactorlessVerify: false,
	}
	if *verifyOptions.Verify != want {
		t.Fatalf("verify options %+v, want %+v", *verifyOptions.Verify, want)
	}
	if verifyOptions.Hash != 0 || verifyOptions.Context != "" {
		t.Fatalf("options select a variant other than pure Ed25519: %+v", verifyOptions)
	}
}

func TestDecodersRejectWrongLengths(t *testing.T) {
	for _, n := range []int{0, 1, 31, 33, 63, 65, 128} {
		b := bytes.Repeat([]byte{0xab}, n)
		if n != PublicKeySize {
			if _, err := PublicKeyFromBytes(b); !errors.Is(err, ErrPublicKeyLength) {
				t.Errorf("PublicKeyFromBytes(%d bytes) error %v, want ErrPublicKeyLength", n, err)
			}
		}
		if n != SignatureSize {
			if _, err := SignatureFromBytes(b); !errors.Is(err, ErrSignatureLength) {
				t.Errorf("SignatureFromBytes(%d bytes) error %v, want ErrSignatureLength", n, err)
			}
		}
		if n != SeedSize {
			if _, err := NewKeyFromSeed(b); !errors.Is(err, ErrSeedLength) {
				t.Errorf("NewKeyFromSeed(%d bytes) error %v, want ErrSeedLength", n, err)
			}
		}
	}
	if _, err := PublicKeyFromBytes(nil); !errors.Is(err, ErrPublicKeyLength) {
		t.Errorf("PublicKeyFromBytes(nil) error %v", err)
	}
	if _, err := SignatureFromBytes(nil); !errors.Is(err, ErrSignatureLength) {
		t.Errorf("SignatureFromBytes(nil) error %v", err)
	}
}

func TestDecodersRoundTrip(t *testing.T) {
	priv := testKeys(t, 1)[0]
	sig := Sign(priv, []byte("m"))
	want := priv.Public()
	pub, err := PublicKeyFromBytes(want[:])
	if err != nil || pub != want {
		t.Fatalf("public key round trip: %v %v", pub, err)
	}
	back, err := SignatureFromBytes(sig[:])
	if err != nil || back != sig {
		t.Fatalf("signature round trip: %v %v", back, err)
	}
	seed := priv.Seed()
	again, err := NewKeyFromSeed(seed[:])
	if err != nil || again != priv {
		t.Fatalf("seed round trip: %v %v", again, err)
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey(seededReader(9))
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey(seededReader(9))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("the same seeded source gave two different keys")
	}
	c, err := GenerateKey(seededReader(10))
	if err != nil {
		t.Fatal(err)
	}
	if c.Public() == a.Public() {
		t.Fatal("two sources gave the same key")
	}
	if _, err := GenerateKey(iotest.ErrReader(errors.New("entropy exhausted"))); err == nil {
		t.Fatal("GenerateKey ignored a failing source")
	}
	if _, err := GenerateKey(bytes.NewReader(make([]byte, SeedSize-1))); err == nil {
		t.Fatal("GenerateKey accepted a short seed")
	}
	if _, err := GenerateKey(nil); err == nil {
		t.Fatal("GenerateKey accepted a nil source")
	}
}

// Signing is RFC 8032 Ed25519, so it matches the standard library byte for
// byte, and the standard library accepts what this package signs.
func TestSignMatchesStdlib(t *testing.T) {
	for i, priv := range testKeys(t, 8) {
		msg := bytes.Repeat([]byte{byte(i)}, i*17)
		sig := Sign(priv, msg)
		seed := priv.Seed()
		stdPriv := stded25519.NewKeyFromSeed(seed[:])
		if want := stded25519.Sign(stdPriv, msg); !bytes.Equal(sig[:], want) {
			t.Fatalf("key %d: signature %x, crypto/ed25519 %x", i, sig, want)
		}
		pub := priv.Public()
		if !bytes.Equal(pub[:], stdPriv.Public().(stded25519.PublicKey)) {
			t.Fatalf("key %d: public key differs from crypto/ed25519", i)
		}
		if !Verify(pub, msg, sig) {
			t.Fatalf("key %d: own signature rejected", i)
		}
	}
}

func TestPrivateKeyFormatHidesSeed(t *testing.T) {
	priv := testKeys(t, 1)[0]
	seed := priv.Seed()
	seedHex := fmt.Sprintf("%x", seed[:])
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		out := fmt.Sprintf(verb, priv)
		if strings.Contains(strings.ToLower(out), seedHex) || strings.Contains(out, fmt.Sprint(seed[0], " ", seed[1])) {
			t.Errorf("%s printed the seed: %s", verb, out)
		}
		if !strings.Contains(out, priv.Public().String()) {
			t.Errorf("%s did not print the public key: %s", verb, out)
		}
	}
}

func TestIsSmallOrder(t *testing.T) {
	for _, enc := range smallOrderEncodings {
		if !mustPublicKey(t, enc).IsSmallOrder() {
			t.Errorf("%s: small-order key not reported", enc)
		}
	}
	if !(PublicKey{}).IsSmallOrder() {
		t.Error("the all-zero key is of order 4")
	}
	for _, enc := range []string{notOnCurve, largeOrderYPlusP} {
		if mustPublicKey(t, enc).IsSmallOrder() {
			t.Errorf("%s reported as small order", enc)
		}
	}
	for i, priv := range testKeys(t, 16) {
		if priv.Public().IsSmallOrder() {
			t.Errorf("key %d derived from a seed reported as small order", i)
		}
	}
}

// The zero values are not keys, but using them must not panic.
func TestZeroValuesDoNotPanic(t *testing.T) {
	var priv PrivateKey
	sig := Sign(priv, []byte("m"))
	_ = Verify(priv.Public(), []byte("m"), sig)
	_ = Verify(PublicKey{}, nil, Signature{})
	batch := NewBatch(0)
	batch.Add(PublicKey{}, nil, Signature{})
	batch.Add(PublicKey{}, nil, sig)
	_, valid := batch.Verify(seededReader(12))
	if len(valid) != 2 {
		t.Fatalf("%d verdicts for 2 entries", len(valid))
	}
	for i, s := range []Signature{{}, sig} {
		if valid[i] != Verify(PublicKey{}, nil, s) {
			t.Errorf("entry %d: batch and single disagree", i)
		}
	}
}
