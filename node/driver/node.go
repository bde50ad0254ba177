package driver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thinkey/thinkey/accel"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/mempool"
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
	// Key is the node's key; its BLS public key must be a member of the
	// genesis committee and its identity that member's peer ID.
	Key     keys.Key
	Genesis *genesis.Genesis
	// Transport carries consensus, sync and gossip messages. The node adds
	// every other member as a peer at its genesis address, or at the
	// address PeerAddresses gives for its peer ID.
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

// ErrNotMember means the node's key is not in the genesis committee, or its
// transport identity is not the one the committee lists for it.
var ErrNotMember = errors.New("node key is not a member of the genesis committee")

// Node is one validator: the consensus core of the genesis chain, the state,
// the mempool, and the goroutines that connect them to the network and the
// disk. Build it with New, run it with Run; its query methods (Status,
// Account, Block, MessageStatus, Submit) are safe for concurrent use and
// serve the HTTP API.
type Node struct {
	cfg     config.Config
	gen     *genesis.Genesis
	chain   types.ChainID
	self    types.ValidatorIndex
	key     keys.Key
	members []netq.PeerID
	indexOf map[netq.PeerID]types.ValidatorIndex
	tr      netq.Transport
	db      *storage.DB
	state   *chainState
	pool    *mempool.Pool
	log     *slog.Logger
	reg     *prometheus.Registry
	m       *metrics
	rnd     io.Reader
	env     exec.Env
	cache   *resultCache
	ver     *verifier
	start   time.Time
	genHash types.Hash
	addrs   map[netq.PeerID]string

	running atomic.Bool
	status  atomic.Pointer[Status]
	// Liveness for the API, written by the loops: when the consensus loop
	// last iterated, when each member was last heard from, the highest
	// height known decided, and when Run started (Unix nanoseconds).
	lastLoop     atomic.Int64
	lastHeard    []atomic.Int64
	syncTarget   atomic.Uint64
	startedNanos atomic.Int64

	// Channels between the goroutines (see doc.go, "Goroutines").
	inbox    chan loopInput
	jobs     chan verifyJob
	verified chan verifyDone
	builds   chan consensus.ProposalRequest
	built    chan buildDone
	forward  chan forwarding
	ingest   chan MessageBatch
	serve    chan syncServe
}

// loopInput is something the receive goroutine hands the consensus loop.
type loopInput struct {
	from types.ValidatorIndex
	msg  consensus.Message // a consensus message, decoded and ValidateBasic'd
	sync *SyncResponse     // or a block-sync response
}

type syncServe struct {
	from types.ValidatorIndex
	req  SyncRequest
}

// forwarding is a group of admitted messages for one member's mempool.
type forwarding struct {
	to   types.ValidatorIndex
	msgs []types.Message
}

type buildDone struct {
	ready consensus.ProposalReady
	err   error
}

// Status is a snapshot of a node's position, for the API and tests.
type Status struct {
	Chain  types.ChainID
	Member types.ValidatorIndex
	// Head is the committed head: every height up to it is durable.
	Head          types.Height
	HeadHash      types.Hash
	StateRoot     types.Hash
	HeadTimestamp time.Time
	// ConsensusHeight and Round are where the consensus core stands.
	ConsensusHeight types.Height
	Round           types.Round
	Step            string
	Leader          types.ValidatorIndex
	MempoolSize     int
	GenesisHash     types.Hash
	PeerID          netq.PeerID
}

// New checks the options, loads the chain state from the store (writing the
// genesis block into an empty one) and the consensus core from its last
// persisted state. It starts nothing.
func New(opts Options) (*Node, error) {
	if opts.Genesis == nil || opts.Transport == nil || opts.DB == nil || opts.Key.BLS == nil {
		return nil, errors.New("driver: genesis, transport, store and key are required")
	}
	cfg := opts.Config
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("driver: config: %w", err)
	}
	gen := opts.Genesis
	self, ok := gen.MemberOf(opts.Key.BLS.PublicKey())
	if !ok {
		return nil, fmt.Errorf("driver: %w: bls key %x", ErrNotMember, opts.Key.BLS.PublicKey().Bytes())
	}
	if gen.Committee[self].PeerID != opts.Key.Identity.PeerID() {
		return nil, fmt.Errorf("driver: %w: member %d has peer id %s in the genesis, the key file gives %s",
			ErrNotMember, self, gen.Committee[self].PeerID, opts.Key.Identity.PeerID())
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
	log = log.With("member", int(self))
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("driver: metrics: %w", err)
	}
	if err := reg.Register(netq.NewCollector("thinkey", opts.Transport)); err != nil {
		return nil, fmt.Errorf("driver: metrics: %w", err)
	}
	rnd := opts.Random
	if rnd == nil {
		rnd = rand.Reader
	} else {
		rnd = &lockedReader{r: rnd}
	}
	state, err := openChainState(opts.DB, gen)
	if err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	pool, err := mempool.New(mempool.FromConfig(cfg.Mempool, gen.Chain.ID), state, reg)
	if err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	n := &Node{
		cfg:      cfg,
		gen:      gen,
		chain:    gen.Chain.ID,
		self:     self,
		key:      opts.Key,
		tr:       opts.Transport,
		db:       opts.DB,
		state:    state,
		pool:     pool,
		log:      log,
		reg:      reg,
		m:        m,
		rnd:      rnd,
		cache:    newResultCache(),
		genHash:  genHash,
		addrs:    opts.PeerAddresses,
		indexOf:  map[netq.PeerID]types.ValidatorIndex{},
		inbox:    make(chan loopInput, 256),
		jobs:     make(chan verifyJob, 64),
		verified: make(chan verifyDone, 1024),
		builds:   make(chan consensus.ProposalRequest, 1),
		built:    make(chan buildDone, 1),
		forward:  make(chan forwarding, 1024),
		ingest:   make(chan MessageBatch, 64),
		serve:    make(chan syncServe, 16),
	}
	n.env = exec.Env{Runner: workerRunner{workers: cfg.Accel.VerifyWorkers}, Randomness: rnd}
	n.ver = &verifier{pks: gen.PublicKeys(), rnd: rnd, state: state, env: n.env, cache: n.cache, wallNow: time.Now}
	n.lastHeard = make([]atomic.Int64, len(gen.Committee))
	for i, mem := range gen.Committee {
		n.members = append(n.members, mem.PeerID)
		n.indexOf[mem.PeerID] = types.ValidatorIndex(i)
	}
	n.publishStatus(nil)
	return n, nil
}

