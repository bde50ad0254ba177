// Package ed25519 signs and verifies account messages with Ed25519.
//
// External account messages (paper, section 5) carry an Ed25519 signature
// by the sender over the message's canonical bytes. Wallets, the key tool and
// the load generator sign with [Sign]; stateless validation at the network
// edge checks one signature with [Verify]; the accel batch verifier checks
// the messages of a block or a mempool round together with [Batch]. This
// package signs the bytes it is given: the caller defines the canonical
// signing payload. Consensus (votes, certificates, beacon) uses BLS, not
// this package.
//
// # Encodings
//
//	PublicKey (32 bytes): compressed Edwards point A
//	+--------------------------------+
//	| y, 255 bits little-endian | sx |  sx = top bit of byte 31, sign of x
//	+--------------------------------+
//
//	Signature (64 bytes)
//	+--------------------------------+--------------------------------+
//	| R: compressed point, as A      | S: scalar, 256 bits little-end.|
//	+--------------------------------+--------------------------------+
//
//	PrivateKey: the 32-byte RFC 8032 seed (PrivateKey.Seed) is what is stored.
//
// # Acceptance rule
//
// The node has one rule, ZIP-215 (https://zips.z.cash/zip-0215), used for
// single and batch verification alike. For public key bytes A_bytes, message
// M and signature R_bytes || S_bytes:
//
//  1. A_bytes and R_bytes must each decode to a curve point. Non-canonical
//     encodings are accepted: a y of p or more is reduced modulo p, and the
//     sign bit may be set when x = 0. Bytes that are no point are rejected.
//  2. S, read little-endian, must be canonical: S < L, the order of the
//     base point. Otherwise the signature is rejected, even if S mod L would
//     satisfy the equation; this keeps signatures from being malleable in S.
//  3. k = SHA-512(R_bytes || A_bytes || M) mod L, over the bytes as received,
//     never re-encoded.
//  4. The signature is valid exactly when [8]([S]B - R - [k]A) is the
//     identity point: the cofactored equation.
//
// Small-order A and R are not rejected. A small-order public key has no
// secret key and every message verifies under it (take R small-order and
// S = 0), so such a key authenticates nothing. The all-zero PublicKey is one
// (y = 0, order 4), and the all-zero Signature is valid under it for every
// message: a key left unset verifies everything. Keys derived from a seed
// are never of small order; callers that bind a key to an identity reject
// keys for which [PublicKey.IsSmallOrder] holds.
//
// # Why ZIP-215
//
// A block is valid only if every honest node reaches the same verdict on
// every signature in it, whether the node checked the signature alone or in
// a batch. Batch verification checks one random linear combination of the
// per-signature equations, multiplied by the cofactor; it can only agree
// with a single verification that multiplies by the cofactor too. Go's
// crypto/ed25519 uses the cofactorless check that RFC 8032 permits as an
// alternative ([S]B - [k]A must re-encode to exactly R_bytes). Under it, a
// signature whose R or A carries a small-order component is rejected singly
// (for R alone, always; for A, for most messages), yet it always passes a
// cofactored batch, and it passes a cofactorless batch for some random
// coefficients and not for others: two nodes could disagree on the same
// block. ZIP-215 also settles the encoding questions (non-canonical points,
// small-order points) that implementations answer differently. With ZIP-215
// a batch accepts an entry exactly when Verify does.
//
// The one caveat is probabilistic and inherent to batching: when some entry
// is invalid, the batch equation still holds with probability at most 2^-128
// over the random coefficients. The coefficients come from the caller's
// random source (crypto/rand in production) and must be unpredictable to
// whoever produced the signatures.
//
// # Why curve25519-voi
//
// github.com/oasisprotocol/curve25519-voi implements ZIP-215 as a preset
// (VerifyOptionsZIP_215) for both its single and its batch verifier, its
// batch verifier is fast (one variable-time multi-scalar multiplication;
// at a thousand signatures, two to three times cheaper per signature than
// single verification, see the ed25519 stage of package bench), and when a
// batch fails it reports each entry's verdict, reusing the points it decoded.
// The standard library's crypto/ed25519 has no batch verifier and uses the
// cofactorless rule, so it must never be mixed with a batch verifier; it
// appears in this repository only as a reference point in the benchmarks.
//
// # Invariants
//
//   - For every input, Batch.Verify's verdict on an entry equals Verify's
//     (up to the 2^-128 caveat above), and allValid is the conjunction.
//   - Verify and Batch use the same options value, verifyOptions.
//   - Nothing panics on any input: decoders check lengths and return errors
//     wrapping ErrPublicKeyLength, ErrSignatureLength or ErrSeedLength.
//   - No global randomness: GenerateKey and Batch.Verify read the source
//     the caller passes.
package ed25519
