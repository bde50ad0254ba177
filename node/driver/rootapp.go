package driver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// Bounds of the root chain's runner.
const (
	// maxRecordsAhead is how far above a child's recorded tip a pending
	// record may be: records further ahead are dropped (their sender
	// re-sends them once the tip has moved).
	maxRecordsAhead = 256
	// maxRecordAlternatives is the most distinct records kept for one
	// (chain, height): competing certificates of one decision.
	maxRecordAlternatives = 2
	// maxRootBlockRecords bounds the records of one recorder block: each
	// costs the leader and every member a pairing check, which must fit
	// well inside the proposal timeout even when a backlog built up, or
	// the backlog would only grow (the records left out wait for the next
	// block, and the chains are taken in turn).
	maxRootBlockRecords = 64
	// maxVerifiedCertificates bounds the cache of verified record
	// certificates.
	maxVerifiedCertificates = 1 << 14
	// anchorMemory is how many recorded heights per child chain the
	// anchor index keeps in memory; older ones are read from the store.
	anchorMemory = 4096
)

// Keys of the root chain's state keyspace.
var (
	// rootStateKey holds the rootchain.State encoding.
	rootStateKey = []byte("tips")
)

// anchorKeyPrefix starts the anchor index keys: 'a' | chain u32 | height
// u64 -> anchor record (encodeAnchor).
const anchorKeyPrefix = 'a'

// anchorRecordLen is the length of an anchor record: header hash (32) |
// OuterRelayRoot (32) | recorder height u64.
const anchorRecordLen = 2*hash.Size + 8

func anchorStoreKey(chain types.ChainID, height types.Height) []byte {
	k := make([]byte, 0, 13)
	k = append(k, anchorKeyPrefix)
	k = binary.BigEndian.AppendUint32(k, uint32(chain))
	return binary.BigEndian.AppendUint64(k, uint64(height))
}

type anchorKey struct {
	chain  types.ChainID
	height types.Height
}

// anchor is a recorded header: its hash, its OuterRelayRoot (what a relay
// proved by reference is checked against) and the height of the recorder
// block that recorded it.
type anchor struct {
	hash      types.Hash
	relayRoot types.Hash
	root      types.Height
}

func anchorOf(h *types.Header, recorderHeight types.Height) anchor {
	return anchor{hash: h.Hash(), relayRoot: h.OuterRelayRoot, root: recorderHeight}
}

