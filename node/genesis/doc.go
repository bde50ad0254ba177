// Package genesis is a network's genesis file: the chain it starts, the
// committee that runs it and the accounts funded before the first block.
// Every node of the network reads the same file; its hash (Hash) names the
// network.
//
// `thinkey testnet` builds one and writes it (Marshal); the node shell (node/driver)
// reads it at start (Parse, which validates), finds its own member index with
// MemberOf, checks votes against Committee's public keys, dials the members'
// addresses, and writes Block as height 0 of an empty store. The package is
// pure: no file, clock or randomness (tools/archtest); the shell reads the
// bytes.
//
// One chain for now: the chain the committee runs owns the address prefix
// of Chain (prefix bits 0: every address). The root chain and many chains
// come with elections and relays.
//
// # File format
//
// A JSON object; hex is lower case, integers are JSON numbers:
//
//	{
//	  "type": "thinkey-genesis/v1",
//	  "genesis_time_ms": 1767225600000,      // header timestamp of block 0
//	  "chain": {
//	    "id": 0,
//	    "prefix": 0, "prefix_bits": 0,       // the addresses the chain owns
//	    "block_gas": 50000000,               // consensus limits, 0: default
//	    "step_limit": 100000
//	  },
//	  "committee": [                         // member i is entry i
//	    {
//	      "bls_public_key": "<96 hex>",
//	      "bls_proof_of_possession": "<192 hex>",
//	      "peer_id": "<64 hex: netq PeerID>",
//	      "address": "127.0.0.1:7600"        // UDP host:port of netq/quic
//	    }
//	  ],
//	  "accounts": [                          // strictly increasing address
//	    {"address": "<40 hex>", "balance": 1000000}
//	  ]
//	}
//
// # Canonical form
//
// Marshal writes exactly one text for a Genesis: the fields in the order
// above, two-space indentation, accounts sorted by address, a final newline.
// Hash is SHA-256 over that text, so two files that differ only in
// whitespace name the same network, and a file that differs in anything
// else does not. Parse accepts any JSON whitespace but nothing else loose:
// unknown fields, trailing data, accounts out of order and every rule of
// Validate are errors.
//
// # Invariants
//
// A Genesis that passed Validate has: a valid chain spec; 1 to
// types.MaxCommitteeSize members, each with a BLS key that decodes and whose
// proof of possession verifies (crypto/bls requires it before a key enters an
// aggregate), a non-zero peer ID and a host:port address, no key, peer ID or
// address twice; accounts owned by the chain, in strictly increasing address
// order, whose balances sum below 2^64 (so no later credit can overflow the
// supply). Validate reports every problem at once, each wrapping ErrInvalid.
package genesis
