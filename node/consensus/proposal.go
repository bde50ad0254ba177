package consensus

import (
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/node/types"
)

// onProposal handles a proposal, already checked by ValidateBasic.
func (c *Core) onProposal(from types.ValidatorIndex, p *Proposal) error {
	if p.Proposer != from {
		return fmt.Errorf("consensus: proposal: %w: signed by member %d, received from member %d", ErrInvalid, p.Proposer, from)
	}
	if leader := Leader(p.Height, p.Round, c.cfg.CommitteeSize); p.Proposer != leader {
		return fmt.Errorf("consensus: proposal: %w: member %d is not the leader %d of height %d round %d", ErrInvalid, p.Proposer, leader, p.Height, p.Round)
	}
	if p.Round > 0 && len(p.Justification) != c.th.Quorum {
		return fmt.Errorf("consensus: proposal: %w: justification of %d round changes, need exactly %d", ErrInvalid, len(p.Justification), c.th.Quorum)
	}
	for i := range p.Justification {
		if err := c.checkRoundChangeShape(&p.Justification[i]); err != nil {
			return fmt.Errorf("consensus: proposal: justification %d: %w", i, err)
		}
	}
	if done, err := c.place(from, p, p.ChainID, p.Height, p.Round); done {
		return err
	}
	rs := c.rs
	if from == c.cfg.Self {
		return nil // our own proposal, looped back
	}
	value := p.Value()
	switch {
	case rs.accepted != nil:
		if rs.accepted.Value() != value {
			c.checkProposalEquivocation(p)
		}
	case rs.checking != nil:
		if rs.checking.value != value && rs.queued == nil {
			rs.queued = p
		}
	default:
		c.startProposalCheck(p)
	}
	return nil
}

// startProposalCheck asks for every verification the proposal needs and
// has not had: the proposer's signature with the justification's unchecked
// round-change signatures in one batch, the justification's certificates of
// the highest round, and the block's validity.
func (c *Core) startProposalCheck(p *Proposal) {
	if !c.active() {
		return
	}
	chk := &proposalCheck{proposal: p, value: p.Value(), signature: verdictPending}
	sigs := []SignatureCheck{{Signer: p.Proposer, Message: p.SigningBytes(), Signature: p.Signature}}
	var keys []types.Hash
	for i := range p.Justification {
		rc := &p.Justification[i]
		key := roundChangeKey(rc)
		chk.roundChanges = append(chk.roundChanges, key)
		if c.hs.rcVerdicts[key] == verdictUnknown {
			c.hs.rcVerdicts[key] = verdictPending
			sigs = append(sigs, SignatureCheck{Signer: rc.Sender, Message: rc.SigningBytes(), Signature: rc.Signature})
			keys = append(keys, key)
		}
	}
	for _, cert := range highestCertificates(p.Justification) {
		h := cert.Hash()
		if !slices.Contains(chk.certificates, h) {
			chk.certificates = append(chk.certificates, h)
			c.requestCertificate(cert, h)
		}
	}
	if p.Block != nil {
		c.requestBlockValidity(p.Block, chk.value)
	}
	c.rs.checking = chk
	c.request(VerifyRequest{Kind: VerifySignatures, Signatures: sigs},
		&pendingRequest{purpose: purposeProposal, items: len(sigs), rs: c.rs, check: chk, rcKeys: keys})
}

// highestCertificates returns the certificates of the highest round among
// the justification's: SafeValue reads no other, so no other is verified.
func highestCertificates(justification []RoundChange) []*types.Certificate {
	var out []*types.Certificate
	for i := range justification {
		cert := justification[i].HighestCertificate
		switch {
		case cert == nil:
		case len(out) == 0 || cert.Round > out[0].Round:
			out = append(out[:0], cert)
		case cert.Round == out[0].Round:
			out = append(out, cert)
		}
	}
	return out
}

