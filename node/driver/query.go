package driver

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/mempool"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// Status is a snapshot of one chain runner's position, for the API and
// tests.
type Status struct {
	Chain  types.ChainID
	Member types.ValidatorIndex
	// Head is the committed head: every height up to it is durable.
	Head          types.Height
	HeadHash      types.Hash
	StateRoot     types.Hash
	HeadTimestamp time.Time
	// ConsensusHeight and Round are where the consensus core stands.
	ConsensusHeight types.Height
	Round           types.Round
	Step            string
	Leader          types.ValidatorIndex
	// MempoolSize is the number of messages waiting in the mempool (a
	// transaction chain), or of digest records waiting for the root chain.
	MempoolSize int
	GenesisHash types.Hash
	PeerID      netq.PeerID
}

// publishStatus refreshes the snapshot Status returns; core is nil before
// the loop runs.
func (r *runner) publishStatus(core *consensus.Core) {
	head, header := r.app.head()
	s := &Status{
		Chain:         r.chain,
		Member:        r.self,
		Head:          types.Height(head.Height),
		HeadHash:      head.BlockHash,
		StateRoot:     head.StateRoot,
		HeadTimestamp: header.Time(),
		MempoolSize:   r.app.backlog(),
		GenesisHash:   r.n.genHash,
		PeerID:        r.n.key.Identity.PeerID(),
	}
	if core != nil {
		cs := core.Status()
		s.ConsensusHeight, s.Round, s.Step, s.Leader = cs.Height, cs.Round, cs.Step.String(), cs.Leader
		r.m.height.Set(float64(cs.Height))
		r.m.round.Set(float64(cs.Round))
	} else {
		s.ConsensusHeight = s.Head + 1
	}
	r.status.Store(s)
}

// Status returns the latest snapshot of the runner's position.
func (r *runner) Status() Status { return *r.status.Load() }

// Status returns the position of the node's transaction chain, or of the
// root chain for a node in the root committee only.
func (n *Node) Status() Status { return n.main().Status() }

// ChainStatus returns the position of chain, false when the node does not
// run it.
func (n *Node) ChainStatus(chain types.ChainID) (Status, bool) {
	r, ok := n.runners[chain]
	if !ok {
		return Status{}, false
	}
	return r.Status(), true
}

// Chains returns the chains the node runs, by ID (the root first).
func (n *Node) Chains() []types.ChainID { return n.chainIDs() }

// main is the node's transaction chain runner, or its root runner.
func (n *Node) main() *runner {
	if n.tx != nil {
		return n.tx
	}
	return n.root
}

// txApp returns the runner's transaction chain app.
func (r *runner) txApp() *txApp { return r.app.(*txApp) }

// rootApp returns the runner's root chain app.
func (r *runner) rootApp() *rootApp { return r.app.(*rootApp) }

// ErrNotFound: the block or message asked for is not known to this node.
var ErrNotFound = errors.New("not found")

// ErrOtherChain: the account or message belongs to a chain this node does
// not run.
var ErrOtherChain = errors.New("chain not run by this node")

// otherChain returns the error for an address of chain owner, naming the
// nodes that run it.
func (n *Node) otherChain(what string, owner types.ChainID) error {
	var addrs []string
	for _, m := range n.gen.Committee(owner) {
		addrs = append(addrs, m.Address)
	}
	return fmt.Errorf("%s: %w: it is on chain %d, run by the nodes at %s", what, ErrOtherChain, owner, strings.Join(addrs, ", "))
}

// tx returns the transaction chain app that holds addr, or the error
// naming its chain.
func (n *Node) txFor(addr types.Address) (*txApp, error) {
	owner := n.topo.OwnerOf(addr)
	if n.tx == nil || n.tx.chain != owner {
		return nil, n.otherChain(fmt.Sprintf("account %s", addr), owner)
	}
	return n.tx.txApp(), nil
}

// Account returns the committed state of an account of the node's
// transaction chain, false when it does not exist there.
func (n *Node) Account(addr types.Address) (actor.Account, bool) {
	a, err := n.txFor(addr)
	if err != nil {
		return actor.Account{}, false
	}
	return a.Account(addr)
}

// AccountProof is an account's committed state with its Merkle proof
// against the state root of the head it was read at.
type AccountProof struct {
	Account   actor.Account
	Height    types.Height
	StateRoot types.Hash
	// Proof is checked with node/exec.VerifyAccountProof.
	Proof merkle.Proof
}

// ProveAccount returns an account with its proof, false when it does not
// exist; ErrOtherChain when its chain is not the node's.
func (n *Node) ProveAccount(addr types.Address) (AccountProof, bool, error) {
	a, err := n.txFor(addr)
	if err != nil {
		return AccountProof{}, false, err
	}
	acct, proof, head, ok, err := a.ProveAccount(addr)
	if err != nil || !ok {
		return AccountProof{}, ok, err
	}
	return AccountProof{Account: acct, Height: types.Height(head.Height), StateRoot: head.StateRoot, Proof: proof}, true, nil
}

