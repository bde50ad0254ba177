package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/light"
	"github.com/thinkey/thinkey/node/types"
)

// Errors a Node returns for the API to map to HTTP statuses. Wrap them with
// context; the API branches with errors.Is.
var (
	// ErrNotFound: no such message, account, chain or block (404).
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the node cannot answer now (starting, syncing,
	// shutting down, storage busy); the client should retry (503).
	ErrUnavailable = errors.New("unavailable")
	// ErrWrongChain: the account, message or block belongs to a chain
	// this node does not run; the client should ask a node of that chain
	// (421 Misdirected Request, code wrong_chain). The error's text names
	// the chain and the nodes that run it. The API checks it before
	// ErrNotFound, so an error may wrap both.
	ErrWrongChain = errors.New("wrong chain")
)

// WrongChainError is an ErrWrongChain that says which chain to ask: the
// API adds Chain to the error body. It matches ErrWrongChain and, since
// the node holds nothing of what was asked, ErrNotFound; its text is
// Err's.
type WrongChainError struct {
	// Chain is the chain that holds what was asked.
	Chain types.ChainID
	// Err says what was asked and who runs Chain.
	Err error
}

func (e *WrongChainError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("chain %d is not run by this node", e.Chain)
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *WrongChainError) Unwrap() error { return e.Err }

// Is matches ErrWrongChain and ErrNotFound.
func (e *WrongChainError) Is(target error) bool {
	return target == ErrWrongChain || target == ErrNotFound
}

// Node is what the API serves, implemented by the node driver. Every
// method may be called from many goroutines at once. Methods that take a
// context may do I/O and should give up when it is done.
type Node interface {
	// SubmitMessages routes each message to the mempool of the chain that
	// owns its sender and returns one result per message, in order; a
	// sender on a chain the node does not run gets an Err wrapping
	// ErrWrongChain. The messages' Method and Args alias the request
	// buffer: keep clones. A non-nil error means none was handled.
	SubmitMessages(ctx context.Context, msgs []types.Message) ([]SubmitResult, error)
	// MessageStatus reports a message by ID; ErrNotFound if the node knows
	// nothing of it, ErrWrongChain if it cannot know it (it runs no
	// transaction chain).
	MessageStatus(ctx context.Context, id types.Hash) (MessageStatus, error)
	// Account reads an account from the committed state of the chain that
	// owns addr, with a proof against the state root when withProof is
	// set; ErrNotFound if the account does not exist, ErrWrongChain
	// (a WrongChainError) if the node does not run its chain.
	Account(ctx context.Context, addr types.Address, withProof bool) (AccountView, error)
	// Chains lists the chains the node knows, in increasing ID order.
	Chains() []ChainInfo
	// Block returns a stored block of chain; ErrNotFound for an unknown
	// chain or block, ErrWrongChain for a chain the node does not run.
	Block(ctx context.Context, chain types.ChainID, ref BlockRef) (BlockView, error)
	// LightHeader returns the light proof (node/light) of the block of
	// chain at height: its header lifted to a root block, with the root
	// committee's certificate of that block. ErrNotFound when the node
	// does not have the block or the root chain has not recorded it yet.
	LightHeader(chain types.ChainID, height types.Height) (*light.HeaderProof, error)
	// LightAccount returns the light proof of the account at addr as of
	// the latest block of its chain that the root chain recorded.
	// ErrNotFound when the node does not hold the account's chain, the
	// account does not exist in that block, or no block is recorded yet.
	LightAccount(addr types.Address) (*light.AccountProof, error)
	// LightRelay returns the light proof of the outer-relay message id,
	// produced by a block of a chain this node runs. ErrNotFound when the
	// node knows no such relay or the root chain has not recorded its
	// block yet.
	LightRelay(id types.Hash) (*light.RelayProof, error)
	// Status describes the node.
	Status() StatusView
	// Healthy returns nil when the node is fit to serve (storage open,
	// loops running, not stalled), else why not.
	Healthy() error
}

// SubmitResult is the node's verdict on one submitted message.
type SubmitResult struct {
	// Chain is the chain the message was routed to.
	Chain types.ChainID
	// Err is nil when the message was admitted to the mempool. Otherwise
	// it says why not; when it wraps a node/mempool sentinel, the response
	// names it with mempool.Reason.
	Err error
}

// MessageState is where a message is in its life.
type MessageState string

// The message states.
const (
	// StatePending: admitted, waiting in a mempool.
	StatePending MessageState = "pending"
	// StateIncluded: in a decided block of its chain (Chain, Height,
	// BlockHash say which).
	StateIncluded MessageState = "included"
	// StateConfirmed: included, and the block is recorded by its chain's
	// recorder as committed on this node: the root chain for a top-level
	// chain, the coordinator for a sub-chain (paper 4.3). From then on
	// every chain can rely on it: a transfer to another chain is
	// irrevocable, its value on the way as a relay message.
	StateConfirmed MessageState = "confirmed"
	// StateRejected: admitted once, then dropped without being included
	// (Reason says why); it will not be included unless submitted again.
	StateRejected MessageState = "rejected"
)

// MessageStatus is the answer to MessageStatus.
type MessageStatus struct {
	State MessageState
	// Chain, Height and BlockHash locate the including block; set for
	// StateIncluded and StateConfirmed only.
	Chain     types.ChainID
	Height    types.Height
	BlockHash types.Hash
	// Reason is why a rejected message was dropped.
	Reason string
}

// AccountView is an account as of a committed block.
type AccountView struct {
	Address types.Address
	// Chain owns the account; Height is the block whose state was read,
	// and StateRoot that block's state root.
	Chain     types.ChainID
	Height    types.Height
	StateRoot types.Hash
	Balance   uint64
	Nonce     uint64
	// CodeHash is SHA-256 of the account's code; zero when it has none.
	CodeHash types.Hash
	// Proof is set when asked for.
	Proof *AccountProof
}

// AccountProof proves an account against StateRoot. The API passes it
// through as the node fills it; Scheme tells a client how to check it.
type AccountProof struct {
	// Scheme names the proof format, for example "merkle-sha256/v1":
	// Leaf is the account's canonical encoding, its leaf hash is the
	// Merkle leaf hash of it, and Siblings lead from that leaf (at
	// LeafIndex of LeafCount) to StateRoot, as in crypto/merkle.
	Scheme    string
	Leaf      []byte
	LeafIndex uint64
	LeafCount uint64
	Siblings  []types.Hash
}

// ChainInfo describes one chain.
type ChainInfo struct {
	ID types.ChainID
	// Root marks the root chain (Kind is chains.Root).
	Root bool
	// Kind is what the chain does: the root, a coordinator of sub-chains,
	// or a transaction chain that holds accounts.
	Kind chains.Kind
	// Parent is the chain that records this one's digests (its recorder);
	// the root's is itself.
	Parent types.ChainID
	// Served is set when this node runs the chain: it answers for its
	// accounts, messages and blocks.
	Served bool
	// Prefix and PrefixBits: the chain owns the addresses whose first
	// PrefixBits bits equal the low PrefixBits bits of Prefix (paper:
	// address to chain by prefix). The root chain has PrefixBits 0.
	Prefix     uint64
	PrefixBits uint8
	// Height, HeadHash and StateRoot are those of the latest block the
	// node holds (for a chain it does not run, the latest its recorders
	// recorded); Epoch is the chain's current committee term.
	Height    types.Height
	HeadHash  types.Hash
	StateRoot types.Hash
	Epoch     types.Epoch
	// Confirmed is the highest height of the chain that its recorder has
	// recorded on this node (the root chain: its committed head): the
	// messages of its blocks up to Confirmed are confirmed. Zero when the
	// node follows no recorder of the chain.
	Confirmed types.Height
	// Pending is the number of messages in the chain's mempool on this
	// node (zero for a chain it does not validate).
	Pending int
}

// BlockRef names a block of a chain by height or by hash.
type BlockRef struct {
	// ByHash selects Hash; otherwise Height.
	ByHash bool
	Height types.Height
	Hash   types.Hash
}

// BlockView is a stored block.
type BlockView struct {
	Hash   types.Hash
	Header types.Header
	// Confirmed is set once the block is recorded by its chain's recorder
	// (see StateConfirmed); root blocks are confirmed when committed.
	Confirmed bool
	// Certificate is the committee's confirm certificate, when the node
	// has it.
	Certificate *types.Certificate
	// The body's message lists (paper 5.3).
	Inputs     []types.Message
	InterRelay []types.Message
	OuterRelay []types.Message
}

// StatusView describes the node.
type StatusView struct {
	Version string
	// NodeID is the node's network identity.
	NodeID string
	// Genesis is the hash of the network's genesis.
	Genesis types.Hash
	// Syncing is set while the node catches up with its chains.
	Syncing   bool
	Peers     int
	StartedAt time.Time
	// Chains are the chains this node validates or follows.
	Chains []types.ChainID
	// Pending is the number of messages in this node's mempools.
	Pending int
}
