package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// The application of a recorder chain's member (the root, or a
// coordinator recording its sub-chains), and the view of a recorder chain
// that every node below it follows.

// recorderView is a node's view of a recorder chain it follows: the
// recorder's committed blocks, applied with rootchain.Apply once their
// decision certificate checked, and an index of every header they record,
// which answers relay.Anchors.
type recorderView struct {
	chain   types.ChainID
	com     *committee
	state   *rootchain.State
	headers []types.Header // [0]: genesis
	hashes  []types.Hash
	bodies  []rootchain.Body // bodies[h], empty for genesis and EMPTY heights
	// recorded maps a child chain's (chain, height) to where it was
	// recorded.
	recorded map[chainHeight]recordedAt
	// lastAdvance is when the view last took a block, lastAsk when the
	// node last asked the recorder for decisions (volatile).
	lastAdvance, lastAsk time.Duration
}

type chainHeight struct {
	chain  types.ChainID
	height types.Height
}

type recordedAt struct {
	hash      types.Hash
	relayRoot types.Hash   // the recorded header's OuterRelayRoot
	height    types.Height // the recorder's height
}

func newRecorderView(n *ShardedNetwork, chain types.ChainID) (*recorderView, error) {
	st, err := rootchain.NewState(chain, n.topo, n.genesis)
	if err != nil {
		return nil, fmt.Errorf("sharded network: view of chain %d: %w", chain, err)
	}
	g := n.genesis[chain]
	return &recorderView{
		chain: chain, com: n.byChain[chain], state: st,
		headers: []types.Header{g}, hashes: []types.Hash{g.Hash()}, bodies: []rootchain.Body{{}},
		recorded: make(map[chainHeight]recordedAt),
	}, nil
}

func (v *recorderView) height() types.Height { return types.Height(len(v.headers) - 1) }

// confirmed reports whether the view knows header hash of chain at height
// as recorded (or, for the recorder's own chain, committed).
func (v *recorderView) confirmed(chain types.ChainID, h types.Height, hash types.Hash) bool {
	if chain == v.chain {
		return int(h) < len(v.hashes) && v.hashes[h] == hash
	}
	r, ok := v.recorded[chainHeight{chain, h}]
	return ok && r.hash == hash
}

// recordedAt returns the recorder height that recorded (chain, h).
func (v *recorderView) recordedAt(chain types.ChainID, h types.Height) (types.Height, bool) {
	r, ok := v.recorded[chainHeight{chain, h}]
	return r.height, ok
}

// apply takes the next decision of the recorder chain after checking its
// certificate; it reports whether the view advanced and the cost.
func (v *recorderView) apply(d *consensus.Decision, costs *ShardCosts) (bool, time.Duration, error) {
	h := d.Height()
	if h != v.height()+1 {
		return false, 0, nil
	}
	cert := &d.Certificate
	cost := costs.certificateCost(cert.SignerCount())
	if cert.ChainID != v.chain {
		return false, cost, fmt.Errorf("decision of chain %d for chain %d", cert.ChainID, v.chain)
	}
	if err := consensus.CheckDecisionCertificate(cert, v.com.size()); err != nil {
		return false, cost, err
	}
	if !v.com.keys.VerifyCertificate(cert) {
		return false, cost, errors.New("certificate does not verify")
	}
	parent := &v.headers[h-1]
	if d.Block == nil {
		if !consensus.IsEmptyValue(cert.BlockHash) {
			return false, cost, errors.New("decision without its block")
		}
		e := types.EmptyHeader(parent)
		v.headers = append(v.headers, e)
		v.hashes = append(v.hashes, e.Hash())
		v.bodies = append(v.bodies, rootchain.Body{})
		return true, cost, nil
	}
	hash := d.Block.Hash()
	if hash != cert.BlockHash {
		return false, cost, errors.New("block is not the certified value")
	}
	body, err := rootchain.DecodeBody(d.Block.Body)
	if err != nil {
		return false, cost, err
	}
	res, err := rootchain.Apply(v.state, &d.Block.Header, &body)
	cost += time.Duration(len(body.Records)) * costs.RecordCheck
	if err != nil {
		return false, cost, fmt.Errorf("apply certified block %d: %w", h, err)
	}
	v.state = res.State
	v.headers = append(v.headers, d.Block.Header)
	v.hashes = append(v.hashes, hash)
	v.bodies = append(v.bodies, body)
	for i := range body.Records {
		r := &body.Records[i].Header
		v.recorded[chainHeight{r.ChainID, r.Height}] = recordedAt{hash: r.Hash(), relayRoot: r.OuterRelayRoot, height: h}
	}
	return true, cost, nil
}

