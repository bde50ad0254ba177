package consensus

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// Scenario tests are named after docs/CONSENSUS.md and paper 4.2 (Fig. 5).
// Every run checks, in the harness, agreement, the certificate of every
// commit, the verification of every evidence, that no honest member signs
// two votes of one stage in one round, and the cores' invariants after
// every event.

func TestFig5HappyPathDecidesInRoundZero(t *testing.T) {
	for _, n := range []int{1, 4, 7} {
		t.Run("", func(t *testing.T) {
			cl := newCluster(t, n)
			cl.start()
			cl.settle()
			v := cl.requireCommitted(1, allMembers(n))
			if IsEmptyValue(v) {
				t.Fatal("the happy path decided EMPTY")
			}
			for i := range n {
				if st := cl.cores[i].Status(); st.Height != 2 || st.Round != 0 {
					t.Fatalf("member %d at height %d round %d after deciding height 1", i, st.Height, st.Round)
				}
				if d := cl.commits[i][0]; d.Certificate.Round != 0 {
					t.Fatalf("member %d decided in round %d", i, d.Certificate.Round)
				}
			}
			cl.lastHeight = 3
			cl.settle()
			cl.requireCommitted(2, allMembers(n))
			cl.requireCommitted(3, allMembers(n))
		})
	}
}

// Early consensus (paper 4.2, "Optimization"): prepares of all n members
// decide at once, with the prepares as the proof.
func TestFig5EarlyConsensusOnAllPrepares(t *testing.T) {
	for _, n := range []int{4, 7} {
		cl := newCluster(t, n)
		// Without confirms only the early path can decide.
		cl.drop = func(p packet) bool { return p.msg.Kind() == KindConfirm }
		cl.start()
		cl.settle()
		cl.requireCommitted(1, allMembers(n))
		for i := range n {
			d := cl.commits[i][0]
			if d.Certificate.Kind != types.VotePrepare || d.Certificate.SignerCount() != n {
				t.Fatalf("n=%d member %d: decided with a %v certificate of %d signers, want all %d prepares", n, i, d.Certificate.Kind, d.Certificate.SignerCount(), n)
			}
		}
	}
}

// Normal path: with one member's prepares lost, nobody holds all n
// prepares, and the confirm quorum decides.
func TestFig5NormalPathOnConfirmQuorum(t *testing.T) {
	for _, n := range []int{4, 7} {
		cl := newCluster(t, n)
		cl.drop = func(p packet) bool {
			return p.msg.Kind() == KindPrepare && (p.from == 0 || (p.from == 1 && p.to == 0))
		}
		cl.start()
		cl.settle()
		cl.requireCommitted(1, allMembers(n))
		for i := range n {
			d := cl.commits[i][0]
			if d.Certificate.Kind != types.VoteConfirm || d.Certificate.SignerCount() < ThresholdsFor(n).Quorum {
				t.Fatalf("n=%d member %d: decided with a %v certificate of %d signers, want a confirm quorum", n, i, d.Certificate.Kind, d.Certificate.SignerCount())
			}
		}
	}
}

// Preparation stage, timeout: the round-0 leader is down, members sign
// "leader faulty" and decide EMPTY with a certificate.
func TestFig5LeaderCrashedDecidesEmpty(t *testing.T) {
	cl := newCluster(t, 4)
	leader := int(Leader(1, 0, 4))
	cl.crash(leader)
	cl.start()
	cl.advance(1500 * time.Millisecond) // past the proposal timeout, before the round timeout
	live := without(allMembers(4), leader)
	v := cl.requireCommitted(1, live)
	if !IsEmptyValue(v) {
		t.Fatalf("decided %v, want EMPTY", v)
	}
	for _, i := range live {
		d := cl.commits[i][0]
		if d.Block != nil || d.Certificate.Round != 0 || d.Certificate.SignerCount() < 3 {
			t.Fatalf("member %d: EMPTY decision %s", i, describeDecision(&d))
		}
	}
	if st := cl.cores[live[0]].Status(); st.Height != 2 {
		t.Fatalf("at height %d after deciding EMPTY", st.Height)
	}
}

// An invalid block is not prepared: the application's check fails at every
// member, they sign "leader faulty" and EMPTY is decided.
func TestFig5InvalidBlockIsNotPrepared(t *testing.T) {
	cl := newCluster(t, 4)
	cl.buildBlock = func(node int, req ProposalRequest) Block {
		b := cl.defaultBlock(node, req)
		b.Body = []byte("bad block")
		return b
	}
	cl.start()
	cl.settle()
	for slot, v := range cl.signedVotes {
		if slot.member != int(Leader(1, 0, 4)) && !IsEmptyValue(v) {
			t.Fatalf("member %d voted %v for an invalid block", slot.member, v)
		}
	}
	cl.advance(1500 * time.Millisecond)
	if v := cl.requireCommitted(1, allMembers(4)); !IsEmptyValue(v) {
		t.Fatalf("decided %v, want EMPTY", v)
	}
}