// Registry returns the node's metrics registry.
func (n *Node) Registry() *prometheus.Registry { return n.reg }

// Run runs the node until ctx ends or a fatal error (a store that cannot
// write, a decided block that does not verify) stops it. It returns after
// every goroutine it started has exited; the caller then closes the
// transport and the store.
func (n *Node) Run(ctx context.Context) error {
	if !n.running.CompareAndSwap(false, true) {
		return errors.New("driver: node already running")
	}
	defer n.running.Store(false)
	for i, mem := range n.gen.Committee {
		if types.ValidatorIndex(i) == n.self {
			continue
		}
		addr := mem.Address
		if a, ok := n.addrs[mem.PeerID]; ok {
			addr = a
		}
		if err := n.tr.AddPeer(mem.PeerID, addr); err != nil {
			return fmt.Errorf("driver: add peer %d at %s: %w", i, addr, err)
		}
	}
	core, slots, err := n.newCore()
	if err != nil {
		return err
	}
	n.start = time.Now()
	n.startedNanos.Store(n.start.UnixNano())
	n.lastLoop.Store(n.start.UnixNano())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	spawn := func(name string, fn func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx)
			n.log.Debug("goroutine stopped", "name", name)
		}()
	}
	spawn("receive", n.receiveLoop)
	for range n.cfg.Accel.VerifyWorkers {
		spawn("verify", n.verifyLoop)
	}
	spawn("executor", n.executorLoop)
	spawn("forward", n.forwardLoop)
	spawn("ingest", n.ingestLoop)
	spawn("sync-serve", n.serveLoop)
	head, _ := n.state.Head()
	n.log.Info("node started", "chain", n.chain, "head", head.Height, "peer_id", n.key.Identity.PeerID().Short(),
		"committee", len(n.members), "genesis", n.genHash.String()[:16])
	err = n.consensusLoop(ctx, core, slots)
	cancel()
	wg.Wait()
	if err != nil {
		n.log.Error("node stopped", "err", err)
		return err
	}
	n.log.Info("node stopped")
	return nil
}

// newCore restores the consensus core from the persisted state. The state is
// written in the same batch as every commit, so it names head+1; a state for
// an older height (a store written before the state was) starts the next
// height afresh, which is safe because nothing of a height is sent before
// the state holding it is durable.
func (n *Node) newCore() (*consensus.Core, keptSlots, error) {
	head, _ := n.state.Head()
	next := types.Height(head.Height + 1)
	state := consensus.InitialState(n.chain, next)
	ps, slots, found, err := loadConsensusState(n.db, n.chain)
	if err != nil {
		return nil, slots, fmt.Errorf("driver: %w", err)
	}
	switch {
	case !found:
	case ps.Height == next:
		state = ps
	case ps.Height > next:
		return nil, slots, fmt.Errorf("driver: consensus state is at height %d, the chain only at %d: %w", ps.Height, head.Height, storage.ErrCorruption)
	}
	sk := n.key.BLS
	core, err := consensus.New(consensus.Config{
		Chain:            n.chain,
		Self:             n.self,
		CommitteeSize:    len(n.gen.Committee),
		Signer:           consensus.BLSSigner{Key: sk},
		Aggregator:       consensus.BLSAggregator{},
		ProposalTimeout:  n.cfg.Consensus.ProposalTimeout.Duration,
		RoundTimeout:     n.cfg.Consensus.RoundTimeout.Duration,
		TimeoutIncrement: n.cfg.Consensus.TimeoutIncrement.Duration,
	}, state)
	if err != nil {
		return nil, slots, fmt.Errorf("driver: consensus: %w", err)
	}
	return core, slots, nil
}

// now is the time base of the core's events: monotonic time since Run.
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
