package driver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/mempool"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// Keys of the node records the transaction chain writes.
const (
	// messageRecordPrefix | chain u32 | message ID: height u64 | input
	// index u32 of the block that confirmed the message.
	messageRecordPrefix = "msg/"
	// relayRecordPrefix | chain u32 | relay ID: height u64 | index u32 of
	// the outer-relay message in the block that produced it.
	relayRecordPrefix = "relay/"
)

func relayRecordKey(chain types.ChainID, id types.Hash) []byte {
	k := binary.BigEndian.AppendUint32([]byte(relayRecordPrefix), uint32(chain))
	return append(k, id[:]...)
}

// consumedKeyPrefix starts the keys of consumed relay IDs in a transaction
// chain's state keyspace: 'r' | relay ID (33 bytes, never the 20 of an
// account) -> height u64 of the block that consumed it.
const consumedKeyPrefix = 'r'

func consumedStoreKey(id types.Hash) []byte {
	return append([]byte{consumedKeyPrefix}, id[:]...)
}

func messageRecordKey(chain types.ChainID, id types.Hash) []byte {
	k := binary.BigEndian.AppendUint32([]byte(messageRecordPrefix), uint32(chain))
	return append(k, id[:]...)
}

// MessageLocation is where a confirmed message sits: the height of its block
// and its index among the block's inputs.
type MessageLocation struct {
	Height types.Height
	Index  uint32
}

func encodeMessageLocation(l MessageLocation) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 12), uint64(l.Height))
	return binary.BigEndian.AppendUint32(b, l.Index)
}

func decodeMessageLocation(b []byte) (MessageLocation, error) {
	if len(b) != 12 {
		return MessageLocation{}, fmt.Errorf("message record of %d bytes, want 12: %w", len(b), storage.ErrCorruption)
	}
	return MessageLocation{Height: types.Height(binary.BigEndian.Uint64(b)), Index: binary.BigEndian.Uint32(b[8:])}, nil
}

// txApp runs a transaction chain: the accounts of its prefix, in memory
// (exec needs every state leaf for the state root) and backed by the
// store, the set of relays its blocks consumed, the mempool, the relay
// inbox, and the relays and digest records it sends (relays.go).
//
// The consensus loop is the only writer of the committed state; the
// verifiers, the block builder, the mempool's nonce reads and the API read
// it under the read lock. persist holds the write lock from the moment a
// commit changes memory until its batch is durable, so no reader sees state
// the disk does not have.
type txApp struct {
	r     *runner
	db    *storage.DB
	spec  exec.ChainSpec
	topo  *chains.Topology
	env   exec.Env
	pool  *mempool.Pool
	cache *resultCache[*exec.Result]
	// parent is the chain's recorder on this node (the root, or the
	// coordinator of a sub-chain): where its digest records go. top is
	// the root chain. recorders are the recorder chains this node runs,
	// parent first: their committed records are the anchors relays are
	// checked against. recordersMoved is signalled when one commits.
	parent         *rootApp
	parentRunner   *runner
	top            *rootApp
	recorders      anchorSet
	recordersMoved chan struct{}

	mu       sync.RWMutex
	mem      *exec.MemState
	hd       storage.Head
	header   types.Header
	consumed *consumedIndex
	// history keeps, for the committed heights the recorder has not
	// recorded yet, what light account proofs need (light.go).
	history stateHistory

	// inbox holds arriving relay packages until a block consumes them;
	// senders remembers who sent each, to acknowledge it.
	inboxMu sync.Mutex
	inbox   *relay.Inbox
	senders map[types.Hash][]relaySender
	rm      *relayMetrics

	forward chan forwarding
	ingest  chan MessageBatch
	events  chan relayEvent
}

var _ app = (*txApp)(nil)

// relaySender is a node that sent a relay package: it is acknowledged
// when a block consumes the relay.
type relaySender struct {
	node   int
	source types.ChainID
}

// forwarding is a group of admitted messages for one member's mempool.
type forwarding struct {
	to   types.ValidatorIndex
	msgs []types.Message
}

