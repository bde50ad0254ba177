package planner

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"pgregory.net/rapid"
)

// exactUpperTail returns Pr[X >= x] for X ~ Hypergeometric(N, K, n) as an
// exact rational: sum over j >= x of C(K, j) C(N-K, n-j), over C(N, n). The
// binomials are stepped from one j to the next by exact multiplication and
// division, so large N stay fast.
func exactUpperTail(N, K, n, x int64) *big.Rat {
	lo, hi := max(0, n-(N-K)), min(n, K)
	x = max(x, lo)
	sum := new(big.Int)
	if x <= hi {
		left := new(big.Int).Binomial(K, x)      // C(K, j)
		right := new(big.Int).Binomial(N-K, n-x) // C(N-K, n-j)
		term, small := new(big.Int), new(big.Int)
		for j := x; ; j++ {
			sum.Add(sum, term.Mul(left, right))
			if j == hi {
				break
			}
			// C(K, j+1) = C(K, j) (K-j) / (j+1)
			left.Mul(left, small.SetInt64(K-j))
			left.Quo(left, small.SetInt64(j+1))
			// C(N-K, n-j-1) = C(N-K, n-j) (n-j) / (N-K-n+j+1)
			right.Mul(right, small.SetInt64(n-j))
			right.Quo(right, small.SetInt64(N-K-n+j+1))
		}
	}
	return new(big.Rat).SetFrac(sum, new(big.Int).Binomial(N, n))
}

// logRat returns ln r for r > 0, -Inf for r = 0, computed from the exact
// value's mantissa and binary exponent, so it does not underflow.
func logRat(r *big.Rat) float64 {
	if r.Sign() == 0 {
		return math.Inf(-1)
	}
	f := new(big.Float).SetPrec(200).SetRat(r)
	mant := new(big.Float)
	exp := f.MantExp(mant)
	m, _ := mant.Float64()
	return math.Log(m) + float64(exp)*math.Ln2
}

// sameLog says whether two natural logs of probabilities agree to a
// relative error of the probabilities below tol.
func sameLog(got, want, tol float64) bool {
	if math.IsInf(want, -1) || math.IsInf(got, -1) {
		return math.IsInf(want, -1) && math.IsInf(got, -1)
	}
	return math.Abs(math.Expm1(got-want)) < tol
}

func TestHypergeometricKnownValues(t *testing.T) {
	cases := []struct {
		name    string
		h       Hypergeometric
		x       int64
		pmf     float64 // Pr[X = x]
		tail    float64 // Pr[X >= x]
		formula string
	}{
		// Four aces in a five-card poker hand: C(4,4) C(48,1) / C(52,5).
		{"four aces", Hypergeometric{52, 4, 5}, 4, 48.0 / 2598960, 48.0 / 2598960, "48/2598960"},
		// Fisher's tea tasting: 4 of 8 cups with milk first, 4 picked.
		{"tea, all right", Hypergeometric{8, 4, 4}, 4, 1.0 / 70, 1.0 / 70, "1/70"},
		{"tea, three or more", Hypergeometric{8, 4, 4}, 3, 16.0 / 70, 17.0 / 70, "16/70, 17/70"},
		// One draw is a Bernoulli(K/N).
		{"one draw", Hypergeometric{1000, 250, 1}, 1, 0.25, 0.25, "K/N"},
		// Two draws: Pr[both marked] = K(K-1) / (N(N-1)).
		{"two draws", Hypergeometric{400, 100, 2}, 2, 100.0 * 99 / (400 * 399), 100.0 * 99 / (400 * 399), "K(K-1)/(N(N-1))"},
	}
	for _, c := range cases {
		if got := math.Exp(c.h.LogPMF(c.x)); math.Abs(got/c.pmf-1) > 1e-12 {
			t.Errorf("%s: Pr[X = %d] = %.17g, want %s = %.17g", c.name, c.x, got, c.formula, c.pmf)
		}
		if got := c.h.UpperTail(c.x); math.Abs(got/c.tail-1) > 1e-12 {
			t.Errorf("%s: Pr[X >= %d] = %.17g, want %s = %.17g", c.name, c.x, got, c.formula, c.tail)
		}
	}
}

func TestHypergeometricDegenerateCases(t *testing.T) {
	// n = N: X = K for sure.
	h := Hypergeometric{Population: 300, Marked: 120, Draws: 300}
	if got := h.UpperTail(120); got != 1 {
		t.Errorf("n = N: Pr[X >= K] = %v, want 1", got)
	}
	if got := h.UpperTail(121); got != 0 {
		t.Errorf("n = N: Pr[X > K] = %v, want 0", got)
	}
	if got := h.LogPMF(119); !math.IsInf(got, -1) {
		t.Errorf("n = N: ln Pr[X = K-1] = %v, want -Inf", got)
	}
	// K = 0: X = 0.
	h = Hypergeometric{Population: 1_000_000, Marked: 0, Draws: 5000}
	if got := h.UpperTail(1); got != 0 {
		t.Errorf("K = 0: Pr[X >= 1] = %v, want 0", got)
	}
	if got := h.UpperTail(0); got != 1 {
		t.Errorf("K = 0: Pr[X >= 0] = %v, want 1", got)
	}
	// K = N: X = n.
	h = Hypergeometric{Population: 77, Marked: 77, Draws: 10}
	if got := h.UpperTail(10); got != 1 {
		t.Errorf("K = N: Pr[X >= n] = %v, want 1", got)
	}
	// n = 0: X = 0.
	h = Hypergeometric{Population: 77, Marked: 30, Draws: 0}
	if got := h.UpperTail(1); got != 0 {
		t.Errorf("n = 0: Pr[X >= 1] = %v, want 0", got)
	}
	// The support's lower end: drawing 90 of 100 with 20 marked forces 10.
	h = Hypergeometric{Population: 100, Marked: 20, Draws: 90}
	if lo, hi := h.Support(); lo != 10 || hi != 20 {
		t.Errorf("support = [%d, %d], want [10, 20]", lo, hi)
	}
	if got := h.UpperTail(10); got != 1 {
		t.Errorf("Pr[X >= lower end] = %v, want 1", got)
	}
}