// onProposalSignatures applies the answer to startProposalCheck's batch.
func (c *Core) onProposalSignatures(p *pendingRequest, valid []bool) {
	for i, key := range p.rcKeys {
		c.hs.rcVerdicts[key] = verdictOf(valid[1+i])
	}
	if p.rs == c.rs && c.rs.checking == p.check {
		p.check.signature = verdictOf(valid[0])
	}
	c.evaluateProposal()
	c.maybeSkip()
	c.tryPropose()
}

// evaluateProposal moves the proposal under check forward: once its
// signature verified it is the round's accepted proposal (for equivocation
// detection and its block); once everything verified and the value is
// SafeValue of the justification, the member prepares it.
func (c *Core) evaluateProposal() {
	rs := c.rs
	chk := rs.checking
	if chk == nil {
		return
	}
	switch chk.signature {
	case verdictPending:
		return
	case verdictInvalid:
		rs.checking = nil
		if q := rs.queued; q != nil {
			rs.queued = nil
			c.startProposalCheck(q)
		}
		return
	}
	p := chk.proposal
	if rs.accepted == nil {
		rs.accepted = p
		if p.Block != nil {
			c.hs.blocks[chk.value] = p.Block
			c.decideIfBlockArrived()
		}
	}
	if q := rs.queued; q != nil {
		rs.queued = nil
		if q.Value() != chk.value {
			c.checkProposalEquivocation(q)
		}
	}
	// Every check must have come back valid; one that failed rejects the
	// proposal (the member does not prepare it), one still out waits.
	var verdicts []verdict
	for _, key := range chk.roundChanges {
		verdicts = append(verdicts, c.hs.rcVerdicts[key])
	}
	for _, h := range chk.certificates {
		verdicts = append(verdicts, c.hs.certVerdicts[h])
	}
	if p.Block != nil {
		verdicts = append(verdicts, c.hs.blockVerdicts[chk.value])
	}
	if slices.Contains(verdicts, verdictInvalid) {
		rs.checking = nil
		return
	}
	if slices.ContainsFunc(verdicts, func(v verdict) bool { return v != verdictValid }) {
		return
	}
	rs.checking = nil
	if p.Round > 0 && !SafeValue(p.Justification, c.th.Quorum).Allows(chk.value) {
		return
	}
	c.prepare(chk.value)
}

// checkProposalEquivocation verifies on its own a second proposal of the
// round's leader with another value; a valid signature makes evidence.
func (c *Core) checkProposalEquivocation(p *Proposal) {
	rs := c.rs
	if rs.proposalEvidence || rs.proposalEquivocationCheck || rs.accepted == nil {
		return
	}
	rs.proposalEquivocationCheck = true
	c.request(VerifyRequest{Kind: VerifySignatures, Signatures: []SignatureCheck{{Signer: p.Proposer, Message: p.SigningBytes(), Signature: p.Signature}}},
		&pendingRequest{purpose: purposeProposalEquivocation, items: 1, rs: rs,
			evidence: Evidence{Kind: EvidenceProposals, Proposals: [2]SignedProposal{rs.accepted.Statement(), p.Statement()}}})
}

// onProposalEquivocationVerified applies the answer to
// checkProposalEquivocation.
func (c *Core) onProposalEquivocationVerified(p *pendingRequest, valid bool) {
	rs := p.rs
	rs.proposalEquivocationCheck = false
	if valid && !rs.proposalEvidence {
		rs.proposalEvidence = true
		c.out.Evidence = append(c.out.Evidence, p.evidence)
	}
}

