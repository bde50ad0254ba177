package driver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thinkey/thinkey/accel"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// Options is what a Node is built from. The caller opens the store and the
// transport (production: storage on the data directory, netq/quic on a UDP
// socket; tests: an in-memory store, netq/memnet) and closes them after Run
// returns.
type Options struct {
	// Config is the node configuration (node/config), already validated.
	Config config.Config
	// Key is the node's key; its BLS public key must be one of the genesis
	// nodes and its identity that node's peer ID.
	Key     keys.Key
	Genesis *genesis.Genesis
	// Transport carries every chain's messages (see "Wire formats" in
	// doc.go for the chain envelope). The node adds every other genesis
	// node as a peer at its genesis address, or at the address
	// PeerAddresses gives for its peer ID.
	Transport     netq.Transport
	PeerAddresses map[netq.PeerID]string
	DB            *storage.DB
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the node's metrics; nil means a new registry
	// (Node.Registry returns it).
	Registry *prometheus.Registry
	// Random is the source of the batch-verification coefficients; nil
	// means crypto/rand.
	Random io.Reader
}

// ErrNotMember means the node's key is not one of the genesis nodes, or its
// transport identity is not the one the genesis lists for it.
var ErrNotMember = errors.New("node key is not a node of the genesis")

// Node is one validator process: a runner per chain it takes part in (the
// root chain, and at most one transaction chain), sharing one transport and
// one store. Build it with New, run it with Run; its query methods (Status,
// Account, Block, MessageStatus, Submit) are safe for concurrent use and
// serve the HTTP API.
type Node struct {
	cfg     config.Config
	gen     *genesis.Genesis
	topo    *chains.Topology
	key     keys.Key
	self    int // index in gen.Nodes
	tr      netq.Transport
	db      *storage.DB
	log     *slog.Logger
	reg     *prometheus.Registry
	rnd     io.Reader
	genHash types.Hash
	addrs   map[netq.PeerID]string
	// nodeOf maps every genesis node's peer ID to its index.
	nodeOf map[netq.PeerID]int
	// heard is when each genesis node was last heard from (Unix
	// nanoseconds).
	heard []atomic.Int64

	// root runs the root chain; coord the coordinator chain the node is
	// in, tx its transaction chain (nil when it is in none). runners maps
	// them by chain.
	root    *runner
	coord   *runner
	tx      *runner
	runners map[types.ChainID]*runner

	// ctx is Run's context, for the loops' callbacks that wait on others.
	ctx          context.Context
	start        time.Time
	running      atomic.Bool
	startedNanos atomic.Int64
	dropped      prometheus.Counter
}

// New checks the options, loads every chain the node runs from the store
// (writing the genesis blocks into an empty one) and the consensus cores
// from their last persisted states. It starts nothing.
func New(opts Options) (*Node, error) {
	if opts.Genesis == nil || opts.Transport == nil || opts.DB == nil || opts.Key.BLS == nil {
		return nil, errors.New("driver: genesis, transport, store and key are required")
	}
	cfg := opts.Config
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("driver: config: %w", err)
	}
	gen := opts.Genesis
	if err := gen.Validate(); err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	topo, err := gen.Topology()
	if err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	self, ok := gen.NodeOf(opts.Key.BLS.PublicKey())
	if !ok {
		return nil, fmt.Errorf("driver: %w: bls key %x", ErrNotMember, opts.Key.BLS.PublicKey().Bytes())
	}
	if gen.Nodes[self].PeerID != opts.Key.Identity.PeerID() {
		return nil, fmt.Errorf("driver: %w: node %d has peer id %s in the genesis, the key file gives %s",
			ErrNotMember, self, gen.Nodes[self].PeerID, opts.Key.Identity.PeerID())
	}
	if opts.Transport.LocalID() != opts.Key.Identity.PeerID() {
		return nil, fmt.Errorf("driver: transport identity %s is not the key's %s", opts.Transport.LocalID(), opts.Key.Identity.PeerID())
	}
	genHash, err := gen.Hash()
	if err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("node", self)
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if err := reg.Register(netq.NewCollector("thinkey", opts.Transport)); err != nil {
		return nil, fmt.Errorf("driver: metrics: %w", err)
	}
	dropped := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "thinkey", Subsystem: "driver", Name: "envelopes_dropped_total",
		Help: "Inbound payloads without a chain envelope, or for a chain this node does not run.",
	})
	if err := reg.Register(dropped); err != nil {
		return nil, fmt.Errorf("driver: metrics: %w", err)
	}
	rnd := opts.Random
	if rnd == nil {
		rnd = rand.Reader
	} else {
		rnd = &lockedReader{r: rnd}
	}
	n := &Node{
		cfg:     cfg,
		gen:     gen,
		topo:    topo,
		key:     opts.Key,
		self:    self,
		tr:      opts.Transport,
		db:      opts.DB,
		log:     log,
		reg:     reg,
		rnd:     rnd,
		genHash: genHash,
		addrs:   opts.PeerAddresses,
		nodeOf:  map[netq.PeerID]int{},
		heard:   make([]atomic.Int64, len(gen.Nodes)),
		runners: map[types.ChainID]*runner{},
		dropped: dropped,
		ctx:     context.Background(),
	}
	for i, m := range gen.Nodes {
		n.nodeOf[m.PeerID] = i
	}
	headers, err := gen.Headers()
	if err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	for _, id := range gen.ChainsOf(self) {
		c, _ := topo.Chain(id)
		var r *runner
		switch c.Kind {
		case chains.Root:
			r, err = newRootRunner(n, id, headers)
			n.root = r
		case chains.Coordinator:
			r, err = newRootRunner(n, id, headers)
			n.coord = r
		case chains.Transaction:
			r, err = newTxRunner(n, id, headers[id])
			n.tx = r
		}
		if err != nil {
			return nil, fmt.Errorf("driver: chain %d: %w", id, err)
		}
		n.runners[id] = r
	}
	if n.root == nil {
		return nil, fmt.Errorf("driver: %w: node %d is not in the root committee", ErrNotMember, self)
	}
	if n.coord != nil {
		n.coord.rootApp().connectParent(n.root)
	}
	if n.tx != nil {
		c, _ := topo.Chain(n.tx.chain)
		parent, ok := n.runners[c.Parent]
		if !ok {
			return nil, fmt.Errorf("driver: node %d runs chain %d but not its recorder, chain %d", self, c.ID, c.Parent)
		}
		n.tx.txApp().connect(parent, n.root)
	}
	for _, r := range n.runners {
		r.publishStatus(nil)
	}
	return n, nil
}

