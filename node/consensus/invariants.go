package consensus

import (
	"fmt"

	"github.com/thinkey/thinkey/node/types"
)

// CheckInvariants checks the core's internal consistency and returns an
// error wrapping ErrInvariant for the first breach. Tests and the simulator
// call it after every event; production builds run it inside Step only with
// the invariants build tag. It never panics.
func (c *Core) CheckInvariants() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("consensus: %w: "+format, append([]any{ErrInvariant}, args...)...)
	}
	if c.rs.round != c.round {
		return bad("round state of round %d, core at round %d", c.rs.round, c.round)
	}
	if c.started && c.round == 0 && !c.rs.timersArmed {
		return bad("round 0 of height %d runs without its timers", c.height)
	}
	ownVote := func(name string, v *types.Vote) error {
		if v == nil {
			return nil
		}
		if v.Height != c.height || v.Round > c.round || v.Voter != c.cfg.Self || v.ChainID != c.cfg.Chain {
			return bad("%s of voter %d at height %d round %d, core is member %d at height %d round %d", name, v.Voter, v.Height, v.Round, c.cfg.Self, c.height, c.round)
		}
		return nil
	}
	if err := ownVote("last prepare", c.lastPrepare); err != nil {
		return err
	}
	if err := ownVote("last confirm", c.lastConfirm); err != nil {
		return err
	}
	if c.lastPrepare != nil && !isPrepareStage(c.lastPrepare.Kind) {
		return bad("last prepare is a %v vote", c.lastPrepare.Kind)
	}
	if c.lastConfirm != nil && c.lastConfirm.Kind != types.VoteConfirm {
		return bad("last confirm is a %v vote", c.lastConfirm.Kind)
	}
	if l := c.lock; l != nil {
		if l.Height != c.height || l.Round > c.round || l.SignerCount() < c.th.Quorum {
			return bad("lock at height %d round %d with %d signers, core at height %d round %d, quorum %d", l.Height, l.Round, l.SignerCount(), c.height, c.round, c.th.Quorum)
		}
	}
	if pc := c.rs.prepareCert; pc != nil {
		if pc.Round != c.round || pc.SignerCount() < c.th.Quorum {
			return bad("prepare certificate of round %d with %d signers in round %d", pc.Round, pc.SignerCount(), c.round)
		}
		if c.lock == nil || c.lock.Round < pc.Round {
			return bad("the round's prepare certificate is higher than the lock")
		}
	}
	// A member confirms only what it holds a certificate for.
	if c.confirmedThisRound() && (c.rs.prepareCert == nil || c.rs.prepareCert.BlockHash != c.lastConfirm.BlockHash) {
		return bad("confirmed %v in round %d without a prepare certificate for it", c.lastConfirm.BlockHash, c.round)
	}
	for st := range c.rs.stages {
		ss := &c.rs.stages[st]
		counted := make([]bool, c.cfg.CommitteeSize)
		for value, b := range ss.buckets {
			if b.value != value {
				return bad("bucket of %v filed under %v", b.value, value)
			}
			for _, s := range b.signers.Indices(nil) {
				if counted[s] {
					return bad("member %d counted on two values in stage %d of round %d", s, st, c.round)
				}
				counted[s] = true
				if f := ss.voters[s].first; f == nil || f.BlockHash != value {
					return bad("member %d counted on %v but its first vote is elsewhere", s, value)
				}
			}
			if len(b.sigs) != b.signers.Count() {
				return bad("bucket holds %d signatures for %d signers", len(b.sigs), b.signers.Count())
			}
		}
		for i := range ss.voters {
			if n := len(ss.voters[i].pendingValues); n > maxPendingValues {
				return bad("member %d has %d values pending", i, n)
			}
		}
	}
	for s := range c.future.perSender {
		if n := c.future.len(types.ValidatorIndex(s)); n > c.cfg.MaxFutureMessagesPerMember {
			return bad("%d future messages buffered from member %d (limit %d)", n, s, c.cfg.MaxFutureMessagesPerMember)
		}
	}
	for i := 1; i < len(c.out.Commits); i++ {
		if c.out.Commits[i].Height() <= c.out.Commits[i-1].Height() {
			return bad("commits out of order: height %d after %d", c.out.Commits[i].Height(), c.out.Commits[i-1].Height())
		}
	}
	for _, d := range c.out.Commits {
		if d.Height() >= c.height {
			return bad("commit of height %d while at height %d", d.Height(), c.height)
		}
	}
	return nil
}
