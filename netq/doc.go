// Package netq is the node-to-node transport of the network layer (paper,
// section 4.4): authenticated, framed, bounded message queues between
// nodes. It defines the Transport interface and what its two twins share:
// identities, the frame format, limits, the error sentinels and metrics.
//
//   - netq/quic is the production twin: QUIC (quic-go) over a UDP socket.
//   - netq/memnet is the in-memory twin for tests of the node shell, with
//     fault injection (loss, delay, partition).
//   - netq/netqtest is the conformance suite both twins pass.
//
// The Kademlia overlay and the partial-broadcast gossip of section 4.4 are
// built above this package (netq/overlay, netq/gossip); netq itself moves
// opaque byte strings to peers it is told about.
//
// # Who calls it
//
// Only the node driver (node/driver). It creates one Transport, adds the
// peers of its committees and overlay with AddPeer, sends the envelopes its
// cores emit, and turns what Receive yields into core events. Cores never
// see a Transport: they are deterministic and do no I/O. The simulator
// (node/sim) does not use netq at all; it moves envelopes in its own
// virtual-time loop.
//
// # Identity binding
//
// A node's transport identity is an Ed25519 key pair, separate from its BLS
// consensus key. Its PeerID is
//
//	PeerID = SHA-256("thinkey/netq/peer-id/v1" || 0x00 || public key)
//
// A connection is accepted only when the peer proved possession of a key
// (TLS 1.3 CertificateVerify) whose PeerID is the one dialled; there is no
// CA. Keys of small order are refused: they have no secret half, so anyone
// could claim their PeerID. The key type and the small-order check come
// from this repository's crypto/ed25519; the TLS handshake signs and
// verifies with the standard library's crypto/ed25519, which crypto/tls
// requires. The two differ only in edge cases of verification (ZIP-215 vs
// cofactorless) that matter for consensus, where every node must reach the
// same verdict; a handshake is decided by its two endpoints alone.
//
// # Frames
//
// A peer's messages travel on one long-lived stream per direction, as a
// sequence of frames:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|             payload length n (u32, big-endian)                |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 payload (n bytes, opaque)                   ...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// n ranges from 0 to Limits.MaxFrameSize (default 4 MiB). A receiver reads
// the header, refuses n above its limit before reading or allocating the
// payload, and closes the connection; a sender refuses to queue such a
// message with ErrFrameTooLarge. The payload's meaning (message type,
// canonical encoding) belongs to the codecs under node; the frame carries
// no type, version or checksum of its own: QUIC authenticates and orders
// the bytes, and ALPN "thinkey/1" versions the framing.
//
// # Back-pressure
//
// Each peer has two bounded send queues (Limits.QueueMessages messages and
// Limits.QueueBytes bytes each), drained by one writer, reliable first:
//
//	Send     reliable class (consensus): waits for room until ctx ends,
//	         then fails with an error wrapping ErrQueueFull and ctx.Err()
//	TrySend  best-effort class (gossip): fails at once with ErrQueueFull
//
// So consensus messages are never dropped silently (the caller learns and
// decides), gossip never blocks the driver, and gossip cannot delay
// consensus on a shared link. The Receive channel is bounded too
// (Limits.InboundMessages): when the driver stops reading, readers block,
// the sender's flow-control window fills, its writer stalls and its queues
// fill. Memory per peer is therefore bounded by the two queues, the
// Receive channel and (QUIC) the flow-control window.
//
// # Delivery and reconnection
//
// Delivery is FIFO per (sender, receiver, class) and at most once. A
// message is lost when the connection fails while it is in flight, the
// peer is removed or the transport closes; messages still queued when a
// connection drops are sent on the next one. Protocols above retransmit on
// their own timers. The QUIC twin redials with bounded exponential backoff
// only while it has something to send; see netq/quic.
//
// # Goroutines
//
// A Transport owns every goroutine it starts (per peer: one writer; QUIC
// also runs an accept loop and one reader per inbound stream), and Close
// returns only after all of them have exited. Callers never need to run a
// goroutine for a Transport, except to read Receive.
//
// # Metrics
//
// Each Transport keeps per-peer Counters (messages and bytes sent and
// received, queue-full refusals, lost messages, reconnects, connection
// errors); Stats snapshots them and NewCollector exports them to
// Prometheus (github.com/prometheus/client_golang, the registry the node's
// /metrics endpoint serves).
//
// # Invariants
//
//   - No message over MaxFrameSize is queued, written or accepted.
//   - A queue never holds more than its bounds (one oversized-by-bytes
//     message may enter an empty queue, or it could never be sent).
//   - Nothing read from the network panics; bad frames close the
//     connection with an error.
//   - After Close returns, no goroutine of the Transport runs and Receive
//     is closed.
package netq
