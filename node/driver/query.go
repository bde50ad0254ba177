package driver

import (
	"errors"
	"fmt"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/mempool"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// publishStatus refreshes the snapshot Status returns; core is nil before
// the loop runs.
func (n *Node) publishStatus(core *consensus.Core) {
	head, header := n.state.Head()
	s := &Status{
		Chain:         n.chain,
		Member:        n.self,
		Head:          types.Height(head.Height),
		HeadHash:      head.BlockHash,
		StateRoot:     head.StateRoot,
		HeadTimestamp: header.Time(),
		MempoolSize:   n.pool.Len(),
		GenesisHash:   n.genHash,
		PeerID:        n.key.Identity.PeerID(),
	}
	if core != nil {
		cs := core.Status()
		s.ConsensusHeight, s.Round, s.Step, s.Leader = cs.Height, cs.Round, cs.Step.String(), cs.Leader
		n.m.height.Set(float64(cs.Height))
		n.m.round.Set(float64(cs.Round))
	} else {
		s.ConsensusHeight = s.Head + 1
	}
	n.status.Store(s)
}

// Status returns the latest snapshot of the node's position.
func (n *Node) Status() Status { return *n.status.Load() }

// Account returns the committed state of an account, false when it does
// not exist.
func (n *Node) Account(addr types.Address) (actor.Account, bool) {
	a, ok := n.state.Account(addr)
	if !ok {
		return actor.Account{}, false
	}
	return a.Clone(), true
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
// exist.
func (n *Node) ProveAccount(addr types.Address) (AccountProof, bool, error) {
	acct, proof, head, ok, err := n.state.ProveAccount(addr)
	if err != nil || !ok {
		return AccountProof{}, ok, err
	}
	return AccountProof{Account: acct, Height: types.Height(head.Height), StateRoot: head.StateRoot, Proof: proof}, true, nil
}

// ErrNotFound: the block or message asked for is not known to this node.
var ErrNotFound = errors.New("not found")

// Block returns the committed block at height: its header and the decision
// that proves it (nil at height 0).
func (n *Node) Block(height types.Height) (StoredBlock, error) {
	head, _ := n.state.Head()
	if uint64(height) > head.Height {
		return StoredBlock{}, fmt.Errorf("block %d: head is %d: %w", height, head.Height, ErrNotFound)
	}
	sb, err := readStoredBlock(n.db, n.chain, height)
	if errors.Is(err, storage.ErrNotFound) {
		return StoredBlock{}, fmt.Errorf("block %d: %w", height, ErrNotFound)
	}
	return sb, err
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
	// Location is where a confirmed message is.
	Location MessageLocation
	// Reason is why a rejected message was rejected.
	Reason error
}

// MessageStatus says whether a message is confirmed (the index written with
// each commit), pending or rejected (the mempool).
func (n *Node) MessageStatus(id types.Hash) (MessageStatus, error) {
	rec, err := n.db.Record(messageRecordKey(id))
	switch {
	case err == nil:
		loc, err := decodeMessageLocation(rec)
		if err != nil {
			return MessageStatus{}, err
		}
		return MessageStatus{State: MessageConfirmed, Location: loc}, nil
	case !errors.Is(err, storage.ErrNotFound):
		return MessageStatus{}, err
	}
	switch st := n.pool.Status(id); st.State {
	case mempool.StatePending:
		return MessageStatus{State: MessagePending}, nil
	case mempool.StateDropped:
		return MessageStatus{State: MessageRejected, Reason: st.Reason}, nil
	}
	return MessageStatus{State: MessageUnknown}, nil
}
