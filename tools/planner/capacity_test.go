package planner

import (
	"errors"
	"math"
	"testing"
	"time"
)

func syntheticCosts(t *testing.T) HardwareCosts {
	t.Helper()
	costs, err := CostsFromReport(syntheticReport(), true)
	if err != nil {
		t.Fatal(err)
	}
	return costs
}

// exactUnion is the union bound over committees of size n for N nodes, from
// exact arithmetic.
func exactUnion(nodes int64, share, threshold float64, rule Tolerance, n, committees int64) float64 {
	K := int64(math.Floor(share * float64(nodes)))
	tail := exactUpperTail(nodes, K, n, rule.Tolerated(threshold, n)+1)
	return math.Min(1, float64(committees)*math.Exp(logRat(tail)))
}

func TestPlanCapacityIsTheSmallestSafePlan(t *testing.T) {
	costs := syntheticCosts(t)
	params := DefaultModelParams()
	target := CapacityTarget{
		Throughput: 20_000, Confirmation: 2 * time.Second,
		Share: 0.2, Threshold: 1.0 / 3, Rule: ToleranceConsensus,
		Failure: 1e-6, BlockSize: 1000,
	}
	plan, err := PlanCapacity(costs, params, target)
	if err != nil {
		t.Fatal(err)
	}
	n := plan.Committee
	if want := int(math.Ceil(target.Throughput / plan.ChainThroughput)); plan.Chains != want {
		t.Errorf("chains %d, want ceil(%v / %v) = %d", plan.Chains, target.Throughput, plan.ChainThroughput, want)
	}
	if want := int64(plan.Chains+1) * int64(n); plan.Nodes != want {
		t.Errorf("nodes %d, want (m+1) n = %d", plan.Nodes, want)
	}
	if got := exactUnion(plan.Nodes, target.Share, target.Threshold, target.Rule, int64(n), int64(plan.Chains+1)); got > target.Failure {
		t.Errorf("plan n = %d, N = %d: exact union bound %g above the target", n, plan.Nodes, got)
	}
	if !plan.MeetsFailure || plan.Failure.Committees != int64(plan.Chains+1) {
		t.Errorf("plan failure %+v, MeetsFailure %v", plan.Failure, plan.MeetsFailure)
	}
	// Every smaller committee that tolerates a malicious member (n >= 4 =
	// 3f+1 for the consensus rule), with the chains and nodes it would need,
	// misses the target.
	for smaller := 4; smaller < n; smaller++ {
		block, err := costs.ChainBlock(params, smaller, target.BlockSize)
		if err != nil {
			t.Fatal(err)
		}
		m := int64(math.Ceil(target.Throughput / block.Throughput()))
		N := (m + 1) * int64(smaller)
		if got := exactUnion(N, target.Share, target.Threshold, target.Rule, int64(smaller), m+1); got <= target.Failure {
			t.Fatalf("committee %d (m = %d, N = %d) already meets the target (%g), but the plan chose %d", smaller, m, N, got, n)
		}
	}
	// Latency, Q, F_C and psi follow from the figures.
	if want := plan.Chain.BlockTime() * 3 / 2; plan.Confirmation != want {
		t.Errorf("confirmation %v, want 1.5 block times %v", plan.Confirmation, want)
	}
	if plan.MeetsLatency != (plan.Confirmation <= target.Confirmation) {
		t.Errorf("MeetsLatency %v for d = %v, dhat = %v", plan.MeetsLatency, plan.Confirmation, target.Confirmation)
	}
	q := target.Confirmation.Seconds() / (plan.Confirmation.Seconds() + target.Confirmation.Seconds())
	if !near(plan.Quality, q) || !near(plan.Cost, float64(plan.Nodes)) || !near(plan.Score, plan.Throughput*q/float64(plan.Nodes)) {
		t.Errorf("Q %v (want %v), S %v, F_C %v", plan.Quality, q, plan.Cost, plan.Score)
	}
	if want := 2 * float64(plan.Chains) / float64(plan.Chains+1); !near(plan.Scalability, want) {
		t.Errorf("psi %v, want 2m/(m+1) = %v with equal Q", plan.Scalability, want)
	}
}