func encodeAnchor(a anchor) []byte {
	b := make([]byte, 0, anchorRecordLen)
	b = append(b, a.hash[:]...)
	b = append(b, a.relayRoot[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(a.root))
}

func decodeAnchor(b []byte) (anchor, error) {
	if len(b) != anchorRecordLen {
		return anchor{}, fmt.Errorf("anchor record of %d bytes, want %d: %w", len(b), anchorRecordLen, storage.ErrCorruption)
	}
	var a anchor
	copy(a.hash[:], b)
	copy(a.relayRoot[:], b[hash.Size:])
	a.root = types.Height(binary.BigEndian.Uint64(b[2*hash.Size:]))
	return a, nil
}

// rootApp runs the root chain (node/rootchain): its state is each child
// chain's last recorded header, its blocks are lists of digest records,
// and its committed index of recorded headers is what the node's
// transaction chain checks relay proofs against (relay.Anchors).
type rootApp struct {
	r          *runner
	db         *storage.DB
	topo       *chains.Topology
	committees *verifiedCommittees
	cache      *resultCache[*rootchain.Result]

	mu      sync.RWMutex
	state   *rootchain.State
	hd      storage.Head
	header  types.Header
	anchors map[anchorKey]anchor
	// advance is closed, and replaced, at every commit.
	advance chan struct{}

	// pending holds the records received and not yet recorded.
	pendMu  sync.Mutex
	pending map[anchorKey][]rootchain.Record
	npend   int

	// subs are signalled (without blocking) after every commit.
	subs []chan struct{}

	// A coordinator chain's own heights are recorded by the root: sender
	// takes them there, fed by committed through ownRecords; parentMoved is
	// signalled when the root commits. All nil on the root chain.
	sender      *recordSender
	ownRecords  chan rootchain.Record
	parentMoved chan struct{}
}

var _ app = (*rootApp)(nil)

// newRootRunner returns the runner of a recorder chain: the root chain, or
// a coordinator (whose own records newCoordinator connects to the root).
func newRootRunner(n *Node, chain types.ChainID, headers map[types.ChainID]types.Header) (*runner, error) {
	r, err := newRunner(n, chain)
	if err != nil {
		return nil, err
	}
	keys := map[types.ChainID][]*bls.PublicKey{}
	for _, child := range n.topo.Children(chain) {
		keys[child] = n.gen.PublicKeys(child)
	}
	a := &rootApp{
		r:          r,
		db:         n.db,
		topo:       n.topo,
		committees: &verifiedCommittees{inner: rootchain.NewBLSCommittees(keys), ok: map[verifiedKey]struct{}{}},
		cache:      newResultCache[*rootchain.Result](),
		anchors:    map[anchorKey]anchor{},
		advance:    make(chan struct{}),
		pending:    map[anchorKey][]rootchain.Record{},
	}
	if err := a.open(headers); err != nil {
		return nil, err
	}
	r.app = a
	return r, nil
}

// verifiedCommittees is the rootchain.Committees of a recorder chain:
// BLSCommittees over the genesis committees' keys, remembering the
// certificates that verified. A record is checked by the leader that
// proposes it and by every member that votes on the block, and again in
// each round that proposes it anew; the cache makes each check one
// pairing per node.
type verifiedCommittees struct {
	inner *rootchain.BLSCommittees
	mu    sync.Mutex
	ok    map[verifiedKey]struct{}
}

type verifiedKey struct {
	chain types.ChainID
	cert  types.Hash
}

// Size implements rootchain.Committees.
func (c *verifiedCommittees) Size(chain types.ChainID) int { return c.inner.Size(chain) }

// VerifyCertificate implements rootchain.Committees.
func (c *verifiedCommittees) VerifyCertificate(chain types.ChainID, cert *types.Certificate) bool {
	k := verifiedKey{chain, cert.Hash()}
	c.mu.Lock()
	_, done := c.ok[k]
	c.mu.Unlock()
	if done {
		return true
	}
	if !c.inner.VerifyCertificate(chain, cert) {
		return false
	}
	c.mu.Lock()
	if len(c.ok) >= maxVerifiedCertificates {
		clear(c.ok)
	}
	c.ok[k] = struct{}{}
	c.mu.Unlock()
	return true
}

// open loads the root chain's state from the store, first writing the
// genesis block into an empty one.
func (a *rootApp) open(headers map[types.ChainID]types.Header) error {
	chain := a.r.chain
	genesisHeader := headers[chain]
	if _, err := a.db.State().Head(uint32(chain)); errors.Is(err, storage.ErrNotFound) {
		st, err := rootchain.NewState(chain, a.topo, headers)
		if err != nil {
			return err
		}
		enc, err := st.MarshalBinary()
		if err != nil {
			return err
		}
		if err := writeGenesisBlock(a.db, genesisHeader, []storage.Write{{Key: rootStateKey, Value: enc}}); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("read head: %w", err)
	}
	head, header, err := loadHead(a.db, chain, genesisHeader)
	if err != nil {
		return err
	}
	enc, err := a.db.State().Get(uint32(chain), rootStateKey)
	if err != nil {
		return fmt.Errorf("load root state: %w", err)
	}
	st, err := rootchain.DecodeState(enc)
	if err != nil {
		return fmt.Errorf("load root state: %w: %w", storage.ErrCorruption, err)
	}
	if err := st.CheckTopology(a.topo); err != nil || st.Recorder() != chain {
		return fmt.Errorf("load root state: %w: the stored state is not of this genesis's topology (%v)", storage.ErrCorruption, err)
	}
	if st.Root() != head.StateRoot {
		return fmt.Errorf("load root state: root %s differs from the head's %s: %w", st.Root(), head.StateRoot, storage.ErrCorruption)
	}
	// The anchors of the children's tips: a store whose anchor records
	// are not of this layout (an earlier version's) is refused here, not
	// at the first relay it cannot check.
	for _, c := range st.Children() {
		tip, _ := st.Tip(c)
		if tip.Height == 0 {
			continue
		}
		b, err := a.db.State().Get(uint32(chain), anchorStoreKey(c, tip.Height))
		if err != nil {
			return fmt.Errorf("load anchor of chain %d height %d: %w", c, tip.Height, err)
		}
		an, err := decodeAnchor(b)
		if err != nil {
			return fmt.Errorf("load anchor of chain %d height %d: %w", c, tip.Height, err)
		}
		if an.hash != tip.Hash() {
			return fmt.Errorf("load anchor of chain %d height %d: hash %s, the recorded tip's %s: %w", c, tip.Height, an.hash, tip.Hash(), storage.ErrCorruption)
		}
	}
	a.state, a.hd, a.header = st, head, header
	return nil
}

// head implements app.
func (a *rootApp) head() (storage.Head, types.Header) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.hd, a.header
}

