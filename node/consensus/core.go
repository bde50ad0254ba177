package consensus

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// Step is where a member stands within its current round.
type Step uint8

// The steps of a round.
const (
	// StepPropose: nothing signed in this round yet; waiting for the
	// proposal (or, for the leader, for the block or the justification).
	StepPropose Step = 1
	// StepPrepared: prepared, waiting for a prepare certificate.
	StepPrepared Step = 2
	// StepConfirmed: confirmed, waiting for a confirm certificate.
	StepConfirmed Step = 3
)

// String returns the step's name.
func (s Step) String() string {
	switch s {
	case StepPropose:
		return "propose"
	case StepPrepared:
		return "prepared"
	case StepConfirmed:
		return "confirmed"
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// Status is a read-only summary of a core, for tests and metrics.
type Status struct {
	Height types.Height
	Round  types.Round
	Step   Step
	// Leader is the leader of the current round.
	Leader types.ValidatorIndex
	// Locked reports whether the member holds a prepare certificate at
	// this height; LockRound and LockValue describe it.
	Locked    bool
	LockRound types.Round
	LockValue types.Hash
	// AwaitingBlock reports a value known decided at this height whose
	// block has not arrived yet.
	AwaitingBlock bool
	// AwaitingQuorum reports a round above 0 whose timers are not armed
	// yet: fewer than q members are known to have reached it, and the
	// member re-sends its round change every round timeout (rule 6).
	AwaitingQuorum bool
}

// verdict is the state of one verification.
type verdict uint8

const (
	verdictUnknown verdict = iota // never asked
	verdictPending                // asked, no answer yet
	verdictValid
	verdictInvalid
)

// verdictOf maps a boolean answer.
func verdictOf(ok bool) verdict {
	if ok {
		return verdictValid
	}
	return verdictInvalid
}

// transition is a move to another round or height decided during one event
// and carried out when the event's handling ends, so that no handler keeps
// working on the state of a round it has already left.
type transition struct {
	nextHeight bool
	round      types.Round // the round to enter when !nextHeight
}

// Core is one member's consensus state machine for one chain. It is not safe
// for concurrent use: the shell calls Step, Ready and Advance from one
// goroutine.
type Core struct {
	cfg Config
	th  Thresholds

	started bool
	now     time.Duration

	// The durable state (see PersistentState).
	height      types.Height
	round       types.Round
	lastPrepare *types.Vote
	lastConfirm *types.Vote
	lock        *types.Certificate
	// keptBlocks are the blocks of values this member prepared or locked
	// at this height (PersistentState.Blocks).
	keptBlocks []*Block
	// stateVersion counts changes of the durable state; persistedVersion
	// is the version last handed out in a Ready and acknowledged.
	stateVersion     uint64
	persistedVersion uint64

	hs *heightState
	rs *roundState
	// pending is the transition decided during the current event.
	pending *transition

	future futureBuffer
	// drain asks for buffered messages to be replayed after a transition.
	drain bool

	// prevDecision is the decision of height-1, sent to members still
	// changing rounds at that height; answered holds, per member, one more
	// than the highest round of theirs already answered, and answeredAt
	// when it was last answered.
	prevDecision *Decision
	answered     []uint64
	answeredAt   []time.Duration

	nextID   RequestID
	requests map[RequestID]*pendingRequest

	out  Ready
	mark readyMark
	// fault is an error of an injected dependency met while handling an
	// event that was itself fine; Step reports it.
	fault error
}

// readyMark remembers how much of the output the last Ready handed out.
type readyMark struct {
	taken                                              bool
	stateVersion                                       uint64
	send, commits, evidence, verify, proposals, timers int
}

// New returns a core for cfg (zero fields take their defaults) resuming
// from state, the PersistentState last written (InitialState for a member
// that never ran). It fails with an error wrapping ErrInvalid when the
// configuration is invalid or the state does not belong to this member.
// The core does nothing until it receives Start.
func New(cfg Config, state PersistentState) (*Core, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := state.validateFor(&cfg); err != nil {
		return nil, fmt.Errorf("consensus: %w", err)
	}
	c := &Core{
		cfg:          cfg,
		th:           ThresholdsFor(cfg.CommitteeSize),
		height:       state.Height,
		round:        state.Round,
		lastPrepare:  cloneVote(state.LastPrepare),
		lastConfirm:  cloneVote(state.LastConfirm),
		lock:         cloneCertificate(state.Lock),
		prevDecision: cloneDecision(state.PreviousDecision),
		future:       newFutureBuffer(cfg.CommitteeSize, cfg.MaxFutureMessagesPerMember),
		requests:     make(map[RequestID]*pendingRequest),
	}
	c.answered = make([]uint64, cfg.CommitteeSize)
	c.answeredAt = make([]time.Duration, cfg.CommitteeSize)
	c.hs = newHeightState(cfg.CommitteeSize)
	c.rs = newRoundState(state.Round, cfg.CommitteeSize)
	for i := range state.Blocks {
		b := state.Blocks[i].Clone()
		h := b.Hash()
		c.keptBlocks = append(c.keptBlocks, b)
		c.hs.blocks[h] = b
		c.hs.blockVerdicts[h] = verdictValid
	}
	return c, nil
}

// Step handles one event. On an error wrapping ErrStale, ErrFuture,
// ErrUnknownMember, ErrInvalid or ErrNotStarted the event changed nothing.
func (c *Core) Step(ev Event) error {
	if ev == nil {
		return fmt.Errorf("consensus: %w: nil event", ErrInvalid)
	}
	if _, isStart := ev.(Start); !isStart && !c.started {
		return fmt.Errorf("consensus: %T: %w", ev, ErrNotStarted)
	}
	prevNow := c.now
	if now := ev.now(); now > c.now {
		c.now = now
	}
	var err error
	switch ev := ev.(type) {
	case Start:
		err = c.start()
	case MessageReceived:
		err = c.receive(ev.From, ev.Msg)
	case TimerFired:
		err = c.timerFired(ev.Timer)
	case ProposalReady:
		err = c.proposalReady(&ev)
	case VerifyResult:
		err = c.verifyResult(&ev)
	default:
		err = fmt.Errorf("consensus: %w: unknown event %T", ErrInvalid, ev)
	}
	if err != nil {
		c.now = prevNow
	}
	c.settle()
	if c.fault != nil {
		err = errors.Join(err, c.fault)
		c.fault = nil
	}
	if invariantsEnabled {
		if ierr := c.CheckInvariants(); ierr != nil {
			return errors.Join(err, ierr)
		}
	}
	return err
}

// settle carries out the pending transition and replays the buffered
// messages it made current, until nothing moves.
func (c *Core) settle() {
	for {
		switch {
		case c.pending != nil:
			t := c.pending
			c.pending = nil
			if t.nextHeight {
				c.enterNextHeight()
			} else {
				c.enterRound(t.round)
			}
		case c.drain:
			c.drain = false
			msgs := c.future.take(c.height, c.round)
			for i, m := range msgs {
				if c.pending != nil {
					// A replayed message moved the core on; the rest
					// wait for the position they are now ahead of or
					// behind.
					c.future.putBack(msgs[i:])
					c.drain = true
					break
				}
				_ = c.receive(m.from, m.msg) // a replayed message's error is its sender's fault
			}
		default:
			return
		}
	}
}

// active reports whether the core may still act in its current round: no
// transition is pending and the height is not committed. Every vote,
// proposal and request goes through it, so nothing is signed for a round
// after the member has decided to leave it.
func (c *Core) active() bool { return c.pending == nil && !c.hs.committed }

// start handles Start.
func (c *Core) start() error {
	if c.started {
		return fmt.Errorf("consensus: start: %w: already started", ErrInvalid)
	}
	c.started = true
	// Our own votes of the restored round count in our tallies and go out
	// again, as does our round change while nothing happened since we
	// sent it (it reports only earlier rounds), in case the crash kept
	// them in.
	if c.round > 0 && !c.preparedThisRound() && (c.lock == nil || c.lock.Round < c.round) {
		c.broadcastRoundChange(c.round)
	}
	if c.lock != nil && c.lock.Round == c.round {
		cert := *c.lock
		c.rs.prepareCert = &cert
	}
	if v := c.lastPrepare; v != nil && v.Round == c.round {
		c.broadcast(&Prepare{Vote: *v})
		c.addOwnVote(stagePrepare, *v)
	}
	if v := c.lastConfirm; v != nil && v.Round == c.round {
		if c.rs.prepareCert != nil && c.rs.prepareCert.BlockHash == v.BlockHash {
			c.broadcast(&Confirm{Vote: *v, PrepareCertificate: *c.rs.prepareCert})
		}
		c.addOwnVote(stageConfirm, *v)
	}
	c.startRoundClock()
	c.requestBlockIfLeader()
	return nil
}

// ---------------------------------------------------------------- Ready

// HasReady reports whether Ready has anything to hand out.
func (c *Core) HasReady() bool {
	o := &c.out
	return c.stateVersion != c.persistedVersion || len(o.Send) > 0 || len(o.Commits) > 0 || len(o.Evidence) > 0 ||
		len(o.Verify) > 0 || len(o.ProposalRequests) > 0 || len(o.Timers) > 0
}

// Ready returns the actions accumulated since the last Advance. The shell
// carries them out in the order the Ready type documents and then calls
// Advance. Step may be called between the two; what it adds waits for the
// next Ready. The returned messages and blocks are shared with the core and
// must not be modified.
func (c *Core) Ready() Ready {
	r := Ready{
		Send:             c.out.Send[:len(c.out.Send):len(c.out.Send)],
		Commits:          c.out.Commits[:len(c.out.Commits):len(c.out.Commits)],
		Evidence:         c.out.Evidence[:len(c.out.Evidence):len(c.out.Evidence)],
		Verify:           c.out.Verify[:len(c.out.Verify):len(c.out.Verify)],
		ProposalRequests: c.out.ProposalRequests[:len(c.out.ProposalRequests):len(c.out.ProposalRequests)],
		Timers:           c.out.Timers[:len(c.out.Timers):len(c.out.Timers)],
	}
	if c.stateVersion != c.persistedVersion {
		s := c.persistentState()
		r.Persist = &s
	}
	c.mark = readyMark{
		taken:        true,
		stateVersion: c.stateVersion,
		send:         len(r.Send), commits: len(r.Commits), evidence: len(r.Evidence),
		verify: len(r.Verify), proposals: len(r.ProposalRequests), timers: len(r.Timers),
	}
	return r
}

// Advance acknowledges the last Ready: its actions have been carried out.
func (c *Core) Advance() {
	m := c.mark
	if !m.taken {
		return
	}
	c.out.Send = dropFront(c.out.Send, m.send)
	c.out.Commits = dropFront(c.out.Commits, m.commits)
	c.out.Evidence = dropFront(c.out.Evidence, m.evidence)
	c.out.Verify = dropFront(c.out.Verify, m.verify)
	c.out.ProposalRequests = dropFront(c.out.ProposalRequests, m.proposals)
	c.out.Timers = dropFront(c.out.Timers, m.timers)
	c.persistedVersion = m.stateVersion
	c.mark = readyMark{}
}

// dropFront removes the first n elements into a fresh slice, so that the
// slices of an acknowledged Ready are never written again.
func dropFront[T any](s []T, n int) []T {
	if n >= len(s) {
		return nil
	}
	return slices.Clone(s[n:])
}

// persistentState returns a copy of the durable state.
func (c *Core) persistentState() PersistentState {
	return PersistentState{
		ChainID:          c.cfg.Chain,
		Height:           c.height,
		Round:            c.round,
		LastPrepare:      cloneVote(c.lastPrepare),
		LastConfirm:      cloneVote(c.lastConfirm),
		Lock:             cloneCertificate(c.lock),
		Blocks:           c.keptBlockValues(),
		PreviousDecision: c.prevDecision,
	}
}

func (c *Core) keptBlockValues() []Block {
	if len(c.keptBlocks) == 0 {
		return nil
	}
	out := make([]Block, len(c.keptBlocks))
	for i, b := range c.keptBlocks {
		out[i] = *b
	}
	return out
}

// keepBlock adds the block of value, when this member holds it, to the
// blocks it persists.
func (c *Core) keepBlock(value types.Hash) {
	b := c.hs.blocks[value]
	if b == nil || slices.ContainsFunc(c.keptBlocks, func(k *Block) bool { return k.Hash() == value }) {
		return
	}
	if len(c.keptBlocks) == MaxKeptBlocks {
		c.keptBlocks = slices.Delete(c.keptBlocks, 0, 1)
	}
	c.keptBlocks = append(c.keptBlocks, b)
	c.bumpState()
}

// ---------------------------------------------------------------- Status

// Status returns a summary of the core's position.
func (c *Core) Status() Status {
	s := Status{
		Height:         c.height,
		Round:          c.round,
		Step:           StepPropose,
		Leader:         c.leader(c.round),
		AwaitingBlock:  c.hs.decided != nil,
		AwaitingQuorum: !c.rs.timersArmed,
	}
	if c.preparedThisRound() {
		s.Step = StepPrepared
	}
	if c.confirmedThisRound() {
		s.Step = StepConfirmed
	}
	if c.lock != nil {
		s.Locked, s.LockRound, s.LockValue = true, c.lock.Round, c.lock.BlockHash
	}
	return s
}

// Thresholds returns the committee thresholds the core uses.
func (c *Core) Thresholds() Thresholds { return c.th }

// ---------------------------------------------------------------- helpers

func (c *Core) leader(r types.Round) types.ValidatorIndex {
	return Leader(c.height, r, c.cfg.CommitteeSize)
}

func (c *Core) isLeader(r types.Round) bool { return c.leader(r) == c.cfg.Self }

func (c *Core) preparedThisRound() bool {
	return c.lastPrepare != nil && c.lastPrepare.Round == c.round
}

func (c *Core) confirmedThisRound() bool {
	return c.lastConfirm != nil && c.lastConfirm.Round == c.round
}

func (c *Core) isMember(i types.ValidatorIndex) bool {
	return int64(i) < int64(c.cfg.CommitteeSize)
}

func (c *Core) emptySignerSet() types.SignerSet {
	s, _ := types.NewSignerSet(c.cfg.CommitteeSize) // size validated by New
	return s
}

// bumpState records a change of the durable state, to be persisted.
func (c *Core) bumpState() { c.stateVersion++ }

func (c *Core) send(to types.ValidatorIndex, m Message) {
	c.out.Send = append(c.out.Send, Envelope{To: to, Msg: m})
}

func (c *Core) broadcast(m Message) { c.send(Broadcast, m) }

func (c *Core) sign(msg []byte) [types.BLSSignatureSize]byte { return c.cfg.Signer.Sign(msg) }

// timeout returns base + r*TimeoutIncrement, saturating instead of
// overflowing in absurdly high rounds.
func (c *Core) timeout(base time.Duration, r types.Round) time.Duration {
	inc := c.cfg.TimeoutIncrement
	if inc > 0 && int64(r) > (int64(1<<62)-int64(base))/int64(inc) {
		return time.Duration(1 << 62)
	}
	return base + time.Duration(r)*inc
}

// startRoundClock starts the clock of the round just entered: its two
// timers when a quorum is known to be in it, otherwise the resend timer
// that re-sends this member's round change until one is (rule 6).
func (c *Core) startRoundClock() {
	if c.quorumInRound() {
		c.armTimers()
		return
	}
	c.armResendTimer()
}

// maybeArmTimers arms the current round's timers once a quorum is known to
// be in it. Every event that can make quorumInRound true calls it.
func (c *Core) maybeArmTimers() {
	if c.rs.timersArmed || !c.active() || !c.quorumInRound() {
		return
	}
	c.armTimers()
}

// quorumInRound reports whether at least q members are known to have
// reached the current round: round 0 (every member starts a height there),
// q round changes for this round or a later one (the member's own
// included), or a prepare or a lock of this round (which a proposal
// justified by q round changes, or a prepare certificate of q members,
// preceded). docs/CONSENSUS.md, rule 6: "round timers wait for a quorum".
func (c *Core) quorumInRound() bool {
	if c.round == 0 || c.preparedThisRound() || (c.lock != nil && c.lock.Round == c.round) {
		return true
	}
	held := 0
	for _, e := range c.hs.roundChanges {
		if e != nil && e.msg.Round >= c.round && c.hs.rcVerdicts[e.key] != verdictInvalid {
			held++
		}
	}
	return held >= c.th.Quorum
}

// armTimers sets the two timers of the current round from now.
func (c *Core) armTimers() {
	c.rs.timersArmed = true
	c.out.Timers = append(c.out.Timers,
		TimerSetting{Timer: Timer{Kind: TimerProposal, Height: c.height, Round: c.round}, Deadline: c.now + c.timeout(c.cfg.ProposalTimeout, c.round)},
		TimerSetting{Timer: Timer{Kind: TimerRound, Height: c.height, Round: c.round}, Deadline: c.now + c.timeout(c.cfg.RoundTimeout, c.round)},
	)
}

// armResendTimer sets the resend timer of the current round, one round
// timeout from now.
func (c *Core) armResendTimer() {
	c.out.Timers = append(c.out.Timers,
		TimerSetting{Timer: Timer{Kind: TimerResendRoundChange, Height: c.height, Round: c.round}, Deadline: c.now + c.timeout(c.cfg.RoundTimeout, c.round)})
}

// requestBlockIfLeader asks the shell for a block when this member leads
// the current round and may still propose in it.
func (c *Core) requestBlockIfLeader() {
	if c.isLeader(c.round) && !c.preparedThisRound() && c.hs.ownBlocks[c.round] == nil {
		c.out.ProposalRequests = append(c.out.ProposalRequests, ProposalRequest{Height: c.height, Round: c.round})
	}
}

// enterRound moves to round r > c.round of the current height.
func (c *Core) enterRound(r types.Round) {
	c.round = r
	c.rs = newRoundState(r, c.cfg.CommitteeSize)
	c.bumpState()
	c.hs.pruneBelow(r)
	c.startRoundClock()
	c.requestBlockIfLeader()
	c.drain = true
	c.tryPropose()
	c.maybeVerifyRoundChanges()
}

// enterNextHeight starts height+1 at round 0 after a commit.
func (c *Core) enterNextHeight() {
	c.prevDecision = c.hs.commit
	c.answered = make([]uint64, c.cfg.CommitteeSize)
	c.answeredAt = make([]time.Duration, c.cfg.CommitteeSize)
	c.height++
	c.round = 0
	c.lastPrepare, c.lastConfirm, c.lock = nil, nil, nil
	c.keptBlocks = nil
	c.bumpState()
	c.hs = newHeightState(c.cfg.CommitteeSize)
	c.rs = newRoundState(0, c.cfg.CommitteeSize)
	// Only evidence checks outlive the height; other answers would be
	// about a height that is over.
	for id, p := range c.requests {
		if !p.purpose.isEvidence() {
			delete(c.requests, id)
		}
	}
	c.startRoundClock()
	c.requestBlockIfLeader()
	c.drain = true
}

// decide records the decision of the current height by cert, or, when the
// decided block has not arrived, remembers the certificate until it does.
func (c *Core) decide(cert types.Certificate) {
	if c.hs.committed || (c.pending != nil && c.pending.nextHeight) {
		return
	}
	var block *Block
	if v := cert.BlockHash; !IsEmptyValue(v) {
		block = c.hs.blocks[v]
		if block == nil {
			if c.hs.decided == nil {
				c.hs.decided = &cert
			}
			return
		}
	}
	d := &Decision{Block: block, Certificate: cert}
	c.hs.committed = true
	c.hs.commit = d
	c.out.Commits = append(c.out.Commits, *d)
	c.broadcast(d)
	c.pending = &transition{nextHeight: true}
}

// decideIfBlockArrived completes a decision that waited for its block.
func (c *Core) decideIfBlockArrived() {
	if d := c.hs.decided; d != nil && c.hs.blocks[d.BlockHash] != nil {
		c.decide(*d)
	}
}

// scheduleRound makes the core enter round r when the event is handled.
func (c *Core) scheduleRound(r types.Round) {
	if c.pending == nil {
		c.pending = &transition{round: r}
	} else if !c.pending.nextHeight && r > c.pending.round {
		c.pending.round = r
	}
}

func cloneVote(v *types.Vote) *types.Vote {
	if v == nil {
		return nil
	}
	out := *v
	return &out
}

func cloneDecision(d *Decision) *Decision {
	if d == nil {
		return nil
	}
	return &Decision{Block: d.Block.Clone(), Certificate: d.Certificate}
}

func cloneCertificate(c *types.Certificate) *types.Certificate {
	if c == nil {
		return nil
	}
	out := *c
	return &out
}
