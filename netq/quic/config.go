package quic

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/thinkey/thinkey/netq"
)

// Defaults of Config.
const (
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultIdleTimeout      = 30 * time.Second
	DefaultKeepAlivePeriod  = 10 * time.Second
	DefaultBackoffMin       = 100 * time.Millisecond
	DefaultBackoffMax       = 10 * time.Second
	DefaultReceiveWindow    = 8 << 20
)

// Config configures a Transport.
type Config struct {
	// Identity is the node's transport key; its PeerID is what peers dial.
	Identity netq.Identity
	// PacketConn is the UDP socket (net.ListenUDP in production, a loopback
	// socket in tests). New takes ownership: Close closes it. If New fails
	// the caller keeps it.
	PacketConn net.PacketConn
	// Limits bounds frames and queues; zero fields take netq's defaults.
	Limits netq.Limits
	// HandshakeTimeout aborts a dial that has not completed its handshake.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection that heard nothing from its peer for
	// this long; it is how a crashed peer is noticed.
	IdleTimeout time.Duration
	// KeepAlivePeriod is how often an idle connection sends a ping, so
	// that connections between live peers do not time out. It must be
	// shorter than IdleTimeout.
	KeepAlivePeriod time.Duration
	// BackoffMin and BackoffMax bound the wait before a redial: it starts
	// at BackoffMin after the first failure and doubles with each further
	// one, up to BackoffMax. A connection that lived BackoffMax or longer
	// resets the count, so a healthy link that drops redials at once.
	BackoffMin time.Duration
	BackoffMax time.Duration
	// ReceiveWindow is the largest flow-control window, in bytes, a sender
	// is granted on one connection (and its stream). It bounds the memory
	// one inbound connection can hold, and is what turns a stalled
	// receiver into back-pressure on the sender.
	ReceiveWindow uint64
	// AcceptPeer, when set, decides whether an authenticated peer may
	// connect; nil admits every peer with a valid identity.
	AcceptPeer func(netq.PeerID) bool
	// OnConnError, when set, is called with every failed dial and every
	// connection that ended in error, from the transport's goroutines. It
	// must not block. Errors wrap netq.ErrIdentityMismatch,
	// netq.ErrFrameTooLarge or netq.ErrPeerClosed where those apply.
	OnConnError func(peer netq.PeerID, err error)
	// Logger receives connection events at debug and warn level; nil
	// discards them.
	Logger *slog.Logger
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Limits = c.Limits.WithDefaults()
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.KeepAlivePeriod == 0 {
		c.KeepAlivePeriod = min(DefaultKeepAlivePeriod, c.IdleTimeout/3)
	}
	if c.BackoffMin == 0 {
		c.BackoffMin = DefaultBackoffMin
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = max(DefaultBackoffMax, c.BackoffMin)
	}
	if c.ReceiveWindow == 0 {
		c.ReceiveWindow = DefaultReceiveWindow
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// minReceiveWindow keeps the flow-control window above a few packets, below
// which QUIC cannot make progress efficiently.
const minReceiveWindow = 16 << 10

// Validate reports every problem of c at once. Zero fields are problems:
// call WithDefaults first.
func (c Config) Validate() error {
	var errs []error
	if c.Identity.IsZero() {
		errs = append(errs, errors.New("identity: not set"))
	}
	if c.PacketConn == nil {
		errs = append(errs, errors.New("packet conn: not set"))
	}
	if err := c.Limits.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("limits: %w", err))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"handshake timeout", c.HandshakeTimeout},
		{"idle timeout", c.IdleTimeout},
		{"keep-alive period", c.KeepAlivePeriod},
		{"backoff min", c.BackoffMin},
		{"backoff max", c.BackoffMax},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s %v: must be positive", d.name, d.v))
		}
	}
	if c.KeepAlivePeriod >= c.IdleTimeout {
		errs = append(errs, fmt.Errorf("keep-alive period %v: must be shorter than idle timeout %v", c.KeepAlivePeriod, c.IdleTimeout))
	}
	if c.BackoffMax < c.BackoffMin {
		errs = append(errs, fmt.Errorf("backoff max %v: must not be below backoff min %v", c.BackoffMax, c.BackoffMin))
	}
	if c.ReceiveWindow < minReceiveWindow {
		errs = append(errs, fmt.Errorf("receive window %d: must be at least %d bytes", c.ReceiveWindow, minReceiveWindow))
	}
	return errors.Join(errs...)
}
