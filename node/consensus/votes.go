package consensus

import (
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/node/types"
)

// onVote handles a prepare-stage vote (cert nil) or a confirm vote with its
// prepare certificate, already checked by ValidateBasic.
func (c *Core) onVote(from types.ValidatorIndex, msg Message, v *types.Vote, cert *types.Certificate) error {
	if v.Voter != from {
		return fmt.Errorf("consensus: %v: %w: vote of member %d received from member %d", msg.Kind(), ErrInvalid, v.Voter, from)
	}
	if cert != nil {
		if err := c.checkCertificateShape(cert, c.th.Quorum); err != nil {
			return fmt.Errorf("consensus: %v: %w", msg.Kind(), err)
		}
	}
	if done, err := c.place(from, msg, v.ChainID, v.Height, v.Round); done {
		return err
	}
	if from == c.cfg.Self {
		return nil // our own vote, looped back: already counted
	}
	st := stageOf(v.Kind)
	ss := &c.rs.stages[st]
	vs := &ss.voters[from]
	switch {
	case vs.banned:
	case vs.first != nil:
		if vs.first.BlockHash != v.BlockHash {
			c.checkVoteEquivocation(vs, *v)
		}
	case slices.Contains(vs.pendingValues, v.BlockHash), len(vs.pendingValues) >= maxPendingValues:
	default:
		vs.pendingValues = append(vs.pendingValues, v.BlockHash)
		b := ss.bucket(v.BlockHash, c.cfg.CommitteeSize)
		b.pending = append(b.pending, *v)
		c.maybeVerifyBucket(st, b)
	}
	if cert != nil {
		c.considerPrepareCertificate(from, cert)
	}
	return nil
}

// checkCertificateShape checks what the committee says of a certificate
// before any signature work: it is of this chain and committee and has at
// least minSigners signers.
func (c *Core) checkCertificateShape(cert *types.Certificate, minSigners int) error {
	if cert.ChainID != c.cfg.Chain {
		return fmt.Errorf("certificate: %w: chain %d, want %d", ErrInvalid, cert.ChainID, c.cfg.Chain)
	}
	if cert.Signers.CommitteeSize() != c.cfg.CommitteeSize {
		return fmt.Errorf("certificate: %w: for a committee of %d, this one has %d", ErrInvalid, cert.Signers.CommitteeSize(), c.cfg.CommitteeSize)
	}
	if got := cert.SignerCount(); got < minSigners {
		return fmt.Errorf("certificate: %w: %d signers, need %d", ErrInvalid, got, minSigners)
	}
	return nil
}

// maybeVerifyBucket sends the bucket's unverified votes for verification,
// as one same-message batch, once they could complete a quorum, or all n
// prepares (early consensus). Votes that could not change anything are not
// verified, which bounds a member's signature work per block to about
// three aggregate checks.
func (c *Core) maybeVerifyBucket(st stage, b *bucket) {
	if !c.active() || b.inFlight || len(b.pending) == 0 {
		return
	}
	have := b.signers.Count()
	total := have + len(b.pending)
	completesQuorum := have < c.th.Quorum && total >= c.th.Quorum
	completesFast := st == stagePrepare && !b.fast && total == c.th.N
	if !completesQuorum && !completesFast {
		return
	}
	votes := b.pending
	b.pending = nil
	b.inFlight = true
	c.request(VerifyRequest{Kind: VerifySameMessageVotes, SigningBytes: votes[0].SigningBytes(), Votes: votes},
		&pendingRequest{purpose: purposeVotes, items: len(votes), rs: c.rs, stage: st, value: b.value, votes: votes})
}

// onVotesVerified applies the answer to a vote batch.
func (c *Core) onVotesVerified(p *pendingRequest, invalid []int) {
	if p.rs != c.rs {
		return // the round is over
	}
	ss := &c.rs.stages[p.stage]
	b := ss.bucket(p.value, c.cfg.CommitteeSize)
	b.inFlight = false
	next := 0
	for i, v := range p.votes {
		vs := &ss.voters[v.Voter]
		vs.removePending(v.BlockHash)
		if next < len(invalid) && invalid[next] == i {
			next++
			vs.banned = true
			continue
		}
		c.acceptVerifiedVote(p.stage, v)
	}
	c.bucketChanged(p.stage, b)
}

