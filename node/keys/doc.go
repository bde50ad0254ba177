// Package keys is a validator's node key: the BLS12-381 secret key it signs
// consensus votes with, and the seed of its netq transport identity, which
// authenticates its connections. The two are separate keys (netq explains
// why) kept in one file, because an operator creates, backs up and moves them
// together.
//
// `thinkey init` and `thinkey testnet` create key files (Generate, Marshal);
// the node shell (node/driver) reads one at start (Parse, CheckFileMode) and
// publishes the public half (Public) in the genesis committee. The package is
// pure: it neither opens files nor draws randomness. The shell does both and
// hands the bytes, the file mode and a random source in, so the rules here
// are tested without a disk.
//
// # File format
//
// A key file is a JSON object, written with mode 0600 (FileMode):
//
//	{
//	  "type": "thinkey-node-key/v1",
//	  "bls_secret_key": "<64 hex digits: 32-byte big-endian scalar>",
//	  "bls_public_key": "<96 hex digits: compressed G1 point>",
//	  "bls_proof_of_possession": "<192 hex digits: compressed G2 point>",
//	  "netq_identity_seed": "<64 hex digits: Ed25519 seed>",
//	  "netq_peer_id": "<64 hex digits>"
//	}
//
// The secret fields are the key; the public ones are derived from them and
// written so that an operator can copy them into a genesis file without
// tooling. Parse derives them again and refuses a file whose public fields do
// not match its secrets (ErrMismatch): a damaged or hand-edited file is caught
// at start, not after the node has joined with a key nobody expects. Unknown
// fields, a missing field, bad hex and wrong lengths are ErrMalformed, each
// naming the field.
//
// # Invariants
//
//   - A Key always holds a usable BLS secret key and a non-zero identity.
//   - Formatting a Key with fmt prints its public half only, so a secret never
//     reaches a log line.
//   - A key file readable or writable by anyone but its owner is refused
//     (CheckFileMode, ErrExposed), as ssh refuses exposed private keys.
package keys
