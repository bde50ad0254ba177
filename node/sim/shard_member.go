package sim

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/mempool"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// World timers of a shard member besides the consensus timers (their kind,
// 1..3, is their ID) and the block-interval timer (blockTimerID).
const (
	parkTimerID   = 9  // the deadline of the earliest parked block check
	relayTimerID  = 10 // send the relays that are due
	recordTimerID = 11 // re-send records the recorder has not recorded
	followTimerID = 12 // ask the recorders for decisions when none came
	decideTimerID = 13 // send the deferred decision broadcasts that are due
)

// Periods of a shard member's background work.
const (
	relayTick             = 100 * time.Millisecond
	recordResendAfter     = time.Second
	followSyncAfter       = 500 * time.Millisecond
	maxRecordResend       = 64
	relayResendBase       = 2 * time.Second
	relayResendMax        = 8 * time.Second
	maxRecordPoolPerChild = 256
	// decisionDelay defers a Decision broadcast, as the node driver does:
	// it carries the whole block, and members deciding from the
	// confirmations (the normal path) do not need it.
	decisionDelay = 500 * time.Millisecond
)

// shardMember is one member of one chain's committee in a sharded network:
// the NodeHandler the world drives and the consensus.Effects its core's
// Ready is applied through, with the application of its chain's kind
// (transaction chain: node/exec; root or coordinator: node/rootchain) and
// a follower's view of every recorder chain above its own.
type shardMember struct {
	net   *ShardedNetwork
	com   *committee
	id    NodeID
	index types.ValidatorIndex

	// Durable: survives crashes (what the member persisted with its
	// decisions, in the same write).
	disk      []byte
	decisions []consensus.Decision
	// headers holds the chain's header of every committed height ([0]:
	// genesis; an EMPTY height's types.EmptyHeader), hashes their hashes.
	headers []types.Header
	hashes  []types.Hash
	// state and consumed are a transaction chain's committed accounts and
	// the relays its committed blocks consumed (with the height).
	state    *exec.MemState
	consumed map[types.Hash]types.Height
	// rstate is a recorder chain's committed state.
	rstate *rootchain.State
	// views are the recorder chains the member follows, nearest first.
	views       []*recorderView
	incarnation uint64

	// Volatile: dropped on a crash.
	core        *consensus.Core
	timers      [4]consensus.Timer
	verifyQ     []consensus.VerifyRequest
	proposalQ   []consensus.ProposalRequest
	parked      []parkedCheck
	committedAt time.Duration
	waiting     *consensus.ProposalRequest
	lastSync    time.Duration
	synced      bool
	// results are the blocks of the next height this member built or
	// checked, by hash; committed the result of a block being committed.
	results   map[types.Hash]*blockResult
	committed map[types.Height]*blockResult
	// commitTimes[h] is when the member committed height h in this
	// incarnation (zero: before it).
	commitTimes []time.Duration
	// Transaction chains.
	pool     *mempool.Pool
	inbox    *relay.Inbox
	pending  *relay.Pending
	awaiting []types.Height // committed heights with relays not yet confirmed
	senders  map[types.Hash][]NodeID
	// outq holds the packages due to be sent, oldest first, paced to the
	// relay bandwidth; queued holds the IDs in it, and the acknowledged
	// ones leave it.
	outq   []relay.Addressed
	queued map[types.Hash]bool
	// seenHeight is the highest height of a consensus message from each
	// member; deferred the Decision broadcasts waiting for decisionDelay.
	seenHeight []types.Height
	deferred   []deferredDecision
	// Recorder chains: the records offered by child chains.
	records    []rootchain.Record
	recordSeen map[recordKey]bool
	resends    uint64

	// The handler's clock: the event time and the CPU charged since.
	now, busy time.Duration

	rng        *rand.Rand
	envRand    io.Reader
	signer     *countingSigner
	aggregator *countingAggregator
	verifier   *Verifier

	signed, aggregated, aggregatedSigs uint64
	chargedSigned, chargedAggSigs      uint64

	stats MemberStats
}

