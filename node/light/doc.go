// Package light verifies, from the root chain alone, any header of any
// chain, the state of any account and any outer-relay message (paper 3.2:
// "a node joins by syncing the root chain only and verifies any
// transaction-chain block from it"). A light client holds only the
// genesis, that is the root committee's BLS keys (committees are fixed at
// genesis in this version), and checks a proof against one root block's
// decision certificate.
//
// # Who calls it
//
//   - node/driver builds the proofs a node serves (HeaderProof,
//     AccountProof, RelayProof) from its stores and its view of the root
//     chain;
//   - node/api serves their encodings (GET /v1/light/...);
//   - tools/lightcmd (`thinkey light`) fetches them from a node and
//     verifies them with VerifyHeader, VerifyAccount and VerifyRelay.
//
// The package is pure: no I/O, clock or goroutine (tools/archtest).
//
// # The rules
//
// A HeaderProof is the proven Header, zero or more lifts (relay.Lift) and
// the root certificate. Lift i holds the header of a recorder chain's
// block and the path, in that block's record root (its InputRoot), of the
// header before it: Header for lift 0 (rootchain.VerifyRecordProof). The
// proof ends at the last lift's recorder, or at Header when there is no
// lift: a root-chain header is proven by its certificate alone. VerifyHeader
// accepts a proof when
//
//   - Header and every recorder pass types.Header.ValidateBasic, and there
//     are at most relay.MaxLifts lifts;
//   - the last header is a root-chain header (chain 0) and no other header
//     of the proof is: the root chain is recorded by no chain;
//   - each lift's path leads from the previous header's leaf to the
//     recorder's record root, and the recorder block is not EMPTY;
//   - RootCertificate is a decision certificate for a committee of
//     len(rootKeys) members (consensus.CheckDecisionCertificate: a confirm
//     certificate of a quorum, or a prepare certificate of all), names
//     chain 0, the root header's height and the root header's hash, and its
//     aggregate signature verifies with one FastAggregateVerify over the
//     signers' keys (crypto/bls; the keys carry proofs of possession).
//     An EMPTY root block is decided by a certificate with a zero block
//     hash and records nothing, so no proof ends at one.
//
// Why a light client can stop there: the root committee records a child
// header only with the child committee's certificate, a coordinator does
// the same for its sub-chains, so the root certificate vouches for every
// header below it by transitivity. What a light client holding only the
// root keys cannot check is that each recorder is the topology parent of
// the chain below it (node/chains); the rule it can check is the one above
// (the last recorder is chain 0 and every path verifies), and VerifyHeader,
// VerifyAccount and VerifyRelay check that much. A caller that has the
// topology (the genesis file carries it; `thinkey light` passes it) sets
// Verifier.Topology, which adds: every chain of the proof is known, each
// recorder is the parent of the chain below it, an account proof is of a
// transaction chain that owns the account's address, and a relay comes
// from a transaction chain to an account of another chain.
//
// An AccountProof adds the account's canonical encoding (node/actor) and
// its path in Header.StateRoot (exec.VerifyAccountProof); the header must
// not be a root-chain header, which holds no accounts. It proves that the
// account had exactly this state after the block; absence cannot be
// proven. A RelayProof adds an outer-relay message of the header's chain
// and its path in Header.OuterRelayRoot (exec.VerifyRelayProof); an EMPTY
// header produced no relay.
//
// Cheap checks come first; the pairing check last. Every refusal wraps
// ErrInvalid and one reason (ErrMalformed, ErrLift, ErrNotRoot,
// ErrCertificate, ErrSignature, ErrAccount, ErrRelay); a verifier without
// keys fails with ErrNoRootKeys.
//
// # Encodings
//
// Canonical over node/codec, integers big-endian; nested headers,
// certificates, accounts and messages are their own packages' encodings,
// paths the crypto/merkle proof encoding (index u64, leaf count u64,
// sibling count u8, siblings).
//
//	HeaderProof (tag 0x25), at most HeaderProofMaxSize bytes:
//
//	  off  width  field
//	    0      1  Tag = 0x25
//	    1    232  Header (types.Header)
//	  233      1  k = number of lifts (at most relay.MaxLifts = 8)
//	  234         k lifts, each:
//	                232  Recorder (types.Header)
//	                  4  p = path length (at most MaxPathSize = 2065)
//	                  p  Path
//	              4  c = certificate length
//	              c  RootCertificate (types.Certificate)
//
//	AccountProof (tag 0x26):
//
//	  off  width  field
//	    0      1  Tag = 0x26
//	    1      4  h = header proof length
//	    5      h  Block (HeaderProof)
//	           4  a = account length (at most actor.AccountMaxSize)
//	           a  Account (actor.Account, tag 0x10)
//	           4  p = path length
//	           p  Path (in Block.Header.StateRoot)
//
//	RelayProof (tag 0x27): as AccountProof with, in place of the account,
//	the length and encoding of Message (types.Message, tag 0x02), and Path
//	in Block.Header.OuterRelayRoot.
//
// The decoders reject, with the node/codec sentinels: a wrong tag
// (ErrWrongType), input over the maximum and counts or lengths over their
// limits (ErrTooLarge), short input (ErrTruncated), trailing bytes at any
// level (ErrTrailingBytes), a path whose shape is invalid
// (ErrNonCanonical), and whatever the nested decoders reject. Every
// accepted encoding re-encodes to the same bytes, and decoded values share
// no memory with the input.
package light
