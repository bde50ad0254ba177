package consensus

import (
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/types"
)

// checkRoundChangeShape checks what the committee says of a round change:
// its sender is a member and its certificate is a quorum certificate of
// this committee.
func (c *Core) checkRoundChangeShape(rc *RoundChange) error {
	if !c.isMember(rc.Sender) {
		return fmt.Errorf("round change: %w: sender %d", ErrUnknownMember, rc.Sender)
	}
	if rc.HighestCertificate != nil {
		if err := c.checkCertificateShape(rc.HighestCertificate, c.th.Quorum); err != nil {
			return fmt.Errorf("round change: %w", err)
		}
	}
	return nil
}

// roundChangeKey identifies a round change by everything its signature
// covers plus the signature, so two copies of one message share a key and
// its verification is cached.
func roundChangeKey(rc *RoundChange) types.Hash {
	h := hash.New()
	h.Write(rc.SigningBytes())
	h.Write(rc.Signature[:])
	var out types.Hash
	copy(out[:], h.Sum(nil))
	return out
}

// onRoundChange handles a round change, already checked by ValidateBasic.
// Round changes of the current height are kept, one per sender (its highest
// round), rather than buffered: the skip rule and the leader's
// justification read them before the member reaches their round.
func (c *Core) onRoundChange(from types.ValidatorIndex, rc *RoundChange) error {
	if rc.Sender != from {
		return fmt.Errorf("consensus: round change: %w: signed by member %d, received from member %d", ErrInvalid, rc.Sender, from)
	}
	if err := c.checkRoundChangeShape(rc); err != nil {
		return fmt.Errorf("consensus: %w", err)
	}
	if done, err := c.placeRoundChange(from, rc); done {
		return err
	}
	if from == c.cfg.Self {
		return nil
	}
	key := roundChangeKey(rc)
	if cur := c.hs.roundChanges[from]; cur != nil {
		if cur.msg.Round == rc.Round && cur.key == key {
			return nil // a duplicate
		}
		if cur.msg.Round >= rc.Round {
			return fmt.Errorf("consensus: round change for round %d from member %d, which already asked for round %d: %w", rc.Round, from, cur.msg.Round, ErrStale)
		}
	}
	c.hs.roundChanges[from] = &roundChangeEntry{msg: rc, key: key}
	c.maybeVerifyRoundChanges()
	c.maybeSkip()
	c.tryPropose()
	c.maybeArmTimers()
	return nil
}

// placeRoundChange is place for round changes, which are kept for any
// round of the current height that is not behind.
func (c *Core) placeRoundChange(from types.ValidatorIndex, rc *RoundChange) (bool, error) {
	if rc.ChainID != c.cfg.Chain {
		return true, fmt.Errorf("consensus: round change: %w: chain %d, want %d", ErrInvalid, rc.ChainID, c.cfg.Chain)
	}
	if rc.Height != c.height {
		return c.place(from, rc, rc.ChainID, rc.Height, rc.Round)
	}
	if rc.Round < c.round {
		return true, fmt.Errorf("consensus: round change for height %d round %d at round %d: %w", rc.Height, rc.Round, c.round, ErrStale)
	}
	return false, nil
}

// maybeVerifyRoundChanges asks for the signatures of stored round changes
// once they could matter: f+1 members asking for rounds above the current
// one (the skip rule), or, for the leader of the current round, q round
// changes for it (the justification). Faulty members alone can never reach
// either count, so they cannot make the member verify on their behalf.
func (c *Core) maybeVerifyRoundChanges() {
	if !c.active() {
		return
	}
	var ahead, current []*roundChangeEntry
	for _, e := range c.hs.roundChanges {
		if e == nil || c.hs.rcVerdicts[e.key] == verdictInvalid {
			continue
		}
		switch {
		case e.msg.Round > c.round:
			ahead = append(ahead, e)
		case e.msg.Round == c.round:
			current = append(current, e)
		}
	}
	var toVerify []*roundChangeEntry
	if len(ahead) >= c.th.Skip {
		toVerify = append(toVerify, ahead...)
	}
	if c.round > 0 && c.isLeader(c.round) && !c.rs.proposed && len(current) >= c.th.Quorum {
		toVerify = append(toVerify, current...)
	}
	var sigs []SignatureCheck
	var keys []types.Hash
	for _, e := range toVerify {
		if c.hs.rcVerdicts[e.key] != verdictUnknown {
			continue
		}
		c.hs.rcVerdicts[e.key] = verdictPending
		sigs = append(sigs, SignatureCheck{Signer: e.msg.Sender, Message: e.msg.SigningBytes(), Signature: e.msg.Signature})
		keys = append(keys, e.key)
	}
	if len(sigs) == 0 {
		return
	}
	c.request(VerifyRequest{Kind: VerifySignatures, Signatures: sigs},
		&pendingRequest{purpose: purposeRoundChanges, items: len(sigs), rcKeys: keys})
}