// Tip returns the last header the root chain recorded of chain, as
// committed on this node.
func (a *rootApp) Tip(chain types.ChainID) (types.Header, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.state.Tip(chain)
}

// advanced returns a channel closed at the next commit of the root chain.
func (a *rootApp) advanced() <-chan struct{} {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.advance
}

// subscribe makes ch (buffered) signalled after each commit; a signal may
// stand for several. Subscriptions are made before Run.
func (a *rootApp) subscribe(ch chan struct{}) {
	a.subs = append(a.subs, ch)
}

// connectParent makes the coordinator chain send its records to the
// recorder parent (the root); it runs before Run.
func (a *rootApp) connectParent(parent *runner) {
	a.sender = newRecordSender(a.r, parent)
	a.ownRecords = make(chan rootchain.Record, 1024)
	a.parentMoved = make(chan struct{}, 1)
	parent.rootApp().subscribe(a.parentMoved)
}

// Confirmed implements relay.Anchors: header hash h of chain at height is
// recorded by a block of this recorder chain this node has committed.
func (a *rootApp) Confirmed(chain types.ChainID, height types.Height, h types.Hash) bool {
	an, ok := a.recorded(chain, height)
	return ok && an.hash == h
}

// Recorded implements relay.Anchors: the hash and OuterRelayRoot of the
// header of chain at height that a block of this recorder chain this node
// has committed recorded.
func (a *rootApp) Recorded(chain types.ChainID, height types.Height) (relay.Anchor, bool) {
	an, ok := a.recorded(chain, height)
	if !ok {
		return relay.Anchor{}, false
	}
	return relay.Anchor{Hash: an.hash, OuterRelayRoot: an.relayRoot}, true
}

// recorded returns the anchor of chain at height, if the committed root
// chain recorded it.
func (a *rootApp) recorded(chain types.ChainID, height types.Height) (anchor, bool) {
	a.mu.RLock()
	an, ok := a.anchors[anchorKey{chain, height}]
	tip, child := a.state.Tip(chain)
	a.mu.RUnlock()
	if ok {
		return an, true
	}
	if !child || height == 0 || height > tip.Height {
		return anchor{}, false
	}
	b, err := a.db.State().Get(uint32(a.r.chain), anchorStoreKey(chain, height))
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			a.r.log.Warn("read anchor", "chain", chain, "height", height, "err", err)
		}
		return anchor{}, false
	}
	an, err = decodeAnchor(b)
	if err != nil {
		a.r.log.Error("read anchor", "chain", chain, "height", height, "err", err)
		return anchor{}, false
	}
	return an, true
}

// addRecords keeps the records of child chains' decided heights until the
// root chain records them. Records of unknown chains, stale or far ahead
// are dropped; signatures are checked when a leader builds (Execute).
func (a *rootApp) addRecords(recs []rootchain.Record) {
	a.mu.RLock()
	st := a.state
	a.mu.RUnlock()
	a.pendMu.Lock()
	defer a.pendMu.Unlock()
	for i := range recs {
		rec := &recs[i]
		tip, ok := st.Tip(rec.Header.ChainID)
		if !ok || rec.Header.Height <= tip.Height || rec.Header.Height > tip.Height+maxRecordsAhead {
			continue
		}
		if err := rec.ValidateBasic(); err != nil {
			a.r.m.dropped.WithLabelValues(dropInvalid).Inc()
			continue
		}
		k := anchorKey{rec.Header.ChainID, rec.Header.Height}
		alts := a.pending[k]
		if len(alts) >= maxRecordAlternatives || containsRecord(alts, rec) {
			continue
		}
		a.pending[k] = append(alts, *rec)
		a.npend++
	}
}

func containsRecord(rs []rootchain.Record, rec *rootchain.Record) bool {
	for i := range rs {
		if rs[i].Header == rec.Header && rs[i].Certificate.Hash() == rec.Certificate.Hash() {
			return true
		}
	}
	return false
}

// receive implements the runner's routing of the root chain's own kind:
// record batches, from any genesis node.
func (a *rootApp) receive(in inbound) bool {
	if in.payload[0] != KindRecordBatch {
		return false
	}
	b, err := DecodeRecordBatch(in.payload)
	if err != nil {
		a.r.drop(dropUndecodable, in.node, KindRecordBatch, err)
		return true
	}
	a.r.m.messagesIn.WithLabelValues("record_batch").Inc()
	a.addRecords(b.Records)
	return true
}

// backlog implements app.
func (a *rootApp) backlog() int {
	a.pendMu.Lock()
	defer a.pendMu.Unlock()
	return a.npend
}

