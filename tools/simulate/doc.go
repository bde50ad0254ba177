// Package simulate is `thinkey sim`: it runs simulated committees of real
// node/consensus cores on node/sim's virtual time, one seed or a range of
// seeds, and reports what they decided and whether every checker held.
//
// Who calls it: tools/thinkey adds Command to the root command; operators
// and developers run it to replay a failing seed of the simulation tests,
// to explore a committee size, a fault mix or a Byzantine mix, and to see
// blocks per virtual second under a hardware profile's costs.
//
// What it guarantees:
//
//   - A run is a function of its flags: the same flags print the same
//     table, trace hash included (node/sim's determinism contract).
//   - The command exits non-zero when any seed fails a checker (agreement,
//     validity, evidence, honest double votes, core invariants) or misses
//     its liveness bound, and prints the command that replays the seed.
//   - Bad flags are refused before anything runs, each problem named.
//
// With --chains N it runs a sharded network instead (node/sim's
// ShardedNetwork): a root committee and N transaction chains of real signed
// payments, --tx-rate transfers per virtual second per chain of which a
// share --cross goes to other chains, checked for agreement on every chain,
// root records equal to the chains' decided headers, value conservation and
// exactly-once relays, and, once the load stops and the faults heal, every
// relay consumed and every transfer confirmed. It prints per-chain heights,
// transfers, relays and throughput. With its defaults and --faults swarm a
// seed is the one of node/sim's TestShardSwarm (same trace hash), so the
// replay a failing sweep prints runs here.
//
// Costs: by default the virtual CPU charged for signatures and storage is
// node/sim's DefaultCPUCosts (the figures of docs/PERFORMANCE.md);
// --profile takes them from a `thinkey bench --out` report instead
// (CostsFromReport says which case feeds which cost).
package simulate