// proposalReady handles the block the shell built for this member.
func (c *Core) proposalReady(ev *ProposalReady) error {
	if ev.Height != c.height || ev.Round < c.round {
		return fmt.Errorf("consensus: proposal ready for height %d round %d at height %d round %d: %w", ev.Height, ev.Round, c.height, c.round, ErrStale)
	}
	if ev.Round > c.round {
		return fmt.Errorf("consensus: proposal ready: %w: round %d was never requested (current round %d)", ErrInvalid, ev.Round, c.round)
	}
	if !c.isLeader(ev.Round) {
		return fmt.Errorf("consensus: proposal ready: %w: member %d does not lead height %d round %d", ErrInvalid, c.cfg.Self, ev.Height, ev.Round)
	}
	if err := ev.Block.validateFor(c.cfg.Chain, c.height); err != nil {
		return fmt.Errorf("consensus: proposal ready: %w", err)
	}
	if c.hs.ownBlocks[ev.Round] != nil {
		return fmt.Errorf("consensus: proposal ready for height %d round %d: %w: a block was already given", ev.Height, ev.Round, ErrStale)
	}
	b := ev.Block.Clone()
	h := b.Hash()
	c.hs.ownBlocks[ev.Round] = b
	c.hs.blockVerdicts[h] = verdictValid
	c.tryPropose()
	return nil
}

// tryPropose proposes when this member leads the current round, has not
// signed anything in it, and has what it needs: in round 0 its block; later
// a justification (q verified round changes for the round, their highest
// certificates verified) and the block SafeValue names, or its own block
// when the value is free.
func (c *Core) tryPropose() {
	rs := c.rs
	if !c.active() || !c.isLeader(c.round) || rs.proposed || c.preparedThisRound() {
		return
	}
	if c.round == 0 {
		if b := c.hs.ownBlocks[0]; b != nil {
			c.propose(b, nil)
		}
		return
	}
	justification, ok := c.gatherJustification()
	if !ok {
		return
	}
	safe := SafeValue(justification, c.th.Quorum)
	switch {
	case safe.Rule == SafeFree:
		if b := c.hs.ownBlocks[c.round]; b != nil {
			c.propose(b, justification)
		}
	case IsEmptyValue(safe.Value):
		c.propose(nil, justification)
	default:
		if b := c.hs.blocks[safe.Value]; b != nil {
			c.propose(b, justification)
		}
		// Otherwise this leader never saw the block; the round times out
		// and a leader that holds it will propose it.
	}
}

// gatherJustification picks the round changes for the current round with
// verified signatures, lowest senders first, and reports whether the
// highest certificates among the first quorum of them are verified. It asks
// for the checks still missing; a round change whose certificate fails is
// set aside and the next one taken.
func (c *Core) gatherJustification() ([]RoundChange, bool) {
	for {
		var chosen []*roundChangeEntry
		for _, e := range c.hs.roundChanges {
			if e != nil && e.msg.Round == c.round && c.hs.rcVerdicts[e.key] == verdictValid {
				chosen = append(chosen, e)
				if len(chosen) == c.th.Quorum {
					break
				}
			}
		}
		if len(chosen) < c.th.Quorum {
			return nil, false
		}
		justification := make([]RoundChange, len(chosen))
		for i, e := range chosen {
			justification[i] = *e.msg
		}
		waiting, retry := false, false
		for _, cert := range highestCertificates(justification) {
			h := cert.Hash()
			switch c.hs.certVerdicts[h] {
			case verdictValid:
			case verdictInvalid:
				for _, e := range chosen {
					if e.msg.HighestCertificate != nil && e.msg.HighestCertificate.Hash() == h {
						c.hs.rcVerdicts[e.key] = verdictInvalid
					}
				}
				retry = true
			default:
				c.requestCertificate(cert, h)
				waiting = true
			}
		}
		if retry {
			continue
		}
		return justification, !waiting
	}
}

// propose signs and broadcasts this member's proposal for the current round
// and prepares it.
func (c *Core) propose(b *Block, justification []RoundChange) {
	p := &Proposal{ChainID: c.cfg.Chain, Height: c.height, Round: c.round, Proposer: c.cfg.Self, Block: b, Justification: justification}
	p.Signature = c.sign(p.SigningBytes())
	c.rs.proposed = true
	c.rs.accepted = p
	if b != nil {
		h := b.Hash()
		c.hs.blocks[h] = b
		c.hs.blockVerdicts[h] = verdictValid
	}
	c.broadcast(p)
	c.prepare(p.Value())
}
