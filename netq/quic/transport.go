package quic

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/netq/internal/sendq"
)

// Application error codes sent in CONNECTION_CLOSE.
const (
	// codeClosing: the sender shut down or removed the peer.
	codeClosing quicgo.ApplicationErrorCode = 0x0
	// codeFrameTooLarge: a frame header announced more than the receiver's
	// maximum frame size.
	codeFrameTooLarge quicgo.ApplicationErrorCode = 0x1
	// codeProtocol: the peer broke the framing in another way.
	codeProtocol quicgo.ApplicationErrorCode = 0x2
)

// Buffer sizes of one stream. Small: a node holds one stream per peer and
// direction, and frames larger than the buffer bypass it.
const (
	writeBufferSize = 16 << 10
	readBufferSize  = 16 << 10
)

// maxIncomingUniStreams is how many streams a peer may open on one
// connection. A sender uses one; the margin covers nothing else and keeps a
// misbehaving peer from multiplying readers.
const maxIncomingUniStreams = 2

// statelessResetDomain separates the stateless-reset key from other hashes
// of the identity seed.
const statelessResetDomain = "thinkey/netq/quic/stateless-reset/v1\x00"

// Transport is the production netq.Transport over QUIC. See the package
// documentation for the protocol and the goroutines it runs.
type Transport struct {
	cfg     Config
	local   netq.PeerID
	cert    tls.Certificate
	qt      *quicgo.Transport
	ln      *quicgo.Listener
	quicCfg *quicgo.Config
	inbound chan netq.Inbound
	metrics netq.Metrics

	// ctx ends when Close starts; every goroutine watches it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	peers  map[netq.PeerID]*peer
	closed bool

	closeOnce sync.Once
	closeErr  error
}

var _ netq.Transport = (*Transport)(nil)

// peer is the outbound side of one peer: its queue and its writer goroutine.
type peer struct {
	id       netq.PeerID
	addr     atomic.Pointer[net.UDPAddr]
	queue    *sendq.Queue
	counters *netq.Counters
	// ctx ends when the peer is removed or the transport closes.
	ctx    context.Context
	cancel context.CancelFunc
}

// New starts a transport listening on cfg.PacketConn.
func New(cfg Config) (*Transport, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("netq/quic config: %w", err)
	}
	cert, err := selfSignedCertificate(cfg.Identity)
	if err != nil {
		return nil, fmt.Errorf("netq/quic: %w", err)
	}
	seed := cfg.Identity.Seed()
	resetKey := quicgo.StatelessResetKey(hash.Sum256(append([]byte(statelessResetDomain), seed[:]...)))
	t := &Transport{
		cfg:   cfg,
		local: cfg.Identity.PeerID(),
		cert:  cert,
		qt: &quicgo.Transport{
			Conn: cfg.PacketConn,
			// Derived from the identity so that it survives a restart: a
			// restarted node then resets its peers' stale connections at
			// once instead of leaving them to the idle timeout.
			StatelessResetKey: &resetKey,
		},
		quicCfg: quicConfig(cfg),
		inbound: make(chan netq.Inbound, cfg.Limits.InboundMessages),
		peers:   make(map[netq.PeerID]*peer),
	}
	ln, err := t.qt.Listen(serverTLSConfig(cert, t.local, cfg.AcceptPeer), t.quicCfg)
	if err != nil {
		_ = t.qt.Close() // leaves the caller's PacketConn open
		return nil, fmt.Errorf("netq/quic: listen: %w", err)
	}
	t.ln = ln
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.wg.Go(t.acceptLoop)
	return t, nil
}

func quicConfig(cfg Config) *quicgo.Config {
	initialWindow := min(cfg.ReceiveWindow, 512<<10)
	return &quicgo.Config{
		HandshakeIdleTimeout:           cfg.HandshakeTimeout,
		MaxIdleTimeout:                 cfg.IdleTimeout,
		KeepAlivePeriod:                cfg.KeepAlivePeriod,
		InitialStreamReceiveWindow:     initialWindow,
		MaxStreamReceiveWindow:         cfg.ReceiveWindow,
		InitialConnectionReceiveWindow: initialWindow,
		MaxConnectionReceiveWindow:     cfg.ReceiveWindow,
		MaxIncomingStreams:             -1, // no bidirectional streams
		MaxIncomingUniStreams:          maxIncomingUniStreams,
	}
}

