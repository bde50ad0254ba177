package consensus

import (
	"fmt"

	"github.com/thinkey/thinkey/node/types"
)

// receive handles a message from member from.
func (c *Core) receive(from types.ValidatorIndex, msg Message) error {
	if msg == nil {
		return fmt.Errorf("consensus: %w: nil message", ErrInvalid)
	}
	if !c.isMember(from) {
		return fmt.Errorf("consensus: %v from %d: %w", msg.Kind(), from, ErrUnknownMember)
	}
	if err := msg.ValidateBasic(); err != nil {
		return fmt.Errorf("consensus: %v from %d: %w", msg.Kind(), from, err)
	}
	switch m := msg.(type) {
	case *Proposal:
		return c.onProposal(from, m)
	case *Prepare:
		return c.onVote(from, m, &m.Vote, nil)
	case *Confirm:
		return c.onVote(from, m, &m.Vote, &m.PrepareCertificate)
	case *RoundChange:
		return c.onRoundChange(from, m)
	case *Decision:
		return c.onDecision(from, m)
	default:
		return fmt.Errorf("consensus: %w: unknown message %T", ErrInvalid, msg)
	}
}

// place decides what becomes of a message by where it is: done is false
// when it belongs to the current round of the current height and the
// caller handles it; otherwise the message was buffered (a later round or
// the next height), answered (the previous height), or refused, and err
// says which.
func (c *Core) place(from types.ValidatorIndex, msg Message, chain types.ChainID, height types.Height, round types.Round) (done bool, err error) {
	if chain != c.cfg.Chain {
		return true, fmt.Errorf("consensus: %v: %w: chain %d, want %d", msg.Kind(), ErrInvalid, chain, c.cfg.Chain)
	}
	switch {
	case height == c.height && round == c.round:
		return false, nil
	case height == c.height && round > c.round, height == c.height+1:
		c.future.push(futureMessage{height: height, round: round, from: from, msg: msg})
		return true, nil
	case height > c.height:
		return true, fmt.Errorf("consensus: %v for height %d at height %d: %w", msg.Kind(), height, c.height, ErrFuture)
	case height+1 == c.height && msg.Kind() == KindRoundChange && c.answerLaggard(from, round):
		return true, nil
	default:
		return true, fmt.Errorf("consensus: %v for height %d round %d at height %d round %d: %w", msg.Kind(), height, round, c.height, c.round, ErrStale)
	}
}

// answerLaggard sends the previous height's decision to a member still
// changing rounds at that height, so that a member that missed the
// broadcast catches up; it reports whether it did. Only round changes are
// answered: votes of the previous height mostly crossed the decision in
// flight, while a round change shows its sender timed out without
// deciding. A laggard's round change is answered when it reports a round
// not answered yet, or when ProposalTimeout has passed since the last
// answer to it: a laggard waiting for a quorum in its round re-sends the
// same round change every round timeout (rule 6), and a lost answer must
// be repeated, while duplicates and a faulty member's flood of round
// changes are answered at most once per ProposalTimeout.
func (c *Core) answerLaggard(to types.ValidatorIndex, round types.Round) bool {
	if c.prevDecision == nil || to == c.cfg.Self {
		return false
	}
	newRound := uint64(round)+1 > c.answered[to]
	if !newRound && c.now < c.answeredAt[to]+c.cfg.ProposalTimeout {
		return false
	}
	c.answered[to] = max(c.answered[to], uint64(round)+1)
	c.answeredAt[to] = c.now
	c.send(to, c.prevDecision)
	return true
}

// onDecision handles a decision, already checked by ValidateBasic.
func (c *Core) onDecision(from types.ValidatorIndex, d *Decision) error {
	cert := &d.Certificate
	need := c.th.Quorum
	if cert.Kind != types.VoteConfirm {
		need = c.th.N // a fast certificate: prepares of every member
	}
	if err := c.checkCertificateShape(cert, need); err != nil {
		return fmt.Errorf("consensus: decision: %w", err)
	}
	switch {
	case cert.Height == c.height+1:
		c.future.push(futureMessage{height: cert.Height, from: from, msg: d})
		return nil
	case cert.Height > c.height:
		return fmt.Errorf("consensus: decision for height %d at height %d: %w", cert.Height, c.height, ErrFuture)
	case cert.Height < c.height:
		return fmt.Errorf("consensus: decision for height %d at height %d: %w", cert.Height, c.height, ErrStale)
	}
	hs := c.hs
	switch {
	case hs.committed:
		return nil
	case hs.decided != nil && hs.decided.BlockHash == d.Value():
		// The value is known decided; this brings the block it lacked.
		hs.blocks[d.Value()] = d.Block
		c.decideIfBlockArrived()
		return nil
	case hs.decisionCheck != nil:
		return nil // one check at a time; the certificate being checked is as good
	}
	h := cert.Hash()
	switch hs.certVerdicts[h] {
	case verdictValid:
		c.adoptDecision(d)
	case verdictInvalid:
	default:
		hs.decisionCheck = &decisionCandidate{decision: d, hash: h}
		c.requestCertificate(cert, h)
	}
	return nil
}

// adoptDecision decides as another member did, on its verified certificate
// (catch-up).
func (c *Core) adoptDecision(d *Decision) {
	if d.Block != nil {
		c.hs.blocks[d.Value()] = d.Block
	}
	c.decide(d.Certificate)
}
