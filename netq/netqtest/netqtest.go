package netqtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thinkey/thinkey/netq"
)

// Options shape a cluster.
type Options struct {
	Nodes  int
	Limits netq.Limits
}

// Cluster is a set of started transports, each having added every other
// as a peer.
type Cluster interface {
	// Node returns the transport of node i; after Start it is a new one.
	Node(i int) netq.Transport
	// Stop closes node i. It returns once every other node that had a
	// connection to i has noticed that it ended, so that messages sent
	// afterwards are queued rather than written into a dying connection.
	Stop(t testing.TB, i int)
	// Start starts stopped node i again with the same identity and
	// address, and adds every other node as its peer.
	Start(t testing.TB, i int)
	// Close closes every running node.
	Close()
}

// NewCluster starts a cluster of opts.Nodes nodes. It fails t on error.
type NewCluster func(t *testing.T, opts Options) Cluster

// Timeout bounds every wait of the suite; generous, as the suite runs with
// -race on loaded machines. Passing tests take a small fraction of it.
const Timeout = 20 * time.Second

// Run runs the conformance suite against the twin that newCluster builds.
func Run(t *testing.T, newCluster NewCluster) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, newCluster NewCluster)
	}{
		{"Exchange/nodes=2", func(t *testing.T, nc NewCluster) { testExchange(t, nc, 2, 200) }},
		{"Exchange/nodes=5", func(t *testing.T, nc NewCluster) { testExchange(t, nc, 5, 50) }},
		{"UnknownPeer", testUnknownPeer},
		{"FrameSizeLimit", testFrameSizeLimit},
		{"BackPressure", testBackPressure},
		{"DeliveryAcrossRestart", testDeliveryAcrossRestart},
		{"RemovePeer", testRemovePeer},
		{"Close", testClose},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			tc.run(t, newCluster)
			CheckNoLeak(t, before)
		})
	}
}

// Message classes as the suite tags them in payloads.
const (
	reliable   byte = 'R' // sent with Send
	bestEffort byte = 'B' // sent with TrySend
)

// payload builds a message: class, sender index, sequence, then filler up
// to size bytes (at least 9).
func payload(class byte, from int, seq uint32, size int) []byte {
	msg := make([]byte, max(size, 9))
	msg[0] = class
	binary.BigEndian.PutUint32(msg[1:], uint32(from))
	binary.BigEndian.PutUint32(msg[5:], seq)
	for i := 9; i < len(msg); i++ {
		msg[i] = byte(i) ^ byte(seq)
	}
	return msg
}

type tag struct {
	class byte
	from  int
	seq   uint32
}

func parse(t testing.TB, msg []byte) tag {
	t.Helper()
	if len(msg) < 9 {
		t.Fatalf("received %d-byte message, want at least 9", len(msg))
	}
	tg := tag{class: msg[0], from: int(binary.BigEndian.Uint32(msg[1:])), seq: binary.BigEndian.Uint32(msg[5:])}
	if want := payload(tg.class, tg.from, tg.seq, len(msg)); !bytes.Equal(msg, want) {
		t.Fatalf("message %+v: payload corrupted", tg)
	}
	return tg
}