// build implements app: the leader records the pending records that extend
// the children's tips (rootchain.Execute), dropping those it finds invalid.
func (a *rootApp) build(req consensus.ProposalRequest) (consensus.ProposalReady, error) {
	a.mu.RLock()
	st, head, parent := a.state, a.hd, a.header
	a.mu.RUnlock()
	if uint64(req.Height) != head.Height+1 {
		return consensus.ProposalReady{}, fmt.Errorf("build %d on head %d: %w", req.Height, head.Height, errStaleBuild)
	}
	a.pendMu.Lock()
	var pending []rootchain.Record
	for _, alts := range a.pending {
		pending = append(pending, alts...)
	}
	a.pendMu.Unlock()
	res, err := rootchain.Execute(st, pending, a.committees, rootchain.Limits{MaxRecords: maxRootBlockRecords})
	if err != nil {
		return consensus.ProposalReady{}, fmt.Errorf("build %d: %w", req.Height, err)
	}
	if len(res.Rejected) > 0 {
		a.dropRejected(pending, res.Rejected)
	}
	body, err := res.Body.MarshalBinary()
	if err != nil {
		return consensus.ProposalReady{}, fmt.Errorf("build %d: %w", req.Height, err)
	}
	header := proposalHeader(a.r.chain, req, head, &parent, a.r.self)
	res.SetHeader(&header)
	a.cache.put(header.Hash(), req.Height, &res)
	return consensus.ProposalReady{Height: req.Height, Round: req.Round, Block: consensus.Block{Header: header, Body: body}}, nil
}

// dropRejected forgets pending records Execute refused, except those
// refused for a gap, which may fit later.
func (a *rootApp) dropRejected(pending []rootchain.Record, rejected []*rootchain.RecordError) {
	a.pendMu.Lock()
	defer a.pendMu.Unlock()
	for _, e := range rejected {
		if e.Index < 0 || e.Index >= len(pending) || errors.Is(e, rootchain.ErrGap) {
			continue
		}
		rec := &pending[e.Index]
		k := anchorKey{rec.Header.ChainID, rec.Header.Height}
		alts := a.pending[k]
		for i := range alts {
			if alts[i].Header == rec.Header && alts[i].Certificate.Hash() == rec.Certificate.Hash() {
				alts = append(alts[:i], alts[i+1:]...)
				a.npend--
				break
			}
		}
		if len(alts) == 0 {
			delete(a.pending, k)
		} else {
			a.pending[k] = alts
		}
		a.r.log.Debug("record refused", "chain", rec.Header.ChainID, "height", rec.Header.Height, "err", e)
	}
}

// verifyBlock implements app: the header extends the head, and every
// record extends its chain's tip under a valid certificate of the chain's
// committee, with the roots the header carries (rootchain.Verify).
func (a *rootApp) verifyBlock(_ context.Context, b *consensus.Block) error {
	h := b.Header
	if _, ok := a.cache.get(b.Hash()); ok {
		return nil
	}
	body, err := rootchain.DecodeBody(b.Body)
	if err != nil {
		return fmt.Errorf("block %d: body: %w", h.Height, err)
	}
	a.mu.RLock()
	st, head, parent := a.state, a.hd, a.header
	a.mu.RUnlock()
	if err := checkProposalHeader(&h, head, &parent, a.r.committeeSize(), time.Now()); err != nil {
		return err
	}
	res, err := rootchain.Verify(st, &h, &body, a.committees)
	if err != nil {
		return fmt.Errorf("block %d: %w", h.Height, err)
	}
	a.cache.put(b.Hash(), h.Height, &res)
	return nil
}

