package driver

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/api"
	"github.com/thinkey/thinkey/node/chains"
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

// apiNode adapts a Node to node/api.Node. A message of the node's
// transaction chain (an external message, or a relay the chain consumed)
// is "included" once a committed block holds it, and "confirmed" once the
// chain's recorder (the root chain, or the coordinator of a sub-chain), as
// committed on this node, recorded that block (paper 4.3: from then on
// every chain relies on it). Accounts, senders and blocks of chains the
// node does not run are answered with an api.WrongChainError naming the
// chain and the nodes that run it.
type apiNode struct{ n *Node }

var _ api.Node = apiNode{}

func (a apiNode) SubmitMessages(_ context.Context, msgs []types.Message) ([]api.SubmitResult, error) {
	results, err := a.n.Submit(msgs)
	if err != nil {
		return nil, err
	}
	out := make([]api.SubmitResult, len(results))
	for i, r := range results {
		owner := a.n.topo.OwnerOf(msgs[i].To)
		if errors.Is(r.Err, ErrOtherChain) {
			r.Err = a.n.wrongChain(fmt.Sprintf("sender %s", msgs[i].To), owner)
		}
		out[i] = api.SubmitResult{Chain: owner, Err: r.Err}
	}
	return out, nil
}

// wrongChain is the error for what of chain, which the node does not run:
// it names the chain and the genesis nodes that run it. The genesis lists
// their QUIC addresses only; GET /v1/chains of a node says whether it
// serves the chain. It wraps ErrOtherChain.
func (n *Node) wrongChain(what string, chain types.ChainID) error {
	var nodes []string
	if c, ok := n.gen.Chain(chain); ok {
		for _, i := range c.Committee {
			nodes = append(nodes, fmt.Sprintf("%d at %s", i, n.gen.Nodes[i].Address))
		}
	}
	return &api.WrongChainError{Chain: chain, Err: fmt.Errorf("%s is on chain %d: %w; ask a node of chain %d: genesis nodes %s (QUIC addresses)",
		what, chain, ErrOtherChain, chain, strings.Join(nodes, ", "))}
}

func (a apiNode) MessageStatus(_ context.Context, id types.Hash) (api.MessageStatus, error) {
	if a.n.tx == nil {
		return api.MessageStatus{}, fmt.Errorf("message %s: this node runs no transaction chain: ask a node of the sender's chain: %w", id, api.ErrWrongChain)
	}
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
		blk, err := a.n.db.Blocks().ByHeight(uint32(st.Chain), uint64(st.Location.Height))
		if err != nil {
			return api.MessageStatus{}, fmt.Errorf("message %s: %w", id, err)
		}
		state := api.StateIncluded
		if a.n.Confirmed(st.Chain, st.Location.Height, blk.Hash) {
			state = api.StateConfirmed
		}
		return api.MessageStatus{State: state, Chain: st.Chain, Height: st.Location.Height, BlockHash: blk.Hash}, nil
	}
	return api.MessageStatus{}, fmt.Errorf("message %s: unknown to this node, which knows the messages of chain %d (senders and consumed relays): %w",
		id, a.n.tx.chain, api.ErrNotFound)
}