// newTxRunner returns the runner of transaction chain chain, whose block 0
// is genesisHeader.
func newTxRunner(n *Node, chain types.ChainID, genesisHeader types.Header) (*runner, error) {
	r, err := newRunner(n, chain)
	if err != nil {
		return nil, err
	}
	r.pinned = true
	rm, err := newRelayMetrics(chainRegisterer(n.reg, chain), chain, n.topo.Transactions())
	if err != nil {
		return nil, fmt.Errorf("relay metrics: %w", err)
	}
	gc, _ := n.gen.Chain(chain)
	a := &txApp{
		r:        r,
		db:       n.db,
		spec:     gc.Spec(),
		topo:     n.topo,
		env:      exec.Env{Runner: workerRunner{workers: n.cfg.Accel.VerifyWorkers}, Randomness: n.rnd},
		cache:    newResultCache[*exec.Result](),
		consumed: newConsumedIndex(n.db, chain, r.log),
		inbox:    relay.NewInbox(chain, n.topo, 0),
		senders:  map[types.Hash][]relaySender{},
		rm:       rm,
		forward:  make(chan forwarding, 1024),
		ingest:   make(chan MessageBatch, 64),
		events:   make(chan relayEvent, 1024),
	}
	if err := a.open(n.gen.GenesisAccounts(chain), genesisHeader); err != nil {
		return nil, err
	}
	rm.consumedIndex.Set(float64(a.consumed.memoryBytes()))
	pool, err := mempool.New(mempool.FromConfig(n.cfg.Mempool, chain), a, n.reg)
	if err != nil {
		return nil, err
	}
	a.pool = pool
	r.app = a
	return r, nil
}

// connect gives the chain its recorders: parent records it, root is the
// root chain (the same runner for a top-level chain). It runs before Run.
func (a *txApp) connect(parent, root *runner) {
	a.parentRunner = parent
	a.parent, a.top = parent.rootApp(), root.rootApp()
	a.recorders = anchorSet{a.parent}
	if parent != root {
		a.recorders = append(a.recorders, a.top)
	}
	a.recordersMoved = make(chan struct{}, 1)
	for _, rc := range a.recorders {
		rc.subscribe(a.recordersMoved)
	}
}

// anchorSet is the relay.Anchors of a transaction chain: a header is
// confirmed when one of the recorder chains the node runs recorded it.
type anchorSet []*rootApp

// Confirmed implements relay.Anchors.
func (s anchorSet) Confirmed(c types.ChainID, height types.Height, h types.Hash) bool {
	for _, rc := range s {
		if rc.Confirmed(c, height, h) {
			return true
		}
	}
	return false
}

// Recorded implements relay.Anchors. A chain has one recorder, so at most
// one of the set knows (c, height).
func (s anchorSet) Recorded(c types.ChainID, height types.Height) (relay.Anchor, bool) {
	for _, rc := range s {
		if an, ok := rc.Recorded(c, height); ok {
			return an, true
		}
	}
	return relay.Anchor{}, false
}

// advanced returns a channel closed once one of the recorders commits.
func (s anchorSet) advanced(ctx context.Context) <-chan struct{} {
	if len(s) == 1 {
		return s[0].advanced()
	}
	out := make(chan struct{})
	first, second := s[0].advanced(), s[1].advanced()
	go func() {
		select {
		case <-first:
		case <-second:
		case <-ctx.Done():
		}
		close(out)
	}()
	return out
}

