// Package memnet is the in-memory twin of netq.Transport: endpoints on a
// Network exchange messages through Go channels, with the same queues,
// limits, classes, errors and counters as netq/quic, and optional faults.
//
// # Who calls it
//
// Tests of the node shell (node/driver) that need a network without
// sockets, and any test that wants to inject loss, delay or partitions
// between real drivers. It runs real goroutines and is fit for
// testing/synctest, under which its delays run on virtual time. It is not
// the deterministic simulator: node/sim drives the cores on one goroutine
// with its own network model and does not use netq.
//
// # Model
//
// Network.Attach creates an endpoint for a PeerID; there are no keys and
// no handshake (identity binding is netq/quic's job and tested there).
// AddPeer's address is ignored: the network routes by PeerID. Per added
// peer, one link goroutine takes messages from the peer's queue (reliable
// lane first) and hands a copy to the destination's Receive channel,
// blocking while it is full: a stalled receiver back-pressures the
// sender's queue exactly as QUIC flow control does.
//
// A link whose destination is not attached (not started yet, or closed and
// not yet attached again) holds the message and waits for it, as a QUIC
// writer redials; closing an endpoint and attaching the same PeerID again
// is a restart.
//
// # Faults
//
// Faults are decided when a link takes a message from its queue:
//
//	Partition  sides of the network; a message between sides is lost
//	Fault      per directed link: DropRate (probability of loss) and Delay
//	           (counted from when the message was queued; order is kept)
//	Heal       removes the partition and every link fault
//
// Drop decisions come from a PCG generator seeded by NewNetwork's seed.
// Goroutine scheduling decides the order in which links draw, so runs are
// reproducible per link but not across links; seed-exact replay is
// node/sim's job. Lost messages count in the sender's Lost counter.
//
// # Goroutines
//
// One per added peer, owned by the endpoint; Close stops them, waits for
// them and for deliveries in progress into its Receive channel, then
// closes it.
package memnet