// addOwnVote counts a vote this member just signed.
func (c *Core) addOwnVote(st stage, v types.Vote) {
	c.acceptVerifiedVote(st, v)
	c.bucketChanged(st, c.rs.stages[st].bucket(v.BlockHash, c.cfg.CommitteeSize))
}

// acceptVerifiedVote counts a vote whose signature verified, if it is its
// voter's first in the stage; a later one on another value is evidence.
func (c *Core) acceptVerifiedVote(st stage, v types.Vote) {
	ss := &c.rs.stages[st]
	vs := &ss.voters[v.Voter]
	if vs.first == nil {
		first := v
		vs.first = &first
		b := ss.bucket(v.BlockHash, c.cfg.CommitteeSize)
		_ = b.signers.Add(v.Voter) // v.Voter was checked to be a member
		b.sigs[v.Voter] = v.Signature
		// The voter's votes on other values still wait in other buckets:
		// they are now suspected double votes, checked on their own.
		for _, other := range slices.Clone(vs.pendingValues) {
			ob := ss.buckets[other]
			if ob == nil || other == v.BlockHash {
				continue
			}
			if i := slices.IndexFunc(ob.pending, func(p types.Vote) bool { return p.Voter == v.Voter }); i >= 0 {
				suspect := ob.pending[i]
				ob.pending = slices.Delete(ob.pending, i, i+1)
				vs.removePending(other)
				c.checkVoteEquivocation(vs, suspect)
			}
		}
		return
	}
	if vs.first.BlockHash != v.BlockHash && !vs.evidence {
		vs.evidence = true
		c.out.Evidence = append(c.out.Evidence, Evidence{Kind: EvidenceVotes, Votes: [2]types.Vote{*vs.first, v}})
	}
}

// checkVoteEquivocation verifies on its own a vote that conflicts with the
// voter's first verified vote of the stage; a valid signature makes the pair
// evidence.
func (c *Core) checkVoteEquivocation(vs *voterState, v types.Vote) {
	if vs.evidence || vs.checking || vs.banned || vs.first == nil {
		return
	}
	vs.checking = true
	c.request(VerifyRequest{Kind: VerifySignatures, Signatures: []SignatureCheck{{Signer: v.Voter, Message: v.SigningBytes(), Signature: v.Signature}}},
		&pendingRequest{purpose: purposeVoteEquivocation, items: 1, voter: vs,
			evidence: Evidence{Kind: EvidenceVotes, Votes: [2]types.Vote{*vs.first, v}}})
}

// onVoteEquivocationVerified applies the answer to checkVoteEquivocation.
func (c *Core) onVoteEquivocationVerified(p *pendingRequest, valid bool) {
	vs := p.voter
	vs.checking = false
	if !valid {
		vs.banned = true
		return
	}
	if !vs.evidence {
		vs.evidence = true
		c.out.Evidence = append(c.out.Evidence, p.evidence)
	}
}

// bucketChanged acts on a bucket whose verified votes grew: a prepare
// quorum is a prepare certificate (lock, then confirm); prepares of all n
// members decide at once (early consensus); a confirm quorum decides.
func (c *Core) bucketChanged(st stage, b *bucket) {
	count := b.signers.Count()
	if !c.hs.committed {
		switch st {
		case stagePrepare:
			needPrepareCert := c.rs.prepareCert == nil && count >= c.th.Quorum
			needFast := !b.fast && count == c.th.N
			if needPrepareCert || needFast {
				if cert, ok := c.formCertificate(st, b); ok {
					if needPrepareCert {
						c.onPrepareCertificate(cert)
					}
					if needFast {
						b.fast = true
						c.decide(cert)
					}
				}
			}
		case stageConfirm:
			if !b.certified && count >= c.th.Quorum {
				if cert, ok := c.formCertificate(st, b); ok {
					b.certified = true
					c.decide(cert)
				}
			}
		}
	}
	c.maybeVerifyBucket(st, b)
}

