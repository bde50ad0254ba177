package sim

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// ErrCheckFailed marks a run in which a checker found a violation: two
// decisions at one height, an invalid decided block or certificate, an
// honest double vote, evidence against an honest member or evidence that
// does not verify, a witnessed equivocation nobody reported, or a broken
// core invariant.
var ErrCheckFailed = errors.New("consensus check failed")

// ErrNoLiveness marks a run whose honest members did not decide the heights
// required after the faults healed within the liveness bound.
var ErrNoLiveness = errors.New("liveness bound exceeded")

// maxViolations bounds the violations a run keeps; the first is what
// matters, the rest give context.
const maxViolations = 20

// observer sees everything the members do and checks it: the omniscient
// view of the run, outside every member, so it survives their crashes.
type observer struct {
	cl *ConsensusCluster
	// byzantine and equivocating mark the Byzantine members, and those of
	// them that sign conflicting statements.
	byzantine, equivocating []bool
	violations              []string
	dropped                 int

	// decided is the first decision seen at each height.
	decided map[types.Height]decidedHeight
	// proposed holds every (height, value) a round's leader proposed.
	proposed map[proposedValue]bool
	// votes holds each honest member's vote per stage slot.
	votes map[voteSlot]types.Hash
	// certificates caches decision certificate checks.
	certificates map[types.Hash]bool

	// evidence holds the statements honest members proved equivocal, and
	// evidenceCount how many Evidence actions they emitted.
	evidence      map[statementKey]bool
	evidenceCount int
	// delivered and verified record, for statements of equivocating
	// members, what honest members received in the statement's round and
	// what of it they verified (see checkWitnessedEquivocations).
	delivered map[statementKey][]statementSeen
	verified  map[statementKey][]statementSeen
}

type decidedHeight struct {
	value types.Hash
	block []byte // the decided block's header and body encoding
	by    types.ValidatorIndex
}

type proposedValue struct {
	height types.Height
	value  types.Hash
}

type voteSlot struct {
	member types.ValidatorIndex
	height types.Height
	round  types.Round
	stage  uint8
}

// The stages of a statement: a proposal, or a vote of one stage.
const (
	stageProposal uint8 = 0
	stagePrepare  uint8 = 1
	stageConfirm  uint8 = 2
)

// statementKey names one signer's statement slot: two statements with
// different values in one slot are an equivocation.
type statementKey struct {
	offender types.ValidatorIndex
	height   types.Height
	round    types.Round
	stage    uint8
}

// statementSeen is one statement value a member received (or verified) in
// one incarnation; applied says a verification was answered while the
// member was still in the statement's round (its core took the answer in).
type statementSeen struct {
	member      types.ValidatorIndex
	incarnation uint64
	value       types.Hash
	applied     bool
}

func newObserver(cl *ConsensusCluster) *observer {
	n := cl.cfg.Members
	byzantine, equivocating := make([]bool, n), make([]bool, n)
	for _, b := range cl.cfg.Byzantine {
		byzantine[b.Member] = true
		equivocating[b.Member] = b.Kind == ByzantineEquivocatingLeader || b.Kind == ByzantineEquivocatingVoter
	}
	return &observer{
		cl:           cl,
		byzantine:    byzantine,
		equivocating: equivocating,
		decided:      make(map[types.Height]decidedHeight),
		proposed:     make(map[proposedValue]bool),
		votes:        make(map[voteSlot]types.Hash),
		certificates: make(map[types.Hash]bool),
		evidence:     make(map[statementKey]bool),
		delivered:    make(map[statementKey][]statementSeen),
		verified:     make(map[statementKey][]statementSeen),
	}
}

func (o *observer) violate(format string, args ...any) {
	if len(o.violations) >= maxViolations {
		o.dropped++
		return
	}
	msg := fmt.Sprintf(format, args...)
	o.violations = append(o.violations, fmt.Sprintf("at %v: %s", o.cl.world.Now(), msg))
}

func (o *observer) failed() bool { return len(o.violations) > 0 }

func (o *observer) err() error {
	if len(o.violations) == 0 {
		return nil
	}
	more := ""
	if o.dropped > 0 {
		more = fmt.Sprintf("\n(%d more)", o.dropped)
	}
	return fmt.Errorf("%w:\n%s%s", ErrCheckFailed, strings.Join(o.violations, "\n"), more)
}

func (o *observer) isByzantine(i types.ValidatorIndex) bool {
	return int64(i) < int64(len(o.byzantine)) && o.byzantine[i]
}

// equivocator reports whether member i is Byzantine of a kind that signs
// conflicting statements.
func (o *observer) equivocator(i types.ValidatorIndex) bool {
	return int64(i) < int64(len(o.equivocating)) && o.equivocating[i]
}

func stageOfVote(k types.VoteKind) uint8 {
	if k == types.VoteConfirm {
		return stageConfirm
	}
	return stagePrepare
}

