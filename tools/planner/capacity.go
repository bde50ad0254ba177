package planner

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// MaxChains bounds the number of transaction chains a plan may need.
const MaxChains = 1 << 20

// CapacityTarget is what a capacity plan must reach.
type CapacityTarget struct {
	// Throughput is the target T in messages per second over all chains.
	Throughput float64
	// Confirmation is the target confirmation time dhat of Q (paper 2.2.3).
	Confirmation time.Duration
	// Share is lambda, the malicious fraction of all nodes.
	Share float64
	// Threshold is rho, the malicious fraction a committee must stay at or
	// below (under Rule).
	Threshold float64
	// Rule says where "more than rho" starts; the node's consensus is
	// ToleranceConsensus.
	Rule Tolerance
	// Failure is the bound on the union bound over all committees (the m
	// transaction-chain committees and the root committee).
	Failure float64
	// BlockSize is B, messages per block.
	BlockSize int
	// Committee fixes the committee size n; 0 searches for the smallest n
	// that meets Failure.
	Committee int
	// MaxCommittee bounds the search; 0 means types.MaxCommitteeSize, the
	// largest committee a certificate can name.
	MaxCommittee int
	// RootConfirmation adds the root chain's confirmation of the block digest
	// to the confirmation time.
	RootConfirmation bool
	// NodeCost is the cost S of one node in F_C = T Q / S; 0 means 1, so
	// that S counts nodes.
	NodeCost float64
}

// Validate reports every problem at once, each wrapping ErrDomain.
func (t CapacityTarget) Validate() error {
	var errs []error
	if !(t.Throughput > 0) || math.IsInf(t.Throughput, 0) {
		errs = append(errs, fmt.Errorf("%w: target throughput %v must be finite and positive", ErrDomain, t.Throughput))
	}
	if t.Confirmation <= 0 {
		errs = append(errs, fmt.Errorf("%w: target confirmation time %v must be positive", ErrDomain, t.Confirmation))
	}
	if !(t.Share > 0 && t.Share < 1) {
		errs = append(errs, fmt.Errorf("%w: adversary share lambda = %v must be in (0, 1)", ErrDomain, t.Share))
	}
	if !(t.Threshold > 0 && t.Threshold < 1) {
		errs = append(errs, fmt.Errorf("%w: threshold rho = %v must be in (0, 1)", ErrDomain, t.Threshold))
	}
	if t.Rule != TolerancePaper && t.Rule != ToleranceConsensus {
		errs = append(errs, fmt.Errorf("%w: unknown tolerance rule %d", ErrDomain, int(t.Rule)))
	}
	if !(t.Failure > 0 && t.Failure < 1) {
		errs = append(errs, fmt.Errorf("%w: target failure probability %v must be in (0, 1)", ErrDomain, t.Failure))
	}
	if t.BlockSize < 1 || t.BlockSize > MaxBlockSize {
		errs = append(errs, fmt.Errorf("%w: block size %d must be in [1, %d] messages", ErrDomain, t.BlockSize, MaxBlockSize))
	}
	if t.Committee < 0 || t.Committee > types.MaxCommitteeSize {
		errs = append(errs, fmt.Errorf("%w: committee size %d must be in [1, %d] (0 to search)", ErrDomain, t.Committee, types.MaxCommitteeSize))
	}
	if t.MaxCommittee < 0 || t.MaxCommittee > types.MaxCommitteeSize {
		errs = append(errs, fmt.Errorf("%w: largest committee %d must be in [1, %d] (0 for the limit)", ErrDomain, t.MaxCommittee, types.MaxCommitteeSize))
	}
	if !(t.NodeCost >= 0) || math.IsInf(t.NodeCost, 0) {
		errs = append(errs, fmt.Errorf("%w: node cost %v must be finite and not negative (0 for 1)", ErrDomain, t.NodeCost))
	}
	return errors.Join(errs...)
}

// Plan is the outcome of PlanCapacity.
type Plan struct {
	Committee int   // n, the size of every committee, the root's included
	Chains    int   // m, transaction chains
	Nodes     int64 // N = (m + 1) n

	Chain BlockCost // one block of one transaction chain
	// Root is one root-chain block confirming one digest per chain; it counts
	// in Confirmation only when the target asked for root confirmation.
	Root BlockCost

	ChainThroughput float64 // messages per second of one chain
	Throughput      float64 // T = m times ChainThroughput
	// Confirmation is d: the chain's mean confirmation (1.5 block times),
	// plus 1.5 root block times when the target asked for root confirmation.
	Confirmation time.Duration
	MeetsLatency bool // Confirmation <= the target dhat

	// Failure is computed for N nodes and the union over the m + 1
	// committees (Failure.Committees is m + 1).
	Failure CommitteeFailure
	// FixedCommittee says the committee size was given, not searched; its
	// failure may then miss the target (MeetsFailure).
	FixedCommittee bool
	MeetsFailure   bool

	Quality float64 // Q = dhat / (d + dhat)
	Cost    float64 // S = N times the node cost
	Score   float64 // F_C = T Q / S
	// Scalability is psi(m) = F_C of this plan over F_C of one chain with the
	// same committee size (2n nodes, its own root-chain block).
	Scalability float64
}

