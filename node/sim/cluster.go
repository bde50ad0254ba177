package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// ConsensusConfig configures a simulated committee running
// node/consensus cores (see NewConsensusCluster). Start from
// DefaultConsensusConfig.
type ConsensusConfig struct {
	// Seed determines every random choice of the run.
	Seed uint64
	// Members is the committee size n.
	Members int
	// Chain is the chain the committee decides.
	Chain types.ChainID
	// Scheme is the signature scheme; Keys, when set, is a keyring of that
	// scheme and size to reuse (BLS key generation is not free).
	Scheme SignatureScheme
	Keys   *Keyring
	// Costs is the virtual CPU charged for the members' work.
	Costs CPUCosts
	// The consensus timeouts (consensus.Config).
	ProposalTimeout, RoundTimeout, TimeoutIncrement time.Duration
	// BlockBodySize is the size in bytes of the random body of each block.
	BlockBodySize int
	// BlockInterval paces the application: a leader is handed its block no
	// sooner than BlockInterval after it committed the height before
	// (zero: at once). It must be below ProposalTimeout.
	BlockInterval time.Duration
	// Network is the packet model.
	Network NetworkConfig
	// Faults is the fault plan applied to the world (the zero plan: none).
	// Its HealBy ends the safety phase, and random loss ends with it: after
	// the network heals every message sent arrives (in production the
	// transport retransmits), which liveness needs; duplication and
	// reordering go on.
	Faults FaultPlan
	// Byzantine lists the Byzantine members, at most f.
	Byzantine []ByzantineMember
	// CheckInvariants runs the core's CheckInvariants after every event
	// (tests do; benchmarks of large committees do not).
	CheckInvariants bool
	// Trace, when set, receives the world's event trace.
	Trace io.Writer
	// MaxEvents bounds the world's events (zero: no bound).
	MaxEvents uint64
}

// DefaultConsensusConfig returns a committee of n members on the default
// LAN-like network, stand-in signatures at the default costs, timeouts of
// 1 s (proposal) and 2 s (round) growing by 500 ms a round, 256-byte block
// bodies, no fault and no Byzantine member.
func DefaultConsensusConfig(n int) ConsensusConfig {
	return ConsensusConfig{
		Members:          n,
		Chain:            1,
		Scheme:           SchemeStandIn,
		Costs:            DefaultCPUCosts(),
		ProposalTimeout:  time.Second,
		RoundTimeout:     2 * time.Second,
		TimeoutIncrement: 500 * time.Millisecond,
		BlockBodySize:    256,
		Network:          DefaultNetworkConfig(),
		CheckInvariants:  true,
	}
}

