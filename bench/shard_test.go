package bench

import (
	"math"
	"testing"
)

// A comparison naming a metric compares that custom metric of the two
// cases, not their time.
func TestCompareMetric(t *testing.T) {
	results := []Result{
		{Case: "s/eight", NsPerOp: 5, Extra: map[string]float64{"tps": 7400}},
		{Case: "s/one", NsPerOp: 1, Extra: map[string]float64{"tps": 1000}},
		{Case: "s/none", NsPerOp: 1},
	}
	cmps := compare([]Comparison{
		{Name: "scaling", Numerator: "s/eight", Denominator: "s/one", Metric: "tps", Target: 7},
		{Name: "ratio below", Numerator: "s/one", Denominator: "s/eight", Metric: "tps", Target: 0.5},
		{Name: "missing metric", Numerator: "s/eight", Denominator: "s/none", Metric: "tps", Target: 1},
	}, results)
	if len(cmps) != 2 {
		t.Fatalf("got %d comparisons, want 2 (the one without the metric dropped)", len(cmps))
	}
	if math.Abs(cmps[0].Ratio-7.4) > 1e-12 || !cmps[0].Met {
		t.Errorf("scaling: ratio %v met %v, want 7.4 true", cmps[0].Ratio, cmps[0].Met)
	}
	if cmps[1].Met {
		t.Errorf("ratio below: %v met", cmps[1].Ratio)
	}
}
