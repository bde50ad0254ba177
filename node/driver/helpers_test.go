package driver_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/netq/memnet"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := range s {
		s[i] = byte(seed >> (8 * (i % 8)))
	}
	return rand.NewChaCha8(s)
}

// wallet is a funded account of the test network.
type wallet struct {
	priv  ed25519.PrivateKey
	addr  types.Address
	chain types.ChainID
	nonce uint64
}

// cluster is a network of in-process nodes over one memnet network, each
// with its own in-memory filesystem that survives a restart: a root chain
// run by every node and transaction chains of members nodes each.
type cluster struct {
	t       *testing.T
	net     *memnet.Network
	gen     *genesis.Genesis
	keys    []keys.Key
	fs      []vfs.FS
	cfg     config.Config
	wallets []*wallet
	// limits are the nodes' transport limits (zero: netq's defaults).
	limits netq.Limits

	mu    sync.Mutex
	nodes []*runningNode
}

type runningNode struct {
	node   *driver.Node
	db     *storage.DB
	ep     *memnet.Endpoint
	cancel context.CancelFunc
	done   chan error
}

// testConfig is a configuration with timeouts short enough for tests and
// long enough for the race detector on a loaded 2-core machine.
func testConfig(t testing.TB) config.Config {
	cfg, err := config.Defaults("default")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Consensus.ProposalTimeout = config.Duration{Duration: 800 * time.Millisecond}
	cfg.Consensus.RoundTimeout = config.Duration{Duration: 1600 * time.Millisecond}
	cfg.Consensus.TimeoutIncrement = config.Duration{Duration: 200 * time.Millisecond}
	cfg.Consensus.BlockInterval = config.Duration{Duration: 30 * time.Millisecond}
	cfg.Accel.VerifyWorkers = 1
	return cfg
}

// newCluster is one transaction chain run by size nodes, all of them in
// the root committee too.
func newCluster(t *testing.T, size, wallets int) *cluster {
	return newChains(t, 1, size, wallets)
}

// newChains is txChains transaction chains of members nodes each; wallet i
// is on chain 1 + i mod txChains.
func newChains(t *testing.T, txChains, members, wallets int) *cluster {
	t.Helper()
	topo, err := chains.Uniform(txChains)
	if err != nil {
		t.Fatal(err)
	}
	return newTopology(t, topo, members, wallets)
}

// newTopology runs topo with members nodes per transaction chain
// (genesis.NewLayout); wallet i is on the i-th transaction chain, by ID,
// modulo their number.
func newTopology(t *testing.T, topo *chains.Topology, members, wallets int) *cluster {
	t.Helper()
	rnd := seeded(42)
	c := &cluster{t: t, net: memnet.NewNetwork(7), cfg: testConfig(t)}
	var txs []types.ChainID
	for _, ch := range topo.Chains() {
		if ch.Kind == chains.Transaction {
			txs = append(txs, ch.ID)
		}
	}
	var nodes []genesis.Member
	for i := range len(txs) * members {
		k, err := keys.Generate(rnd)
		if err != nil {
			t.Fatal(err)
		}
		c.keys = append(c.keys, k)
		c.fs = append(c.fs, vfs.NewMem())
		nodes = append(nodes, genesis.NewMember(k.Public(), fmt.Sprintf("127.0.0.1:%d", 17600+i)))
	}
	gen, err := genesis.NewLayout(uint64(time.Now().Add(-time.Minute).UnixMilli()), nodes, topo, members)
	if err != nil {
		t.Fatal(err)
	}
	for i := range wallets {
		want := txs[i%len(txs)]
		for {
			priv, err := ed25519.GenerateKey(rnd)
			if err != nil {
				t.Fatal(err)
			}
			addr := actor.AddressFromPublicKey(priv.Public())
			if topo.OwnerOf(addr) != want {
				continue
			}
			w := &wallet{priv: priv, addr: addr, chain: want}
			c.wallets = append(c.wallets, w)
			gen.Accounts = append(gen.Accounts, genesis.Account{Address: w.addr, Balance: 1_000_000})
			break
		}
	}
	sortAccounts(gen.Accounts)
	if err := gen.Validate(); err != nil {
		t.Fatal(err)
	}
	c.gen = gen
	c.nodes = make([]*runningNode, len(nodes))
	t.Cleanup(c.stopAll)
	return c
}

// members returns the nodes of transaction chain chain.
func (c *cluster) members(chain types.ChainID) []int {
	ch, _ := c.gen.Chain(chain)
	return ch.Committee
}

func sortAccounts(a []genesis.Account) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && string(a[j].Address[:]) < string(a[j-1].Address[:]); j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func (c *cluster) logger(i int) *slog.Logger {
	if os.Getenv("THINKEY_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", i)
}

// start opens node i's store and runs it.
func (c *cluster) start(i int) {
	c.t.Helper()
	db, err := storage.Open("db", storage.Options{FS: c.fs[i]})
	if err != nil {
		c.t.Fatalf("node %d: open store: %v", i, err)
	}
	ep, err := c.net.Attach(c.keys[i].Identity.PeerID(), c.limits)
	if err != nil {
		c.t.Fatalf("node %d: attach: %v", i, err)
	}
	n, err := driver.New(driver.Options{
		Config: c.cfg, Key: c.keys[i], Genesis: c.gen, Transport: ep, DB: db, Logger: c.logger(i),
	})
	if err != nil {
		c.t.Fatalf("node %d: %v", i, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rn := &runningNode{node: n, db: db, ep: ep, cancel: cancel, done: make(chan error, 1)}
	go func() { rn.done <- n.Run(ctx) }()
	c.mu.Lock()
	c.nodes[i] = rn
	c.mu.Unlock()
}

// stop stops node i and closes its transport and store.
func (c *cluster) stop(i int) {
	c.t.Helper()
	c.mu.Lock()
	rn := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if rn == nil {
		return
	}
	rn.cancel()
	select {
	case err := <-rn.done:
		if err != nil {
			c.t.Errorf("node %d stopped with %v", i, err)
		}
	case <-time.After(30 * time.Second):
		c.t.Fatalf("node %d did not stop", i)
	}
	_ = rn.ep.Close()
	if err := rn.db.Close(); err != nil {
		c.t.Errorf("node %d: close store: %v", i, err)
	}
}

func (c *cluster) stopAll() {
	for i := range c.nodes {
		c.stop(i)
	}
}

func (c *cluster) node(i int) *driver.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes[i] == nil {
		return nil
	}
	return c.nodes[i].node
}

// transfer signs a transfer of amount from wallet w to wallet to.
func (c *cluster) transfer(w, to int, amount uint64) types.Message {
	from := c.wallets[w]
	m := actor.NewTransfer(from.priv, from.nonce, c.wallets[to].addr, amount)
	from.nonce++
	return m
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