// MemberStats counts what one member of a sharded network did.
type MemberStats struct {
	// Refused counts proposed blocks the member's check refused, and
	// RefusedReplays those refused because a relay input was already
	// consumed (relay.ErrConsumed).
	Refused, RefusedReplays int
	// Parked counts block checks put off because a relay's source was not
	// confirmed on the member's recorder view yet, and ParkedTimeouts those
	// refused when their deadline passed.
	Parked, ParkedTimeouts int
	// Replayed counts the consumed relays a replaying leader put in its
	// blocks.
	Replayed int
	// AckedConsumed counts packages of relays already consumed that
	// arrived again (a re-send, a duplicate) and were acknowledged at once.
	AckedConsumed int
}

// Add adds o to s.
func (s *MemberStats) Add(o MemberStats) {
	s.Refused += o.Refused
	s.RefusedReplays += o.RefusedReplays
	s.Parked += o.Parked
	s.ParkedTimeouts += o.ParkedTimeouts
	s.Replayed += o.Replayed
	s.AckedConsumed += o.AckedConsumed
}

// blockResult is what building or checking a block gave.
type blockResult struct {
	exec *exec.Result      // transaction chains
	root *rootchain.Result // recorder chains
}

// deferredDecision is a Decision broadcast waiting for decisionDelay.
type deferredDecision struct {
	due     time.Duration
	height  types.Height
	payload []byte
}

// parkedCheck is a block check waiting for the member's recorder view.
type parkedCheck struct {
	req      consensus.VerifyRequest
	deadline time.Duration
}

type recordKey struct {
	chain       types.ChainID
	height      types.Height
	header      types.Hash
	certificate types.Hash
}

// newShardMember returns member i of com at genesis.
func newShardMember(n *ShardedNetwork, com *committee, i types.ValidatorIndex) (*shardMember, error) {
	m := &shardMember{net: n, com: com, index: i}
	g := n.genesis[com.chain]
	m.headers = []types.Header{g}
	m.hashes = []types.Hash{g.Hash()}
	switch com.kind {
	case chains.Transaction:
		st, err := exec.NewMemState(com.accounts)
		if err != nil {
			return nil, fmt.Errorf("sharded network: chain %d: %w", com.chain, err)
		}
		m.state = st
		m.consumed = make(map[types.Hash]types.Height)
	default:
		st, err := rootchain.NewState(com.chain, n.topo, n.genesis)
		if err != nil {
			return nil, fmt.Errorf("sharded network: chain %d: %w", com.chain, err)
		}
		m.rstate = st
	}
	for _, r := range com.recorders {
		v, err := newRecorderView(n, r)
		if err != nil {
			return nil, err
		}
		m.views = append(m.views, v)
	}
	return m, nil
}

// seed derives the member's streams, once it has its node ID.
func (m *shardMember) seed() {
	w := m.net.world
	m.rng = w.Rand(m.id)
	m.envRand = rand.NewChaCha8(seedFrom(m.rng))
	m.signer = &countingSigner{inner: m.com.keys.Signer(m.index), count: &m.signed}
	m.aggregator = &countingAggregator{inner: m.com.keys.Aggregator(), count: &m.aggregated, sigs: &m.aggregatedSigs}
	m.verifier = NewVerifier(m.com.keys, m.net.cfg.Costs.Consensus, rand.NewChaCha8(seedFrom(m.rng)),
		func(*consensus.Block) bool { return false }) // blocks are checked by checkBlock
}

func (m *shardMember) cfg() *ShardConfig { return &m.net.cfg }

func (m *shardMember) costs() *ShardCosts { return &m.net.cfg.Costs }

func (m *shardMember) isTx() bool { return m.com.kind == chains.Transaction }

// height is the member's committed height.
func (m *shardMember) height() types.Height { return types.Height(len(m.decisions)) }

func (m *shardMember) eventTime() time.Duration { return m.now + m.busy }

