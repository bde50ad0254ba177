package driver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/mempool"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// forwardFlush is how long the forwarder gathers admitted messages before it
// sends a batch that is not full.
const forwardFlush = 5 * time.Millisecond

// errStaleBuild: the committed state is not at the parent of the block to
// build or check (it moved on, or the request came early).
var errStaleBuild = errors.New("state is not at the block's parent")

// receiveLoop reads the transport and routes each payload on its first
// byte: consensus messages (decoded and checked with ValidateBasic, the
// network edge) and sync responses to the consensus loop, sync requests to
// the server, message batches to the ingest worker. Anything else, or from a
// peer outside the committee, is dropped and counted; nothing here panics on
// input.
func (n *Node) receiveLoop(ctx context.Context) {
	recv := n.tr.Receive()
	for {
		var in netq.Inbound
		var ok bool
		select {
		case <-ctx.Done():
			return
		case in, ok = <-recv:
			if !ok {
				return
			}
		}
		from, member := n.indexOf[in.From]
		if !member || from == n.self || len(in.Msg) == 0 {
			n.m.dropped.WithLabelValues(dropUnknownPeer).Inc()
			continue
		}
		n.lastHeard[from].Store(time.Now().UnixNano())
		n.route(ctx, from, in.Msg)
	}
}

func (n *Node) route(ctx context.Context, from types.ValidatorIndex, payload []byte) {
	switch kind := payload[0]; {
	case kind >= byte(consensus.KindProposal) && kind <= byte(consensus.KindDecision):
		msg, err := consensus.DecodeMessage(payload)
		if err != nil {
			n.drop(dropUndecodable, from, kind, err)
			return
		}
		if err := msg.ValidateBasic(); err != nil {
			n.drop(dropInvalid, from, kind, err)
			return
		}
		n.m.messagesIn.WithLabelValues(msg.Kind().String()).Inc()
		select {
		case n.inbox <- loopInput{from: from, msg: msg}:
		case <-ctx.Done():
		}
	case kind == KindSyncResponse:
		r, err := DecodeSyncResponse(payload)
		if err != nil {
			n.drop(dropUndecodable, from, kind, err)
			return
		}
		n.m.messagesIn.WithLabelValues("sync_response").Inc()
		select {
		case n.inbox <- loopInput{from: from, sync: &r}:
		case <-ctx.Done():
		}
	case kind == KindSyncRequest:
		r, err := DecodeSyncRequest(payload)
		if err != nil {
			n.drop(dropUndecodable, from, kind, err)
			return
		}
		n.m.messagesIn.WithLabelValues("sync_request").Inc()
		select {
		case n.serve <- syncServe{from: from, req: r}:
		default:
			n.drop(dropIngestFull, from, kind, errors.New("sync server busy"))
		}
	case kind == KindMessageBatch:
		b, err := DecodeMessageBatch(payload)
		if err != nil {
			n.drop(dropUndecodable, from, kind, err)
			return
		}
		n.m.messagesIn.WithLabelValues("message_batch").Inc()
		select {
		case n.ingest <- b:
		default:
			n.drop(dropIngestFull, from, kind, errors.New("ingest queue full"))
		}
	default:
		n.drop(dropUndecodable, from, kind, errors.New("unknown kind"))
	}
}

func (n *Node) drop(reason string, from types.ValidatorIndex, kind byte, err error) {
	n.m.dropped.WithLabelValues(reason).Inc()
	n.log.Debug("dropped input", "reason", reason, "from", from, "kind", fmt.Sprintf("0x%02x", kind), "err", err)
}