// Block returns the committed block at height of the node's transaction
// chain (see Status): its header and the decision that proves it (nil at
// height 0).
func (n *Node) Block(height types.Height) (StoredBlock, error) {
	return n.ChainBlock(n.main().chain, height)
}

// ChainBlock returns the committed block at height of chain.
func (n *Node) ChainBlock(chain types.ChainID, height types.Height) (StoredBlock, error) {
	r, ok := n.runners[chain]
	if !ok {
		return StoredBlock{}, fmt.Errorf("chain %d: %w", chain, ErrNotFound)
	}
	head, _ := r.app.head()
	if uint64(height) > head.Height {
		return StoredBlock{}, fmt.Errorf("block %d of chain %d: head is %d: %w", height, chain, head.Height, ErrNotFound)
	}
	sb, err := readStoredBlock(n.db, chain, height)
	if errors.Is(err, storage.ErrNotFound) {
		return StoredBlock{}, fmt.Errorf("block %d of chain %d: %w", height, chain, ErrNotFound)
	}
	return sb, err
}

// Confirmed reports whether the chain that records chain (the root, or
// the coordinator of a sub-chain), as committed on this node, recorded
// header hash h of chain at height; for the root chain itself, whether the
// node committed it. A sub-chain's block is final once its coordinator
// recorded it (paper 4.3: the faster path).
func (n *Node) Confirmed(chain types.ChainID, height types.Height, h types.Hash) bool {
	if chain == types.RootChain {
		sb, err := n.ChainBlock(chain, height)
		return err == nil && sb.Header.Hash() == h
	}
	c, ok := n.topo.Chain(chain)
	if !ok {
		return false
	}
	rec, ok := n.runners[c.Parent]
	return ok && rec.rootApp().Confirmed(chain, height, h)
}

// Consumed reports whether the node's transaction chain consumed relay id.
func (n *Node) Consumed(id types.Hash) bool {
	return n.tx != nil && n.tx.txApp().IsConsumed(id)
}

// MessageState is what a node knows of a message.
type MessageState uint8

// The message states.
const (
	// MessageUnknown: never seen, or forgotten.
	MessageUnknown MessageState = iota
	// MessagePending: admitted, waiting in the mempool.
	MessagePending
	// MessageConfirmed: in a decided, committed block.
	MessageConfirmed
	// MessageRejected: admitted once, then refused by execution or made
	// stale by another message with its nonce.
	MessageRejected
)

// String returns the state's name.
func (s MessageState) String() string {
	switch s {
	case MessagePending:
		return "pending"
	case MessageConfirmed:
		return "confirmed"
	case MessageRejected:
		return "rejected"
	}
	return "unknown"
}

// MessageStatus is the answer of MessageStatus.
type MessageStatus struct {
	State MessageState
	// Chain and Location say where a confirmed message is.
	Chain    types.ChainID
	Location MessageLocation
	// Reason is why a rejected message was rejected.
	Reason error
}

// MessageStatus says whether a message (an external message, or a relay
// the chain consumed) is in a committed block of the node's transaction
// chain (the index written with each commit), pending or rejected (the
// mempool).
func (n *Node) MessageStatus(id types.Hash) (MessageStatus, error) {
	if n.tx == nil {
		return MessageStatus{State: MessageUnknown}, nil
	}
	a := n.tx.txApp()
	rec, err := n.db.Record(messageRecordKey(a.spec.ID, id))
	switch {
	case err == nil:
		loc, err := decodeMessageLocation(rec)
		if err != nil {
			return MessageStatus{}, err
		}
		return MessageStatus{State: MessageConfirmed, Chain: a.spec.ID, Location: loc}, nil
	case !errors.Is(err, storage.ErrNotFound):
		return MessageStatus{}, err
	}
	switch st := a.pool.Status(id); st.State {
	case mempool.StatePending:
		return MessageStatus{State: MessagePending}, nil
	case mempool.StateDropped:
		return MessageStatus{State: MessageRejected, Reason: st.Reason}, nil
	}
	return MessageStatus{State: MessageUnknown}, nil
}

// Submit admits external messages to the mempool of the node's
// transaction chain and forwards them to the next leader (see txApp.Submit).
// A message whose sender is on another chain gets an error wrapping
// ErrOtherChain that names it.
func (n *Node) Submit(msgs []types.Message) ([]mempool.AddResult, error) {
	out := make([]mempool.AddResult, len(msgs))
	var local []types.Message
	var at []int
	for i := range msgs {
		out[i].ID = msgs[i].ID()
		owner := n.topo.OwnerOf(msgs[i].To)
		if n.tx == nil || owner != n.tx.chain {
			out[i].Err = n.otherChain(fmt.Sprintf("sender %s", msgs[i].To), owner)
			continue
		}
		local = append(local, msgs[i])
		at = append(at, i)
	}
	if len(local) > 0 {
		for k, res := range n.tx.txApp().Submit(local) {
			out[at[k]] = res
		}
	}
	return out, nil
}
