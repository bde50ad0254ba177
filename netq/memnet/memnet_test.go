package memnet_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/netq/memnet"
	"github.com/thinkey/thinkey/netq/netqtest"
)

// testPeerID returns a deterministic PeerID; memnet never checks keys.
func testPeerID(i int) netq.PeerID {
	return netq.PeerID(hash.Sum256([]byte(fmt.Sprintf("memnet test peer %d", i))))
}

// cluster implements netqtest.Cluster over one Network.
type cluster struct {
	net    *memnet.Network
	limits netq.Limits
	ids    []netq.PeerID
	mu     sync.Mutex
	nodes  []*memnet.Endpoint
	up     []bool
}

func newCluster(t *testing.T, opts netqtest.Options) netqtest.Cluster {
	c := &cluster{net: memnet.NewNetwork(1), limits: opts.Limits}
	for i := range opts.Nodes {
		c.ids = append(c.ids, testPeerID(i))
		c.nodes = append(c.nodes, nil)
		c.up = append(c.up, false)
	}
	for i := range opts.Nodes {
		c.Start(t, i)
	}
	return c
}

func (c *cluster) Node(i int) netq.Transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

func (c *cluster) Stop(t testing.TB, i int) {
	if err := c.Node(i).Close(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.up[i] = false
	c.mu.Unlock()
}

func (c *cluster) Start(t testing.TB, i int) {
	t.Helper()
	e, err := c.net.Attach(c.ids[i], c.limits)
	if err != nil {
		t.Fatal(err)
	}
	for j, id := range c.ids {
		if j != i {
			if err := e.AddPeer(id, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.mu.Lock()
	c.nodes[i], c.up[i] = e, true
	c.mu.Unlock()
}

func (c *cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.nodes {
		if c.up[i] {
			_ = e.Close()
			c.up[i] = false
		}
	}
}

func TestConformance(t *testing.T) {
	netqtest.Run(t, newCluster)
}

// pair attaches two endpoints that know each other.
func pair(t *testing.T, n *memnet.Network) (a, b *memnet.Endpoint) {
	t.Helper()
	var err error
	if a, err = n.Attach(testPeerID(0), netq.Limits{}); err != nil {
		t.Fatal(err)
	}
	if b, err = n.Attach(testPeerID(1), netq.Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddPeer(b.LocalID(), ""); err != nil {
		t.Fatal(err)
	}
	if err := b.AddPeer(a.LocalID(), ""); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// pending reports whether e has a message waiting, without blocking.
func pending(e *memnet.Endpoint) bool {
	select {
	case in := <-e.Receive():
		_ = in
		return true
	default:
		return false
	}
}

// TestLinkDelay runs in virtual time: a delayed link delivers each message
// exactly Delay after it was queued, in order, and pipelines them.
func TestLinkDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.NewNetwork(1)
		a, b := pair(t, n)
		defer a.Close()
		defer b.Close()
		const delay = 150 * time.Millisecond
		if err := n.SetFault(a.LocalID(), b.LocalID(), memnet.Fault{Delay: delay}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := range 3 {
			if err := a.Send(context.Background(), b.LocalID(), []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		for i := range 3 {
			in := <-b.Receive()
			if in.Msg[0] != byte(i) {
				t.Fatalf("message %d arrived as %d", i, in.Msg[0])
			}
			want := delay + time.Duration(i)*10*time.Millisecond
			if got := time.Since(start); got != want {
				t.Fatalf("message %d arrived after %v, want %v", i, got, want)
			}
		}
		// The reverse link has no fault.
		sent := time.Now()
		if err := b.Send(context.Background(), a.LocalID(), []byte("back")); err != nil {
			t.Fatal(err)
		}
		<-a.Receive()
		if got := time.Since(sent); got != 0 {
			t.Fatalf("reply took %v on a link without delay", got)
		}
	})
}

// TestPartitionAndHeal loses messages across a partition and delivers
// them again after Heal.
func TestPartitionAndHeal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.NewNetwork(1)
		a, b := pair(t, n)
		defer a.Close()
		defer b.Close()
		c, err := n.Attach(testPeerID(2), netq.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := b.AddPeer(c.LocalID(), ""); err != nil {
			t.Fatal(err)
		}
		n.Partition([]netq.PeerID{a.LocalID()})
		if err := a.Send(context.Background(), b.LocalID(), []byte("lost")); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(context.Background(), c.LocalID(), []byte("same side")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if pending(b) {
			t.Fatal("message crossed the partition")
		}
		if !pending(c) {
			t.Fatal("message within one side was not delivered")
		}
		if s := a.Stats()[0]; s.Lost != 1 || s.MessagesSent != 0 {
			t.Fatalf("sender stats %+v: want 1 lost, 0 sent", s)
		}
		n.Heal()
		if err := a.Send(context.Background(), b.LocalID(), []byte("healed")); err != nil {
			t.Fatal(err)
		}
		if in := <-b.Receive(); string(in.Msg) != "healed" {
			t.Fatalf("got %q after heal", in.Msg)
		}
	})
}

// TestDropRate checks the extremes exactly and a middle rate loosely: the
// draws come from the network's seed.
func TestDropRate(t *testing.T) {
	for _, tc := range []struct {
		rate             float64
		minKept, maxKept int
	}{
		{0, 200, 200},
		{1, 0, 0},
		{0.5, 60, 140},
	} {
		t.Run(fmt.Sprint(tc.rate), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := memnet.NewNetwork(7)
				a, b := pair(t, n)
				defer a.Close()
				defer b.Close()
				if err := n.SetFault(a.LocalID(), b.LocalID(), memnet.Fault{DropRate: tc.rate}); err != nil {
					t.Fatal(err)
				}
				const total = 200
				kept := 0
				for i := range total {
					if err := a.Send(context.Background(), b.LocalID(), []byte{byte(i)}); err != nil {
						t.Fatal(err)
					}
					synctest.Wait()
					if pending(b) {
						kept++
					}
				}
				if kept < tc.minKept || kept > tc.maxKept {
					t.Fatalf("kept %d of %d at drop rate %v, want [%d, %d]", kept, total, tc.rate, tc.minKept, tc.maxKept)
				}
				if s := a.Stats()[0]; int(s.Lost)+kept != total || int(s.MessagesSent) != kept {
					t.Fatalf("stats %+v: want %d sent and %d lost", s, kept, total-kept)
				}
			})
		})
	}
}

// TestDeliveryWaitsForAttach: a message to a peer that is not attached yet
// waits in the queue and is delivered once it attaches, as QUIC redials.
func TestDeliveryWaitsForAttach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.NewNetwork(1)
		a, err := n.Attach(testPeerID(0), netq.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		later := testPeerID(1)
		if err := a.AddPeer(later, ""); err != nil {
			t.Fatal(err)
		}
		if err := a.Send(context.Background(), later, []byte("early")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		b, err := n.Attach(later, netq.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if in := <-b.Receive(); string(in.Msg) != "early" || in.From != a.LocalID() {
			t.Fatalf("got %q from %s", in.Msg, in.From.Short())
		}
	})
}

func TestAttachTwiceFails(t *testing.T) {
	n := memnet.NewNetwork(1)
	a, err := n.Attach(testPeerID(0), netq.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Attach(testPeerID(0), netq.Limits{}); err == nil {
		t.Fatal("second Attach of one id succeeded")
	}
	_ = a.Close()
	again, err := n.Attach(testPeerID(0), netq.Limits{})
	if err != nil {
		t.Fatalf("Attach after Close: %v", err)
	}
	_ = again.Close()
	if _, err := n.Attach(testPeerID(1), netq.Limits{QueueMessages: -1}); err == nil {
		t.Fatal("Attach accepted invalid limits")
	}
}

func TestFaultValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault memnet.Fault
		ok    bool
	}{
		{"zero", memnet.Fault{}, true},
		{"drop all with delay", memnet.Fault{DropRate: 1, Delay: time.Second}, true},
		{"drop rate above 1", memnet.Fault{DropRate: 1.5}, false},
		{"negative drop rate", memnet.Fault{DropRate: -0.1}, false},
		{"negative delay", memnet.Fault{Delay: -time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.fault.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			n := memnet.NewNetwork(1)
			if err := n.SetFault(testPeerID(0), testPeerID(1), tc.fault); (err == nil) != tc.ok {
				t.Fatalf("SetFault() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