// open loads the chain's state from the store, first writing the genesis
// block into an empty one.
func (a *txApp) open(genesisAccounts []actor.Account, genesisHeader types.Header) error {
	chain := uint32(a.spec.ID)
	if _, err := a.db.State().Head(chain); errors.Is(err, storage.ErrNotFound) {
		writes, err := accountWrites(genesisAccounts)
		if err != nil {
			return err
		}
		if err := writeGenesisBlock(a.db, genesisHeader, writes); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("read head: %w", err)
	}
	head, header, err := loadHead(a.db, a.spec.ID, genesisHeader)
	if err != nil {
		return err
	}
	var accounts []actor.Account
	err = a.db.State().Scan(chain, nil, func(key, value []byte) error {
		if len(key) == 1+hash.Size && key[0] == consumedKeyPrefix {
			a.consumed.load(types.Hash(key[1:]))
			return nil
		}
		acct, err := actor.DecodeAccount(value)
		if err != nil {
			return fmt.Errorf("account %x: %w: %w", key, storage.ErrCorruption, err)
		}
		if len(key) != types.AddressSize || types.Address(key) != acct.Address {
			return fmt.Errorf("account stored under key %x holds address %v: %w", key, acct.Address, storage.ErrCorruption)
		}
		accounts = append(accounts, acct.Clone())
		return nil
	})
	if err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	mem, err := exec.NewMemState(accounts)
	if err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	if root := mem.Root(); root != head.StateRoot {
		return fmt.Errorf("load state: root of the stored accounts %s differs from the head's %s: %w", root, head.StateRoot, storage.ErrCorruption)
	}
	a.mem, a.hd, a.header = mem, head, header
	a.history.reset(header.Height, mem)
	return nil
}

// writeGenesisBlock writes block 0 of a chain with its state writes into an
// empty store.
func writeGenesisBlock(db *storage.DB, header types.Header, writes []storage.Write) error {
	rec, err := (&StoredBlock{Header: header}).AppendBinary(nil)
	if err != nil {
		return err
	}
	if err := db.State().ApplyBlock(uint32(header.ChainID), 0, writes, rec, header.Hash(), header.StateRoot); err != nil {
		return fmt.Errorf("write genesis block of chain %d: %w", header.ChainID, err)
	}
	return nil
}

// loadHead checks that the store's block 0 of chain is genesisHeader and
// returns the head and its header.
func loadHead(db *storage.DB, chain types.ChainID, genesisHeader types.Header) (storage.Head, types.Header, error) {
	stored0, err := readStoredBlock(db, chain, 0)
	if err != nil {
		return storage.Head{}, types.Header{}, err
	}
	if stored0.Header.Hash() != genesisHeader.Hash() {
		return storage.Head{}, types.Header{}, fmt.Errorf("the store holds chain %d of another genesis (block 0 %s, genesis file gives %s)",
			chain, stored0.Header.Hash(), genesisHeader.Hash())
	}
	head, err := db.State().Head(uint32(chain))
	if err != nil {
		return storage.Head{}, types.Header{}, fmt.Errorf("read head: %w", err)
	}
	headBlock, err := readStoredBlock(db, chain, types.Height(head.Height))
	if err != nil {
		return storage.Head{}, types.Header{}, err
	}
	return head, headBlock.Header, nil
}

func readStoredBlock(db *storage.DB, chain types.ChainID, height types.Height) (StoredBlock, error) {
	blk, err := db.Blocks().ByHeight(uint32(chain), uint64(height))
	if err != nil {
		return StoredBlock{}, fmt.Errorf("read block %d of chain %d: %w", height, chain, err)
	}
	sb, err := DecodeStoredBlock(blk.Bytes)
	if err != nil {
		return StoredBlock{}, fmt.Errorf("block %d of chain %d: %w: %w", height, chain, storage.ErrCorruption, err)
	}
	if sb.Header.Hash() != blk.Hash || sb.Header.Height != height {
		return StoredBlock{}, fmt.Errorf("block %d of chain %d: record does not match its key: %w", height, chain, storage.ErrCorruption)
	}
	return sb, nil
}

func accountWrites(accounts []actor.Account) ([]storage.Write, error) {
	writes := make([]storage.Write, len(accounts))
	for i := range accounts {
		enc, err := accounts[i].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("account %v: %w", accounts[i].Address, err)
		}
		writes[i] = storage.Write{Key: accounts[i].Address[:], Value: enc}
	}
	return writes, nil
}

// head implements app.
func (a *txApp) head() (storage.Head, types.Header) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.hd, a.header
}

// Account returns the committed state of an account.
func (a *txApp) Account(addr types.Address) (actor.Account, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	acct, ok := a.mem.Account(addr)
	return acct.Clone(), ok
}

