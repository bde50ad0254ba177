package planner

import (
	"errors"
	"fmt"
	"math"
)

// ErrUnreachable is wrapped when no committee size within the searched range
// meets the target failure probability.
var ErrUnreachable = errors.New("target failure probability unreachable")

// fractionDigits is the relative precision to which fractions are read:
// a product such as rho n that lies within n * 1e-9 of an integer is that
// integer. It absorbs the rounding of 1/3 written as a float64 or as
// 0.3333333333 on the command line, so that rho n is exactly n/3 when n is a
// multiple of 3, while a fraction stated to 8 or fewer significant digits
// still reads as itself for every count below 1e8.
const fractionDigits = 1e-9

// snappedProduct returns f n, replaced by the nearest integer when it lies
// within n * fractionDigits of it.
func snappedProduct(f float64, n int64) float64 {
	x := f * float64(n)
	if k := math.Round(x); math.Abs(x-k) <= fractionDigits*float64(n) {
		return k
	}
	return x
}

// Tolerance is the rule saying how many malicious members a committee of n
// survives with threshold rho.
type Tolerance int

const (
	// TolerancePaper is the paper's eq. 6.1: a committee fails when more than
	// a fraction rho of it is malicious, x > rho n. The sum of 6.1 starts at
	// rho n + 1, so for a non-integral rho n the committee survives
	// floor(rho n) malicious members and fails from floor(rho n) + 1.
	TolerancePaper Tolerance = iota
	// ToleranceConsensus is the node's consensus (docs/CONSENSUS.md): a
	// committee survives only f < rho n malicious members, f = ceil(rho n) - 1,
	// which is floor((n-1)/3) for rho = 1/3. It differs from the paper's rule
	// exactly when rho n is an integer, where it survives one member fewer.
	ToleranceConsensus
)

// String names the rule as the command line does.
func (t Tolerance) String() string {
	switch t {
	case TolerancePaper:
		return "paper"
	case ToleranceConsensus:
		return "consensus"
	}
	return fmt.Sprintf("Tolerance(%d)", int(t))
}

// ParseTolerance reads "paper" or "consensus".
func ParseTolerance(s string) (Tolerance, error) {
	switch s {
	case "paper":
		return TolerancePaper, nil
	case "consensus":
		return ToleranceConsensus, nil
	}
	return 0, fmt.Errorf("%w: tolerance %q: want paper or consensus", ErrDomain, s)
}

// Tolerated returns how many malicious members a committee of size n
// survives under rule t with threshold rho.
func (t Tolerance) Tolerated(rho float64, n int64) int64 {
	x := snappedProduct(rho, n)
	if t == ToleranceConsensus {
		return max(0, int64(math.Ceil(x))-1)
	}
	return int64(math.Floor(x))
}

// Adversary is the setting of the paper's 6.1: N nodes of which a fraction
// lambda is malicious, committees failing at a threshold rho under a rule.
type Adversary struct {
	Nodes     int64     // N
	Share     float64   // lambda, the malicious fraction of all nodes
	Threshold float64   // rho
	Rule      Tolerance // where "more than rho" starts
}

// Validate reports every problem at once, each wrapping ErrDomain.
func (a Adversary) Validate() error {
	var errs []error
	if a.Nodes < 1 || a.Nodes > MaxPopulation {
		errs = append(errs, fmt.Errorf("%w: nodes N = %d must be in [1, %d]", ErrDomain, a.Nodes, int64(MaxPopulation)))
	}
	if !(a.Share >= 0 && a.Share < 1) {
		errs = append(errs, fmt.Errorf("%w: adversary share lambda = %v must be in [0, 1)", ErrDomain, a.Share))
	}
	if !(a.Threshold > 0 && a.Threshold < 1) {
		errs = append(errs, fmt.Errorf("%w: threshold rho = %v must be in (0, 1)", ErrDomain, a.Threshold))
	}
	if a.Rule != TolerancePaper && a.Rule != ToleranceConsensus {
		errs = append(errs, fmt.Errorf("%w: unknown tolerance rule %d", ErrDomain, int(a.Rule)))
	}
	return errors.Join(errs...)
}

// Malicious returns K = floor(lambda N), the number of malicious nodes.
func (a Adversary) Malicious() int64 {
	return min(a.Nodes, int64(math.Floor(snappedProduct(a.Share, a.Nodes))))
}

// CommitteeFailure is the failure probability of committees of one size.
type CommitteeFailure struct {
	Committee int64 // n
	Malicious int64 // K = floor(lambda N)
	Tolerated int64 // the most malicious members a committee survives
	// Committees is m = floor(N/n), the count the union bound is taken over
	// (the paper sets N = n m; the leftover N mod n nodes form no committee).
	Committees int64
	// LogOne is ln Pr[A_i], eq. 6.1: ln Pr[X > Tolerated] with
	// X ~ Hypergeometric(N, K, n).
	LogOne float64
	// LogUnion is ln min(1, m Pr[A_i]), the union bound of eq. 6.2.
	LogUnion float64
}

