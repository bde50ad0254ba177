package sim

import (
	"cmp"
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/mempool"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// The application of a transaction chain's member: blocks of real signed
// payments built with exec.Execute and checked with exec.Verify, relay
// inputs checked against the member's recorder view, relays sent to their
// destination chains once the member's recorder confirmed their block.

// memberAnchors answers relay.Anchors from every recorder view of a member.
type memberAnchors struct{ m *shardMember }

func (a memberAnchors) Confirmed(c types.ChainID, h types.Height, hash types.Hash) bool {
	for _, v := range a.m.views {
		if v.confirmed(c, h, hash) {
			return true
		}
	}
	return false
}

// Recorded returns the anchor of (c, h) from the view of c's recorder, the
// one view that records it.
func (a memberAnchors) Recorded(c types.ChainID, h types.Height) (relay.Anchor, bool) {
	for _, v := range a.m.views {
		if c == v.chain {
			if int(h) < len(v.headers) {
				return relay.Anchor{Hash: v.hashes[h], OuterRelayRoot: v.headers[h].OuterRelayRoot}, true
			}
			continue
		}
		if r, ok := v.recorded[chainHeight{c, h}]; ok {
			return relay.Anchor{Hash: r.hash, OuterRelayRoot: r.relayRoot}, true
		}
	}
	return relay.Anchor{}, false
}

// consumedSet is relay.Consumed over a member's committed consumed relays.
type consumedSet map[types.Hash]types.Height

func (s consumedSet) Consumed(id types.Hash) bool {
	_, ok := s[id]
	return ok
}

// relayVerifier is the member's relay.Verifier: its recorder view and its
// chain's consumed relays as of its committed height.
func (m *shardMember) relayVerifier() relay.Verifier {
	return relay.Verifier{Chain: m.com.chain, Topology: m.net.topo, Anchors: memberAnchors{m}, Consumed: consumedSet(m.consumed)}
}

func (m *shardMember) replaying() bool {
	r := m.cfg().ReplayLeader
	return r != nil && r.Chain == m.com.chain && r.Member == m.index
}

// buildTx builds the leader's transaction block: the relays of the inbox
// that verify now, then the mempool's messages, executed on the committed
// state.
func (m *shardMember) buildTx(header *types.Header) ([]byte, *blockResult, bool) {
	cfg := m.cfg()
	v := m.relayVerifier()
	relays := m.inbox.Ready(&v, cfg.MaxBlockRelays)
	externals := m.pool.Reap(cfg.MaxBlockMessages)
	inputs := make([]exec.Input, 0, len(relays)+len(externals))
	inputs = append(inputs, relays...)
	for i := range externals {
		inputs = append(inputs, exec.Input{Message: externals[i]})
	}
	env := exec.Env{Relays: v, Randomness: m.envRand}
	if m.replaying() {
		replays := m.replayInputs()
		m.stats.Replayed += len(replays)
		inputs = append(inputs, replays...)
		env.Relays = relay.Verifier{Chain: v.Chain, Topology: v.Topology, Anchors: v.Anchors, Consumed: consumedSet(nil)}
	}
	for {
		res, err := exec.Execute(m.state, m.com.spec, inputs, env)
		if err != nil {
			m.violate("execute height %d: %v", header.Height, err)
			return nil, nil, false
		}
		body, err := res.Body.MarshalBinary()
		if err == nil && len(body) <= consensus.MaxBlockBodySize {
			m.chargeBuild(inputs, &res)
			m.dropRefused(inputs, &res)
			res.Roots.SetHeader(header)
			return body, &blockResult{exec: &res}, true
		}
		if len(inputs) == 0 {
			m.violate("an empty block of height %d does not encode: %v", header.Height, err)
			return nil, nil, false
		}
		inputs = inputs[:len(inputs)/2]
	}
}

// replayInputs returns relay inputs the chain already consumed, which a
// replaying leader puts in its blocks again, with stand-alone proofs
// (relay.Unpack) as candidates carry.
func (m *shardMember) replayInputs() []exec.Input {
	var out []exec.Input
	for h := m.height(); h >= 1 && len(out) < 4; h-- {
		d := &m.decisions[h-1]
		if d.Block == nil {
			continue
		}
		body, err := exec.DecodeBody(d.Block.Body)
		if err != nil {
			continue
		}
		inputs, err := relay.Unpack(body.Inputs, memberAnchors{m})
		if err != nil {
			continue
		}
		for _, in := range inputs {
			if in.Message.Kind == types.MessageOuterRelay && len(out) < 4 {
				out = append(out, exec.Input{Message: in.Message.Clone(), Proof: append([]byte(nil), in.Proof...)})
			}
		}
	}
	return out
}

// chargeBuild charges the leader's Execute: the signatures of the external
// inputs offered, the processing of every message of the block, the relay
// proofs and the state root.
func (m *shardMember) chargeBuild(inputs []exec.Input, res *exec.Result) {
	c := m.costs()
	var cost time.Duration
	for i := range inputs {
		if inputs[i].Message.Kind == types.MessageExternal {
			cost += c.Ed25519PerSignature
		}
	}
	// Execute checks each candidate's stand-alone proof, then packs and
	// checks the groups of the block.
	cost += m.relayCost(inputs) + m.packCost(res.Body.Inputs)
	cost += time.Duration(len(res.Body.Inputs)+len(res.Body.InterRelay)) * c.ExecBuildPerMessage
	cost += time.Duration(m.state.Len()) * c.StateRootPerAccount
	m.charge(cost)
}

// relayCost prices the relay proofs of a block's inputs: a stand-alone
// proof with its lifts, or a packed group's multi-proof, priced by the
// relays it covers.
func (m *shardMember) relayCost(inputs []exec.Input) time.Duration {
	c := m.costs()
	var cost time.Duration
	for i := range inputs {
		if inputs[i].Message.Kind != types.MessageOuterRelay {
			continue
		}
		switch proof := inputs[i].Proof; {
		case len(proof) > 0 && proof[0] == relay.GroupProofTag:
			cost += c.RelayProof + time.Duration(groupSize(proof))*c.RelayGroupPerRelay
		case len(proof) > 0 && proof[0] == relay.GroupRefTag:
			// priced with its group
		default:
			cost += c.RelayProof + time.Duration(liftCount(proof))*c.RelayLift
		}
	}
	return cost
}

// packCost prices the leader's packing of a block's groups: each group
// checked once it is merged.
func (m *shardMember) packCost(inputs []exec.Input) time.Duration {
	c := m.costs()
	var cost time.Duration
	for i := range inputs {
		if proof := inputs[i].Proof; len(proof) > 0 && proof[0] == relay.GroupProofTag {
			cost += time.Duration(groupSize(proof)) * c.RelayPackPerRelay
		}
	}
	return cost
}

// groupSize reads the number of relays a packed group proof covers (see
// node/relay: the count follows the tag, chain, height and leaf count), 0
// when it does not parse.
func groupSize(proof []byte) int {
	const countAt = 1 + 4 + 8 + 4
	if len(proof) < countAt+4 {
		return 0
	}
	return int(binary.BigEndian.Uint32(proof[countAt:]))
}

// liftCount reads the number of lifts of a relay proof encoding (see
// node/relay: in the full form the count follows the source header and the
// path; a proof by reference has none), 0 when it does not parse.
func liftCount(proof []byte) int {
	const pathLenAt = 1 + types.HeaderSize
	if len(proof) < pathLenAt+4 || proof[0] != relay.ProofTag {
		return 0
	}
	at := pathLenAt + 4 + int(binary.BigEndian.Uint32(proof[pathLenAt:]))
	if at < 0 || at >= len(proof) {
		return 0
	}
	return int(proof[at])
}

// dropRefused drops from the mempool the external inputs Execute refused
// for good (not those that did not fit).
func (m *shardMember) dropRefused(inputs []exec.Input, res *exec.Result) {
	var drop []types.Hash
	var reason error
	for i, r := range res.Receipts {
		if r.Included || inputs[i].Message.Kind != types.MessageExternal ||
			errors.Is(r.Reason, exec.ErrBlockFull) || errors.Is(r.Reason, exec.ErrInputGas) {
			continue
		}
		drop = append(drop, r.ID)
		reason = r.Reason
	}
	if len(drop) > 0 {
		m.pool.Drop(drop, reason)
	}
}

// checkTx checks a proposed transaction block with exec.Verify. retry
// reports a relay whose source the member's recorder view does not know
// yet; again says only the relays are charged (the rest was checked).
func (m *shardMember) checkTx(b *consensus.Block, again bool) (*blockResult, bool, bool) {
	body, err := exec.DecodeBody(b.Body)
	if err != nil {
		m.stats.Refused++
		return nil, false, false
	}
	res, err := exec.Verify(m.state, m.com.spec, &body, exec.RootsOf(&b.Header), exec.Env{Relays: m.relayVerifier(), Randomness: m.envRand})
	c := m.costs()
	cost := m.relayCost(body.Inputs)
	if !again {
		for i := range body.Inputs {
			if body.Inputs[i].Message.Kind == types.MessageExternal {
				cost += c.Ed25519PerSignature
			}
		}
		cost += time.Duration(len(body.Inputs)+len(body.InterRelay)) * c.ExecCheckPerMessage
		cost += time.Duration(m.state.Len()) * c.StateRootPerAccount
	}
	m.charge(cost)
	if errors.Is(err, relay.ErrNotConfirmed) {
		return nil, false, true
	}
	if err != nil {
		m.stats.Refused++
		if errors.Is(err, relay.ErrConsumed) {
			m.stats.RefusedReplays++
		}
		return nil, false, false
	}
	return &blockResult{exec: &res}, true, false
}

// replayTx executes a decided block the member did not check itself (it
// caught up by sync, or restarted): the certificate vouches for its relays.
func (m *shardMember) replayTx(b *consensus.Block) (*blockResult, error) {
	body, err := exec.DecodeBody(b.Body)
	if err != nil {
		return nil, err
	}
	// The certificate vouches for the relays, as rootchain.Apply trusts a
	// certified recorder block: relay.Trusted needs no recorder view.
	trusted := relay.Trusted{Chain: m.com.chain, Topology: m.net.topo}
	res, err := exec.Verify(m.state, m.com.spec, &body, exec.RootsOf(&b.Header), exec.Env{Relays: trusted, Randomness: m.envRand})
	if err != nil {
		return nil, err
	}
	c := m.costs()
	signed := 0
	for i := range body.Inputs {
		if body.Inputs[i].Message.Kind == types.MessageExternal {
			signed++
		}
	}
	// Relay inputs carry no signature; the certificate vouches for their
	// proofs.
	m.charge(time.Duration(signed)*c.Ed25519PerSignature +
		time.Duration(len(body.Inputs)+len(body.InterRelay))*c.ExecCheckPerMessage +
		time.Duration(m.state.Len())*c.StateRootPerAccount)
	return &blockResult{exec: &res}, nil
}

// committedTx does what follows a transaction block's commit: the mempool
// and the inbox forget what the block took, the senders of its relays are
// acknowledged, its own relays wait for the recorder, and the client may
// hear of its nonces.
func (m *shardMember) committedTx(d *consensus.Decision, res *blockResult) {
	if d.Block == nil || res == nil || m.pool == nil {
		return
	}
	h := d.Height()
	body := &res.exec.Body
	var externals []types.Message
	var consumed []types.Hash
	for i := range body.Inputs {
		msg := &body.Inputs[i].Message
		if msg.Kind == types.MessageExternal {
			externals = append(externals, *msg)
		} else {
			consumed = append(consumed, msg.ID())
		}
	}
	m.pool.Update(externals, nonceSource{m})
	if len(consumed) > 0 {
		m.inbox.Forget(consumed)
		m.ackConsumed(consumed)
	}
	if len(body.OuterRelay) > 0 {
		m.awaiting = append(m.awaiting, h)
		m.releaseConfirmed()
	}
	n := types.Height(m.com.size())
	if len(externals) > 0 && (h%n == types.Height(m.index) || (h+1)%n == types.Height(m.index)) {
		m.notifyClient(externals)
	}
}

// notifyClient tells the chain's client the next nonce of the senders of
// committed messages.
func (m *shardMember) notifyClient(externals []types.Message) {
	cl, ok := m.net.clientOf[m.com.chain]
	if !ok {
		return
	}
	at := make(map[types.Address]int)
	var ns []nonceNotice
	for i := range externals {
		msg := &externals[i]
		if j, seen := at[msg.From]; seen {
			ns[j].Next = max(ns[j].Next, msg.Nonce+1)
			continue
		}
		at[msg.From] = len(ns)
		ns = append(ns, nonceNotice{Address: msg.From, Next: msg.Nonce + 1})
	}
	m.net.world.Send(m.id, cl.id, encodeNonces(ns))
}

// onSubmit admits a client's messages to the mempool and answers the
// stale ones with their account's next nonce.
func (m *shardMember) onSubmit(from NodeID, payload []byte) {
	if m.pool == nil {
		return
	}
	msgs, err := decodeSubmit(payload)
	if err != nil {
		return
	}
	results := m.pool.Add(msgs, m.envRand)
	var ns []nonceNotice
	checked := 0
	for i, r := range results {
		switch {
		case r.Err == nil || errors.Is(r.Err, mempool.ErrBadSignature):
			checked++
		case errors.Is(r.Err, mempool.ErrNonceTooLow):
			next, _ := nonceSource{m}.Nonce(msgs[i].From)
			ns = append(ns, nonceNotice{Address: msgs[i].From, Next: next})
		}
	}
	m.charge(time.Duration(checked) * m.costs().Ed25519PerSignature)
	if len(ns) > 0 {
		m.net.world.Send(m.id, from, encodeNonces(ns))
	}
}

// ---------------------------------------------------------------- relays

// releaseConfirmed moves the relays of committed blocks the member's
// recorder view now confirms to Pending, lifted for destinations that do
// not follow the member's recorder.
func (m *shardMember) releaseConfirmed() {
	if m.pending == nil {
		return
	}
	v := m.views[0]
	kept := m.awaiting[:0]
	added := false
	for _, h := range m.awaiting {
		if !v.confirmed(m.com.chain, h, m.hashes[h]) {
			kept = append(kept, h)
			continue
		}
		pkgs, ok := m.outbox(h)
		if !ok {
			kept = append(kept, h)
			continue
		}
		for _, a := range pkgs {
			if err := m.pending.Add(m.eventTime(), a); err != nil {
				m.violate("relay pending: %v", err)
			}
			added = true
		}
	}
	m.awaiting = kept
	if added {
		m.net.world.SetTimer(m.id, m.eventTime(), relayTimerID)
	}
}

// outbox returns the packages of committed height h, proved by reference
// when the destination follows the member's recorder, otherwise in the
// full form lifted up the recorder tree until it reaches a chain the
// destination follows; false when a lift is not known yet.
func (m *shardMember) outbox(h types.Height) ([]relay.Addressed, bool) {
	body, err := exec.DecodeBody(m.decisions[h-1].Block.Body)
	if err != nil {
		m.violate("decode committed body %d: %v", h, err)
		return nil, true
	}
	out, err := relay.Outbox(&m.headers[h], &body, m.net.topo)
	if err != nil {
		m.violate("outbox of height %d: %v", h, err)
		return nil, true
	}
	m.charge(time.Duration(len(out)) * m.costs().RelayProof)
	for i := range out {
		dest := m.net.byChain[out[i].Dest]
		chain, height := m.com.chain, h
		for _, v := range m.views {
			if dest.follows(v.chain) {
				break
			}
			at, ok := v.recordedAt(chain, height)
			if !ok {
				return nil, false
			}
			path, err := rootchain.ProveRecord(&v.bodies[at], chain, height)
			if err != nil {
				m.violate("prove record %d/%d in chain %d height %d: %v", chain, height, v.chain, at, err)
				return nil, true
			}
			if out[i].Package, err = relay.LiftPackage(out[i].Package, &m.headers[h], &v.headers[at], path); err != nil {
				m.violate("lift relay: %v", err)
				return nil, true
			}
			chain, height = v.chain, at
		}
	}
	return out, true
}

// sendDueRelays queues the packages that are due and sends from the
// queue, oldest first, at most a tick's worth of the relay bandwidth, in
// batches per destination: member i to destination member i mod n. Pacing
// keeps relay traffic from filling the uplink ahead of consensus messages,
// which share it.
func (m *shardMember) sendDueRelays() {
	if m.pending == nil {
		return
	}
	for _, a := range m.pending.Due(m.eventTime()) {
		if id := a.Package.Message.ID(); !m.queued[id] {
			m.queued[id] = true
			m.outq = append(m.outq, a)
		}
	}
	// The budget counts the bytes sent: packages are taken by their
	// stand-alone size up to what is left of it, then packed, which
	// shortens them, and the rest of the budget goes to more packages.
	budget := m.relayBudget()
	sent := 0
	for len(m.outq) > 0 && (budget == 0 || sent < budget) {
		var send []relay.Addressed
		size := 0
		for len(m.outq) > 0 && (budget == 0 || sent+size < budget || len(send) == 0) {
			a := m.outq[0]
			m.outq = m.outq[1:]
			id := a.Package.Message.ID()
			if !m.queued[id] {
				continue // acknowledged meanwhile
			}
			delete(m.queued, id)
			send = append(send, a)
			size += a.Package.Message.EncodedLen() + len(a.Package.Proof) + 8
		}
		sent += m.sendRelays(send)
	}
	if len(m.outq) == 0 {
		m.outq = nil
	}
	if m.pending.Len() > 0 || len(m.outq) > 0 {
		m.net.world.SetTimer(m.id, m.eventTime()+relayTick, relayTimerID)
	}
}

// sendRelays sends packages in packed batches per destination, member i
// to destination member i mod n, and returns the bytes sent.
func (m *shardMember) sendRelays(send []relay.Addressed) int {
	sent := 0
	slices.SortStableFunc(send, func(x, y relay.Addressed) int { return cmp.Compare(x.Dest, y.Dest) })
	for i := 0; i < len(send); {
		j := i
		for j < len(send) && send[j].Dest == send[i].Dest {
			j++
		}
		dest := m.net.byChain[send[i].Dest]
		pkgs := make([]relay.Package, 0, j-i)
		for _, a := range send[i:j] {
			pkgs = append(pkgs, a.Package)
		}
		for _, b := range relay.SplitBatches(m.com.chain, dest.chain, pkgs, 0) {
			payload, err := b.MarshalBinary()
			if err != nil {
				m.violate("encode relay batch: %v", err)
				continue
			}
			sent += len(payload)
			m.net.world.Send(m.id, dest.nodes[int(m.index)%dest.size()], payload)
		}
		i = j
	}
	return sent
}

// relayBudget is the bytes of packages a member sends per relay tick (0:
// no bound): RelayBandwidth, or a quarter of the uplink.
func (m *shardMember) relayBudget() int {
	bw := m.cfg().RelayBandwidth
	if bw == 0 {
		bw = m.cfg().Network.UplinkBandwidth / 4
	}
	if bw == 0 {
		return 0
	}
	return int(uint64(bw) / 8 * uint64(relayTick) / uint64(time.Second))
}

// onRelayBatch takes a batch of packages for this chain: those already
// consumed are acknowledged at once, the others wait in the inbox.
func (m *shardMember) onRelayBatch(from NodeID, payload []byte) {
	if m.inbox == nil {
		return
	}
	b, err := relay.DecodeBatch(payload)
	if err != nil || b.Dest != m.com.chain {
		return
	}
	var acks []types.Hash
	c := m.costs()
	// A packed group is unpacked into one reference proof a package, its
	// hashing priced like the leader's packing.
	for i := range b.Packages {
		if proof := b.Packages[i].Proof; len(proof) > 0 && proof[0] == relay.GroupProofTag {
			m.charge(time.Duration(groupSize(proof)) * c.RelayPackPerRelay)
		}
	}
	pkgs, _ := b.Unpacked()
	for i := range pkgs {
		pkg := &pkgs[i]
		id := pkg.Message.ID()
		if _, done := m.consumed[id]; done {
			acks = append(acks, id)
			continue
		}
		m.charge(c.RelayProof + time.Duration(liftCount(pkg.Proof))*c.RelayLift)
		if err := m.inbox.Add(*pkg); err != nil {
			continue
		}
		if senders := m.senders[id]; !containsNode(senders, from) {
			m.senders[id] = append(senders, from)
		}
	}
	m.stats.AckedConsumed += len(acks)
	m.sendAcks(from, acks)
}

// ackConsumed acknowledges the relays a committed block consumed to the
// members that sent them here.
func (m *shardMember) ackConsumed(ids []types.Hash) {
	var order []NodeID
	byNode := make(map[NodeID][]types.Hash)
	for _, id := range ids {
		for _, s := range m.senders[id] {
			if _, ok := byNode[s]; !ok {
				order = append(order, s)
			}
			byNode[s] = append(byNode[s], id)
		}
		delete(m.senders, id)
	}
	for _, s := range order {
		m.sendAcks(s, byNode[s])
	}
}

func (m *shardMember) sendAcks(to NodeID, ids []types.Hash) {
	for _, a := range relay.SplitAcks(m.com.chain, ids) {
		payload, err := a.MarshalBinary()
		if err != nil {
			m.violate("encode relay ack: %v", err)
			return
		}
		m.net.world.Send(m.id, to, payload)
	}
}

// onRelayAck forgets the packages a destination consumed.
func (m *shardMember) onRelayAck(payload []byte) {
	if m.pending == nil {
		return
	}
	a, err := relay.DecodeAck(payload)
	if err != nil {
		return
	}
	m.pending.Ack(a.IDs)
	for _, id := range a.IDs {
		delete(m.queued, id)
	}
}

func containsNode(nodes []NodeID, n NodeID) bool {
	for _, x := range nodes {
		if x == n {
			return true
		}
	}
	return false
}
