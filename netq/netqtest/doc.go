// Package netqtest is the behavioural contract of netq.Transport as a test
// suite. Each twin's tests (netq/quic over loopback UDP, netq/memnet in
// memory) call Run with a constructor of clusters, so the twins are held to
// the same behaviour and a node-shell test over memnet predicts production.
//
// The suite checks: every pair of nodes exchanges messages, in order per
// sender and class, without loss or duplication; sends to unknown peers
// and oversized messages are refused with netq's sentinels; a stalled
// receiver turns into ErrQueueFull (TrySend) and into waiting until the
// context ends (Send), and nothing accepted is lost once it reads again;
// messages queued while a peer is down are delivered when it comes back;
// a removed peer is refused; Close is idempotent, closes Receive and
// leaves no goroutine behind.
//
// Tests run sequentially (not t.Parallel) because the goroutine-leak check
// counts the goroutines of the whole process.
package netqtest
