package sim

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// The checkers must catch what they are there for: each test below breaks
// one property on purpose and expects the run to fail for that reason.

func newTestCluster(t *testing.T, cfg ConsensusConfig) *ConsensusCluster {
	t.Helper()
	cl, err := NewConsensusCluster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func requireViolation(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrCheckFailed) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want a check failure about %q", err, want)
	}
}

// Two different values committed at one height break agreement.
func TestCheckerCatchesDisagreement(t *testing.T) {
	cl := newTestCluster(t, DefaultConsensusConfig(4))
	if err := cl.RunUntilHeight(3, time.Minute); err != nil {
		t.Fatal(err)
	}
	d := cl.Committed(0)[1]
	other := d
	other.Block, other.Certificate.BlockHash = nil, types.Hash{}
	cl.obs.onCommit(cl.members[1], &other)
	requireViolation(t, cl.Violations(), "agreement violated at height 2")
}

// A member the checker takes for honest that signs two prepares in one
// round is caught, as is the evidence honest members then hold against
// it.
func TestCheckerCatchesHonestDoubleVote(t *testing.T) {
	cfg := DefaultConsensusConfig(4)
	cfg.Byzantine = []ByzantineMember{{Member: 2, Kind: ByzantineEquivocatingVoter}}
	cl := newTestCluster(t, cfg)
	cl.obs.byzantine[2], cl.obs.equivocating[2] = false, false
	// The world runs on past the first violation, so that the others'
	// evidence comes in too.
	if err := cl.world.Run(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	err := cl.Violations()
	requireViolation(t, err, "honest member 2 signed two votes")
	if !strings.Contains(err.Error(), "against honest member 2") {
		t.Fatalf("the evidence against member 2 was not flagged: %v", err)
	}
	report := FailureReport("./node/sim", "TestConsensusSwarm/n=4", 7, err)
	if !strings.Contains(report, "replay: go test ./node/sim -run '^TestConsensusSwarm/n=4$' -seed 7") {
		t.Fatalf("report lacks the replay command:\n%s", report)
	}
}

// An equivocation an honest member witnessed must be reported: with the
// evidence taken away, the end-of-run check fails.
func TestCheckerRequiresEvidenceForWitnessedEquivocation(t *testing.T) {
	for _, kind := range []ByzantineKind{ByzantineEquivocatingLeader, ByzantineEquivocatingVoter} {
		cfg := DefaultConsensusConfig(4)
		cfg.Byzantine = []ByzantineMember{{Member: 1, Kind: kind}}
		cl := newTestCluster(t, cfg)
		if err := cl.RunUntilHeight(8, time.Minute); err != nil {
			t.Fatal(err)
		}
		if len(cl.obs.evidence) == 0 {
			t.Fatalf("%v: no evidence in 8 heights", kind)
		}
		cl.obs.checkWitnessedEquivocations()
		if err := cl.Violations(); err != nil {
			t.Fatalf("%v: reported equivocations flagged: %v", kind, err)
		}
		clear(cl.obs.evidence)
		cl.obs.checkWitnessedEquivocations()
		requireViolation(t, cl.Violations(), "no honest member reported evidence")
	}
}

// A commit of a block no leader proposed, or one the application rejects,
// breaks validity.
func TestCheckerCatchesInvalidDecision(t *testing.T) {
	cl := newTestCluster(t, DefaultConsensusConfig(4))
	if err := cl.RunUntilHeight(2, time.Minute); err != nil {
		t.Fatal(err)
	}
	d := cl.Committed(0)[1]
	forged := *d.Block.Clone()
	forged.Body[0] ^= 1             // the InputRoot no longer matches
	forged.Header.TimestampMillis++ // another header: a value never proposed
	bad := consensus.Decision{Block: &forged, Certificate: d.Certificate}
	bad.Certificate.BlockHash = forged.Hash()
	cl.obs.decided = map[types.Height]decidedHeight{} // judge validity alone
	cl.obs.onCommit(cl.members[0], &bad)
	err := cl.Violations()
	for _, want := range []string{"no leader proposed", "fails the application's validity check", "does not verify"} {
		requireViolation(t, err, want)
	}
}

// With f+1 members down for good the committee cannot decide, and the
// liveness check says so.
func TestCheckerCatchesLostLiveness(t *testing.T) {
	cfg := DefaultConsensusConfig(4)
	cfg.Faults = FaultPlan{Kinds: FaultKinds(0).With(FaultCrash), HealBy: 2 * time.Second, Faults: []Fault{
		{At: time.Second, Action: ActionCrash, Node: 0},
		{At: time.Second, Action: ActionCrash, Node: 1},
	}}
	cl := newTestCluster(t, cfg)
	err := cl.run(ConsensusTargets{LivenessHeights: 1})
	if !errors.Is(err, ErrNoLiveness) {
		t.Fatalf("run with two of four members down: %v, want ErrNoLiveness", err)
	}
}

// A restarted member's core is rebuilt from its persisted bytes alone: it
// resumes at the height and round it persisted.
func TestMemberRestartsFromPersistedBytes(t *testing.T) {
	cfg := DefaultConsensusConfig(4)
	cl := newTestCluster(t, cfg)
	if err := cl.RunUntilHeight(3, time.Minute); err != nil {
		t.Fatal(err)
	}
	m := cl.members[2]
	state, err := consensus.DecodePersistentState(m.disk)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.world.Crash(m.id); err != nil {
		t.Fatal(err)
	}
	if err := cl.world.Run(cl.world.Now()); err != nil {
		t.Fatal(err)
	}
	if m.core != nil {
		t.Fatal("the core survived the crash")
	}
	if err := cl.world.Restart(m.id); err != nil {
		t.Fatal(err)
	}
	if err := cl.world.Run(cl.world.Now()); err != nil {
		t.Fatal(err)
	}
	st, ok := cl.Status(2)
	if !ok || st.Height < state.Height {
		t.Fatalf("restarted at %+v (up %v), persisted height %d", st, ok, state.Height)
	}
	if err := cl.RunUntilHeight(state.Height+2, cl.world.Now()+time.Minute); err != nil {
		t.Fatal(err)
	}
}

// bisectionChecks counts the pairing checks of crypto/bls's bisection.
func TestBisectionChecks(t *testing.T) {
	tests := []struct {
		k       int
		invalid []int
		want    int
	}{
		{0, nil, 0},
		{1, nil, 1},
		{400, nil, 1},
		{1, []int{0}, 1},
		{2, []int{1}, 2},    // all, left passes, right known bad
		{2, []int{0}, 3},    // all, left (single, bad), right
		{4, []int{3}, 3},    // all, [0,2) passes, [2,4) known bad: [2] passes, [3] known bad
		{4, []int{0, 3}, 6}, // all, [0,2) bad: [0] bad, [1] passes; [2,4) bad: [2] passes, [3] known bad
	}
	for _, tc := range tests {
		if got := bisectionChecks(tc.k, tc.invalid); got != tc.want {
			t.Errorf("bisectionChecks(%d, %v) = %d, want %d", tc.k, tc.invalid, got, tc.want)
		}
	}
}

// syncFuzzCluster is a committee that has decided a few heights, with
// member 3 cut off since the start, so that it lacks them all.
func syncFuzzCluster(t testing.TB) *ConsensusCluster {
	t.Helper()
	cfg := DefaultConsensusConfig(4)
	cfg.CheckInvariants = true
	cfg.Faults = FaultPlan{Kinds: FaultKinds(0).With(FaultCrash), HealBy: time.Hour, Faults: []Fault{{Action: ActionCrash, Node: 3}}}
	cl, err := NewConsensusCluster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.world.Run(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	return cl
}

// syncResponse encodes decisions as a sync response.
func syncResponse(t testing.TB, decisions []consensus.Decision) []byte {
	t.Helper()
	out := binary.BigEndian.AppendUint32([]byte{syncResponseTag}, uint32(len(decisions)))
	for i := range decisions {
		enc, err := decisions[i].AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(enc)))
		out = append(out, enc...)
	}
	return out
}

