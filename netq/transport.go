package netq

import (
	"context"
	"errors"
)

// Errors callers branch on. Implementations wrap them with the peer and the
// operation, so test them with errors.Is.
var (
	// ErrQueueFull: the per-peer send queue had no room. TrySend returns it at
	// once; Send returns it, together with the context's error, when its
	// context ended before room was made.
	ErrQueueFull = errors.New("netq: send queue full")
	// ErrUnknownPeer: the peer was never added with AddPeer, or was removed.
	ErrUnknownPeer = errors.New("netq: unknown peer")
	// ErrFrameTooLarge: a message exceeds the maximum frame size, either the
	// local one (Send refuses it) or the receiver's (the receiver closes the
	// connection and the sender's connection error wraps this).
	ErrFrameTooLarge = errors.New("netq: frame too large")
	// ErrClosed: the transport was closed.
	ErrClosed = errors.New("netq: transport closed")
	// ErrIdentityMismatch: the key a peer proved possession of does not hash
	// to the PeerID it was dialled as, or the peer is not allowed in.
	ErrIdentityMismatch = errors.New("netq: peer identity mismatch")
	// ErrInvalidPublicKey: a transport identity key that is malformed or of
	// small order, and so authenticates nothing.
	ErrInvalidPublicKey = errors.New("netq: invalid identity public key")
	// ErrPeerClosed: the remote end closed the connection on purpose
	// (shutdown or peer removal); the sender will redial when it has
	// something to send.
	ErrPeerClosed = errors.New("netq: connection closed by peer")
)

// Inbound is one message received from a peer. Msg belongs to the receiver.
type Inbound struct {
	From PeerID
	Msg  []byte
}

// Transport moves opaque messages between authenticated nodes. The node
// driver is its only caller: it adds the peers of its committees and
// overlay, sends the envelopes its cores emit and feeds what Receive yields
// back to them as events.
//
// Delivery is ordered per (sender, receiver, class) and at most once: a
// message accepted by Send or TrySend reaches the peer unless the
// connection fails while it is in flight, the peer is removed or the
// transport is closed. Protocols above retransmit on their own timers.
//
// Two message classes share a peer's connection, each with its own bounded
// queue; the reliable one is drained first:
//   - Send (consensus: proposals, votes, certificates) waits for room until
//     ctx ends, so the caller, not the transport, decides to give up;
//   - TrySend (gossip: pushes, announcements, pulls) never waits: with the
//     queue full it returns ErrQueueFull and the message is dropped.
//
// Send and TrySend take ownership of msg: the caller must not modify it
// afterwards. All methods are safe for concurrent use.
type Transport interface {
	// LocalID is the PeerID of this node's transport identity.
	LocalID() PeerID
	// AddPeer makes peer reachable at addr (host:port for QUIC; ignored by
	// memnet) and starts its send queue. Adding a known peer updates the
	// address used on the next connection attempt.
	AddPeer(peer PeerID, addr string) error
	// RemovePeer drops the peer's queue and closes the connection to it.
	// Removing an unknown peer does nothing.
	RemovePeer(peer PeerID)
	// Send queues msg to peer in the reliable class, waiting while the
	// queue is full until ctx ends.
	Send(ctx context.Context, peer PeerID, msg []byte) error
	// TrySend queues msg to peer in the best-effort class, or fails with
	// ErrQueueFull without waiting.
	TrySend(peer PeerID, msg []byte) error
	// Receive yields inbound messages from every peer. The channel is
	// closed once Close has returned. While the caller does not read, the
	// senders' queues fill: that is the back-pressure.
	Receive() <-chan Inbound
	// Stats returns the counters of every peer seen, ordered by PeerID.
	Stats() []PeerStats
	// Close stops every goroutine of the transport, closes its connections
	// and drops what is still queued. It is idempotent.
	Close() error
}
