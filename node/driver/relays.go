package driver

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// Timings and bounds of the relay loop.
const (
	// relayTick paces the relay and record loops when the recorders are
	// quiet.
	relayTick = 200 * time.Millisecond
	// recordResend is how long a digest record may stay unrecorded by the
	// recorder chain (on this node's view) before it is sent again, then
	// to every member of the recorder.
	recordResend = 2 * time.Second
	// relayResendBase is the first wait before an unacknowledged relay
	// package is sent again (doubling up to relayLimits.resendMax).
	relayResendBase = time.Second
	// relayMarkEvery is the least time between two writes of the delivery
	// mark: it may lag, a restarted node then sends a little more again.
	relayMarkEvery = 5 * time.Second
)

// relayLimits bound what the relay loop holds in memory. They are
// variables so that tests can lower them (export_test.go) before nodes
// start.
var relayLimits = struct {
	// held is the most packages in memory, and in relay.Pending, shared
	// evenly by the destination chains (relayBacklog.perDest).
	held int
	// reads is the most committed heights read back from the store per
	// step.
	reads int
	// resendMax is the longest wait between two sends of a package.
	resendMax time.Duration
}{held: relay.DefaultPendingSize, reads: 1024, resendMax: relay.DefaultResendMax}

// relayEvent is what the relay loop hears from the rest of the runner.
type relayEvent struct {
	// committed is a block of the chain, durable.
	committed *committedBlock
	// acked are relay IDs a destination consumed, acknowledged by genesis
	// node ackedBy.
	acked   []types.Hash
	ackedBy int
}

// committedBlock is what the relay loop needs of a committed height.
type committedBlock struct {
	record rootchain.Record
	// body is the block's body when it has outer relays.
	body *exec.Body
	// acks are the relays the block consumed, by the node that sent them.
	acks map[int]relayAcks
}

// relayAcks are relay IDs of one source chain to acknowledge to one node.
type relayAcks struct {
	source types.ChainID
	ids    []types.Hash
}

// recordOf returns the digest record of a committed height: its header (the
// synthetic empty header for EMPTY) and the decision certificate.
func recordOf(p *commitPlan) rootchain.Record {
	return rootchain.Record{Header: p.header, Certificate: p.decision.Certificate}
}

// relayLoop is the transaction chain's link to the other chains. It owns:
//
//   - the digest records of committed heights (a recordSender to the
//     chain's recorder: the root, or the coordinator of a sub-chain);
//   - the outer relays of committed blocks (a relayBacklog): once the
//     recorder has recorded a block on this node, its packages
//     (relay.Outbox) enter a relay.Pending and go to member (self mod
//     n_dest) of their destination chain, again with backoff until that
//     member acknowledges them. A sub-chain's package for a chain outside
//     its coordinator (which does not follow the coordinator) is lifted
//     first: it carries the path of the block's header in the coordinator
//     block that recorded it, and waits until the root recorded that
//     coordinator block. Between sub-chains of one coordinator no lift is
//     needed: the destination follows the coordinator too (paper 4.3, the
//     faster path).
//
// The backlog holds a bounded part of what is unacknowledged and reads the
// rest back from the store as acknowledgements free room, starting after a
// restart from the stored delivery mark, which the loop writes every
// relayMarkEvery while it moves, and once more when it stops.
func (a *txApp) relayLoop(ctx context.Context) {
	l := a.newRelayState()
	defer l.saveMark(true)
	tick := time.NewTicker(relayTick)
	defer tick.Stop()
	l.step(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-a.events:
			switch {
			case ev.committed != nil:
				l.onCommitted(ctx, ev.committed)
			default:
				l.onAcked(ev.ackedBy, ev.acked)
			}
		case <-a.recordersMoved:
			l.step(ctx)
		case <-l.wake:
			l.step(ctx)
		case <-tick.C:
			l.step(ctx)
		}
	}
}

// relayState is the relay loop's state; only its goroutine touches it.
type relayState struct {
	a       *txApp
	pending *relay.Pending
	backlog *relayBacklog
	// recent is the last committed block, so that a backlog that keeps up
	// does not read it back from the store.
	recent *committedBlock
	recs   *recordSender
	start  time.Time
	// marks are the delivery marks in the store, by destination; markAt
	// when the loop last looked whether to write them.
	marks  map[types.ChainID]types.Height
	markAt time.Time
	// wake asks for a step soon: the backlog stopped on its read budget,
	// or acknowledgements freed room.
	wake chan struct{}
	// failed is the last error reading the backlog, logged once.
	failed string
}

