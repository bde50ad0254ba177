package planner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thinkey/thinkey/bench"
	"github.com/thinkey/thinkey/node/types"
)

// ErrUsage is wrapped by every error about a flag's value.
var ErrUsage = errors.New("bad command line")

// Command returns the `thinkey plan` command tree.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Plan capacity: committee security, speedup and scalability, chains and nodes for a target",
		Long: `plan computes the analysis of the paper (2.2.3, 2.2.4, 6.1) and the capacity
of a network on a measured hardware profile:

  security     committee failure probability (eq. 6.1), its union bound (6.2),
               and the smallest committee for a target failure probability
  speedup      Speedup(p, k, r) of eq. 2.3 and psi(k) ~ Speedup/k (Fig. 1)
  scalability  Q, F_C = T Q / S (eq. 2.1) and psi = F_Ck / F_C (eq. 2.2)
  capacity     committee size, chains and nodes for a target throughput and
               failure probability on a 'thinkey bench' profile, with the
               predicted throughput and confirmation time

docs/PLANNER.md states every formula and the cost model.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(securityCommand(), speedupCommand(), scalabilityCommand(), capacityCommand())
	return cmd
}

// fraction is a flag value in [0, 1] written as a decimal or a ratio ("1/3").
type fraction float64

func (f *fraction) String() string { return strconv.FormatFloat(float64(*f), 'g', -1, 64) }
func (f *fraction) Type() string   { return "fraction" }
func (f *fraction) Set(s string) error {
	var v float64
	if num, den, ok := strings.Cut(s, "/"); ok {
		a, err1 := strconv.ParseFloat(strings.TrimSpace(num), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(den), 64)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("%q is not a ratio a/b", s)
		}
		if b == 0 {
			return fmt.Errorf("%q divides by zero", s)
		}
		v = a / b
	} else {
		var err error
		if v, err = strconv.ParseFloat(s, 64); err != nil {
			return fmt.Errorf("%q is not a number or a ratio a/b", s)
		}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%q is not finite", s)
	}
	*f = fraction(v)
	return nil
}

// problems collects every bad flag of one command line, so that all are
// reported at once.
type problems []error

func (p *problems) add(flag string, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%w: --%s %s", ErrUsage, flag, fmt.Sprintf(format, args...)))
}

func (p *problems) openFraction(flag string, v float64) {
	if !(v > 0 && v < 1) {
		p.add(flag, "%v: must be in (0, 1)", v)
	}
}

func (p *problems) positive(flag string, v float64) {
	if !(v > 0) || math.IsInf(v, 0) {
		p.add(flag, "%v: must be finite and positive", v)
	}
}

func (p problems) err() error { return errors.Join(p...) }

// defaultSearchLimit is the largest committee `security` tries unless told
// otherwise: a scan that finds nothing costs about 20 s at N = 1e6 without
// it, and committees this large are far beyond what a certificate names.
const defaultSearchLimit = 100_000

func securityCommand() *cobra.Command {
	var (
		nodes        int64
		share        = fraction(0.25)
		threshold    = fraction(1.0 / 3)
		committee    int64
		target       float64
		criterion    string
		tolerance    string
		maxCommittee int64
		outDir       string
	)
	cmd := &cobra.Command{
		Use:   "security",
		Short: "Committee failure probability (eq. 6.1, 6.2) and the smallest safe committee",
		Long: `security computes, for N nodes of which K = floor(lambda N) are malicious, the
