// Package testnet is `thinkey testnet`: a local network of validator
// processes on 127.0.0.1, for development, demos, the e2e test and the load
// generator.
//
//	thinkey testnet up     --dir D [--chains N] [--sub-chains B] [--members M] [--accounts K] [--base-port P]
//	thinkey testnet create --dir D [the same layout flags]
//	thinkey testnet down   --dir D
//
// The network is a root chain and N transaction chains (default 1) of M
// members each (default 4): N*M node processes, every one in the root
// committee, node I also in the committee of transaction chain 1 + I/M
// (node/genesis.NewLayout). With --sub-chains B the last chain is a
// coordinator of 2^B transaction sub-chains of M members each (numbered
// after it, so (N-1+2^B)*M processes), whose members also run the
// coordinator. The funded accounts are spread over the transaction chains
// by their address prefix.
//
// up creates the network in D the first time (Generate) and then starts
// every node of D that is not running, each as a separate `thinkey node`
// process; on an existing D it restarts the stopped nodes from their stores,
// so `down` then `up` is a whole-network restart from disk. create only
// writes D (for running the nodes another way, as deploy/compose.yaml
// does). down stops them
// (SIGTERM, then SIGKILL after a grace period).
//
// # Layout of D
//
//	testnet.json       the manifest: chains, members, and the nodes with their
//	                   directories, addresses and transaction chain
//	genesis.json       the network (node/genesis): nodes, chains with their
//	                   committees, funded accounts
//	accounts.json      every funded account's key (tools/txcmd accounts file)
//	accounts/N.key     account N's key file, mode 0600, for thinkey tx send
//	node-I/node.key    node I's key (node/keys), mode 0600
//	node-I/config.toml node I's configuration (node/config)
//	node-I/node.log    its logs; node-I/node.pid its process while running
//	node-I/db/         its store
//
// Node I listens for QUIC on UDP 127.0.0.1:P+I and serves its API on
// http://127.0.0.1:P+80+I (P defaults to 7600). Its configuration is the
// profile's defaults except for what sharing one machine calls for: no core
// pinning (the nodes would all stack on the profile's core), and proposal
// and round timeouts of at least 2 s and 4 s (a node gets a fraction of a
// core, so building or verifying a large block takes longer than on a
// machine of its own). A node's API serves the accounts and messages of
// its own transaction chain; printUsage says which node to ask. Every key
// is drawn from
// crypto/rand; the accounts file holds secret keys in clear, which is what a
// throwaway local network is for.
//
// The package exports the pieces (Generate, LoadManifest, Start, Stop,
// Running) so that tests drive the same code as the command.
package testnet