func (m *shardMember) charge(d time.Duration) {
	if d <= 0 {
		return
	}
	m.busy += d
	m.net.world.Charge(m.id, d)
}

func (m *shardMember) enter(now time.Duration) { m.now, m.busy = now, 0 }

func (m *shardMember) violate(format string, args ...any) {
	m.net.obs.violate("chain %d member %d: "+format, append([]any{m.com.chain, m.index}, args...)...)
}

func (m *shardMember) consensusConfig() consensus.Config {
	cfg := m.cfg()
	return consensus.Config{
		Chain: m.com.chain, Self: m.index, CommitteeSize: m.com.size(),
		Signer: m.signer, Aggregator: m.aggregator,
		ProposalTimeout: cfg.ProposalTimeout, RoundTimeout: cfg.RoundTimeout, TimeoutIncrement: cfg.TimeoutIncrement,
	}
}

// boot builds the core from the persisted state and the volatile parts of
// the application from the durable ones, then starts the core.
func (m *shardMember) boot() {
	state := consensus.InitialState(m.com.chain, 1)
	if m.disk != nil {
		s, err := consensus.DecodePersistentState(m.disk)
		if err != nil {
			m.violate("decode its persisted state: %v", err)
			return
		}
		state = s
	}
	core, err := consensus.New(m.consensusConfig(), state)
	if err != nil {
		m.violate("restart from its persisted state: %v", err)
		return
	}
	m.core = core
	m.results = make(map[types.Hash]*blockResult)
	m.committed = make(map[types.Height]*blockResult)
	m.commitTimes = make([]time.Duration, len(m.headers))
	m.seenHeight = make([]types.Height, m.com.size())
	for _, v := range m.views {
		v.lastAdvance = m.eventTime()
	}
	if m.isTx() {
		m.bootTx()
	} else {
		m.recordSeen = make(map[recordKey]bool)
	}
	if len(m.views) > 0 {
		m.net.world.SetTimer(m.id, m.eventTime()+recordResendAfter, recordTimerID)
		m.net.world.SetTimer(m.id, m.eventTime()+followSyncAfter, followTimerID)
	}
	m.handle(consensus.Start{Now: m.eventTime()})
}

// bootTx builds a transaction member's mempool, inbox and pending relays:
// every committed block's relays are pending again until acknowledged.
func (m *shardMember) bootTx() {
	cfg := m.cfg()
	pool, err := mempool.New(mempool.Config{Chain: m.com.chain, MaxMessages: cfg.MempoolSize, MaxPerSender: max(cfg.Load.Window, 4)}, nonceSource{m}, nil)
	if err != nil {
		m.violate("mempool: %v", err)
		return
	}
	m.pool = pool
	m.inbox = relay.NewInbox(m.com.chain, m.net.topo, 0)
	m.pending = relay.NewPending(relay.PendingConfig{Base: relayResendBase, MaxBackoff: relayResendMax})
	m.senders = make(map[types.Hash][]NodeID)
	m.outq, m.queued = nil, make(map[types.Hash]bool)
	m.awaiting = m.awaiting[:0]
	none := types.Hash(merkle.EmptyRoot()) // the relay root of a block without outer relays
	for h := 1; h < len(m.headers); h++ {
		if d := &m.decisions[h-1]; d.Block != nil && m.headers[h].OuterRelayRoot != none {
			m.awaiting = append(m.awaiting, types.Height(h))
		}
	}
	m.releaseConfirmed()
}

// OnStart implements NodeHandler.
func (m *shardMember) OnStart(now time.Duration) {
	m.enter(now)
	m.boot()
}

// OnRestart implements NodeHandler.
func (m *shardMember) OnRestart(now time.Duration) {
	m.enter(now)
	m.incarnation++
	m.boot()
}