probability Pr[A_i] that a committee of n members drawn without replacement
holds more malicious members than it tolerates (eq. 6.1, an exact
hypergeometric tail), and the union bound m Pr[A_i] over m = floor(N/n)
committees (eq. 6.2). With --target-failure it finds the smallest n that
meets the target. Both tolerance rules are shown: "paper" (fails when more
than rho n are malicious, eq. 6.1) and "consensus" (the node's f = ceil(rho n)-1,
floor((n-1)/3) for rho = 1/3).`,
		Example: `  thinkey plan security --nodes 1000000 --adversary 0.25 --threshold 1/3 --committee 600
  thinkey plan security --nodes 10000 --adversary 0.25 --threshold 1/3 --target-failure 1e-9
  thinkey plan security --nodes 10000 --target-failure 1e-6 --criterion committee --out-dir plots`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var bad problems
			if nodes < 1 || nodes > MaxPopulation {
				bad.add("nodes", "%d: must be in [1, %d]", nodes, int64(MaxPopulation))
			}
			bad.openFraction("adversary", float64(share))
			bad.openFraction("threshold", float64(threshold))
			hasCommittee, hasTarget := cmd.Flags().Changed("committee"), cmd.Flags().Changed("target-failure")
			if !hasCommittee && !hasTarget {
				bad = append(bad, fmt.Errorf("%w: give --committee n, --target-failure p, or both", ErrUsage))
			}
			if hasCommittee && (committee < 1 || committee > nodes) {
				bad.add("committee", "%d: must be in [1, --nodes = %d]", committee, nodes)
			}
			if hasTarget {
				bad.openFraction("target-failure", target)
			}
			crit, err := ParseCriterion(criterion)
			if err != nil {
				bad.add("criterion", "%q: want union or committee", criterion)
			}
			rule, err := ParseTolerance(tolerance)
			if err != nil {
				bad.add("tolerance", "%q: want paper or consensus", tolerance)
			}
			if cmd.Flags().Changed("max-committee") && maxCommittee < 1 {
				bad.add("max-committee", "%d: must be at least 1", maxCommittee)
			}
			if err := bad.err(); err != nil {
				return err
			}
			if maxCommittee == 0 {
				maxCommittee = min(nodes, defaultSearchLimit)
			}
			type row struct {
				rule Tolerance
				why  string
				CommitteeFailure
			}
			var (
				rows    []row
				notes   []string
				plotMax int64
			)
			for _, r := range []Tolerance{rule, otherRule(rule)} { // the chosen rule first
				a := Adversary{Nodes: nodes, Share: float64(share), Threshold: float64(threshold), Rule: r}
				if hasCommittee {
					f, err := a.Failure(committee)
					if err != nil {
						return err
					}
					rows = append(rows, row{r, "given", f})
					plotMax = max(plotMax, 2*committee)
				}
				if hasTarget {
					f, err := a.SmallestCommittee(target, crit, maxCommittee)
					if errors.Is(err, ErrUnreachable) && r != rule {
						// The other rule is shown for comparison only.
						notes = append(notes, fmt.Sprintf("%s rule: no committee of up to %d members meets the target", r, maxCommittee))
						continue
					}
					if errors.Is(err, ErrUnreachable) && maxCommittee < nodes {
						return fmt.Errorf("%w; a larger --max-committee searches further", err)
					}
					if err != nil {
						return err
					}
					rows = append(rows, row{r, "smallest for target", f})
					plotMax = max(plotMax, 2*f.Committee)
				}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "N = %d nodes, K = floor(lambda N) = %d malicious (lambda = %v), threshold rho = %.6g\n",
				nodes, Adversary{Nodes: nodes, Share: float64(share)}.Malicious(), float64(share), float64(threshold))
			if hasTarget {
				fmt.Fprintf(out, "target: %s failure probability <= %g\n", crit, target)
			}
			t := newTable(out)
			t.row("rule", "committee n", "why", "tolerated", "committees m", "Pr[A_i] (6.1)", "union m*Pr[A_i] (6.2)")
			for _, r := range rows {
				t.row(r.rule.String(), fmt.Sprint(r.Committee), r.why, fmt.Sprint(r.Tolerated), fmt.Sprint(r.Committees),
					formatProbability(r.LogOne), formatProbability(r.LogUnion))
			}
			if err := t.flush(); err != nil {
				return err
			}
			for _, n := range notes {
				fmt.Fprintln(out, n)
			}
			if outDir == "" {
				return nil
			}
			figCommittees := int64(0) // the union bound's floor(N/n)
			if crit == CriterionCommittee {
				figCommittees = 1
			}
			fig, err := FailureFigure(nodes, plotShares(float64(share), float64(threshold)), float64(threshold), rule,
				min(nodes, max(plotMax, 50)), target, figCommittees)
			if err != nil {
				return err
			}
			return writeFigures(out, outDir, []Figure{fig})
		},
	}
	f := cmd.Flags()
	f.Int64Var(&nodes, "nodes", 0, "number of nodes N")
	f.Var(&share, "adversary", "malicious share lambda of all nodes, in (0, 1); a decimal or a ratio like 1/4")
	f.Var(&threshold, "threshold", "committee threshold rho, in (0, 1); a decimal or a ratio like 1/3")
	f.Int64Var(&committee, "committee", 0, "committee size n to evaluate")
	f.Float64Var(&target, "target-failure", 0, "find the smallest committee whose failure probability is at most this")
	f.StringVar(&criterion, "criterion", "union", "what --target-failure bounds: union (m Pr[A_i], any committee fails) or committee (Pr[A_i])")
	f.StringVar(&tolerance, "tolerance", "paper", "rule listed first and plotted: paper (fails above rho n) or consensus (fails at rho n, the node's rule)")
	f.Int64Var(&maxCommittee, "max-committee", 0, fmt.Sprintf("largest committee the search tries (default the smaller of N and %d)", defaultSearchLimit))
	f.StringVar(&outDir, "out-dir", "", "write the failure-probability plot (SVG and PNG) into this directory")
	return cmd
}

// otherRule returns the tolerance rule that is not r.
func otherRule(r Tolerance) Tolerance {
	if r == TolerancePaper {
		return ToleranceConsensus
	}
	return TolerancePaper
}

func writeFigures(out io.Writer, dir string, figs []Figure) error {
	files, err := renderFigures(figs)
	if err != nil {
		return err
	}
	paths, err := writeFiles(dir, files)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nplots written: %s\n", strings.Join(paths, ", "))
	return nil
}

func speedupCommand() *cobra.Command {
	var (
		parallel = fraction(0.9)
		budget   float64
		split    string
		gain     string
		kMax     float64
		outDir   string
	)
	cmd := &cobra.Command{
		Use:   "speedup",
		Short: "Speedup(p, k, r) of eq. 2.3 and psi(k) ~ Speedup/k",
		Long: `speedup evaluates eq. 2.3,

  Speedup(p, k, r) = 1 / ( (1-p)/f(r) + p r / (f(r) k) ),

