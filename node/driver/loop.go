package driver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// Timings of the loop that are not worth a configuration key.
const (
	// sendWait is how long a send to one peer may wait for room in its
	// queue before the message is counted as dropped.
	sendWait = 50 * time.Millisecond
	// congestionBackoff is how long a peer whose queue stayed full is
	// skipped; its messages are counted as dropped meanwhile, and consensus
	// recovers them with its round changes and decisions.
	congestionBackoff = time.Second
	// syncTimeout is how long a block-sync request may go unanswered before
	// another member is asked.
	syncTimeout = 2 * time.Second
	// behindGrace is how long messages of a later height may arrive while
	// the node stays at its height before it fetches the missing decision:
	// one height behind is the normal state of a member that has not yet
	// seen the confirmations.
	behindGrace = time.Second
	// tickInterval paces the loop's housekeeping (sync timeouts, deferred
	// decisions).
	tickInterval = 100 * time.Millisecond
	// decisionDelay is how long a Decision broadcast waits before it goes
	// to the members that have not moved past its height. Deciding from the
	// confirmations is the normal path; the broadcast only rescues members
	// that missed some, which otherwise wait for a round timeout, so a delay
	// well below the round timeout costs nothing and spares the network a
	// second copy of every block.
	decisionDelay = 500 * time.Millisecond
)

// loop is the state the consensus loop owns; no other goroutine touches it.
type loop struct {
	r    *runner
	core *consensus.Core

	// timers holds the latest deadline per timer kind (consensus: timers
	// are never cancelled and a stale one is answered with ErrStale, so
	// only the latest of a kind matters).
	timers []consensus.TimerSetting
	timer  *time.Timer

	// Proposal scheduling: a request waits for the block interval after
	// the last commit, unless the mempool already fills a block.
	wantProposal *consensus.ProposalRequest
	proposeTimer *time.Timer
	building     bool
	lastCommit   time.Time

	// Verification: jobs wait in queue until a worker takes them; answers
	// are fed to the core in request order.
	queue       []verifyJob
	nextSeq     uint64
	nextDeliver uint64
	answers     map[uint64]consensus.VerifyResult

	congestedUntil []time.Time
	sync           syncState
	fatal          error

	// seenHeight is the highest height of a message from each member;
	// deferred are Decision broadcasts waiting for decisionDelay.
	seenHeight []types.Height
	deferred   []deferredDecision
	// slots are the kept blocks the consensus record's slots hold on disk.
	slots keptSlots

	// ctx and plans live for one apply: the context sends wait under, and
	// the commits Persist prepared, handed out by Commit in order.
	ctx   context.Context
	plans []commitPlan
}

// syncState is the block-sync client: which heights others are known to
// have decided, the request in flight, and decisions fetched but not yet fed
// to the core.
type syncState struct {
	// target is the highest height known decided by some member.
	target types.Height
	// behindSince is when the node was first seen behind target.
	behindSince time.Time
	inflight    bool
	peer        types.ValidatorIndex
	deadline    time.Time
	// held are fetched decisions by height, with the member that sent
	// them.
	held map[types.Height]heldDecision
	// feeding is the height of the decision last fed to the core, until the
	// core moves past it or feedingSince is syncTimeout ago (the decision
	// did not verify and must be fetched again).
	feeding      types.Height
	feedingSince time.Time
}

type heldDecision struct {
	from     types.ValidatorIndex
	decision consensus.Decision
}

func (r *runner) consensusLoop(ctx context.Context, core *consensus.Core, slots keptSlots) error {
	if r.pinned {
		defer r.n.pin("consensus", r.n.cfg.Accel.PinConsensusCore)()
	}
	n := r
	l := &loop{
		r:              r,
		core:           core,
		timer:          time.NewTimer(time.Hour),
		proposeTimer:   time.NewTimer(time.Hour),
		lastCommit:     time.Now(),
		answers:        map[uint64]consensus.VerifyResult{},
		congestedUntil: make([]time.Time, len(n.members)),
		seenHeight:     make([]types.Height, len(n.members)),
		slots:          slots,
		ctx:            ctx,
		sync:           syncState{held: map[types.Height]heldDecision{}},
	}
	l.timer.Stop()
	l.proposeTimer.Stop()
	defer l.timer.Stop()
	defer l.proposeTimer.Stop()
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()

	l.step(consensus.Start{Now: n.n.now()}, -1)
	l.drain(ctx)
	for l.fatal == nil {
		var jobs chan verifyJob
		var job verifyJob
		if len(l.queue) > 0 {
			jobs, job = n.jobs, l.queue[0]
		}
		select {
		case <-ctx.Done():
			return nil
		case in := <-n.inbox:
			l.onInput(in)
		case jobs <- job:
			l.queue = l.queue[1:]
		case d := <-n.verified:
			l.onVerified(d)
		case b := <-n.built:
			l.building = false
			if b.err != nil {
				n.log.Debug("proposal not built", "err", b.err)
			} else {
				b.ready.Now = n.n.now()
				l.step(b.ready, -1)
			}
			l.maybeBuild(false)
		case <-l.timer.C:
			l.fireTimers()
		case <-l.proposeTimer.C:
			l.maybeBuild(true)
		case <-tick.C:
			l.housekeeping()
		}
		l.drain(ctx)
		l.feedSynced()
		l.drain(ctx)
		n.publishStatus(l.core)
		n.lastLoop.Store(time.Now().UnixNano())
	}
	return l.fatal
}

