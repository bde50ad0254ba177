package planner

import (
	"errors"
	"fmt"
	"math"
)

// MaxPopulation bounds N in the hypergeometric functions: every count below
// it is an exact float64 integer, and n/N keeps full precision.
const MaxPopulation = 1 << 40

// ErrDomain is wrapped by every error about an argument outside the domain of
// a formula (a fraction outside its interval, a count below one, a committee
// larger than the population).
var ErrDomain = errors.New("argument out of domain")

// Hypergeometric is the law of the number X of marked items in n draws
// without replacement from a population of N items of which K are marked:
// Pr[X = x] = C(K, x) C(N-K, n-x) / C(N, n). In the paper's 6.1, N is the
// number of nodes, K = floor(lambda N) the malicious ones and n the committee.
type Hypergeometric struct {
	Population int64 // N
	Marked     int64 // K
	Draws      int64 // n
}

// Validate reports an error wrapping ErrDomain unless 1 <= N <= MaxPopulation,
// 0 <= K <= N and 0 <= n <= N.
func (h Hypergeometric) Validate() error {
	var errs []error
	if h.Population < 1 || h.Population > MaxPopulation {
		errs = append(errs, fmt.Errorf("%w: population N = %d must be in [1, %d]", ErrDomain, h.Population, int64(MaxPopulation)))
	}
	if h.Marked < 0 || h.Marked > h.Population {
		errs = append(errs, fmt.Errorf("%w: marked K = %d must be in [0, N = %d]", ErrDomain, h.Marked, h.Population))
	}
	if h.Draws < 0 || h.Draws > h.Population {
		errs = append(errs, fmt.Errorf("%w: draws n = %d must be in [0, N = %d]", ErrDomain, h.Draws, h.Population))
	}
	return errors.Join(errs...)
}

// Support returns the smallest and largest x with Pr[X = x] > 0.
func (h Hypergeometric) Support() (lo, hi int64) {
	return max(0, h.Draws-(h.Population-h.Marked)), min(h.Draws, h.Marked)
}

// LogPMF returns ln Pr[X = x], and -Inf outside the support. h must be valid.
//
// The three binomial coefficients are never formed: following Loader's
// saddle-point method (the one R's dhyper uses), the probability is written
// as b(x; K, p) b(n-x; N-K, p) / b(n; N, p) with p = n/N, and each binomial
// term is evaluated as exp(-stirlerr terms - deviance terms)/sqrt(2 pi x(n-x)/n),
// in which the huge parts of the log-factorials cancel analytically. The
// result keeps a relative error near 1e-13 where a difference of lgamma
// values would lose about 1e-9 at N = 1e6.
func (h Hypergeometric) LogPMF(x int64) float64 {
	lo, hi := h.Support()
	if x < lo || x > hi {
		return math.Inf(-1)
	}
	N, K, n := float64(h.Population), float64(h.Marked), float64(h.Draws)
	p := n / N
	q := (N - n) / N
	return logBinomialTerm(float64(x), K, p, q) + logBinomialTerm(n-float64(x), N-K, p, q) - logBinomialTerm(n, N, p, q)
}

// LogUpperTail returns ln Pr[X >= x]. h must be valid.
//
// The terms from x upward are summed in log space (a running log-sum-exp),
// so tails far below the smallest float64 (1e-700 and less) come out exact.
// The first term comes from LogPMF and each next one from the ratio
// Pr[X = j+1]/Pr[X = j] = (K-j)(n-j) / ((j+1)(N-K-n+j+1)), which costs one
// logarithm. The law is log-concave, so that ratio decreases in j; once it is
// some r < 1 the rest of the tail is at most term*r/(1-r), and the sum stops
// when that bound is below 1e-17 of the sum: the result is then exact to
// float64 precision.
//
// When x is at or below the mode the tail is not small (at least the mode's
// own probability, 1/(n+1) or more), and it is computed as 1 - Pr[X <= x-1] with the lower tail summed the same way
// downward from x-1: both sums then start at their largest term and stop
// after a few standard deviations, where summing upward from far below the
// mode would cost a term per unit of distance to it.
func (h Hypergeometric) LogUpperTail(x int64) float64 {
	lo, hi := h.Support()
	if x > hi {
		return math.Inf(-1)
	}
	if x <= lo {
		return 0
	}
	N, K, n := float64(h.Population), float64(h.Marked), float64(h.Draws)
	mode := int64(math.Floor((n + 1) * (K + 1) / (N + 2)))
	if x <= mode {
		return math.Log1p(-math.Exp(h.logLowerTail(x - 1)))
	}
	return sumLogTerms(h.LogPMF(x), x, hi, +1, func(j float64) float64 {
		return (K - j) * (n - j) / ((j + 1) * (N - K - n + j + 1)) // Pr[X = j+1] / Pr[X = j]
	})
}

