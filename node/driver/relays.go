package driver

import (
	"context"
	"errors"
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
	// relayRebuildWindow is how many of the last committed blocks' outer
	// relays a restarted node sends again: those of older blocks were
	// sent before the restart by this node and by every other member of
	// the chain, each until acknowledged.
	relayRebuildWindow = 512
	// relayResendBase is the first wait before an unacknowledged relay
	// package is sent again (doubling up to relay.DefaultResendMax).
	relayResendBase = time.Second
)

// relayEvent is what the relay loop hears from the rest of the runner.
type relayEvent struct {
	// committed is a block of the chain, durable.
	committed *committedBlock
	// acked are relay IDs a destination consumed.
	acked []types.Hash
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
//   - the outer relays of committed blocks: once the recorder has recorded
//     a block on this node, its packages (relay.Outbox) enter a
//     relay.Pending and go to member (self mod n_dest) of their destination
//     chain, again with backoff until acknowledged. A sub-chain's package
//     for a chain outside its coordinator (which does not follow the
//     coordinator) is lifted first: it carries the path of the block's
//     header in the coordinator block that recorded it, and waits until
//     the root recorded that coordinator block. Between sub-chains of one
//     coordinator no lift is needed: the destination follows the
//     coordinator too (paper 4.3, the faster path).
//
// At start it reads the relays of the last blocks back from the store (see
// relayRebuildWindow).
func (a *txApp) relayLoop(ctx context.Context) {
	l := &relayState{
		a:        a,
		pending:  relay.NewPending(relay.PendingConfig{Base: relayResendBase}),
		outboxes: map[types.Height]*outbox{},
		recs:     newRecordSender(a.r, a.parentRunner),
		start:    time.Now(),
	}
	l.rebuild()
	tick := time.NewTicker(relayTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-a.events:
			switch {
			case ev.committed != nil:
				l.onCommitted(ctx, ev.committed)
			default:
				l.pending.Ack(ev.acked)
			}
		case <-a.recordersMoved:
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
	// outboxes are the packages of committed blocks not all sent yet, by
	// height.
	outboxes map[types.Height]*outbox
	recs     *recordSender
	start    time.Time
}

type outbox struct {
	hash types.Hash
	pkgs []relay.Addressed
	// siblingsSent: the packages that need no lift are in pending; the
	// others wait for the root.
	siblingsSent bool
}

func (l *relayState) now() time.Duration { return time.Since(l.start) }

// rebuild reads back the outer relays of the last relayRebuildWindow
// committed blocks.
func (l *relayState) rebuild() {
	a := l.a
	head, _ := a.head()
	lo := types.Height(1)
	if head.Height >= relayRebuildWindow {
		lo = types.Height(head.Height) - relayRebuildWindow + 1
	}
	empty := merkle.EmptyRoot()
	for h := lo; uint64(h) <= head.Height; h++ {
		sb, err := readStoredBlock(a.db, a.spec.ID, h)
		if err != nil {
			a.r.log.Error("rebuild relays", "height", h, "err", err)
			return
		}
		if sb.Decision == nil || sb.Decision.Block == nil || sb.Header.OuterRelayRoot == empty {
			continue
		}
		body, err := exec.DecodeBody(sb.Decision.Block.Body)
		if err != nil {
			a.r.log.Error("rebuild relays", "height", h, "err", err)
			continue
		}
		l.addOutbox(&sb.Header, &body)
	}
	if len(l.outboxes) > 0 {
		a.r.log.Info("relays of recent blocks to send again", "blocks", len(l.outboxes))
	}
}

func (l *relayState) addOutbox(h *types.Header, body *exec.Body) {
	pkgs, err := relay.Outbox(h, body, l.a.topo)
	if err != nil {
		l.a.r.log.Error("outbox of a committed block", "height", h.Height, "err", err)
		return
	}
	if len(pkgs) > 0 {
		l.outboxes[h.Height] = &outbox{hash: h.Hash(), pkgs: pkgs}
	}
}

func (l *relayState) onCommitted(ctx context.Context, c *committedBlock) {
	a := l.a
	l.recs.committed(c.record)
	if c.body != nil {
		l.addOutbox(&c.record.Header, c.body)
	}
	if len(c.acks) > 0 {
		a.sendAcks(c.acks)
	}
	l.step(ctx)
}

// step sends what is due: records, and the relays of blocks the recorders
// recorded.
func (l *relayState) step(ctx context.Context) {
	a := l.a
	chain := a.spec.ID
	parent := a.parent
	tip, _ := parent.Tip(chain)
	now := l.now()
	for h, ob := range l.outboxes {
		if h > tip.Height {
			continue
		}
		if !parent.Confirmed(chain, h, ob.hash) {
			a.r.log.Error("the recorder chain recorded another block than this node committed", "height", h, "committed", ob.hash)
			delete(l.outboxes, h)
			continue
		}
		done := true
		for _, p := range ob.pkgs {
			if l.needsLift(p.Dest) {
				done = false
				continue
			}
			if !ob.siblingsSent {
				l.queue(now, h, p)
			}
		}
		ob.siblingsSent = true
		if !done {
			lifted, ok := l.lift(h, ob)
			if !ok {
				continue
			}
			for _, p := range lifted {
				l.queue(now, h, p)
			}
		}
		delete(l.outboxes, h)
	}
	l.sendRelays(ctx, l.pending.Due(now))
	l.recs.step(ctx)
}

func (l *relayState) queue(now time.Duration, h types.Height, p relay.Addressed) {
	if err := l.pending.Add(now, p); err != nil {
		l.a.r.log.Warn("relay not queued", "height", h, "err", err)
	}
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

// lift returns the packages of ob that need a lift, lifted to the
// coordinator block that recorded height h, once the root recorded that
// block; false while it has not.
func (l *relayState) lift(h types.Height, ob *outbox) ([]relay.Addressed, bool) {
	a := l.a
	coord := a.parent
	an, ok := coord.recorded(a.spec.ID, h)
	if !ok {
		return nil, false
	}
	sb, body, err := coord.rootBlock(an.root)
	if err != nil {
		a.r.log.Error("read the coordinator block of a relay", "height", h, "err", err)
		return nil, false
	}
	if !a.top.Confirmed(coord.r.chain, sb.Header.Height, sb.Header.Hash()) {
		return nil, false
	}
	path, err := rootchain.ProveRecord(&body, a.spec.ID, h)
	if err != nil {
		a.r.log.Error("prove a relay's block in its coordinator block", "height", h, "err", err)
		return nil, false
	}
	var out []relay.Addressed
	for _, p := range ob.pkgs {
		if !l.needsLift(p.Dest) {
			continue
		}
		pkg, err := relay.LiftPackage(p.Package, &sb.Header, path)
		if err != nil {
			a.r.log.Error("lift a relay", "height", h, "err", err)
			continue
		}
		out = append(out, relay.Addressed{Dest: p.Dest, Package: pkg})
	}
	return out, true
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