func TestHypergeometricValidate(t *testing.T) {
	bad := []Hypergeometric{
		{Population: 0, Marked: 0, Draws: 0},
		{Population: 10, Marked: 11, Draws: 1},
		{Population: 10, Marked: -1, Draws: 1},
		{Population: 10, Marked: 1, Draws: 11},
		{Population: MaxPopulation + 1, Marked: 1, Draws: 1},
	}
	for _, h := range bad {
		if err := h.Validate(); !errors.Is(err, ErrDomain) {
			t.Errorf("%+v: Validate = %v, want ErrDomain", h, err)
		}
	}
	if err := (Hypergeometric{Population: 10, Marked: 10, Draws: 10}).Validate(); err != nil {
		t.Errorf("valid law rejected: %v", err)
	}
}

// The log-space tail agrees with exact rational arithmetic to a relative
// error below 1e-9 for populations up to a few thousand.
func TestHypergeometricTailMatchesExactArithmetic(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		N := rapid.Int64Range(1, 3000).Draw(rt, "N")
		K := rapid.Int64Range(0, N).Draw(rt, "K")
		n := rapid.Int64Range(0, N).Draw(rt, "n")
		x := rapid.Int64Range(0, n+1).Draw(rt, "x")
		h := Hypergeometric{Population: N, Marked: K, Draws: n}
		want := logRat(exactUpperTail(N, K, n, x))
		if got := h.LogUpperTail(x); !sameLog(got, want, 1e-9) {
			rt.Fatalf("ln Pr[X >= %d] = %.15g, exact %.15g", x, got, want)
		}
		pmf := new(big.Rat).Sub(exactUpperTail(N, K, n, x), exactUpperTail(N, K, n, x+1))
		if got, want := h.LogPMF(x), logRat(pmf); !sameLog(got, want, 1e-9) {
			rt.Fatalf("ln Pr[X = %d] = %.15g, exact %.15g", x, got, want)
		}
	})
}

// At N = 1e6 the tail still matches exact arithmetic to 1e-10 (a difference
// of lgamma values would not: lgamma(1e6) is 1.3e7, whose last bit is 2e-9),
// including tails far below the smallest float64.
func TestHypergeometricLargePopulation(t *testing.T) {
	cases := []struct{ N, K, n, x int64 }{
		{1_000_000, 250_000, 200, 67},          // committee of 200, more than a third malicious
		{1_000_000, 250_000, 200, 120},         // deep tail
		{1_000_000, 250_000, 1000, 334},        // committee of 1000
		{1_000_000, 333_333, 600, 201},         // lambda close to rho
		{1_000_000, 100_000, 2000, 1500},       // about 1e-1000
		{1_000_000, 500_000, 999_990, 499_995}, // at the mode: 1 - lower tail
		{1_000_000, 400_000, 1000, 334},        // far below the mode: close to 1
		{1_000_000, 400_000, 1000, 390},        // just below the mode
	}
	for _, c := range cases {
		h := Hypergeometric{Population: c.N, Marked: c.K, Draws: c.n}
		want := logRat(exactUpperTail(c.N, c.K, c.n, c.x))
		if got := h.LogUpperTail(c.x); !sameLog(got, want, 1e-10) {
			t.Errorf("N=%d K=%d n=%d: ln Pr[X >= %d] = %.15g, exact %.15g", c.N, c.K, c.n, c.x, got, want)
		}
	}
}

// Raising the threshold can only lower the tail.
func TestHypergeometricTailDecreasesWithThreshold(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		N := rapid.Int64Range(1, 1_000_000).Draw(rt, "N")
		K := rapid.Int64Range(0, N).Draw(rt, "K")
		n := rapid.Int64Range(1, min(N, 5000)).Draw(rt, "n")
		rho1 := rapid.Float64Range(0.01, 0.99).Draw(rt, "rho1")
		rho2 := rapid.Float64Range(rho1, 0.99).Draw(rt, "rho2")
		h := Hypergeometric{Population: N, Marked: K, Draws: n}
		x1 := int64(math.Floor(rho1*float64(n))) + 1
		x2 := int64(math.Floor(rho2*float64(n))) + 1
		if a, b := h.LogUpperTail(x1), h.LogUpperTail(x2); b > a+1e-12 {
			rt.Fatalf("tail at rho %v (%v) above tail at rho %v (%v)", rho2, b, rho1, a)
		}
	})
}