// AccountAt returns the committed state of an account with the height and
// state root it was read at.
func (a *txApp) AccountAt(addr types.Address) (actor.Account, types.Height, types.Hash, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	acct, ok := a.mem.Account(addr)
	return acct.Clone(), types.Height(a.hd.Height), a.hd.StateRoot, ok
}

// Nonce implements mempool.NonceSource: the committed nonce, 0 for an
// account that does not exist.
func (a *txApp) Nonce(addr types.Address) (uint64, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	acct, _ := a.mem.Account(addr)
	return acct.Nonce, nil
}

// IsConsumed reports whether a committed block of the chain consumed relay
// id.
func (a *txApp) IsConsumed(id types.Hash) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.consumed.Consumed(id)
}

// ProveAccount returns an account with its proof against the committed
// state root, and the head the proof is for.
func (a *txApp) ProveAccount(addr types.Address) (actor.Account, merkle.Proof, storage.Head, bool, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	acct, ok := a.mem.Account(addr)
	if !ok {
		return actor.Account{}, merkle.Proof{}, a.hd, false, nil
	}
	proof, err := exec.ProveAccount(a.mem.StateLeaves(), addr)
	if err != nil {
		return actor.Account{}, merkle.Proof{}, a.hd, false, err
	}
	return acct.Clone(), proof, a.hd, true, nil
}

// verifier returns the relay verifier of blocks built or checked on the
// committed state; the caller holds the read lock.
func (a *txApp) verifier() relay.Verifier {
	return relay.Verifier{Chain: a.spec.ID, Topology: a.topo, Anchors: a.recorders, Consumed: a.consumed}
}

// persist implements app: each block with its account writes and consumed
// relays (ApplyBlock), and its message index, in the loop's batch.
func (a *txApp) persist(batch *storage.Batch, commits []consensus.Decision, durable func() error) ([]commitPlan, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	chain := a.spec.ID
	plans := make([]commitPlan, 0, len(commits))
	head, parent := a.hd, a.header
	for i := range commits {
		plan, err := a.plan(commits[i], &parent)
		if err != nil {
			return nil, err
		}
		rec, err := (&StoredBlock{Header: plan.header, Decision: &plan.decision}).AppendBinary(nil)
		if err != nil {
			return nil, fmt.Errorf("commit %d: %w", plan.header.Height, err)
		}
		var writes []storage.Write
		if plan.result != nil {
			writes, err = accountWrites(plan.result.WriteSet)
			if err != nil {
				return nil, fmt.Errorf("commit %d: %w", plan.header.Height, err)
			}
		}
		height := binary.BigEndian.AppendUint64(nil, uint64(plan.header.Height))
		for _, id := range plan.consumed {
			writes = append(writes, storage.Write{Key: consumedStoreKey(id), Value: height})
		}
		blockHash := plan.header.Hash()
		if err := batch.ApplyBlock(uint32(chain), uint64(plan.header.Height), writes, rec, blockHash, plan.header.StateRoot); err != nil {
			return nil, fmt.Errorf("commit %d: %w", plan.header.Height, err)
		}
		for j, id := range plan.inputs {
			loc := encodeMessageLocation(MessageLocation{Height: plan.header.Height, Index: uint32(j)})
			if err := batch.PutRecord(messageRecordKey(chain, id), loc); err != nil {
				return nil, fmt.Errorf("commit %d: message index: %w", plan.header.Height, err)
			}
		}
		if plan.result != nil {
			for j := range plan.result.Body.OuterRelay {
				loc := encodeMessageLocation(MessageLocation{Height: plan.header.Height, Index: uint32(j)})
				if err := batch.PutRecord(relayRecordKey(chain, plan.result.Body.OuterRelay[j].ID()), loc); err != nil {
					return nil, fmt.Errorf("commit %d: relay index: %w", plan.header.Height, err)
				}
			}
		}
		if plan.result != nil {
			a.history.add(plan.header.Height, a.mem, plan.result.WriteSet)
			if err := a.mem.Apply(plan.result.WriteSet); err != nil {
				return nil, fmt.Errorf("commit %d: %w", plan.header.Height, err)
			}
			a.history.after(a.mem)
		}
		for _, id := range plan.consumed {
			a.consumed.add(id)
		}
		head = storage.Head{Height: uint64(plan.header.Height), BlockHash: blockHash, StateRoot: plan.header.StateRoot}
		parent = plan.header
		plans = append(plans, plan)
	}
	if err := durable(); err != nil {
		return nil, err
	}
	a.consumed.settle()
	a.rm.consumedIndex.Set(float64(a.consumed.memoryBytes()))
	a.hd, a.header = head, parent
	if tip, ok := a.parent.Tip(chain); ok {
		a.history.prune(tip.Height)
	}
	return plans, nil
}