// formCertificate aggregates the bucket's verified votes.
func (c *Core) formCertificate(st stage, b *bucket) (types.Certificate, bool) {
	signers := b.signers.Indices(make([]types.ValidatorIndex, 0, b.signers.Count()))
	sigs := make([][types.BLSSignatureSize]byte, len(signers))
	for i, s := range signers {
		sigs[i] = b.sigs[s]
	}
	agg, err := c.cfg.Aggregator.Aggregate(sigs)
	if err != nil {
		c.fault = fmt.Errorf("consensus: aggregate %d verified signatures at height %d round %d: %w", len(sigs), c.height, c.round, err)
		return types.Certificate{}, false
	}
	kind := types.VoteConfirm
	if st == stagePrepare {
		kind = prepareKindFor(b.value)
	}
	return types.Certificate{
		ChainID: c.cfg.Chain, Height: c.height, Round: c.round, Kind: kind, BlockHash: b.value,
		Signers: b.signers, AggregateSignature: agg,
	}, true
}

// onPrepareCertificate records the round's prepare certificate: it becomes
// the lock when it is the highest, and the member confirms its value.
func (c *Core) onPrepareCertificate(cert types.Certificate) {
	if c.rs.prepareCert != nil {
		return
	}
	c.rs.prepareCert = &cert
	if c.lock == nil || cert.Round > c.lock.Round {
		c.lock = cloneCertificate(&cert)
		c.bumpState()
		c.keepBlock(cert.BlockHash)
	}
	c.confirm(cert)
	c.maybeArmTimers()
}

// prepare signs and sends this member's prepare of value in the current
// round, unless it already prepared in it.
func (c *Core) prepare(value types.Hash) {
	if !c.active() || c.preparedThisRound() {
		return
	}
	v := types.Vote{ChainID: c.cfg.Chain, Height: c.height, Round: c.round, Kind: prepareKindFor(value), BlockHash: value, Voter: c.cfg.Self}
	v.Signature = c.sign(v.SigningBytes())
	c.lastPrepare = cloneVote(&v)
	c.bumpState()
	c.keepBlock(value)
	c.broadcast(&Prepare{Vote: v})
	c.addOwnVote(stagePrepare, v)
	c.maybeArmTimers()
}

// confirm signs and sends this member's confirm of the certificate's value
// in the current round, unless it already confirmed in it.
func (c *Core) confirm(cert types.Certificate) {
	if !c.active() || c.confirmedThisRound() || cert.Round != c.round {
		return
	}
	v := types.Vote{ChainID: c.cfg.Chain, Height: c.height, Round: c.round, Kind: types.VoteConfirm, BlockHash: cert.BlockHash, Voter: c.cfg.Self}
	v.Signature = c.sign(v.SigningBytes())
	c.lastConfirm = cloneVote(&v)
	c.bumpState()
	c.broadcast(&Confirm{Vote: v, PrepareCertificate: cert})
	c.addOwnVote(stageConfirm, v)
}

// considerPrepareCertificate checks the certificate a confirm carries when
// this member has none for the round: it lets a member that missed prepares
// lock and confirm.
func (c *Core) considerPrepareCertificate(from types.ValidatorIndex, cert *types.Certificate) {
	rs := c.rs
	if rs.prepareCert != nil || rs.certCheck != nil || rs.badCertFrom[from] || !c.active() {
		return
	}
	h := cert.Hash()
	switch c.hs.certVerdicts[h] {
	case verdictValid:
		c.onPrepareCertificate(*cert)
	case verdictInvalid:
		rs.badCertFrom[from] = true
	default:
		rs.certCheck = &certCandidate{cert: *cert, hash: h, from: from}
		c.requestCertificate(cert, h)
	}
}
