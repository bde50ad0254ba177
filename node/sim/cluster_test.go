package sim_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/sim"
	"github.com/thinkey/thinkey/node/types"
)

// The consensus sweeps: node/consensus cores on the simulator, over many
// seeds, each with a random set of Byzantine members (0 to f) and a swarm
// of faults within the threshold, checked for agreement, validity,
// evidence and honest double votes throughout, and for liveness after the
// faults heal. A failing seed prints its replay command; -seed N replays
// one seed, -simtrace logs its events.

// soakFlag turns on TestConsensusSoak; THINKEY_SOAK=1 does the same.
var soakFlag = flag.Bool("soak", false, "run the consensus soak sweep (thousands of seeds; also THINKEY_SOAK=1)")

func soaking() bool { return *soakFlag || os.Getenv("THINKEY_SOAK") == "1" }

const (
	// sweepHealBy is when every fault of a sweep seed is over: the safety
	// phase, with episodes from 0.6 s to 7.5 s.
	sweepHealBy = 30 * time.Second
	// blsHealBy is the shorter safety phase of the BLS seeds, whose
	// signatures cost real CPU.
	blsHealBy = 10 * time.Second
	// sweepLivenessHeights is how many heights beyond the highest one
	// decided at HealBy every honest member must then commit.
	sweepLivenessHeights = 3
	// sweepBlockInterval paces block production so that a seed decides
	// tens of heights, not hundreds, during its safety phase.
	sweepBlockInterval = 400 * time.Millisecond
)

// sweepConfig is the configuration of one sweep seed.
func sweepConfig(t *testing.T, seed uint64, n int, scheme sim.SignatureScheme) sim.ConsensusConfig {
	t.Helper()
	healBy := sweepHealBy
	if scheme == sim.SchemeBLS {
		healBy = blsHealBy
	}
	cfg, err := sim.SwarmConsensusConfig(seed, n, healBy)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	cfg.Scheme = scheme
	cfg.BlockInterval = sweepBlockInterval
	if replaying() && *traceFlag {
		cfg.Trace = testLogWriter{t}
	}
	return cfg
}

// cliReplay is the `thinkey sim` command that runs the same seed as a
// sweep, with the same trace hash.
func cliReplay(seed uint64, n int, scheme sim.SignatureScheme, healBy time.Duration) string {
	return fmt.Sprintf("thinkey sim --seed %d --members %d --signer %v --faults swarm --byzantine random --heal-by %v --block-interval %v --liveness-heights %d --heights 1",
		seed, n, scheme, healBy, sweepBlockInterval, sweepLivenessHeights)
}

// sweepTotals sums what a sweep exercised, so that it can show it tested
// something.
type sweepTotals struct {
	seeds, heights, empty, evidence, crashes int
	byzantine                                map[sim.ByzantineKind]int
	faults                                   sim.FaultKinds
}

// runSweep runs seeds 1..count (or the -seed replay) of a committee of n.
func runSweep(t *testing.T, n, count int, scheme sim.SignatureScheme) sweepTotals {
	t.Helper()
	totals := sweepTotals{byzantine: map[sim.ByzantineKind]int{}}
	for _, seed := range seedFlag.Seeds(count) {
		cfg := sweepConfig(t, seed, n, scheme)
		rep, err := sim.RunConsensus(cfg, sim.ConsensusTargets{LivenessHeights: sweepLivenessHeights})
		if err != nil {
			t.Errorf("%s\nor:     %s\nByzantine: %v\n%v", sim.FailureReport(packagePath, t.Name(), seed, err),
				cliReplay(seed, n, scheme, cfg.Faults.HealBy), cfg.Byzantine, cfg.Faults)
			continue
		}
		totals.seeds++
		totals.heights += int(rep.Heights)
		totals.empty += rep.EmptyBlocks
		totals.evidence += rep.Evidence
		totals.faults |= cfg.Faults.Kinds
		for _, b := range cfg.Byzantine {
			totals.byzantine[b.Kind]++
		}
		for _, f := range cfg.Faults.Faults {
			if f.Action == sim.ActionCrash {
				totals.crashes++
			}
		}
	}
	return totals
}

// requireExercised fails a full sweep that did not meet every Byzantine
// kind and fault kind, crashes, EMPTY decisions and evidence.
func requireExercised(t *testing.T, totals sweepTotals) {
	t.Helper()
	if replaying() {
		return
	}
	var missing []string
	for _, k := range sim.AllByzantineKinds() {
		if totals.byzantine[k] == 0 {
			missing = append(missing, "Byzantine "+k.String())
		}
	}
	if totals.faults != sim.AllFaultKinds {
		missing = append(missing, "fault kinds (only "+totals.faults.String()+")")
	}
	if totals.crashes == 0 || totals.empty == 0 || totals.evidence == 0 {
		missing = append(missing, fmt.Sprintf("crashes (%d), EMPTY decisions (%d) or evidence (%d)", totals.crashes, totals.empty, totals.evidence))
	}
	if len(missing) > 0 {
		t.Errorf("the sweep of %d seeds never met: %s", totals.seeds, strings.Join(missing, "; "))
	}
}