// plan prepares one decided height on top of parent: its header (the
// block's, or the synthetic empty header) and, for a block, the execution
// result, against the state and consumed set after the previous height.
func (a *txApp) plan(d consensus.Decision, parent *types.Header) (commitPlan, error) {
	if d.Block == nil {
		return emptyPlan(d, parent)
	}
	h := d.Block.Header
	p := commitPlan{decision: d, header: h}
	if err := checkDecidedBlock(&h, parent); err != nil {
		return p, err
	}
	res, ok := a.cache.get(h.Hash())
	if !ok {
		body, err := exec.DecodeBody(d.Block.Body)
		if err != nil {
			return p, fmt.Errorf("commit block %d: %w: %w", h.Height, errDecidedInvalid, err)
		}
		// A quorum of the committee checked the block's relays against
		// their recorder views before certifying it: a node whose own
		// view is behind (block sync, a restart) still commits it. What
		// needs no view (addressing, full proofs' paths, the consumed
		// set) is checked all the same.
		env := a.env
		env.Relays = relay.Trusted{Chain: a.spec.ID, Topology: a.topo, Consumed: a.consumed}
		r, err := exec.Verify(a.mem, a.spec, &body, exec.RootsOf(&h), env)
		if err != nil {
			return p, fmt.Errorf("commit block %d: %w: %w", h.Height, errDecidedInvalid, err)
		}
		res = &r
	}
	p.result = res
	p.messages = len(res.Body.Inputs)
	p.inputs = make([]types.Hash, len(res.Body.Inputs))
	for i := range res.Body.Inputs {
		m := &res.Body.Inputs[i].Message
		p.inputs[i] = m.ID()
		switch m.Kind {
		case types.MessageExternal:
			p.external = append(p.external, *m)
		case types.MessageOuterRelay:
			p.consumed = append(p.consumed, p.inputs[i])
		}
	}
	return p, nil
}

// committed implements app: the mempool forgets the block's messages, the
// inbox its relays; the relay loop acknowledges those, sends the block's
// digest record to the recorder's committee and, once the recorder records
// the block, its outer relays to their chains.
func (a *txApp) committed(p *commitPlan) {
	a.cache.prune(p.header.Height)
	if len(p.external) > 0 {
		a.pool.Update(p.external, a)
	}
	a.countRelays(p)
	var acks map[int]relayAcks
	if len(p.consumed) > 0 {
		a.inboxMu.Lock()
		a.inbox.Forget(p.consumed)
		a.rm.inbox.Set(float64(a.inbox.Len()))
		acks = map[int]relayAcks{}
		for _, id := range p.consumed {
			for _, s := range a.senders[id] {
				ra := acks[s.node]
				ra.source = s.source
				ra.ids = append(ra.ids, id)
				acks[s.node] = ra
			}
			delete(a.senders, id)
		}
		a.inboxMu.Unlock()
	}
	ev := relayEvent{
		committed: &committedBlock{
			record: recordOf(p),
			acks:   acks,
		},
	}
	if p.result != nil && len(p.result.Body.OuterRelay) > 0 {
		ev.committed.body = &p.result.Body
	}
	select {
	case a.events <- ev:
	case <-a.r.n.ctx.Done():
	}
}