// onTransmit checks and records what a member puts on the wire: a second,
// different vote of an honest member in one stage of one round is a double
// vote, across restarts too; a proposal of a round's leader is a value
// that may be decided.
func (o *observer) onTransmit(m *member, msg consensus.Message) {
	if p, ok := msg.(*consensus.Proposal); ok && p.Proposer == consensus.Leader(p.Height, p.Round, o.cl.cfg.Members) {
		o.proposed[proposedValue{height: p.Height, value: p.Value()}] = true
	}
	if o.isByzantine(m.index) {
		return
	}
	var v *types.Vote
	switch msg := msg.(type) {
	case *consensus.Prepare:
		v = &msg.Vote
	case *consensus.Confirm:
		v = &msg.Vote
	default:
		return
	}
	slot := voteSlot{member: m.index, height: v.Height, round: v.Round, stage: stageOfVote(v.Kind)}
	if prev, ok := o.votes[slot]; ok && prev != v.BlockHash {
		o.violate("honest member %d signed two votes in stage %d of height %d round %d: %v and %v (incarnation %d)",
			m.index, slot.stage, v.Height, v.Round, prev, v.BlockHash, m.incarnation)
	}
	o.votes[slot] = v.BlockHash
}

// onDelivered records a statement of an equivocating member that reaches an
// honest member in the statement's own height and round.
func (o *observer) onDelivered(m *member, from types.ValidatorIndex, msg consensus.Message) {
	if o.isByzantine(m.index) || !o.equivocator(from) || m.core == nil {
		return
	}
	key, value, ok := statementOf(msg)
	if !ok || key.offender != from {
		return
	}
	if st := m.core.Status(); st.Height != key.height || st.Round != key.round {
		return
	}
	o.delivered[key] = append(o.delivered[key], statementSeen{member: m.index, incarnation: m.incarnation, value: value})
}

// statementOf returns the slot and value of a signed proposal or vote.
func statementOf(msg consensus.Message) (statementKey, types.Hash, bool) {
	switch msg := msg.(type) {
	case *consensus.Proposal:
		return statementKey{offender: msg.Proposer, height: msg.Height, round: msg.Round, stage: stageProposal}, msg.Value(), true
	case *consensus.Prepare:
		v := &msg.Vote
		return statementKey{offender: v.Voter, height: v.Height, round: v.Round, stage: stagePrepare}, v.BlockHash, true
	case *consensus.Confirm:
		v := &msg.Vote
		return statementKey{offender: v.Voter, height: v.Height, round: v.Round, stage: stageConfirm}, v.BlockHash, true
	}
	return statementKey{}, types.Hash{}, false
}

// onVerified records the same-message vote batches an honest member had
// verified that hold an equivocating member's vote, and whether the core
// was still in their round to take the answer in.
func (o *observer) onVerified(m *member, req *consensus.VerifyRequest, res *consensus.VerifyResult) {
	if o.isByzantine(m.index) || req.Kind != consensus.VerifySameMessageVotes || m.core == nil {
		return
	}
	st := m.core.Status()
	for i := range req.Votes {
		v := &req.Votes[i]
		if !o.equivocator(v.Voter) || slices.Contains(res.Invalid, i) {
			continue
		}
		key := statementKey{offender: v.Voter, height: v.Height, round: v.Round, stage: stageOfVote(v.Kind)}
		o.verified[key] = append(o.verified[key], statementSeen{member: m.index, incarnation: m.incarnation, value: v.BlockHash,
			applied: st.Height == v.Height && st.Round == v.Round})
	}
}

// onEvidence checks evidence an honest member emits: it verifies, and it
// names a Byzantine member.
func (o *observer) onEvidence(m *member, ev *consensus.Evidence) {
	if o.isByzantine(m.index) {
		return
	}
	o.evidenceCount++
	if err := consensus.VerifyEvidence(ev, o.cl.cfg.Members, o.cl.keys.VerifySignature); err != nil {
		o.violate("honest member %d emitted evidence that does not verify: %v", m.index, err)
		return
	}
	offender := ev.Offender()
	if !o.isByzantine(offender) {
		o.violate("honest member %d emitted %v evidence against honest member %d", m.index, ev.Kind, offender)
		return
	}
	var key statementKey
	if ev.Kind == consensus.EvidenceProposals {
		p := &ev.Proposals[0]
		key = statementKey{offender: offender, height: p.Height, round: p.Round, stage: stageProposal}
	} else {
		v := &ev.Votes[0]
		key = statementKey{offender: offender, height: v.Height, round: v.Round, stage: stageOfVote(v.Kind)}
	}
	o.evidence[key] = true
}

