package planner

import (
	"errors"
	"math"
	"testing"

	"pgregory.net/rapid"
)

func TestToleratedBoundary(t *testing.T) {
	cases := []struct {
		rho              float64
		n                int64
		paper, consensus int64
		why              string
	}{
		{1.0 / 3, 3, 1, 0, "rho n = 1 exactly: the paper survives 1, PBFT with n = 3 survives none"},
		{1.0 / 3, 4, 1, 1, "n = 3f+1 with f = 1"},
		{1.0 / 3, 6, 2, 1, "floor((6-1)/3) = 1"},
		{1.0 / 3, 7, 2, 2, "n = 3f+1 with f = 2"},
		{1.0 / 3, 400, 133, 133, "floor(399/3) = 133"},
		{0.3333333333, 3, 1, 0, "a decimal 1/3 still makes rho n = 1"},
		{0.3333333333, 999, 333, 332, "and rho n = 333"},
		{0.25, 10, 2, 2, "rho n = 2.5"},
		{0.5, 1, 0, 0, "rho n = 0.5: nobody"},
		{0.1, 5, 0, 0, "rho n = 0.5"},
	}
	for _, c := range cases {
		if got := TolerancePaper.Tolerated(c.rho, c.n); got != c.paper {
			t.Errorf("paper rule, rho %v, n %d: tolerates %d, want %d (%s)", c.rho, c.n, got, c.paper, c.why)
		}
		if got := ToleranceConsensus.Tolerated(c.rho, c.n); got != c.consensus {
			t.Errorf("consensus rule, rho %v, n %d: tolerates %d, want %d (%s)", c.rho, c.n, got, c.consensus, c.why)
		}
	}
	// The consensus rule is the node's f = floor((n-1)/3) for rho = 1/3.
	for n := int64(1); n <= 2000; n++ {
		if got, want := ToleranceConsensus.Tolerated(1.0/3, n), (n-1)/3; got != want {
			t.Fatalf("consensus rule, n %d: tolerates %d, want floor((n-1)/3) = %d", n, got, want)
		}
	}
}

// Pr[A_i] is eq. 6.1 summed exactly, and the union bound is min(1, m Pr[A_i])
// with m = floor(N/n).
func TestFailureIsEquation61(t *testing.T) {
	cases := []struct {
		a Adversary
		n int64
	}{
		{Adversary{Nodes: 400, Share: 0.25, Threshold: 1.0 / 3}, 100},
		{Adversary{Nodes: 400, Share: 0.25, Threshold: 1.0 / 3, Rule: ToleranceConsensus}, 99},
		{Adversary{Nodes: 10_000, Share: 0.2, Threshold: 1.0 / 3}, 333},
		{Adversary{Nodes: 1_000_000, Share: 0.25, Threshold: 1.0 / 3}, 200},
		{Adversary{Nodes: 1000, Share: 0.4, Threshold: 1.0 / 3}, 30}, // union bound above 1
	}
	for _, c := range cases {
		f, err := c.a.Failure(c.n)
		if err != nil {
			t.Fatal(err)
		}
		K := int64(math.Floor(c.a.Share * float64(c.a.Nodes)))
		if f.Malicious != K {
			t.Errorf("%+v: K = %d, want %d", c.a, f.Malicious, K)
		}
		want := logRat(exactUpperTail(c.a.Nodes, K, c.n, f.Tolerated+1))
		if !sameLog(f.LogOne, want, 1e-9) {
			t.Errorf("%+v n=%d: ln Pr[A_i] = %.15g, exact %.15g", c.a, c.n, f.LogOne, want)
		}
		m := c.a.Nodes / c.n
		if f.Committees != m {
			t.Errorf("%+v n=%d: m = %d, want %d", c.a, c.n, f.Committees, m)
		}
		if wantUnion := min(1, float64(m)*math.Exp(want)); math.Abs(f.Union()-wantUnion) > 1e-9*wantUnion {
			t.Errorf("%+v n=%d: union = %v, want %v", c.a, c.n, f.Union(), wantUnion)
		}
	}
}