// OnCrash implements NodeHandler: everything volatile is gone.
func (m *shardMember) OnCrash(time.Duration) {
	m.core = nil
	m.timers = [4]consensus.Timer{}
	m.verifyQ, m.proposalQ, m.parked = nil, nil, nil
	m.synced, m.waiting, m.committedAt = false, nil, 0
	m.results, m.committed, m.commitTimes = nil, nil, nil
	m.pool, m.inbox, m.pending, m.senders = nil, nil, nil, nil
	m.outq, m.queued = nil, nil
	m.awaiting = nil
	m.records, m.recordSeen = nil, nil
	m.seenHeight, m.deferred = nil, nil
}

// OnTimer implements NodeHandler.
func (m *shardMember) OnTimer(now time.Duration, id uint64) {
	m.enter(now)
	if m.core == nil {
		return
	}
	switch id {
	case blockTimerID:
		if req := m.waiting; req != nil {
			m.waiting = nil
			m.proposalQ = append(m.proposalQ, *req)
			_ = m.handle(nil)
		}
	case parkTimerID:
		m.expireParked()
	case relayTimerID:
		m.sendDueRelays()
	case recordTimerID:
		m.resendRecords()
		m.net.world.SetTimer(m.id, m.eventTime()+recordResendAfter, recordTimerID)
	case decideTimerID:
		m.flushDecisions()
	case followTimerID:
		m.pollRecorders()
		m.net.world.SetTimer(m.id, m.eventTime()+followSyncAfter, followTimerID)
	default:
		if id == 0 || id >= uint64(len(m.timers)) || m.timers[id].Kind == 0 {
			return
		}
		t := m.timers[id]
		m.timers[id] = consensus.Timer{}
		m.handle(consensus.TimerFired{Now: m.eventTime(), Timer: t})
	}
}

// OnMessage implements NodeHandler.
func (m *shardMember) OnMessage(now time.Duration, from NodeID, payload []byte) {
	m.enter(now)
	if m.core == nil || len(payload) == 0 {
		return
	}
	m.charge(m.costs().Consensus.Message)
	switch payload[0] {
	case shardSyncRequestTag:
		m.onSyncRequest(from, payload)
	case shardSyncResponseTag:
		m.onSyncResponse(from, payload)
	case followDecisionsTag:
		m.onFollowDecisions(from, payload)
	case followRequestTag:
		m.onFollowRequest(from, payload)
	case rootchain.RecordTag:
		m.onRecord(payload)
	case relay.BatchTag:
		m.onRelayBatch(from, payload)
	case relay.AckTag:
		m.onRelayAck(payload)
	case submitTag:
		m.onSubmit(from, payload)
	default:
		ref := m.net.nodes[from]
		if ref.com != m.com {
			return // consensus is between members of one committee
		}
		msg, err := consensus.DecodeMessage(payload)
		if err != nil {
			m.violate("undecodable message from %d: %v", from, err)
			return
		}
		sender := ref.member.index
		if h := messageHeight(msg); h > m.seenHeight[sender] {
			m.seenHeight[sender] = h
		}
		if err := m.handle(consensus.MessageReceived{Now: m.eventTime(), From: sender, Msg: msg}); errors.Is(err, consensus.ErrFuture) {
			m.requestSync(sender)
		}
	}
}

// handle steps one event (none when ev is nil) and then answers, in order,
// every verification and block request the core made, charging their CPU,
// until the core waits for the network, a timer or a parked check.
func (m *shardMember) handle(ev consensus.Event) error {
	var err error
	if ev != nil {
		err = m.stepCore(ev)
	}
	for guard := 0; m.core != nil && (len(m.verifyQ) > 0 || len(m.proposalQ) > 0); guard++ {
		if guard > 1_000_000 {
			m.violate("requests never stop")
			return err
		}
		if len(m.verifyQ) > 0 {
			req := m.verifyQ[0]
			m.verifyQ = m.verifyQ[1:]
			if req.Kind == consensus.VerifyBlock {
				m.verifyBlock(req)
				continue
			}
			res, cost := m.verifier.Answer(req)
			m.charge(cost)
			res.Now = m.eventTime()
			_ = m.stepCore(res)
			continue
		}
		req := m.proposalQ[0]
		m.proposalQ = m.proposalQ[1:]
		if ready := m.committedAt + m.cfg().BlockInterval; m.eventTime() < ready && !m.backlogged() {
			m.waiting = &req
			m.net.world.SetTimer(m.id, ready, blockTimerID)
			continue
		}
		block, ok := m.build(req)
		if !ok {
			continue // not the member's next height: the core will time out
		}
		_ = m.stepCore(consensus.ProposalReady{Now: m.eventTime(), Height: req.Height, Round: req.Round, Block: block})
	}
	return err
}

