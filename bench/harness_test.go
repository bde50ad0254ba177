package bench

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"strings"
	"testing"
	"time"
)

// TestEveryQuickCaseRuns runs each case of a quick configuration for one
// iteration, so that a stage that stops working fails the test suite and not
// only the next benchmark run.
func TestEveryQuickCaseRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark body once")
	}
	cfg := Config{Quick: true, Dir: t.TempDir()}
	benchTime := flag.Lookup("test.benchtime")
	old := benchTime.Value.String()
	if err := benchTime.Value.Set("1x"); err != nil {
		t.Fatal(err)
	}
	defer benchTime.Value.Set(old)
	seen := map[string]bool{}
	for _, c := range Cases(cfg) {
		if seen[c.FullName()] {
			t.Errorf("case %s is listed twice", c.FullName())
		}
		seen[c.FullName()] = true
		br := testing.Benchmark(c.Run)
		if br.N < 1 || br.T <= 0 {
			t.Errorf("case %s did not run: N=%d T=%v", c.FullName(), br.N, br.T)
		}
	}
	for _, stage := range []string{"bls", "ed25519", "sha256", "merkle", "codec", "pebble"} {
		found := false
		for name := range seen {
			found = found || strings.HasPrefix(name, stage+"/")
		}
		if !found {
			t.Errorf("stage %s has no case", stage)
		}
	}
}

func TestCompare(t *testing.T) {
	results := []Result{
		{Case: "s/batch", NsPerOp: 1000},
		{Case: "s/single", NsPerOp: 100},
	}
	cmps := compare([]Comparison{
		{Name: "per item", Numerator: "s/batch", Denominator: "s/single", Scale: 40, Target: 0.4, AtMost: true},
		{Name: "cost", Numerator: "s/batch", Denominator: "s/single", Target: 5, AtMost: true},
		{Name: "speedup", Numerator: "s/batch", Denominator: "s/single", Target: 12},
		{Name: "missing", Numerator: "s/none", Denominator: "s/single", Target: 1},
	}, results)
	if len(cmps) != 3 {
		t.Fatalf("got %d comparisons, want 3 (the one with a missing case dropped)", len(cmps))
	}
	want := []struct {
		ratio float64
		met   bool
	}{{0.25, true}, {10, false}, {10, false}}
	for i, w := range want {
		if math.Abs(cmps[i].Ratio-w.ratio) > 1e-12 || cmps[i].Met != w.met {
			t.Errorf("%s: ratio %v met %v, want %v %v", cmps[i].Name, cmps[i].Ratio, cmps[i].Met, w.ratio, w.met)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{Filter: "^bls/"}).Validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
	err := Config{Filter: "(", BenchTime: -time.Second}.Validate()
	if err == nil || !strings.Contains(err.Error(), "filter") || !strings.Contains(err.Error(), "negative") {
		t.Errorf("want both problems reported, got %v", err)
	}
}

// TestRunWritesAReport runs one cheap case end to end and checks the report
// carries the machine profile and survives a JSON round trip, which is how
// the planner reads it.
func TestRunWritesAReport(t *testing.T) {
	rep, err := Run(context.Background(), Config{Filter: "^codec/vote/encode$", BenchTime: 10 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].NsPerOp <= 0 || rep.Results[0].Iterations < 1 {
		t.Fatalf("unexpected results %+v", rep.Results)
	}
	if rep.Profile.GoVersion == "" || rep.Profile.LogicalCores < 1 {
		t.Errorf("profile not filled: %+v", rep.Profile)
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if r, ok := back.Result("codec/vote/encode"); !ok || r.NsPerOp != rep.Results[0].NsPerOp {
		t.Errorf("round trip lost the result: %+v", back.Results)
	}
	var table strings.Builder
	if err := WriteTable(&table, rep); err != nil || !strings.Contains(table.String(), "codec/vote/encode") {
		t.Errorf("table %q, err %v", table.String(), err)
	}
}
