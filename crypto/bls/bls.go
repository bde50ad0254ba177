package bls

import (
	"errors"
	"fmt"

	blst "github.com/supranational/blst/bindings/go"
)

// Encoded sizes, in bytes.
const (
	SecretKeySize = 32 // big-endian scalar in [1, r-1]
	PublicKeySize = 48 // compressed G1 point
	SignatureSize = 96 // compressed G2 point
	// MinIKMSize is the least input key material GenerateKey accepts.
	MinIKMSize = 32
)

// Domain separation tags of the ciphersuite. Signatures and proofs of
// possession hash to G2 under different tags, so a proof of possession can
// never be replayed as a signature over the key's bytes, or the reverse.
const (
	SignatureDST  = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
	PossessionDST = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
)

// Errors callers branch on. Decoders wrap them with the reason.
var (
	ErrInvalidSecretKey = errors.New("bls: invalid secret key")
	ErrInvalidPublicKey = errors.New("bls: invalid public key")
	ErrInvalidSignature = errors.New("bls: invalid signature")
	// ErrShortIKM: GenerateKey was given fewer than MinIKMSize bytes.
	ErrShortIKM = errors.New("bls: input key material too short")
	// ErrNothingToAggregate: an aggregate of zero elements was asked for.
	ErrNothingToAggregate = errors.New("bls: nothing to aggregate")
)

var (
	signatureDST  = []byte(SignatureDST)
	possessionDST = []byte(PossessionDST)
	// g1Generator is the fixed base point of G1, read-only after package
	// initialisation; the signature side of every pairing check pairs with it.
	g1Generator = blst.P1Generator().ToAffine()
)

// SecretKey is a signing key: a scalar in [1, r-1]. The zero value is not a
// usable key; obtain keys from GenerateKey or SecretKeyFromBytes.
type SecretKey struct{ scalar blst.SecretKey }

// PublicKey is a verification key: a point of G1 other than the identity,
// checked to lie in the prime-order subgroup when it was decoded. The zero
// value is the identity and is rejected by every function of this package.
type PublicKey struct{ point blst.P1Affine }

// Signature is a point of G2, checked to lie in the prime-order subgroup when
// it was decoded or aggregated. The zero value is the identity (the
// "infinity signature"), which encodes and decodes but verifies against no
// valid key.
type Signature struct{ point blst.P2Affine }

// GenerateKey derives a secret key from at least MinIKMSize bytes of secret,
// uniformly random input key material, deterministically (KeyGen of
// draft-irtf-cfrg-bls-signature-05, section 2.3, with an empty key_info).
// The same ikm always gives the same key.
func GenerateKey(ikm []byte) (*SecretKey, error) {
	if len(ikm) < MinIKMSize {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrShortIKM, len(ikm), MinIKMSize)
	}
	scalar := blst.KeyGen(ikm)
	if scalar == nil || !scalar.Valid() {
		return nil, fmt.Errorf("generate key: %w", ErrInvalidSecretKey)
	}
	return &SecretKey{scalar: *scalar}, nil
}

// SecretKeyFromBytes decodes a big-endian scalar; zero and values not below
// the group order r are rejected.
func SecretKeyFromBytes(b []byte) (*SecretKey, error) {
	if len(b) != SecretKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidSecretKey, len(b), SecretKeySize)
	}
	var sk SecretKey
	if sk.scalar.Deserialize(b) == nil {
		return nil, fmt.Errorf("%w: zero or not below the group order", ErrInvalidSecretKey)
	}
	return &sk, nil
}

// usable reports whether sk holds a scalar in [1, r-1].
func (sk *SecretKey) usable() bool { return sk != nil && sk.scalar.Valid() }

// Bytes returns the 32-byte big-endian encoding, or nil for a nil key.
func (sk *SecretKey) Bytes() []byte {
	if sk == nil {
		return nil
	}
	return sk.scalar.Serialize()
}

// PublicKey returns the key sk*G1, or nil when sk is nil or zero.
func (sk *SecretKey) PublicKey() *PublicKey {
	if !sk.usable() {
		return nil
	}
	var pk PublicKey
	pk.point.From(&sk.scalar)
	return &pk
}

// PublicKeyFromBytes decodes a compressed G1 point and applies the spec's
// KeyValidate: the encoding must be canonical (compression flag set,
// coordinate below the field modulus, infinity flag only on the all-zero
// identity), the point on the curve, in the prime-order subgroup, and not
// the identity.
func PublicKeyFromBytes(b []byte) (*PublicKey, error) {
	point, err := decodeG1(b)
	if err != nil {
		return nil, err
	}
	if isIdentityG1(point) {
		return nil, fmt.Errorf("%w: the identity point", ErrInvalidPublicKey)
	}
	return &PublicKey{point: *point}, nil
}

