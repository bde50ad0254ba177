package driver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// apply carries out one Ready through consensus.Apply, which calls the
// loop's Effects in the order the Ready contract requires (node/consensus,
// "Ready's duties"):
//
//  1. Persist: the persistent state and every committed block, with its
//     state writes and message index, in ONE synced storage batch;
//  2. Send: the envelopes, to the network;
//  3. Commit (mempool, caches, metrics), Evidence (the log), Verify (the
//     worker pool), RequestProposal (the block builder);
//  4. SetTimer.
//
// An error is fatal: the store could not write, or a decided block does not
// execute. The node stops rather than send anything the disk does not hold.
func (l *loop) apply(ctx context.Context, rd consensus.Ready) error {
	l.ctx = ctx
	l.plans = l.plans[:0]
	return consensus.Apply(rd, l)
}

// Persist implements consensus.Effects.
func (l *loop) Persist(ps *consensus.PersistentState, commits []consensus.Decision) error {
	plans, err := l.persist(ps, commits)
	l.plans = plans
	return err
}

// Send implements consensus.Effects.
func (l *loop) Send(env consensus.Envelope) {
	l.send(l.ctx, env)
}

// Commit implements consensus.Effects: what follows a durable commit.
func (l *loop) Commit(d consensus.Decision) {
	if len(l.plans) == 0 || l.plans[0].decision.Height() != d.Height() {
		l.n.log.Error("commit without a persisted plan", "height", d.Height())
		return
	}
	l.committed(&l.plans[0])
	l.plans = l.plans[1:]
}

// Evidence implements consensus.Effects. There is no root-chain client yet
// to punish the offender; the evidence is logged.
func (l *loop) Evidence(ev consensus.Evidence) {
	l.n.log.Warn("equivocation evidence", "kind", ev.Kind, "offender", ev.Offender())
}

// Verify implements consensus.Effects: the request joins the queue the
// worker pool drains.
func (l *loop) Verify(req consensus.VerifyRequest) {
	l.queue = append(l.queue, verifyJob{seq: l.nextSeq, req: req})
	l.nextSeq++
}

// RequestProposal implements consensus.Effects.
func (l *loop) RequestProposal(req consensus.ProposalRequest) {
	l.wantProposal = &req
	l.maybeBuild(false)
}

// SetTimer implements consensus.Effects: the latest deadline of a kind
// replaces the earlier one, and the one real timer is re-armed.
func (l *loop) SetTimer(t consensus.TimerSetting) {
	l.timers = slicesDeleteKind(l.timers, t.Timer.Kind)
	l.timers = append(l.timers, t)
	l.armTimer()
}

func slicesDeleteKind(ts []consensus.TimerSetting, kind consensus.TimerKind) []consensus.TimerSetting {
	out := ts[:0]
	for _, t := range ts {
		if t.Timer.Kind != kind {
			out = append(out, t)
		}
	}
	return out
}

