package driver

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// runner runs one chain of the node: its consensus core and loop, its
// verification workers, block sync, and the chain's application (app):
// transaction execution with relays (txApp) or digest recording (rootApp).
// Every runner of a process shares the Node's transport and store.
type runner struct {
	n     *Node
	chain types.ChainID
	self  types.ValidatorIndex
	// members are the committee's peer IDs by validator index; nodes their
	// genesis node indices; indexOf the inverse.
	members []netq.PeerID
	nodes   []int
	indexOf map[netq.PeerID]types.ValidatorIndex
	app     app
	log     *slog.Logger
	m       *metrics
	ver     *verifier
	// pinned runners pin their consensus loop and builder to the
	// configured cores (the transaction chain's, the hot one).
	pinned bool

	status     atomic.Pointer[Status]
	lastLoop   atomic.Int64
	syncTarget atomic.Uint64

	// Channels between the goroutines (see doc.go, "Goroutines").
	raw      chan inbound
	inbox    chan loopInput
	jobs     chan verifyJob
	verified chan verifyDone
	builds   chan consensus.ProposalRequest
	built    chan buildDone
	serve    chan syncServe
}

// newRunner builds the chain-independent part of chain's runner.
func newRunner(n *Node, chain types.ChainID) (*runner, error) {
	self, ok := n.gen.MemberOf(chain, n.self)
	if !ok {
		return nil, fmt.Errorf("%w: node %d is not in the committee of chain %d", ErrNotMember, n.self, chain)
	}
	c, _ := n.gen.Chain(chain)
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"chain": strconv.FormatUint(uint64(chain), 10)}, n.reg)
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	r := &runner{
		n:        n,
		chain:    chain,
		self:     self,
		nodes:    c.Committee,
		indexOf:  map[netq.PeerID]types.ValidatorIndex{},
		log:      n.log.With("chain", chain, "member", int(self)),
		m:        m,
		raw:      make(chan inbound, 256),
		inbox:    make(chan loopInput, 256),
		jobs:     make(chan verifyJob, 64),
		verified: make(chan verifyDone, 1024),
		builds:   make(chan consensus.ProposalRequest, 1),
		built:    make(chan buildDone, 1),
		serve:    make(chan syncServe, 16),
	}
	for i, node := range c.Committee {
		peer := n.gen.Nodes[node].PeerID
		r.members = append(r.members, peer)
		r.indexOf[peer] = types.ValidatorIndex(i)
	}
	r.ver = &verifier{pks: n.gen.PublicKeys(chain), rnd: n.rnd}
	return r, nil
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

type buildDone struct {
	ready consensus.ProposalReady
	err   error
}

// coreState is a restored consensus core with the kept-block slots its
// record occupies on disk.
type coreState struct {
	core  *consensus.Core
	slots keptSlots
}

// newCore restores the consensus core from the persisted state. The state is
// written in the same batch as every commit, so it names head+1; a state for
// an older height (a store written before the state was) starts the next
// height afresh, which is safe because nothing of a height is sent before
// the state holding it is durable.
func (r *runner) newCore() (*coreState, error) {
	head, _ := r.app.head()
	next := types.Height(head.Height + 1)
	state := consensus.InitialState(r.chain, next)
	ps, slots, found, err := loadConsensusState(r.n.db, r.chain)
	if err != nil {
		return nil, fmt.Errorf("driver: chain %d: %w", r.chain, err)
	}
	switch {
	case !found:
	case ps.Height == next:
		state = ps
	case ps.Height > next:
		return nil, fmt.Errorf("driver: chain %d: consensus state is at height %d, the chain only at %d: %w", r.chain, ps.Height, head.Height, storage.ErrCorruption)
	}
	cfg := r.n.cfg.Consensus
	core, err := consensus.New(consensus.Config{
		Chain:            r.chain,
		Self:             r.self,
		CommitteeSize:    len(r.members),
		Signer:           consensus.BLSSigner{Key: r.n.key.BLS},
		Aggregator:       consensus.BLSAggregator{},
		ProposalTimeout:  cfg.ProposalTimeout.Duration,
		RoundTimeout:     cfg.RoundTimeout.Duration,
		TimeoutIncrement: cfg.TimeoutIncrement.Duration,
	}, state)
	if err != nil {
		return nil, fmt.Errorf("driver: chain %d: consensus: %w", r.chain, err)
	}
	return &coreState{core: core, slots: slots}, nil
}

// spawn starts the runner's goroutines with the Node's spawner; an error
// returned by one stops the node.
func (r *runner) spawn(spawn func(string, func(context.Context) error), cs *coreState) {
	name := func(s string) string { return fmt.Sprintf("%s/%d", s, r.chain) }
	quiet := func(fn func(context.Context)) func(context.Context) error {
		return func(ctx context.Context) error { fn(ctx); return nil }
	}
	r.lastLoop.Store(time.Now().UnixNano())
	spawn(name("receive"), quiet(r.receiveLoop))
	workers := r.n.cfg.Accel.VerifyWorkers
	if !r.pinned {
		// The root chain verifies few and small blocks.
		workers = 1
	}
	for range workers {
		spawn(name("verify"), quiet(r.verifyLoop))
	}
	spawn(name("executor"), quiet(r.executorLoop))
	spawn(name("sync-serve"), quiet(r.serveLoop))
	r.app.spawn(spawn, name)
	spawn(name("consensus"), func(ctx context.Context) error { return r.consensusLoop(ctx, cs.core, cs.slots) })
}

// committeeSize returns the size of the chain's committee.
func (r *runner) committeeSize() int { return len(r.members) }