// decodeG1 is the spec's pubkey_to_point with the subgroup check: it accepts
// the identity, which only PublicKeyFromBytes goes on to reject.
func decodeG1(b []byte) (*blst.P1Affine, error) {
	if len(b) != PublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidPublicKey, len(b), PublicKeySize)
	}
	var point blst.P1Affine
	if point.Uncompress(b) == nil {
		return nil, fmt.Errorf("%w: not a canonical compressed point on the curve", ErrInvalidPublicKey)
	}
	if !point.InG1() {
		return nil, fmt.Errorf("%w: not in the prime-order subgroup", ErrInvalidPublicKey)
	}
	return &point, nil
}

// usable reports whether pk can take part in verification: present and not
// the identity (the zero value of PublicKey is the identity).
func (pk *PublicKey) usable() bool { return pk != nil && !isIdentityG1(&pk.point) }

// Bytes returns the 48-byte compressed encoding, or nil for a nil key.
func (pk *PublicKey) Bytes() []byte {
	if pk == nil {
		return nil
	}
	return pk.point.Compress()
}

// Equal reports whether pk and other are the same point.
func (pk *PublicKey) Equal(other *PublicKey) bool {
	if pk == nil || other == nil {
		return pk == other
	}
	return pk.point.Equals(&other.point)
}

// SignatureFromBytes decodes a compressed G2 point: the encoding must be
// canonical, the point on the curve and in the prime-order subgroup. The
// identity (0xc0 followed by zeros) decodes, as the spec's signature_to_point
// allows; it never verifies against a valid key.
//
// The subgroup check is done here, once, so that verification and
// aggregation never repeat it.
func SignatureFromBytes(b []byte) (*Signature, error) {
	if len(b) != SignatureSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidSignature, len(b), SignatureSize)
	}
	var sig Signature
	if sig.point.Uncompress(b) == nil {
		return nil, fmt.Errorf("%w: not a canonical compressed point on the curve", ErrInvalidSignature)
	}
	if !sig.point.InG2() {
		return nil, fmt.Errorf("%w: not in the prime-order subgroup", ErrInvalidSignature)
	}
	return &sig, nil
}

// Bytes returns the 96-byte compressed encoding, or nil for a nil signature.
func (sig *Signature) Bytes() []byte {
	if sig == nil {
		return nil
	}
	return sig.point.Compress()
}

// Equal reports whether sig and other are the same point.
func (sig *Signature) Equal(other *Signature) bool {
	if sig == nil || other == nil {
		return sig == other
	}
	return sig.point.Equals(&other.point)
}

// Sign returns the signature of msg under sk, or nil when sk is nil or zero.
func Sign(sk *SecretKey, msg []byte) *Signature {
	return signWithDST(sk, msg, signatureDST)
}

func signWithDST(sk *SecretKey, msg, dst []byte) *Signature {
	if !sk.usable() {
		return nil
	}
	var sig Signature
	if sig.point.Sign(&sk.scalar, msg, dst) == nil {
		return nil
	}
	return &sig
}

// Verify reports whether sig is a signature of msg under pk. It is false for
// nil arguments and for the identity key.
func Verify(pk *PublicKey, msg []byte, sig *Signature) bool {
	return verifyWithDST(pk, msg, sig, signatureDST)
}

func verifyWithDST(pk *PublicKey, msg []byte, sig *Signature, dst []byte) bool {
	if !pk.usable() || sig == nil {
		return false
	}
	return pairingCheck(&sig.point, []*blst.P1Affine{&pk.point}, []*blst.P2Affine{hashToG2(msg, dst)})
}

// ProvePossession returns the proof that the holder of sk knows it: a
// signature of the compressed public key under PossessionDST. It is nil when
// sk is nil or zero.
func ProvePossession(sk *SecretKey) *Signature {
	pk := sk.PublicKey()
	if pk == nil {
		return nil
	}
	return signWithDST(sk, pk.Bytes(), possessionDST)
}

// VerifyPossession reports whether proof shows knowledge of pk's secret key.
// A key must pass it before it joins any same-message aggregate (see the
// package documentation).
func VerifyPossession(pk *PublicKey, proof *Signature) bool {
	if !pk.usable() {
		return false
	}
	return verifyWithDST(pk, pk.Bytes(), proof, possessionDST)
}

