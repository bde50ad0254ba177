package driver

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/api"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// Health bounds.
const (
	// loopStallLimit is how long the consensus loop may go without an
	// iteration (it ticks every tickInterval) before the node reports
	// itself unhealthy.
	loopStallLimit = 10 * time.Second
	// peerSilence is how long a member may stay silent and still count as
	// a connected peer.
	peerSilence = 10 * time.Second
)

// API returns the node as the HTTP API sees it (node/api.Node).
func (n *Node) API() api.Node { return apiNode{n} }

// apiNode adapts a Node to node/api.Node. The chain this node runs is chain
// 0, the root chain, so a block it decides needs no further anchoring: its
// messages are reported confirmed as soon as the block is committed.
type apiNode struct{ n *Node }

var _ api.Node = apiNode{}

func (a apiNode) SubmitMessages(_ context.Context, msgs []types.Message) ([]api.SubmitResult, error) {
	results, err := a.n.Submit(msgs)
	if err != nil {
		return nil, err
	}
	out := make([]api.SubmitResult, len(results))
	for i, r := range results {
		out[i] = api.SubmitResult{Chain: a.n.chain, Err: r.Err}
	}
	return out, nil
}

func (a apiNode) MessageStatus(_ context.Context, id types.Hash) (api.MessageStatus, error) {
	st, err := a.n.MessageStatus(id)
	if err != nil {
		return api.MessageStatus{}, err
	}
	switch st.State {
	case MessagePending:
		return api.MessageStatus{State: api.StatePending}, nil
	case MessageRejected:
		reason := "rejected"
		if st.Reason != nil {
			reason = st.Reason.Error()
		}
		return api.MessageStatus{State: api.StateRejected, Reason: reason}, nil
	case MessageConfirmed:
		blk, err := a.n.db.Blocks().ByHeight(uint32(a.n.chain), uint64(st.Location.Height))
		if err != nil {
			return api.MessageStatus{}, fmt.Errorf("message %s: %w", id, err)
		}
		return api.MessageStatus{State: api.StateConfirmed, Chain: a.n.chain, Height: st.Location.Height, BlockHash: blk.Hash}, nil
	}
	return api.MessageStatus{}, fmt.Errorf("message %s: %w", id, api.ErrNotFound)
}

func (a apiNode) Account(_ context.Context, addr types.Address, withProof bool) (api.AccountView, error) {
	var p AccountProof
	var ok bool
	var err error
	if withProof {
		p, ok, err = a.n.ProveAccount(addr)
	} else {
		p.Account, p.Height, p.StateRoot, ok = a.n.state.AccountAt(addr)
	}
	if err != nil {
		return api.AccountView{}, err
	}
	if !ok {
		return api.AccountView{}, fmt.Errorf("account %s: %w", addr, api.ErrNotFound)
	}
	v := api.AccountView{
		Address:   addr,
		Chain:     a.n.chain,
		Height:    p.Height,
		StateRoot: p.StateRoot,
		Balance:   p.Account.Balance,
		Nonce:     p.Account.Nonce,
	}
	if len(p.Account.Code) > 0 {
		v.CodeHash = hash.Sum256(p.Account.Code)
	}
	if withProof {
		leaf, err := p.Account.MarshalBinary()
		if err != nil {
			return api.AccountView{}, err
		}
		v.Proof = &api.AccountProof{
			Scheme:    "merkle-sha256/v1",
			Leaf:      leaf,
			LeafIndex: p.Proof.Index,
			LeafCount: p.Proof.LeafCount,
			Siblings:  p.Proof.Siblings,
		}
	}
	return v, nil
}

func (a apiNode) Chains() []api.ChainInfo {
	st := a.n.Status()
	return []api.ChainInfo{{
		ID:         a.n.chain,
		Root:       a.n.chain == 0,
		Prefix:     a.n.gen.Chain.Prefix,
		PrefixBits: a.n.gen.Chain.PrefixBits,
		Height:     st.Head,
		HeadHash:   st.HeadHash,
		StateRoot:  st.StateRoot,
		Pending:    st.MempoolSize,
	}}
}

func (a apiNode) Block(_ context.Context, chain types.ChainID, ref api.BlockRef) (api.BlockView, error) {
	if chain != a.n.chain {
		return api.BlockView{}, fmt.Errorf("chain %d: %w", chain, api.ErrNotFound)
	}
	height := ref.Height
	if ref.ByHash {
		blk, err := a.n.db.Blocks().ByHash(uint32(chain), ref.Hash)
		if errors.Is(err, storage.ErrNotFound) {
			return api.BlockView{}, fmt.Errorf("block %s: %w", ref.Hash, api.ErrNotFound)
		}
		if err != nil {
			return api.BlockView{}, err
		}
		height = types.Height(blk.Height)
	}
	sb, err := a.n.Block(height)
	if errors.Is(err, ErrNotFound) {
		return api.BlockView{}, fmt.Errorf("block %d: %w", height, api.ErrNotFound)
	}
	if err != nil {
		return api.BlockView{}, err
	}
	v := api.BlockView{Hash: sb.Header.Hash(), Header: sb.Header, Confirmed: true}
	if d := sb.Decision; d != nil {
		cert := d.Certificate
		v.Certificate = &cert
		if d.Block != nil {
			body, err := exec.DecodeBody(d.Block.Body)
			if err != nil {
				return api.BlockView{}, fmt.Errorf("block %d: %w: %w", height, storage.ErrCorruption, err)
			}
			v.Inputs = make([]types.Message, len(body.Inputs))
			for i := range body.Inputs {
				v.Inputs[i] = body.Inputs[i].Message
			}
			v.InterRelay, v.OuterRelay = body.InterRelay, body.OuterRelay
		}
	}
	return v, nil
}

func (a apiNode) Status() api.StatusView {
	n := a.n
	st := n.Status()
	version := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	peers := 0
	now := time.Now().UnixNano()
	for i := range n.lastHeard {
		if now-n.lastHeard[i].Load() < int64(peerSilence) {
			peers++
		}
	}
	return api.StatusView{
		Version:   version,
		NodeID:    st.PeerID.String(),
		Genesis:   st.GenesisHash,
		Syncing:   types.Height(n.syncTarget.Load()) > st.Head+1,
		Peers:     peers,
		StartedAt: n.startedAt(),
		Chains:    []types.ChainID{n.chain},
		Pending:   st.MempoolSize,
	}
}

func (a apiNode) Healthy() error {
	n := a.n
	if !n.running.Load() {
		return fmt.Errorf("node is not running: %w", api.ErrUnavailable)
	}
	if last := time.Unix(0, n.lastLoop.Load()); time.Since(last) > loopStallLimit {
		return fmt.Errorf("consensus loop stalled since %s: %w", last.UTC().Format(time.RFC3339), api.ErrUnavailable)
	}
	return nil
}

// startedAt returns when Run started (zero before).
func (n *Node) startedAt() time.Time {
	if ns := n.startedNanos.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}