// LocalID implements netq.Transport.
func (t *Transport) LocalID() netq.PeerID { return t.local }

// LocalAddr is the UDP address peers dial.
func (t *Transport) LocalAddr() net.Addr { return t.cfg.PacketConn.LocalAddr() }

// Receive implements netq.Transport.
func (t *Transport) Receive() <-chan netq.Inbound { return t.inbound }

// AddPeer implements netq.Transport. addr is host:port, resolved now.
func (t *Transport) AddPeer(id netq.PeerID, addr string) error {
	if id == t.local {
		return fmt.Errorf("add peer %s: is this node's own identity", id.Short())
	}
	udpAddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return fmt.Errorf("add peer %s: resolve %q: %w", id.Short(), addr, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("add peer %s: %w", id.Short(), netq.ErrClosed)
	}
	if p, ok := t.peers[id]; ok {
		p.addr.Store(udpAddr)
		return nil
	}
	p := &peer{
		id:       id,
		queue:    sendq.New(sendq.Limits{Messages: t.cfg.Limits.QueueMessages, Bytes: t.cfg.Limits.QueueBytes}),
		counters: t.metrics.Peer(id),
	}
	p.addr.Store(udpAddr)
	p.ctx, p.cancel = context.WithCancel(t.ctx)
	t.peers[id] = p
	t.wg.Go(func() { t.runPeer(p) })
	return nil
}

// RemovePeer implements netq.Transport.
func (t *Transport) RemovePeer(id netq.PeerID) {
	t.mu.Lock()
	p, ok := t.peers[id]
	delete(t.peers, id)
	t.mu.Unlock()
	if ok {
		t.stopPeer(p)
	}
}

func (t *Transport) stopPeer(p *peer) {
	p.cancel()
	p.counters.Lost.Add(uint64(p.queue.Close()))
}

// Send implements netq.Transport.
func (t *Transport) Send(ctx context.Context, id netq.PeerID, msg []byte) error {
	p, err := t.peerFor(id, msg)
	if err != nil {
		return err
	}
	return t.pushed(p, p.queue.Push(ctx, sendq.Reliable, sendq.Item{Msg: msg}))
}

// TrySend implements netq.Transport.
func (t *Transport) TrySend(id netq.PeerID, msg []byte) error {
	p, err := t.peerFor(id, msg)
	if err != nil {
		return err
	}
	return t.pushed(p, p.queue.TryPush(sendq.BestEffort, sendq.Item{Msg: msg}))
}

func (t *Transport) peerFor(id netq.PeerID, msg []byte) (*peer, error) {
	if len(msg) > t.cfg.Limits.MaxFrameSize {
		return nil, fmt.Errorf("send to %s: %w: %d bytes, limit %d", id.Short(), netq.ErrFrameTooLarge, len(msg), t.cfg.Limits.MaxFrameSize)
	}
	t.mu.Lock()
	p, ok := t.peers[id]
	closed := t.closed
	t.mu.Unlock()
	switch {
	case closed:
		return nil, fmt.Errorf("send to %s: %w", id.Short(), netq.ErrClosed)
	case !ok:
		return nil, fmt.Errorf("send to %s: %w", id.Short(), netq.ErrUnknownPeer)
	}
	return p, nil
}

// pushed turns the queue's verdict into the caller's error.
func (t *Transport) pushed(p *peer, err error) error {
	return netq.SendError(p.id, err, t.isClosed(), p.counters)
}

func (t *Transport) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// Stats implements netq.Transport.
func (t *Transport) Stats() []netq.PeerStats {
	return t.metrics.Snapshot(func(id netq.PeerID) int {
		t.mu.Lock()
		p, ok := t.peers[id]
		t.mu.Unlock()
		if !ok {
			return 0
		}
		return p.queue.Len()
	})
}

