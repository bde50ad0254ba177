package quic_test

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/netq/netqtest"
	"github.com/thinkey/thinkey/netq/quic"
)

// testIdentity returns the deterministic identity number i of a test.
func testIdentity(t testing.TB, i int) netq.Identity {
	t.Helper()
	var seed [32]byte
	copy(seed[:], fmt.Sprintf("netq/quic test identity %d", i))
	id, err := netq.NewIdentity(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// listenLoopback opens a UDP socket on 127.0.0.1 (port 0 picks one).
func listenLoopback(t testing.TB, addr string) net.PacketConn {
	t.Helper()
	udpAddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if !udpAddr.IP.IsLoopback() {
		t.Fatalf("tests listen on loopback only, not %s", addr)
	}
	conn, err := net.ListenUDP("udp", udpAddr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	return conn
}

// testConfig is a Config with timings shrunk for tests on loopback.
func testConfig(id netq.Identity, pc net.PacketConn, limits netq.Limits) quic.Config {
	return quic.Config{
		Identity:         id,
		PacketConn:       pc,
		Limits:           limits,
		HandshakeTimeout: time.Second,
		IdleTimeout:      5 * time.Second,
		KeepAlivePeriod:  time.Second,
		BackoffMin:       10 * time.Millisecond,
		BackoffMax:       200 * time.Millisecond,
		ReceiveWindow:    64 << 10,
	}
}

// startNode starts a transport on addr with cfgFn applied to its config.
func startNode(t testing.TB, id netq.Identity, addr string, limits netq.Limits, cfgFn func(*quic.Config)) *quic.Transport {
	t.Helper()
	cfg := testConfig(id, listenLoopback(t, addr), limits)
	if cfgFn != nil {
		cfgFn(&cfg)
	}
	tr, err := quic.New(cfg)
	if err != nil {
		_ = cfg.PacketConn.Close()
		t.Fatal(err)
	}
	return tr
}

// cluster implements netqtest.Cluster over real QUIC on loopback.
type cluster struct {
	opts  netqtest.Options
	ids   []netq.Identity
	addrs []string
	mu    sync.Mutex
	nodes []*quic.Transport
	up    []bool
}

func newCluster(t *testing.T, opts netqtest.Options) netqtest.Cluster {
	c := &cluster{opts: opts}
	for i := range opts.Nodes {
		id := testIdentity(t, i)
		tr := startNode(t, id, "127.0.0.1:0", opts.Limits, nil)
		c.ids = append(c.ids, id)
		c.addrs = append(c.addrs, tr.LocalAddr().String())
		c.nodes = append(c.nodes, tr)
		c.up = append(c.up, true)
	}
	for i := range c.nodes {
		c.addPeers(t, i)
	}
	return c
}

func (c *cluster) addPeers(t testing.TB, i int) {
	t.Helper()
	for j := range c.nodes {
		if j != i {
			if err := c.nodes[i].AddPeer(c.ids[j].PeerID(), c.addrs[j]); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (c *cluster) Node(i int) netq.Transport { return c.transport(i) }

func (c *cluster) transport(i int) *quic.Transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

func statsOf(tr netq.Transport, id netq.PeerID) netq.PeerStats {
	for _, s := range tr.Stats() {
		if s.Peer == id {
			return s
		}
	}
	return netq.PeerStats{Peer: id}
}

func (c *cluster) Stop(t testing.TB, i int) {
	t.Helper()
	stopped := c.ids[i].PeerID()
	// Nodes with a connection to i see it end with i's CONNECTION_CLOSE,
	// which counts as a connection error.
	errsBefore := map[int]uint64{}
	for j := range c.nodes {
		if s := statsOf(c.Node(j), stopped); j != i && s.MessagesSent > 0 {
			errsBefore[j] = s.ConnErrors
		}
	}
	if err := c.Node(i).Close(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.up[i] = false
	c.mu.Unlock()
	deadline := time.Now().Add(netqtest.Timeout)
	for j, before := range errsBefore {
		for statsOf(c.Node(j), stopped).ConnErrors == before {
			if time.Now().After(deadline) {
				t.Fatalf("node %d did not notice node %d stopping", j, i)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

func (c *cluster) Start(t testing.TB, i int) {
	t.Helper()
	tr := startNode(t, c.ids[i], c.addrs[i], c.opts.Limits, nil)
	c.mu.Lock()
	c.nodes[i] = tr
	c.up[i] = true
	c.mu.Unlock()
	c.addPeers(t, i)
}

func (c *cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, tr := range c.nodes {
		if c.up[i] {
			_ = tr.Close()
			c.up[i] = false
		}
	}
}
