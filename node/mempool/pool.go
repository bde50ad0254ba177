package mempool

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// NonceSource gives the committed nonce of an account: the nonce its next
// external message must carry, as of the last committed block. An account
// that does not exist has nonce 0. It must be safe for concurrent use and
// must not call the Pool (Add may call it under the pool's lock, after an
// Update raced with it). An error means the state could not be read (the
// message is refused with ErrNonceUnavailable), never that the account is
// missing.
type NonceSource interface {
	Nonce(addr types.Address) (uint64, error)
}

// AddResult is the verdict on one message given to Add.
type AddResult struct {
	// ID is the message's ID; zero only when the message cannot be encoded
	// (Err then wraps ErrInvalid).
	ID types.Hash
	// Err is nil when the message was admitted; otherwise it wraps one of
	// the package's sentinels and says why.
	Err error
}

// State is what a pool knows of a message ID.
type State uint8

// The states Status reports.
const (
	// StateUnknown: the pool never held the message, or forgot it.
	StateUnknown State = iota
	// StatePending: the message waits in the pool.
	StatePending
	// StateDropped: the message was admitted and later dropped (its nonce
	// was consumed by another message, or the caller dropped it); Reason
	// says why. Messages that left because they were included are not
	// reported here: the chain knows them.
	StateDropped
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateUnknown:
		return "unknown"
	case StatePending:
		return "pending"
	case StateDropped:
		return "dropped"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Status is what Pool.Status reports.
type Status struct {
	State State
	// Reason is why a dropped message was dropped; nil otherwise.
	Reason error
}

// Pool holds the pending external messages of one chain. It is safe for
// concurrent use.
type Pool struct {
	cfg     Config
	metrics *metrics
	// batches recycles signature batches (and the verifier storage inside
	// them) between Add calls.
	batches sync.Pool

	mu sync.RWMutex
	// nonces is the source Add reads; Update replaces it.
	nonces NonceSource
	// generation counts Updates, so that Add can tell whether the nonces it
	// read outside the lock may be stale.
	generation uint64
	// nextSeq numbers admissions: the arrival order Reap follows.
	nextSeq uint64
	byID    map[types.Hash]*entry
	senders map[types.Address]*senderQueue
	dropped dropRing
}

// entry is one pending message.
type entry struct {
	msg types.Message // a clone: shares no memory with the caller's input
	id  types.Hash
	seq uint64
}

// senderQueue is the pending messages of one sender, by nonce.
type senderQueue struct {
	// committed is the highest committed nonce of the sender seen so far.
	// Reap starts the sender's run there; messages below it are stale and
	// wait for Update to drop them.
	committed uint64
	byNonce   map[uint64]*entry
}

// New returns an empty pool reading committed nonces from nonces and
// registering its metrics with reg (nil: not registered). It fails on an
// invalid configuration or when reg already holds the metrics of a pool of
// the same chain.
func New(cfg Config, nonces NonceSource, reg prometheus.Registerer) (*Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if nonces == nil {
		return nil, errors.New("mempool: nil NonceSource")
	}
	cfg = cfg.withDefaults()
	m, collectors := newMetrics(chainLabel(cfg))
	if err := register(reg, collectors); err != nil {
		return nil, err
	}
	return &Pool{
		cfg:     cfg,
		metrics: m,
		nonces:  nonces,
		byID:    make(map[types.Hash]*entry),
		senders: make(map[types.Address]*senderQueue),
		dropped: newDropRing(cfg.RecentDrops),
	}, nil
}

// Config returns the pool's configuration, defaults filled in.
func (p *Pool) Config() Config { return p.cfg }

// candidate is a message of one Add call that passed the stateless checks.
type candidate struct {
	index     int
	id        types.Hash
	committed uint64
	rejected  bool
}

// reservation counts what the earlier candidates of an Add call would take,
// so that the check before signature verification refuses what cannot fit
// and verification is not spent on it.
type reservation struct {
	total     int
	perSender map[types.Address]int
	ids       map[types.Hash]struct{}
	slots     map[senderNonce]struct{}
}

type senderNonce struct {
	from  types.Address
	nonce uint64
}

func newReservation(n int) *reservation {
	return &reservation{
		perSender: make(map[types.Address]int, n),
		ids:       make(map[types.Hash]struct{}, n),
		slots:     make(map[senderNonce]struct{}, n),
	}
}

func (r *reservation) take(m *types.Message, id types.Hash) {
	r.total++
	r.perSender[m.From]++
	r.ids[id] = struct{}{}
	r.slots[senderNonce{m.From, m.Nonce}] = struct{}{}
}

// Add checks msgs and admits those that pass, in order; results[i] is the
// verdict on msgs[i]. The checks, each refusing with its sentinel:
//
//   - stateless: actor.CheckExternal (ValidateBasic, an external message to
//     the sender's own account, no value, a key that is not of small order,
//     From derived from SenderKey);
//   - the ID is not pending (ErrDuplicate, also within msgs);
//   - committed <= Nonce < committed + NonceWindow, committed being the
//     sender's committed nonce (ErrNonceTooLow, ErrNonceGap);
//   - no pending message of the sender has the same nonce
//     (ErrNonceConflict);
//   - the sender and the pool have room (ErrSenderFull, ErrPoolFull);
//   - the signature verifies (ErrBadSignature).
//
// The signatures of every message that passes the other checks are
// verified in one ed25519.Batch, with coefficients from rnd (crypto/rand
// in production; nil verifies one by one, with the same verdicts); a bad
// signature refuses only its own message. Signature verification and nonce
// reads run outside the pool's lock. The pool keeps clones, so msgs may be
// reused after Add returns.
func (p *Pool) Add(msgs []types.Message, rnd io.Reader) []AddResult {
	results := make([]AddResult, len(msgs))
	cands := make([]candidate, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		if err := checkStateless(m); err != nil {
			results[i].Err = err
			if encodable(m) {
				results[i].ID = m.ID()
			}
			continue
		}
		results[i].ID = m.ID()
		cands = append(cands, candidate{index: i, id: results[i].ID})
	}

	p.mu.RLock()
	source, generation := p.nonces, p.generation
	p.mu.RUnlock()
	p.readNonces(source, msgs, cands, results)

	// Refuse early what cannot be admitted, so that no signature is
	// verified for a duplicate or a message that does not fit.
	p.mu.RLock()
	reserved := newReservation(len(cands))
	for k := range cands {
		c := &cands[k]
		if c.rejected {
			continue
		}
		m := &msgs[c.index]
		if err := p.admissible(m, c.id, c.committed, reserved); err != nil {
			c.rejected, results[c.index].Err = true, err
			continue
		}
		reserved.take(m, c.id)
	}
	p.mu.RUnlock()

	p.verifySignatures(msgs, cands, results, rnd)

	clones := make([]types.Message, len(cands))
	for k := range cands {
		if !cands[k].rejected {
			clones[k] = msgs[cands[k].index].Clone()
		}
	}

	admitted := 0
	p.mu.Lock()
	if p.generation != generation {
		// An Update ran since the nonces were read: read them again from the
		// current source. Rare, and cheap next to a block commit.
		p.readNonces(p.nonces, msgs, cands, results)
	}
	for k := range cands {
		c := &cands[k]
		if c.rejected {
			continue
		}
		m := &clones[k]
		if err := p.admissible(m, c.id, c.committed, nil); err != nil {
			c.rejected, results[c.index].Err = true, err
			continue
		}
		p.insert(m, c.id, c.committed)
		admitted++
	}
	p.metrics.pending.Set(float64(len(p.byID)))
	p.mu.Unlock()

	p.metrics.admitted.Add(float64(admitted))
	for i := range results {
		if err := results[i].Err; err != nil {
			p.metrics.rejected[Reason(err)].Inc()
		}
	}
	return results
}

// checkStateless runs actor.CheckExternal and classifies its error.
func checkStateless(m *types.Message) error {
	err := actor.CheckExternal(m)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrSmallOrderKey), errors.Is(err, ErrSenderMismatch):
		return err
	default:
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
}

