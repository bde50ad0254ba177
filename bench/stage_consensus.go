package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/sim"
	"github.com/thinkey/thinkey/node/types"
)

// The consensus stage runs a committee of n node/consensus cores in the
// simulator (node/sim) on a clean network (the default LAN model: 20-60 ms
// one way, 100 Mbit/s uplinks, no loss, no fault, no Byzantine member),
// each member charged virtual CPU at the BLS costs of docs/PERFORMANCE.md.
// One iteration is one block: the committee runs until every member has
// committed one more height. Per case it reports:
//
//   - ns/op: the real (wall) time of the single simulation goroutine to
//     decide one block with all n members: their cores, the codec, the
//     signature work of the scheme and the simulator's own event loop and
//     network model. "ns/block/member" divides it by n: the real CPU one
//     member's consensus costs per block on this machine, simulator
//     overhead included (an upper bound for the core itself).
//   - blocks/vsec: blocks decided per second of virtual time, the
//     committee's simulated throughput under the cost model (network
//     delays and charged CPU, not this machine's speed).
//   - vcpu-ms/block/member: the virtual CPU charged per block per member.
//   - aggchecks/block, sigs-verified/block, verify-requests/block and
//     signed/block: one member's signature work per block, counted in BLS
//     units whatever the scheme (an aggregate check is one pairing
//     equation: a same-message vote batch, a distinct-message batch or a
//     certificate).
//
// "standin/n=N" signs with the simulator's stand-in (SHA-256), so that 400
// members fit in one process: its real CPU figure is the cores' and the
// simulator's, not BLS's. "bls/n=N" signs and verifies with real BLS
// (crypto/bls): its real CPU figure includes the signature work.
//
// The design budget (node/consensus: votes are verified only when they can
// complete a quorum or the all-member fast path) is about three aggregate
// checks per member per block plus a per-vote cost: the proposal's
// signature, the batch that completes the prepare quorum, and either the
// batch of the remaining prepares (early consensus, all n) or the confirm
// batch; aggchecks/block shows it in counts. In real CPU the comparisons
// set the BLS case's time per block per member against one same-message
// batch of n votes of the bls stage, with a target of 3.5 batches: the
// three aggregate checks with the decoding of at most n votes, plus about
// two signatures and two certificates formed per member per block.

// consensusSizes is the committee sweep of the stand-in cases.
func consensusSizes(cfg Config) []int {
	if cfg.Quick {
		return []int{4, 16}
	}
	return []int{4, 16, 64, 100, 200, 400}
}

// consensusBLSSizes is the committee sweep of the real-BLS cases.
func consensusBLSSizes(cfg Config) []int {
	if cfg.Quick {
		return []int{4}
	}
	return []int{4, 16, 64}
}

// consensusBudgetBatches is the real CPU budget per block per member, in
// same-message batches of n votes (see the stage comment).
const consensusBudgetBatches = 3.5

func consensusCases(cfg Config) []Case {
	var cases []Case
	for _, n := range consensusSizes(cfg) {
		cases = append(cases, Case{Stage: "consensus", Name: fmt.Sprintf("standin/n=%d", n), Unit: "block",
			Run: func(b *testing.B) { benchConsensus(b, n, sim.SchemeStandIn) }})
	}
	for _, n := range consensusBLSSizes(cfg) {
		cases = append(cases, Case{Stage: "consensus", Name: fmt.Sprintf("bls/n=%d", n), Unit: "block",
			Run: func(b *testing.B) { benchConsensus(b, n, sim.SchemeBLS) }})
	}
	return cases
}

func consensusComparisons(cfg Config) []Comparison {
	var out []Comparison
	for _, n := range consensusBLSSizes(cfg) {
		out = append(out, Comparison{
			Name:        fmt.Sprintf("consensus n=%d: real CPU per block per member / one BLS batch of %d votes", n, n),
			Numerator:   fmt.Sprintf("consensus/bls/n=%d", n),
			Denominator: fmt.Sprintf("bls/votes/n=%d/batch", n),
			Scale:       float64(n),
			Target:      consensusBudgetBatches,
			AtMost:      true,
		})
	}
	return out
}

// benchConsensus runs one case: a warmed-up committee, then one block per
// iteration.
func benchConsensus(b *testing.B, n int, scheme sim.SignatureScheme) {
	cfg := sim.DefaultConsensusConfig(n)
	cfg.Seed = 1
	cfg.Scheme = scheme
	cfg.CheckInvariants = false
	cl, err := sim.NewConsensusCluster(cfg)
	if err != nil {
		b.Fatal(err)
	}
	// Warm up: the first height, whose start has no block yet in flight.
	height := types.Height(1)
	if err := cl.RunUntilHeight(height, time.Hour); err != nil {
		b.Fatalf("n=%d: first height: %v", n, err)
	}
	startTime := cl.World().Now()
	startWork := totalWork(cl)
	startBusy := cl.World().Metrics().Total.CPUBusy
	blocks := 0
	for b.Loop() {
		height++
		if err := cl.RunUntilHeight(height, cl.World().Now()+time.Hour); err != nil {
			b.Fatalf("n=%d: height %d: %v", n, height, err)
		}
		blocks++
	}
	b.StopTimer()
	if blocks == 0 {
		return
	}
	virtual := cl.World().Now() - startTime
	work := totalWork(cl)
	perMember := float64(blocks) * float64(n)
	elapsed := b.Elapsed()
	b.ReportMetric(float64(elapsed.Nanoseconds())/perMember, "ns/block/member")
	if virtual > 0 {
		b.ReportMetric(float64(blocks)/virtual.Seconds(), "blocks/vsec")
	}
	busy := cl.World().Metrics().Total.CPUBusy - startBusy
	b.ReportMetric(float64(busy)/float64(time.Millisecond)/perMember, "vcpu-ms/block/member")
	b.ReportMetric(float64(work.AggregateChecks-startWork.AggregateChecks)/perMember, "aggchecks/block")
	b.ReportMetric(float64(work.SignaturesVerified-startWork.SignaturesVerified)/perMember, "sigs-verified/block")
	requests := (work.SameMessageBatches + work.DistinctBatches + work.Certificates) -
		(startWork.SameMessageBatches + startWork.DistinctBatches + startWork.Certificates)
	b.ReportMetric(float64(requests)/perMember, "verify-requests/block")
	b.ReportMetric(float64(work.Signed-startWork.Signed)/perMember, "signed/block")
	b.ReportMetric(float64(consensus.ThresholdsFor(n).Quorum), "quorum")
}

// totalWork sums every member's signature work.
func totalWork(cl *sim.ConsensusCluster) sim.SignatureWork {
	var w sim.SignatureWork
	for i := range cl.Config().Members {
		w.Add(cl.Work(types.ValidatorIndex(i)))
	}
	return w
}