// newRelayState starts the relay loop's state from the stored delivery
// marks: every committed height from a destination's mark on is read back
// for it, as room allows.
func (a *txApp) newRelayState() *relayState {
	r := a.r
	chain := a.spec.ID
	head, _ := a.head()
	dests := map[types.ChainID]int{}
	var destList []types.ChainID
	for _, d := range a.topo.Transactions() {
		if c, found := r.n.gen.Chain(d); found && d != chain && len(c.Committee) > 0 {
			dests[d] = c.Committee[int(r.self)%len(c.Committee)]
			destList = append(destList, d)
		}
	}
	marks, err := readDeliveryMarks(a.db, chain, destList)
	if err != nil {
		r.log.Error("relays: delivery marks unreadable, sending every relay of the chain again", "err", err)
		marks = map[types.ChainID]types.Height{}
	}
	for d, m := range marks {
		if m > types.Height(head.Height)+1 {
			r.log.Error("relays: delivery mark above the head, sending every relay to the chain again", "dest", d, "mark", m, "head", head.Height)
			delete(marks, d)
		}
	}
	perDest := relayLimits.held / max(1, len(dests))
	l := &relayState{
		a:       a,
		pending: relay.NewPending(relay.PendingConfig{Max: relayLimits.held, Base: relayResendBase, MaxBackoff: relayLimits.resendMax}),
		backlog: newRelayBacklog(marks, types.Height(head.Height), dests, perDest, relayLimits.reads),
		recs:    newRecordSender(a.r, a.parentRunner),
		start:   time.Now(),
		wake:    make(chan struct{}, 1),
	}
	l.marks = marks
	if from := l.backlog.mark(); uint64(from) <= head.Height {
		r.log.Info("relays of committed blocks to send again", "from", from, "head", head.Height)
	}
	return l
}

func (l *relayState) now() time.Duration { return time.Since(l.start) }

// onAcked releases the packages node acknowledged, counting each with the
// time since its source block's timestamp, which the backlog holds anyway:
// the block's commit time is not kept.
func (l *relayState) onAcked(node int, ids []types.Hash) {
	m := l.a.rm
	now := time.Now()
	released := l.backlog.ackEach(node, ids, func(r *heldRelay) {
		p := m.peer(r.a.Dest)
		p.acked.Inc()
		p.ackLatency.Observe(max(0, now.Sub(r.block.header.Time())).Seconds())
	})
	if len(released) > 0 {
		l.pending.Ack(released)
		l.wakeUp()
	}
}

// observe sets the relay gauges from the backlog and relay.Pending.
func (l *relayState) observe() {
	m, b := l.a.rm, l.backlog
	for dest, s := range b.streams {
		p := m.peer(dest)
		p.held.Set(float64(s.held))
		p.unread.Set(float64(b.unread(s)))
	}
	m.pending.Set(float64(l.pending.Len()))
	m.lag.Set(float64(b.lag()))
}

func (l *relayState) onCommitted(ctx context.Context, c *committedBlock) {
	a := l.a
	l.recs.committed(c.record)
	l.recent = c
	l.backlog.committed(c.record.Header.Height)
	if len(c.acks) > 0 {
		a.sendAcks(c.acks)
	}
	l.step(ctx)
}

// step sends what is due: records, and the relays of blocks the recorders
// recorded, after reading further heights into the backlog.
func (l *relayState) step(ctx context.Context) {
	more := l.fill()
	l.queueRecorded()
	l.sendRelays(ctx, l.pending.Due(l.now()))
	l.recs.step(ctx)
	l.saveMark(false)
	l.observe()
	if more {
		l.wakeUp()
	}
}

func (l *relayState) wakeUp() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// fill reads the next heights into the backlog; true when heights are left
// that could be read at once.
func (l *relayState) fill() bool {
	log := l.a.r.log
	more, skipped, err := l.backlog.fill(l.readOutbox)
	if skipped > 0 {
		log.Error("relays to a chain without committee", "count", skipped)
	}
	if err == nil {
		l.failed = ""
	} else {
		if msg := err.Error(); msg != l.failed {
			l.failed = msg
			log.Error("relays: read a committed block back", "err", err)
		}
	}
	return more
}