// One returns Pr[A_i]; it underflows to 0 where LogOne still holds the value.
func (f CommitteeFailure) One() float64 { return math.Exp(f.LogOne) }

// Union returns min(1, m Pr[A_i]).
func (f CommitteeFailure) Union() float64 { return math.Exp(f.LogUnion) }

// Failure computes eq. 6.1 and 6.2 for committees of size n drawn from a.
func (a Adversary) Failure(n int64) (CommitteeFailure, error) {
	if err := a.Validate(); err != nil {
		return CommitteeFailure{}, err
	}
	if n < 1 || n > a.Nodes {
		return CommitteeFailure{}, fmt.Errorf("%w: committee n = %d must be in [1, N = %d]", ErrDomain, n, a.Nodes)
	}
	return a.failure(n, a.Nodes/n), nil
}

// failure computes the failure of committees of size n with the union bound
// over m committees; a and n must be valid.
func (a Adversary) failure(n, m int64) CommitteeFailure {
	h := Hypergeometric{Population: a.Nodes, Marked: a.Malicious(), Draws: n}
	tolerated := a.Rule.Tolerated(a.Threshold, n)
	logOne := h.LogUpperTail(tolerated + 1)
	return CommitteeFailure{
		Committee:  n,
		Malicious:  h.Marked,
		Tolerated:  tolerated,
		Committees: m,
		LogOne:     logOne,
		LogUnion:   min(0, math.Log(float64(m))+logOne),
	}
}

// Criterion says which probability a committee-size search bounds.
type Criterion int

const (
	// CriterionUnion bounds the union bound m Pr[A_i] over the m = floor(N/n)
	// committees: the probability that any committee fails.
	CriterionUnion Criterion = iota
	// CriterionCommittee bounds Pr[A_i] of one committee.
	CriterionCommittee
)

// String names the criterion as the command line does.
func (c Criterion) String() string {
	switch c {
	case CriterionUnion:
		return "union"
	case CriterionCommittee:
		return "committee"
	}
	return fmt.Sprintf("Criterion(%d)", int(c))
}

// ParseCriterion reads "union" or "committee".
func ParseCriterion(s string) (Criterion, error) {
	switch s {
	case "union":
		return CriterionUnion, nil
	case "committee":
		return CriterionCommittee, nil
	}
	return 0, fmt.Errorf("%w: criterion %q: want union or committee", ErrDomain, s)
}

func (f CommitteeFailure) logUnder(c Criterion) float64 {
	if c == CriterionCommittee {
		return f.LogOne
	}
	return f.LogUnion
}

// SmallestCommittee returns the failure figures of the smallest committee
// size n in [1, maxCommittee] (and at most N) whose probability under c is at
// most target, or an error wrapping ErrUnreachable.
//
// The failure probability is not monotone in n: it jumps up each time the
// tolerated count floor(rho n) stays put while n grows and drops when it
// steps. The search therefore scans every n upward from 1 and returns the
// first that meets the target; a larger n may fail the target again (the
// returned size is the smallest, not a size above which all sizes pass).
func (a Adversary) SmallestCommittee(target float64, c Criterion, maxCommittee int64) (CommitteeFailure, error) {
	if err := a.Validate(); err != nil {
		return CommitteeFailure{}, err
	}
	if !(target > 0 && target < 1) {
		return CommitteeFailure{}, fmt.Errorf("%w: target failure probability %v must be in (0, 1)", ErrDomain, target)
	}
	if c != CriterionUnion && c != CriterionCommittee {
		return CommitteeFailure{}, fmt.Errorf("%w: unknown criterion %d", ErrDomain, int(c))
	}
	if maxCommittee < 1 {
		return CommitteeFailure{}, fmt.Errorf("%w: largest committee %d must be at least 1", ErrDomain, maxCommittee)
	}
	limit := min(maxCommittee, a.Nodes)
	logTarget := math.Log(target)
	for n := int64(1); n <= limit; n++ {
		f := a.failure(n, a.Nodes/n)
		if f.logUnder(c) <= logTarget {
			return f, nil
		}
	}
	return CommitteeFailure{}, fmt.Errorf("%w: no committee of 1 to %d members out of N = %d with lambda = %v, rho = %v (%s rule) has %s failure probability <= %g",
		ErrUnreachable, limit, a.Nodes, a.Share, a.Threshold, a.Rule, c, target)
}
