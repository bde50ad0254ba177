// Package api is the node's HTTP interface: the JSON API (submit messages,
// read message status, accounts, chains, blocks, light proofs and node
// status), the
// Prometheus metrics at /metrics and the health check at /healthz.
//
// # Who calls it
//
// The node driver builds one Server with NewServer(cfg.API, node,
// registry, logger), implements the Node interface over its mempools and
// storage, and runs the http.Server that HTTPServer returns (the package
// starts no goroutine). Clients: the thinkey CLI and the load generator
// (which submit the raw form), operators with curl, Prometheus.
//
// # Conventions
//
//   - Requests with a body (POST /v1/messages) send JSON, with
//     Content-Type application/json (parameters such as charset allowed)
//     or no Content-Type; anything else is 415. Responses are
//     application/json, except /metrics (Prometheus text format).
//   - Bodies are bounded by api.max_body_bytes (default 1 MiB): larger is
//     413. Unknown fields are 400, so a misspelt field is never ignored.
//     Exactly one JSON value per body.
//   - Byte strings are hex. Responses use lower case without a prefix;
//     requests and path parameters may use upper case and a 0x prefix.
//     Addresses are 20 bytes (40 digits), hashes and message IDs 32 bytes
//     (64 digits), public keys 32 bytes, signatures 64 bytes.
//   - Integers are JSON numbers. Nonces, values, balances and heights are
//     unsigned 64-bit and may exceed 2^53: clients must not parse them as
//     doubles.
//   - A message's ID is SHA-256 of its canonical encoding (node/types).
//   - A path that is not clean (a double slash, "." or "..") is redirected
//     with 307 to its clean form.
//   - Every error is a JSON object {"error": text, "code": code} with a
//     4xx or 5xx status (a wrong_chain error adds "chain", below).
//     Clients branch on code (table below), never on the text. The API
//     itself answers 5xx only when the node fails (500 internal, 503
//     unavailable).
//
// # Chains and nodes
//
// A network runs a root chain (0), which records the digests of its
// children's blocks, and transaction chains, which hold the accounts: each
// owns the addresses that start with its prefix. Deeper sharding adds
// coordinator chains: a coordinator owns a prefix, holds no accounts and
// records the digests of its sub-chains (transaction chains with longer
// prefixes); the root records the coordinator's. A chain's recorder (its
// "parent") is the root for a top-level chain and the coordinator for a
// sub-chain. GET /v1/chains lists them all, with "kind", "parent" and
// "prefix".
//
// Every node runs the root chain and at most one transaction chain (and
// the coordinator of that chain, for a sub-chain): "served" in GET
// /v1/chains. A node answers for the accounts, senders, messages and
// blocks of the chains it serves. Asked about an account, a sender or a
// block of a chain it does not serve, it answers 421 Misdirected Request
// with code wrong_chain, "chain" (the chain that holds it) and an error
// text naming the genesis nodes of that chain (with their QUIC addresses:
// the genesis lists no API addresses). The client asks a node of that
// chain instead: one whose GET /v1/chains marks the chain served.
//
//	GET /v1/accounts/1574cf0b9c8942171e4c1e1a5e7712d70d19c595     (on a node of chain 1)
//	421 {"error": "account 1574...c595 is on chain 2: chain not run by this node; ask a node of chain 2:
//	     genesis nodes 2 at 10.0.0.3:7600, 3 at 10.0.0.4:7600 (QUIC addresses)", "code": "wrong_chain", "chain": 2}
//
// # Confirmation and delivery
//
// A message of a transaction chain is "included" once a committed block of
// its chain holds it, and "confirmed" once that block is also recorded by
// the chain's recorder, as committed on the node answering: the root chain
// for a top-level chain, the coordinator for a sub-chain (paper 4.3; a
// root block is confirmed when committed). A confirmed message is final:
// every chain relies on the recorded block. For a transfer to an account
// of another chain, confirmed means irrevocable (paper 5.4, Fig. 10): its
// execution debited the sender and produced an outer-relay message,
// listed in the block's outer_relay with the transfer's ID as its cause
// (none if the transfer had no effect, for want of balance), that carries
// the value to the recipient's chain, which executes it exactly once.
// Delivery is that execution: the relay's ID becomes included, then
// confirmed, on the recipient's chain, asked of a node of that chain (GET
// /v1/messages/{relay id}); the recipient's balance shows the value from
// then on. A transfer within one chain is delivered when it is included.
//
// To follow a transfer T from a node S of the sender's chain to a node D of
// the recipient's:
//
//	GET S/v1/messages/T                      until "confirmed": chain c, height h
//	GET S/v1/chains/c/blocks/h               the outer_relay entry whose cause is T: relay R
//	GET D/v1/messages/R                      until "included" (delivered) or "confirmed"
//
// GET /v1/chains gives each chain's confirmed_height, so a client
// following many messages can read blocks as they commit and count a block
// confirmed once its height is at most confirmed_height, without asking
// for each message.
//
// # POST /v1/messages
//
// Submits external messages to the mempool of the chain that owns each
// sender. A message is given in one of two forms:
//
// Raw: the canonical binary encoding (node/types) in hex, and optionally
// the ID the client expects (checked: id_mismatch otherwise). This is what
// the CLI and the load generator send.
//
//	{"raw": "02019e1521a0d04c3cae1258cc05b12a2a01cd89fce49e1521a0d04c3cae1258cc05b12a2a01cd89fce40000000000000000000000000000000000000000000000047472616e0000001c1574cf0b9c8942171e4c1e1a5e7712d70d19c59500000000000000fa03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8e2a24f90ee31d72b413d206972b9e965de4fafe9b79a2d23899f9f4cd18d3c6ae8a874bb279d85d7b12e73b14cfdf1a912a86ee3d704a253948443ffb7c07609"}
//
// Fields: the same message field by field. from, to, sender_key and
// signature are required; kind defaults to "external"; source_chain,
// nonce, value default to 0, method and args (hex) to empty; cause is
// only for relay kinds; id is optional and checked. The signature covers
// the canonical encoding, so the fields must describe exactly the signed
// message. A message shown by GET /v1/chains/{chain}/blocks/{block} can be
// sent back as is.
//
//	{
//	  "kind": "external",
//	  "from": "9e1521a0d04c3cae1258cc05b12a2a01cd89fce4",
//	  "to": "9e1521a0d04c3cae1258cc05b12a2a01cd89fce4",
//	  "nonce": 0,
//	  "value": 0,
//	  "method": "tran",
//	  "args": "1574cf0b9c8942171e4c1e1a5e7712d70d19c59500000000000000fa",
//	  "sender_key": "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
//	  "signature": "e2a24f90ee31d72b413d206972b9e965de4fafe9b79a2d23899f9f4cd18d3c6ae8a874bb279d85d7b12e73b14cfdf1a912a86ee3d704a253948443ffb7c07609"
//	}
//
// (A tran by the account 9e15...fce4, nonce 0, paying 250 to 1574...c595;
// its ID is dbba0f46c4b2c94ea45ba87b39f77514c8e5d35b4f38eb7d26de67d93e818cda.)
//
// With curl, from a file holding either form:
//
//	curl -sS -H 'Content-Type: application/json' --data @msg.json http://127.0.0.1:7680/v1/messages
//
// The body is either one message in either form, or a batch of up to
// MaxBatchMessages (4096) messages, each in either form:
//
//	{"messages": [{"raw": "0201..."}, {"from": "...", "to": "...", ...}]}
//
// If any message of the request is malformed (bad hex, missing field, raw
// bytes that do not decode, fields with no encoding), the whole request is
// refused with 400 and nothing is submitted; the error names the message
// ("messages[3].signature: ..."). Otherwise every message goes to the node,
// which judges each one (signature, nonce, mempool bounds).
//
// A single message answers 202 when admitted:
//
//	{"id": "dbba0f46...8cda", "accepted": true, "chain": 1}
//
// and when refused, 422 (the message is at fault), 429 (pool_full,
// sender_full: retry after a block), 421 (wrong_chain: send it to a node
// of the sender's chain) or 503 (nonce_unavailable: retry):
//
//	{"id": "dbba0f46...8cda", "accepted": false, "chain": 1,
//	 "error": "nonce too low: nonce 0, account 9e15...fce4 is at 1", "code": "nonce_too_low"}
//
// A batch answers 200 with one result per message, in order:
//
//	{"accepted": 1, "rejected": 1, "results": [
//	  {"id": "dbba0f46...8cda", "accepted": true, "chain": 1},
//	  {"id": "1f9f6bcc...9a34", "accepted": false, "chain": 1,
//	   "error": "bad signature: message 1f9f...9a34", "code": "bad_signature"}]}
//
// The refusal codes are the mempool's (node/mempool.Reason): invalid,
// small_order_key, sender_mismatch, bad_signature, duplicate,
// nonce_too_low, nonce_gap, nonce_conflict, sender_full, pool_full,
// nonce_unavailable; wrong_chain when the sender's account is on a chain
// this node does not run (421 for a single message; "chain" is the
// sender's chain, and the error names its nodes: submit there); or
// rejected for a refusal of another origin.
//
//	{"id": "dbba0f46...8cda", "accepted": false, "chain": 2,
//	 "error": "sender 9e15...fce4 is on chain 2: chain not run by this node; ask a node of chain 2: genesis nodes ...",
//	 "code": "wrong_chain"}
//
// # GET /v1/messages/{id}
//
// The state of a message: pending (in a mempool), included (in a
// committed block of its chain), confirmed (included, and the block is
// recorded by the chain's recorder: see Confirmation and delivery), or
// rejected (admitted, then dropped: its nonce was consumed by another
// message, or execution refused it; reason says why). chain, height and
// block_hash appear for included and confirmed only. A node knows the
// messages of the transaction chain it runs: the external messages of its
// senders and the relays its chain executed (a relay's state is its
// delivery). 404 when the node knows nothing of the ID (it may be a
// message of another chain); 421 wrong_chain (without "chain") from a
// node that runs no transaction chain.
//
//	GET /v1/messages/1f9f6bcc3167641a259bd23ffb5faea087ac31e5aaa28b156b0c4e8c32a29a34
//	200 {"id": "1f9f6bcc...9a34", "state": "confirmed", "chain": 1, "height": 7,
//	     "block_hash": "bb00...0000"}
//	200 {"id": "...", "state": "pending"}
//	200 {"id": "...", "state": "rejected", "reason": "nonce too low: nonce 4 of ... was consumed by a committed block"}
//
// # GET /v1/accounts/{address}
//
// An account as of the latest committed block of the chain that owns it:
// balance, nonce (the nonce its next external message must carry), the
// SHA-256 of its code (zero without code), and the block height and state
// root it was read at. 404 if it does not exist; 421 wrong_chain, with
// "chain", when the node does not run the account's chain. With ?proof=1 (or
// proof=true) the answer carries a proof against state_root; scheme says
// how to check it. For "merkle-sha256/v1": leaf is the account's
// canonical encoding (node/actor), its Merkle leaf hash with siblings
// from the leaf up (crypto/merkle, leaf leaf_index of leaf_count) gives
// state_root.
//
//	GET /v1/accounts/9e1521a0d04c3cae1258cc05b12a2a01cd89fce4?proof=1
//	200 {"address": "9e15...fce4", "chain": 1, "height": 7, "state_root": "5100...0000",
//	     "balance": 980, "nonce": 2, "code_hash": "0000...0000",
//	     "proof": {"scheme": "merkle-sha256/v1", "leaf": "109e15...",
//	               "leaf_index": 3, "leaf_count": 5, "siblings": ["0100...", "0200...", "0300..."]}}
//
// # GET /v1/chains
//
// Every chain of the network, by increasing ID: its kind ("root",
// "coordinator" or "transaction"), parent (the chain that records its
// digests; the root's is 0, itself), whether this node runs it (served),
// whether it is the root chain (root, the same as kind "root"), the
// address prefix it owns as binary digits ("" for the root chain, "01"
// for addresses whose first two bits are 0 then 1; an account is on the
// transaction chain whose prefix starts its address), the latest block
// (height, head_hash, state_root: for a served chain the node's committed
// head, for another the latest its recorders recorded, zero if it follows
// none of them), confirmed_height (the highest height its recorder has
// recorded on this node: messages of blocks up to it are confirmed; for
// the root chain its head), the committee epoch, and the messages pending
// in this node's mempool for it.
//
//	200 {"chains": [
//	  {"id": 0, "kind": "root", "parent": 0, "served": true, "root": true, "prefix": "", "height": 40,
//	   "head_hash": "...", "state_root": "...", "confirmed_height": 40, "epoch": 2, "pending": 0},
//	  {"id": 1, "kind": "transaction", "parent": 0, "served": true, "root": false, "prefix": "0", "height": 7,
//	   "head_hash": "bb00...", "state_root": "...", "confirmed_height": 6, "epoch": 2, "pending": 1},
//	  {"id": 2, "kind": "transaction", "parent": 0, "served": false, "root": false, "prefix": "1", "height": 5,
//	   "head_hash": "...", "state_root": "...", "confirmed_height": 5, "epoch": 2, "pending": 0}]}
//
// # GET /v1/chains/{chain}/blocks/{block}
//
// A stored block of a chain the node runs. {chain} is a decimal chain ID;
// {block} is a decimal height or a 64-digit block hash (no height has 64
// digits). The answer has the header fields, whether the block is
// confirmed (recorded by its chain's recorder on this node; root blocks
// once committed), the committee's confirm certificate when the node has
// it (signers as member indices), and the body's three message lists
// (paper 5.3), each message as in the fields form plus its id. 404 for an
// unknown chain or block; 421 wrong_chain, with "chain", for a chain of
// the network this node does not run.
//
//	GET /v1/chains/1/blocks/7
//	200 {"hash": "bb00...", "confirmed": true,
//	     "header": {"version": 1, "chain": 1, "height": 7, "epoch": 2, "round": 0,
//	                "parent_hash": "...", "timestamp_ms": 1700000000000, "time": "2023-11-14T22:13:20Z",
//	                "proposer": 0, "input_root": "...", "inter_relay_root": "...",
//	                "outer_relay_root": "...", "record_root": "...", "state_root": "...", "empty": false},
//	     "certificate": {"kind": "confirm", "round": 0, "block_hash": "bb00...", "committee_size": 4,
//	                     "signers": [0, 2], "aggregate_signature": "..."},
//	     "inputs": [{"id": "1f9f...", "kind": "external", ...}],
//	     "inter_relay": [{"id": "...", "kind": "inter-relay", "cause": "1f9f...", ...}],
//	     "outer_relay": []}
//
// # GET /v1/light/chains/{chain}/blocks/{height}
//
// A light proof (node/light) of the block of {chain} (decimal) at
// {height} (decimal): its header, the lifts that lead from it to a root
// block (each a recorder block's header and the Merkle path of the header
// below it in that block's record root), and the root committee's
// decision certificate of that root block. proof is the canonical
// encoding (a HeaderProof, tag 0x25) in hex: what a light client checks
// with the root committee's keys of the genesis and nothing else
// (`thinkey light header`). The other fields say what the proof claims,
// for people: the proven header (chain, height, hash, empty, state_root,
// outer_relay_root), each lift's recorder (chain, height, hash), the root
// block it ends at (root_height, root_hash) and its certificate. A root
// block's own proof has no lift. 404 when the node does not have the block
// or the root chain has not recorded it yet.
//
//	GET /v1/light/chains/1/blocks/7
//	200 {"proof": "2501...", "chain": 1, "height": 7, "hash": "bb00...", "empty": false,
//	     "state_root": "5100...", "outer_relay_root": "...",
//	     "lifts": [{"chain": 0, "height": 40, "hash": "4000..."}],
//	     "root_height": 40, "root_hash": "4000...",
//	     "certificate": {"kind": "confirm", "round": 0, "block_hash": "4000...", "committee_size": 4,
//	                     "signers": [0, 1, 2], "aggregate_signature": "..."}}
//
// # GET /v1/light/accounts/{address}
//
// A light proof of an account as of the latest block of its chain that the
// root chain recorded: proof is an AccountProof (tag 0x26): the header
// proof of that block, the account's canonical encoding and its Merkle
// path in the block's state root. The readable fields are the account's
// (address, balance, nonce, code_hash) and, under block, what the header
// proof claims (as above). 404 when the account does not exist in that
// block, the node does not hold its chain, or no block is recorded yet.
//
//	GET /v1/light/accounts/9e1521a0d04c3cae1258cc05b12a2a01cd89fce4
//	200 {"proof": "2600...", "address": "9e15...fce4", "balance": 980, "nonce": 2,
//	     "code_hash": "0000...0000", "block": {"chain": 1, "height": 7, "hash": "bb00...", ...}}
//
// # GET /v1/light/relays/{id}
//
// A light proof of an outer-relay message (paper 4.3) produced by a block
// of a chain this node runs: proof is a RelayProof (tag 0x27): the header
// proof of the block, the message and its Merkle path in the block's
// outer-relay root. The readable fields are the message (as in the fields
// form, with its id) and, under block, what the header proof claims. 404
// when the node knows no such relay or the root chain has not recorded
// its block yet.
//
//	GET /v1/light/relays/17215fd161090e766c79f72516ed3866d2f8e394a3461e97dfdf8f320eae4bfe
//	200 {"proof": "2700...", "id": "1721...4bfe",
//	     "message": {"id": "1721...4bfe", "kind": "outer-relay", "from": "...", "to": "...",
//	                 "source_chain": 1, "cause": "...", "value": 5, ...},
//	     "block": {"chain": 1, "height": 7, ...}}
//
// # GET /v1/status
//
//	200 {"version": "v0.1.0", "node_id": "...", "genesis": "9e00...", "syncing": false,
//	     "peers": 3, "started_at": "2026-01-02T03:04:05Z", "chains": [0, 1], "pending": 1}
//
// # GET /healthz
//
// 200 {"status": "ok"} when the node is fit to serve; otherwise 503
// {"status": "unhealthy", "error": reason, "code": "unhealthy"}. For load
// balancers and container health checks.
//
// # GET /metrics
//
// Every metric of the node's registry in the Prometheus text format: the
// node's own (mempool, transport, consensus, ...) and the API's:
//
//	thinkey_api_requests_total{route, code}         counter: requests by route pattern and status
//	thinkey_api_request_duration_seconds{route}     histogram: time to answer, 0.5 ms to 4 s buckets
//
// route is the pattern ("GET /v1/messages/{id}"), or "unmatched" for
// requests no route matched, so the label set stays bounded.
//
// # Error codes
//
//	status  code                    meaning
//	400     bad_json                not JSON, a wrong JSON type, data after the value, empty body
//	400     unknown_field           a field the request does not have
//	400     missing_field           from, to, sender_key or signature absent in the fields form
//	400     bad_hex                 a field is not hex, or not of its fixed length
//	400     bad_message             raw bytes that do not decode, or fields with no encoding
//	                                (unknown kind, method over 64 bytes, args over 16 KiB, cause
//	                                on an external message)
//	400     id_mismatch             the id given is not the message's ID
//	400     bad_batch               empty batch, over 4096 messages, raw mixed with fields,
//	                                messages mixed with message fields
//	400     bad_id                  path message ID is not 64 hex digits
//	400     bad_address             path address is not 40 hex digits
//	400     bad_chain               path chain is not a decimal number below 2^32
//	400     bad_block               path block is neither a decimal height nor 64 hex digits
//	                                (light routes: path height is not a decimal height)
//	400     bad_query               malformed query string, or proof not 1, true, 0 or false
//	404     not_found               no such route, message, account, chain or block
//	421     wrong_chain             the account, sender or block is on a chain this node does not run:
//	                                ask a node of "chain" (the error names its nodes)
//	405     method_not_allowed      the path exists for other methods (listed in Allow)
//	413     body_too_large          body over api.max_body_bytes
//	415     unsupported_media_type  Content-Type other than application/json
//	422     (mempool reason)        a single submitted message was refused: the message is at fault
//	429     pool_full, sender_full  a single submitted message did not fit: retry after a block
//	500     internal                the node failed (logged at warn)
//	503     unavailable             the node cannot answer now (starting, syncing): retry
//	503     nonce_unavailable       the node could not read the sender's nonce: retry
//	503     unhealthy               /healthz only
//
// # Invariants
//
//   - No input panics a handler. A panic would still be recovered, logged
//     with its stack and answered 500, so the fuzz target (FuzzHandler:
//     random methods, paths, content types and bodies over a node that
//     never fails) checks that every answer is below 500 and that every
//     error is a JSON error with a code.
//   - A request the API refuses as malformed (400, 405, 413, 415) never
//     reaches the Node.
//   - Every request is counted and timed under its route pattern and
//     logged at debug level (method, route, path, status, bytes, elapsed,
//     remote address).
//   - No global state: the metrics live in the registry given to
//     NewServer (never Prometheus's default registry).
//
// # Dependencies
//
// Routing is the standard library's http.ServeMux with method and
// wildcard patterns (Go 1.22): no router dependency is needed. Its own
// 404 and 405 answers are plain text, so the handler asks the mux first
// and answers those cases in JSON itself. /metrics is
// github.com/prometheus/client_golang's promhttp over the node's registry,
// the client every metric of the node uses.
package api