// Round change, SafeValue rule 3: votes split in round 0 (one member never
// sees the proposal and signs leader-faulty; only member 2 gathers the
// prepare certificate and locks), nobody decides; round 1's leader must
// propose the locked value, and it is decided.
func TestRoundChangeSafeValuePicksLockedValue(t *testing.T) {
	cl := newCluster(t, 4) // member 1 leads round 0, member 2 round 1
	cl.drop = func(p packet) bool {
		if cl.now >= 3*time.Second {
			return false // the network heals when round 0 ends
		}
		switch p.msg.Kind() {
		case KindProposal:
			return p.to == 0
		case KindPrepare:
			return p.to != 2
		case KindConfirm:
			return true
		}
		return false
	}
	cl.start()
	cl.advance(2 * time.Second)
	if st := cl.cores[2].Status(); !st.Locked || st.LockRound != 0 {
		t.Fatalf("member 2 did not lock in round 0: %+v", st)
	}
	locked := cl.cores[2].Status().LockValue
	for _, i := range []int{0, 1, 3} {
		if cl.cores[i].Status().Locked {
			t.Fatalf("member %d locked too", i)
		}
	}
	if len(cl.decided) != 0 {
		t.Fatal("decided in round 0")
	}
	cl.advance(5 * time.Second)
	v := cl.requireCommitted(1, allMembers(4))
	if v != locked {
		t.Fatalf("decided %v, want the locked %v", v, locked)
	}
	if r := cl.commits[0][0].Certificate.Round; r != 1 {
		t.Fatalf("decided in round %d, want 1", r)
	}
}

// Safety across rounds ("Why it is safe"): member 2 decides B in round 0 on
// a confirm quorum, but its decision is lost and the others never see the
// confirms; they change rounds, and whatever later round decides must
// decide B again.
func TestDecidedValueIsNeverContradictedInLaterRounds(t *testing.T) {
	cl := newCluster(t, 4)
	cl.drop = func(p packet) bool {
		switch p.msg.Kind() {
		case KindProposal:
			// Member 0 never sees round 0's proposal.
			return p.to == 0 && p.msg.(*Proposal).Round == 0
		case KindPrepare:
			v := p.msg.(*Prepare).Vote
			return v.Round == 0 && p.to == 0 // member 0 never learns of B in round 0
		case KindConfirm:
			return p.msg.(*Confirm).Vote.Round == 0 && p.to != 2 // only member 2 sees the confirms
		case KindDecision:
			return p.msg.(*Decision).Height() == 1 // nobody hears of member 2's decision
		}
		return false
	}
	cl.start()
	cl.settle()
	if len(cl.commits[2]) != 1 {
		t.Fatalf("member 2 did not decide in round 0\n%s", cl.tail(40))
	}
	b := cl.commits[2][0].Value()
	for _, i := range []int{0, 1, 3} {
		if len(cl.commits[i]) != 0 {
			t.Fatalf("member %d decided too", i)
		}
	}
	// Members 1 and 3 are locked on B, member 0 is not.
	if !cl.cores[1].Status().Locked || !cl.cores[3].Status().Locked || cl.cores[0].Status().Locked {
		t.Fatal("locks are not as arranged")
	}
	cl.advance(30 * time.Second)
	if got := cl.requireCommitted(1, []int{0, 1, 3}); got != b {
		t.Fatalf("a later round decided %v after %v was decided", got, b)
	}
	if r := cl.commits[0][0].Certificate.Round; r == 0 {
		t.Fatal("expected the others to decide in a later round")
	}
}