// sweepSizes is the fast set of `go test`: hundreds of seeds in all, most
// of them on small committees, where one seed is cheap.
var sweepSizes = []struct{ n, seeds int }{{4, 140}, {7, 50}, {16, 10}, {31, 3}}

// TestConsensusSwarm is the fast sweep over n in {4, 7, 16, 31} with the
// stand-in signer. Replay a failure with the printed command, e.g.
// go test ./node/sim -run '^TestConsensusSwarm/n=4$' -seed 17.
func TestConsensusSwarm(t *testing.T) {
	for _, size := range sweepSizes {
		t.Run(fmt.Sprintf("n=%d", size.n), func(t *testing.T) {
			t.Parallel()
			totals := runSweep(t, size.n, size.seeds, sim.SchemeStandIn)
			if size.n <= 7 {
				requireExercised(t, totals)
			}
			t.Logf("%d seeds: %d heights (%d EMPTY), %d evidence, %d crashes, Byzantine %v",
				totals.seeds, totals.heights, totals.empty, totals.evidence, totals.crashes, totals.byzantine)
		})
	}
}

// TestConsensusSwarmBLS runs a handful of n = 4 seeds with real BLS
// signatures, batch verification and aggregate certificates.
func TestConsensusSwarmBLS(t *testing.T) {
	totals := runSweep(t, 4, 6, sim.SchemeBLS)
	if !replaying() && totals.heights == 0 {
		t.Fatal("no height decided with BLS")
	}
}

// TestConsensusSoak is the long sweep of `make soak`: thousands of seeds.
// It runs only with -soak or THINKEY_SOAK=1.
func TestConsensusSoak(t *testing.T) {
	if !soaking() && !replaying() {
		t.Skip("the consensus soak runs only with -soak or THINKEY_SOAK=1 (make soak)")
	}
	sizes := []struct {
		n, seeds int
		scheme   sim.SignatureScheme
	}{{4, 3000, sim.SchemeStandIn}, {7, 2000, sim.SchemeStandIn}, {16, 500, sim.SchemeStandIn}, {31, 200, sim.SchemeStandIn}, {4, 100, sim.SchemeBLS}}
	for _, size := range sizes {
		t.Run(fmt.Sprintf("n=%d/%v", size.n, size.scheme), func(t *testing.T) {
			totals := runSweep(t, size.n, size.seeds, size.scheme)
			requireExercised(t, totals)
			t.Logf("%d seeds: %d heights (%d EMPTY), %d evidence, %d crashes, Byzantine %v",
				totals.seeds, totals.heights, totals.empty, totals.evidence, totals.crashes, totals.byzantine)
		})
	}
}

// One seed run twice gives the same trace hash and report; another seed
// gives another trace.
func TestConsensusDeterminism(t *testing.T) {
	run := func(seed uint64) sim.ConsensusReport {
		cfg := sweepConfig(t, seed, 7, sim.SchemeStandIn)
		rep, err := sim.RunConsensus(cfg, sim.ConsensusTargets{LivenessHeights: sweepLivenessHeights})
		if err != nil {
			t.Fatalf("%s", sim.FailureReport(packagePath, "TestConsensusSwarm/n=7", seed, err))
		}
		return rep
	}
	const seed = 5
	first, second := run(seed), run(seed)
	if first.TraceHash != second.TraceHash {
		t.Fatalf("%s", sim.FailureReport(packagePath, t.Name(), seed,
			fmt.Errorf("not reproducible: trace %v then %v", first.TraceHash, second.TraceHash)))
	}
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("seed %d: reports differ:\n%+v\n%+v", seed, first, second)
	}
	if other := run(seed + 1); other.TraceHash == first.TraceHash {
		t.Fatalf("seeds %d and %d have the same trace", seed, seed+1)
	}
}

// decidedValues returns the values member 0.. of the first honest member
// committed, as short strings, and the decision rounds.
func decidedValues(cl *sim.ConsensusCluster) []string {
	for i := range cl.Config().Members {
		if !cl.Honest(types.ValidatorIndex(i)) {
			continue
		}
		var out []string
		for _, d := range cl.Committed(types.ValidatorIndex(i)) {
			out = append(out, fmt.Sprintf("h%d r%d %v", d.Height(), d.Certificate.Round, d.Value()))
		}
		return out
	}
	return nil
}