for a parallel fraction p, a budget factor k of which r goes into each node
(the node count grows k/r times), and f(r) = sqrt(r) or ln(r) (r > 1). With
--r best (the default) it uses the r in [1, k] that maximises the speedup.
With --out-dir it plots Fig. 1: speedup against k for p = 0.5, 0.9, 0.99, 1.`,
		Example: `  thinkey plan speedup --p 0.9 --k 16 --r 4 --f sqrt
  thinkey plan speedup --p 0.99 --k 64 --f log --out-dir plots`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var bad problems
			if p := float64(parallel); !(p >= 0 && p <= 1) {
				bad.add("p", "%v: must be in [0, 1]", p)
			}
			bad.positive("k", budget)
			f, err := ParseNodeGain(gain)
			if err != nil {
				bad.add("f", "%q: want sqrt or log", gain)
			}
			best := split == "best"
			var r float64
			if !best {
				if r, err = strconv.ParseFloat(split, 64); err != nil {
					bad.add("r", "%q: want a number or best", split)
				} else if _, err := f.Of(r); err != nil {
					bad.add("r", "%v: %v", r, err)
				}
			}
			if outDir != "" && (!(kMax > 1.05) || math.IsInf(kMax, 0)) {
				bad.add("k-max", "%v: must be finite and above 1.05", kMax)
			}
			if err := bad.err(); err != nil {
				return err
			}
			if best {
				if r, _, err = BestSplit(float64(parallel), budget, f); err != nil {
					return fmt.Errorf("%w: --r best: %w", ErrUsage, err)
				}
			}
			s, err := Speedup(float64(parallel), budget, r, f)
			if err != nil {
				return err
			}
			fr, err := f.Of(r)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			t := newTable(out)
			t.row("f", "p", "k", "r", "f(r)", "nodes x k/r", "Speedup (2.3)", "psi ~ Speedup/k")
			t.row(f.String(), fmt.Sprint(float64(parallel)), fmt.Sprint(budget), fmt.Sprintf("%.4g", r), fmt.Sprintf("%.4g", fr),
				fmt.Sprintf("%.4g", budget/r), fmt.Sprintf("%.6g", s), fmt.Sprintf("%.6g", s/budget))
			if err := t.flush(); err != nil {
				return err
			}
			if best {
				fmt.Fprintln(out, "r is the best split: the r in [1, k] that maximises the speedup")
			}
			if outDir == "" {
				return nil
			}
			ps := []float64{0.5, 0.9, 0.99, 1}
			if p := float64(parallel); !containsFloat(ps, p) {
				ps = append(ps, p)
			}
			var figs []Figure
			for _, g := range []NodeGain{GainSqrt, GainLog} {
				fig, err := SpeedupFigure(g, ps, kMax)
				if err != nil {
					return err
				}
				figs = append(figs, fig)
			}
			return writeFigures(out, outDir, figs)
		},
	}
	fl := cmd.Flags()
	fl.Var(&parallel, "p", "parallel fraction p of the work, in [0, 1]")
	fl.Float64Var(&budget, "k", 16, "budget factor k")
	fl.StringVar(&split, "r", "best", "budget factor per node r (the node count grows k/r), or best")
	fl.StringVar(&gain, "f", "sqrt", "node gain f(r): sqrt or log (natural log, r > 1)")
	fl.Float64Var(&kMax, "k-max", 64, "largest k of the plots")
	fl.StringVar(&outDir, "out-dir", "", "write the Fig. 1 speedup plots (SVG and PNG) into this directory")
	return cmd
}

func containsFloat(xs []float64, x float64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func scalabilityCommand() *cobra.Command {
	var (
		tps, cost, scaledTPS, scaledCost      float64
		latency, targetLatency, scaledLatency time.Duration
	)
	scaledFlags := []string{"scaled-tps", "scaled-latency", "scaled-cost"}
	cmd := &cobra.Command{
		Use:   "scalability",
		Short: "Q, F_C = T Q / S (eq. 2.1) and psi = F_Ck / F_C (eq. 2.2)",
		Long: `scalability scores a configuration by eq. 2.1, F_C = T Q / S, with
