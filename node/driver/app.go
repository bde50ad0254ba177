package driver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// app is the chain-specific half of a runner: what a block of the chain is,
// how the leader builds one, how a member checks one and what committing one
// writes. txApp runs a transaction chain, rootApp the root chain.
//
// The consensus loop calls persist and committed; the executor goroutine
// build; the verification workers verifyBlock; the API the app's own
// readers. Each app guards its committed state with a lock that persist
// holds from the first change in memory until the batch is durable.
type app interface {
	// head returns the committed head and its header.
	head() (storage.Head, types.Header)
	// persist stages the decided heights into batch on top of the
	// committed head, calls durable (which commits the batch) while
	// holding the state's write lock, and returns one plan per height.
	persist(batch *storage.Batch, commits []consensus.Decision, durable func() error) ([]commitPlan, error)
	// build makes the block of a proposal request.
	build(req consensus.ProposalRequest) (consensus.ProposalReady, error)
	// verifyBlock is the validity check of a proposed block; it may wait
	// (bounded, giving up when ctx ends) for what it depends on.
	verifyBlock(ctx context.Context, b *consensus.Block) error
	// committed does the app's part of what follows a durable commit.
	committed(p *commitPlan)
	// backlog is the number of inputs waiting for a block: a leader builds
	// at once, without waiting for the block interval, when it fills one.
	backlog() int
	// spawn starts the app's own goroutines.
	spawn(spawn func(string, func(context.Context) error), name func(string) string)
}

// commitPlan is one decided height, staged.
type commitPlan struct {
	decision consensus.Decision
	header   types.Header
	// messages is the number of input messages of the block, for metrics.
	messages int

	// Transaction chains: the execution of a non-EMPTY block (nil for
	// EMPTY), the IDs of its inputs in body order, its external inputs
	// (for the mempool) and the relay IDs it consumed.
	result   *exec.Result
	inputs   []types.Hash
	external []types.Message
	consumed []types.Hash

	// Root chain: the records of the block.
	records []rootchain.Record
}

// errDecidedInvalid means the committee decided a block this node finds
// invalid: more than the tolerated share of members is faulty, or this
// node's state is wrong. Neither can be repaired by carrying on.
var errDecidedInvalid = errors.New("decided block does not verify")

// errStaleBuild: the committed state is not at the parent of the block to
// build or check (it moved on, or the request came early).
var errStaleBuild = errors.New("state is not at the block's parent")

// maxClockDrift is how far ahead of this node's clock a proposed block's
// timestamp may be. Timestamps inform people, not execution, so the bound
// only keeps a leader from writing nonsense into the chain.
const maxClockDrift = 10 * time.Second

// checkProposalHeader applies the header rules every chain shares to a
// proposed block: it extends the committed head, keeps the epoch, names a
// member as proposer, and has a sane timestamp.
func checkProposalHeader(h *types.Header, head storage.Head, parent *types.Header, committee int, now time.Time) error {
	switch {
	case h.Empty:
		return fmt.Errorf("block %d: a proposal cannot be the empty block", h.Height)
	case uint64(h.Height) != head.Height+1:
		return fmt.Errorf("block %d: the committed head is %d: %w", h.Height, head.Height, errStaleBuild)
	case h.ParentHash != head.BlockHash:
		return fmt.Errorf("block %d: parent %s, head is %s", h.Height, h.ParentHash, head.BlockHash)
	case h.Epoch != parent.Epoch:
		return fmt.Errorf("block %d: epoch %d, chain is in %d", h.Height, h.Epoch, parent.Epoch)
	case int(h.Proposer) >= committee:
		return fmt.Errorf("block %d: proposer %d is not a member", h.Height, h.Proposer)
	case h.TimestampMillis < parent.TimestampMillis:
		return fmt.Errorf("block %d: timestamp %d before the parent's %d", h.Height, h.TimestampMillis, parent.TimestampMillis)
	case h.TimestampMillis > uint64(now.Add(maxClockDrift).UnixMilli()):
		return fmt.Errorf("block %d: timestamp %d is in the future", h.Height, h.TimestampMillis)
	}
	return nil
}

// proposalHeader returns the header of the block a leader proposes on top
// of the committed head, without its roots.
func proposalHeader(chain types.ChainID, req consensus.ProposalRequest, head storage.Head, parent *types.Header, proposer types.ValidatorIndex) types.Header {
	return types.Header{
		Version:         types.HeaderVersion,
		ChainID:         chain,
		Height:          req.Height,
		Epoch:           parent.Epoch,
		Round:           req.Round,
		ParentHash:      head.BlockHash,
		TimestampMillis: max(parent.TimestampMillis, uint64(time.Now().UnixMilli())),
		Proposer:        proposer,
	}
}

// emptyPlan plans a height decided EMPTY on top of parent: the chain
// records the synthetic empty header.
func emptyPlan(d consensus.Decision, parent *types.Header) (commitPlan, error) {
	p := commitPlan{decision: d, header: types.EmptyHeader(parent)}
	if p.header.Height != d.Height() {
		return p, fmt.Errorf("commit EMPTY at %d on head %d: %w", d.Height(), parent.Height, storage.ErrNotNextHeight)
	}
	return p, nil
}

// checkDecidedBlock checks that a decided block extends parent.
func checkDecidedBlock(h *types.Header, parent *types.Header) error {
	if h.Height != parent.Height+1 || h.ParentHash != parent.Hash() {
		return fmt.Errorf("commit block %d (parent %s) on head %d (%s): %w", h.Height, h.ParentHash, parent.Height, parent.Hash(), errDecidedInvalid)
	}
	return nil
}

// resultCache keeps the results of blocks this node built or verified, by
// block hash, until their height is committed, so a commit does not execute
// the block again.
type resultCache[T any] struct {
	mu      sync.Mutex
	results map[types.Hash]cachedResult[T]
}

type cachedResult[T any] struct {
	height types.Height
	res    T
}

func newResultCache[T any]() *resultCache[T] {
	return &resultCache[T]{results: map[types.Hash]cachedResult[T]{}}
}

func (c *resultCache[T]) put(h types.Hash, height types.Height, res T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results[h] = cachedResult[T]{height: height, res: res}
}

func (c *resultCache[T]) get(h types.Hash) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.results[h]
	return r.res, ok
}

// prune forgets every result of a height at or below committed.
func (c *resultCache[T]) prune(committed types.Height) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, r := range c.results {
		if r.height <= committed {
			delete(c.results, h)
		}
	}
}