// onRoundChangeSignatures applies the answer to maybeVerifyRoundChanges.
func (c *Core) onRoundChangeSignatures(p *pendingRequest, valid []bool) {
	for i, key := range p.rcKeys {
		c.hs.rcVerdicts[key] = verdictOf(valid[i])
	}
	c.maybeSkip()
	c.tryPropose()
	c.evaluateProposal()
	c.maybeVerifyRoundChanges()
}

// maybeSkip applies the skip rule: when f+1 members sent verified round
// changes for rounds above the current one, the member joins the highest
// round at least f+1 of them reached (it cannot be the only one left
// behind), sending its own round change for it.
func (c *Core) maybeSkip() {
	if !c.active() {
		return
	}
	var rounds []types.Round
	for _, e := range c.hs.roundChanges {
		if e != nil && e.msg.Round > c.round && c.hs.rcVerdicts[e.key] == verdictValid {
			rounds = append(rounds, e.msg.Round)
		}
	}
	if len(rounds) < c.th.Skip {
		return
	}
	slices.Sort(rounds)
	target := rounds[len(rounds)-c.th.Skip]
	c.moveToRound(target)
}

// moveToRound sends this member's round change for round r and enters it
// when the event is handled.
func (c *Core) moveToRound(r types.Round) {
	if r <= c.round {
		return // the last round number: there is nowhere to go
	}
	c.broadcastRoundChange(r)
	c.scheduleRound(r)
}

// broadcastRoundChange signs and sends this member's round change for round
// r, reporting its lock and last prepare, and records it as its own.
func (c *Core) broadcastRoundChange(r types.Round) {
	rc := &RoundChange{ChainID: c.cfg.Chain, Height: c.height, Round: r, Sender: c.cfg.Self,
		HighestCertificate: cloneCertificate(c.lock), LastPrepare: cloneVote(c.lastPrepare)}
	rc.Signature = c.sign(rc.SigningBytes())
	key := roundChangeKey(rc)
	c.hs.roundChanges[c.cfg.Self] = &roundChangeEntry{msg: rc, key: key}
	c.hs.rcVerdicts[key] = verdictValid
	if rc.HighestCertificate != nil {
		c.hs.certVerdicts[rc.HighestCertificate.Hash()] = verdictValid
	}
	c.broadcast(rc)
}

// timerFired handles the round's timeouts.
func (c *Core) timerFired(t Timer) error {
	if t.Kind != TimerProposal && t.Kind != TimerRound && t.Kind != TimerResendRoundChange {
		return fmt.Errorf("consensus: timer: %w: kind %v", ErrInvalid, t.Kind)
	}
	if t.Height != c.height || t.Round != c.round {
		return fmt.Errorf("consensus: %v of height %d round %d at height %d round %d: %w", t.Kind, t.Height, t.Round, c.height, c.round, ErrStale)
	}
	if (t.Kind == TimerResendRoundChange) == c.rs.timersArmed {
		// A resend timer after the round's timers were armed, or a round
		// timer of a round that is not armed (a restart forgot that it
		// was): the member no longer, or not yet, waits for it.
		return fmt.Errorf("consensus: %v of height %d round %d: %w: not waited for", t.Kind, t.Height, t.Round, ErrStale)
	}
	switch t.Kind {
	case TimerResendRoundChange:
		c.resendRoundChange()
	case TimerProposal:
		switch {
		case c.preparedThisRound():
			// A proposal arrived in time; the round timer governs now.
		case c.round == 0:
			c.prepare(types.Hash{}) // "leader faulty"
		default:
			// After round 0 a timeout never prepares EMPTY by itself: that
			// could contradict a value decided in an earlier round.
			c.moveToRound(c.round + 1)
		}
	case TimerRound:
		c.moveToRound(c.round + 1)
	}
	return nil
}

// resendRoundChange sends this member's round change for the current round
// again and re-arms the resend timer (rule 6). The round change is the one
// it sent on entering the round, byte for byte; after a restart that lost
// it, it is signed again, which start allows only while the member has not
// voted in the round.
func (c *Core) resendRoundChange() {
	if own := c.hs.roundChanges[c.cfg.Self]; own != nil && own.msg.Round == c.round {
		c.broadcast(own.msg)
	} else {
		c.broadcastRoundChange(c.round)
	}
	c.armResendTimer()
}