// encodable reports whether m has an encoding, hence an ID.
func encodable(m *types.Message) bool {
	_, err := m.AppendBinary(nil)
	return err == nil
}

// readNonces fills the committed nonce of each live candidate from source,
// reading each sender once, and refuses the candidates whose read failed.
func (p *Pool) readNonces(source NonceSource, msgs []types.Message, cands []candidate, results []AddResult) {
	type read struct {
		nonce uint64
		err   error
	}
	reads := make(map[types.Address]read)
	for k := range cands {
		c := &cands[k]
		if c.rejected {
			continue
		}
		from := msgs[c.index].From
		r, ok := reads[from]
		if !ok {
			r.nonce, r.err = source.Nonce(from)
			reads[from] = r
		}
		if r.err != nil {
			c.rejected = true
			results[c.index].Err = fmt.Errorf("%w: account %v: %w", ErrNonceUnavailable, from, r.err)
			continue
		}
		c.committed = r.nonce
	}
}

// verifySignatures checks the signatures of the live candidates in one
// batch and refuses those that fail.
func (p *Pool) verifySignatures(msgs []types.Message, cands []candidate, results []AddResult, rnd io.Reader) {
	batch, _ := p.batches.Get().(*ed25519.Batch)
	if batch == nil {
		batch = ed25519.NewBatch(len(cands))
	}
	defer func() {
		batch.Reset()
		p.batches.Put(batch)
	}()

	// All signing bytes go into one buffer; each entry is a sub-slice of it,
	// cut once the buffer stops growing.
	inBatch := make([]int, 0, len(cands)) // indices into cands
	ends := make([]int, 0, len(cands))
	size := 0
	for k := range cands {
		if !cands[k].rejected {
			size += len(types.MessageSigningDomain) + msgs[cands[k].index].EncodedLen()
		}
	}
	buf := make([]byte, 0, size)
	for k := range cands {
		if cands[k].rejected {
			continue
		}
		buf = msgs[cands[k].index].AppendSigningBytes(buf)
		inBatch = append(inBatch, k)
		ends = append(ends, len(buf))
	}
	start := 0
	for j, k := range inBatch {
		m := &msgs[cands[k].index]
		batch.Add(ed25519.PublicKey(m.SenderKey), buf[start:ends[j]:ends[j]], ed25519.Signature(m.Signature))
		start = ends[j]
	}
	allValid, valid := batch.Verify(rnd)
	if allValid {
		return
	}
	for j, k := range inBatch {
		if !valid[j] {
			c := &cands[k]
			c.rejected = true
			results[c.index].Err = fmt.Errorf("%w: message %v", ErrBadSignature, c.id)
		}
	}
}