// Sync messages come from the network: any bytes, as a request or a
// response, must leave the member sound: no panic, no violation, and
// nothing committed that the others did not decide.
func FuzzSyncMessages(f *testing.F) {
	cl := syncFuzzCluster(f)
	decided := cl.Committed(0)
	f.Add(binary.BigEndian.AppendUint64([]byte{syncRequestTag}, 1))
	f.Add(syncResponse(f, decided[:2]))
	f.Add(syncResponse(f, decided[1:3]))
	f.Add([]byte{syncResponseTag, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, payload []byte) {
		cl := syncFuzzCluster(t)
		if err := cl.world.Restart(3); err != nil {
			t.Fatal(err)
		}
		if err := cl.world.Run(cl.world.Now()); err != nil {
			t.Fatal(err)
		}
		m := cl.members[3]
		m.enter(cl.world.Now())
		before := len(m.chain)
		m.onSyncRequest(1, payload)
		m.onSyncResponse(1, payload)
		if err := cl.Violations(); err != nil {
			t.Fatal(err)
		}
		want := cl.Committed(0)
		for i := before; i < len(m.chain); i++ {
			if m.chain[i].Value() != want[i].Value() {
				t.Fatalf("height %d: synced %v, decided %v", i+1, m.chain[i].Value(), want[i].Value())
			}
		}
	})
}

// A valid sync response brings a member that lacks heights up to date.
func TestSyncResponseCatchesUp(t *testing.T) {
	cl := syncFuzzCluster(t)
	decided := cl.Committed(0)
	if len(decided) < 3 {
		t.Fatalf("only %d heights decided", len(decided))
	}
	if err := cl.world.Restart(3); err != nil {
		t.Fatal(err)
	}
	if err := cl.world.Run(cl.world.Now()); err != nil {
		t.Fatal(err)
	}
	m := cl.members[3]
	m.enter(cl.world.Now())
	m.onSyncResponse(1, syncResponse(t, decided[:3]))
	if got := len(m.chain); got != 3 {
		t.Fatalf("member 3 committed %d heights from a response of 3", got)
	}
	if err := cl.Violations(); err != nil {
		t.Fatal(err)
	}
}