// backlog implements app.
func (a *txApp) backlog() int { return a.pool.Len() }

// build implements app: the block of a proposal request is the relay
// packages that verify now (the inbox's Ready) and the mempool's selection,
// executed on the committed state (node/exec.Execute), under a header that
// extends the head. Inputs execution refuses as invalid leave the mempool.
// A body too large for a frame is rebuilt from half the inputs.
func (a *txApp) build(req consensus.ProposalRequest) (consensus.ProposalReady, error) {
	var ready consensus.ProposalReady
	limit := a.r.n.cfg.Consensus.MaxBlockMessages
	budget := min(a.r.n.cfg.Network.MaxFrameBytes-64<<10, consensus.MaxBlockBodySize)
	var invalid []exec.Receipt
	// The mempool is read before the state's lock is taken: its admission
	// reads nonces under its own lock.
	msgs := a.pool.Reap(limit)
	a.mu.RLock()
	defer a.mu.RUnlock()
	head, parent := a.hd, a.header
	if uint64(req.Height) != head.Height+1 {
		return ready, fmt.Errorf("build %d on head %d: %w", req.Height, head.Height, errStaleBuild)
	}
	v := a.verifier()
	a.inboxMu.Lock()
	relays := a.inbox.Ready(&v, limit)
	a.rm.inbox.Set(float64(a.inbox.Len()))
	a.inboxMu.Unlock()
	env := a.env
	env.Relays = v
	for {
		relays = relays[:min(len(relays), limit)]
		msgs = msgs[:min(len(msgs), limit-len(relays))]
		inputs := make([]exec.Input, 0, len(relays)+len(msgs))
		inputs = append(inputs, relays...)
		for i := range msgs {
			inputs = append(inputs, exec.Input{Message: msgs[i]})
		}
		res, err := exec.Execute(a.mem, a.spec, inputs, env)
		if err != nil {
			return ready, fmt.Errorf("build %d: %w", req.Height, err)
		}
		body, err := res.Body.MarshalBinary()
		if err != nil {
			return ready, fmt.Errorf("build %d: %w", req.Height, err)
		}
		if len(body) > budget && limit > 1 {
			limit /= 2
			continue
		}
		header := proposalHeader(a.spec.ID, req, head, &parent, a.r.self)
		res.Roots.SetHeader(&header)
		a.cache.put(header.Hash(), req.Height, &res)
		for i, r := range res.Receipts {
			if i >= len(relays) && !r.Included && !errors.Is(r.Reason, exec.ErrBlockFull) && !errors.Is(r.Reason, exec.ErrInputGas) {
				invalid = append(invalid, r)
			}
		}
		ready = consensus.ProposalReady{Height: req.Height, Round: req.Round, Block: consensus.Block{Header: header, Body: body}}
		break
	}
	for _, r := range invalid {
		a.pool.Drop([]types.Hash{r.ID}, r.Reason)
	}
	if len(invalid) > 0 {
		a.r.log.Debug("inputs refused by execution", "count", len(invalid), "first", invalid[0].Reason)
	}
	return ready, nil
}

// verifyBlock implements app: the header extends the head and the body
// executes to the roots the header carries (node/exec.Verify), its relays
// proved against this node's root view. A relay whose source block the
// root view has not recorded yet (relay.ErrNotConfirmed) is no verdict:
// the check is tried again each time the root chain commits, until the
// round timeout.
func (a *txApp) verifyBlock(ctx context.Context, b *consensus.Block) error {
	if _, ok := a.cache.get(b.Hash()); ok {
		return nil
	}
	body, err := exec.DecodeBody(b.Body)
	if err != nil {
		return fmt.Errorf("block %d: body: %w", b.Header.Height, err)
	}
	deadline := time.NewTimer(a.r.n.cfg.Consensus.RoundTimeout.Duration)
	defer deadline.Stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for {
		advanced := a.recorders.advanced(ctx)
		err := a.verifyOnce(b, &body)
		if !errors.Is(err, relay.ErrNotConfirmed) {
			return err
		}
		select {
		case <-advanced:
		case <-deadline.C:
			return err
		case <-ctx.Done():
			return err
		}
	}
}