// The smallest committee for N = 400 is checked against exact arithmetic:
// it meets the target and every smaller size misses it.
func TestSmallestCommitteeAgainstExactArithmetic(t *testing.T) {
	for _, rule := range []Tolerance{TolerancePaper, ToleranceConsensus} {
		for _, target := range []float64{1e-6, 1e-9} {
			a := Adversary{Nodes: 400, Share: 0.25, Threshold: 1.0 / 3, Rule: rule}
			got, err := a.SmallestCommittee(target, CriterionUnion, a.Nodes)
			if err != nil {
				t.Fatal(err)
			}
			for n := int64(1); n <= got.Committee; n++ {
				m := float64(a.Nodes / n)
				tail := exactUpperTail(a.Nodes, 100, n, rule.Tolerated(a.Threshold, n)+1)
				union := math.Min(1, m*math.Exp(logRat(tail)))
				if meets := union <= target; meets != (n == got.Committee) {
					t.Fatalf("%s rule, target %g: search returned n = %d, but exact union bound at n = %d is %g",
						rule, target, got.Committee, n, union)
				}
			}
		}
	}
}

// At N = 1e4 and 1e6 the returned size meets the target under exact
// arithmetic and the twenty sizes below it miss.
func TestSmallestCommitteeLargeNetworks(t *testing.T) {
	for _, N := range []int64{10_000, 1_000_000} {
		for _, crit := range []Criterion{CriterionUnion, CriterionCommittee} {
			a := Adversary{Nodes: N, Share: 0.25, Threshold: 1.0 / 3, Rule: ToleranceConsensus}
			const target = 1e-9
			got, err := a.SmallestCommittee(target, crit, N)
			if err != nil {
				t.Fatal(err)
			}
			K := a.Malicious()
			for n := got.Committee - 20; n <= got.Committee; n++ {
				p := math.Exp(logRat(exactUpperTail(N, K, n, a.Rule.Tolerated(a.Threshold, n)+1)))
				if crit == CriterionUnion {
					p = math.Min(1, float64(N/n)*p)
				}
				if meets := p <= target; meets != (n == got.Committee) {
					t.Fatalf("N %d, %s: search returned n = %d, but exact probability at n = %d is %g", N, crit, got.Committee, n, p)
				}
			}
		}
	}
}

// The failure probability is not monotone in n: the search must return the
// smallest size that meets the target even when the next size misses it.
func TestSmallestCommitteeIsNotAMonotoneSearch(t *testing.T) {
	a := Adversary{Nodes: 400, Share: 0.25, Threshold: 1.0 / 3, Rule: TolerancePaper}
	at := func(n int64) float64 {
		return math.Exp(logRat(exactUpperTail(400, 100, n, TolerancePaper.Tolerated(a.Threshold, n)+1)))
	}
	// n = 234 tolerates 78 and n = 235 still only 78, so 235 fails more often.
	if !(at(235) > at(234)) {
		t.Fatalf("exact Pr[A_i] at 234 = %g, at 235 = %g: expected a rise", at(234), at(235))
	}
	target := (at(234) + at(235)) / 2
	got, err := a.SmallestCommittee(target, CriterionCommittee, 400)
	if err != nil {
		t.Fatal(err)
	}
	for n := int64(1); n < 234; n++ {
		if at(n) <= target {
			t.Fatalf("test setup: n = %d already meets %g", n, target)
		}
	}
	if got.Committee != 234 {
		t.Fatalf("smallest committee = %d, want 234 (235 misses the target, 234 meets it)", got.Committee)
	}
}

