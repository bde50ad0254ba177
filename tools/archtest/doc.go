// Package archtest enforces the architecture of the project in a test.
//
// The pure cores (consensus, chain transition, execution, election, relay
// verification, the codecs, the simulator, and the decision logic of gossip
// and the overlay)
// must be deterministic state machines: events in, actions out. This package's
// test parses their source with go/parser and fails on anything that would
// let the outside world leak in:
//
//   - imports of net, os, syscall, os/exec, quic-go and pebble (the shell owns
//     sockets and disks);
//   - time.Now, time.Since, time.Until, time.Sleep, time.After, time.Tick and
//     timer or ticker constructors (time is an input, carried by events);
//   - the global random sources: any package-level function of math/rand or
//     math/rand/v2 other than the constructors of a seeded generator, and
//     crypto/rand (randomness comes in through the constructor; consensus
//     randomness comes from the beacon);
//   - go statements (only the node driver runs goroutines).
//
// Every package under node/ is a core unless it is named in shellPackages, so
// a new package is checked by default. The checker itself is tested on
// planted violations, so it cannot silently pass.
package archtest
