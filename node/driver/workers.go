package driver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// receiveLoop takes the runner's payloads from the demux and routes each on
// its first byte: consensus messages (decoded and checked with
// ValidateBasic, the network edge) and sync responses to the consensus loop,
// sync requests to the server; the app's own kinds (message batches, relay
// batches and acknowledgements, digest records) to the app. Consensus and
// sync traffic from a node outside the committee, and anything unknown, is
// dropped and counted; nothing here panics on input.
func (r *runner) receiveLoop(ctx context.Context) {
	for {
		var in inbound
		select {
		case <-ctx.Done():
			return
		case in = <-r.raw:
		}
		r.route(ctx, in)
	}
}

func (r *runner) route(ctx context.Context, in inbound) {
	payload := in.payload
	kind := payload[0]
	from, member := r.indexOf[in.peer]
	if !member || from == r.self {
		if handled := r.routeForeign(in); !handled {
			r.m.dropped.WithLabelValues(dropUnknownPeer).Inc()
		}
		return
	}
	switch {
	case kind >= byte(consensus.KindProposal) && kind <= byte(consensus.KindDecision):
		msg, err := consensus.DecodeMessage(payload)
		if err != nil {
			r.drop(dropUndecodable, in.node, kind, err)
			return
		}
		if err := msg.ValidateBasic(); err != nil {
			r.drop(dropInvalid, in.node, kind, err)
			return
		}
		r.m.messagesIn.WithLabelValues(msg.Kind().String()).Inc()
		select {
		case r.inbox <- loopInput{from: from, msg: msg}:
		case <-ctx.Done():
		}
	case kind == KindSyncResponse:
		resp, err := DecodeSyncResponse(payload)
		if err != nil {
			r.drop(dropUndecodable, in.node, kind, err)
			return
		}
		r.m.messagesIn.WithLabelValues("sync_response").Inc()
		select {
		case r.inbox <- loopInput{from: from, sync: &resp}:
		case <-ctx.Done():
		}
	case kind == KindSyncRequest:
		req, err := DecodeSyncRequest(payload)
		if err != nil {
			r.drop(dropUndecodable, in.node, kind, err)
			return
		}
		r.m.messagesIn.WithLabelValues("sync_request").Inc()
		select {
		case r.serve <- syncServe{from: from, req: req}:
		default:
			r.drop(dropIngestFull, in.node, kind, errors.New("sync server busy"))
		}
	default:
		if !r.routeForeign(in) {
			r.drop(dropUndecodable, in.node, kind, errors.New("unknown kind"))
		}
	}
}

// routeForeign hands the app the kinds it takes, from members and
// non-members alike; false means the app takes no such kind.
func (r *runner) routeForeign(in inbound) bool {
	rt, ok := r.app.(interface{ receive(in inbound) bool })
	return ok && rt.receive(in)
}

func (r *runner) drop(reason string, node int, kind byte, err error) {
	r.m.dropped.WithLabelValues(reason).Inc()
	r.log.Debug("dropped input", "reason", reason, "from_node", node, "kind", fmt.Sprintf("0x%02x", kind), "err", err)
}

// verifyLoop is one worker of the verification pool.
func (r *runner) verifyLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-r.jobs:
			start := time.Now()
			res, err := r.verify(ctx, &job.req)
			r.m.verifyDuration.WithLabelValues(job.req.Kind.String()).Observe(time.Since(start).Seconds())
			switch {
			case errors.Is(err, errStaleBuild):
				r.log.Debug("proposed block not checked", "err", err)
			case err != nil && ctx.Err() == nil:
				r.log.Warn("proposed block refused", "err", err)
			}
			select {
			case r.verified <- verifyDone{seq: job.seq, res: res}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// executorLoop builds the blocks this node proposes.
func (r *runner) executorLoop(ctx context.Context) {
	if r.pinned {
		defer r.n.pin("executor", r.n.cfg.Accel.PinExecutorCore)()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-r.builds:
			start := time.Now()
			ready, err := r.app.build(req)
			r.m.buildDuration.Observe(time.Since(start).Seconds())
			select {
			case r.built <- buildDone{ready: ready, err: err}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// serveLoop answers other members' block-sync requests from the store.
func (r *runner) serveLoop(ctx context.Context) {
	budget := r.n.cfg.Network.MaxFrameBytes - 64<<10
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-r.serve:
			resp, err := r.syncResponse(s.req, budget)
			if err != nil {
				r.log.Warn("sync request not served", "from", s.from, "err", err)
				continue
			}
			enc, err := resp.AppendBinary(appendEnvelope(nil, r.chain))
			if err != nil {
				r.log.Error("encode sync response", "err", err)
				continue
			}
			if err := r.n.sendTo(ctx, r.members[s.from], enc, syncTimeout); err != nil {
				r.m.dropped.WithLabelValues(dropSendFailed).Inc()
				r.log.Debug("sync response not sent", "to", s.from, "err", err)
				continue
			}
			r.m.messagesOut.WithLabelValues("sync_response").Inc()
		}
	}
}

// syncResponse reads the decisions a request asks for, stopping at the head
// and before the response would exceed budget bytes (it always carries at
// least one decision when it has one).
func (r *runner) syncResponse(req SyncRequest, budget int) (SyncResponse, error) {
	head, _ := r.app.head()
	resp := SyncResponse{ChainID: r.chain, Head: types.Height(head.Height), From: req.From}
	if req.ChainID != r.chain || req.From == 0 {
		return resp, nil
	}
	size := 32
	for h := req.From; h < req.From+types.Height(req.Count) && uint64(h) <= head.Height; h++ {
		sb, err := readStoredBlock(r.n.db, r.chain, h)
		if err != nil {
			return resp, err
		}
		if sb.Decision == nil {
			break
		}
		dsize := 8 + len(sb.Decision.Certificate.AggregateSignature) + types.HeaderSize + 300
		if sb.Decision.Block != nil {
			dsize += len(sb.Decision.Block.Body)
		}
		if len(resp.Decisions) > 0 && size+dsize > budget {
			break
		}
		size += dsize
		resp.Decisions = append(resp.Decisions, *sb.Decision)
	}
	return resp, nil
}
