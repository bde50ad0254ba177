package consensus

import (
	"slices"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/types"
	"pgregory.net/rapid"
)

// TestPropertyAgreementUnderRandomSchedules runs four honest members (one of
// them optionally silent throughout) under a schedule rapid draws: which
// block request, verification or message goes next, message drops and
// duplicates, timers firing, crashes and restarts from the persisted state.
// The harness fails the run on two different commits at one height, on a
// commit whose certificate does not verify, on an honest double vote, and
// on a broken core invariant. After the random phase the network heals;
// every member but the silent one is up, and all of them must then decide
// (liveness after stabilisation).
func TestPropertyAgreementUnderRandomSchedules(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		const n = 4
		cl := newCluster(rt, n)
		cl.lastHeight = 3
		silent := rapid.IntRange(-1, n-1).Draw(rt, "silent")
		if silent >= 0 {
			cl.crash(silent)
		}
		// Some directed links are down, in patterns that change now and
		// then, so that decisions, certificates and locks spread
		// unevenly.
		cut := make([]bool, n*n)
		drawCuts := func() {
			for i := range cut {
				cut[i] = rapid.IntRange(0, 3).Draw(rt, "link-down") == 0
			}
		}
		drawCuts()
		cl.start()
		steps := rapid.IntRange(0, 1000).Draw(rt, "steps")
		for range steps {
			action := rapid.IntRange(0, 11).Draw(rt, "action")
			switch {
			case action == 11:
				drawCuts()
			case action <= 1 && len(cl.proposals) > 0:
				i := rapid.IntRange(0, len(cl.proposals)-1).Draw(rt, "proposal")
				p := cl.proposals[i]
				cl.proposals = slices.Delete(cl.proposals, i, i+1)
				if p.req.Height <= cl.lastHeight {
					_ = cl.stepNode(p.node, ProposalReady{Now: cl.now, Height: p.req.Height, Round: p.req.Round, Block: cl.defaultBlock(p.node, p.req)})
				}
			case action <= 3 && len(cl.verifies) > 0:
				i := rapid.IntRange(0, len(cl.verifies)-1).Draw(rt, "verify")
				v := cl.verifies[i]
				cl.verifies = slices.Delete(cl.verifies, i, i+1)
				res := cl.verifier.answer(v.req, cl.blockValid)
				res.Now = cl.now
				_ = cl.stepNode(v.node, res)
			case action <= 6 && len(cl.network) > 0:
				i := rapid.IntRange(0, len(cl.network)-1).Draw(rt, "packet")
				p := cl.network[i]
				fate := rapid.IntRange(0, 5).Draw(rt, "fate")
				if cut[int(p.from)*n+int(p.to)] {
					fate = 0
				}
				switch fate {
				case 0: // lost
					cl.network = slices.Delete(cl.network, i, i+1)
				case 1: // duplicated: delivered now and again later
					cl.deliver(p)
				default:
					cl.network = slices.Delete(cl.network, i, i+1)
					cl.deliver(p)
				}
			case action == 7 || action == 10:
				cl.dropStaleTimers()
				if i := cl.nextTimer(1 << 62); i >= 0 {
					at := cl.timers[i]
					cl.timers = slices.Delete(cl.timers, i, i+1)
					if at.setting.Deadline > cl.now {
						cl.now = at.setting.Deadline
					}
					_ = cl.stepNode(at.node, TimerFired{Now: cl.now, Timer: at.setting.Timer})
				}
			case action == 8:
				i := rapid.IntRange(0, n-1).Draw(rt, "crash")
				if i != silent && !cl.crashed[i] {
					cl.crash(i)
				}
			case action == 9:
				for i := range n {
					if i != silent && cl.crashed[i] {
						cl.restart(i)
					}
				}
			}
		}
		// Heal: restart crashed members, deliver everything, let timers run.
		for i := range n {
			if i != silent && cl.crashed[i] {
				cl.restart(i)
			}
		}
		live := allMembers(n)
		if silent >= 0 {
			live = without(live, silent)
		}
		for range 100 {
			cl.advance(30 * time.Second)
			cl.syncLaggards()
			done := true
			for _, i := range live {
				if len(cl.commits[i]) == 0 {
					done = false
				}
			}
			if done {
				break
			}
		}
		// Liveness, with or without a silent member: the three or four
		// live members must all decide. With one silent, one member alone
		// a round ahead (fewer than f+1, so the skip rule does not pull
		// the others) used to leave every round before the others reached
		// it; rule 6 makes it wait in its round for a quorum of round
		// changes (TestRule6MemberAheadWaitsForQuorumOfRoundChanges).
		cl.requireCommitted(1, live)
	})
}

// TestPropertySafeValueOneValueReachesReportThreshold checks SafeValue's
// rules on arbitrary justifications of q round changes, and the counting
// fact behind rule 2: with q reports at most one value reaches t.
func TestPropertySafeValueOneValueReachesReportThreshold(t *testing.T) {
	values := []types.Hash{{}, {1}, {2}, {3}}
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 40).Draw(rt, "n")
		th := ThresholdsFor(n)
		const round = 9
		just := make([]RoundChange, th.Quorum)
		for i := range just {
			rc := RoundChange{ChainID: testChain, Height: 1, Round: round, Sender: types.ValidatorIndex(i)}
			if rapid.Bool().Draw(rt, "has-cert") {
				v := values[rapid.IntRange(0, len(values)-1).Draw(rt, "cert-value")]
				rc.HighestCertificate = &types.Certificate{Round: types.Round(rapid.IntRange(0, round-1).Draw(rt, "cert-round")), Kind: prepareKindFor(v), BlockHash: v}
			}
			if rapid.Bool().Draw(rt, "has-last") {
				v := values[rapid.IntRange(0, len(values)-1).Draw(rt, "last-value")]
				rc.LastPrepare = &types.Vote{Round: types.Round(rapid.IntRange(0, round-1).Draw(rt, "last-round")), Kind: prepareKindFor(v), BlockHash: v}
			}
			just[i] = rc
		}
		rcRound := int64(-1)
		var highest *types.Certificate
		for i := range just {
			if c := just[i].HighestCertificate; c != nil && int64(c.Round) > rcRound {
				rcRound, highest = int64(c.Round), c
			}
		}
		reaching := 0
		var reached types.Hash
		for _, v := range values {
			count := 0
			for i := range just {
				if lp := just[i].LastPrepare; lp != nil && int64(lp.Round) > rcRound && lp.BlockHash == v {
					count++
				}
			}
			if count >= th.Report {
				reaching++
				reached = v
			}
		}
		if reaching > 1 {
			rt.Fatalf("%d values reach t=%d among q=%d reports", reaching, th.Report, th.Quorum)
		}
		got := SafeValue(just, th.Quorum)
		switch {
		case reaching == 1:
			if got.Rule != SafeByReports || got.Value != reached {
				rt.Fatalf("got %+v, want rule 2 on %v", got, reached)
			}
		case highest != nil:
			if got.Rule != SafeByCertificate || got.Value != highest.BlockHash {
				rt.Fatalf("got %+v, want rule 3 on %v", got, highest.BlockHash)
			}
		default:
			if got.Rule != SafeFree {
				rt.Fatalf("got %+v, want free", got)
			}
		}
	})
}