// Equivocation evidence, proposals: the round-0 leader signs two different
// blocks; a member that sees both emits evidence, and no two values are
// decided.
func TestEquivocatingLeaderYieldsEvidenceAndOneDecision(t *testing.T) {
	cl := newCluster(t, 4)
	leader := int(Leader(1, 0, 4))
	cl.byzantine[leader] = true
	cl.rewrite = func(p packet) []packet {
		prop, ok := p.msg.(*Proposal)
		if !ok || int(p.from) != leader || prop.Round != 0 {
			return []packet{p}
		}
		other := *prop
		blk := prop.Block.Clone()
		blk.Header.StateRoot[0] ^= 1
		blk.Body = append(blk.Body, " (the other one)"...)
		other.Block = blk
		other.Signature = standInSignature(memberSecret(leader), other.SigningBytes())
		switch p.to {
		case 0: // sees both, the first one first
			return []packet{p, {from: p.from, to: p.to, msg: &other}}
		case 3: // sees only the other one
			return []packet{{from: p.from, to: p.to, msg: &other}}
		}
		return []packet{p}
	}
	cl.start()
	cl.advance(20 * time.Second)
	if len(cl.evidence[0]) != 1 || cl.evidence[0][0].Kind != EvidenceProposals || cl.evidence[0][0].Offender() != types.ValidatorIndex(leader) {
		t.Fatalf("member 0 evidence %+v, want one double proposal by %d", cl.evidence[0], leader)
	}
	cl.requireCommitted(1, allMembers(4))
}

// Equivocation evidence, votes: a member signs a leader-faulty vote and a
// prepare for the block in the same round; the others prove it. Member 2's
// prepares are lost, so the liar's prepare is needed for the quorum and is
// verified before the height is decided.
func TestEquivocatingVoterYieldsEvidence(t *testing.T) {
	cl := newCluster(t, 4)
	const liar = 3
	cl.byzantine[liar] = true
	cl.drop = func(p packet) bool { return p.from == 2 && p.msg.Kind() == KindPrepare }
	cl.rewrite = func(p packet) []packet {
		prep, ok := p.msg.(*Prepare)
		if !ok || p.from != liar || prep.Vote.Kind != types.VotePrepare {
			return []packet{p}
		}
		faulty := prep.Vote
		faulty.Kind, faulty.BlockHash = types.VoteLeaderFaulty, types.Hash{}
		faulty.Signature = standInSignature(memberSecret(liar), faulty.SigningBytes())
		return []packet{{from: p.from, to: p.to, msg: &Prepare{Vote: faulty}}, p}
	}
	cl.start()
	cl.settle()
	cl.requireCommitted(1, allMembers(4))
	for _, i := range []int{0, 1} {
		if len(cl.evidence[i]) != 1 || cl.evidence[i][0].Kind != EvidenceVotes || cl.evidence[i][0].Offender() != liar {
			t.Fatalf("member %d evidence %+v, want one double vote by %d", i, cl.evidence[i], liar)
		}
	}
}

// Persistence: a member that crashes right after persisting its prepare
// (before sending it) restarts in the same round, re-sends the same
// prepare, and when the proposal timer fires does not sign leader-faulty.
func TestRestartFromPersistentStateDoesNotVoteTwice(t *testing.T) {
	cl := newCluster(t, 4)
	const victim = 0
	prepared := false
	cl.drop = func(p packet) bool {
		// Hold back confirms so that round 0 cannot end before the
		// victim's proposal timer fires.
		return p.msg.Kind() == KindConfirm
	}
	cl.start()
	// Deliver until the victim asked to validate the proposed block, then
	// crash it as it persists the prepare that follows.
	for !prepared && cl.stepOnce() {
		if cl.cores[victim].Status().Step == StepPropose {
			for _, v := range cl.verifies {
				if v.node == victim && v.req.Kind == VerifyBlock {
					cl.crashAfterPersist[victim] = true
					prepared = true
				}
			}
		}
	}
	cl.settle()
	if !cl.crashed[victim] {
		t.Fatal("the victim did not crash")
	}
	st := cl.persisted[victim]
	if st.LastPrepare == nil || st.LastPrepare.Round != 0 || IsEmptyValue(st.LastPrepare.BlockHash) {
		t.Fatalf("persisted state %+v has no prepare of the block", st)
	}
	cl.restart(victim)
	cl.advance(1500 * time.Millisecond) // the proposal timeout of round 0 fires
	cl.drop = nil
	cl.settle()
	// recordVote would have failed on a second vote; check the victim
	// re-sent its one prepare and the height was decided with it.
	cl.requireCommitted(1, allMembers(4))
	if got := cl.signedVotes[voteSlot{member: victim, height: 1, round: 0, stage: stagePrepare}]; got != st.LastPrepare.BlockHash {
		t.Fatalf("victim's round-0 prepare is %v, persisted %v", got, st.LastPrepare.BlockHash)
	}
}