// stepCore steps the core once, charges what it signed and aggregated,
// checks its invariants and applies its Ready.
func (m *shardMember) stepCore(ev consensus.Event) error {
	err := m.core.Step(ev)
	costs := &m.costs().Consensus
	m.charge(time.Duration(m.signed-m.chargedSigned) * costs.Sign)
	m.charge(time.Duration(m.aggregatedSigs-m.chargedAggSigs) * costs.AggregatePerSignature)
	m.chargedSigned, m.chargedAggSigs = m.signed, m.aggregatedSigs
	if errors.Is(err, consensus.ErrInvariant) {
		m.violate("%v", err)
	}
	if m.cfg().CheckInvariants {
		if ierr := m.core.CheckInvariants(); ierr != nil {
			m.violate("after %T: %v", ev, ierr)
		}
	}
	if m.core.HasReady() {
		if aerr := consensus.Apply(m.core.Ready(), m); aerr != nil {
			m.violate("%v", aerr)
			return err
		}
		m.core.Advance()
	}
	return err
}

// build builds the member's block for req: a transaction block or a
// recorder block. It reports false when req is not for the height after
// the member's committed one.
func (m *shardMember) build(req consensus.ProposalRequest) (consensus.Block, bool) {
	if req.Height != m.height()+1 {
		return consensus.Block{}, false
	}
	parent := &m.headers[req.Height-1]
	header := types.Header{
		Version: types.HeaderVersion, ChainID: m.com.chain, Height: req.Height, Epoch: parent.Epoch, Round: req.Round,
		ParentHash: m.hashes[req.Height-1], TimestampMillis: max(parent.TimestampMillis, uint64(m.eventTime()/time.Millisecond)),
		Proposer: m.index,
	}
	var body []byte
	var res *blockResult
	var ok bool
	if m.isTx() {
		body, res, ok = m.buildTx(&header)
	} else {
		body, res, ok = m.buildRecorder(&header)
	}
	if !ok {
		return consensus.Block{}, false
	}
	m.results[header.Hash()] = res
	return consensus.Block{Header: header, Body: body}, true
}

// verifyBlock answers a block check, or parks it when a relay's source is
// not confirmed on the member's recorder view yet.
func (m *shardMember) verifyBlock(req consensus.VerifyRequest) {
	m.charge(m.costs().Consensus.BlockCheck)
	ok, retry := m.checkBlock(req.Block, false)
	if retry {
		m.stats.Parked++
		m.park(req)
		return
	}
	m.answer(req.ID, ok)
}

func (m *shardMember) answer(id consensus.RequestID, ok bool) {
	_ = m.stepCore(consensus.VerifyResult{Now: m.eventTime(), ID: id, OK: ok})
}

// checkBlock checks a proposed block of the height after the member's
// committed one; retry reports a transaction block that waits for the
// member's recorder view (relay.ErrNotConfirmed). again says the block was
// checked before and only its relays are charged.
func (m *shardMember) checkBlock(b *consensus.Block, again bool) (ok, retry bool) {
	if b == nil {
		return false, false
	}
	h := &b.Header
	if h.Height != m.height()+1 || h.Empty {
		return false, false
	}
	parent := &m.headers[h.Height-1]
	if h.ParentHash != m.hashes[h.Height-1] || h.Epoch != parent.Epoch || h.TimestampMillis < parent.TimestampMillis ||
		h.Proposer != consensus.Leader(h.Height, h.Round, m.com.size()) {
		return false, false
	}
	if _, done := m.results[b.Hash()]; done {
		return true, false
	}
	var res *blockResult
	if m.isTx() {
		res, ok, retry = m.checkTx(b, again)
	} else {
		res, ok = m.checkRecorder(b)
	}
	if ok {
		m.results[b.Hash()] = res
	}
	return ok, retry
}