// readOutbox is the backlog's outboxReader: the packages of committed
// height h, from the last commit or the store. A stored block whose relays
// cannot be rebuilt (which its commit did) has none: they are logged and
// left to the chain's other members.
func (l *relayState) readOutbox(h types.Height) (types.Header, []relay.Addressed, error) {
	a := l.a
	var header types.Header
	var body *exec.Body
	if c := l.recent; c != nil && c.record.Header.Height == h {
		header, body = c.record.Header, c.body
	} else {
		sb, err := readStoredBlock(a.db, a.spec.ID, h)
		if err != nil {
			return types.Header{}, nil, err
		}
		header = sb.Header
		if sb.Decision != nil && sb.Decision.Block != nil && header.OuterRelayRoot != merkle.EmptyRoot() {
			b, err := exec.DecodeBody(sb.Decision.Block.Body)
			if err != nil {
				a.r.log.Error("relays of a stored block", "height", h, "err", err)
			} else {
				body = &b
			}
		}
	}
	if body == nil {
		return header, nil, nil
	}
	pkgs, err := relay.Outbox(&header, body, a.topo)
	if err != nil {
		a.r.log.Error("outbox of a committed block", "height", h, "err", err)
		return header, nil, nil
	}
	return header, pkgs, nil
}

// queueRecorded hands relay.Pending the packages of the blocks the
// recorder recorded, lifted where they need it, oldest first, as long as
// it has room; what does not fit waits in the backlog.
func (l *relayState) queueRecorded() {
	a := l.a
	chain := a.spec.ID
	tip, _ := a.parent.Tip(chain)
	now := l.now()
	for _, blk := range l.backlog.unsentBlocks() {
		if blk.height > tip.Height {
			return
		}
		if !blk.confirmed {
			if !a.parent.Confirmed(chain, blk.height, blk.hash) {
				a.r.log.Error("the recorder chain recorded another block than this node committed", "height", blk.height, "committed", blk.hash)
				dropped := l.backlog.drop(blk)
				l.pending.Ack(dropped)
				a.rm.abandoned.WithLabelValues(abandonRecordedOther).Add(float64(len(dropped)))
				continue
			}
			blk.confirmed = true
		}
		var lift *liftProof
		tried := false
		for _, r := range blk.relays {
			if r.done || r.queued {
				continue
			}
			if !r.lifted && l.needsLift(r.a.Dest) {
				if !tried {
					lift, tried = l.lift(blk.height), true
				}
				if lift == nil {
					continue
				}
				pkg, err := relay.LiftPackage(r.a.Package, &blk.header, &lift.header, lift.path)
				if err != nil {
					a.r.log.Error("lift a relay", "height", blk.height, "err", err)
					l.backlog.release(r)
					a.rm.abandoned.WithLabelValues(abandonLiftFailed).Inc()
					continue
				}
				r.a.Package = pkg
			}
			r.lifted = true
			if err := l.pending.Add(now, r.a); err != nil {
				l.backlog.settle(blk)
				return
			}
			r.queued = true
		}
		l.backlog.settle(blk)
	}
}

// saveMark writes the delivery marks that moved; it looks at most every
// relayMarkEvery, unless final.
func (l *relayState) saveMark(final bool) {
	if !final && time.Since(l.markAt) < relayMarkEvery {
		return
	}
	l.markAt = time.Now()
	moved := map[types.ChainID]types.Height{}
	for d, m := range l.backlog.marks() {
		if old, ok := l.marks[d]; !ok || m > old {
			moved[d] = m
		}
	}
	if len(moved) == 0 {
		return
	}
	a := l.a
	if err := writeDeliveryMarks(a.db, a.spec.ID, moved); err != nil {
		a.r.log.Error("relays: write the delivery marks", "err", err)
		return
	}
	maps.Copy(l.marks, moved)
}

// needsLift reports whether a package for chain dest must be lifted to the
// root: this chain is a sub-chain and dest does not follow its coordinator.
func (l *relayState) needsLift(dest types.ChainID) bool {
	a := l.a
	if a.parent.r.chain == types.RootChain {
		return false
	}
	c, ok := a.topo.Chain(dest)
	return !ok || c.Parent != a.parent.r.chain
}

// liftProof is the hop of a sub-chain's block up to the coordinator block
// that recorded it.
type liftProof struct {
	header types.Header // the coordinator block
	path   merkle.Proof // of the sub-chain's header in its record root
}

// lift returns the lift of height h of the chain to the coordinator block
// that recorded it, once the root recorded that block; nil while it has
// not.
func (l *relayState) lift(h types.Height) *liftProof {
	a := l.a
	coord := a.parent
	an, ok := coord.recorded(a.spec.ID, h)
	if !ok {
		return nil
	}
	sb, body, err := coord.rootBlock(an.root)
	if err != nil {
		a.r.log.Error("read the coordinator block of a relay", "height", h, "err", err)
		return nil
	}
	if !a.top.Confirmed(coord.r.chain, sb.Header.Height, sb.Header.Hash()) {
		return nil
	}
	path, err := rootchain.ProveRecord(&body, a.spec.ID, h)
	if err != nil {
		a.r.log.Error("prove a relay's block in its coordinator block", "height", h, "err", err)
		return nil
	}
	return &liftProof{header: sb.Header, path: path}
}

