package ed25519

import (
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

// Hex constants shared by the tests.
const (
	// orderL is L, the order of the base point, little-endian: the smallest
	// non-canonical S.
	orderL = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"
	zero32 = "0000000000000000000000000000000000000000000000000000000000000000"
	one32  = "0100000000000000000000000000000000000000000000000000000000000000"
	// allOnes32 is 2^256-1, the largest S an encoding can hold.
	allOnes32 = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

	identity = one32 // y = 1, x = 0
	// order8Point is a canonical point of order 8.
	order8Point = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"
	// identityNegZero is y = 1 with the sign bit set although x = 0.
	identityNegZero = "0100000000000000000000000000000000000000000000000000000000000080"
	// identityYPlusP is y = p + 1, a non-canonical encoding of the identity.
	identityYPlusP = "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
	// notOnCurve is y = 2, for which no x exists.
	notOnCurve = "0200000000000000000000000000000000000000000000000000000000000000"
	// largeOrderYPlusP is y = p + 3, a non-canonical encoding of a point
	// (y = 3) that is not of small order.
	largeOrderYPlusP = "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
)

// smallOrderEncodings are the 14 encodings of points of small order that
// the ZIP-215 test vectors (as published with ed25519-zebra and shipped with
// curve25519-voi) combine as A and R with S = 0 and message "Zcash"; ZIP-215
// accepts all 196 combinations. The first 8 are the canonical encodings of
// the 8 points of order dividing 8; the last 6 are non-canonical.
var smallOrderEncodings = []string{
	one32, // identity
	order8Point,
	"0000000000000000000000000000000000000000000000000000000000000080", // y = 0, order 4, sign bit set
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = -1, order 2
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
	zero32, // y = 0, order 4
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
	identityNegZero, // non-canonical: identity, sign bit set, x = 0
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // non-canonical: y = -1, sign bit set, x = 0
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // non-canonical: y = p (= 0)
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // non-canonical: y = p (= 0), sign bit set
	identityYPlusP, // non-canonical: y = p + 1 (= 1)
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // non-canonical: y = p + 1, sign bit set
}

// tb is what the helpers need of *testing.T and *rapid.T alike.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func mustHex(t tb, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex constant %q: %v", s, err)
	}
	return b
}

func mustPublicKey(t tb, s string) PublicKey {
	t.Helper()
	pub, err := PublicKeyFromBytes(mustHex(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// mustSignature builds R || S from two 32-byte hex halves.
func mustSignature(t tb, r, s string) Signature {
	t.Helper()
	sig, err := SignatureFromBytes(append(mustHex(t, r), mustHex(t, s)...))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// seededReader is a deterministic random source for keys and batches.
func seededReader(seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return rand.NewChaCha8(key)
}

// testKeys returns n distinct keys derived from fixed seeds.
func testKeys(t tb, n int) []PrivateKey {
	t.Helper()
	rnd := seededReader(42)
	keys := make([]PrivateKey, n)
	for i := range keys {
		k, err := GenerateKey(rnd)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	return keys
}

// decodePoint decodes a (possibly non-canonical) encoding of a point.
func decodePoint(t tb, enc []byte) *curve.EdwardsPoint {
	t.Helper()
	var compressed curve.CompressedEdwardsY
	if _, err := compressed.SetBytes(enc); err != nil {
		t.Fatal(err)
	}
	var p curve.EdwardsPoint
	if _, err := p.SetCompressedY(&compressed); err != nil {
		t.Fatalf("%x is not a point: %v", enc, err)
	}
	return &p
}

// signMixedOrder signs msg with the secret scalar of priv but publishes the
// key A' = A + torsionA and the nonce point R' = rB + torsionR, where the
// torsion points are of small order. Then [8]([S]B - R' - [k]A') is the
// identity, so ZIP-215 accepts the signature, while the cofactorless rule
// rejects it whenever a torsion point survives. nonce supplies r (64 bytes,
// reduced mod L).
func signMixedOrder(t tb, priv PrivateKey, msg []byte, torsionA, torsionR *curve.EdwardsPoint, nonce [64]byte) (PublicKey, Signature) {
	t.Helper()
	seed := priv.Seed()
	digest := sha512.Sum512(seed[:])
	digest[0] &= 248
	digest[31] &= 127
	digest[31] |= 64
	var a, r, k, s scalar.Scalar
	if _, err := a.SetBits(digest[:32]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetBytesModOrderWide(nonce[:]); err != nil {
		t.Fatal(err)
	}

	var pointA, pointR curve.EdwardsPoint
	pointA.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &a)
	pointA.Add(&pointA, torsionA)
	pointR.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &r)
	pointR.Add(&pointR, torsionR)
	var encA, encR curve.CompressedEdwardsY
	encA.SetEdwardsPoint(&pointA)
	encR.SetEdwardsPoint(&pointR)

	h := sha512.New()
	h.Write(encR[:])
	h.Write(encA[:])
	h.Write(msg)
	if _, err := k.SetBytesModOrderWide(h.Sum(nil)); err != nil {
		t.Fatal(err)
	}
	s.Mul(&k, &a)
	s.Add(&s, &r)

	var pub PublicKey
	var sig Signature
	copy(pub[:], encA[:])
	copy(sig[:32], encR[:])
	if err := s.ToBytes(sig[32:]); err != nil {
		t.Fatal(err)
	}
	return pub, sig
}
