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
//	thinkey tx send --from-key FILE --to ADDR --amount N --api URL [--wait D]
//	thinkey tx get ID --api URL
//	thinkey tx account ADDR --api URL
//
// send reads the sender's nonce from the API, signs a transfer (Algorithm 1
// tran: node/actor.NewTransfer), submits it and prints its ID; with --wait
// it polls the message until it is confirmed or rejected. Every bad input
// (missing flag, unreadable or malformed key file, an address that is not 40
// hex digits, an amount that is not a positive integer below 2^64) is an
// error before anything is sent.
package txcmd