// logLowerTail returns ln Pr[X <= x] for x in [lo, hi) of the support.
func (h Hypergeometric) logLowerTail(x int64) float64 {
	lo, _ := h.Support()
	N, K, n := float64(h.Population), float64(h.Marked), float64(h.Draws)
	return sumLogTerms(h.LogPMF(x), x, lo, -1, func(j float64) float64 {
		return j * (N - K - n + j) / ((K - j + 1) * (n - j + 1)) // Pr[X = j-1] / Pr[X = j]
	})
}

// sumLogTerms returns the log of the sum of the terms from index from to end
// (both included), walking by step (+1 or -1), given the log of the first
// term and ratioAt(j), the ratio of the term after j to the term at j. The
// ratio must decrease along the walk (the law is log-concave); the sum stops
// once the geometric bound on the rest, term r/(1-r), is below 1e-17 of the
// total.
func sumLogTerms(first float64, from, end, step int64, ratioAt func(j float64) float64) float64 {
	const negligible = -39.1439465808987777 // ln(1e-17)
	term := first
	sumMax, sumScaled := term, 1.0 // sum = exp(sumMax) * sumScaled
	for j := from; j != end; j += step {
		ratio := ratioAt(float64(j))
		if ratio < 1 {
			rest := term + math.Log(ratio/(1-ratio))
			if rest < sumMax+math.Log(sumScaled)+negligible {
				break
			}
		}
		term += math.Log(ratio)
		if term > sumMax {
			sumScaled = sumScaled*math.Exp(sumMax-term) + 1
			sumMax = term
		} else {
			sumScaled += math.Exp(term - sumMax)
		}
	}
	return min(0, sumMax+math.Log(sumScaled))
}

// UpperTail returns Pr[X >= x]; it underflows to 0 below about 1e-308, where
// LogUpperTail still has the value. h must be valid.
func (h Hypergeometric) UpperTail(x int64) float64 { return math.Exp(h.LogUpperTail(x)) }

// lnSqrt2Pi is ln(sqrt(2 pi)).
const lnSqrt2Pi = 0.918938533204672741780329736406

// logBinomialTerm returns ln( C(n, x) p^x q^(n-x) ) for integral 0 <= x <= n
// and p + q = 1, both given so that neither is computed as 1 minus the other.
// It is Loader's dbinom_raw in log form.
func logBinomialTerm(x, n, p, q float64) float64 {
	switch {
	case p == 0:
		if x == 0 {
			return 0
		}
		return math.Inf(-1)
	case q == 0:
		if x == n {
			return 0
		}
		return math.Inf(-1)
	case x < 0 || x > n:
		return math.Inf(-1)
	case x == 0:
		if n == 0 {
			return 0
		}
		if p < 0.1 {
			return -deviance(n, n*q) - n*p
		}
		return n * math.Log(q)
	case x == n:
		if q < 0.1 {
			return -deviance(n, n*p) - n*q
		}
		return n * math.Log(p)
	}
	lc := stirlingError(n) - stirlingError(x) - stirlingError(n-x) - deviance(x, n*p) - deviance(n-x, n*q)
	lf := 2*lnSqrt2Pi + math.Log(x) + math.Log1p(-x/n)
	return lc - 0.5*lf
}

// stirlingError returns ln(n!) - ln(sqrt(2 pi n) (n/e)^n) for an integer
// n >= 1. Below 16 it is computed from lgamma, whose absolute error there is
// a few 1e-15; above, from the Stirling series, truncated where the next term
// is below 1e-17.
func stirlingError(n float64) float64 {
	const (
		s0 = 1.0 / 12
		s1 = 1.0 / 360
		s2 = 1.0 / 1260
		s3 = 1.0 / 1680
		s4 = 1.0 / 1188
	)
	if n <= 15 {
		lg, _ := math.Lgamma(n + 1)
		return lg - (n+0.5)*math.Log(n) + n - lnSqrt2Pi
	}
	nn := n * n
	switch {
	case n > 500:
		return (s0 - s1/nn) / n
	case n > 80:
		return (s0 - (s1-s2/nn)/nn) / n
	case n > 35:
		return (s0 - (s1-(s2-s3/nn)/nn)/nn) / n
	default:
		return (s0 - (s1-(s2-(s3-s4/nn)/nn)/nn)/nn) / n
	}
}

// deviance returns x ln(x/m) + m - x, the binomial deviance term, without
// the cancellation the direct formula suffers when x is close to m.
func deviance(x, m float64) float64 {
	if math.Abs(x-m) < 0.1*(x+m) {
		v := (x - m) / (x + m)
		s := (x - m) * v
		if math.Abs(s) < math.SmallestNonzeroFloat64 {
			return s
		}
		ej := 2 * x * v
		v *= v
		for j := 1; j < 1000; j++ {
			ej *= v
			next := s + ej/float64(2*j+1)
			if next == s {
				return next
			}
			s = next
		}
	}
	return x*math.Log(x/m) + m - x
}
