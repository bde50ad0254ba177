// Package loadgen is `thinkey loadgen`: it drives a running network with
// signed transfers at a target rate through the nodes' HTTP APIs and
// measures what the network achieves: confirmed transfers per second and the
// confirmation latency of each transfer (p50, p90, p99, max), over all
// chains and per transaction chain.
//
//	thinkey loadgen --api URL[,URL...] --accounts FILE --rate R --duration D [--cross R]
//
// # Chains and nodes
//
// The loader reads GET /v1/chains of every --api node: the first node's
// list is the network's chains (kind, prefix), and each node's "served"
// entries say which transaction chain it runs. An account belongs to the
// transaction chain whose prefix starts its address (txcmd.OwnerOf); its
// nonce is read from, and its transfers are submitted to, the nodes of
// that chain in turn (a node refuses senders of other chains). Accounts of
// a chain that no --api node serves take no part (the report counts
// them): with the nodes of one chain only, the run loads that chain alone.
//
// # What it measures
//
// Each transfer (node/actor.NewTransfer: a tran of Algorithm 1) is signed
// when it is due, from the funded accounts in turn, and submitted in a
// batch of its sender's chain (POST /v1/messages, at most --batch
// messages). Its recipient is, by default, the next funded account of the
// accounts file, whatever its chain; with --cross R, a share R of the
// transfers goes to an account of another chain and the rest to one of
// the sender's chain, each drawn uniformly (a fixed seed, so runs over the
// same accounts draw alike).
//
// Its latency runs from the moment it was due to the moment the loader
// sees it in a committed block of its chain (the API's "included"): the
// loader follows each chain on the first of its nodes, reading each new
// block (GET /v1/chains/{chain}/blocks/{height}) and matching its input
// IDs. That is the confirmation the paper's experiments measure, as a
// client sees it; block-following costs the node one block read per
// height instead of one status read per transfer. The report calls these
// transfers confirmed. It also times each one to the moment its block is
// recorded by the chain's recorder (the root chain, or the coordinator of
// a sub-chain), seen as the chain's confirmed_height of GET /v1/chains
// reaching the block: the API's "confirmed", from which a transfer to
// another chain is irrevocable. The report calls these recorded. The
// delivery of a cross-chain transfer's value (the relay executed on the
// recipient's chain) is not timed.
//
// Achieved throughput is the number of transfers confirmed divided by the
// time from the start of the run to the last confirmation, over all chains
// and per chain. Transfers the mempool refused are counted apart and their
// sender's nonce is read again from a node of its chain before the sender
// is used again. A run ends when --duration has passed and every accepted
// transfer is confirmed and recorded, or --drain later.
//
// The loader needs CPU too (signing, JSON): on one machine it competes with
// the nodes it measures, which the report says nothing about. Run it on
// another machine for figures of the nodes alone.
package loadgen
