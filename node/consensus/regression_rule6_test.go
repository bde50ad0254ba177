package consensus

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// docs/CONSENSUS.md, step 5 and rule 6 ("round timers wait for a quorum"),
// the reported stuck case: n = 4 with member 3 silent, and member 0 a round
// ahead of members 1 and 2 by more than that round's length. Under the old
// timer rule member 0 left every round before the other two reached it, so
// the three shared no round until the timeouts had grown past the offset,
// one TimeoutIncrement per round: virtual hours (the property test found
// such runs). Under rule 6 member 0 waits in its round, re-sending its round
// change, until q round changes for it are held, and the height is decided
// within one round timeout plus one proposal timeout of the laggards coming
// up.
func TestRule6MemberAheadWaitsForQuorumOfRoundChanges(t *testing.T) {
	const (
		n      = 4
		silent = 3
		ahead  = 0
		behind = types.Round(60) // the laggards' round; member 0 is at behind+1
	)
	cl := newCluster(t, n)
	cfg := cl.cfgs[0]
	cl.lastHeight = 1
	cl.persisted[ahead] = PersistentState{ChainID: testChain, Height: 1, Round: behind + 1}
	for _, i := range []int{1, 2} {
		cl.persisted[i] = PersistentState{ChainID: testChain, Height: 1, Round: behind}
	}
	for i := range n {
		cl.crash(i)
	}
	cl.restart(ahead)
	if st := cl.cores[ahead].Status(); !st.AwaitingQuorum {
		t.Fatalf("member %d armed the timers of round %d alone: %+v", ahead, st.Round, st)
	}
	// The laggards come up just before member 0's proposal timeout of its
	// round would have fired under the old rule.
	offset := cfg.ProposalTimeout + time.Duration(behind+1)*cfg.TimeoutIncrement - 100*time.Millisecond
	cl.advance(offset)
	cl.restart(1)
	cl.restart(2)
	start := cl.now

	roundTimeout := func(r types.Round) time.Duration { return cfg.RoundTimeout + time.Duration(r)*cfg.TimeoutIncrement }
	proposalTimeout := func(r types.Round) time.Duration {
		return cfg.ProposalTimeout + time.Duration(r)*cfg.TimeoutIncrement
	}
	// The laggards wait at most one round timeout of member 0's round for
	// its re-sent round change (then they hold three round changes for
	// round 60 or later and arm their timers), then one proposal timeout of
	// round 60, and move to round 61, whose leader (member 2 at height 1)
	// then holds a justification and proposes at once.
	bound := roundTimeout(behind+1) + proposalTimeout(behind)
	live := []int{0, 1, 2}
	for cl.now-start <= bound && !committedAll(cl, 1, live) {
		cl.advance(time.Second)
	}
	if !committedAll(cl, 1, live) {
		cl.requireCommitted(1, live) // fails, printing the cluster's state
	}
	if took := cl.now - start; took > bound {
		t.Fatalf("decided %v after the laggards came up, bound %v", took, bound)
	}
	resent := 0
	for _, l := range cl.log {
		if strings.HasSuffix(l, "0 -> all: round-change h1 r61") {
			resent++
		}
	}
	if resent < 2 {
		t.Fatalf("member 0 sent its round change for round 61 %d times, want it re-sent while waiting:\n%s", resent, cl.tail(20))
	}
	if d := cl.commits[ahead][0]; d.Certificate.Round != behind+1 {
		t.Fatalf("decided in round %d, want %d (the first round all three shared)", d.Certificate.Round, behind+1)
	}
	if len(cl.commits[silent]) != 0 {
		t.Fatal("the silent member committed")
	}
}

// committedAll reports whether every member of members committed height h.
func committedAll(cl *cluster, h types.Height, members []int) bool {
	for _, i := range members {
		found := false
		for _, d := range cl.commits[i] {
			found = found || d.Height() == h
		}
		if !found {
			return false
		}
	}
	return true
}