func (a apiNode) Account(_ context.Context, addr types.Address, withProof bool) (api.AccountView, error) {
	ta, err := a.n.txFor(addr)
	if err != nil {
		return api.AccountView{}, a.n.wrongChain(fmt.Sprintf("account %s", addr), a.n.topo.OwnerOf(addr))
	}
	var p AccountProof
	var ok bool
	if withProof {
		p, ok, err = a.n.ProveAccount(addr)
	} else {
		p.Account, p.Height, p.StateRoot, ok = ta.AccountAt(addr)
	}
	if err != nil {
		return api.AccountView{}, err
	}
	if !ok {
		return api.AccountView{}, fmt.Errorf("account %s: %w", addr, api.ErrNotFound)
	}
	v := api.AccountView{
		Address:   addr,
		Chain:     ta.spec.ID,
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

// Chains lists every chain of the topology. A chain the node runs shows its
// committed head; another chain the last header the node's recorder
// chains recorded of it. Confirmed is the recorder's tip of the chain (the
// root chain's own head), so it agrees with MessageStatus: a message at a
// height up to it is confirmed.
func (a apiNode) Chains() []api.ChainInfo {
	n := a.n
	var out []api.ChainInfo
	for _, c := range n.topo.Chains() {
		info := api.ChainInfo{ID: c.ID, Root: c.Kind == chains.Root, Kind: c.Kind, Parent: c.Parent, Prefix: c.Prefix, PrefixBits: c.PrefixBits}
		var tip types.Header
		recorded := false
		if rec, ok := n.runners[c.Parent]; ok && c.ID != types.RootChain {
			tip, recorded = rec.rootApp().Tip(c.ID)
			if recorded {
				info.Confirmed = tip.Height
			}
		}
		if st, ok := n.ChainStatus(c.ID); ok {
			info.Served = true
			info.Height, info.HeadHash, info.StateRoot = st.Head, st.HeadHash, st.StateRoot
			if c.ID == types.RootChain {
				info.Confirmed = st.Head
			} else {
				info.Pending = st.MempoolSize
			}
		} else if recorded {
			info.Height, info.HeadHash, info.StateRoot, info.Epoch = tip.Height, tip.Hash(), tip.StateRoot, tip.Epoch
		}
		out = append(out, info)
	}
	return out
}

func (a apiNode) Block(_ context.Context, chain types.ChainID, ref api.BlockRef) (api.BlockView, error) {
	r, ok := a.n.runners[chain]
	if _, known := a.n.topo.Chain(chain); !ok && known {
		return api.BlockView{}, a.n.wrongChain(fmt.Sprintf("block %s", blockRef(ref)), chain)
	}
	if !ok {
		return api.BlockView{}, fmt.Errorf("chain %d: %w", chain, api.ErrNotFound)
	}
	_, txChain := r.app.(*txApp)
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
	sb, err := a.n.ChainBlock(chain, height)
	if errors.Is(err, ErrNotFound) {
		return api.BlockView{}, fmt.Errorf("block %d: %w", height, api.ErrNotFound)
	}
	if err != nil {
		return api.BlockView{}, err
	}
	h := sb.Header.Hash()
	v := api.BlockView{Hash: h, Header: sb.Header, Confirmed: height == 0 || a.n.Confirmed(chain, height, h)}
	if d := sb.Decision; d != nil {
		cert := d.Certificate
		v.Certificate = &cert
		if d.Block != nil && txChain {
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

// blockRef writes a block reference for errors.
func blockRef(ref api.BlockRef) string {
	if ref.ByHash {
		return ref.Hash.String()
	}
	return fmt.Sprint(ref.Height)
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
	for i := range n.heard {
		if now-n.heard[i].Load() < int64(peerSilence) {
			peers++
		}
	}
	syncing := false
	for _, r := range n.ordered() {
		rs := r.Status()
		syncing = syncing || types.Height(r.syncTarget.Load()) > rs.Head+1
	}
	pending := 0
	if n.tx != nil {
		pending = st.MempoolSize
	}
	return api.StatusView{
		Version:   version,
		NodeID:    st.PeerID.String(),
		Genesis:   st.GenesisHash,
		Syncing:   syncing,
		Peers:     peers,
		StartedAt: n.startedAt(),
		Chains:    n.chainIDs(),
		Pending:   pending,
	}
}

func (a apiNode) Healthy() error {
	n := a.n
	if !n.running.Load() {
		return fmt.Errorf("node is not running: %w", api.ErrUnavailable)
	}
	for _, r := range n.ordered() {
		if last := time.Unix(0, r.lastLoop.Load()); time.Since(last) > loopStallLimit {
			return fmt.Errorf("consensus loop of chain %d stalled since %s: %w", r.chain, last.UTC().Format(time.RFC3339), api.ErrUnavailable)
		}
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