func TestPlanCapacityWithRootConfirmationAndFixedCommittee(t *testing.T) {
	costs := syntheticCosts(t)
	params := DefaultModelParams()
	target := CapacityTarget{
		Throughput: 5000, Confirmation: time.Second,
		Share: 0.25, Threshold: 1.0 / 3, Rule: TolerancePaper,
		Failure: 1e-6, BlockSize: 500, Committee: 40, RootConfirmation: true, NodeCost: 20,
	}
	plan, err := PlanCapacity(costs, params, target)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Committee != 40 || !plan.FixedCommittee {
		t.Fatalf("committee %d (fixed %v), want the given 40", plan.Committee, plan.FixedCommittee)
	}
	target.Committee = 2 // tolerates nobody at rho = 1/3
	if _, err := PlanCapacity(costs, params, target); !errors.Is(err, ErrDomain) {
		t.Errorf("committee of 2: %v, want ErrDomain", err)
	}
	if plan.MeetsFailure {
		t.Errorf("a committee of 40 with lambda = 0.25 meets 1e-6? union %g", plan.Failure.Union())
	}
	if got := exactUnion(plan.Nodes, 0.25, 1.0/3, TolerancePaper, 40, int64(plan.Chains+1)); math.Abs(plan.Failure.Union()-got) > 1e-9*got {
		t.Errorf("union %v, exact %v", plan.Failure.Union(), got)
	}
	root, err := costs.RootBlock(params, 40, plan.Chains)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Root != root {
		t.Errorf("root block %+v, want %+v", plan.Root, root)
	}
	if want := plan.Chain.BlockTime()*3/2 + root.BlockTime()*3/2; plan.Confirmation != want {
		t.Errorf("confirmation %v, want chain and root 1.5 block times each: %v", plan.Confirmation, want)
	}
	if !near(plan.Cost, 20*float64(plan.Nodes)) {
		t.Errorf("cost S %v, want 20 per node", plan.Cost)
	}
}

func TestPlanCapacityErrors(t *testing.T) {
	costs := syntheticCosts(t)
	good := CapacityTarget{
		Throughput: 5000, Confirmation: time.Second, Share: 0.25, Threshold: 1.0 / 3,
		Failure: 1e-6, BlockSize: 1000,
	}
	mutate := []func(*CapacityTarget){
		func(t *CapacityTarget) { t.Throughput = 0 },
		func(t *CapacityTarget) { t.Throughput = math.Inf(1) },
		func(t *CapacityTarget) { t.Confirmation = 0 },
		func(t *CapacityTarget) { t.Share = 0 },
		func(t *CapacityTarget) { t.Share = 1 },
		func(t *CapacityTarget) { t.Threshold = 1.2 },
		func(t *CapacityTarget) { t.Failure = 0 },
		func(t *CapacityTarget) { t.Failure = 1 },
		func(t *CapacityTarget) { t.BlockSize = 0 },
		func(t *CapacityTarget) { t.Committee = -1 },
		func(t *CapacityTarget) { t.Committee = 2000 },
		func(t *CapacityTarget) { t.MaxCommittee = 5000 },
		func(t *CapacityTarget) { t.NodeCost = -1 },
		func(t *CapacityTarget) { t.Rule = 9 },
	}
	for i, m := range mutate {
		target := good
		m(&target)
		if _, err := PlanCapacity(costs, DefaultModelParams(), target); !errors.Is(err, ErrDomain) {
			t.Errorf("mutation %d (%+v): error %v, want ErrDomain", i, target, err)
		}
	}
	bad := DefaultModelParams()
	bad.BandwidthBitsPerSecond = 0
	if _, err := PlanCapacity(costs, bad, good); !errors.Is(err, ErrDomain) {
		t.Errorf("zero bandwidth: %v, want ErrDomain", err)
	}
	strong := good
	strong.Share = 0.4
	if _, err := PlanCapacity(costs, DefaultModelParams(), strong); !errors.Is(err, ErrUnreachable) {
		t.Errorf("lambda 0.4 above rho: %v, want ErrUnreachable", err)
	}
	capped := good
	capped.MaxCommittee = 20
	if _, err := PlanCapacity(costs, DefaultModelParams(), capped); !errors.Is(err, ErrUnreachable) {
		t.Errorf("committees capped at 20: %v, want ErrUnreachable", err)
	}
}