// park holds a block check until the recorder view advances, at most a
// round timeout.
func (m *shardMember) park(req consensus.VerifyRequest) {
	deadline := m.eventTime() + m.cfg().RoundTimeout
	m.parked = append(m.parked, parkedCheck{req: req, deadline: deadline})
	if len(m.parked) == 1 {
		m.net.world.SetTimer(m.id, deadline, parkTimerID)
	}
	for _, v := range m.views {
		m.askRecorder(v) // the view may be behind for want of a push
	}
}

// retryParked checks the parked blocks again after the view advanced.
func (m *shardMember) retryParked() {
	if len(m.parked) == 0 {
		return
	}
	parked := m.parked
	m.parked = nil
	for _, p := range parked {
		ok, retry := m.checkBlock(p.req.Block, true)
		if retry {
			m.parked = append(m.parked, p)
			continue
		}
		m.answer(p.req.ID, ok)
	}
	m.armPark()
	_ = m.handle(nil)
}

// expireParked refuses the parked checks whose deadline passed.
func (m *shardMember) expireParked() {
	kept := m.parked[:0]
	var expired []consensus.RequestID
	for _, p := range m.parked {
		if p.deadline <= m.eventTime() {
			expired = append(expired, p.req.ID)
			continue
		}
		kept = append(kept, p)
	}
	m.parked = kept
	m.armPark()
	for _, id := range expired {
		m.stats.ParkedTimeouts++
		m.answer(id, false)
	}
	_ = m.handle(nil)
}

func (m *shardMember) armPark() {
	if len(m.parked) == 0 {
		return
	}
	first := m.parked[0].deadline
	for _, p := range m.parked[1:] {
		first = min(first, p.deadline)
	}
	m.net.world.SetTimer(m.id, first, parkTimerID)
}

// ---------------------------------------------------------------- Effects

// Persist implements consensus.Effects: the state's encoding, the committed
// decisions and what committing them changes (the chain's accounts and
// consumed relays, or its recorder state) are the member's disk, written
// together.
func (m *shardMember) Persist(state *consensus.PersistentState, commits []consensus.Decision) error {
	if state != nil {
		b, err := consensus.EncodePersistentState(state)
		if err != nil {
			return fmt.Errorf("encode persistent state: %w", err)
		}
		m.disk = b
	}
	writes := 0
	for i := range commits {
		d := commits[i]
		if d.Height() != m.height()+1 {
			return fmt.Errorf("commit of height %d after height %d", d.Height(), m.height())
		}
		n, err := m.applyCommit(&d)
		if err != nil {
			return fmt.Errorf("commit height %d: %w", d.Height(), err)
		}
		writes += n
		m.decisions = append(m.decisions, d)
	}
	m.charge(m.costs().Consensus.Persist + time.Duration(writes)*m.costs().PersistPerWrite)
	return nil
}

// applyCommit applies a decided height to the durable state and returns
// the number of account writes.
func (m *shardMember) applyCommit(d *consensus.Decision) (int, error) {
	h := d.Height()
	parent := &m.headers[h-1]
	if d.Block == nil {
		e := types.EmptyHeader(parent)
		m.headers = append(m.headers, e)
		m.hashes = append(m.hashes, e.Hash())
		return 0, nil
	}
	res := m.results[d.Block.Hash()]
	var err error
	if m.isTx() {
		if res == nil {
			if res, err = m.replayTx(d.Block); err != nil {
				return 0, err
			}
		}
		if err := m.state.Apply(res.exec.WriteSet); err != nil {
			return 0, fmt.Errorf("apply write set: %w", err)
		}
		for i := range res.exec.Body.Inputs {
			msg := &res.exec.Body.Inputs[i].Message
			if msg.Kind != types.MessageOuterRelay {
				continue
			}
			id := msg.ID()
			if at, dup := m.consumed[id]; dup {
				m.violate("relay %v consumed at height %d and again at height %d", id, at, h)
			}
			m.consumed[id] = h
		}
	} else {
		if res == nil {
			if res, err = m.replayRecorder(d.Block); err != nil {
				return 0, err
			}
		}
		m.rstate = res.root.State
	}
	m.committed[h] = res
	m.headers = append(m.headers, d.Block.Header)
	m.hashes = append(m.hashes, d.Block.Hash())
	if res.exec != nil {
		return len(res.exec.WriteSet), nil
	}
	return len(res.root.Body.Records), nil
}

