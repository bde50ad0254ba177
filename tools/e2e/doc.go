// Package e2e tests the thinkey binary as users run it: a local testnet of
// separate node processes on 127.0.0.1 (tools/testnet), transfers through
// the HTTP API (node/api, tools/txcmd's client), a node killed with SIGKILL
// and restarted, the whole network restarted from disk, and the command
// line's answers to bad input; then a testnet of two transaction chains of
// four processes each: the paper's Fig. 10 payments across the chains
// through `thinkey tx send --wait-delivery`, transfers both ways while a
// member of each chain is killed and restarted, balances settled and
// conserved, and every relay consumed exactly once with the same blocks on
// every member.
//
// TestMain builds ./tools/thinkey into a temporary directory (or uses the
// binary THINKEY_BIN names). Every wait is bounded, every process started is
// stopped when the test ends, and a failure prints the tail of each node's
// log.
package e2e
