package planner

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thinkey/thinkey/bench"
)

const sampleProfile = "testdata/profile-sample.json"

func runPlan(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := Command()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage = true
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestSecurityCommand(t *testing.T) {
	out, err := runPlan(t, "security", "--nodes", "400", "--adversary", "1/4", "--threshold", "1/3", "--target-failure", "1e-6")
	if err != nil {
		t.Fatal(err)
	}
	// 234 (paper) and 235 (consensus) are checked against exact arithmetic
	// in TestSmallestCommitteeAgainstExactArithmetic.
	for _, want := range []string{"K = floor(lambda N) = 100", "paper      234", "consensus  235", "smallest for target"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = runPlan(t, "security", "--nodes", "1000000", "--committee", "200")
	if err != nil {
		t.Fatal(err)
	}
	// Pr[X >= 67] for 200 draws from 1e6 with 250000 marked is 4.36e-3
	// (TestHypergeometricLargePopulation checks it exactly); m = 5000.
	if !strings.Contains(out, "5000") || !strings.Contains(out, "given") {
		t.Errorf("output:\n%s", out)
	}
}

// When only the rule shown for comparison cannot meet the target within the
// search range, the command still answers for the chosen rule.
func TestSecurityCommandOtherRuleUnreachable(t *testing.T) {
	// N = 1e4, eps = 1e-9: the paper rule needs 1020, the consensus rule 1027
	// (TestSmallestCommitteeLargeNetworks checks the latter exactly).
	out, err := runPlan(t, "security", "--nodes", "10000", "--target-failure", "1e-9", "--max-committee", "1024")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "paper  1020") || !strings.Contains(out, "consensus rule: no committee of up to 1024 members meets the target") {
		t.Errorf("output:\n%s", out)
	}
	if _, err := runPlan(t, "security", "--nodes", "10000", "--target-failure", "1e-9", "--max-committee", "1024", "--tolerance", "consensus"); !errors.Is(err, ErrUnreachable) {
		t.Errorf("consensus rule capped at 1024: %v, want ErrUnreachable", err)
	}
}

func TestSpeedupAndScalabilityCommands(t *testing.T) {
	out, err := runPlan(t, "speedup", "--p", "0.9", "--k", "16", "--r", "4", "--f", "sqrt")
	if err != nil {
		t.Fatal(err)
	}
	// 1 / (0.1/2 + 0.9*4/(2*16)) = 6.15385; / 16 = 0.384615.
	if !strings.Contains(out, "6.15385") || !strings.Contains(out, "0.384615") {
		t.Errorf("speedup output:\n%s", out)
	}
	out, err = runPlan(t, "scalability", "--tps", "1000", "--latency", "2s", "--target-latency", "2s", "--cost", "400",
		"--scaled-tps", "8000", "--scaled-latency", "3s", "--scaled-cost", "3200")
	if err != nil {
		t.Fatal(err)
	}
	// F_C = 1000*0.5/400 = 1.25; scaled Q = 2/5, F = 8000*0.4/3200 = 1; psi 0.8.
	for _, want := range []string{"1.25", "0.4000", "psi = F_Ck / F_C = 0.8"} {
		if !strings.Contains(out, want) {
			t.Errorf("scalability output lacks %q:\n%s", want, out)
		}
	}
}

func TestCapacityCommandWritesPlots(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plots")
	out, err := runPlan(t, "capacity", "--profile", sampleProfile, "--target-tps", "10000", "--target-latency", "2s",
		"--adversary", "0.25", "--threshold", "1/3", "--target-failure", "1e-6", "--block-size", "1000", "--out-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"committee size n", "transaction chains m", "nodes N = (m+1) n", "throughput per chain",
		"confirmation d", "F_C = T Q / S", "block time", "plots written"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, name := range []string{"speedup-sqrt", "speedup-log", "failure", "throughput", "blocktime"} {
		svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(svg, []byte("<?xml")) && !bytes.HasPrefix(svg, []byte("<svg")) {
			t.Errorf("%s.svg starts %q", name, svg[:min(len(svg), 20)])
		}
		png, err := os.ReadFile(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 1000 {
			t.Errorf("%s.png is not a PNG image (%d bytes)", name, len(png))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 10 {
		t.Errorf("%d files in the output directory, want 10 (no temporaries left)", len(entries))
	}
}

func TestSecurityAndSpeedupPlots(t *testing.T) {
	dir := t.TempDir()
	if _, err := runPlan(t, "security", "--nodes", "10000", "--target-failure", "1e-9", "--out-dir", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := runPlan(t, "speedup", "--out-dir", dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"failure.svg", "failure.png", "speedup-sqrt.svg", "speedup-log.png"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestBadCommandLinesAreRejected(t *testing.T) {
	profileWithout := writeProfileWithout(t, "bls/votes/")
	garbage := filepath.Join(t.TempDir(), "garbage.json")
	if err := os.WriteFile(garbage, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.json")
	if err := os.WriteFile(empty, []byte(`{"results": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	capacity := []string{"capacity", "--profile", sampleProfile, "--target-tps", "10000", "--target-latency", "2s"}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"security", "--nodes", "0", "--committee", "1"}, []string{"--nodes 0: must be in [1,"}},
		{[]string{"security", "--nodes", "100", "--adversary", "1.5", "--committee", "10"}, []string{"--adversary 1.5: must be in (0, 1)"}},
		{[]string{"security", "--nodes", "100", "--adversary", "0", "--threshold", "1", "--committee", "10"},
			[]string{"--adversary 0: must be in (0, 1)", "--threshold 1: must be in (0, 1)"}},
		{[]string{"security", "--nodes", "100", "--threshold", "x/3", "--committee", "10"}, []string{"threshold", "not a ratio"}},
		{[]string{"security", "--nodes", "100", "--threshold", "1/0", "--committee", "10"}, []string{"divides by zero"}},
		{[]string{"security", "--nodes", "100"}, []string{"give --committee n, --target-failure p, or both"}},
		{[]string{"security", "--nodes", "100", "--committee", "101"}, []string{"--committee 101: must be in [1, --nodes = 100]"}},
		{[]string{"security", "--nodes", "100", "--target-failure", "0"}, []string{"--target-failure 0: must be in (0, 1)"}},
		{[]string{"security", "--nodes", "100", "--target-failure", "1e-6", "--criterion", "all"}, []string{"--criterion \"all\""}},
		{[]string{"security", "--nodes", "100", "--target-failure", "1e-6", "--tolerance", "bft"}, []string{"--tolerance \"bft\""}},
		{[]string{"security", "--nodes", "1000", "--adversary", "0.45", "--target-failure", "1e-9"}, []string{"unreachable"}},
		{[]string{"security", "--nodes", "1000", "--target-failure", "1e-9", "--max-committee", "10"},
			[]string{"no committee of 1 to 10 members", "a larger --max-committee searches further"}},
		{[]string{"security", "--nodes", "1000", "--target-failure", "1e-9", "--max-committee", "0"}, []string{"--max-committee 0: must be at least 1"}},
		{[]string{"security", "--nodes", "100", "--committee", "10", "extra"}, []string{"unknown command"}},
		{[]string{"speedup", "--p", "1.5"}, []string{"--p 1.5: must be in [0, 1]"}},
		{[]string{"speedup", "--k", "0"}, []string{"--k 0: must be finite and positive"}},
		{[]string{"speedup", "--r", "1", "--f", "log"}, []string{"--r 1", "needs r > 1"}},
		{[]string{"speedup", "--r", "-2"}, []string{"--r -2", "needs r > 0"}},
		{[]string{"speedup", "--r", "many"}, []string{"--r \"many\": want a number or best"}},
		{[]string{"speedup", "--f", "cube"}, []string{"--f \"cube\": want sqrt or log"}},
		{[]string{"speedup", "--f", "log", "--k", "1"}, []string{"--r best", "above 1 for f = log"}},
		{[]string{"scalability", "--tps", "10", "--latency", "1s"}, []string{"--target-latency 0s: must be positive"}},
		{[]string{"scalability", "--tps", "10", "--latency", "1s", "--target-latency", "1s", "--scaled-tps", "5"},
			[]string{"give all of --scaled-tps, --scaled-latency, --scaled-cost, or none"}},
		{[]string{"capacity", "--target-tps", "10000", "--target-latency", "2s"}, []string{"--profile is required"}},
		{append(capacity[:len(capacity):len(capacity)], "--adversary", "2"), []string{"--adversary 2: must be in (0, 1)"}},
		{[]string{"capacity", "--profile", sampleProfile, "--target-tps", "-5", "--target-latency", "0s"},
			[]string{"--target-tps -5: must be finite and positive", "--target-latency 0s: must be positive"}},
		{append(capacity[:len(capacity):len(capacity)], "--block-size", "0"), []string{"--block-size 0"}},
		{append(capacity[:len(capacity):len(capacity)], "--committee", "5000"), []string{"--committee 5000", "certificate"}},
		{append(capacity[:len(capacity):len(capacity)], "--bandwidth-mbit", "0"), []string{"--bandwidth-mbit 0"}},
		{append(capacity[:len(capacity):len(capacity)], "--latency", "-1s"), []string{"--latency -1s"}},
		{append(capacity[:len(capacity):len(capacity)], "--message-size", "0"), []string{"--message-size 0"}},
		{append(capacity[:len(capacity):len(capacity)], "--execution-cost", "-1us"), []string{"--execution-cost -1µs"}},
		{append(capacity[:len(capacity):len(capacity)], "--target-failure", "2"), []string{"--target-failure 2"}},
		{[]string{"capacity", "--profile", "does-not-exist.json", "--target-tps", "1", "--target-latency", "1s"},
			[]string{"read profile", "no such file"}},
		{[]string{"capacity", "--profile", garbage, "--target-tps", "1", "--target-latency", "1s"}, []string{"not a bench report: decode"}},
		{[]string{"capacity", "--profile", empty, "--target-tps", "1", "--target-latency", "1s"}, []string{"holds no results", "thinkey bench --out"}},
		{[]string{"capacity", "--profile", profileWithout, "--target-tps", "1", "--target-latency", "1s"},
			[]string{"bls/votes/n=<committee>/batch", "thinkey bench --filter '^bls/votes/n=[0-9]+/batch$'"}},
		{append(capacity[:len(capacity):len(capacity)], "--root-confirmation", "--profile", writeProfileWithout(t, "bls/verify/single")),
			[]string{"bls/verify/single", "thinkey bench --filter '^bls/verify/single$'"}},
	}
	for _, c := range cases {
		dir := filepath.Join(t.TempDir(), "plots")
		args := append(c.args[:len(c.args):len(c.args)], "--out-dir", dir)
		if c.args[0] == "scalability" || strings.Contains(strings.Join(c.args, " "), "extra") {
			args = c.args // no --out-dir flag, or it would hide the error under test
		}
		_, err := runPlan(t, args...)
		if err == nil {
			t.Errorf("plan %s: accepted", strings.Join(c.args, " "))
			continue
		}
		for _, want := range c.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("plan %s: error %q does not mention %q", strings.Join(c.args, " "), err, want)
			}
		}
		if _, statErr := os.Stat(dir); !errors.Is(statErr, os.ErrNotExist) {
			t.Errorf("plan %s: failed but created %s", strings.Join(c.args, " "), dir)
		}
	}
}

// writeProfileWithout writes the sample profile minus the cases whose name
// starts with prefix, and returns its path.
func writeProfileWithout(t *testing.T, prefix string) string {
	t.Helper()
	rep, err := LoadProfile(sampleProfile)
	if err != nil {
		t.Fatal(err)
	}
	var kept []bench.Result
	for _, r := range rep.Results {
		if !strings.HasPrefix(r.Case, prefix) {
			kept = append(kept, r)
		}
	}
	rep.Results = kept
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The committed sample profile is a real report of every stage.
func TestSampleProfileHasEveryStage(t *testing.T) {
	rep, err := LoadProfile(sampleProfile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CostsFromReport(rep, true); err != nil {
		t.Fatalf("sample profile lacks cases: %v", err)
	}
	if rep.Profile.CPUModel == "" || rep.Profile.LogicalCores < 1 {
		t.Errorf("sample profile has no hardware profile: %+v", rep.Profile)
	}
}

// ParseProfile never panics, and a profile it accepts either gives the
// model an error or a positive, finite block time.
func FuzzParseProfile(f *testing.F) {
	sample, err := os.ReadFile(sampleProfile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte(`{"results":[{"case":"bls/sign","ns_per_op":300000}]}`))
	f.Add([]byte(`{"results":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ParseProfile(data)
		if err != nil {
			if !errors.Is(err, ErrBadProfile) {
				t.Fatalf("error %v does not wrap ErrBadProfile", err)
			}
			return
		}
		costs, err := CostsFromReport(rep, true)
		if err != nil {
			if !errors.Is(err, ErrMissingCase) {
				t.Fatalf("error %v does not wrap ErrMissingCase", err)
			}
			return
		}
		block, err := costs.ChainBlock(DefaultModelParams(), 100, 1000)
		if err != nil {
			if !errors.Is(err, ErrDomain) {
				t.Fatalf("error %v does not wrap ErrDomain", err)
			}
			return
		}
		if tau := block.BlockTime(); tau <= 0 || math.IsInf(block.Throughput(), 0) || !(block.Throughput() > 0) {
			t.Fatalf("block time %v, throughput %v", tau, block.Throughput())
		}
	})
}

// A fraction flag accepts decimals and ratios, never panics, and holds only
// finite values.
func FuzzFractionFlag(f *testing.F) {
	for _, s := range []string{"1/3", "0.25", "1/0", "x/3", "1e400", "-2/7", " 1 / 4 ", "NaN", "/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v fraction
		if err := v.Set(s); err == nil && (math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)) {
			t.Fatalf("Set(%q) accepted %v", s, float64(v))
		}
	})
}