// persist writes the persistent state and the committed blocks in one synced
// batch. It executes each block (or takes the result cached when the block
// was built or verified here) against the state after the previous one, and
// applies it to memory under the state's write lock, which it holds until the
// batch is durable.
func (l *loop) persist(ps *consensus.PersistentState, commits []consensus.Decision) ([]commitPlan, error) {
	if ps == nil && len(commits) == 0 {
		return nil, nil
	}
	n := l.n
	st := n.state
	st.mu.Lock()
	defer st.mu.Unlock()
	batch := n.db.NewBatch()
	defer batch.Close()
	plans := make([]commitPlan, 0, len(commits))
	head, parent := st.head, st.header
	for i := range commits {
		plan, err := l.plan(commits[i], parent)
		if err != nil {
			return nil, err
		}
		rec, err := (&StoredBlock{Header: plan.header, Decision: &plan.decision}).AppendBinary(nil)
		if err != nil {
			return nil, fmt.Errorf("commit %d: %w", plan.header.Height, err)
		}
		var writes []storage.Write
		if plan.result != nil {
			writes, err = accountWrites(plan.result.WriteSet)
			if err != nil {
				return nil, fmt.Errorf("commit %d: %w", plan.header.Height, err)
			}
		}
		blockHash := plan.header.Hash()
		if err := batch.ApplyBlock(uint32(n.chain), uint64(plan.header.Height), writes, rec, blockHash, plan.header.StateRoot); err != nil {
			return nil, fmt.Errorf("commit %d: %w", plan.header.Height, err)
		}
		for j, id := range plan.inputs {
			loc := encodeMessageLocation(MessageLocation{Height: plan.header.Height, Index: uint32(j)})
			if err := batch.PutRecord(messageRecordKey(id), loc); err != nil {
				return nil, fmt.Errorf("commit %d: message index: %w", plan.header.Height, err)
			}
		}
		if plan.result != nil {
			if err := st.mem.Apply(plan.result.WriteSet); err != nil {
				return nil, fmt.Errorf("commit %d: %w", plan.header.Height, err)
			}
		}
		head = storage.Head{Height: uint64(plan.header.Height), BlockHash: blockHash, StateRoot: plan.header.StateRoot}
		parent = plan.header
		plans = append(plans, plan)
	}
	slots := l.slots
	if ps != nil {
		rec, kept, next, err := encodeConsensusRecord(ps, &l.slots)
		if err != nil {
			return nil, fmt.Errorf("encode consensus state: %w", err)
		}
		for slot, b := range kept {
			if err := batch.PutRecord(keptSlotRecordKey(n.chain, slot), b); err != nil {
				return nil, fmt.Errorf("persist kept block: %w", err)
			}
		}
		if err := batch.PutRecord(consensusRecordKey(n.chain), rec); err != nil {
			return nil, fmt.Errorf("persist consensus state: %w", err)
		}
		slots = next
	}
	start := time.Now()
	if err := batch.Commit(); err != nil {
		return nil, fmt.Errorf("persist: %w", err)
	}
	n.m.persistDuration.Observe(time.Since(start).Seconds())
	st.head, st.header = head, parent
	l.slots = slots
	return plans, nil
}

// plan prepares one decided height on top of parent: its header (the
// block's, or the synthetic empty header) and, for a block, the execution
// result.
func (l *loop) plan(d consensus.Decision, parent types.Header) (commitPlan, error) {
	n := l.n
	p := commitPlan{decision: d}
	if d.Block == nil {
		p.header = types.EmptyHeader(&parent)
		if p.header.Height != d.Height() {
			return p, fmt.Errorf("commit EMPTY at %d on head %d: %w", d.Height(), parent.Height, storage.ErrNotNextHeight)
		}
		return p, nil
	}
	h := d.Block.Header
	p.header = h
	if h.Height != parent.Height+1 || h.ParentHash != parent.Hash() {
		return p, fmt.Errorf("commit block %d (parent %s) on head %d (%s): %w", h.Height, h.ParentHash, parent.Height, parent.Hash(), errDecidedInvalid)
	}
	res, ok := n.cache.get(h.Hash())
	if !ok {
		body, err := exec.DecodeBody(d.Block.Body)
		if err != nil {
			return p, fmt.Errorf("commit block %d: %w: %w", h.Height, errDecidedInvalid, err)
		}
		r, err := exec.Verify(n.state.mem, n.state.spec, &body, exec.RootsOf(&h), n.env)
		if err != nil {
			return p, fmt.Errorf("commit block %d: %w: %w", h.Height, errDecidedInvalid, err)
		}
		res = &r
	}
	p.result = res
	p.inputs = make([]types.Hash, len(res.Body.Inputs))
	for i := range res.Body.Inputs {
		m := &res.Body.Inputs[i].Message
		p.inputs[i] = m.ID()
		if m.Kind == types.MessageExternal {
			p.external = append(p.external, *m)
		}
	}
	return p, nil
}

func accountWrites(accounts []actor.Account) ([]storage.Write, error) {
	writes := make([]storage.Write, len(accounts))
	for i := range accounts {
		enc, err := accounts[i].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("account %v: %w", accounts[i].Address, err)
		}
		writes[i] = storage.Write{Key: accounts[i].Address[:], Value: enc}
	}
	return writes, nil
}

// committed does what follows a durable commit: the mempool forgets the
// block's messages, the caches and metrics move on.
func (l *loop) committed(p *commitPlan) {
	n := l.n
	l.lastCommit = time.Now()
	if l.wantProposal != nil && l.wantProposal.Height <= p.header.Height {
		l.wantProposal = nil
	}
	n.cache.prune(p.header.Height)
	if len(p.external) > 0 {
		n.pool.Update(p.external, n.state)
	}
	if p.decision.Block == nil {
		n.m.blocks.WithLabelValues("empty").Inc()
		n.log.Info("committed", "height", p.header.Height, "empty", true, "round", p.decision.Certificate.Round)
		return
	}
	n.m.blocks.WithLabelValues("block").Inc()
	n.m.committedMessages.Add(float64(len(p.inputs)))
	latency := time.Since(p.header.Time())
	n.m.commitLatency.Observe(latency.Seconds())
	n.log.Info("committed", "height", p.header.Height, "messages", len(p.inputs), "round", p.decision.Certificate.Round,
		"hash", p.header.Hash().String()[:16], "state_root", p.header.StateRoot.String()[:16], "latency", latency.Round(time.Millisecond))
}