// Catch-up (step 4): a member cut off during a height learns the decision
// from a Decision message when it reconnects.
func TestCatchUpViaDecisionMessage(t *testing.T) {
	cl := newCluster(t, 4)
	cut := true
	cl.drop = func(p packet) bool { return cut && (p.to == 3 || p.from == 3) }
	cl.start()
	cl.settle()
	cl.requireCommitted(1, []int{0, 1, 2})
	if len(cl.commits[3]) != 0 {
		t.Fatal("the cut-off member decided")
	}
	// The others wait at height 2 (their timers are held back), so member 3
	// is one height behind: the gap the core closes itself (larger ones are
	// the shell's block sync).
	cl.timers = slices.DeleteFunc(cl.timers, func(a armedTimer) bool { return a.node != 3 })
	cut = false
	// Its round timer fires; the others answer its round change with the
	// decision of height 1.
	cl.advance(4 * time.Second)
	cl.requireCommitted(1, allMembers(4))
	if h := cl.cores[3].Status().Height; h < 2 {
		t.Fatalf("caught-up member at height %d", h)
	}
}

// The skip rule (step 5): f+1 verified round changes for a higher round make
// a member join it.
func TestSkipToRoundOnFPlusOneRoundChanges(t *testing.T) {
	cl := newCluster(t, 4)
	cl.lastHeight = 0 // no blocks: the round stays open
	cl.start()
	cl.settle()
	for _, from := range []int{2, 3} {
		rc := signedRoundChange(from, 1, 5, nil, nil)
		_ = cl.stepNode(0, MessageReceived{Now: cl.now, From: types.ValidatorIndex(from), Msg: rc})
		if from == 2 && cl.cores[0].Status().Round != 0 {
			t.Fatal("moved on a single round change")
		}
	}
	cl.settle()
	if st := cl.cores[0].Status(); st.Round != 5 {
		t.Fatalf("member 0 at round %d, want 5", st.Round)
	}
	var sent bool
	for _, l := range cl.log {
		if strings.HasSuffix(l, "0 -> all: round-change h1 r5") {
			sent = true
		}
	}
	if !sent {
		t.Fatalf("member 0 did not send its round change for round 5:\n%s", cl.tail(20))
	}
}

// Future messages are buffered per sender and bounded.
func TestFutureRoundBufferingIsBounded(t *testing.T) {
	cl := newCluster(t, 4)
	cl.lastHeight = 0
	cl.start()
	cl.settle()
	limit := cl.cfgs[0].MaxFutureMessagesPerMember
	core := cl.cores[0]
	// Member 3 floods prepares for rounds 1..200.
	for r := types.Round(1); r <= 200; r++ {
		v := signedVote(3, 1, r, types.VoteLeaderFaulty, types.Hash{})
		if err := cl.stepNode(0, MessageReceived{Now: cl.now, From: 3, Msg: &Prepare{Vote: v}}); err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
	}
	// Member 2 sends one prepare for round 1.
	v := signedVote(2, 1, 1, types.VoteLeaderFaulty, types.Hash{})
	if err := cl.stepNode(0, MessageReceived{Now: cl.now, From: 2, Msg: &Prepare{Vote: v}}); err != nil {
		t.Fatal(err)
	}
	if got := core.future.len(3); got != limit {
		t.Fatalf("member 3 has %d buffered messages, limit %d", got, limit)
	}
	if got := core.future.len(2); got != 1 {
		t.Fatalf("member 2's message was crowded out: %d buffered", got)
	}
	// The oldest of member 3's went first: what is left is its latest.
	if first := core.future.perSender[3][0].round; first != types.Round(200-limit+1) {
		t.Fatalf("member 3's oldest kept message is of round %d, want %d", first, 200-limit+1)
	}
	// A message for a height beyond the next is refused, not buffered.
	far := signedVote(2, 3, 0, types.VoteLeaderFaulty, types.Hash{})
	if err := core.Step(MessageReceived{Now: cl.now, From: 2, Msg: &Prepare{Vote: far}}); !errors.Is(err, ErrFuture) {
		t.Fatalf("height 3 at height 1: %v, want ErrFuture", err)
	}
}

func signedVote(member int, h types.Height, r types.Round, kind types.VoteKind, value types.Hash) types.Vote {
	v := types.Vote{ChainID: testChain, Height: h, Round: r, Kind: kind, BlockHash: value, Voter: types.ValidatorIndex(member)}
	v.Signature = standInSignature(memberSecret(member), v.SigningBytes())
	return v
}

func signedRoundChange(member int, h types.Height, r types.Round, cert *types.Certificate, last *types.Vote) *RoundChange {
	rc := &RoundChange{ChainID: testChain, Height: h, Round: r, Sender: types.ValidatorIndex(member), HighestCertificate: cert, LastPrepare: last}
	rc.Signature = standInSignature(memberSecret(member), rc.SigningBytes())
	return rc
}
