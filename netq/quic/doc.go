// Package quic is the production twin of netq.Transport: framed messages
// between authenticated nodes over QUIC, with github.com/quic-go/quic-go.
//
// quic-go is used because QUIC gives what the transport would otherwise
// build by hand: TLS 1.3 mutual authentication, per-stream ordering and
// flow control (which carries back-pressure to the sender), congestion
// control, connection migration and stateless reset, over one UDP socket
// for all peers. quic-go takes the socket as an injected net.PacketConn
// (quic.Transport{Conn: ...}), which is the seam tests use: they run on
// loopback sockets on 127.0.0.1.
//
// # Who calls it
//
// The node driver, at start-up: it opens the UDP socket, calls New with the
// node's transport identity, adds peers with AddPeer(id, "host:port") and
// closes the Transport on shutdown.
//
// # Connections and streams
//
// Every node dials the peers it sends to, and accepts connections from the
// peers that send to it, so between two nodes that talk both ways there
// are two connections, each carrying one unidirectional stream from its
// dialler:
//
//	node A                                          node B
//	writer(B) --dial--> conn A->B, uni stream --> reader -> B.Receive
//	A.Receive <- reader <-- uni stream, conn B->A <--dial-- writer(A)
//
// This removes any race over who dials whom, lets each side own the
// reconnection of its own outbound link, and lets a node receive from
// peers it has not added. Bidirectional streams are refused and at most
// two unidirectional streams per connection are allowed. Frames on a
// stream follow netq's layout (u32 big-endian length, payload).
//
// # Identity
//
// Each side presents a self-signed X.509 certificate for its Ed25519
// identity key (fixed serial and validity, no CA). TLS is 1.3 only, with
// ALPN "thinkey/1" and session resumption disabled on both sides, since a
// resumed handshake would skip the certificate check. The dialler accepts
// only a certificate whose key hashes to the PeerID it dialled
// (ErrIdentityMismatch otherwise); the listener derives the sender's
// PeerID from its certificate, refuses its own identity, and asks
// Config.AcceptPeer, when set, whether to admit it. Possession of the key
// is proven by TLS's CertificateVerify.
//
// # Errors on the wire
//
// Connections are closed with an application error code:
//
//	0x0  closing         shutdown or peer removal (sender sees ErrPeerClosed)
//	0x1  frame too large a header announced more than the receiver's
//	                     MaxFrameSize (sender sees ErrFrameTooLarge)
//	0x2  protocol        the accepted connection carries no identity
//	                     (a guard; the handshake makes it impossible)
//
// A stream that ends inside a frame ends that stream only; the partial
// frame is discarded.
//
// Errors reach the driver through Config.OnConnError and the ConnErrors
// counter, and are logged at debug level.
//
// # Reconnection
//
// A peer's writer dials only when its queue holds a message. After a failed
// dial or a connection that ended early, it waits BackoffMin, doubling per
// consecutive failure up to BackoffMax, without jitter; a connection that
// lived BackoffMax or longer resets the count, so a healthy link that
// drops redials at once. Queued messages wait meanwhile, up to the queue
// bounds (Send waits, TrySend refuses). The message being written when a
// connection fails is lost and counted in Lost; what was already handed to
// the old connection may be lost uncounted (delivery is at most once). A
// crashed peer is noticed by the idle timeout (keep-alives keep live links
// up); a restarted one resets stale connections at once, because the
// stateless-reset key is derived from the identity seed and so survives
// the restart.
//
// # Goroutines
//
// Besides quic-go's own, a Transport runs: one accept loop; per added peer,
// one writer (dial, pump, redial); per inbound connection, one loop
// accepting its streams; per inbound stream, one reader. All are counted
// in one WaitGroup. Close cancels them, closes every connection with code
// 0x0 so peers notice at once, waits for all, then closes the quic-go
// transport and the PacketConn, then the Receive channel.
//
// # Memory
//
// Per peer: two send queues (netq.Limits), a 16 KiB write buffer, and per
// inbound connection a 16 KiB read buffer plus a flow-control window of at
// most Config.ReceiveWindow bytes (default 8 MiB, reached only when the
// application reads as fast as the peer sends).
package quic