func TestSecurityErrors(t *testing.T) {
	good := Adversary{Nodes: 1000, Share: 0.25, Threshold: 1.0 / 3}
	bad := []Adversary{
		{Nodes: 0, Share: 0.25, Threshold: 1.0 / 3},
		{Nodes: 1000, Share: -0.1, Threshold: 1.0 / 3},
		{Nodes: 1000, Share: 1, Threshold: 1.0 / 3},
		{Nodes: 1000, Share: math.NaN(), Threshold: 1.0 / 3},
		{Nodes: 1000, Share: 0.25, Threshold: 0},
		{Nodes: 1000, Share: 0.25, Threshold: 1},
		{Nodes: 1000, Share: 0.25, Threshold: 1.0 / 3, Rule: 7},
	}
	for _, a := range bad {
		if _, err := a.Failure(10); !errors.Is(err, ErrDomain) {
			t.Errorf("%+v: Failure error %v, want ErrDomain", a, err)
		}
		if _, err := a.SmallestCommittee(1e-6, CriterionUnion, 100); !errors.Is(err, ErrDomain) {
			t.Errorf("%+v: SmallestCommittee error %v, want ErrDomain", a, err)
		}
	}
	for _, n := range []int64{0, -1, 1001} {
		if _, err := good.Failure(n); !errors.Is(err, ErrDomain) {
			t.Errorf("committee %d: error %v, want ErrDomain", n, err)
		}
	}
	for _, target := range []float64{0, 1, -1, math.NaN()} {
		if _, err := good.SmallestCommittee(target, CriterionUnion, 100); !errors.Is(err, ErrDomain) {
			t.Errorf("target %v: error %v, want ErrDomain", target, err)
		}
	}
	if _, err := good.SmallestCommittee(1e-6, Criterion(9), 100); !errors.Is(err, ErrDomain) {
		t.Errorf("unknown criterion: error %v, want ErrDomain", err)
	}
	if _, err := good.SmallestCommittee(1e-6, CriterionUnion, 0); !errors.Is(err, ErrDomain) {
		t.Errorf("largest committee 0: error %v, want ErrDomain", err)
	}
	// More malicious nodes than any committee tolerates at n = N.
	strong := Adversary{Nodes: 1000, Share: 0.4, Threshold: 1.0 / 3}
	if _, err := strong.SmallestCommittee(1e-9, CriterionUnion, 1000); !errors.Is(err, ErrUnreachable) {
		t.Errorf("lambda above rho: error %v, want ErrUnreachable", err)
	}
	if _, err := good.SmallestCommittee(1e-9, CriterionUnion, 10); !errors.Is(err, ErrUnreachable) {
		t.Errorf("search capped at 10: error %v, want ErrUnreachable", err)
	}
	for _, s := range []string{"", "Paper", "bft"} {
		if _, err := ParseTolerance(s); !errors.Is(err, ErrDomain) {
			t.Errorf("ParseTolerance(%q) = %v, want ErrDomain", s, err)
		}
		if _, err := ParseCriterion(s); !errors.Is(err, ErrDomain) {
			t.Errorf("ParseCriterion(%q) = %v, want ErrDomain", s, err)
		}
	}
}

// Invariants of the failure figures over random settings: probabilities in
// [0, 1], the union bound at least one committee's probability, and the
// consensus rule (one member fewer tolerated at most) never safer than the
// paper's.
func TestFailureInvariants(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		N := rapid.Int64Range(1, 1_000_000).Draw(rt, "N")
		a := Adversary{
			Nodes:     N,
			Share:     rapid.Float64Range(0, 0.99).Draw(rt, "lambda"),
			Threshold: rapid.Float64Range(0.01, 0.99).Draw(rt, "rho"),
		}
		n := rapid.Int64Range(1, min(N, 3000)).Draw(rt, "n")
		paper, err := a.Failure(n)
		if err != nil {
			rt.Fatal(err)
		}
		a.Rule = ToleranceConsensus
		consensus, err := a.Failure(n)
		if err != nil {
			rt.Fatal(err)
		}
		for _, f := range []CommitteeFailure{paper, consensus} {
			if !(f.LogOne <= 0 && f.LogUnion <= 0 && f.LogUnion >= f.LogOne-1e-12) {
				rt.Fatalf("ln Pr[A_i] %v, ln union %v", f.LogOne, f.LogUnion)
			}
		}
		if consensus.LogOne < paper.LogOne-1e-12 {
			rt.Fatalf("consensus rule %v below paper rule %v", consensus.LogOne, paper.LogOne)
		}
	})
}