Q = dhat / (d + dhat) for a confirmation time d and a target dhat. Given a
scaled-up configuration too (--scaled-*), it prints psi = F_Ck / F_C (eq. 2.2);
psi >= 1, or growing with the scale, is perfect scalability.`,
		Example: `  thinkey plan scalability --tps 1200 --latency 3s --target-latency 2s --cost 400
  thinkey plan scalability --tps 1200 --latency 3s --target-latency 2s --cost 400 \
      --scaled-tps 9000 --scaled-latency 3.2s --scaled-cost 3600`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var bad problems
			if !(tps >= 0) || math.IsInf(tps, 0) {
				bad.add("tps", "%v: must be finite and not negative", tps)
			}
			if latency < 0 {
				bad.add("latency", "%v: must not be negative", latency)
			}
			if targetLatency <= 0 {
				bad.add("target-latency", "%v: must be positive", targetLatency)
			}
			bad.positive("cost", cost)
			scaled := 0
			for _, name := range scaledFlags {
				if cmd.Flags().Changed(name) {
					scaled++
				}
			}
			if scaled > 0 && scaled < len(scaledFlags) {
				bad = append(bad, fmt.Errorf("%w: give all of --scaled-tps, --scaled-latency, --scaled-cost, or none", ErrUsage))
			}
			if scaled > 0 {
				if !(scaledTPS >= 0) || math.IsInf(scaledTPS, 0) {
					bad.add("scaled-tps", "%v: must be finite and not negative", scaledTPS)
				}
				if scaledLatency < 0 {
					bad.add("scaled-latency", "%v: must not be negative", scaledLatency)
				}
				bad.positive("scaled-cost", scaledCost)
			}
			if err := bad.err(); err != nil {
				return err
			}
			configure := func(t float64, d time.Duration, s float64) (Configuration, float64, error) {
				q, err := QualityOfService(d, targetLatency)
				if err != nil {
					return Configuration{}, 0, err
				}
				c := Configuration{Throughput: t, Quality: q, Cost: s}
				score, err := c.Score()
				return c, score, err
			}
			base, fBase, err := configure(tps, latency, cost)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			t := newTable(out)
			t.row("configuration", "T (msg/s)", "d", "Q = dhat/(d+dhat)", "S", "F_C = T Q / S")
			t.row("C", fmt.Sprint(tps), latency.String(), fmt.Sprintf("%.4f", base.Quality), fmt.Sprint(cost), fmt.Sprintf("%.6g", fBase))
			if scaled == 0 {
				return t.flush()
			}
			up, fUp, err := configure(scaledTPS, scaledLatency, scaledCost)
			if err != nil {
				return err
			}
			t.row("C_k", fmt.Sprint(scaledTPS), scaledLatency.String(), fmt.Sprintf("%.4f", up.Quality), fmt.Sprint(scaledCost), fmt.Sprintf("%.6g", fUp))
			if err := t.flush(); err != nil {
				return err
			}
			psi, err := Scalability(base, up)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "psi = F_Ck / F_C = %.6g\n", psi)
			return nil
		},
	}
	f := cmd.Flags()
	f.Float64Var(&tps, "tps", 0, "throughput T of the configuration, messages per second")
	f.DurationVar(&latency, "latency", 0, "mean confirmation time d")
	f.DurationVar(&targetLatency, "target-latency", 0, "target confirmation time dhat")
	f.Float64Var(&cost, "cost", 1, "cost S (nodes, or money)")
	f.Float64Var(&scaledTPS, "scaled-tps", 0, "throughput of the scaled-up configuration C_k")
	f.DurationVar(&scaledLatency, "scaled-latency", 0, "confirmation time of C_k")
	f.Float64Var(&scaledCost, "scaled-cost", 0, "cost of C_k")
	return cmd
}

// LoadProfile reads a `thinkey bench --out` JSON report.
func LoadProfile(path string) (bench.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return bench.Report{}, fmt.Errorf("read profile: %w", err)
	}
	rep, err := ParseProfile(data)
	if err != nil {
		return bench.Report{}, fmt.Errorf("profile %s: %w (write one with: thinkey bench --out %s)", path, err, path)
	}
	return rep, nil
}

// ErrBadProfile is wrapped when a profile is not a bench report.
var ErrBadProfile = errors.New("not a bench report")

// ParseProfile decodes a `thinkey bench --out` JSON report. Unknown fields
// are ignored, so that reports of later versions still load; a report must
// hold at least one result.
func ParseProfile(data []byte) (bench.Report, error) {
	var rep bench.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return bench.Report{}, fmt.Errorf("%w: decode: %w", ErrBadProfile, err)
	}
	if len(rep.Results) == 0 {
		return bench.Report{}, fmt.Errorf("%w: it holds no results", ErrBadProfile)
	}
	return rep, nil
}

func capacityCommand() *cobra.Command {
	var (
		profile   string
		target    = CapacityTarget{Share: 0.25, Threshold: 1.0 / 3, Failure: 1e-6, BlockSize: 1000, MaxCommittee: types.MaxCommitteeSize}
		share     = fraction(target.Share)
		threshold = fraction(target.Threshold)
		tolerance string
		bandwidth float64
		params    = DefaultModelParams()
		outDir    string
	)
	cmd := &cobra.Command{
		Use:   "capacity",
		Short: "Chains, committee size and nodes for a target throughput and safety, on a bench profile",
		Long: `capacity reads a hardware profile written by 'thinkey bench --out', models one
