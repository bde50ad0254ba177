// Package lightcmd is `thinkey light`: a light client that verifies, from
// the root chain alone, what a node says about any chain (paper 3.2: a node
// "verifies any transaction-chain block" from the root chain). It trusts
// the genesis file, for the root committee's keys and the topology, and
// nothing the node answers but what a proof shows.
//
//	thinkey light header --chain C --height H [--node URL] [--genesis FILE]
//	thinkey light account ADDRESS            [--node URL] [--genesis FILE]
//	thinkey light relay ID                   [--node URL] [--genesis FILE]
//
// Each command fetches a light proof from the node's API (node/api:
// GET /v1/light/chains/{chain}/blocks/{height}, /v1/light/accounts/{address},
// /v1/light/relays/{id}), decodes its canonical encoding (the "proof"
// field; the readable fields of the answer are ignored), verifies it with
// node/light against the root committee keys and the topology of the
// genesis, checks that it proves what was asked (that chain and height,
// that address, that relay ID), and prints the verified facts: the block's hash and roots, the account's
// balance, nonce, code and storage size, or the relay's sender, recipient
// and value; and for each the root height that recorded it, the chains it
// was lifted through and how many root committee members certified it.
//
// --node defaults to the first node of the local testnet (txcmd.DefaultAPI,
// http://127.0.0.1:7680) and --genesis to that testnet's genesis file
// (DefaultGenesis, out/testnet/genesis.json). Any failed check, a 404 (the
// node does not have the object, or the root chain has not recorded it
// yet), a malformed answer and bad input (an address or ID that is not
// hex of the right length, a missing flag, an unreadable genesis) is an
// error: the command prints it and exits non-zero.
//
// # The genesis file
//
// ParseGenesis is the one place the light client reads a genesis file:
// node/genesis parses and validates it (every node key's proof of
// possession included: the verifier aggregates the keys of a
// certificate's signers, which is safe only for keys that proved
// possession), the root committee is the committee of chain 0
// (Genesis.PublicKeys(types.RootChain)), and the topology is the file's
// chains (Genesis.Topology). With the topology the verifier also checks
// that every chain of a proof exists and that each lift goes to the
// recorder of the chain below it (node/light.Verifier).
package lightcmd