// AggregateSignatures adds signatures. The result verifies, with
// AggregateVerify or FastAggregateVerify, exactly when the parts would
// together. No subgroup check is repeated: every Signature was checked when
// it was decoded, and G2 is closed under addition.
func AggregateSignatures(sigs []*Signature) (*Signature, error) {
	if len(sigs) == 0 {
		return nil, fmt.Errorf("aggregate signatures: %w", ErrNothingToAggregate)
	}
	points := make([]*blst.P2Affine, len(sigs))
	for i, sig := range sigs {
		if sig == nil {
			return nil, fmt.Errorf("aggregate signatures: signature %d is nil: %w", i, ErrInvalidSignature)
		}
		points[i] = &sig.point
	}
	return &Signature{point: *sumG2(points)}, nil
}

// AggregatePublicKeys adds public keys, each of which must carry a verified
// proof of possession. It fails when the sum is the identity, which is not a
// valid key.
func AggregatePublicKeys(pks []*PublicKey) (*PublicKey, error) {
	if len(pks) == 0 {
		return nil, fmt.Errorf("aggregate public keys: %w", ErrNothingToAggregate)
	}
	points := make([]*blst.P1Affine, len(pks))
	for i, pk := range pks {
		if !pk.usable() {
			return nil, fmt.Errorf("aggregate public keys: key %d is nil or the identity: %w", i, ErrInvalidPublicKey)
		}
		points[i] = &pk.point
	}
	sum := sumG1(points)
	if isIdentityG1(sum) {
		return nil, fmt.Errorf("aggregate public keys: the sum is the identity: %w", ErrInvalidPublicKey)
	}
	return &PublicKey{point: *sum}, nil
}

// FastAggregateVerify reports whether sig is the aggregate of signatures of
// the one message msg under every key of pks. The keys must carry verified
// proofs of possession; it is false for an empty key list.
func FastAggregateVerify(pks []*PublicKey, msg []byte, sig *Signature) bool {
	if sig == nil {
		return false
	}
	aggregate, err := AggregatePublicKeys(pks)
	if err != nil {
		return false
	}
	return Verify(aggregate, msg, sig)
}

// AggregateVerify reports whether sig is the aggregate of signatures of
// msgs[i] under pks[i]. Under proofs of possession the messages need not be
// distinct (the POP ciphersuite's AggregateVerify is CoreAggregateVerify).
// It is false for empty or mismatched lists.
func AggregateVerify(pks []*PublicKey, msgs [][]byte, sig *Signature) bool {
	if len(pks) == 0 || len(pks) != len(msgs) || sig == nil {
		return false
	}
	points := make([]*blst.P1Affine, len(pks))
	hashes := make([]*blst.P2Affine, len(pks))
	for i, pk := range pks {
		if !pk.usable() {
			return false
		}
		points[i] = &pk.point
		hashes[i] = hashToG2(msgs[i], signatureDST)
	}
	return pairingCheck(&sig.point, points, hashes)
}

// hashToG2 is hash_to_curve (RFC 9380, BLS12381G2_XMD:SHA-256_SSWU_RO_).
func hashToG2(msg, dst []byte) *blst.P2Affine {
	return blst.HashToG2(msg, dst).ToAffine()
}

// pairingCheck reports whether e(G1, sig) equals the product of
// e(pks[j], hashes[j]). It runs on the calling thread: the Miller loops are
// accumulated in one blst pairing context and share a single final
// exponentiation. Identity keys contribute the neutral element and are
// skipped, because blst's Miller loop is only defined for finite points.
func pairingCheck(sig *blst.P2Affine, pks []*blst.P1Affine, hashes []*blst.P2Affine) bool {
	ctx := blst.PairingCtx(true, nil) // the tag is unused: hashes come in precomputed
	pairs := 0
	for j, pk := range pks {
		if isIdentityG1(pk) {
			continue
		}
		blst.PairingRawAggregate(ctx, hashes[j], pk)
		pairs++
	}
	sigIsIdentity := isIdentityG2(sig)
	if pairs == 0 {
		return sigIsIdentity
	}
	var gtSig blst.Fp12
	if sigIsIdentity {
		gtSig = blst.Fp12One()
	} else {
		gtSig = *blst.Fp12MillerLoop(sig, g1Generator)
	}
	blst.PairingCommit(ctx)
	return blst.PairingFinalVerify(ctx, &gtSig)
}

func sumG1(points []*blst.P1Affine) *blst.P1Affine {
	return blst.P1AffinesAdd(points).ToAffine()
}

func sumG2(points []*blst.P2Affine) *blst.P2Affine {
	return blst.P2AffinesAdd(points).ToAffine()
}

func isIdentityG1(p *blst.P1Affine) bool {
	var identity blst.P1Affine
	return p.Equals(&identity)
}

func isIdentityG2(p *blst.P2Affine) bool {
	var identity blst.P2Affine
	return p.Equals(&identity)
}