// Send implements consensus.Effects: a broadcast goes to every other
// member of the committee, in index order.
func (m *shardMember) Send(env consensus.Envelope) {
	payload, err := consensus.EncodeMessage(env.Msg)
	if err != nil {
		m.violate("encode %v: %v", env.Msg.Kind(), err)
		return
	}
	if d, ok := env.Msg.(*consensus.Decision); ok && env.To == consensus.Broadcast {
		if len(m.deferred) == 0 {
			m.net.world.SetTimer(m.id, m.eventTime()+decisionDelay, decideTimerID)
		}
		m.deferred = append(m.deferred, deferredDecision{due: m.eventTime() + decisionDelay, height: d.Height(), payload: payload})
		return
	}
	if env.To == consensus.Broadcast {
		for i, node := range m.com.nodes {
			if types.ValidatorIndex(i) != m.index {
				m.net.world.Send(m.id, node, payload)
			}
		}
		return
	}
	if int(env.To) < len(m.com.nodes) {
		m.net.world.Send(m.id, m.com.nodes[env.To], payload)
	}
}

// Commit implements consensus.Effects: what follows a commit and is not
// durable.
func (m *shardMember) Commit(d consensus.Decision) {
	h := d.Height()
	m.committedAt = m.eventTime()
	for len(m.commitTimes) <= int(h) {
		m.commitTimes = append(m.commitTimes, 0)
	}
	m.commitTimes[h] = m.eventTime()
	res := m.committed[h]
	delete(m.committed, h)
	clear(m.results)
	m.net.obs.onCommit(m, &d, res)
	if m.isTx() {
		m.committedTx(&d, res)
	} else {
		m.committedRecorder(&d)
	}
	if len(m.views) > 0 {
		m.sendRecord(h, m.index)
	}
}

// Evidence implements consensus.Effects (no member here equivocates).
func (m *shardMember) Evidence(consensus.Evidence) {}

// Verify implements consensus.Effects: requests are answered in order once
// the Ready is applied (see handle).
func (m *shardMember) Verify(req consensus.VerifyRequest) { m.verifyQ = append(m.verifyQ, req) }

// RequestProposal implements consensus.Effects.
func (m *shardMember) RequestProposal(req consensus.ProposalRequest) {
	m.proposalQ = append(m.proposalQ, req)
}

// SetTimer implements consensus.Effects: one world timer per kind.
func (m *shardMember) SetTimer(t consensus.TimerSetting) {
	k := uint64(t.Timer.Kind)
	if k == 0 || k >= uint64(len(m.timers)) {
		m.violate("timer of unknown kind %v", t.Timer.Kind)
		return
	}
	m.timers[k] = t.Timer
	m.net.world.SetTimer(m.id, t.Deadline, k)
}

// flushDecisions sends the deferred decision broadcasts that are due to the
// members still at or below their height: one that sent a message of a
// later height has decided it.
func (m *shardMember) flushDecisions() {
	i := 0
	for ; i < len(m.deferred) && m.deferred[i].due <= m.eventTime(); i++ {
		d := m.deferred[i]
		for j, node := range m.com.nodes {
			if types.ValidatorIndex(j) != m.index && m.seenHeight[j] <= d.height {
				m.net.world.Send(m.id, node, d.payload)
			}
		}
	}
	m.deferred = m.deferred[i:]
	if len(m.deferred) > 0 {
		m.net.world.SetTimer(m.id, m.deferred[0].due, decideTimerID)
	}
}

