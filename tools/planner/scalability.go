package planner

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// QualityOfService returns Q = dhat / (d + dhat) (paper 2.2.3): 1 when the
// confirmation time d is zero, 1/2 when it equals the target dhat, and toward
// 0 as d grows.
func QualityOfService(confirmation, target time.Duration) (float64, error) {
	if confirmation < 0 {
		return 0, fmt.Errorf("%w: confirmation time %v must not be negative", ErrDomain, confirmation)
	}
	if target <= 0 {
		return 0, fmt.Errorf("%w: target confirmation time %v must be positive", ErrDomain, target)
	}
	return target.Seconds() / (confirmation.Seconds() + target.Seconds()), nil
}

// Configuration is what eq. 2.1 scores: a throughput, a quality of service
// and a cost.
type Configuration struct {
	Throughput float64 // T, messages per second
	Quality    float64 // Q in [0, 1]
	Cost       float64 // S, in any unit (nodes, or money per node times nodes)
}

// Validate reports every problem at once, each wrapping ErrDomain.
func (c Configuration) Validate() error {
	var errs []error
	if !(c.Throughput >= 0) || math.IsInf(c.Throughput, 0) {
		errs = append(errs, fmt.Errorf("%w: throughput %v must be finite and not negative", ErrDomain, c.Throughput))
	}
	if !(c.Quality >= 0 && c.Quality <= 1) {
		errs = append(errs, fmt.Errorf("%w: quality of service %v must be in [0, 1]", ErrDomain, c.Quality))
	}
	if !(c.Cost > 0) || math.IsInf(c.Cost, 0) {
		errs = append(errs, fmt.Errorf("%w: cost %v must be finite and positive", ErrDomain, c.Cost))
	}
	return errors.Join(errs...)
}

// Score returns F_C = T Q / S, eq. 2.1.
func (c Configuration) Score() (float64, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	return c.Throughput * c.Quality / c.Cost, nil
}

// Scalability returns psi(k) = F_{C_k} / F_C, eq. 2.2, for a configuration
// base and its scaled-up configuration scaled.
func Scalability(base, scaled Configuration) (float64, error) {
	fBase, err := base.Score()
	if err != nil {
		return 0, fmt.Errorf("base configuration: %w", err)
	}
	fScaled, err := scaled.Score()
	if err != nil {
		return 0, fmt.Errorf("scaled configuration: %w", err)
	}
	if fBase == 0 {
		return 0, fmt.Errorf("%w: base configuration scores F_C = 0 (zero throughput or quality), psi is undefined", ErrDomain)
	}
	return fScaled / fBase, nil
}

// NodeGain is f(r) of eq. 2.3, the factor by which r times the budget per
// node improves a node's performance.
type NodeGain int

const (
	// GainSqrt is f(r) = sqrt(r), defined for r > 0.
	GainSqrt NodeGain = iota
	// GainLog is f(r) = ln r (natural logarithm), defined for r > 1 only:
	// ln r <= 0 for r <= 1 would make a node no faster, or slower, for more
	// money, and eq. 2.3 would divide by zero or turn negative.
	GainLog
)

// String names the gain as the command line does.
func (g NodeGain) String() string {
	switch g {
	case GainSqrt:
		return "sqrt"
	case GainLog:
		return "log"
	}
	return fmt.Sprintf("NodeGain(%d)", int(g))
}

// ParseNodeGain reads "sqrt" or "log".
func ParseNodeGain(s string) (NodeGain, error) {
	switch s {
	case "sqrt":
		return GainSqrt, nil
	case "log", "ln":
		return GainLog, nil
	}
	return 0, fmt.Errorf("%w: node gain f %q: want sqrt or log", ErrDomain, s)
}

// Of returns f(r), or an error wrapping ErrDomain outside its domain.
func (g NodeGain) Of(r float64) (float64, error) {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, fmt.Errorf("%w: r = %v must be finite", ErrDomain, r)
	}
	switch g {
	case GainSqrt:
		if r <= 0 {
			return 0, fmt.Errorf("%w: r = %v: f(r) = sqrt(r) needs r > 0", ErrDomain, r)
		}
		return math.Sqrt(r), nil
	case GainLog:
		if r <= 1 {
			return 0, fmt.Errorf("%w: r = %v: f(r) = ln(r) needs r > 1 (ln r <= 0 otherwise)", ErrDomain, r)
		}
		return math.Log(r), nil
	}
	return 0, fmt.Errorf("%w: unknown node gain %d", ErrDomain, int(g))
}