// Close implements netq.Transport. It closes every connection with a
// CONNECTION_CLOSE, so peers notice at once, waits for every goroutine,
// then closes the QUIC transport and the PacketConn.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		peers := t.peers
		t.peers = nil
		t.mu.Unlock()
		t.cancel()
		for _, p := range peers {
			t.stopPeer(p)
		}
		lnErr := t.ln.Close()
		t.wg.Wait()
		qtErr := t.qt.Close()
		connErr := t.cfg.PacketConn.Close()
		close(t.inbound)
		if errors.Is(lnErr, quicgo.ErrServerClosed) {
			lnErr = nil
		}
		if err := errors.Join(lnErr, qtErr, connErr); err != nil {
			t.closeErr = fmt.Errorf("close netq/quic transport: %w", err)
		}
	})
	return t.closeErr
}

// connError reports a failed dial or connection of peer id.
func (t *Transport) connError(id netq.PeerID, err error) {
	t.metrics.Peer(id).ConnErrors.Add(1)
	t.cfg.Logger.Debug("netq connection error", "peer", id.Short(), "err", err)
	if t.cfg.OnConnError != nil {
		t.cfg.OnConnError(id, err)
	}
}

// backoff is the wait before the redial that follows the given number of
// consecutive failures (at least 1).
func (t *Transport) backoff(failures int) time.Duration {
	d := t.cfg.BackoffMin
	for i := 1; i < failures && d < t.cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, t.cfg.BackoffMax)
}

// runPeer is the writer goroutine of p: it dials when there is something to
// send, pumps the queue into the connection, and redials with backoff when
// the connection fails.
func (t *Transport) runPeer(p *peer) {
	failures := 0
	connected := false
	for {
		if !p.queue.Wait(p.ctx.Done()) {
			return
		}
		if failures > 0 && !sleep(p.ctx, t.backoff(failures)) {
			return
		}
		conn, stream, err := t.dial(p)
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			failures++
			t.connError(p.id, err)
			continue
		}
		if connected {
			p.counters.Reconnects.Add(1)
		}
		connected = true
		t.cfg.Logger.Debug("netq connected", "peer", p.id.Short(), "addr", conn.RemoteAddr())
		started := time.Now()
		err = t.pump(p, conn, stream)
		_ = conn.CloseWithError(codeClosing, "closing")
		if p.ctx.Err() != nil {
			return
		}
		t.connError(p.id, err)
		if time.Since(started) >= t.cfg.BackoffMax {
			failures = 0
		} else {
			failures++
		}
	}
}

