package planner

import (
	"errors"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want)) }

func TestSpeedupHandValues(t *testing.T) {
	cases := []struct {
		p, k, r float64
		f       NodeGain
		want    float64
		how     string
	}{
		// p = 1: 1 / (r/(f(r) k)) = f(r) k / r.
		{1, 16, 4, GainSqrt, 8, "2*16/4"},
		{1, 16, 1, GainSqrt, 16, "all budget into nodes: linear"},
		// p = 0: the serial part alone, f(r).
		{0, 16, 4, GainSqrt, 2, "sqrt(4)"},
		{0, 100, 9, GainSqrt, 3, "sqrt(9)"},
		// 1 / (0.1/2 + 0.9*4/(2*16)) = 1 / (0.05 + 0.1125) = 1/0.1625.
		{0.9, 16, 4, GainSqrt, 1 / 0.1625, "1/0.1625"},
		// k = r = 1: no change.
		{0.7, 1, 1, GainSqrt, 1, "k = r = 1"},
		// f = ln, r = e: f(r) = 1, so 1 / (0.5 + 0.5 e / 10).
		{0.5, 10, math.E, GainLog, 1 / (0.5 + 0.05*math.E), "1/(0.5+0.05e)"},
		// f = ln, p = 1: ln(r) k / r = ln(8) * 64 / 8.
		{1, 64, 8, GainLog, 8 * math.Log(8), "8 ln 8"},
	}
	for _, c := range cases {
		got, err := Speedup(c.p, c.k, c.r, c.f)
		if err != nil {
			t.Fatalf("Speedup(%v, %v, %v, %s): %v", c.p, c.k, c.r, c.f, err)
		}
		if !near(got, c.want) {
			t.Errorf("Speedup(%v, %v, %v, %s) = %.15g, want %s = %.15g", c.p, c.k, c.r, c.f, got, c.how, c.want)
		}
		psi, err := ScalabilityFromSpeedup(c.p, c.k, c.r, c.f)
		if err != nil || !near(psi, c.want/c.k) {
			t.Errorf("psi(%v, %v, %v, %s) = %v, %v; want %v", c.p, c.k, c.r, c.f, psi, err, c.want/c.k)
		}
	}
}

func TestSpeedupRejectsBadInput(t *testing.T) {
	cases := []struct {
		p, k, r float64
		f       NodeGain
	}{
		{-0.1, 16, 4, GainSqrt},
		{1.1, 16, 4, GainSqrt},
		{math.NaN(), 16, 4, GainSqrt},
		{0.5, 0, 4, GainSqrt},
		{0.5, -2, 4, GainSqrt},
		{0.5, math.Inf(1), 4, GainSqrt},
		{0.5, 16, 0, GainSqrt},
		{0.5, 16, -1, GainSqrt},
		{0.5, 16, 1, GainLog},   // ln 1 = 0
		{0.5, 16, 0.5, GainLog}, // ln 0.5 < 0
		{0.5, 16, math.NaN(), GainLog},
		{0.5, 16, 4, NodeGain(5)},
	}
	for _, c := range cases {
		if _, err := Speedup(c.p, c.k, c.r, c.f); !errors.Is(err, ErrDomain) {
			t.Errorf("Speedup(%v, %v, %v, %v): error %v, want ErrDomain", c.p, c.k, c.r, c.f, err)
		}
	}
	if _, err := ParseNodeGain("cube"); !errors.Is(err, ErrDomain) {
		t.Errorf("ParseNodeGain(cube): %v, want ErrDomain", err)
	}
	if _, _, err := BestSplit(0.5, 1, GainLog); !errors.Is(err, ErrDomain) {
		t.Errorf("BestSplit with f = log, k = 1: %v, want ErrDomain", err)
	}
	if _, _, err := BestSplit(0.5, 0.5, GainSqrt); !errors.Is(err, ErrDomain) {
		t.Errorf("BestSplit with k < 1: %v, want ErrDomain", err)
	}
}