func (a *txApp) verifyOnce(b *consensus.Block, body *exec.Body) error {
	h := b.Header
	a.mu.RLock()
	defer a.mu.RUnlock()
	if err := checkProposalHeader(&h, a.hd, &a.header, a.r.committeeSize(), time.Now()); err != nil {
		return err
	}
	env := a.env
	env.Relays = a.verifier()
	res, err := exec.Verify(a.mem, a.spec, body, exec.RootsOf(&h), env)
	if err != nil {
		return fmt.Errorf("block %d: %w", h.Height, err)
	}
	a.cache.put(b.Hash(), h.Height, &res)
	return nil
}

// receive implements the runner's routing of the transaction chain's own
// kinds: message batches from members, relay batches from the source
// chain's members, acknowledgements from the destination chain's members.
func (a *txApp) receive(in inbound) bool {
	r := a.r
	kind := in.payload[0]
	switch kind {
	case KindMessageBatch:
		if _, member := r.indexOf[in.peer]; !member {
			return false
		}
		b, err := DecodeMessageBatch(in.payload)
		if err != nil {
			r.drop(dropUndecodable, in.node, kind, err)
			return true
		}
		r.m.messagesIn.WithLabelValues("message_batch").Inc()
		select {
		case a.ingest <- b:
		default:
			r.drop(dropIngestFull, in.node, kind, errors.New("ingest queue full"))
		}
	case relay.BatchTag:
		b, err := relay.DecodeBatch(in.payload)
		if err != nil {
			r.drop(dropUndecodable, in.node, kind, err)
			return true
		}
		if b.Dest != a.spec.ID || !a.inCommittee(b.Source, in.node) {
			r.drop(dropInvalid, in.node, kind, fmt.Errorf("relay batch %d->%d from node %d", b.Source, b.Dest, in.node))
			return true
		}
		r.m.messagesIn.WithLabelValues("relay_batch").Inc()
		a.receivePackages(in.node, b)
	case relay.AckTag:
		ack, err := relay.DecodeAck(in.payload)
		if err != nil {
			r.drop(dropUndecodable, in.node, kind, err)
			return true
		}
		if !a.inCommittee(ack.Chain, in.node) {
			r.drop(dropInvalid, in.node, kind, fmt.Errorf("relay ack of chain %d from node %d", ack.Chain, in.node))
			return true
		}
		r.m.messagesIn.WithLabelValues("relay_ack").Inc()
		select {
		case a.events <- relayEvent{acked: ack.IDs, ackedBy: in.node}:
		default:
			r.drop(dropIngestFull, in.node, kind, errors.New("relay queue full"))
		}
	default:
		return false
	}
	return true
}

// inCommittee reports whether genesis node node is in chain's committee.
func (a *txApp) inCommittee(chain types.ChainID, node int) bool {
	_, ok := a.r.n.gen.MemberOf(chain, node)
	return ok
}

// receivePackages files a relay batch's packages in the inbox and
// acknowledges at once those the chain already consumed.
func (a *txApp) receivePackages(node int, b relay.Batch) {
	// Packed proofs are turned back into one proof a package; a packing
	// that does not unpack loses its packed packages, refused as bad
	// proofs.
	pkgs, err := b.Unpacked()
	if err != nil {
		a.r.log.Debug("relay batch packing refused", "from_node", node, "err", err)
		a.rm.refused.WithLabelValues(chainLabel(b.Source), refuseBadProof).Add(float64(len(b.Packages) - len(pkgs)))
	}
	var done []types.Hash
	arrived := 0
	a.mu.RLock()
	a.inboxMu.Lock()
	for i := range pkgs {
		pkg := &pkgs[i]
		id := pkg.Message.ID()
		if a.consumed.Consumed(id) {
			done = append(done, id)
			continue
		}
		first := !a.inbox.Has(id)
		if err := a.inbox.Add(*pkg); err != nil {
			a.r.log.Debug("relay package refused", "id", id, "from_node", node, "err", err)
			a.rm.refused.WithLabelValues(chainLabel(b.Source), refusal(pkg, err)).Inc()
			continue
		}
		if first {
			arrived++
		}
		if len(a.senders) >= 2*relay.DefaultInboxSize {
			// Acknowledgements only spare re-sends: a relay consumed
			// without one is acknowledged when its sender sends it again.
			clear(a.senders)
		}
		s := relaySender{node: node, source: b.Source}
		if !containsSender(a.senders[id], s) {
			a.senders[id] = append(a.senders[id], s)
		}
	}
	a.rm.inbox.Set(float64(a.inbox.Len()))
	a.inboxMu.Unlock()
	a.mu.RUnlock()
	src := a.rm.peer(b.Source)
	src.received.Add(float64(len(b.Packages)))
	src.arrived.Add(float64(arrived))
	if len(done) > 0 {
		a.sendAcks(map[int]relayAcks{node: {source: b.Source, ids: done}})
	}
}