// step feeds one event to the core and files its refusal, if any. from is
// the sending member of a message, -1 otherwise.
func (l *loop) step(ev consensus.Event, from int) {
	if err := l.core.Step(ev); err != nil {
		l.refused(err, fmt.Sprintf("%T", ev), from)
	}
}

// refused counts and logs an event the core refused. Refusals of network
// input are expected (late, early or foreign messages) and logged at debug
// level; anything outside the core's sentinels is an error.
func (l *loop) refused(err error, what string, from int) {
	if err == nil {
		return
	}
	class := "other"
	switch {
	case errors.Is(err, consensus.ErrStale):
		class = "stale"
	case errors.Is(err, consensus.ErrFuture):
		class = "future"
	case errors.Is(err, consensus.ErrUnknownMember):
		class = "unknown_member"
	case errors.Is(err, consensus.ErrInvalid):
		class = "invalid"
	case errors.Is(err, consensus.ErrNotStarted):
		class = "not_started"
	}
	l.r.m.stepRejected.WithLabelValues(class).Inc()
	if class == "other" {
		l.r.log.Error("consensus refused an event", "event", what, "from", from, "err", err)
		return
	}
	l.r.log.Debug("consensus refused an event", "event", what, "from", from, "class", class, "err", err)
}

// onInput handles a message from a peer.
func (l *loop) onInput(in loopInput) {
	if in.sync != nil {
		l.onSyncResponse(in.from, in.sync)
		return
	}
	h := messageHeight(in.msg)
	if h > l.seenHeight[in.from] {
		l.seenHeight[in.from] = h
	}
	status := l.core.Status()
	err := l.core.Step(consensus.MessageReceived{Now: l.r.n.now(), From: in.from, Msg: in.msg})
	switch {
	case errors.Is(err, consensus.ErrFuture):
		// More than one height ahead: the node is behind; fetch the
		// decisions in between from that member now.
		l.r.m.stepRejected.WithLabelValues("future").Inc()
		l.noteDecided(h - 1)
		l.requestSync(in.from, true)
		return
	case err != nil:
		l.refused(err, in.msg.Kind().String(), int(in.from))
	}
	if h > status.Height {
		// A member is at a later height: it decided ours.
		l.noteDecided(h - 1)
	}
}

// noteDecided records that height h is decided somewhere.
func (l *loop) noteDecided(h types.Height) {
	if h > l.sync.target {
		l.sync.target = h
		l.r.syncTarget.Store(uint64(h))
	}
	if l.sync.behindSince.IsZero() && l.sync.target >= l.core.Status().Height {
		l.sync.behindSince = time.Now()
	}
}

// messageHeight returns the height a consensus message is about.
func messageHeight(m consensus.Message) types.Height {
	switch m := m.(type) {
	case *consensus.Proposal:
		return m.Height
	case *consensus.Prepare:
		return m.Vote.Height
	case *consensus.Confirm:
		return m.Vote.Height
	case *consensus.RoundChange:
		return m.Height
	case *consensus.Decision:
		return m.Height()
	}
	return 0
}

// onVerified files a worker's answer and feeds the core every answer that is
// next in request order, so the core sees its answers in the order it asked.
func (l *loop) onVerified(d verifyDone) {
	l.answers[d.seq] = d.res
	for {
		res, ok := l.answers[l.nextDeliver]
		if !ok {
			return
		}
		delete(l.answers, l.nextDeliver)
		l.nextDeliver++
		res.Now = l.r.n.now()
		l.step(res, -1)
	}
}

// fireTimers delivers every timer whose deadline has passed, earliest first,
// and re-arms the timer for the next one.
func (l *loop) fireTimers() {
	now := l.r.n.now()
	slices.SortFunc(l.timers, func(a, b consensus.TimerSetting) int { return int(a.Deadline - b.Deadline) })
	i := 0
	for ; i < len(l.timers) && l.timers[i].Deadline <= now; i++ {
		l.step(consensus.TimerFired{Now: now, Timer: l.timers[i].Timer}, -1)
	}
	l.timers = l.timers[i:]
	l.armTimer()
}

func (l *loop) armTimer() {
	if len(l.timers) == 0 {
		l.timer.Stop()
		return
	}
	earliest := l.timers[0].Deadline
	for _, t := range l.timers[1:] {
		earliest = min(earliest, t.Deadline)
	}
	l.timer.Reset(max(earliest-l.r.n.now(), 0))
}