// view returns the member's view of recorder chain c, nil if it does not
// follow c.
func (m *shardMember) view(c types.ChainID) *recorderView {
	for _, v := range m.views {
		if v.chain == c {
			return v
		}
	}
	return nil
}

// onFollowDecisions takes decisions of a followed recorder chain, in
// order; a gap asks the sender for what is missing.
func (m *shardMember) onFollowDecisions(from NodeID, payload []byte) {
	chain, ds, err := decodeFollowDecisions(payload)
	if err != nil {
		return
	}
	v := m.view(chain)
	if v == nil {
		return
	}
	advanced := false
	for i := range ds {
		d := &ds[i]
		if d.Height() <= v.height() {
			continue
		}
		if d.Height() > v.height()+1 {
			m.askRecorderAt(v, from)
			break
		}
		ok, cost, err := v.apply(d, m.costs())
		m.charge(cost)
		if err != nil {
			m.violate("follow chain %d height %d: %v", chain, d.Height(), err)
			return
		}
		advanced = advanced || ok
	}
	if advanced {
		v.lastAdvance = m.eventTime()
		m.net.obs.onViewAdvanced(m, v)
		if m.isTx() {
			m.releaseConfirmed()
			m.retryParked()
		}
	}
}

// askRecorder asks a member of v's committee, drawn at random, for the
// decisions after the view's height, at most once per followSyncAfter.
func (m *shardMember) askRecorder(v *recorderView) {
	m.askRecorderAt(v, v.com.nodes[m.rng.IntN(v.com.size())])
}

func (m *shardMember) askRecorderAt(v *recorderView, to NodeID) {
	if v.lastAsk != 0 && m.eventTime()-v.lastAsk < followSyncAfter {
		return
	}
	v.lastAsk = m.eventTime()
	m.net.world.Send(m.id, to, encodeFollowRequest(v.chain, v.height()+1))
}

// pollRecorders asks the recorders whose view has not advanced for a
// while: a push may have been lost, or its sender be down.
func (m *shardMember) pollRecorders() {
	for _, v := range m.views {
		if m.eventTime()-v.lastAdvance >= followSyncAfter {
			m.askRecorder(v)
		}
	}
}

// onFollowRequest answers a follower with the decisions it lacks.
func (m *shardMember) onFollowRequest(from NodeID, payload []byte) {
	chain, h, err := decodeFollowRequest(payload)
	if err != nil || chain != m.com.chain || h == 0 || h > m.height() {
		return
	}
	batch := m.decisions[h-1 : min(uint64(len(m.decisions)), uint64(h-1)+maxSyncBatch)]
	out, err := encodeFollowDecisions(chain, batch)
	if err != nil {
		m.violate("encode follow decisions: %v", err)
		return
	}
	m.net.world.Send(m.id, from, out)
}

// ---------------------------------------------------------------- recorder members