// Registry returns the node's metrics registry.
func (n *Node) Registry() *prometheus.Registry { return n.reg }

// Run runs the node until ctx ends or a fatal error (a store that cannot
// write, a decided block that does not verify) stops one of its chains. It
// returns after every goroutine it started has exited; the caller then
// closes the transport and the store.
func (n *Node) Run(ctx context.Context) error {
	if !n.running.CompareAndSwap(false, true) {
		return errors.New("driver: node already running")
	}
	defer n.running.Store(false)
	for i, m := range n.gen.Nodes {
		if i == n.self {
			continue
		}
		addr := m.Address
		if a, ok := n.addrs[m.PeerID]; ok {
			addr = a
		}
		if err := n.tr.AddPeer(m.PeerID, addr); err != nil {
			return fmt.Errorf("driver: add node %d at %s: %w", i, addr, err)
		}
	}
	cores := map[*runner]*coreState{}
	for _, r := range n.ordered() {
		cs, err := r.newCore()
		if err != nil {
			return err
		}
		cores[r] = cs
	}
	n.start = time.Now()
	n.startedNanos.Store(n.start.UnixNano())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n.ctx = ctx
	var wg sync.WaitGroup
	var fatalOnce sync.Once
	var fatal error
	spawn := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil {
				fatalOnce.Do(func() { fatal = err })
				cancel()
			}
			n.log.Debug("goroutine stopped", "name", name)
		}()
	}
	spawn("demux", func(ctx context.Context) error { n.demux(ctx); return nil })
	for _, r := range n.ordered() {
		r.spawn(spawn, cores[r])
	}
	n.log.Info("node started", "chains", n.chainIDs(), "peer_id", n.key.Identity.PeerID().Short(),
		"nodes", len(n.gen.Nodes), "genesis", n.genHash.String()[:16])
	<-ctx.Done()
	wg.Wait()
	if fatal != nil {
		n.log.Error("node stopped", "err", fatal)
		return fatal
	}
	n.log.Info("node stopped")
	return nil
}

// ordered returns the runners, root first, then the coordinator and the
// transaction chain.
func (n *Node) ordered() []*runner {
	out := []*runner{n.root}
	for _, r := range []*runner{n.coord, n.tx} {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// chainIDs returns the chains the node runs, by ID.
func (n *Node) chainIDs() []types.ChainID {
	var out []types.ChainID
	for _, r := range n.ordered() {
		out = append(out, r.chain)
	}
	slices.Sort(out)
	return out
}

// now is the time base of the cores' events: monotonic time since Run.
func (n *Node) now() time.Duration { return time.Since(n.start) }

// pin locks the calling goroutine to a core when core >= 0; a failure is
// logged and the goroutine runs unpinned.
func (n *Node) pin(name string, core int) func() {
	if core < 0 {
		return func() {}
	}
	unpin, err := accel.PinToCore(core)
	if err != nil {
		n.log.Warn("cannot pin to core", "loop", name, "core", core, "err", err)
	} else {
		n.log.Debug("pinned", "loop", name, "core", core)
	}
	return unpin
}

// lockedReader serializes reads of a source that is not safe for concurrent
// use (a seeded test reader); crypto/rand needs no lock.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
