// Package loadgen is `thinkey loadgen`: it drives a running network with
// signed transfers at a target rate through the nodes' HTTP APIs and
// measures what the network achieves: confirmed transfers per second and the
// confirmation latency of each transfer (p50, p90, p99, max).
//
//	thinkey loadgen --api URL[,URL...] --accounts FILE --rate R --duration D
//
// # What it measures
//
// Each transfer (node/actor.NewTransfer: a tran of Algorithm 1 from one
// funded account to the next) is signed when it is due and submitted in a
// batch (POST /v1/messages, at most --batch messages) to the APIs in turn.
// Its latency runs from the moment it was due to the moment the loader sees
// it in a committed block of the chain: the loader follows the chain on the
// first API, reading each new block (GET /v1/chains/0/blocks/{height}) and
// matching its input IDs. That is the confirmation the paper's experiments
// measure, as a client sees it; block-following costs the node one block
// read per height instead of one status read per transfer.
//
// Achieved throughput is the number of transfers confirmed divided by the
// time from the start of the run to the last confirmation. Transfers the
// mempool refused are counted apart and their sender's nonce is read again
// from the API before the sender is used again. A run ends when --duration
// has passed and every accepted transfer is confirmed, or --drain later.
//
// The loader needs CPU too (signing, JSON): on one machine it competes with
// the nodes it measures, which the report says nothing about. Run it on
// another machine for figures of the nodes alone.
package loadgen
