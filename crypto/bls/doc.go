// Package bls is the node's BLS signature scheme: keys, signing, single,
// aggregate and batch verification, and proofs of possession, on the
// BLS12-381 curve through the blst library.
//
// Consensus votes and their certificates, the random beacon and election
// proofs are all signed with it. The consensus core never calls it directly:
// it emits verification requests, and the accel batcher in the shell merges
// them into calls of [VerifySameMessage] (a committee's votes on one block)
// and [BatchVerify] / [BatchVerifyFindInvalid] (independent signatures). Key
// tools call [GenerateKey] and [ProvePossession]; stake registration calls
// [VerifyPossession].
//
// # Ciphersuite
//
// BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_ of draft-irtf-cfrg-bls-signature-05,
// the "minimal public key size" variant: public keys are points of G1 (48
// bytes compressed), signatures points of G2 (96 bytes compressed), messages
// are hashed to G2 with hash_to_curve (RFC 9380, SSWU, random oracle) under
// the tag [SignatureDST]. Proofs of possession sign the compressed public
// key under the separate tag [PossessionDST]. The package passes the
// Ethereum consensus BLS test suite (../shared/testvectors/bls12-381).
//
// # Encodings
//
// Points use the ZCash compressed serialisation; the three high bits of the
// first byte are flags, the rest is the big-endian x coordinate (for G2, x is
// an element c0 + c1*u of Fp2 and c1 comes first):
//
//	public key, 48 bytes:
//	+---+---+---+------------+--------------------------+
//	| C | I | S | x[380:376] | x[375:0]                 |
//	+---+---+---+------------+--------------------------+
//	|<------- byte 0 ------->|<----- bytes 1..47 ------>|
//
//	signature, 96 bytes:
//	+---+---+---+---------------+-------------+---------------+
//	| C | I | S | x.c1[380:376] | x.c1[375:0] | x.c0          |
//	+---+---+---+---------------+-------------+---------------+
//	|<--------- byte 0 -------->| bytes 1..47 | bytes 48..95  |
//
//	C  compression flag, always 1
//	I  identity flag: 1 only for the identity, whose other bits are all 0
//	S  sign flag: 1 when y is the lexicographically larger of the two roots
//
// Secret keys are 32-byte big-endian scalars in [1, r-1]. Every accepted
// encoding is canonical: a decoded value re-encodes to the same bytes
// (checked by the fuzz targets).
//
// # Invariants
//
//   - Every [PublicKey] from this package lies in the prime-order subgroup
//     of G1 and is not the identity; every [Signature] lies in the
//     prime-order subgroup of G2. Decoding checks this once, so verification
//     and aggregation never repeat a subgroup check. The zero values of
//     PublicKey and Signature are the identity: every function rejects an
//     identity public key, and the identity signature verifies against no
//     valid key. The zero SecretKey signs nothing.
//   - Nothing panics on bad input: nil values, empty or mismatched slices,
//     malformed bytes give false, an error or an "invalid" index.
//   - No package state is mutable and the package starts no goroutine of its
//     own. Hashing and pairings run on the calling thread. blst's
//     multi-scalar multiplication, used by the batch paths, spreads over up
//     to GOMAXPROCS threads; with GOMAXPROCS=1, the node's target profile,
//     everything runs on the calling thread.
//   - Randomness is an input: the batch paths read their coefficients from
//     the io.Reader they are given (crypto/rand in the node, a seeded source
//     in tests and the simulator). Verdicts do not depend on it except with
//     probability 2^-64 per bad signature.
//
// # Proofs of possession
//
// With public keys in G1 an adversary can pick a "rogue" key
// pk' = x*G1 - pk for an honest member's pk: the aggregate of pk and pk' is
// x*G1, so the adversary alone can produce an aggregate that says both
// members signed. The POP ciphersuite closes this by requiring every key to
// come with a proof of possession, which a rogue key cannot have because its
// secret is unknown. The invariant the node keeps is therefore:
//
//	no public key enters a committee, an aggregate (AggregatePublicKeys,
//	FastAggregateVerify, a certificate) or a vote batch (VerifySameMessage)
//	unless VerifyPossession accepted its proof when it was registered.
//
// This package cannot check the invariant itself; the stake registry on the
// root chain does, once per key. Under it, same-message aggregation is safe:
// a committee certificate (one aggregate signature and the signer set) is
// checked with a single pairing equation by [FastAggregateVerify].
//
// # Batching and bisection
//
// A committee of up to 400 members signs the same block hash. Checking each
// vote costs a hash to G2, two Miller loops and a final exponentiation.
// [VerifySameMessage] instead checks all of them with one equation,
//
//	e(G1, sum r_i*sig_i) == e(sum r_i*pk_i, H(m))
//
// where the r_i are fresh random nonzero 64-bit coefficients. The two sums
// are multi-scalar multiplications (Pippenger), so the check costs one hash,
// two Miller loops and one final exponentiation plus a few microseconds per
// vote, whatever the committee size; what remains per vote is decoding its
// signature (square root and subgroup check), which dominates the batch.
//
// The coefficients are what make each vote's verdict exact. With plain sums
// (all r_i = 1) two colluding members can send sig_a + d and sig_b - d: both
// votes are invalid, their sum is valid, and a leader that trusted the sum
// would later build an invalid certificate from a subset of them. With
// random coefficients a set containing any invalid signature passes with
// probability at most 2^-64, so the batch agrees with one-by-one [Verify].
// The same holds for [BatchVerify], which groups signatures by message and
// pays one hash and one Miller loop per distinct message.
//
// When the check fails, the batch is bisected: each half is checked with the
// same coefficients, recursively, down to single signatures. Since a range's
// check is the product of its halves' checks, a failing range whose left
// half passes has a failing right half, which is not checked again; a single
// signature known to fail is invalid without a further pairing. One bad vote
// among n costs about log2(n) extra checks. If the randomness source fails,
// the batch falls back to checking each signature alone, which is slower but
// still exact.
//
// # Why blst
//
// blst (github.com/supranational/blst) is the BLS12-381 library of the
// Ethereum consensus clients: fast (assembly for x86-64 with ADX and for
// ARMv8), constant-time in its secret-key operations, audited (NCC Group,
// 2021) with parts formally verified, and it implements exactly this
// ciphersuite, including hash_to_curve and the IETF KeyGen. Writing pairing
// arithmetic by hand would be slower and far riskier. This package wraps it
// so that the rest of the node sees typed, always-valid values and one
// set of rules for encodings and verification.
package bls