// admissible checks the stateful rules against the pool, plus what the
// earlier candidates of the same call reserved (r may be nil). committed is
// the sender's committed nonce as read from the source. The caller holds
// the lock.
func (p *Pool) admissible(m *types.Message, id types.Hash, committed uint64, r *reservation) error {
	if _, ok := p.byID[id]; ok {
		return fmt.Errorf("%w: %v", ErrDuplicate, id)
	}
	q := p.senders[m.From]
	if q != nil {
		committed = max(committed, q.committed)
	}
	if m.Nonce < committed {
		return fmt.Errorf("%w: nonce %d, account %v is at %d", ErrNonceTooLow, m.Nonce, m.From, committed)
	}
	if m.Nonce-committed >= p.cfg.NonceWindow {
		return fmt.Errorf("%w: nonce %d, account %v is at %d, window %d", ErrNonceGap, m.Nonce, m.From, committed, p.cfg.NonceWindow)
	}
	if q != nil {
		if other, ok := q.byNonce[m.Nonce]; ok {
			return fmt.Errorf("%w: nonce %d of %v is pending as %v", ErrNonceConflict, m.Nonce, m.From, other.id)
		}
	}
	pendingOfSender, pending := 0, len(p.byID)
	if q != nil {
		pendingOfSender = len(q.byNonce)
	}
	if r != nil {
		if _, ok := r.ids[id]; ok {
			return fmt.Errorf("%w: %v", ErrDuplicate, id)
		}
		if _, ok := r.slots[senderNonce{m.From, m.Nonce}]; ok {
			return fmt.Errorf("%w: nonce %d of %v appears twice in the submission", ErrNonceConflict, m.Nonce, m.From)
		}
		pendingOfSender += r.perSender[m.From]
		pending += r.total
	}
	if pendingOfSender >= p.cfg.MaxPerSender {
		return fmt.Errorf("%w: %v has %d pending, maximum %d", ErrSenderFull, m.From, pendingOfSender, p.cfg.MaxPerSender)
	}
	if pending >= p.cfg.MaxMessages {
		return fmt.Errorf("%w: %d pending, maximum %d", ErrPoolFull, pending, p.cfg.MaxMessages)
	}
	return nil
}

