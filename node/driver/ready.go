package driver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
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
		l.r.log.Error("commit without a persisted plan", "height", d.Height())
		return
	}
	l.committed(&l.plans[0])
	l.plans = l.plans[1:]
}

// Evidence implements consensus.Effects. Punishing the offender needs
// stake and elections on the root chain, which this version does not have;
// the evidence is logged.
func (l *loop) Evidence(ev consensus.Evidence) {
	l.r.log.Warn("equivocation evidence", "kind", ev.Kind, "offender", ev.Offender())
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
// batch. The app stages each block (executing it, or taking the result
// cached when the block was built or verified here) on top of the previous
// one and applies it to memory under its state's write lock, which it holds
// until the batch is durable.
func (l *loop) persist(ps *consensus.PersistentState, commits []consensus.Decision) ([]commitPlan, error) {
	if ps == nil && len(commits) == 0 {
		return nil, nil
	}
	r := l.r
	batch := r.n.db.NewBatch()
	defer batch.Close()
	slots := l.slots
	if ps != nil {
		rec, kept, next, err := encodeConsensusRecord(ps, &l.slots)
		if err != nil {
			return nil, fmt.Errorf("encode consensus state: %w", err)
		}
		for slot, b := range kept {
			if err := batch.PutRecord(keptSlotRecordKey(r.chain, slot), b); err != nil {
				return nil, fmt.Errorf("persist kept block: %w", err)
			}
		}
		if err := batch.PutRecord(consensusRecordKey(r.chain), rec); err != nil {
			return nil, fmt.Errorf("persist consensus state: %w", err)
		}
		slots = next
	}
	plans, err := r.app.persist(batch, commits, func() error {
		start := time.Now()
		if err := batch.Commit(); err != nil {
			return fmt.Errorf("persist: %w", err)
		}
		r.m.persistDuration.Observe(time.Since(start).Seconds())
		return nil
	})
	if err != nil {
		return nil, err
	}
	l.slots = slots
	return plans, nil
}

// committed does what follows a durable commit: the app's part (mempool,
// relays, records), the caches and metrics.
func (l *loop) committed(p *commitPlan) {
	r := l.r
	l.lastCommit = time.Now()
	if l.wantProposal != nil && l.wantProposal.Height <= p.header.Height {
		l.wantProposal = nil
	}
	r.app.committed(p)
	if p.decision.Block == nil {
		r.m.blocks.WithLabelValues("empty").Inc()
		r.log.Debug("committed", "height", p.header.Height, "empty", true, "round", p.decision.Certificate.Round)
		return
	}
	r.m.blocks.WithLabelValues("block").Inc()
	r.m.committedMessages.Add(float64(p.messages))
	latency := time.Since(p.header.Time())
	r.m.commitLatency.Observe(latency.Seconds())
	level := r.log.Info
	if p.messages == 0 {
		level = r.log.Debug
	}
	level("committed", "height", p.header.Height, "messages", p.messages, "round", p.decision.Certificate.Round,
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
		l.r.log.Error("encode consensus message", "kind", env.Msg.Kind(), "err", err)
		return
	}
	enc = frame(l.r.chain, enc)
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
	for i := range l.r.members {
		if types.ValidatorIndex(i) != l.r.self {
			l.sendTo(ctx, types.ValidatorIndex(i), enc, kind)
		}
	}
}

// sendTo sends framed (a payload in the chain's envelope) to member to.
func (l *loop) sendTo(ctx context.Context, to types.ValidatorIndex, framed []byte, kind string) {
	if int(to) >= len(l.r.members) || to == l.r.self {
		return
	}
	if time.Now().Before(l.congestedUntil[to]) {
		l.r.m.dropped.WithLabelValues(dropCongested).Inc()
		return
	}
	err := l.r.n.sendTo(ctx, l.r.members[to], framed, sendWait)
	if err != nil {
		l.r.m.dropped.WithLabelValues(dropSendFailed).Inc()
		l.congestedUntil[to] = time.Now().Add(congestionBackoff)
		level := l.r.log.Warn
		if errors.Is(err, context.Canceled) {
			level = l.r.log.Debug
		}
		level("message to member not sent", "to", to, "kind", kind, "err", err)
		return
	}
	l.r.m.messagesOut.WithLabelValues(kind).Inc()
}

// maybeBuild hands the pending proposal request to the block builder when
// it is due: at once in a round above 0 or when the mempool fills a block,
// otherwise once the block interval since the last commit has passed.
func (l *loop) maybeBuild(timerFired bool) {
	req := l.wantProposal
	if req == nil || l.building {
		return
	}
	due := l.lastCommit.Add(l.r.n.cfg.Consensus.BlockInterval.Duration)
	if !timerFired && req.Round == 0 && l.r.app.backlog() < l.r.n.cfg.Consensus.MaxBlockMessages {
		if wait := time.Until(due); wait > 0 {
			l.proposeTimer.Reset(wait)
			return
		}
	}
	select {
	case l.r.builds <- *req:
		l.building = true
		l.wantProposal = nil
	default:
	}
}

// deferredDecision is a Decision broadcast waiting for decisionDelay.
type deferredDecision struct {
	due    time.Time
	height types.Height
	enc    []byte // in the chain's envelope
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
		for j := range l.r.members {
			m := types.ValidatorIndex(j)
			if m != l.r.self && l.seenHeight[j] <= d.height {
				l.sendTo(l.ctx, m, d.enc, consensus.KindDecision.String())
			}
		}
	}
	l.deferred = l.deferred[i:]
}