// BestSplit finds the maximum over r in [1, k] that a fine grid finds, and
// the sqrt closed form r* = (1-p) k / p.
func TestBestSplitIsTheMaximum(t *testing.T) {
	if r, _, err := BestSplit(0.5, 16, GainSqrt); err != nil || !near(r, 16) {
		t.Errorf("p = 0.5, k = 16: r* = %v, %v; want (1-p)k/p = 16", r, err)
	}
	if r, _, err := BestSplit(0.8, 16, GainSqrt); err != nil || !near(r, 4) {
		t.Errorf("p = 0.8, k = 16: r* = %v, %v; want (1-p)k/p = 4", r, err)
	}
	if r, _, err := BestSplit(1, 16, GainSqrt); err != nil || !near(r, 1) {
		t.Errorf("p = 1: r* = %v, %v; want 1", r, err)
	}
	rapid.Check(t, func(rt *rapid.T) {
		p := rapid.Float64Range(0, 1).Draw(rt, "p")
		k := rapid.Float64Range(1.1, 500).Draw(rt, "k")
		f := NodeGain(rapid.IntRange(0, 1).Draw(rt, "f"))
		_, best, err := BestSplit(p, k, f)
		if err != nil {
			rt.Fatal(err)
		}
		const steps = 2000
		for i := 0; i <= steps; i++ {
			r := 1 + (k-1)*float64(i)/steps
			if f == GainLog && r == 1 {
				continue
			}
			s, err := Speedup(p, k, r, f)
			if err != nil {
				rt.Fatal(err)
			}
			if s > best*(1+1e-9) {
				rt.Fatalf("Speedup at r = %v is %v, above the best split's %v", r, s, best)
			}
		}
	})
}

func TestQualityScoreAndScalability(t *testing.T) {
	if q, err := QualityOfService(2*time.Second, 2*time.Second); err != nil || q != 0.5 {
		t.Errorf("Q(d = dhat) = %v, %v; want 0.5", q, err)
	}
	if q, err := QualityOfService(0, time.Second); err != nil || q != 1 {
		t.Errorf("Q(d = 0) = %v, %v; want 1", q, err)
	}
	if q, err := QualityOfService(3*time.Second, time.Second); err != nil || !near(q, 0.25) {
		t.Errorf("Q(3s, 1s) = %v, %v; want 1/4", q, err)
	}
	if _, err := QualityOfService(time.Second, 0); !errors.Is(err, ErrDomain) {
		t.Errorf("Q with dhat = 0: %v, want ErrDomain", err)
	}
	if _, err := QualityOfService(-time.Second, time.Second); !errors.Is(err, ErrDomain) {
		t.Errorf("Q with d < 0: %v, want ErrDomain", err)
	}
	base := Configuration{Throughput: 1000, Quality: 0.5, Cost: 400}
	if f, err := base.Score(); err != nil || f != 1.25 {
		t.Errorf("F_C = %v, %v; want 1000*0.5/400 = 1.25", f, err)
	}
	scaled := Configuration{Throughput: 8000, Quality: 0.4, Cost: 3200}
	if psi, err := Scalability(base, scaled); err != nil || !near(psi, 0.8) {
		t.Errorf("psi = %v, %v; want (8000*0.4/3200)/1.25 = 0.8", psi, err)
	}
	for _, c := range []Configuration{
		{Throughput: -1, Quality: 0.5, Cost: 1},
		{Throughput: 1, Quality: 1.5, Cost: 1},
		{Throughput: 1, Quality: 0.5, Cost: 0},
		{Throughput: math.Inf(1), Quality: 0.5, Cost: 1},
	} {
		if _, err := c.Score(); !errors.Is(err, ErrDomain) {
			t.Errorf("%+v: Score error %v, want ErrDomain", c, err)
		}
	}
	if _, err := Scalability(Configuration{Throughput: 0, Quality: 0.5, Cost: 1}, scaled); !errors.Is(err, ErrDomain) {
		t.Errorf("psi over F_C = 0: %v, want ErrDomain", err)
	}
}