// Collect reads n messages from tr, failing t if they do not arrive within
// Timeout or the channel closes. Call it from the test goroutine.
func Collect(t testing.TB, tr netq.Transport, n int) []netq.Inbound {
	t.Helper()
	out, err := collect(tr, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// collect is Collect for any goroutine: it reports instead of failing.
func collect(tr netq.Transport, n int) ([]netq.Inbound, error) {
	out := make([]netq.Inbound, 0, n)
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for len(out) < n {
		select {
		case in, ok := <-tr.Receive():
			if !ok {
				return out, fmt.Errorf("receive channel closed after %d of %d messages", len(out), n)
			}
			out = append(out, in)
		case <-deadline.C:
			return out, fmt.Errorf("received %d of %d messages within %v", len(out), n, Timeout)
		}
	}
	return out, nil
}

// ExpectNothing fails t if tr yields a message within wait.
func ExpectNothing(t testing.TB, tr netq.Transport, wait time.Duration) {
	t.Helper()
	select {
	case in := <-tr.Receive():
		t.Fatalf("unexpected message of %d bytes from %s", len(in.Msg), in.From.Short())
	case <-time.After(wait):
	}
}

// CheckNoLeak fails t unless the process's goroutine count falls back to
// before within Timeout (goroutines of closed connections wind down
// asynchronously, so it polls).
func CheckNoLeak(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		now := runtime.NumGoroutine()
		if now <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines before, %d after close:\n%s", before, now, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkOrder verifies that msgs hold, for each (sender, class), exactly the
// sequences 0..want-1 in order, and that each From matches the sender
// index the payload names.
func checkOrder(t testing.TB, c Cluster, msgs []netq.Inbound, want map[tag]int) {
	t.Helper()
	next := map[tag]uint32{}
	for _, in := range msgs {
		tg := parse(t, in.Msg)
		if got, wantID := in.From, c.Node(tg.from).LocalID(); got != wantID {
			t.Fatalf("message %+v arrived from %s, want sender %s", tg, got.Short(), wantID.Short())
		}
		key := tag{class: tg.class, from: tg.from}
		if tg.seq != next[key] {
			t.Fatalf("from node %d class %c: got seq %d, want %d (reordered, lost or duplicated)", tg.from, tg.class, tg.seq, next[key])
		}
		next[key]++
	}
	for key, n := range want {
		if int(next[key]) != n {
			t.Fatalf("from node %d class %c: received %d messages, want %d", key.from, key.class, next[key], n)
		}
	}
}

func testExchange(t *testing.T, newCluster NewCluster, nodes, perPeer int) {
	c := newCluster(t, Options{Nodes: nodes})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, 2*nodes)
	for i := range nodes {
		wg.Go(func() {
			for seq := range uint32(perPeer) {
				for j := range nodes {
					if j == i {
						continue
					}
					class := reliable
					if seq%2 == 1 {
						class = bestEffort
					}
					msg := payload(class, i, seq/2, 64+int(seq)*7)
					var err error
					if class == reliable {
						err = c.Node(i).Send(ctx, c.Node(j).LocalID(), msg)
					} else {
						err = c.Node(i).TrySend(c.Node(j).LocalID(), msg)
					}
					if err != nil {
						errs <- fmt.Errorf("node %d to %d seq %d: %w", i, j, seq, err)
						return
					}
				}
			}
		})
	}
	received := make([][]netq.Inbound, nodes)
	for j := range nodes {
		wg.Go(func() {
			var err error
			if received[j], err = collect(c.Node(j), (nodes-1)*perPeer); err != nil {
				errs <- fmt.Errorf("node %d: %w", j, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for j := range nodes {
		want := map[tag]int{}
		for i := range nodes {
			if i != j {
				want[tag{class: reliable, from: i}] = (perPeer + 1) / 2
				want[tag{class: bestEffort, from: i}] = perPeer / 2
			}
		}
		checkOrder(t, c, received[j], want)
		ExpectNothing(t, c.Node(j), 20*time.Millisecond)
	}
	// Counters settle once the senders' goroutines have recorded the sends.
	waitFor(t, "send counters", func() error {
		for i := range nodes {
			for _, s := range c.Node(i).Stats() {
				if s.MessagesSent != uint64(perPeer) || s.MessagesReceived != uint64(perPeer) {
					return fmt.Errorf("node %d peer %s: sent %d received %d, want %d each", i, s.Peer.Short(), s.MessagesSent, s.MessagesReceived, perPeer)
				}
			}
		}
		return nil
	})
}

// waitFor polls cond until it returns nil, failing t after Timeout.
func waitFor(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testUnknownPeer(t *testing.T, newCluster NewCluster) {
	c := newCluster(t, Options{Nodes: 2})
	defer c.Close()
	a := c.Node(0)
	stranger := netq.PeerID{1, 2, 3}
	if err := a.Send(context.Background(), stranger, []byte("x")); !errors.Is(err, netq.ErrUnknownPeer) {
		t.Fatalf("Send to unknown peer: got %v, want ErrUnknownPeer", err)
	}
	if err := a.TrySend(stranger, []byte("x")); !errors.Is(err, netq.ErrUnknownPeer) {
		t.Fatalf("TrySend to unknown peer: got %v, want ErrUnknownPeer", err)
	}
	if err := a.AddPeer(a.LocalID(), "127.0.0.1:1"); err == nil {
		t.Fatal("AddPeer of own identity: got nil error")
	}
}

func testFrameSizeLimit(t *testing.T, newCluster NewCluster) {
	const limit = 64 << 10
	c := newCluster(t, Options{Nodes: 2, Limits: netq.Limits{MaxFrameSize: limit}})
	defer c.Close()
	a, b := c.Node(0), c.Node(1)
	over := make([]byte, limit+1)
	if err := a.Send(context.Background(), b.LocalID(), over); !errors.Is(err, netq.ErrFrameTooLarge) {
		t.Fatalf("Send of %d bytes with limit %d: got %v, want ErrFrameTooLarge", len(over), limit, err)
	}
	if err := a.TrySend(b.LocalID(), over); !errors.Is(err, netq.ErrFrameTooLarge) {
		t.Fatalf("TrySend of %d bytes with limit %d: got %v, want ErrFrameTooLarge", len(over), limit, err)
	}
	// The limit itself, and the empty message, pass.
	for _, size := range []int{limit, 0} {
		msg := bytes.Repeat([]byte{0xa5}, size)
		if err := a.Send(context.Background(), b.LocalID(), msg); err != nil {
			t.Fatalf("Send of %d bytes: %v", size, err)
		}
		got := Collect(t, b, 1)[0]
		if !bytes.Equal(got.Msg, msg) || got.From != a.LocalID() {
			t.Fatalf("message of %d bytes arrived as %d bytes from %s", size, len(got.Msg), got.From.Short())
		}
	}
}

func testBackPressure(t *testing.T, newCluster NewCluster) {
	const (
		queueMessages = 4
		size          = 16 << 10
		// The most messages that can be in flight before the queue fills:
		// generous, to cover any transport's buffers (QUIC's flow-control
		// window). Reaching it means back-pressure never came.
		maxAccepted = 2000
	)
	c := newCluster(t, Options{Nodes: 2, Limits: netq.Limits{QueueMessages: queueMessages, InboundMessages: 1}})
	defer c.Close()
	a, b := c.Node(0), c.Node(1)

	// Nobody reads b. TrySend must start failing with ErrQueueFull. A full
	// queue may be transient while the writer catches up, so it counts only
	// once it persists.
	accepted := map[byte]uint32{}
	fullStreak := 0
	for fullStreak < 3 {
		err := a.TrySend(b.LocalID(), payload(bestEffort, 0, accepted[bestEffort], size))
		switch {
		case err == nil:
			accepted[bestEffort]++
			fullStreak = 0
		case errors.Is(err, netq.ErrQueueFull):
			fullStreak++
			time.Sleep(20 * time.Millisecond)
		default:
			t.Fatalf("TrySend: %v", err)
		}
		if accepted[bestEffort] > maxAccepted {
			t.Fatalf("TrySend accepted %d messages to a stalled receiver: no back-pressure", accepted[bestEffort])
		}
	}
	// The reliable class has its own queue: Send fills it, then waits until
	// its context ends and reports both causes.
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := a.Send(ctx, b.LocalID(), payload(reliable, 0, accepted[reliable], size))
		cancel()
		if err != nil {
			if !errors.Is(err, netq.ErrQueueFull) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Send to stalled receiver: got %v, want ErrQueueFull and DeadlineExceeded", err)
			}
			break
		}
		accepted[reliable]++
		if accepted[reliable] > queueMessages+1 { // the writer is stuck, so the queue bound holds exactly
			t.Fatalf("Send accepted %d messages with a stuck writer and a queue of %d", accepted[reliable], queueMessages)
		}
	}
	if accepted[reliable] == 0 {
		t.Fatal("Send accepted nothing: the reliable queue was full before its first message")
	}
	var full uint64
	for _, s := range a.Stats() {
		if s.Peer == b.LocalID() {
			full = s.QueueFull
		}
	}
	if full < 4 { // 3 TrySend refusals and 1 Send
		t.Fatalf("QueueFull counter %d, want at least 4", full)
	}
	// Once b reads, everything accepted arrives, in order per class.
	got := Collect(t, b, int(accepted[reliable]+accepted[bestEffort]))
	checkOrder(t, c, got, map[tag]int{
		{class: reliable, from: 0}:   int(accepted[reliable]),
		{class: bestEffort, from: 0}: int(accepted[bestEffort]),
	})
	ExpectNothing(t, b, 20*time.Millisecond)
}

func testDeliveryAcrossRestart(t *testing.T, newCluster NewCluster) {
	c := newCluster(t, Options{Nodes: 2})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	bID := c.Node(1).LocalID()
	if err := c.Node(0).Send(ctx, bID, payload(reliable, 0, 0, 100)); err != nil {
		t.Fatal(err)
	}
	Collect(t, c.Node(1), 1)

	c.Stop(t, 1)
	const queued = 20
	for seq := uint32(1); seq <= queued; seq++ {
		if err := c.Node(0).Send(ctx, bID, payload(reliable, 0, seq, 100)); err != nil {
			t.Fatalf("Send while peer is down: %v", err)
		}
	}
	c.Start(t, 1)
	got := Collect(t, c.Node(1), queued)
	for i, in := range got {
		if tg := parse(t, in.Msg); tg.seq != uint32(i+1) {
			t.Fatalf("after restart message %d has seq %d, want %d", i, tg.seq, i+1)
		}
	}
	// The restarted node can answer on its own connection.
	if err := c.Node(1).Send(ctx, c.Node(0).LocalID(), payload(reliable, 1, 0, 100)); err != nil {
		t.Fatal(err)
	}
	if in := Collect(t, c.Node(0), 1)[0]; in.From != bID {
		t.Fatalf("reply from %s, want %s", in.From.Short(), bID.Short())
	}
}

func testRemovePeer(t *testing.T, newCluster NewCluster) {
	c := newCluster(t, Options{Nodes: 2})
	defer c.Close()
	a, b := c.Node(0), c.Node(1)
	a.RemovePeer(b.LocalID())
	a.RemovePeer(b.LocalID()) // removing an unknown peer does nothing
	if err := a.Send(context.Background(), b.LocalID(), []byte("x")); !errors.Is(err, netq.ErrUnknownPeer) {
		t.Fatalf("Send to removed peer: got %v, want ErrUnknownPeer", err)
	}
	// Removal cuts only a's outbound side: b still reaches a.
	if err := b.Send(context.Background(), a.LocalID(), payload(reliable, 1, 0, 10)); err != nil {
		t.Fatal(err)
	}
	Collect(t, a, 1)
}

func testClose(t *testing.T, newCluster NewCluster) {
	c := newCluster(t, Options{Nodes: 2, Limits: netq.Limits{QueueMessages: 2, InboundMessages: 1}})
	defer c.Close()
	a, b := c.Node(0), c.Node(1)
	if err := a.Send(context.Background(), b.LocalID(), payload(reliable, 0, 0, 10)); err != nil {
		t.Fatal(err)
	}
	Collect(t, b, 1)
	// A Send blocked on a full queue returns when the transport closes.
	blocked := make(chan error, 1)
	go func() {
		for {
			if err := a.Send(context.Background(), b.LocalID(), payload(reliable, 0, 1, 1<<10)); err != nil {
				blocked <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	for range 2 { // idempotent
		if err := a.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	select {
	case err := <-blocked:
		if !errors.Is(err, netq.ErrClosed) {
			t.Fatalf("Send blocked across Close: got %v, want ErrClosed", err)
		}
	case <-time.After(Timeout):
		t.Fatal("Send blocked across Close did not return")
	}
	if err := a.Send(context.Background(), b.LocalID(), []byte("x")); !errors.Is(err, netq.ErrClosed) {
		t.Fatalf("Send after Close: got %v, want ErrClosed", err)
	}
	if err := a.TrySend(b.LocalID(), []byte("x")); !errors.Is(err, netq.ErrClosed) {
		t.Fatalf("TrySend after Close: got %v, want ErrClosed", err)
	}
	if err := a.AddPeer(netq.PeerID{9}, "127.0.0.1:1"); !errors.Is(err, netq.ErrClosed) {
		t.Fatalf("AddPeer after Close: got %v, want ErrClosed", err)
	}
	// Receive drains whatever was buffered, then reports closed.
	for {
		select {
		case _, ok := <-a.Receive():
			if !ok {
				return
			}
		case <-time.After(Timeout):
			t.Fatal("Receive not closed after Close")
		}
	}
}

// String helps failure messages name a tag.
func (tg tag) String() string {
	return strings.Join([]string{string(tg.class), fmt.Sprint(tg.from), fmt.Sprint(tg.seq)}, "/")
}
