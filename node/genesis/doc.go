// Package genesis is a network's genesis file: the validator nodes, the
// chains they run (the topology of node/chains: the root chain and the
// transaction chains, each with its committee and limits) and the accounts
// funded before the first block. Every node of the network reads the same
// file; its hash (Hash) names the network.
//
// `thinkey testnet` builds one (NewUniform, NewLayout) and writes it
// (Marshal); the
// node shell (node/driver) reads it at start (Parse, which validates),
// finds its own node with NodeOf and the chains it runs with ChainsOf,
// checks each chain's votes against PublicKeys, dials the nodes'
// addresses, and writes each chain's block 0 (Headers) into an empty store.
// The root chain's committees (rootchain.BLSCommittees) and light clients
// (node/light) take their keys from it too. The package is pure: no file,
// clock or randomness (tools/archtest); the shell reads the bytes.
//
// Committees are fixed here for the network's life in this version: there
// are no elections yet.
//
// # File format
//
// A JSON object; hex is lower case, integers are JSON numbers:
//
//	{
//	  "type": "thinkey-genesis/v2",
//	  "genesis_time_ms": 1767225600000,      // header timestamp of every block 0
//	  "nodes": [                             // node i is entry i
//	    {
//	      "bls_public_key": "<96 hex>",
//	      "bls_proof_of_possession": "<192 hex>",
//	      "peer_id": "<64 hex: netq PeerID>",
//	      "address": "127.0.0.1:7600"        // UDP host:port of netq/quic
//	    }
//	  ],
//	  "chains": [                            // strictly increasing id, root first
//	    {
//	      "id": 0, "kind": "root", "parent": 0,
//	      "prefix": 0, "prefix_bits": 0,
//	      "block_gas": 0, "step_limit": 0,   // transaction chains only
//	      "committee": [0, 1, 2, 3]          // node indices; member i is entry i
//	    },
//	    {
//	      "id": 1, "kind": "transaction", "parent": 0,
//	      "prefix": 0, "prefix_bits": 1,     // the addresses the chain owns
//	      "block_gas": 50000000,             // consensus limits, 0: default
//	      "step_limit": 100000,
//	      "committee": [0, 1]
//	    }
//	  ],
//	  "accounts": [                          // strictly increasing address
//	    {"address": "<40 hex>", "balance": 1000000}
//	  ]
//	}
//
// "kind" is "root", "coordinator" or "transaction"; "parent" is the chain
// that records the chain's digests (the root's is itself). An account
// belongs to the transaction chain whose prefix its address starts with
// (chains.Topology.OwnerOf), and is funded there.
//
// # Canonical form
//
// Marshal writes exactly one text for a Genesis: the fields in the order
// above, two-space indentation, chains sorted by id and accounts by
// address, a final newline. Hash is SHA-256 over that text, so two files
// that differ only in whitespace name the same network, and a file that
// differs in anything else does not. Parse accepts any JSON whitespace but
// nothing else loose: unknown fields, trailing data, a missing committee,
// chains or accounts out of order and every rule of Validate are errors.
//
// # Block 0
//
// Headers gives each chain's genesis header: version, chain, height 0, the
// genesis time, no parent. A transaction chain's roots are those of an
// empty body over its genesis accounts (node/exec); a recorder chain's
// state root is the node/rootchain state of its children's genesis headers
// and its input root that of an empty record list.
//
// # Invariants
//
// A Genesis that passed Validate has: a genesis time; 1 to MaxNodes nodes,
// each with a BLS key that decodes and whose proof of possession verifies
// (crypto/bls requires it before a key enters an aggregate), a non-zero
// peer ID and a host:port address, no key, peer ID or address twice; chains
// in strictly increasing id order forming a valid topology (node/chains:
// one root, the transaction chains partitioning the address space),
// coordinators under the root only (one level of sub-chains), limits on
// transaction chains only and a valid chain spec for each; committees of 1
// to types.MaxCommitteeSize distinct nodes of the list; every node in the
// root committee (a node outside it would have to follow the root chain by
// block sync, which this version does not do), in at most one transaction
// chain's committee and at most one coordinator's; every node of a
// sub-chain in its coordinator's committee (it follows the coordinator, to
// check its siblings' relays and lift its own); accounts in strictly increasing
// address order, whose balances sum below 2^64 (so no later credit can
// overflow the supply). Validate reports every problem at once, each
// wrapping ErrInvalid.
package genesis