// drain carries out every Ready the core has, in the contract's order.
func (l *loop) drain(ctx context.Context) {
	for l.fatal == nil && l.core.HasReady() {
		rd := l.core.Ready()
		if err := l.apply(ctx, rd); err != nil {
			l.fatal = err
			return
		}
		l.core.Advance()
	}
}

// housekeeping runs on the loop's ticker: deferred decisions, sync timeouts
// and the grace period of a node one height behind.
func (l *loop) housekeeping() {
	now := time.Now()
	l.flushDecisions(now)
	if l.sync.inflight && now.After(l.sync.deadline) {
		l.r.log.Debug("block sync request timed out", "peer", l.sync.peer)
		l.sync.inflight = false
		l.requestSync(l.otherMember(l.sync.peer), true)
	}
	height := l.core.Status().Height
	if l.sync.target < height {
		l.sync.behindSince = time.Time{}
		return
	}
	if !l.sync.behindSince.IsZero() && now.Sub(l.sync.behindSince) > behindGrace {
		l.requestSync(l.otherMember(l.r.self), false)
	}
}

// otherMember returns the member after i that is not this node.
func (l *loop) otherMember(i types.ValidatorIndex) types.ValidatorIndex {
	n := types.ValidatorIndex(len(l.r.members))
	for j := (i + 1) % n; ; j = (j + 1) % n {
		if j != l.r.self {
			return j
		}
	}
}

// requestSync asks peer for the decisions from the core's height up to the
// known target, unless a request is in flight (or, when !now, the node has
// not been behind for the grace period).
func (l *loop) requestSync(peer types.ValidatorIndex, now bool) {
	if len(l.r.members) < 2 || peer == l.r.self || l.sync.inflight {
		return
	}
	// Ask for what is neither held nor being fed.
	from := l.core.Status().Height
	if l.sync.feeding >= from {
		from = l.sync.feeding + 1
	}
	for {
		if _, held := l.sync.held[from]; !held {
			break
		}
		from++
	}
	if l.sync.target < from {
		return
	}
	if !now && (l.sync.behindSince.IsZero() || time.Since(l.sync.behindSince) < behindGrace) {
		return
	}
	// Ask for a full batch: the peer stops at its head, which is likely
	// past the target this node knows of.
	count := MaxSyncBlocks
	req := SyncRequest{ChainID: l.r.chain, From: from, Count: uint32(count)}
	enc, err := req.AppendBinary(appendEnvelope(nil, l.r.chain))
	if err != nil {
		l.r.log.Error("encode sync request", "err", err)
		return
	}
	l.sync.inflight = true
	l.sync.peer = peer
	l.sync.deadline = time.Now().Add(syncTimeout)
	l.r.log.Info("fetching decided blocks", "from", from, "count", count, "peer", peer, "known_decided", l.sync.target)
	l.sendTo(context.Background(), peer, enc, "sync_request")
}

// onSyncResponse holds the decisions a member sent, to be fed to the core
// one height at a time.
func (l *loop) onSyncResponse(from types.ValidatorIndex, r *SyncResponse) {
	if from == l.sync.peer {
		l.sync.inflight = false
	}
	if r.ChainID != l.r.chain {
		return
	}
	height := l.core.Status().Height
	l.r.log.Debug("sync response", "from", from, "first", r.From, "decisions", len(r.Decisions), "their_head", r.Head, "height", height)
	if r.Head > 0 {
		l.noteDecided(r.Head)
	}
	for i := range r.Decisions {
		h := r.From + types.Height(i)
		d := r.Decisions[i]
		if d.Height() != h || h < height || h >= height+2*MaxSyncBlocks {
			continue
		}
		if err := d.ValidateBasic(); err != nil {
			l.r.m.dropped.WithLabelValues(dropInvalid).Inc()
			l.r.log.Debug("synced decision refused", "height", h, "from", from, "err", err)
			break
		}
		l.sync.held[h] = heldDecision{from: from, decision: d}
		l.r.m.syncedBlocks.Inc()
	}
}

// feedSynced feeds the core the held decision of its current height; the
// core verifies its certificate and commits it, and the next one follows
// when the core has moved on. When nothing is held and the node is still
// behind, it asks again.
func (l *loop) feedSynced() {
	height := l.core.Status().Height
	for h := range l.sync.held {
		if h < height {
			delete(l.sync.held, h)
		}
	}
	if l.sync.feeding != 0 {
		if height <= l.sync.feeding && time.Since(l.sync.feedingSince) < syncTimeout {
			return // the fed decision is being verified
		}
		l.sync.feeding = 0
	}
	held, ok := l.sync.held[height]
	if !ok {
		if len(l.sync.held) == 0 && l.sync.target >= height && !l.sync.behindSince.IsZero() &&
			time.Since(l.sync.behindSince) > behindGrace {
			l.requestSync(l.otherMember(l.sync.peer), true)
		}
		return
	}
	delete(l.sync.held, height)
	l.sync.feeding, l.sync.feedingSince = height, time.Now()
	l.step(consensus.MessageReceived{Now: l.r.n.now(), From: held.from, Msg: &held.decision}, int(held.from))
}