// closeOnDone closes conn when ctx ends. The function it returns cancels
// that, or waits for the close to finish if it already started, so no
// goroutine outlives the caller; a caller that must have the connection
// closed closes it itself afterwards.
func closeOnDone(ctx context.Context, conn *quicgo.Conn) (release func()) {
	closed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(closed)
		_ = conn.CloseWithError(codeClosing, "closing")
	})
	return func() {
		if !stop() {
			<-closed
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dial connects to p and opens the stream that carries its frames.
func (t *Transport) dial(p *peer) (*quicgo.Conn, *quicgo.SendStream, error) {
	addr := p.addr.Load()
	check := &dialCheck{expected: p.id}
	conn, err := t.qt.Dial(p.ctx, addr, clientTLSConfig(t.cert, check), t.quicCfg)
	if err != nil {
		if refused := check.failure(); refused != nil {
			return nil, nil, fmt.Errorf("dial %s at %s: %w", p.id.Short(), addr, refused)
		}
		return nil, nil, fmt.Errorf("dial %s at %s: %w", p.id.Short(), addr, err)
	}
	stream, err := conn.OpenUniStreamSync(p.ctx)
	if err != nil {
		_ = conn.CloseWithError(codeClosing, "closing")
		return nil, nil, fmt.Errorf("open stream to %s: %w", p.id.Short(), classify(err))
	}
	return conn, stream, nil
}

// pump writes p's queue to stream until the connection fails or p stops.
// It flushes whenever the queue runs empty, so small messages share packets
// under load and none waits when the link is idle.
func (t *Transport) pump(p *peer, conn *quicgo.Conn, stream *quicgo.SendStream) error {
	// A write blocked on flow control only returns when the connection
	// closes, so stopping the peer closes it.
	defer closeOnDone(p.ctx, conn)()
	w := bufio.NewWriterSize(stream, writeBufferSize)
	for {
		it, ok := p.queue.TryPop()
		if !ok {
			if err := w.Flush(); err != nil {
				return fmt.Errorf("write to %s: %w", p.id.Short(), classify(err))
			}
			it, ok = p.queue.Pop(conn.Context().Done())
			if !ok {
				cause := context.Cause(conn.Context())
				if cause == nil { // the queue closed: the peer was removed
					cause = netq.ErrClosed
				}
				return fmt.Errorf("connection to %s: %w", p.id.Short(), classify(cause))
			}
		}
		if err := netq.WriteFrame(w, it.Msg, t.cfg.Limits.MaxFrameSize); err != nil {
			p.counters.Lost.Add(1)
			return fmt.Errorf("write to %s: %w", p.id.Short(), classify(err))
		}
		p.counters.AddSent(len(it.Msg))
	}
}

// acceptLoop accepts inbound connections until the transport closes.
func (t *Transport) acceptLoop() {
	for {
		conn, err := t.ln.Accept(t.ctx)
		if err != nil {
			if t.ctx.Err() == nil {
				// quic-go closes its transport on a permanent socket error;
				// the node can then neither receive nor dial.
				t.cfg.Logger.Error("netq listener stopped", "addr", t.LocalAddr(), "err", err)
			}
			return
		}
		t.wg.Go(func() { t.serveConn(conn) })
	}
}

// serveConn reads the streams of one inbound connection.
func (t *Transport) serveConn(conn *quicgo.Conn) {
	from, err := peerIDOfState(conn.ConnectionState().TLS)
	if err != nil { // the handshake checked this; a failure here is a bug
		_ = conn.CloseWithError(codeProtocol, "no identity")
		t.cfg.Logger.Warn("netq accepted connection without identity", "addr", conn.RemoteAddr(), "err", err)
		return
	}
	counters := t.metrics.Peer(from)
	for {
		stream, err := conn.AcceptUniStream(t.ctx)
		if err != nil {
			// The connection ended or the transport is closing. Readers
			// blocked in a stream read return only once the connection is
			// closed, so close it in either case.
			_ = conn.CloseWithError(codeClosing, "closing")
			return
		}
		t.wg.Go(func() { t.readStream(conn, from, stream, counters) })
	}
}

// readStream delivers the frames of one stream to Receive. While Receive is
// not drained it blocks, the stream's flow-control window fills and the
// sender's writes stall: back-pressure reaches the sender's queue.
func (t *Transport) readStream(conn *quicgo.Conn, from netq.PeerID, stream *quicgo.ReceiveStream, counters *netq.Counters) {
	r := bufio.NewReaderSize(stream, readBufferSize)
	for {
		msg, err := netq.ReadFrame(r, t.cfg.Limits.MaxFrameSize)
		if err != nil {
			if errors.Is(err, netq.ErrFrameTooLarge) {
				_ = conn.CloseWithError(codeFrameTooLarge, err.Error())
				t.connError(from, fmt.Errorf("receive from %s: %w", from.Short(), err))
			}
			return // otherwise the connection or stream ended
		}
		counters.AddReceived(len(msg))
		select {
		case t.inbound <- netq.Inbound{From: from, Msg: msg}:
		case <-t.ctx.Done():
			return
		}
	}
}

// classify maps the errors of a connection to netq's sentinels where one
// applies, keeping the original in the chain.
func classify(err error) error {
	var appErr *quicgo.ApplicationError
	if errors.As(err, &appErr) && appErr.Remote {
		switch appErr.ErrorCode {
		case codeFrameTooLarge:
			return fmt.Errorf("%w: peer refused a frame: %w", netq.ErrFrameTooLarge, err)
		case codeClosing:
			return fmt.Errorf("%w: %w", netq.ErrPeerClosed, err)
		}
	}
	return err
}