// Rule 6 in one member: a round above 0 entered alone arms no timer but
// the resend timer, which re-sends the same round change; the timers are
// armed when the q-th round change for the round (or a later one) arrives.
func TestRule6TimersArmedOnQuorumOfRoundChanges(t *testing.T) {
	cl := newCluster(t, 4)
	cl.lastHeight = 0
	cl.persisted[0] = PersistentState{ChainID: testChain, Height: 1, Round: 3}
	cl.crash(0)
	cl.restart(0)
	c := cl.cores[0]
	kinds := func() []TimerKind {
		var out []TimerKind
		for _, at := range cl.timers {
			if at.node == 0 {
				out = append(out, at.setting.Timer.Kind)
			}
		}
		return out
	}
	if got := kinds(); len(got) != 1 || got[0] != TimerResendRoundChange {
		t.Fatalf("timers after entering round 3 alone: %v, want only the resend timer", got)
	}
	// The resend timer fires: the same round change goes out again.
	cl.advance(cl.cfgs[0].RoundTimeout + 3*cl.cfgs[0].TimeoutIncrement)
	if !c.Status().AwaitingQuorum {
		t.Fatal("timers armed without a quorum")
	}
	sent := 0
	for _, l := range cl.log {
		if strings.HasSuffix(l, "0 -> all: round-change h1 r3") {
			sent++
		}
	}
	if sent != 2 {
		t.Fatalf("round change for round 3 sent %d times after one resend timeout, want 2:\n%s", sent, cl.tail(10))
	}
	// A second and a third round change (one for a later round) make q.
	if err := cl.stepNode(0, MessageReceived{Now: cl.now, From: 1, Msg: signedRoundChange(1, 1, 3, nil, nil)}); err != nil {
		t.Fatal(err)
	}
	if !c.Status().AwaitingQuorum {
		t.Fatal("timers armed with two round changes of four members")
	}
	if err := cl.stepNode(0, MessageReceived{Now: cl.now, From: 2, Msg: signedRoundChange(2, 1, 4, nil, nil)}); err != nil {
		t.Fatal(err)
	}
	if c.Status().AwaitingQuorum {
		t.Fatal("timers not armed with three round changes for round 3 or later")
	}
	// A resend timer that fires after the timers were armed is stale.
	err := c.Step(TimerFired{Now: cl.now, Timer: Timer{Kind: TimerResendRoundChange, Height: 1, Round: 3}})
	if !errors.Is(err, ErrStale) {
		t.Fatalf("resend timer after arming: %v, want stale", err)
	}
}

// With rule 6 a member still at the previous height re-sends the same round
// change while it waits for a quorum; the members ahead must answer it
// again with the decision it missed, or lost answers leave it there for
// good. Here n = 4 with member 3 silent: members 0 and 1 decide height 1
// with member 2, which loses the decision and the answers to its first
// round change, and they cannot decide height 2 without it.
func TestLaggardIsAnsweredAgainWhenItResendsItsRoundChange(t *testing.T) {
	cl := newCluster(t, 4)
	cl.lastHeight = 2
	cl.crash(3)
	lost := 0
	cl.drop = func(p packet) bool {
		// Member 2 loses both broadcasts of the decision of height 1
		// and both answers to its first round change.
		if d, ok := p.msg.(*Decision); ok && p.to == 2 && d.Height() == 1 && lost < 4 {
			lost++
			return true
		}
		return false
	}
	// Member 2 misses the confirms of height 1, so it can only learn the
	// decision from a Decision message.
	confirmsLost := true
	drop := cl.drop
	cl.drop = func(p packet) bool {
		if confirmsLost && p.to == 2 && p.msg.Kind() == KindConfirm {
			return true
		}
		return drop(p)
	}
	cl.start()
	cl.settle()
	cl.requireCommitted(1, []int{0, 1})
	if len(cl.commits[2]) != 0 {
		t.Fatal("member 2 decided height 1 without the decision")
	}
	confirmsLost = false
	for range 60 {
		cl.advance(time.Second)
		if committedAll(cl, 2, []int{0, 1, 2}) {
			break
		}
	}
	cl.requireCommitted(1, []int{0, 1, 2})
	cl.requireCommitted(2, []int{0, 1, 2})
}