// onRecord keeps a record of a child chain for the blocks this member may
// lead.
func (m *shardMember) onRecord(payload []byte) {
	if m.isTx() || m.recordSeen == nil {
		return
	}
	rec, err := rootchain.DecodeRecord(payload)
	if err != nil {
		return
	}
	m.charge(m.costs().RecordCheck)
	c, ok := m.net.topo.Chain(rec.Header.ChainID)
	if !ok || c.Parent != m.com.chain || c.ID == m.com.chain {
		return
	}
	tip, _ := m.rstate.Tip(c.ID)
	if rec.Header.Height <= tip.Height || rec.Header.Height > tip.Height+maxRecordPoolPerChild {
		return
	}
	key := recordKey{chain: c.ID, height: rec.Header.Height, header: rec.Header.Hash(), certificate: rec.Certificate.Hash()}
	if m.recordSeen[key] {
		return
	}
	m.recordSeen[key] = true
	m.records = append(m.records, rec)
}

// buildRecorder builds the leader's recorder block from the records it
// holds.
func (m *shardMember) buildRecorder(header *types.Header) ([]byte, *blockResult, bool) {
	res, err := rootchain.Execute(m.rstate, m.records, m.net.committeesView, rootchain.Limits{MaxRecords: m.cfg().MaxRecords})
	if err != nil {
		m.violate("recorder execute: %v", err)
		return nil, nil, false
	}
	c := m.costs()
	cost := time.Duration(len(m.records)) * c.RecordCheck
	for i := range res.Body.Records {
		cost += c.certificateCost(res.Body.Records[i].Certificate.SignerCount())
	}
	for _, r := range res.Rejected {
		if errors.Is(r, rootchain.ErrBadSignature) {
			cost += c.Consensus.Verify
		}
	}
	m.charge(cost)
	body, err := res.Body.MarshalBinary()
	if err != nil {
		m.violate("encode recorder body: %v", err)
		return nil, nil, false
	}
	res.SetHeader(header)
	return body, &blockResult{root: &res}, true
}

// checkRecorder checks a proposed recorder block with rootchain.Verify.
func (m *shardMember) checkRecorder(b *consensus.Block) (*blockResult, bool) {
	body, err := rootchain.DecodeBody(b.Body)
	if err != nil {
		m.stats.Refused++
		return nil, false
	}
	c := m.costs()
	cost := time.Duration(len(body.Records)) * c.RecordCheck
	for i := range body.Records {
		cost += c.certificateCost(body.Records[i].Certificate.SignerCount())
	}
	m.charge(cost)
	res, err := rootchain.Verify(m.rstate, &b.Header, &body, m.net.committeesView)
	if err != nil {
		m.stats.Refused++
		return nil, false
	}
	return &blockResult{root: &res}, true
}

// replayRecorder applies a decided recorder block the member did not check
// itself.
func (m *shardMember) replayRecorder(b *consensus.Block) (*blockResult, error) {
	body, err := rootchain.DecodeBody(b.Body)
	if err != nil {
		return nil, err
	}
	m.charge(time.Duration(len(body.Records)) * m.costs().RecordCheck)
	res, err := rootchain.Apply(m.rstate, &b.Header, &body)
	if err != nil {
		return nil, err
	}
	return &blockResult{root: &res}, nil
}

// committedRecorder does what follows a recorder block's commit: the
// records it took leave the pool, and the followers assigned to this
// member hear of the decision.
func (m *shardMember) committedRecorder(d *consensus.Decision) {
	if m.recordSeen != nil {
		kept := m.records[:0]
		for _, r := range m.records {
			tip, _ := m.rstate.Tip(r.Header.ChainID)
			if r.Header.Height > tip.Height {
				kept = append(kept, r)
				continue
			}
			delete(m.recordSeen, recordKey{chain: r.Header.ChainID, height: r.Header.Height, header: r.Header.Hash(), certificate: r.Certificate.Hash()})
		}
		clear(m.records[len(kept):])
		m.records = kept
	}
	followers := m.com.followers
	if len(followers) == 0 {
		return
	}
	payload, err := encodeFollowDecisions(m.com.chain, []consensus.Decision{*d})
	if err != nil {
		m.violate("encode follow decisions: %v", err)
		return
	}
	for j := int(m.index); j < len(followers); j += m.com.size() {
		m.net.world.Send(m.id, followers[j], payload)
	}
}