// The stand-in and real BLS agree on every verdict of a run with
// equivocating and invalid-proposal members, loss, duplication and a
// partition: with equal message sizes and the same virtual CPU costs,
// the two runs take the same path, deciding the same values in the same
// rounds with the same evidence. (Only the signature bytes, and with them
// the trace hash, differ.)
func TestConsensusStandInAndBLSTakeTheSamePath(t *testing.T) {
	run := func(scheme sim.SignatureScheme) (*sim.ConsensusCluster, sim.ConsensusReport) {
		cfg := sim.DefaultConsensusConfig(4)
		cfg.Seed, cfg.Scheme = 11, scheme
		cfg.Byzantine = []sim.ByzantineMember{{Member: 2, Kind: sim.ByzantineEquivocatingVoter}}
		plan, err := sim.ConsensusFaultPlan(cfg.Seed, 4, 1, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		plan.Kinds = plan.Kinds.With(sim.FaultLoss).With(sim.FaultDuplication).With(sim.FaultPartition)
		plan.LossProbability, plan.DuplicateProbability = 0.05, 0.05
		plan.Faults = append(plan.Faults,
			sim.Fault{At: 3 * time.Second, Action: sim.ActionPartition, Groups: [][]sim.NodeID{{0, 1}, {2, 3}}},
			sim.Fault{At: 6 * time.Second, Action: sim.ActionHeal})
		cfg.Faults = plan
		cl, err := sim.NewConsensusCluster(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.RunUntilHeight(12, time.Minute); err != nil {
			t.Fatalf("%v: %v", scheme, err)
		}
		return cl, cl.Report()
	}
	standIn, a := run(sim.SchemeStandIn)
	bls, b := run(sim.SchemeBLS)
	if va, vb := decidedValues(standIn), decidedValues(bls); !slices.Equal(va, vb) {
		t.Fatalf("decisions differ:\nstand-in %v\nBLS      %v", va, vb)
	}
	if a.Evidence != b.Evidence || a.Messages != b.Messages || a.Work != b.Work || a.VirtualTime != b.VirtualTime {
		t.Fatalf("runs differ:\nstand-in %+v\nBLS      %+v", a, b)
	}
	if a.Evidence == 0 {
		t.Fatal("the equivocating voter was never caught: the comparison covered no evidence")
	}
}

// On a clean network every height is decided in round 0 with a block, and
// each member's signature work per block stays within about three
// aggregate checks (the proposal, the prepare and the confirm batch) plus
// a per-member cost (the signatures inside those batches).
func TestConsensusCleanNetworkSignatureBudget(t *testing.T) {
	for _, n := range []int{4, 16} {
		cfg := sim.DefaultConsensusConfig(n)
		cfg.Seed = 3
		cfg.Network.Jitter = 0 // votes arrive together: the fast path may not pre-empt the confirm batch
		const heights = 10
		rep, err := sim.RunConsensus(cfg, sim.ConsensusTargets{Heights: heights})
		if err != nil {
			t.Fatal(err)
		}
		if rep.EmptyBlocks != 0 || rep.MaxRound != 0 || rep.Evidence != 0 {
			t.Fatalf("n=%d: clean run: %d EMPTY, max round %d, %d evidence", n, rep.EmptyBlocks, rep.MaxRound, rep.Evidence)
		}
		perMemberBlock := float64(rep.Heights) * float64(n)
		checks := float64(rep.Work.AggregateChecks) / perMemberBlock
		sigs := float64(rep.Work.SignaturesVerified) / perMemberBlock
		q := float64(consensus.ThresholdsFor(n).Quorum)
		if checks > 3.5 {
			t.Errorf("n=%d: %.2f aggregate checks per block per member, want about 3", n, checks)
		}
		// Per member: the proposal's signature, and at most every other
		// member's prepare and confirm.
		if sigs > 1+2*(float64(n)-1) || sigs < q-1 {
			t.Errorf("n=%d: %.1f signatures verified per block per member (q = %v)", n, sigs, q)
		}
		t.Logf("n=%d: %.2f aggregate checks and %.1f signatures per block per member", n, checks, sigs)
	}
}

// A member down for many heights catches up on restart: the others answer
// its sync requests with the decisions it missed, and it then decides
// along with them.
func TestConsensusBlockSyncAfterLongCrash(t *testing.T) {
	cfg := sim.DefaultConsensusConfig(4)
	cfg.Seed = 9
	cfg.Faults = sim.FaultPlan{Seed: cfg.Seed, Kinds: sim.FaultKinds(0).With(sim.FaultCrash), HealBy: 10 * time.Second, Faults: []sim.Fault{
		{At: time.Second, Action: sim.ActionCrash, Node: 3},
		{At: 10 * time.Second, Action: sim.ActionRestart, Node: 3},
	}}
	cl, err := sim.NewConsensusCluster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Run(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	behind := len(cl.Committed(3))
	ahead := len(cl.Committed(0))
	if ahead-behind < 5 {
		t.Fatalf("member 3 is only %d heights behind at its restart: the test covers no sync", ahead-behind)
	}
	if err := cl.RunUntilHeight(types.Height(ahead+2), 30*time.Second); err != nil {
		t.Fatalf("member 3 did not catch up from height %d to %d: %v", behind, ahead+2, err)
	}
}

// Byzantine kinds, one at a time, each on a few seeds of n = 7 with no
// network fault: the checkers hold and each kind has its effect.
func TestConsensusByzantineKinds(t *testing.T) {
	tests := []struct {
		kind  sim.ByzantineKind
		check func(t *testing.T, cl *sim.ConsensusCluster, rep sim.ConsensusReport, b sim.ByzantineMember)
	}{
		{sim.ByzantineSilent, func(t *testing.T, cl *sim.ConsensusCluster, rep sim.ConsensusReport, b sim.ByzantineMember) {
			if got := len(cl.Committed(b.Member)); got != 0 {
				t.Errorf("the silent member committed %d heights", got)
			}
		}},
		{sim.ByzantineEquivocatingLeader, func(t *testing.T, cl *sim.ConsensusCluster, rep sim.ConsensusReport, b sim.ByzantineMember) {
			if rep.Evidence == 0 {
				t.Error("no evidence against the equivocating leader")
			}
		}},
		{sim.ByzantineEquivocatingVoter, func(t *testing.T, cl *sim.ConsensusCluster, rep sim.ConsensusReport, b sim.ByzantineMember) {
			if rep.Evidence == 0 {
				t.Error("no evidence against the equivocating voter")
			}
		}},
		{sim.ByzantineInvalidProposal, func(t *testing.T, cl *sim.ConsensusCluster, rep sim.ConsensusReport, b sim.ByzantineMember) {
			if rep.EmptyBlocks == 0 {
				t.Error("the invalid proposals never led to EMPTY")
			}
			for _, d := range cl.Committed(0) {
				if d.Block != nil && d.Block.Header.Proposer == b.Member {
					t.Errorf("height %d decided the invalid member's block", d.Height())
				}
			}
		}},
		{sim.ByzantineDelay, func(t *testing.T, cl *sim.ConsensusCluster, rep sim.ConsensusReport, b sim.ByzantineMember) {}},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String(), func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				cfg := sim.DefaultConsensusConfig(7)
				cfg.Seed = seed
				byz, err := sim.AssignByzantine(seed, 7, []sim.ByzantineKind{tc.kind, tc.kind})
				if err != nil {
					t.Fatal(err)
				}
				cfg.Byzantine = byz
				cl, err := sim.NewConsensusCluster(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if err := cl.RunUntilHeight(15, 2*time.Minute); err != nil {
					t.Fatalf("%s", sim.FailureReport(packagePath, t.Name(), seed, err))
				}
				rep := cl.Report()
				for _, b := range byz {
					tc.check(t, cl, rep, b)
				}
			}
		})
	}
}

// Configurations beyond the threshold or malformed are refused with every
// problem named.
func TestConsensusConfigValidate(t *testing.T) {
	cfg := sim.DefaultConsensusConfig(4)
	cfg.Byzantine = []sim.ByzantineMember{{Member: 0, Kind: sim.ByzantineSilent}, {Member: 1, Kind: sim.ByzantineDelay}}
	cfg.BlockBodySize = 0
	cfg.BlockInterval = 5 * time.Second
	err := cfg.Validate()
	if !errors.Is(err, sim.ErrInvalidConfig) {
		t.Fatalf("Validate: %v", err)
	}
	for _, want := range []string{"tolerates f = 1", "block body size", "block interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := sim.NewConsensusCluster(cfg); err == nil {
		t.Fatal("NewConsensusCluster accepted an invalid config")
	}
	if _, err := sim.AssignByzantine(1, 4, []sim.ByzantineKind{sim.ByzantineSilent, sim.ByzantineSilent}); err == nil {
		t.Fatal("AssignByzantine made 2 of 4 members Byzantine")
	}
	for _, name := range []string{"silent", "equivocating-leader", "equivocating-voter", "invalid-proposal", "delay"} {
		k, err := sim.ParseByzantineKind(name)
		if err != nil || k.String() != name {
			t.Errorf("ParseByzantineKind(%q) = %v, %v", name, k, err)
		}
	}
	if _, err := sim.ParseByzantineKind("lazy"); !errors.Is(err, sim.ErrInvalidConfig) {
		t.Errorf("ParseByzantineKind(lazy): %v", err)
	}
}