// persist implements app: each root block, its state and the anchors of
// the headers it records are written with ApplyBlock in the loop's batch.
func (a *rootApp) persist(batch *storage.Batch, commits []consensus.Decision, durable func() error) ([]commitPlan, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	chain := a.r.chain
	st, head, parent := a.state, a.hd, a.header
	added := map[anchorKey]anchor{}
	plans := make([]commitPlan, 0, len(commits))
	for _, d := range commits {
		var p commitPlan
		var writes []storage.Write
		if d.Block == nil {
			var err error
			if p, err = emptyPlan(d, &parent); err != nil {
				return nil, err
			}
		} else {
			h := d.Block.Header
			if err := checkDecidedBlock(&h, &parent); err != nil {
				return nil, err
			}
			p = commitPlan{decision: d, header: h}
			res, ok := a.cache.get(h.Hash())
			if !ok || res.State == nil {
				body, err := rootchain.DecodeBody(d.Block.Body)
				if err != nil {
					return nil, fmt.Errorf("commit root block %d: %w: %w", h.Height, errDecidedInvalid, err)
				}
				// The root committee certified the block: its records'
				// certificates need not be checked again (Apply).
				r, err := rootchain.Apply(st, &h, &body)
				if err != nil {
					return nil, fmt.Errorf("commit root block %d: %w: %w", h.Height, errDecidedInvalid, err)
				}
				res = &r
			}
			st = res.State
			p.records = res.Body.Records
			enc, err := st.MarshalBinary()
			if err != nil {
				return nil, fmt.Errorf("commit root block %d: %w", h.Height, err)
			}
			writes = append(writes, storage.Write{Key: rootStateKey, Value: enc})
			for i := range p.records {
				rh := &p.records[i].Header
				an := anchorOf(rh, h.Height)
				writes = append(writes, storage.Write{Key: anchorStoreKey(rh.ChainID, rh.Height), Value: encodeAnchor(an)})
				added[anchorKey{rh.ChainID, rh.Height}] = an
			}
		}
		rec, err := (&StoredBlock{Header: p.header, Decision: &p.decision}).AppendBinary(nil)
		if err != nil {
			return nil, fmt.Errorf("commit %d: %w", p.header.Height, err)
		}
		blockHash := p.header.Hash()
		if err := batch.ApplyBlock(uint32(chain), uint64(p.header.Height), writes, rec, blockHash, p.header.StateRoot); err != nil {
			return nil, fmt.Errorf("commit %d: %w", p.header.Height, err)
		}
		head = storage.Head{Height: uint64(p.header.Height), BlockHash: blockHash, StateRoot: p.header.StateRoot}
		parent = p.header
		plans = append(plans, p)
	}
	if err := durable(); err != nil {
		return nil, err
	}
	a.state, a.hd, a.header = st, head, parent
	for k, an := range added {
		a.anchors[k] = an
	}
	if len(added) > 0 {
		a.pruneAnchors()
	}
	if len(commits) > 0 {
		close(a.advance)
		a.advance = make(chan struct{})
	}
	return plans, nil
}

// pruneAnchors keeps in memory the anchors of the last anchorMemory
// heights of each child; Confirmed reads older ones from the store.
func (a *rootApp) pruneAnchors() {
	if len(a.anchors) < 2*anchorMemory*len(a.state.Children()) {
		return
	}
	for k := range a.anchors {
		if tip, ok := a.state.Tip(k.chain); ok && k.height+anchorMemory < tip.Height {
			delete(a.anchors, k)
		}
	}
}

// committed implements app: pending records the chain has recorded are
// forgotten, and the subscribers (the node's transaction chain) learn
// that the root view moved.
func (a *rootApp) committed(p *commitPlan) {
	a.cache.prune(p.header.Height)
	if len(p.records) > 0 {
		a.mu.RLock()
		st := a.state
		a.mu.RUnlock()
		a.pendMu.Lock()
		for k, alts := range a.pending {
			if tip, ok := st.Tip(k.chain); !ok || k.height <= tip.Height {
				a.npend -= len(alts)
				delete(a.pending, k)
			}
		}
		a.pendMu.Unlock()
		a.r.log.Debug("recorded", "root_height", p.header.Height, "records", len(p.records))
	}
	for _, ch := range a.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	if a.sender != nil {
		select {
		case a.ownRecords <- recordOf(p):
		case <-a.r.n.ctx.Done():
		}
	}
}

// spawn implements app: a coordinator's record loop; the root chain has no
// goroutine of its own.
func (a *rootApp) spawn(spawn func(string, func(context.Context) error), name func(string) string) {
	if a.sender != nil {
		spawn(name("records"), func(ctx context.Context) error { a.recordLoop(ctx); return nil })
	}
}

// rootBlock returns the root block at height with its decoded body and
// certificate; ErrNotFound when this node has not committed it.
func (a *rootApp) rootBlock(height types.Height) (StoredBlock, rootchain.Body, error) {
	head, _ := a.head()
	if uint64(height) > head.Height {
		return StoredBlock{}, rootchain.Body{}, fmt.Errorf("root block %d: head is %d: %w", height, head.Height, ErrNotFound)
	}
	sb, err := readStoredBlock(a.db, a.r.chain, height)
	if err != nil {
		return StoredBlock{}, rootchain.Body{}, err
	}
	if sb.Decision == nil || sb.Decision.Block == nil {
		return sb, rootchain.Body{}, nil
	}
	body, err := rootchain.DecodeBody(sb.Decision.Block.Body)
	if err != nil {
		return StoredBlock{}, rootchain.Body{}, fmt.Errorf("root block %d: %w: %w", height, storage.ErrCorruption, err)
	}
	return sb, body, nil
}