// onCommit checks a decision as a member commits it: agreement (one value
// and the same block bytes per height), validity (a block a leader
// proposed that passes the application's check on the chain it extends,
// or EMPTY) and the certificate that proves it.
func (o *observer) onCommit(m *member, d *consensus.Decision) {
	h := d.Height()
	var block []byte
	if d.Block != nil {
		var err error
		if block, err = d.Block.Header.AppendBinary(nil); err != nil {
			o.violate("member %d commits height %d with a header that does not encode: %v", m.index, h, err)
			return
		}
		block = append(block, d.Block.Body...)
		if d.Block.Hash() != d.Value() {
			o.violate("member %d commits height %d: block %v under certificate value %v", m.index, h, d.Block.Hash(), d.Value())
		}
	} else if !consensus.IsEmptyValue(d.Value()) {
		o.violate("member %d commits height %d: value %v without its block", m.index, h, d.Value())
	}
	if prev, ok := o.decided[h]; ok {
		if prev.value != d.Value() || !bytes.Equal(prev.block, block) {
			o.violate("agreement violated at height %d: member %d decided %v, member %d decided %v", h, prev.by, prev.value, m.index, d.Value())
		}
	} else {
		o.decided[h] = decidedHeight{value: d.Value(), block: block, by: m.index}
	}
	if d.Block != nil {
		if !o.proposed[proposedValue{height: h, value: d.Value()}] {
			o.violate("member %d commits height %d: block %v that no leader proposed", m.index, h, d.Value())
		}
		if parent, ok := m.linkAt(h - 1); !ok || !blockValid(d.Block, parent, o.cl.cfg.Members) {
			o.violate("member %d commits height %d: block %v fails the application's validity check", m.index, h, d.Value())
		}
	}
	o.checkCertificate(m, d)
}

func (o *observer) checkCertificate(m *member, d *consensus.Decision) {
	cert := &d.Certificate
	need := o.cl.th.Quorum
	if cert.Kind != types.VoteConfirm {
		need = o.cl.cfg.Members // a fast certificate: every member prepared
	}
	if cert.Height != d.Height() || cert.ChainID != o.cl.cfg.Chain || cert.SignerCount() < need {
		o.violate("member %d commits height %d with a %v certificate of %d signers (need %d)", m.index, d.Height(), cert.Kind, cert.SignerCount(), need)
		return
	}
	h := cert.Hash()
	ok, seen := o.certificates[h]
	if !seen {
		ok = o.cl.keys.VerifyCertificate(cert)
		o.certificates[h] = ok
	}
	if !ok {
		o.violate("member %d commits height %d with a certificate that does not verify", m.index, d.Height())
	}
}

// checkWitnessedEquivocations requires evidence for every equivocation an
// honest member witnessed in a way the core is bound to notice: it received
// two statements of one slot with different values while in their round,
// within one incarnation, and
//
//   - for proposals, that is enough: the first one's signature is checked
//     at once, and the second is then checked against it;
//   - for votes, the core checks a vote only once it could complete a
//     quorum, so the member must also have had a batch holding one of
//     them verified while still in the round (and none answered after it
//     left, which the core drops unread).
//
// At least one honest member must then have emitted evidence for the slot.
func (o *observer) checkWitnessedEquivocations() {
	keys := make([]statementKey, 0, len(o.delivered))
	for k := range o.delivered {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b statementKey) int {
		return cmp.Or(cmp.Compare(a.height, b.height), cmp.Compare(a.round, b.round),
			cmp.Compare(a.offender, b.offender), cmp.Compare(a.stage, b.stage))
	})
	for _, key := range keys {
		if o.evidence[key] {
			continue
		}
		if witness, ok := o.witness(key); ok {
			o.violate("member %d equivocated (stage %d, height %d, round %d), honest member %d witnessed it, and no honest member reported evidence",
				key.offender, key.stage, key.height, key.round, witness)
		}
	}
}

// witness returns an honest member bound to have noticed the equivocation
// of key (see checkWitnessedEquivocations).
func (o *observer) witness(key statementKey) (types.ValidatorIndex, bool) {
	type incarnation struct {
		member      types.ValidatorIndex
		incarnation uint64
	}
	values := make(map[incarnation][]types.Hash)
	var order []incarnation
	for _, s := range o.delivered[key] {
		in := incarnation{s.member, s.incarnation}
		if _, ok := values[in]; !ok {
			order = append(order, in)
		}
		if !slices.Contains(values[in], s.value) {
			values[in] = append(values[in], s.value)
		}
	}
	for _, in := range order {
		if len(values[in]) < 2 {
			continue
		}
		if key.stage == stageProposal {
			return in.member, true
		}
		applied, dropped := false, false
		for _, s := range o.verified[key] {
			if s.member == in.member && s.incarnation == in.incarnation && slices.Contains(values[in], s.value) {
				applied = applied || s.applied
				dropped = dropped || !s.applied
			}
		}
		if applied && !dropped {
			return in.member, true
		}
	}
	return 0, false
}
