package ed25519

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/oasisprotocol/curve25519-voi/curve"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Sizes of the encodings, in bytes.
const (
	PublicKeySize = voi.PublicKeySize
	SignatureSize = voi.SignatureSize
	SeedSize      = voi.SeedSize
)

// Errors callers branch on. Decoders wrap them with the length they got.
var (
	ErrPublicKeyLength = errors.New("ed25519: public key is not 32 bytes")
	ErrSignatureLength = errors.New("ed25519: signature is not 64 bytes")
	ErrSeedLength      = errors.New("ed25519: seed is not 32 bytes")
)

// verifyOptions is the one acceptance rule of the node (ZIP-215), shared by
// Verify and Batch so that the two cannot drift apart. It is never modified.
var verifyOptions = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// PublicKey is the 32-byte encoding of an Ed25519 public key A as it appears
// on the wire. Any 32 bytes are a PublicKey: whether they decode to a curve
// point is decided by Verify, so that acceptance is decided in one place.
type PublicKey [PublicKeySize]byte

// PublicKeyFromBytes copies b into a PublicKey. It fails, wrapping
// ErrPublicKeyLength, unless b is exactly PublicKeySize bytes long.
func PublicKeyFromBytes(b []byte) (PublicKey, error) {
	var pub PublicKey
	if len(b) != PublicKeySize {
		return pub, fmt.Errorf("decode public key of %d bytes: %w", len(b), ErrPublicKeyLength)
	}
	copy(pub[:], b)
	return pub, nil
}

// String returns the key in lower-case hex.
func (pub PublicKey) String() string { return hex.EncodeToString(pub[:]) }

// IsSmallOrder reports whether pub decodes to a point of small order (order
// dividing 8), in any of its encodings. Such a key has no secret key and
// every message verifies under it, so it authenticates nothing; the all-zero
// PublicKey is one. Keys derived from a seed are never of small order.
// Callers that bind a key to an identity (an account, say) reject these.
func (pub PublicKey) IsSmallOrder() bool {
	var compressed curve.CompressedEdwardsY
	if _, err := compressed.SetBytes(pub[:]); err != nil {
		return false // cannot happen: pub is 32 bytes
	}
	var point curve.EdwardsPoint
	if _, err := point.SetCompressedY(&compressed); err != nil {
		return false // not a point: Verify rejects every signature under it
	}
	return point.IsSmallOrder()
}

// Signature is the 64-byte encoding R || S of an Ed25519 signature.
type Signature [SignatureSize]byte

// SignatureFromBytes copies b into a Signature. It fails, wrapping
// ErrSignatureLength, unless b is exactly SignatureSize bytes long.
func SignatureFromBytes(b []byte) (Signature, error) {
	var sig Signature
	if len(b) != SignatureSize {
		return sig, fmt.Errorf("decode signature of %d bytes: %w", len(b), ErrSignatureLength)
	}
	copy(sig[:], b)
	return sig, nil
}

// String returns the signature in lower-case hex.
func (sig Signature) String() string { return hex.EncodeToString(sig[:]) }

// PrivateKey is an Ed25519 signing key: the RFC 8032 seed together with the
// public key derived from it, so that signing does not derive it again.
//
// The zero value is not a key; obtain keys from GenerateKey or
// NewKeyFromSeed. Formatting a PrivateKey with the fmt package prints only
// its public half, so a key put in a log line does not leak.
type PrivateKey struct {
	seed   [SeedSize]byte
	public PublicKey
}

// NewKeyFromSeed derives the key whose RFC 8032 private key is seed. It
// fails, wrapping ErrSeedLength, unless seed is exactly SeedSize bytes long.
func NewKeyFromSeed(seed []byte) (PrivateKey, error) {
	var priv PrivateKey
	if len(seed) != SeedSize {
		return priv, fmt.Errorf("derive key from seed of %d bytes: %w", len(seed), ErrSeedLength)
	}
	copy(priv.seed[:], seed)
	expanded := voi.NewKeyFromSeed(priv.seed[:]) // cannot panic: the length is checked above
	copy(priv.public[:], expanded[SeedSize:])
	return priv, nil
}

// GenerateKey draws a seed from rnd (crypto/rand.Reader in production, a
// seeded reader in tests and simulations) and derives its key.
func GenerateKey(rnd io.Reader) (PrivateKey, error) {
	if rnd == nil {
		return PrivateKey{}, errors.New("generate ed25519 key: no random source")
	}
	var seed [SeedSize]byte
	if _, err := io.ReadFull(rnd, seed[:]); err != nil {
		return PrivateKey{}, fmt.Errorf("generate ed25519 key: read seed: %w", err)
	}
	return NewKeyFromSeed(seed[:])
}

// Public returns the public key of priv.
func (priv PrivateKey) Public() PublicKey { return priv.public }

// Seed returns the RFC 8032 private key of priv, the form in which keys are
// stored; NewKeyFromSeed restores the key from it.
func (priv PrivateKey) Seed() [SeedSize]byte { return priv.seed }

// Format prints the public key only, whatever the verb, so that no format
// string (%v, %+v, %#v, %x, %s) can reveal the seed.
func (priv PrivateKey) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "ed25519.PrivateKey{public: %s}", priv.public)
}

// Sign returns the deterministic RFC 8032 signature of msg under priv. msg
// is signed as given: the caller passes the canonical bytes it defines.
func Sign(priv PrivateKey, msg []byte) Signature {
	var expanded [voi.PrivateKeySize]byte
	copy(expanded[:SeedSize], priv.seed[:])
	copy(expanded[SeedSize:], priv.public[:])
	// voi.Sign panics only on a private key that is not 64 bytes long.
	var sig Signature
	copy(sig[:], voi.Sign(voi.PrivateKey(expanded[:]), msg))
	return sig
}

// Verify reports whether sig is a valid signature of msg by pub under the
// node's acceptance rule (ZIP-215, see the package documentation). It is the
// reference for Batch: a batch entry is valid exactly when Verify accepts it.
func Verify(pub PublicKey, msg []byte, sig Signature) bool {
	// VerifyWithOptions panics only on a key that is not 32 bytes long or on
	// invalid options; neither can happen here.
	return voi.VerifyWithOptions(pub[:], msg, sig[:], verifyOptions)
}
