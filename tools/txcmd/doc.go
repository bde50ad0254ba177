// Package txcmd is `thinkey tx`: it signs and sends account messages to a
// node's HTTP API and queries them back. It also owns the account key file
// (one Ed25519 key, the way a funded testnet account is handed to its user)
// and the HTTP client of the API (node/api), which `thinkey loadgen` and the
// e2e test use too.
//
// # Account key file
//
// JSON, mode 0600:
//
//	{
//	  "type": "thinkey-account-key/v1",
//	  "seed": "<64 hex digits: Ed25519 seed>",
//	  "address": "<40 hex digits: node/actor.AddressFromPublicKey>"
//	}
//
// The address is derived from the seed and written for people; LoadAccount
// refuses a file whose address does not match its seed. An accounts file
// (testnet's accounts.json) is a JSON array of the same objects, with
// "type" on each.
//
// # Commands
//
//	thinkey tx send --from-key FILE --to ADDR --amount N --api URL [--wait D [--wait-delivery] [--to-api URL]]
//	thinkey tx get ID --api URL
//	thinkey tx account ADDR --api URL
//
// A node serves the accounts of its own transaction chain. send reads the
// chains from the node (GET /v1/chains: each chain's kind, prefix and
// whether the node serves it), finds the sender's and the recipient's
// chains (OwnerOf: the transaction chain whose prefix starts the address)
// and refuses, naming the chain, a node that does not serve the sender's.
// It reads the sender's nonce, signs a transfer (Algorithm 1 tran:
// node/actor.NewTransfer), submits it and prints its ID. With --wait it
// polls the message until it is confirmed (in a block of the sender's
// chain that the chain's recorder recorded: the root chain, or the
// coordinator of a sub-chain; "confirmed at height H on chain C") or
// rejected. For a recipient on another chain that is the moment the
// transfer becomes irrevocable (paper 5.4, Fig. 10: the value is certain
// to arrive, as a relay message); --wait-delivery then finds the relay in
// the block (its cause is the transfer) and polls it on --to-api, a node
// of the recipient's chain, until that chain executed it. account names
// the account's chain when asked of a node of another one (the API's 421
// wrong_chain, ErrWrongChain here).
// Every bad input
// (missing flag, unreadable or malformed key file, an address that is not 40
// hex digits, an amount that is not a positive integer below 2^64) is an
// error before anything is sent.
package txcmd
