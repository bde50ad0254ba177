package quic_test

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/netq/netqtest"
	"github.com/thinkey/thinkey/netq/quic"
)

func TestConformance(t *testing.T) {
	netqtest.Run(t, newCluster)
}

// errorLog collects the errors OnConnError reports.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) record(_ netq.PeerID, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

// waitFor returns the first recorded error matching target, failing t if
// none comes within the suite's timeout.
func (l *errorLog) waitFor(t *testing.T, target error) error {
	t.Helper()
	deadline := time.Now().Add(netqtest.Timeout)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		for _, err := range l.errs {
			if errors.Is(err, target) {
				l.mu.Unlock()
				return err
			}
		}
		l.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Fatalf("no error wrapping %v among %d; the last: %v", target, len(l.errs), l.errs[max(0, len(l.errs)-3):])
	return nil
}

// TestIdentityMismatchRejected dials a node under the PeerID of another:
// the dialler refuses the handshake and nothing is delivered.
func TestIdentityMismatchRejected(t *testing.T) {
	before := runtime.NumGoroutine()
	var log errorLog
	a := startNode(t, testIdentity(t, 0), "127.0.0.1:0", netq.Limits{}, func(c *quic.Config) { c.OnConnError = log.record })
	b := startNode(t, testIdentity(t, 1), "127.0.0.1:0", netq.Limits{}, nil)
	impostor := testIdentity(t, 2).PeerID() // b's address, someone else's ID
	if err := a.AddPeer(impostor, b.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	if err := a.TrySend(impostor, []byte("for the impostor")); err != nil {
		t.Fatal(err)
	}
	err := log.waitFor(t, netq.ErrIdentityMismatch)
	t.Logf("refused: %v", err)
	netqtest.ExpectNothing(t, b, 100*time.Millisecond)
	if got := statsOf(a, impostor); got.MessagesSent != 0 || got.ConnErrors == 0 {
		t.Fatalf("stats of refused peer: %+v, want no message sent and a connection error", got)
	}
	_ = a.Close()
	_ = b.Close()
	netqtest.CheckNoLeak(t, before)
}

// TestAcceptPeerRefuses has the listener refuse a peer with a valid
// identity that its policy does not admit.
func TestAcceptPeerRefuses(t *testing.T) {
	before := runtime.NumGoroutine()
	var log errorLog
	a := startNode(t, testIdentity(t, 0), "127.0.0.1:0", netq.Limits{}, func(c *quic.Config) { c.OnConnError = log.record })
	b := startNode(t, testIdentity(t, 1), "127.0.0.1:0", netq.Limits{}, func(c *quic.Config) {
		c.AcceptPeer = func(netq.PeerID) bool { return false }
	})
	if err := a.AddPeer(b.LocalID(), b.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	if err := a.TrySend(b.LocalID(), []byte("let me in")); err != nil {
		t.Fatal(err)
	}
	// The client's handshake completes before the server checks the client
	// certificate, so a sees either a failed dial or a connection the
	// server closes; either way a connection error. A message queued after
	// it makes a redial, refused again.
	waitConnErrors := func(n uint64) {
		t.Helper()
		deadline := time.Now().Add(netqtest.Timeout)
		for statsOf(a, b.LocalID()).ConnErrors < n {
			if time.Now().After(deadline) {
				t.Fatalf("want %d connection errors: %+v", n, statsOf(a, b.LocalID()))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitConnErrors(1)
	if err := a.TrySend(b.LocalID(), []byte("let me in again")); err != nil {
		t.Fatal(err)
	}
	waitConnErrors(2)
	netqtest.ExpectNothing(t, b, 50*time.Millisecond)
	if got := statsOf(b, a.LocalID()); got.MessagesReceived != 0 {
		t.Fatalf("refused peer delivered %d messages", got.MessagesReceived)
	}
	_ = a.Close()
	_ = b.Close()
	netqtest.CheckNoLeak(t, before)
}

// TestReceiverRejectsOversizedFrame sends a frame larger than the
// receiver's limit (the sender's is larger): the receiver closes the
// connection, the sender is told why, and the link recovers for frames
// within the limit.
func TestReceiverRejectsOversizedFrame(t *testing.T) {
	before := runtime.NumGoroutine()
	var senderLog, receiverLog errorLog
	a := startNode(t, testIdentity(t, 0), "127.0.0.1:0", netq.Limits{MaxFrameSize: 1 << 20},
		func(c *quic.Config) { c.OnConnError = senderLog.record })
	b := startNode(t, testIdentity(t, 1), "127.0.0.1:0", netq.Limits{MaxFrameSize: 64 << 10},
		func(c *quic.Config) { c.OnConnError = receiverLog.record })
	if err := a.AddPeer(b.LocalID(), b.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(context.Background(), b.LocalID(), make([]byte, 100<<10)); err != nil {
		t.Fatal(err)
	}
	t.Logf("sender: %v", senderLog.waitFor(t, netq.ErrFrameTooLarge))
	t.Logf("receiver: %v", receiverLog.waitFor(t, netq.ErrFrameTooLarge))
	netqtest.ExpectNothing(t, b, 50*time.Millisecond)

	small := []byte("within the limit")
	if err := a.Send(context.Background(), b.LocalID(), small); err != nil {
		t.Fatal(err)
	}
	if got := netqtest.Collect(t, b, 1)[0]; string(got.Msg) != string(small) {
		t.Fatalf("got %q, want %q", got.Msg, small)
	}
	if s := statsOf(a, b.LocalID()); s.Reconnects < 1 {
		t.Fatalf("sender stats %+v: want a reconnect", s)
	}
	_ = a.Close()
	_ = b.Close()
	netqtest.CheckNoLeak(t, before)
}

// rawClient dials tr with a bare quic-go client holding identity id, as a
// misbehaving peer would, and opens a stream.
func rawClient(t *testing.T, id netq.Identity, tr *quic.Transport) (*quicgo.Conn, *quicgo.SendStream, func()) {
	t.Helper()
	pc := listenLoopback(t, "127.0.0.1:0")
	qt := &quicgo.Transport{Conn: pc}
	tlsConf, err := quic.ClientTLSConfigForTest(id, tr.LocalID())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), netqtest.Timeout)
	defer cancel()
	conn, err := qt.Dial(ctx, tr.LocalAddr(), tlsConf, &quicgo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := conn.OpenUniStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return conn, stream, func() {
		_ = conn.CloseWithError(0, "")
		_ = qt.Close()
		_ = pc.Close()
	}
}

// TestBadFramesFromRawPeer feeds hand-made byte streams to a transport:
// an oversized header closes the connection with the frame-too-large code;
// a truncated frame is dropped; nothing panics and nothing is delivered.
func TestBadFramesFromRawPeer(t *testing.T) {
	before := runtime.NumGoroutine()
	b := startNode(t, testIdentity(t, 1), "127.0.0.1:0", netq.Limits{MaxFrameSize: 1024}, nil)

	t.Run("oversized header", func(t *testing.T) {
		conn, stream, done := rawClient(t, testIdentity(t, 0), b)
		defer done()
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], 0xffffffff)
		if _, err := stream.Write(hdr[:]); err != nil {
			t.Fatal(err)
		}
		select {
		case <-conn.Context().Done():
		case <-time.After(netqtest.Timeout):
			t.Fatal("connection not closed after an oversized frame header")
		}
		var appErr *quicgo.ApplicationError
		if cause := context.Cause(conn.Context()); !errors.As(cause, &appErr) || !appErr.Remote || appErr.ErrorCode != quic.CodeFrameTooLargeForTest {
			t.Fatalf("connection closed with %v, want the peer's frame-too-large code", cause)
		}
	})
	t.Run("truncated frame", func(t *testing.T) {
		_, stream, done := rawClient(t, testIdentity(t, 0), b)
		defer done()
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], 100)
		if _, err := stream.Write(append(hdr[:], "only part"...)); err != nil {
			t.Fatal(err)
		}
		if err := stream.Close(); err != nil {
			t.Fatal(err)
		}
	})
	netqtest.ExpectNothing(t, b, 100*time.Millisecond)
	// The listener still serves well-behaved peers.
	_, stream, done := rawClient(t, testIdentity(t, 0), b)
	frame, err := netq.AppendFrame(nil, []byte("hello"), 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Write(frame); err != nil {
		t.Fatal(err)
	}
	if got := netqtest.Collect(t, b, 1)[0]; string(got.Msg) != "hello" || got.From != testIdentity(t, 0).PeerID() {
		t.Fatalf("got %q from %s", got.Msg, got.From.Short())
	}
	done()
	_ = b.Close()
	netqtest.CheckNoLeak(t, before)
}

// TestReconnectCountedAfterRestart restarts the receiver on the same port
// and checks the sender redialled it.
func TestReconnectCountedAfterRestart(t *testing.T) {
	before := runtime.NumGoroutine()
	c := newCluster(t, netqtest.Options{Nodes: 2}).(*cluster)
	defer c.Close()
	ctx := context.Background()
	b := c.ids[1].PeerID()
	for round := range 3 {
		if err := c.Node(0).Send(ctx, b, []byte{byte(round)}); err != nil {
			t.Fatal(err)
		}
		if got := netqtest.Collect(t, c.Node(1), 1)[0]; got.Msg[0] != byte(round) {
			t.Fatalf("round %d: got %v", round, got.Msg)
		}
		c.Stop(t, 1)
		c.Start(t, 1)
	}
	if err := c.Node(0).Send(ctx, b, []byte("last")); err != nil {
		t.Fatal(err)
	}
	netqtest.Collect(t, c.Node(1), 1)
	if s := statsOf(c.Node(0), b); s.Reconnects != 3 {
		t.Fatalf("sender stats %+v: want 3 reconnects", s)
	}
	c.Close()
	netqtest.CheckNoLeak(t, before)
}

func TestConfigValidate(t *testing.T) {
	pc := listenLoopback(t, "127.0.0.1:0")
	defer pc.Close()
	valid := testConfig(testIdentity(t, 0), pc, netq.Limits{}).WithDefaults()
	for _, tc := range []struct {
		name   string
		mutate func(*quic.Config)
		ok     bool
	}{
		{"valid", func(*quic.Config) {}, true},
		{"no identity", func(c *quic.Config) { c.Identity = netq.Identity{} }, false},
		{"no packet conn", func(c *quic.Config) { c.PacketConn = nil }, false},
		{"keep-alive not below idle timeout", func(c *quic.Config) { c.KeepAlivePeriod = c.IdleTimeout }, false},
		{"backoff max below min", func(c *quic.Config) { c.BackoffMax = c.BackoffMin / 2 }, false},
		{"negative handshake timeout", func(c *quic.Config) { c.HandshakeTimeout = -1 }, false},
		{"tiny receive window", func(c *quic.Config) { c.ReceiveWindow = 1024 }, false},
		{"negative frame size", func(c *quic.Config) { c.Limits.MaxFrameSize = -1 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.mutate(&cfg)
			if err := cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	// Every problem is reported at once.
	bad := valid
	bad.Identity, bad.PacketConn, bad.BackoffMin = netq.Identity{}, nil, -1
	err := bad.Validate()
	if err == nil {
		t.Fatal("Validate accepted a config with three problems")
	}
	if _, err := quic.New(bad); err == nil {
		t.Fatal("New accepted an invalid config")
	}
}