block of one transaction chain on nodes of one core (docs/PLANNER.md states
every term), and finds the smallest committee size n such that, with
m = ceil(target / chain throughput) chains and N = (m+1) n nodes, the union
bound over the m+1 committees (root included) meets --target-failure. It
prints the plan, the predicted throughput and confirmation time, Q, F_C and
psi, and with --out-dir writes the plots: Fig. 1 speedup curves, failure
probability against committee size, throughput against chains, block time
against block size.`,
		Example: `  thinkey plan capacity --profile bench.json --target-tps 10000 --target-latency 2s \
      --adversary 0.25 --threshold 1/3 --target-failure 1e-6 --block-size 1000 --out-dir plots`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var bad problems
			if profile == "" {
				bad = append(bad, fmt.Errorf("%w: --profile is required (write one with: thinkey bench --out bench.json)", ErrUsage))
			}
			bad.positive("target-tps", target.Throughput)
			if target.Confirmation <= 0 {
				bad.add("target-latency", "%v: must be positive", target.Confirmation)
			}
			target.Share, target.Threshold = float64(share), float64(threshold)
			bad.openFraction("adversary", target.Share)
			bad.openFraction("threshold", target.Threshold)
			bad.openFraction("target-failure", target.Failure)
			if target.BlockSize < 1 || target.BlockSize > MaxBlockSize {
				bad.add("block-size", "%d: must be in [1, %d]", target.BlockSize, MaxBlockSize)
			}
			if cmd.Flags().Changed("committee") && (target.Committee < 1 || target.Committee > types.MaxCommitteeSize) {
				bad.add("committee", "%d: must be in [1, %d], the largest committee a certificate names", target.Committee, types.MaxCommitteeSize)
			}
			if target.MaxCommittee < 1 || target.MaxCommittee > types.MaxCommitteeSize {
				bad.add("max-committee", "%d: must be in [1, %d]", target.MaxCommittee, types.MaxCommitteeSize)
			}
			var err error
			if target.Rule, err = ParseTolerance(tolerance); err != nil {
				bad.add("tolerance", "%q: want paper or consensus", tolerance)
			}
			if !(target.NodeCost > 0) || math.IsInf(target.NodeCost, 0) {
				bad.add("node-cost", "%v: must be finite and positive", target.NodeCost)
			}
			if params.ExecutionPerMessage < 0 {
				bad.add("execution-cost", "%v: must not be negative", params.ExecutionPerMessage)
			}
			if !(params.StateReadsPerMessage >= 0) || math.IsInf(params.StateReadsPerMessage, 0) {
				bad.add("reads-per-message", "%v: must be finite and not negative", params.StateReadsPerMessage)
			}
			if !(params.StateWritesPerMessage >= 0) || math.IsInf(params.StateWritesPerMessage, 0) {
				bad.add("writes-per-message", "%v: must be finite and not negative", params.StateWritesPerMessage)
			}
			if params.MessageSize < 1 || params.MessageSize > types.MessageMaxSize {
				bad.add("message-size", "%d: must be in [1, %d] bytes", params.MessageSize, types.MessageMaxSize)
			}
			if params.MerkleRootsPerBlock < 0 {
				bad.add("merkle-roots", "%d: must not be negative", params.MerkleRootsPerBlock)
			}
			if params.OneWayLatency < 0 || params.OneWayLatency > time.Hour {
				bad.add("latency", "%v: must be in [0, 1h]", params.OneWayLatency)
			}
			if !(bandwidth*1e6 >= minBandwidth) || math.IsInf(bandwidth, 0) {
				bad.add("bandwidth-mbit", "%v: must be finite and at least %v (1 kbit/s)", bandwidth, minBandwidth/1e6)
			}
			params.BandwidthBitsPerSecond = bandwidth * 1e6
			if err := bad.err(); err != nil {
				return err
			}
			rep, err := LoadProfile(profile)
			if err != nil {
				return err
			}
			costs, err := CostsFromReport(rep, target.RootConfirmation)
			if err != nil {
				return fmt.Errorf("profile %s: %w", profile, err)
			}
			plan, err := PlanCapacity(costs, params, target)
			if err != nil {
				return err
			}
			var figs []Figure
			if outDir != "" {
				if figs, err = capacityFigures(costs, params, target, plan); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			p := rep.Profile
			quick := ""
			if rep.Quick {
				quick = ", quick run"
			}
			fmt.Fprintf(out, "profile %s: %s, %d logical cores, %s, measured %s%s\n\n",
				profile, p.CPUModel, p.LogicalCores, p.GoVersion, rep.Started.Format(time.RFC3339), quick)
			if err := WritePlan(out, plan, target, costs); err != nil {
				return err
			}
			if outDir == "" {
				return nil
			}
			return writeFigures(out, outDir, figs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&profile, "profile", "", "hardware profile: the JSON report of thinkey bench --out")
	f.Float64Var(&target.Throughput, "target-tps", 0, "target throughput T over all chains, messages per second")
	f.DurationVar(&target.Confirmation, "target-latency", 0, "target confirmation time dhat")
	f.Var(&share, "adversary", "malicious share lambda of all nodes, in (0, 1)")
	f.Var(&threshold, "threshold", "committee threshold rho, in (0, 1); a decimal or a ratio like 1/3")
	f.StringVar(&tolerance, "tolerance", "consensus", "committee failure rule: consensus (the node's f = ceil(rho n)-1) or paper (eq. 6.1, fails above rho n)")
	f.Float64Var(&target.Failure, "target-failure", target.Failure, "bound on the union bound of committee failure over all m+1 committees")
	f.IntVar(&target.BlockSize, "block-size", target.BlockSize, "block size B, messages per block")
	f.IntVar(&target.Committee, "committee", 0, "use this committee size instead of searching (its failure is reported against the target)")
	f.IntVar(&target.MaxCommittee, "max-committee", target.MaxCommittee, "largest committee size the search tries")
	f.BoolVar(&target.RootConfirmation, "root-confirmation", false, "count the root chain's confirmation of the block digest in the confirmation time")
	f.Float64Var(&target.NodeCost, "node-cost", 1, "cost of one node in S of F_C = T Q / S (1: S counts nodes)")
	f.DurationVar(&params.ExecutionPerMessage, "execution-cost", params.ExecutionPerMessage, "CPU time to execute one message, state access apart (not measured by thinkey bench)")
	f.Float64Var(&params.StateReadsPerMessage, "reads-per-message", params.StateReadsPerMessage, "state reads per message (pebble/get/hit each)")
	f.Float64Var(&params.StateWritesPerMessage, "writes-per-message", params.StateWritesPerMessage, "state writes per message in the block's synced commit")
	f.IntVar(&params.MessageSize, "message-size", params.MessageSize, "encoded message size, bytes")
	f.IntVar(&params.MerkleRootsPerBlock, "merkle-roots", params.MerkleRootsPerBlock, "Merkle roots over the block's messages per block")
	f.DurationVar(&params.OneWayLatency, "latency", params.OneWayLatency, "one-way network latency of a consensus round")
	f.Float64Var(&bandwidth, "bandwidth-mbit", params.BandwidthBitsPerSecond/1e6, "link bandwidth of a node, Mbit/s")
	f.StringVar(&outDir, "out-dir", "", "write the plots (SVG and PNG) into this directory")
	return cmd
}

// capacityFigures builds the plots of a capacity plan.
func capacityFigures(c HardwareCosts, params ModelParams, t CapacityTarget, plan Plan) ([]Figure, error) {
	var figs []Figure
	for _, g := range []NodeGain{GainSqrt, GainLog} {
		fig, err := SpeedupFigure(g, []float64{0.5, 0.9, 0.99, 1}, 64)
		if err != nil {
			return nil, err
		}
		figs = append(figs, fig)
	}
	fail, err := FailureFigure(plan.Nodes, plotShares(t.Share, t.Threshold), t.Threshold, t.Rule,
		min(plan.Nodes, int64(max(2*plan.Committee, 50))), t.Failure, int64(plan.Chains+1))
	if err != nil {
		return nil, err
	}
	committees := []int{plan.Committee}
	for _, n := range []int{100, 400} {
		if n != plan.Committee {
			committees = append(committees, n)
		}
	}
	tput, err := ThroughputFigure(c, params, t.BlockSize, committees, max(2*plan.Chains, 8), t.Throughput)
	if err != nil {
		return nil, err
	}
	var sizes []int
	for b := 100; b <= 10_000; b += 100 {
		sizes = append(sizes, b)
	}
	blockTime, err := BlockTimeFigure(c, params, committees, sizes)
	if err != nil {
		return nil, err
	}
	return append(figs, fail, tput, blockTime), nil
}