// PlanCapacity finds the committee size, number of chains and number of
// nodes that reach the target on the hardware c, and predicts their
// throughput and confirmation time.
//
// For each committee size n (the fixed one, or from the smallest that
// tolerates one malicious member up to the largest allowed) the chain model
// gives the chain throughput t(n); then m = ceil(T / t(n)) chains,
// N = (m + 1) n nodes (the root chain has a committee of n too: it faces the
// same sampling), and the union bound over the m + 1 committees drawn from
// those N nodes. The first n whose bound
// meets the target is the plan. Because N and m are derived from n, that n
// is the smallest self-consistent one: re-checking the security with the N
// it implies cannot change it (the fixed point of "committee for N, nodes for
// committee").
func PlanCapacity(c HardwareCosts, p ModelParams, t CapacityTarget) (Plan, error) {
	if err := errors.Join(t.Validate(), p.Validate()); err != nil {
		return Plan{}, err
	}
	lo, hi := smallestTolerant(t.Rule, t.Threshold), t.MaxCommittee
	if hi == 0 {
		hi = types.MaxCommitteeSize
	}
	if t.Committee > 0 {
		if t.Committee < lo {
			return Plan{}, fmt.Errorf("%w: a committee of %d tolerates no malicious member at rho = %v (%s rule); the smallest that tolerates one has %d members",
				ErrDomain, t.Committee, t.Threshold, t.Rule, lo)
		}
		lo, hi = t.Committee, t.Committee
	}
	var best *Plan
	for n := lo; n <= hi; n++ {
		plan, err := c.planFor(p, t, n)
		if err != nil {
			return Plan{}, err
		}
		if plan.MeetsFailure || t.Committee > 0 {
			best = &plan
			break
		}
	}
	if best == nil {
		hint := "allow larger committees"
		if hi == types.MaxCommitteeSize {
			hint = fmt.Sprintf("%d members is the most a certificate names", types.MaxCommitteeSize)
		}
		return Plan{}, fmt.Errorf("%w: no committee of %d to %d members keeps the union bound over all committees at or below %g (lambda = %v, rho = %v, %s rule); lower lambda or raise the target (%s)",
			ErrUnreachable, lo, hi, t.Failure, t.Share, t.Threshold, t.Rule, hint)
	}
	return c.finish(p, t, *best)
}

// smallestTolerant returns the smallest committee size that survives one
// malicious member under rule r: a committee that tolerates none is not
// Byzantine fault tolerant, and in the tiny networks it implies (N = 2 or 3
// nodes) floor(lambda N) rounds the adversary away, so its failure
// probability would read 0.
func smallestTolerant(r Tolerance, rho float64) int {
	n := 1
	for r.Tolerated(rho, int64(n)) < 1 && n < types.MaxCommitteeSize {
		n++
	}
	return n
}

// planFor sizes the plan for committee size n, up to the security check.
func (c HardwareCosts) planFor(p ModelParams, t CapacityTarget, n int) (Plan, error) {
	chain, err := c.ChainBlock(p, n, t.BlockSize)
	if err != nil {
		return Plan{}, err
	}
	perChain := chain.Throughput()
	chains := math.Ceil(t.Throughput / perChain)
	if chains > MaxChains {
		return Plan{}, fmt.Errorf("%w: %v msg/s needs %.0f chains of %.1f msg/s each, above the planner's limit of %d",
			ErrUnreachable, t.Throughput, chains, perChain, MaxChains)
	}
	m := max(1, int(chains))
	nodes := int64(m+1) * int64(n)
	adv := Adversary{Nodes: nodes, Share: t.Share, Threshold: t.Threshold, Rule: t.Rule}
	if err := adv.Validate(); err != nil {
		return Plan{}, err
	}
	failure := adv.failure(int64(n), int64(m+1))
	return Plan{
		Committee:       n,
		Chains:          m,
		Nodes:           nodes,
		Chain:           chain,
		ChainThroughput: perChain,
		Throughput:      float64(m) * perChain,
		Failure:         failure,
		FixedCommittee:  t.Committee > 0,
		MeetsFailure:    failure.LogUnion <= math.Log(t.Failure),
	}, nil
}

// finish adds the latency, Q, F_C and psi to a sized plan.
func (c HardwareCosts) finish(p ModelParams, t CapacityTarget, plan Plan) (Plan, error) {
	nodeCost := t.NodeCost
	if nodeCost == 0 {
		nodeCost = 1
	}
	confirmation := func(chain BlockCost, chains int) (time.Duration, BlockCost, error) {
		d := chain.Confirmation()
		root, err := c.RootBlock(p, chain.Committee, chains)
		if err != nil {
			return 0, BlockCost{}, err
		}
		if t.RootConfirmation {
			d += root.Confirmation()
		}
		return d, root, nil
	}
	d, root, err := confirmation(plan.Chain, plan.Chains)
	if err != nil {
		return Plan{}, err
	}
	plan.Root = root
	plan.Confirmation = d
	plan.MeetsLatency = d <= t.Confirmation
	if plan.Quality, err = QualityOfService(d, t.Confirmation); err != nil {
		return Plan{}, err
	}
	plan.Cost = float64(plan.Nodes) * nodeCost
	scaled := Configuration{Throughput: plan.Throughput, Quality: plan.Quality, Cost: plan.Cost}
	if plan.Score, err = scaled.Score(); err != nil {
		return Plan{}, err
	}
	d1, _, err := confirmation(plan.Chain, 1)
	if err != nil {
		return Plan{}, err
	}
	q1, err := QualityOfService(d1, t.Confirmation)
	if err != nil {
		return Plan{}, err
	}
	base := Configuration{Throughput: plan.ChainThroughput, Quality: q1, Cost: 2 * float64(plan.Committee) * nodeCost}
	if plan.Scalability, err = Scalability(base, scaled); err != nil {
		return Plan{}, err
	}
	return plan, nil
}
