// Package drivertest runs a committee of real nodes (node/driver) inside a
// test process: memnet for the network, in-memory Pebble for the stores,
// and each node's HTTP API (node/api) on an httptest server. Tests of the
// tools that talk to a node (tools/txcmd, tools/loadgen) use it to exercise
// the same code a testnet runs, without processes or ports.
//
// It is a shell package like its parent: it opens stores and starts
// goroutines, and only tests import it.
package drivertest