// verifyLoop is one worker of the verification pool.
func (n *Node) verifyLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-n.jobs:
			start := time.Now()
			res, err := n.ver.verify(&job.req)
			n.m.verifyDuration.WithLabelValues(job.req.Kind.String()).Observe(time.Since(start).Seconds())
			switch {
			case errors.Is(err, errStaleBuild):
				n.log.Debug("proposed block not checked", "err", err)
			case err != nil:
				n.log.Warn("proposed block refused", "err", err)
			}
			select {
			case n.verified <- verifyDone{seq: job.seq, res: res}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// executorLoop builds the blocks this node proposes.
func (n *Node) executorLoop(ctx context.Context) {
	defer n.pin("executor", n.cfg.Accel.PinExecutorCore)()
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-n.builds:
			start := time.Now()
			ready, err := n.build(req)
			n.m.buildDuration.Observe(time.Since(start).Seconds())
			select {
			case n.built <- buildDone{ready: ready, err: err}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// build makes the block for a proposal request: the mempool's selection,
// executed on the committed state (node/exec.Execute), under a header that
// extends the head. Inputs execution refuses as invalid leave the mempool.
// A body too large for a frame is rebuilt from half the inputs.
func (n *Node) build(req consensus.ProposalRequest) (consensus.ProposalReady, error) {
	var ready consensus.ProposalReady
	limit := n.cfg.Consensus.MaxBlockMessages
	budget := min(n.cfg.Network.MaxFrameBytes-64<<10, consensus.MaxBlockBodySize)
	var invalid []exec.Receipt
	err := n.state.withView(func(view exec.StateView, head storage.Head, parent types.Header) error {
		if uint64(req.Height) != head.Height+1 {
			return fmt.Errorf("build %d on head %d: %w", req.Height, head.Height, errStaleBuild)
		}
		for {
			msgs := n.pool.Reap(limit)
			inputs := make([]exec.Input, len(msgs))
			for i := range msgs {
				inputs[i] = exec.Input{Message: msgs[i]}
			}
			res, err := exec.Execute(view, n.state.spec, inputs, n.env)
			if err != nil {
				return fmt.Errorf("build %d: %w", req.Height, err)
			}
			body, err := res.Body.MarshalBinary()
			if err != nil {
				return fmt.Errorf("build %d: %w", req.Height, err)
			}
			if len(body) > budget && limit > 1 {
				limit /= 2
				continue
			}
			header := types.Header{
				Version:         types.HeaderVersion,
				ChainID:         n.chain,
				Height:          req.Height,
				Epoch:           parent.Epoch,
				Round:           req.Round,
				ParentHash:      head.BlockHash,
				TimestampMillis: max(parent.TimestampMillis, uint64(time.Now().UnixMilli())),
				Proposer:        n.self,
			}
			res.Roots.SetHeader(&header)
			n.cache.put(header.Hash(), req.Height, &res)
			for _, r := range res.Receipts {
				if !r.Included && !errors.Is(r.Reason, exec.ErrBlockFull) && !errors.Is(r.Reason, exec.ErrInputGas) {
					invalid = append(invalid, r)
				}
			}
			ready = consensus.ProposalReady{Height: req.Height, Round: req.Round, Block: consensus.Block{Header: header, Body: body}}
			return nil
		}
	})
	if err != nil {
		return ready, err
	}
	for _, r := range invalid {
		n.pool.Drop([]types.Hash{r.ID}, r.Reason)
	}
	if len(invalid) > 0 {
		n.log.Debug("inputs refused by execution", "count", len(invalid), "first", invalid[0].Reason)
	}
	return ready, nil
}

// forwardLoop sends the messages this node admitted from its API to the
// member that leads the next height, in batches, best-effort (netq
// TrySend): a lost batch only delays a message until this node leads.
func (n *Node) forwardLoop(ctx context.Context) {
	pending := make([][]types.Message, len(n.members))
	queued := 0
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	defer flush.Stop()
	send := func(to int) {
		for len(pending[to]) > 0 {
			chunk := pending[to][:min(len(pending[to]), MaxBatchMessages)]
			pending[to] = pending[to][len(chunk):]
			queued -= len(chunk)
			enc, err := (&MessageBatch{Messages: chunk}).AppendBinary(nil)
			if err != nil {
				n.log.Error("encode message batch", "err", err)
				continue
			}
			if err := n.tr.TrySend(n.members[to], enc); err != nil {
				n.m.dropped.WithLabelValues(dropSendFailed).Inc()
				continue
			}
			n.m.messagesOut.WithLabelValues("message_batch").Inc()
		}
		pending[to] = nil
	}
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-n.forward:
			if queued == 0 {
				flush.Reset(forwardFlush)
			}
			pending[f.to] = append(pending[f.to], f.msgs...)
			queued += len(f.msgs)
			if len(pending[f.to]) >= MaxBatchMessages {
				send(int(f.to))
			}
		case <-flush.C:
			for to := range pending {
				send(to)
			}
		}
	}
}

// ingestLoop admits the message batches other members forwarded. Admission
// verifies their signatures in one batch per call (node/mempool).
func (n *Node) ingestLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-n.ingest:
			n.pool.Add(b.Messages, n.rnd)
		}
	}
}

// serveLoop answers other members' block-sync requests from the store.
func (n *Node) serveLoop(ctx context.Context) {
	budget := n.cfg.Network.MaxFrameBytes - 64<<10
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-n.serve:
			resp, err := n.syncResponse(s.req, budget)
			if err != nil {
				n.log.Warn("sync request not served", "from", s.from, "err", err)
				continue
			}
			enc, err := resp.AppendBinary(nil)
			if err != nil {
				n.log.Error("encode sync response", "err", err)
				continue
			}
			sctx, cancel := context.WithTimeout(ctx, syncTimeout)
			err = n.tr.Send(sctx, n.members[s.from], enc)
			cancel()
			if err != nil {
				n.m.dropped.WithLabelValues(dropSendFailed).Inc()
				n.log.Debug("sync response not sent", "to", s.from, "err", err)
				continue
			}
			n.m.messagesOut.WithLabelValues("sync_response").Inc()
		}
	}
}

// syncResponse reads the decisions a request asks for, stopping at the head
// and before the response would exceed budget bytes (it always carries at
// least one decision when it has one).
func (n *Node) syncResponse(req SyncRequest, budget int) (SyncResponse, error) {
	head, _ := n.state.Head()
	resp := SyncResponse{ChainID: n.chain, Head: types.Height(head.Height), From: req.From}
	if req.ChainID != n.chain || req.From == 0 {
		return resp, nil
	}
	size := 32
	for h := req.From; h < req.From+types.Height(req.Count) && uint64(h) <= head.Height; h++ {
		sb, err := readStoredBlock(n.db, n.chain, h)
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

// Submit admits external messages to the mempool (node/mempool: stateless
// rules, nonces, bounds, one signature batch) and forwards those admitted to
// the leader of the next height, which builds the block they can first
// enter (the current height's leader is already building under load). Only
// two mempools check each message, not the whole committee's; the message
// also stays here, so this node includes it when it leads if the other did
// not. It returns one result per message, in order.
func (n *Node) Submit(msgs []types.Message) ([]mempool.AddResult, error) {
	results := n.pool.Add(msgs, n.rnd)
	var admitted []types.Message
	for i, r := range results {
		if r.Err == nil {
			admitted = append(admitted, msgs[i].Clone())
		}
	}
	st := n.Status()
	to := consensus.Leader(st.ConsensusHeight+1, 0, len(n.members))
	if len(admitted) > 0 && to != n.self {
		select {
		case n.forward <- forwarding{to: to, msgs: admitted}:
		default:
			n.m.dropped.WithLabelValues(dropForwardFull).Add(float64(len(admitted)))
		}
	}
	return results, nil
}