// Speedup returns eq. 2.3,
//
//	Speedup(p, k, r) = 1 / ( (1-p)/f(r) + p r / (f(r) k) ),
//
// for a parallel fraction p in [0, 1], a budget factor k > 0 of which r goes
// into each node (so the node count grows k/r times).
func Speedup(p, k, r float64, f NodeGain) (float64, error) {
	if !(p >= 0 && p <= 1) {
		return 0, fmt.Errorf("%w: parallel fraction p = %v must be in [0, 1]", ErrDomain, p)
	}
	if !(k > 0) || math.IsInf(k, 0) {
		return 0, fmt.Errorf("%w: budget factor k = %v must be finite and positive", ErrDomain, k)
	}
	fr, err := f.Of(r)
	if err != nil {
		return 0, err
	}
	return 1 / ((1-p)/fr + p*r/(fr*k)), nil
}

// ScalabilityFromSpeedup returns the paper's approximation psi(k) ~
// Speedup(p, k, r) / k.
func ScalabilityFromSpeedup(p, k, r float64, f NodeGain) (float64, error) {
	s, err := Speedup(p, k, r, f)
	if err != nil {
		return 0, err
	}
	return s / k, nil
}

// BestSplit returns the r that maximises Speedup(p, k, r) over the budget
// splits the paper describes, 1 <= r <= k (r > 1 for the log gain), and the
// speedup there. k must be at least 1 (above 1 for the log gain).
//
// For f = sqrt the optimum has a closed form, r* = (1-p) k / p clamped to
// [1, k]. For f = ln there is none; Speedup is f(r) / ((1-p) + p r/k), a
// concave function over a positive affine one, hence unimodal in r, and a
// golden-section search finds the maximum.
func BestSplit(p, k float64, f NodeGain) (r, speedup float64, err error) {
	if !(p >= 0 && p <= 1) {
		return 0, 0, fmt.Errorf("%w: parallel fraction p = %v must be in [0, 1]", ErrDomain, p)
	}
	switch f {
	case GainSqrt:
		if !(k >= 1) || math.IsInf(k, 0) {
			return 0, 0, fmt.Errorf("%w: budget factor k = %v must be finite and at least 1", ErrDomain, k)
		}
		r = k
		if p > 0 {
			r = min(k, max(1, (1-p)*k/p))
		}
	case GainLog:
		if !(k > 1) || math.IsInf(k, 0) {
			return 0, 0, fmt.Errorf("%w: budget factor k = %v must be finite and above 1 for f = log", ErrDomain, k)
		}
		objective := func(r float64) float64 { return math.Log(r) / ((1 - p) + p*r/k) }
		r = goldenMax(objective, 1, k)
	default:
		return 0, 0, fmt.Errorf("%w: unknown node gain %d", ErrDomain, int(f))
	}
	speedup, err = Speedup(p, k, r, f)
	return r, speedup, err
}

// goldenMax returns the argmax of a unimodal g on [lo, hi]; when the maximum
// is at hi it returns hi.
func goldenMax(g func(float64) float64, lo, hi float64) float64 {
	const invPhi = 0.6180339887498949
	a, b := lo, hi
	c := b - invPhi*(b-a)
	d := a + invPhi*(b-a)
	gc, gd := g(c), g(d)
	for range 200 {
		if b-a <= 1e-12*max(1, math.Abs(b)) {
			break
		}
		if gc < gd {
			a, c, gc = c, d, gd
			d = a + invPhi*(b-a)
			gd = g(d)
		} else {
			b, d, gd = d, c, gc
			c = b - invPhi*(b-a)
			gc = g(c)
		}
	}
	best := (a + b) / 2
	if g(hi) >= g(best) {
		return hi
	}
	return best
}
