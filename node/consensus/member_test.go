package consensus

import (
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// Tests of one member driven by hand: the messages of the others are built
// and signed by the test, and the member's verification requests answered
// by the stand-in verifier.

// memberDriver steps one core and answers its requests.
type memberDriver struct {
	t    *testing.T
	c    *Core
	sent []Message
	ev   []Evidence
	// blockValid is the application's verdict.
	blockValid bool
}

func newMemberDriver(t *testing.T, state PersistentState) *memberDriver {
	t.Helper()
	c, err := New(defaultTestConfig(4, 0), state)
	if err != nil {
		t.Fatal(err)
	}
	d := &memberDriver{t: t, c: c, blockValid: true}
	d.step(Start{Now: time.Second})
	return d
}

// step feeds ev and then the answers to every request it caused.
func (d *memberDriver) step(ev Event) error {
	d.t.Helper()
	err := d.c.Step(ev)
	for d.c.HasReady() {
		rd := d.c.Ready()
		d.c.Advance()
		for _, env := range rd.Send {
			d.sent = append(d.sent, env.Msg)
		}
		d.ev = append(d.ev, rd.Evidence...)
		for _, req := range rd.Verify {
			res := standInVerifier{n: 4}.answer(req, func(*Block) bool { return d.blockValid })
			if rerr := d.c.Step(res); rerr != nil {
				d.t.Fatalf("answer to %v: %v", req.Kind, rerr)
			}
		}
	}
	if ierr := d.c.CheckInvariants(); ierr != nil {
		d.t.Fatal(ierr)
	}
	return err
}

// sentVotes returns the votes the member sent, by stage.
func (d *memberDriver) sentVotes(st stage) []types.Vote {
	var out []types.Vote
	for _, m := range d.sent {
		switch m := m.(type) {
		case *Prepare:
			if st == stagePrepare {
				out = append(out, m.Vote)
			}
		case *Confirm:
			if st == stageConfirm {
				out = append(out, m.Vote)
			}
		}
	}
	return out
}

// justifiedProposal builds the round-1 proposal of height 1 by its leader
// (member 2), justified by round changes of members 1, 2 and 3, member 3
// reporting a prepare certificate of round 0 on locked.
func justifiedProposal(proposed *Block, locked types.Hash) *Proposal {
	cert := sampleCertificate(4, 3, 1, 0, types.VotePrepare, locked)
	last := signedVote(3, 1, 0, types.VotePrepare, locked)
	p := &Proposal{ChainID: testChain, Height: 1, Round: 1, Proposer: Leader(1, 1, 4), Block: proposed, Justification: []RoundChange{
		*signedRoundChange(1, 1, 1, nil, nil),
		*signedRoundChange(2, 1, 1, nil, nil),
		*signedRoundChange(3, 1, 1, &cert, &last),
	}}
	p.Signature = standInSignature(memberSecret(int(p.Proposer)), p.SigningBytes())
	return p
}

// Preparation in round r > 0: a member prepares only SafeValue of the
// justification, whatever the leader proposes.
func TestRoundChangeMemberPreparesOnlySafeValue(t *testing.T) {
	locked := sampleBlock(1, "locked")
	other := sampleBlock(1, "other")
	state := InitialState(testChain, 1)
	state.Round = 1

	d := newMemberDriver(t, state)
	if err := d.step(MessageReceived{Now: time.Second, From: 2, Msg: justifiedProposal(other, locked.Hash())}); err != nil {
		t.Fatal(err)
	}
	if votes := d.sentVotes(stagePrepare); len(votes) != 0 {
		t.Fatalf("prepared %v against the justification's safe value", votes[0].BlockHash)
	}

	d = newMemberDriver(t, state)
	if err := d.step(MessageReceived{Now: time.Second, From: 2, Msg: justifiedProposal(locked, locked.Hash())}); err != nil {
		t.Fatal(err)
	}
	if votes := d.sentVotes(stagePrepare); len(votes) != 1 || votes[0].BlockHash != locked.Hash() || votes[0].Round != 1 {
		t.Fatalf("prepares %+v, want one on the locked block in round 1", votes)
	}

	// A justification with a forged round change is refused.
	d = newMemberDriver(t, state)
	p := justifiedProposal(locked, locked.Hash())
	p.Justification[0].Signature[0] ^= 1
	p.Signature = standInSignature(memberSecret(2), p.SigningBytes())
	if err := d.step(MessageReceived{Now: time.Second, From: 2, Msg: p}); err != nil {
		t.Fatal(err)
	}
	if votes := d.sentVotes(stagePrepare); len(votes) != 0 {
		t.Fatal("prepared on a forged justification")
	}
}

// Confirmation: a member that missed the prepares locks and confirms on the
// prepare certificate a confirm carries, once it verified.
func TestConfirmCarriesTheCertificateToLockOn(t *testing.T) {
	b := sampleBlock(1, "b")
	d := newMemberDriver(t, InitialState(testChain, 1))
	cert := sampleCertificate(4, 3, 1, 0, types.VotePrepare, b.Hash())
	forged := cert
	forged.AggregateSignature[5] ^= 1
	if err := d.step(MessageReceived{Now: time.Second, From: 1, Msg: &Confirm{Vote: signedVote(1, 1, 0, types.VoteConfirm, b.Hash()), PrepareCertificate: forged}}); err != nil {
		t.Fatal(err)
	}
	if d.c.Status().Locked || len(d.sentVotes(stageConfirm)) != 0 {
		t.Fatal("locked on a forged certificate")
	}
	if err := d.step(MessageReceived{Now: time.Second, From: 2, Msg: &Confirm{Vote: signedVote(2, 1, 0, types.VoteConfirm, b.Hash()), PrepareCertificate: cert}}); err != nil {
		t.Fatal(err)
	}
	st := d.c.Status()
	if !st.Locked || st.LockValue != b.Hash() || st.Step != StepConfirmed {
		t.Fatalf("status %+v after a valid certificate", st)
	}
	if v := d.sentVotes(stageConfirm); len(v) != 1 || v[0].BlockHash != b.Hash() {
		t.Fatalf("confirms %+v", v)
	}
	if d.c.persistentState().Lock == nil {
		t.Fatal("the lock is not in the persistent state")
	}
}

// Catch-up: a Decision is adopted only once its certificate verified; a
// decision whose block is missing waits for it.
func TestDecisionIsAdoptedOnlyWithAValidCertificate(t *testing.T) {
	b := sampleBlock(1, "b")
	d := newMemberDriver(t, InitialState(testChain, 1))
	good := sampleCertificate(4, 3, 1, 2, types.VoteConfirm, b.Hash())
	bad := good
	bad.AggregateSignature[0] ^= 1
	if err := d.step(MessageReceived{Now: time.Second, From: 3, Msg: &Decision{Block: b, Certificate: bad}}); err != nil {
		t.Fatal(err)
	}
	if d.c.Status().Height != 1 {
		t.Fatal("adopted a decision with a forged certificate")
	}
	if err := d.step(MessageReceived{Now: time.Second, From: 3, Msg: &Decision{Block: b, Certificate: good}}); err != nil {
		t.Fatal(err)
	}
	if st := d.c.Status(); st.Height != 2 {
		t.Fatalf("did not adopt a valid decision: %+v", st)
	}
	var commits int
	for _, m := range d.sent {
		if dm, ok := m.(*Decision); ok && dm.Value() == b.Hash() {
			commits++
		}
	}
	if commits != 1 {
		t.Fatalf("broadcast %d decisions, want 1", commits)
	}
}

// A confirm quorum on a block the member never received: the decision is
// known but waits for the block, which a Decision message brings.
func TestDecisionWaitsForItsBlock(t *testing.T) {
	b := sampleBlock(1, "b")
	v := b.Hash()
	d := newMemberDriver(t, InitialState(testChain, 1))
	cert := sampleCertificate(4, 3, 1, 0, types.VotePrepare, v)
	for _, from := range []int{1, 2, 3} {
		msg := &Confirm{Vote: signedVote(from, 1, 0, types.VoteConfirm, v), PrepareCertificate: cert}
		if err := d.step(MessageReceived{Now: time.Second, From: types.ValidatorIndex(from), Msg: msg}); err != nil {
			t.Fatal(err)
		}
	}
	st := d.c.Status()
	if st.Height != 1 || !st.AwaitingBlock {
		t.Fatalf("status %+v, want a decision awaiting its block", st)
	}
	// The block arrives with another member's decision; the member commits
	// it on its own certificate's strength.
	if err := d.step(MessageReceived{Now: time.Second, From: 1, Msg: &Decision{Block: b, Certificate: sampleCertificate(4, 3, 1, 0, types.VoteConfirm, v)}}); err != nil {
		t.Fatal(err)
	}
	if st := d.c.Status(); st.Height != 2 {
		t.Fatalf("status %+v after the block arrived", st)
	}
}