// send hands one envelope to the transport: to one member, or to every other
// member for a broadcast. A send waits at most sendWait for room in the
// peer's queue; a peer whose queue stayed full is skipped for
// congestionBackoff. Skipped and failed messages are counted and logged,
// never silently lost, and consensus recovers them (round changes resend
// votes, decisions catch members up).
func (l *loop) send(ctx context.Context, env consensus.Envelope) {
	enc, err := consensus.EncodeMessage(env.Msg)
	if err != nil {
		l.n.log.Error("encode consensus message", "kind", env.Msg.Kind(), "err", err)
		return
	}
	kind := env.Msg.Kind().String()
	if env.To != consensus.Broadcast {
		l.sendTo(ctx, env.To, enc, kind)
		return
	}
	if d, ok := env.Msg.(*consensus.Decision); ok {
		// See decisionDelay: the broadcast goes out later, and only to
		// members that have not shown they decided too.
		l.deferred = append(l.deferred, deferredDecision{due: time.Now().Add(decisionDelay), height: d.Height(), enc: enc})
		return
	}
	for i := range l.n.members {
		if types.ValidatorIndex(i) != l.n.self {
			l.sendTo(ctx, types.ValidatorIndex(i), enc, kind)
		}
	}
}

func (l *loop) sendTo(ctx context.Context, to types.ValidatorIndex, enc []byte, kind string) {
	if int(to) >= len(l.n.members) || to == l.n.self {
		return
	}
	if time.Now().Before(l.congestedUntil[to]) {
		l.n.m.dropped.WithLabelValues(dropCongested).Inc()
		return
	}
	sctx, cancel := context.WithTimeout(ctx, sendWait)
	err := l.n.tr.Send(sctx, l.n.members[to], enc)
	cancel()
	if err != nil {
		l.n.m.dropped.WithLabelValues(dropSendFailed).Inc()
		l.congestedUntil[to] = time.Now().Add(congestionBackoff)
		level := l.n.log.Warn
		if errors.Is(err, context.Canceled) {
			level = l.n.log.Debug
		}
		level("message to member not sent", "to", to, "kind", kind, "err", err)
		return
	}
	l.n.m.messagesOut.WithLabelValues(kind).Inc()
}

// maybeBuild hands the pending proposal request to the block builder when
// it is due: at once in a round above 0 or when the mempool fills a block,
// otherwise once the block interval since the last commit has passed.
func (l *loop) maybeBuild(timerFired bool) {
	req := l.wantProposal
	if req == nil || l.building {
		return
	}
	due := l.lastCommit.Add(l.n.cfg.Consensus.BlockInterval.Duration)
	if !timerFired && req.Round == 0 && l.n.pool.Len() < l.n.cfg.Consensus.MaxBlockMessages {
		if wait := time.Until(due); wait > 0 {
			l.proposeTimer.Reset(wait)
			return
		}
	}
	select {
	case l.n.builds <- *req:
		l.building = true
		l.wantProposal = nil
	default:
	}
}

// deferredDecision is a Decision broadcast waiting for decisionDelay.
type deferredDecision struct {
	due    time.Time
	height types.Height
	enc    []byte
}

// flushDecisions sends the deferred decision broadcasts that are due to the
// members still at or below their height: a member that has sent a message
// of a later height has decided it, and would only refuse the decision as
// stale. A decision carries its whole block, so in the common case, where
// every member decides from the confirmations, this saves the committee
// moving every block a second time.
func (l *loop) flushDecisions(now time.Time) {
	i := 0
	for ; i < len(l.deferred) && !now.Before(l.deferred[i].due); i++ {
		d := l.deferred[i]
		for j := range l.n.members {
			m := types.ValidatorIndex(j)
			if m != l.n.self && l.seenHeight[j] <= d.height {
				l.sendTo(l.ctx, m, d.enc, consensus.KindDecision.String())
			}
		}
	}
	l.deferred = l.deferred[i:]
}