func containsSender(ss []relaySender, s relaySender) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// spawn implements app: the forwarder, the ingest worker and the relay
// loop.
func (a *txApp) spawn(spawn func(string, func(context.Context) error), name func(string) string) {
	quiet := func(fn func(context.Context)) func(context.Context) error {
		return func(ctx context.Context) error { fn(ctx); return nil }
	}
	spawn(name("forward"), quiet(a.forwardLoop))
	spawn(name("ingest"), quiet(a.ingestLoop))
	spawn(name("relay"), quiet(a.relayLoop))
}

// forwardLoop sends the messages this node admitted from its API to the
// member that leads the next height, in batches, best-effort (netq
// TrySend): a lost batch only delays a message until this node leads.
func (a *txApp) forwardLoop(ctx context.Context) {
	r := a.r
	pending := make([][]types.Message, len(r.members))
	queued := 0
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	defer flush.Stop()
	send := func(to int) {
		for len(pending[to]) > 0 {
			chunk := pending[to][:min(len(pending[to]), MaxBatchMessages)]
			pending[to] = pending[to][len(chunk):]
			queued -= len(chunk)
			enc, err := (&MessageBatch{Messages: chunk}).AppendBinary(appendEnvelope(nil, r.chain))
			if err != nil {
				r.log.Error("encode message batch", "err", err)
				continue
			}
			if err := r.n.tr.TrySend(r.members[to], enc); err != nil {
				r.m.dropped.WithLabelValues(dropSendFailed).Inc()
				continue
			}
			r.m.messagesOut.WithLabelValues("message_batch").Inc()
		}
		pending[to] = nil
	}
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-a.forward:
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

// forwardFlush is how long the forwarder gathers admitted messages before it
// sends a batch that is not full.
const forwardFlush = 5 * time.Millisecond

// ingestLoop admits the message batches other members forwarded. Admission
// verifies their signatures in one batch per call (node/mempool).
func (a *txApp) ingestLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-a.ingest:
			a.pool.Add(b.Messages, a.r.n.rnd)
		}
	}
}

// Submit admits external messages to the mempool (node/mempool: stateless
// rules, nonces, bounds, one signature batch) and forwards those admitted to
// the leader of the next height, which builds the block they can first
// enter (the current height's leader is already building under load). Only
// two mempools check each message, not the whole committee's; the message
// also stays here, so this node includes it when it leads if the other did
// not. It returns one result per message, in order.
func (a *txApp) Submit(msgs []types.Message) []mempool.AddResult {
	r := a.r
	results := a.pool.Add(msgs, r.n.rnd)
	var admitted []types.Message
	for i, res := range results {
		if res.Err == nil {
			admitted = append(admitted, msgs[i].Clone())
		}
	}
	st := r.Status()
	to := consensus.Leader(st.ConsensusHeight+1, 0, len(r.members))
	if len(admitted) > 0 && to != r.self {
		select {
		case a.forward <- forwarding{to: to, msgs: admitted}:
		default:
			r.m.dropped.WithLabelValues(dropForwardFull).Add(float64(len(admitted)))
		}
	}
	return results
}