// sendRelays sends due packages to their destination chains: this member
// i to destination member i mod n.
func (l *relayState) sendRelays(ctx context.Context, due []relay.Addressed) {
	a := l.a
	r := a.r
	budget := min(relay.MaxBatchSize, r.n.cfg.Network.MaxFrameBytes-64<<10)
	for len(due) > 0 {
		dest := due[0].Dest
		n := 1
		for n < len(due) && due[n].Dest == dest {
			n++
		}
		pkgs := make([]relay.Package, n)
		for i := range pkgs {
			pkgs[i] = due[i].Package
		}
		due = due[n:]
		committee := r.n.gen.Committee(dest)
		if len(committee) == 0 {
			r.log.Error("relay to a chain without committee", "chain", dest)
			continue
		}
		peer := committee[int(r.self)%len(committee)].PeerID
		sent := a.rm.peer(dest).sent
		for _, b := range relay.SplitBatches(a.spec.ID, dest, pkgs, budget) {
			enc, err := b.AppendBinary(appendEnvelope(nil, dest))
			if err != nil {
				r.log.Error("encode relay batch", "err", err)
				continue
			}
			if err := r.n.sendTo(ctx, peer, enc, sendWait); err != nil {
				r.m.dropped.WithLabelValues(dropSendFailed).Inc()
				r.log.Debug("relay batch not sent", "dest", dest, "err", err)
				continue
			}
			r.m.messagesOut.WithLabelValues("relay_batch").Inc()
			sent.Add(float64(len(b.Packages)))
		}
	}
}

// sendAcks acknowledges consumed relays to the nodes that sent them,
// best-effort: a lost acknowledgement costs a re-send, which is
// acknowledged again.
func (a *txApp) sendAcks(acks map[int]relayAcks) {
	r := a.r
	for node, ra := range acks {
		if node < 0 || node >= len(r.n.gen.Nodes) || node == r.n.self {
			continue
		}
		for _, ack := range relay.SplitAcks(a.spec.ID, ra.ids) {
			enc, err := ack.AppendBinary(appendEnvelope(nil, ra.source))
			if err != nil {
				r.log.Error("encode relay ack", "err", err)
				continue
			}
			if err := r.n.tr.TrySend(r.n.gen.Nodes[node].PeerID, enc); err != nil {
				if !errors.Is(err, context.Canceled) {
					r.m.dropped.WithLabelValues(dropSendFailed).Inc()
				}
				continue
			}
			r.m.messagesOut.WithLabelValues("relay_ack").Inc()
		}
	}
}

// countRelays counts the relays a committed height produced, by
// destination chain, and consumed, by source chain.
func (a *txApp) countRelays(p *commitPlan) {
	if p.result == nil {
		return
	}
	body := &p.result.Body
	for i := range body.OuterRelay {
		a.rm.peer(a.topo.OwnerOf(body.OuterRelay[i].To)).produced.Inc()
	}
	if len(p.consumed) == 0 {
		return
	}
	for i := range body.Inputs {
		if m := &body.Inputs[i].Message; m.Kind == types.MessageOuterRelay {
			a.rm.peer(m.SourceChain).consumed.Inc()
		}
	}
}

// refusal returns the relay_packages_refused_total reason of the inbox's
// refusal err of pkg. Both refusals of a relay that can never verify wrap
// relay.ErrInvalid; they are told apart by decoding the proof again, which
// only a refused package costs.
func refusal(pkg *relay.Package, err error) string {
	switch {
	case errors.Is(err, relay.ErrFull):
		return refuseInboxFull
	case !errors.Is(err, relay.ErrInvalid):
		return refuseOther
	case !standaloneProofDecodes(pkg.Proof):
		return refuseBadProof
	default:
		return refuseMisaddressed
	}
}

// standaloneProofDecodes reports whether proof is a relay proof in either
// stand-alone form (by reference, or full), as the inbox takes them.
func standaloneProofDecodes(proof []byte) bool {
	var err error
	if len(proof) > 0 && proof[0] == relay.RefProofTag {
		_, err = relay.DecodeRefProof(proof)
	} else {
		_, err = relay.DecodeProof(proof)
	}
	return err == nil
}