// Validate reports every problem of the configuration at once.
func (c ConsensusConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: consensus cluster: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Members < 1 || c.Members > types.MaxCommitteeSize {
		bad("members %d not in 1..%d", c.Members, types.MaxCommitteeSize)
	}
	if c.Scheme != SchemeStandIn && c.Scheme != SchemeBLS {
		bad("unknown signature scheme %v", c.Scheme)
	}
	if c.Keys != nil && (c.Keys.Scheme() != c.Scheme || c.Keys.Size() != c.Members) {
		bad("keyring of %d %v keys for %d %v members", c.Keys.Size(), c.Keys.Scheme(), c.Members, c.Scheme)
	}
	if c.BlockBodySize < 1 || c.BlockBodySize > consensus.MaxBlockBodySize {
		bad("block body size %d not in 1..%d", c.BlockBodySize, consensus.MaxBlockBodySize)
	}
	if c.BlockInterval < 0 || (c.ProposalTimeout > 0 && c.BlockInterval >= c.ProposalTimeout) {
		bad("block interval %v not in [0, proposal timeout %v)", c.BlockInterval, c.ProposalTimeout)
	}
	if c.Faults.HealBy < 0 {
		bad("fault plan heal-by %v is negative", c.Faults.HealBy)
	}
	errs = append(errs, c.Costs.Validate(), c.Network.Validate())
	if c.Members >= 1 && c.Members <= types.MaxCommitteeSize {
		errs = append(errs, validateByzantine(c.Byzantine, c.Members))
	}
	cc := consensus.Config{Chain: c.Chain, CommitteeSize: max(c.Members, 1), Signer: standInSigner{}, Aggregator: xorAggregator{},
		ProposalTimeout: c.ProposalTimeout, RoundTimeout: c.RoundTimeout, TimeoutIncrement: c.TimeoutIncrement,
		MaxFutureMessagesPerMember: consensus.DefaultMaxFutureMessagesPerMember}
	if c.ProposalTimeout <= 0 || c.RoundTimeout <= 0 || c.TimeoutIncrement <= 0 {
		bad("timeouts must be positive (proposal %v, round %v, increment %v)", c.ProposalTimeout, c.RoundTimeout, c.TimeoutIncrement)
	} else if err := cc.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// roundTimeout is the round timeout of round r.
func (c *ConsensusConfig) roundTimeout(r types.Round) time.Duration {
	return c.RoundTimeout + time.Duration(r)*c.TimeoutIncrement
}

// ConsensusCluster is a committee of simulated members, each a
// consensus.Core driven through consensus.Apply, on one World. A member's
// persisted state (the encoded PersistentState and its committed blocks)
// survives crashes; its core is dropped on a crash and rebuilt from the
// persisted bytes on restart. The cluster checks the run as it goes (see
// the package documentation, "Consensus runs").
type ConsensusCluster struct {
	cfg     ConsensusConfig
	world   *World
	keys    *Keyring
	th      consensus.Thresholds
	members []*member
	obs     *observer

	// livenessTarget and livenessDeadline are set when the liveness phase
	// of RunConsensus starts.
	livenessTarget   types.Height
	livenessDeadline time.Duration

	// watch is the height RunUntilHeight waits for, and behind how many
	// honest members have not committed it: kept up to date on every
	// commit, so the run's stop condition costs nothing per event.
	watch  types.Height
	behind int
}

// NewConsensusCluster builds the committee on a new world, with the fault
// plan scheduled. Nothing runs until the world does.
func NewConsensusCluster(cfg ConsensusConfig) (*ConsensusCluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	keys := cfg.Keys
	if keys == nil {
		var err error
		if keys, err = NewKeyring(cfg.Scheme, cfg.Members); err != nil {
			return nil, fmt.Errorf("consensus cluster: %w", err)
		}
	}
	w, err := NewWorld(WorldConfig{Seed: cfg.Seed, Network: cfg.Network, Trace: cfg.Trace, MaxEvents: cfg.MaxEvents})
	if err != nil {
		return nil, fmt.Errorf("consensus cluster: %w", err)
	}
	c := &ConsensusCluster{cfg: cfg, world: w, keys: keys, th: consensus.ThresholdsFor(cfg.Members)}
	c.obs = newObserver(c)
	byz := make(map[types.ValidatorIndex]ByzantineMember)
	for _, b := range cfg.Byzantine {
		byz[b.Member] = b
	}
	for i := range cfg.Members {
		idx := types.ValidatorIndex(i)
		m := &member{cl: c, index: idx, byz: byz[idx], tipLinks: []types.Hash{genesisLink(cfg.Chain)}}
		m.id = w.AddNode(m)
		m.rng = w.Rand(m.id)
		m.appRand = subStream(m.rng)
		var seed [32]byte
		for j := 0; j < len(seed); j += 8 {
			binary.LittleEndian.PutUint64(seed[j:], m.rng.Uint64())
		}
		m.signer = &countingSigner{inner: keys.Signer(idx), count: &m.signed}
		m.aggregator = &countingAggregator{inner: keys.Aggregator(), count: &m.aggregated, sigs: &m.aggregatedSigs}
		m.verifier = NewVerifier(keys, cfg.Costs, rand.NewChaCha8(seed), m.blockValid)
		c.members = append(c.members, m)
	}
	if err := cfg.Faults.Apply(w); err != nil {
		return nil, fmt.Errorf("consensus cluster: %w", err)
	}
	if cfg.Faults.HealBy > 0 {
		w.Schedule(cfg.Faults.HealBy, func() {
			net := w.Network()
			net.LossProbability = 0
			_ = w.SetNetwork(net) // a valid network with less loss is valid
		})
	}
	return c, nil
}

// World returns the cluster's world.
func (c *ConsensusCluster) World() *World { return c.world }

// Keys returns the committee's keyring.
func (c *ConsensusCluster) Keys() *Keyring { return c.keys }

// Config returns the cluster's configuration.
func (c *ConsensusCluster) Config() ConsensusConfig { return c.cfg }

// Honest reports whether member i is not Byzantine.
func (c *ConsensusCluster) Honest(i types.ValidatorIndex) bool {
	return int64(i) < int64(len(c.members)) && c.members[i].byz.Kind == 0
}

// Committed returns the decisions member i committed, heights 1, 2, ... in
// order (they survive its crashes). The slice is shared: do not modify it.
func (c *ConsensusCluster) Committed(i types.ValidatorIndex) []consensus.Decision {
	if int64(i) >= int64(len(c.members)) {
		return nil
	}
	return c.members[i].chain
}

// Status returns member i's core status, and false while it is down.
func (c *ConsensusCluster) Status(i types.ValidatorIndex) (consensus.Status, bool) {
	if int64(i) >= int64(len(c.members)) || c.members[i].core == nil {
		return consensus.Status{}, false
	}
	return c.members[i].core.Status(), true
}

// Work returns member i's signature work so far.
func (c *ConsensusCluster) Work(i types.ValidatorIndex) SignatureWork {
	if int64(i) >= int64(len(c.members)) {
		return SignatureWork{}
	}
	return c.members[i].work()
}

// HonestHeight returns the lowest height every honest member has
// committed.
func (c *ConsensusCluster) HonestHeight() types.Height {
	var low types.Height
	first := true
	for _, m := range c.members {
		if m.byz.Kind != 0 {
			continue
		}
		if h := types.Height(len(m.chain)); first || h < low {
			low, first = h, false
		}
	}
	return low
}

// RunUntilHeight runs until every honest member has committed height h, or
// fails with an error wrapping ErrTimeLimit at virtual time limit. It stops
// early, with an error wrapping ErrCheckFailed, at the first safety
// violation.
func (c *ConsensusCluster) RunUntilHeight(h types.Height, limit time.Duration) error {
	c.watch, c.behind = h, 0
	for _, m := range c.members {
		if m.byz.Kind == 0 && types.Height(len(m.chain)) < h {
			c.behind++
		}
	}
	err := c.world.RunUntil(func() bool { return c.behind == 0 || c.obs.failed() }, limit)
	if verr := c.Violations(); verr != nil {
		return verr
	}
	return err
}

// Run runs the world until virtual time until, stopping early at the first
// safety violation.
func (c *ConsensusCluster) Run(until time.Duration) error {
	err := c.world.RunUntil(c.obs.failed, until)
	if verr := c.Violations(); verr != nil {
		return verr
	}
	if errors.Is(err, ErrTimeLimit) || errors.Is(err, ErrStalled) {
		return c.world.Run(until) // nothing was left before until
	}
	return err
}

// Violations returns the safety, validity and evidence violations seen so
// far, wrapped in ErrCheckFailed, or nil.
func (c *ConsensusCluster) Violations() error { return c.obs.err() }

// ---------------------------------------------------------------- member

// member is one simulated committee member: the NodeHandler the world
// drives and the consensus.Effects its core's Ready is applied through.
type member struct {
	cl    *ConsensusCluster
	id    NodeID
	index types.ValidatorIndex
	byz   ByzantineMember

	// Durable: survives crashes.
	disk  []byte               // the last persisted PersistentState encoding
	chain []consensus.Decision // committed decisions, heights 1..len
	// tipLinks[h] is the chain link of height h (tipLinks[0]: genesis).
	tipLinks []types.Hash

	// Volatile: dropped on a crash.
	core        *consensus.Core
	incarnation uint64
	timers      [4]consensus.Timer // the armed timer of each kind
	verifyQ     []consensus.VerifyRequest
	proposalQ   []consensus.ProposalRequest
	held        []heldMessage
	nextHeld    uint64
	lastSync    time.Duration
	synced      bool
	// committedAt is when the member last committed, and waiting the
	// proposal request held back until BlockInterval after it.
	committedAt time.Duration
	waiting     *consensus.ProposalRequest
	stopped     bool // a silent member that stopped

	// The handler's clock: the event time and the CPU charged since.
	now, busy time.Duration

	rng, appRand *rand.Rand
	signer       *countingSigner
	aggregator   *countingAggregator
	verifier     *Verifier

	// Signatures made and certificates formed, and how much of it was
	// charged already.
	signed, aggregated, aggregatedSigs uint64
	chargedSigned, chargedAggSigs      uint64
}

// countingSigner counts the signatures a member makes, so that they are
// charged as CPU.
type countingSigner struct {
	inner consensus.Signer
	count *uint64
}

func (s *countingSigner) Sign(msg []byte) [types.BLSSignatureSize]byte {
	*s.count++
	return s.inner.Sign(msg)
}

// countingAggregator counts the certificates a member forms.
type countingAggregator struct {
	inner       consensus.Aggregator
	count, sigs *uint64
}

func (a *countingAggregator) Aggregate(sigs [][types.BLSSignatureSize]byte) ([types.BLSSignatureSize]byte, error) {
	*a.count++
	*a.sigs += uint64(len(sigs))
	return a.inner.Aggregate(sigs)
}

func (m *member) work() SignatureWork {
	w := m.verifier.Work()
	w.Signed, w.Aggregated = m.signed, m.aggregated
	return w
}

// eventTime is the time of the work the handler does now: the event's time
// plus the CPU charged since.
func (m *member) eventTime() time.Duration { return m.now + m.busy }

func (m *member) charge(d time.Duration) {
	if d <= 0 {
		return
	}
	m.busy += d
	m.cl.world.Charge(m.id, d)
}

// enter starts a handler call at now; it reports false when the member
// does nothing (a silent member that stopped).
func (m *member) enter(now time.Duration) bool {
	m.now, m.busy = now, 0
	return !m.silentAt(now)
}

func (m *member) consensusConfig() consensus.Config {
	cfg := m.cl.cfg
	return consensus.Config{
		Chain: cfg.Chain, Self: m.index, CommitteeSize: cfg.Members,
		Signer: m.signer, Aggregator: m.aggregator,
		ProposalTimeout: cfg.ProposalTimeout, RoundTimeout: cfg.RoundTimeout, TimeoutIncrement: cfg.TimeoutIncrement,
	}
}

// boot builds the core from the persisted state and starts it.
func (m *member) boot() {
	state := consensus.InitialState(m.cl.cfg.Chain, 1)
	if m.disk != nil {
		s, err := consensus.DecodePersistentState(m.disk)
		if err != nil {
			m.cl.obs.violate("member %d: decode its persisted state: %v", m.index, err)
			return
		}
		state = s
	}
	core, err := consensus.New(m.consensusConfig(), state)
	if err != nil {
		m.cl.obs.violate("member %d: restart from its persisted state: %v", m.index, err)
		return
	}
	m.core = core
	m.handle(consensus.Start{Now: m.eventTime()})
}

// OnStart implements NodeHandler.
func (m *member) OnStart(now time.Duration) {
	if m.enter(now) {
		m.boot()
	}
}

// OnRestart implements NodeHandler.
func (m *member) OnRestart(now time.Duration) {
	if m.enter(now) {
		m.incarnation++
		m.boot()
	}
}

// OnCrash implements NodeHandler.
func (m *member) OnCrash(time.Duration) { m.dropVolatile() }

func (m *member) dropVolatile() {
	m.core = nil
	m.timers = [4]consensus.Timer{}
	m.verifyQ, m.proposalQ, m.held = nil, nil, nil
	m.synced, m.waiting, m.committedAt = false, nil, 0
}

// OnTimer implements NodeHandler.
func (m *member) OnTimer(now time.Duration, id uint64) {
	if !m.enter(now) || m.core == nil {
		return
	}
	if id >= delayTimerBase {
		m.release(id)
		return
	}
	if id == blockTimerID {
		if req := m.waiting; req != nil {
			m.waiting = nil
			m.proposalQ = append(m.proposalQ, *req)
			_ = m.handle(nil)
		}
		return
	}
	if id >= uint64(len(m.timers)) || m.timers[id].Kind == 0 {
		return
	}
	t := m.timers[id]
	m.timers[id] = consensus.Timer{}
	m.handle(consensus.TimerFired{Now: m.eventTime(), Timer: t})
}

// OnMessage implements NodeHandler.
func (m *member) OnMessage(now time.Duration, from NodeID, payload []byte) {
	if !m.enter(now) || m.core == nil || len(payload) == 0 {
		return
	}
	m.charge(m.cl.cfg.Costs.Message)
	switch payload[0] {
	case syncRequestTag:
		m.onSyncRequest(from, payload)
		return
	case syncResponseTag:
		m.onSyncResponse(from, payload)
		return
	}
	msg, err := consensus.DecodeMessage(payload)
	if err != nil {
		m.cl.obs.violate("member %d: undecodable message from %d: %v", m.index, from, err)
		return
	}
	m.cl.obs.onDelivered(m, types.ValidatorIndex(from), msg)
	m.handleMessage(types.ValidatorIndex(from), msg)
}

// handleMessage steps a message through the core; a message of a height
// more than one ahead asks its sender for the decisions in between (the
// simulation twin of the shell's block sync).
func (m *member) handleMessage(from types.ValidatorIndex, msg consensus.Message) {
	if err := m.handle(consensus.MessageReceived{Now: m.eventTime(), From: from, Msg: msg}); errors.Is(err, consensus.ErrFuture) {
		m.requestSync(from)
	}
}

// blockTimerID is the world timer of a proposal request held back by
// BlockInterval; consensus timers use their kind (1..3) as ID.
const blockTimerID = 8

// handle steps one event (none when ev is nil) and then answers, one at a time and in order,
// every verification and block request the core made, charging their CPU,
// until the core waits for the network or a timer. It returns the error of
// the first step.
func (m *member) handle(ev consensus.Event) error {
	var err error
	if ev != nil {
		err = m.stepCore(ev)
	}
	for guard := 0; m.core != nil && (len(m.verifyQ) > 0 || len(m.proposalQ) > 0); guard++ {
		if guard > 1_000_000 {
			m.cl.obs.violate("member %d: requests never stop", m.index)
			return err
		}
		if len(m.verifyQ) > 0 {
			req := m.verifyQ[0]
			m.verifyQ = m.verifyQ[1:]
			res, cost := m.verifier.Answer(req)
			m.charge(cost)
			m.cl.obs.onVerified(m, &req, &res)
			res.Now = m.eventTime()
			_ = m.stepCore(res)
			continue
		}
		req := m.proposalQ[0]
		m.proposalQ = m.proposalQ[1:]
		if ready := m.committedAt + m.cl.cfg.BlockInterval; m.eventTime() < ready {
			m.waiting = &req
			m.cl.world.SetTimer(m.id, ready, blockTimerID)
			continue
		}
		parent, ok := m.linkAt(req.Height - 1)
		if !ok {
			continue // not the member's next height: the core will time out
		}
		block := buildBlock(m.cl.cfg.Chain, req.Height, req.Round, m.index, parent, m.eventTime(), m.cl.cfg.BlockBodySize, m.appRand, m.invalidBlocks())
		_ = m.stepCore(consensus.ProposalReady{Now: m.eventTime(), Height: req.Height, Round: req.Round, Block: block})
	}
	return err
}

// stepCore steps the core once, charges what it signed and aggregated,
// checks its invariants and applies its Ready.
func (m *member) stepCore(ev consensus.Event) error {
	err := m.core.Step(ev)
	costs := &m.cl.cfg.Costs
	m.charge(time.Duration(m.signed-m.chargedSigned) * costs.Sign)
	m.charge(time.Duration(m.aggregatedSigs-m.chargedAggSigs) * costs.AggregatePerSignature)
	m.chargedSigned, m.chargedAggSigs = m.signed, m.aggregatedSigs
	if errors.Is(err, consensus.ErrInvariant) {
		m.cl.obs.violate("member %d: %v", m.index, err)
	}
	if m.cl.cfg.CheckInvariants {
		if ierr := m.core.CheckInvariants(); ierr != nil {
			m.cl.obs.violate("member %d after %T: %v", m.index, ev, ierr)
		}
	}
	if m.core.HasReady() {
		if aerr := consensus.Apply(m.core.Ready(), m); aerr != nil {
			m.cl.obs.violate("member %d: %v", m.index, aerr)
			return err
		}
		m.core.Advance()
	}
	return err
}

// linkAt returns the chain link of height h of the member's chain, and
// false when it has not committed h.
func (m *member) linkAt(h types.Height) (types.Hash, bool) {
	if uint64(h) >= uint64(len(m.tipLinks)) {
		return types.Hash{}, false
	}
	return m.tipLinks[h], true
}

// blockValid is the member's application check of a proposed block.
func (m *member) blockValid(b *consensus.Block) bool {
	parent, ok := m.linkAt(b.Header.Height - 1)
	return ok && b.Header.Height >= 1 && blockValid(b, parent, m.cl.cfg.Members)
}

// ---------------------------------------------------------------- Effects

// Persist implements consensus.Effects: the state's encoding and the
// committed decisions are the member's disk, which a crash keeps.
func (m *member) Persist(state *consensus.PersistentState, commits []consensus.Decision) error {
	if state != nil {
		b, err := consensus.EncodePersistentState(state)
		if err != nil {
			return fmt.Errorf("encode persistent state: %w", err)
		}
		m.disk = b
	}
	for i := range commits {
		d := commits[i]
		if d.Height() != types.Height(len(m.chain))+1 {
			return fmt.Errorf("commit of height %d after height %d", d.Height(), len(m.chain))
		}
		m.tipLinks = append(m.tipLinks, chainLink(m.tipLinks[len(m.tipLinks)-1], &d))
		m.chain = append(m.chain, d)
		if m.byz.Kind == 0 && d.Height() == m.cl.watch {
			m.cl.behind--
		}
	}
	m.charge(m.cl.cfg.Costs.Persist)
	return nil
}

// Send implements consensus.Effects.
func (m *member) Send(env consensus.Envelope) {
	if m.byz.Kind != 0 && m.byzantineSend(env) {
		return
	}
	m.transmit(env.To, env.Msg)
}

// transmit encodes msg and hands it to the world.
func (m *member) transmit(to types.ValidatorIndex, msg consensus.Message) {
	payload, err := consensus.EncodeMessage(msg)
	if err != nil {
		m.cl.obs.violate("member %d: encode %v: %v", m.index, msg.Kind(), err)
		return
	}
	m.cl.obs.onTransmit(m, msg)
	if to == consensus.Broadcast {
		m.cl.world.Broadcast(m.id, payload)
		return
	}
	m.cl.world.Send(m.id, NodeID(to), payload)
}

// Commit implements consensus.Effects.
func (m *member) Commit(d consensus.Decision) {
	m.committedAt = m.eventTime()
	m.cl.obs.onCommit(m, &d)
}

// Evidence implements consensus.Effects.
func (m *member) Evidence(ev consensus.Evidence) { m.cl.obs.onEvidence(m, &ev) }

// Verify implements consensus.Effects: requests are answered in order once
// the Ready is applied (see handle).
func (m *member) Verify(req consensus.VerifyRequest) { m.verifyQ = append(m.verifyQ, req) }

// RequestProposal implements consensus.Effects.
func (m *member) RequestProposal(req consensus.ProposalRequest) {
	m.proposalQ = append(m.proposalQ, req)
}

// SetTimer implements consensus.Effects: one world timer per timer kind, so
// a round's timer replaces the previous round's (which would be stale).
func (m *member) SetTimer(t consensus.TimerSetting) {
	k := uint64(t.Timer.Kind)
	if k == 0 || k >= uint64(len(m.timers)) {
		m.cl.obs.violate("member %d: timer of unknown kind %v", m.index, t.Timer.Kind)
		return
	}
	m.timers[k] = t.Timer
	m.cl.world.SetTimer(m.id, t.Deadline, k)
}

// ---------------------------------------------------------------- block sync

// The simulation twin of the shell's block sync, for members more than one
// height behind (the core catches up one height by itself). Its messages
// share the network with consensus messages and are told apart by their
// first byte, which no consensus message kind (0x10..0x14) uses:
//
//	sync request, 9 bytes:
//	+------+------------------+
//	| 0x30 | height (8 B, BE) |   the first height the sender lacks
//	+------+------------------+
//
//	sync response:
//	+------+-----------------+-------------------+-----------------+-----
//	| 0x31 | count (4 B, BE) | length (4 B, BE)  | Decision        | ...
//	+------+-----------------+-------------------+-----------------+-----
//	                          `---- count times, heights in order ----'
//
// A response holds at most maxSyncBatch consecutive decisions from the
// requested height; each is checked by the core like any Decision (its
// certificate is the proof), so a sync peer need not be trusted.
const (
	syncRequestTag  = 0x30
	syncResponseTag = 0x31
	maxSyncBatch    = 32
)

// requestSync asks peer for the decisions the member lacks, at most once
// per proposal timeout.
func (m *member) requestSync(peer types.ValidatorIndex) {
	if m.synced && m.eventTime()-m.lastSync < m.cl.cfg.ProposalTimeout {
		return
	}
	m.synced, m.lastSync = true, m.eventTime()
	req := binary.BigEndian.AppendUint64([]byte{syncRequestTag}, uint64(len(m.chain))+1)
	m.cl.world.Send(m.id, NodeID(peer), req)
}

func (m *member) onSyncRequest(from NodeID, payload []byte) {
	if len(payload) != 9 {
		return
	}
	h := binary.BigEndian.Uint64(payload[1:])
	if h == 0 || h > uint64(len(m.chain)) {
		return
	}
	batch := m.chain[h-1 : min(uint64(len(m.chain)), h-1+maxSyncBatch)]
	out := binary.BigEndian.AppendUint32([]byte{syncResponseTag}, uint32(len(batch)))
	for i := range batch {
		enc, err := batch[i].AppendBinary(nil)
		if err != nil {
			m.cl.obs.violate("member %d: encode decision %d: %v", m.index, batch[i].Height(), err)
			return
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(enc)))
		out = append(out, enc...)
	}
	m.cl.world.Send(m.id, from, out)
}

func (m *member) onSyncResponse(from NodeID, payload []byte) {
	if len(payload) < 5 {
		return
	}
	count := binary.BigEndian.Uint32(payload[1:])
	rest := payload[5:]
	for range count {
		if len(rest) < 4 || m.core == nil {
			return
		}
		size := binary.BigEndian.Uint32(rest)
		if uint64(size) > uint64(len(rest)-4) {
			return
		}
		d, err := consensus.DecodeDecision(rest[4 : 4+size])
		rest = rest[4+size:]
		if err != nil {
			return
		}
		if d.Height() != types.Height(len(m.chain))+1 {
			continue
		}
		m.charge(m.cl.cfg.Costs.Message)
		_ = m.handle(consensus.MessageReceived{Now: m.eventTime(), From: types.ValidatorIndex(from), Msg: d})
	}
}