// backlogged reports a transaction member whose mempool fills a block: its
// leader builds at once rather than after the block interval, as the node
// driver does.
func (m *shardMember) backlogged() bool {
	return m.pool != nil && m.pool.Len() >= m.cfg().MaxBlockMessages
}

// messageHeight is the height a consensus message is about.
func messageHeight(msg consensus.Message) types.Height {
	switch msg := msg.(type) {
	case *consensus.Proposal:
		return msg.Height
	case *consensus.Prepare:
		return msg.Vote.Height
	case *consensus.Confirm:
		return msg.Vote.Height
	case *consensus.RoundChange:
		return msg.Height
	case *consensus.Decision:
		return msg.Height()
	}
	return 0
}

// ---------------------------------------------------------------- block sync

// requestSync asks peer for the decisions the member lacks, at most once
// per proposal timeout (the cluster's block sync, same layout).
func (m *shardMember) requestSync(peer types.ValidatorIndex) {
	if m.synced && m.eventTime()-m.lastSync < m.cfg().ProposalTimeout {
		return
	}
	if int(peer) >= len(m.com.nodes) {
		return
	}
	m.synced, m.lastSync = true, m.eventTime()
	m.net.world.Send(m.id, m.com.nodes[peer], encodeSyncRequest(m.height()+1))
}

func (m *shardMember) onSyncRequest(from NodeID, payload []byte) {
	h, err := decodeSyncRequest(payload)
	if err != nil || h == 0 || h > m.height() {
		return
	}
	batch := m.decisions[h-1 : min(uint64(len(m.decisions)), uint64(h-1)+maxSyncBatch)]
	out, err := encodeSyncResponse(batch)
	if err != nil {
		m.violate("encode sync response: %v", err)
		return
	}
	m.net.world.Send(m.id, from, out)
}

func (m *shardMember) onSyncResponse(from NodeID, payload []byte) {
	ref := m.net.nodes[from]
	if ref.com != m.com {
		return
	}
	ds, err := decodeSyncResponse(payload)
	if err != nil {
		return
	}
	for i := range ds {
		if m.core == nil {
			return
		}
		if ds[i].Height() != m.height()+1 {
			continue
		}
		m.charge(m.costs().Consensus.Message)
		_ = m.handle(consensus.MessageReceived{Now: m.eventTime(), From: ref.member.index, Msg: &ds[i]})
	}
}

// ---------------------------------------------------------------- records

// sendRecord sends the record of committed height h to a member of the
// recorder's committee, chosen by pick.
func (m *shardMember) sendRecord(h types.Height, pick types.ValidatorIndex) {
	rec := rootchain.Record{Header: m.headers[h], Certificate: m.decisions[h-1].Certificate}
	payload, err := rec.MarshalBinary()
	if err != nil {
		m.violate("encode record of height %d: %v", h, err)
		return
	}
	recorder := m.net.byChain[m.com.parent]
	m.net.world.Send(m.id, recorder.nodes[int(pick)%recorder.size()], payload)
}

// resendRecords sends again, each to another recorder member, the records
// the recorder has not recorded a while after their commit.
func (m *shardMember) resendRecords() {
	v := m.views[0]
	tip, _ := v.state.Tip(m.com.chain)
	for h := tip.Height + 1; h <= m.height() && h <= tip.Height+maxRecordResend; h++ {
		if int(h) < len(m.commitTimes) && m.eventTime()-m.commitTimes[h] < recordResendAfter {
			break
		}
		m.resends++
		m.sendRecord(h, m.index+types.ValidatorIndex(m.resends))
	}
}

// nonceSource reads committed nonces from a transaction member's state.
type nonceSource struct{ m *shardMember }

func (s nonceSource) Nonce(addr types.Address) (uint64, error) {
	if a, ok := s.m.state.Account(addr); ok {
		return a.Nonce, nil
	}
	return 0, nil
}