// insert adds an admitted message. The caller holds the lock.
func (p *Pool) insert(m *types.Message, id types.Hash, committed uint64) {
	q := p.senders[m.From]
	if q == nil {
		q = &senderQueue{committed: committed, byNonce: make(map[uint64]*entry)}
		p.senders[m.From] = q
	}
	q.committed = max(q.committed, committed)
	e := &entry{msg: *m, id: id, seq: p.nextSeq}
	p.nextSeq++
	q.byNonce[m.Nonce] = e
	p.byID[id] = e
}

// Reap returns up to limit pending messages for the next block, without
// removing them. Each sender contributes its run of consecutive nonces
// starting at its committed nonce, in nonce order, so a nonce gap ends the
// run and no message is returned twice. Across senders the order is the
// arrival order: the next message taken is always the earliest admitted
// among the senders' next messages. The result depends only on the
// sequence of calls that changed the pool, never on map order or timing.
//
// The messages' Method and Args are shared with the pool and must not be
// modified. limit <= 0 returns nothing.
func (p *Pool) Reap(limit int) []types.Message {
	if limit <= 0 {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	h := make(runHeap, 0, len(p.senders))
	for _, q := range p.senders {
		if e := q.byNonce[q.committed]; e != nil {
			h = append(h, run{queue: q, next: e})
		}
	}
	heap.Init(&h)
	out := make([]types.Message, 0, min(limit, len(p.byID)))
	for len(out) < limit && len(h) > 0 {
		r := &h[0]
		out = append(out, r.next.msg)
		var next *entry
		if n := r.next.msg.Nonce; n < math.MaxUint64 {
			next = r.queue.byNonce[n+1]
		}
		if next == nil {
			heap.Pop(&h)
			continue
		}
		r.next = next
		heap.Fix(&h, 0)
	}
	return out
}

// run is a sender's position during Reap.
type run struct {
	queue *senderQueue
	next  *entry
}

// runHeap orders runs by the arrival of their next message; sequence
// numbers are unique, so the order is total.
type runHeap []run

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].next.seq < h[j].next.seq }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(run)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Remove forgets the pending messages with the given IDs (a block holding
// them was committed, for instance) and returns how many it held. Unknown
// IDs are ignored.
func (p *Pool) Remove(ids []types.Hash) int {
	p.mu.Lock()
	n := 0
	for _, id := range ids {
		if p.remove(id) {
			n++
		}
	}
	p.metrics.pending.Set(float64(len(p.byID)))
	p.mu.Unlock()
	p.metrics.removed[removedRemoved].Add(float64(n))
	return n
}

// Drop removes the pending messages with the given IDs because they cannot
// be included (block execution refused them, for instance), remembers
// reason for Status, and returns how many it held.
func (p *Pool) Drop(ids []types.Hash, reason error) int {
	p.mu.Lock()
	n := 0
	for _, id := range ids {
		if p.remove(id) {
			p.dropped.add(id, reason)
			n++
		}
	}
	p.metrics.pending.Set(float64(len(p.byID)))
	p.mu.Unlock()
	p.metrics.removed[removedDropped].Add(float64(n))
	return n
}

// remove deletes one pending message. The caller holds the lock.
func (p *Pool) remove(id types.Hash) bool {
	e, ok := p.byID[id]
	if !ok {
		return false
	}
	delete(p.byID, id)
	q := p.senders[e.msg.From]
	delete(q.byNonce, e.msg.Nonce)
	if len(q.byNonce) == 0 {
		delete(p.senders, e.msg.From)
	}
	return true
}

// Update brings the pool up to date after a block commits. committed holds
// the block's messages: each is removed if pending, and for each sender of
// an external message among them the committed nonce is read again from
// nonces and the sender's pending messages below it are dropped as stale
// (ErrNonceTooLow). The new nonce is never taken below the block's highest
// nonce of the sender plus one, since including a message consumes its
// nonce, so a source that lags behind the block (or fails) cannot keep
// stale messages in. A non-nil nonces also becomes the source later Adds
// read; nil keeps the current one. Nonces are read outside the lock.
func (p *Pool) Update(committed []types.Message, nonces NonceSource) {
	ids := make([]types.Hash, len(committed))
	floor := make(map[types.Address]uint64) // highest committed nonce + 1
	for i := range committed {
		m := &committed[i]
		ids[i] = m.ID()
		if m.Kind == types.MessageExternal && m.Nonce < math.MaxUint64 {
			floor[m.From] = max(floor[m.From], m.Nonce+1)
		}
	}

	p.mu.RLock()
	source := p.nonces
	p.mu.RUnlock()
	if nonces != nil {
		source = nonces
	}
	// Only senders with pending messages need reading; the check is
	// repeated under the write lock below, so a sender that shows up
	// meanwhile is still handled, from the block's floor.
	p.mu.RLock()
	var senders []types.Address
	for from := range floor {
		if p.senders[from] != nil {
			senders = append(senders, from)
		}
	}
	p.mu.RUnlock()
	slices.SortFunc(senders, compareAddresses)
	for _, from := range senders {
		if n, err := source.Nonce(from); err == nil {
			floor[from] = max(floor[from], n)
		}
	}
	order := make([]types.Address, 0, len(floor))
	for from := range floor {
		order = append(order, from)
	}
	slices.SortFunc(order, compareAddresses)

	included, stale := 0, 0
	p.mu.Lock()
	if nonces != nil {
		p.nonces = nonces
	}
	p.generation++
	for _, id := range ids {
		if p.remove(id) {
			included++
		}
	}
	for _, from := range order {
		q := p.senders[from]
		if q == nil {
			continue
		}
		q.committed = max(q.committed, floor[from])
		var old []uint64
		for nonce := range q.byNonce {
			if nonce < q.committed {
				old = append(old, nonce)
			}
		}
		slices.Sort(old) // the drop record's order must not follow the map's
		for _, nonce := range old {
			id := q.byNonce[nonce].id
			p.remove(id)
			p.dropped.add(id, fmt.Errorf("%w: nonce %d of %v was consumed by a committed block", ErrNonceTooLow, nonce, from))
			stale++
		}
	}
	p.metrics.pending.Set(float64(len(p.byID)))
	p.mu.Unlock()
	p.metrics.removed[removedIncluded].Add(float64(included))
	p.metrics.removed[removedStale].Add(float64(stale))
}

func compareAddresses(a, b types.Address) int { return bytes.Compare(a[:], b[:]) }

// Status reports what the pool knows of a message.
func (p *Pool) Status(id types.Hash) Status {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if _, ok := p.byID[id]; ok {
		return Status{State: StatePending}
	}
	if d, ok := p.dropped.get(id); ok {
		return Status{State: StateDropped, Reason: d.reason}
	}
	return Status{State: StateUnknown}
}

// Len returns the number of pending messages.
func (p *Pool) Len() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.byID)
}

// Pending returns the pending message with the given ID, if any; its
// Method and Args are shared with the pool and must not be modified.
func (p *Pool) Pending(id types.Hash) (types.Message, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.byID[id]
	if !ok {
		return types.Message{}, false
	}
	return e.msg, true
}

// dropRing remembers the last dropped IDs and why, in a fixed amount of
// memory: the oldest is forgotten first.
type dropRing struct {
	slots []droppedID
	next  int
	index map[types.Hash]int
}

type droppedID struct {
	id     types.Hash
	reason error
	used   bool
}

func newDropRing(n int) dropRing {
	return dropRing{slots: make([]droppedID, n), index: make(map[types.Hash]int, n)}
}

func (r *dropRing) add(id types.Hash, reason error) {
	if len(r.slots) == 0 {
		return
	}
	if old := r.slots[r.next]; old.used && r.index[old.id] == r.next {
		delete(r.index, old.id)
	}
	r.slots[r.next] = droppedID{id: id, reason: reason, used: true}
	r.index[id] = r.next
	r.next = (r.next + 1) % len(r.slots)
}

func (r *dropRing) get(id types.Hash) (droppedID, bool) {
	i, ok := r.index[id]
	if !ok {
		return droppedID{}, false
	}
	return r.slots[i], true
}
