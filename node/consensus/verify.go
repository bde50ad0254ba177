package consensus

import (
	"fmt"

	"github.com/thinkey/thinkey/node/types"
)

// purpose says what a verification request was made for, and so how its
// answer is applied.
type purpose uint8

const (
	purposeVotes purpose = iota + 1
	purposeVoteEquivocation
	purposeProposal
	purposeProposalEquivocation
	purposeRoundChanges
	purposeCertificate
	purposeBlock
)

// isEvidence reports the purposes whose answer matters even after the
// height is over: an equivocation is punishable whenever it is proven.
func (p purpose) isEvidence() bool {
	return p == purposeVoteEquivocation || p == purposeProposalEquivocation
}

// pendingRequest is what the core remembers of a request until its answer.
type pendingRequest struct {
	purpose purpose
	kind    VerifyKind
	// items is the number of votes or signatures sent.
	items int
	// rs is the round a round-bound request was made in.
	rs       *roundState
	stage    stage
	value    types.Hash
	votes    []types.Vote
	voter    *voterState
	evidence Evidence
	check    *proposalCheck
	rcKeys   []types.Hash
	// hash names the certificate or block checked.
	hash types.Hash
}

// request emits a verification request.
func (c *Core) request(r VerifyRequest, p *pendingRequest) {
	c.nextID++
	r.ID = c.nextID
	p.kind = r.Kind
	c.requests[r.ID] = p
	c.out.Verify = append(c.out.Verify, r)
}

// requestCertificate asks for a certificate check unless one was asked.
func (c *Core) requestCertificate(cert *types.Certificate, h types.Hash) {
	if c.hs.certVerdicts[h] != verdictUnknown || !c.active() {
		return
	}
	c.hs.certVerdicts[h] = verdictPending
	cp := *cert
	c.request(VerifyRequest{Kind: VerifyCertificate, Certificate: &cp}, &pendingRequest{purpose: purposeCertificate, hash: h})
}

// requestBlockValidity asks the application about a block unless it was
// asked.
func (c *Core) requestBlockValidity(b *Block, h types.Hash) {
	if c.hs.blockVerdicts[h] != verdictUnknown || !c.active() {
		return
	}
	c.hs.blockVerdicts[h] = verdictPending
	c.request(VerifyRequest{Kind: VerifyBlock, Block: b}, &pendingRequest{purpose: purposeBlock, hash: h})
}

// verifyResult handles a VerifyResult.
func (c *Core) verifyResult(ev *VerifyResult) error {
	p := c.requests[ev.ID]
	if p == nil {
		return fmt.Errorf("consensus: verify result %d: %w: no such request outstanding", ev.ID, ErrStale)
	}
	switch p.kind {
	case VerifySameMessageVotes:
		for i, idx := range ev.Invalid {
			if idx < 0 || idx >= p.items || (i > 0 && idx <= ev.Invalid[i-1]) {
				return fmt.Errorf("consensus: verify result %d: %w: invalid indices %v for %d votes (want increasing, in range)", ev.ID, ErrInvalid, ev.Invalid, p.items)
			}
		}
	case VerifySignatures:
		if len(ev.Valid) != p.items {
			return fmt.Errorf("consensus: verify result %d: %w: %d verdicts for %d signatures", ev.ID, ErrInvalid, len(ev.Valid), p.items)
		}
	}
	delete(c.requests, ev.ID)
	switch p.purpose {
	case purposeVotes:
		c.onVotesVerified(p, ev.Invalid)
	case purposeVoteEquivocation:
		c.onVoteEquivocationVerified(p, ev.Valid[0])
	case purposeProposal:
		c.onProposalSignatures(p, ev.Valid)
	case purposeProposalEquivocation:
		c.onProposalEquivocationVerified(p, ev.Valid[0])
	case purposeRoundChanges:
		c.onRoundChangeSignatures(p, ev.Valid)
	case purposeCertificate:
		c.hs.certVerdicts[p.hash] = verdictOf(ev.OK)
		c.afterCertificateVerdict()
	case purposeBlock:
		c.hs.blockVerdicts[p.hash] = verdictOf(ev.OK)
		c.evaluateProposal()
	}
	return nil
}

// afterCertificateVerdict moves on whatever waited for a certificate check.
func (c *Core) afterCertificateVerdict() {
	if cc := c.rs.certCheck; cc != nil {
		switch c.hs.certVerdicts[cc.hash] {
		case verdictValid:
			c.rs.certCheck = nil
			c.onPrepareCertificate(cc.cert)
		case verdictInvalid:
			c.rs.certCheck = nil
			c.rs.badCertFrom[cc.from] = true
		}
	}
	if dc := c.hs.decisionCheck; dc != nil {
		switch c.hs.certVerdicts[dc.hash] {
		case verdictValid:
			c.hs.decisionCheck = nil
			c.adoptDecision(dc.decision)
		case verdictInvalid:
			c.hs.decisionCheck = nil
		}
	}
	c.evaluateProposal()
	c.tryPropose()
}
