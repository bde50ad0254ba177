// Package sendq is the bounded per-peer send queue shared by the netq
// transports (netq/quic and netq/memnet), so that both twins apply the same
// back-pressure policy.
//
// A Queue has two lanes, each bounded in messages and in payload bytes:
//
//	Reliable    Push waits for room until its context ends (netq Send)
//	BestEffort  TryPush fails with netq.ErrQueueFull at once (netq TrySend)
//
// One consumer (the peer's writer goroutine) takes items with Pop, the
// reliable lane first, so gossip cannot delay consensus traffic; within a
// lane the order is FIFO. Any number of producers may push concurrently.
//
// Invariants: a lane never holds more than Limits.Messages items, nor more
// than Limits.Bytes payload bytes unless it holds a single item (an item
// larger than the byte bound is admitted into an empty lane, or it could
// never be sent); after Close every push fails with netq.ErrClosed and
// every waiter returns.
package sendq
