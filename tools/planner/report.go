package planner

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// table writes aligned columns to w.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *table {
	return &table{tw: tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)}
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) flush() error { return t.tw.Flush() }

// formatProbability prints a probability from its natural log, so that
// values below the float64 range still print ("1.2e-1040").
func formatProbability(logP float64) string {
	switch {
	case math.IsInf(logP, -1):
		return "0"
	case logP >= 0:
		return "1"
	}
	log10 := logP / math.Ln10
	exp := math.Floor(log10)
	mant := math.Pow(10, log10-exp)
	if mant >= 9.995 { // rounds up to 10.0
		mant, exp = 1, exp+1
	}
	if exp >= -3 {
		return fmt.Sprintf("%.4g", math.Exp(logP))
	}
	return fmt.Sprintf("%.3ge%d", mant, int(exp))
}

// formatDuration prints a duration with three significant digits.
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3gms", float64(d)/1e6)
	case d >= time.Microsecond:
		return fmt.Sprintf("%.3gµs", float64(d)/1e3)
	default:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	}
}

// WritePlan prints a capacity plan, its block-cost breakdown and the notes
// on the hardware costs.
func WritePlan(w io.Writer, plan Plan, target CapacityTarget, costs HardwareCosts) error {
	t := newTable(w)
	how := "smallest meeting the target"
	if plan.FixedCommittee {
		how = "given"
	}
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	t.row("committee size n", fmt.Sprintf("%d (%s)", plan.Committee, how))
	t.row("transaction chains m", fmt.Sprintf("%d = ceil(%.6g / %.6g)", plan.Chains, target.Throughput, plan.ChainThroughput))
	t.row("nodes N = (m+1) n", fmt.Sprint(plan.Nodes))
	t.row("malicious K = floor(lambda N)", fmt.Sprintf("%d (lambda = %v)", plan.Failure.Malicious, target.Share))
	t.row("tolerated per committee", fmt.Sprintf("%d (rho = %.6g, %s rule)", plan.Failure.Tolerated, target.Threshold, target.Rule))
	t.row("Pr[A_i], one committee", formatProbability(plan.Failure.LogOne))
	t.row("union bound over m+1 committees", fmt.Sprintf("%s (target %g: %s)", formatProbability(plan.Failure.LogUnion), target.Failure, met(plan.MeetsFailure)))
	t.row("block time (one chain)", formatDuration(plan.Chain.BlockTime()))
	t.row("throughput per chain", fmt.Sprintf("%.1f msg/s", plan.ChainThroughput))
	t.row("throughput T, all chains", fmt.Sprintf("%.1f msg/s (target %g)", plan.Throughput, target.Throughput))
	latency := "chain decision: 1.5 block times"
	if target.RootConfirmation {
		latency += " + root confirmation: 1.5 root block times"
	}
	t.row("confirmation d", fmt.Sprintf("%s (%s; target %v: %s)", formatDuration(plan.Confirmation), latency, target.Confirmation, met(plan.MeetsLatency)))
	t.row("root block time", fmt.Sprintf("%s (confirming %d digests)", formatDuration(plan.Root.BlockTime()), plan.Chains))
	t.row("quality Q = dhat/(d+dhat)", fmt.Sprintf("%.4f", plan.Quality))
	t.row("cost S", fmt.Sprintf("%.6g", plan.Cost))
	t.row("F_C = T Q / S", fmt.Sprintf("%.6g", plan.Score))
	t.row("psi(m) vs one chain", fmt.Sprintf("%.4f", plan.Scalability))
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nblock cost, one chain (n = %d, B = %d messages), terms in sequence:\n", plan.Committee, plan.Chain.BlockSize)
	if err := writeBlockCost(w, plan.Chain); err != nil {
		return err
	}
	if len(costs.Notes) > 0 {
		fmt.Fprintln(w, "\nnotes on the profile:")
		for _, n := range costs.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
	return nil
}

func writeBlockCost(w io.Writer, b BlockCost) error {
	total := b.BlockTime()
	t := newTable(w)
	t.row("term", "time", "share")
	for _, term := range []struct {
		name string
		d    time.Duration
	}{
		{"leader builds the block (CPU)", b.Build},
		{"member validates it (CPU)", b.Validate},
		{"two rounds of n votes (CPU)", b.Votes},
		{"two BLS signatures (CPU)", b.Sign},
		{"synced commit (disk)", b.Commit},
		{"network: 3 latencies + transfers", b.Network},
		{"block time", total},
	} {
		t.row(term.name, formatDuration(term.d), fmt.Sprintf("%.1f%%", 100*term.d.Seconds()/total.Seconds()))
	}
	return t.flush()
}

// Figure is one plot to render.
type Figure struct {
	Name string // file name without extension
	Plot *plot.Plot
}

// figureSize is the size every figure is rendered at.
const (
	figureWidth  = 16 * vg.Centimeter
	figureHeight = 10 * vg.Centimeter
)

// renderFigures renders each figure as SVG and PNG, in memory, so that
// nothing is written unless every figure rendered.
func renderFigures(figs []Figure) ([]outputFile, error) {
	var files []outputFile
	for _, f := range figs {
		for _, format := range [...]string{"svg", "png"} {
			wt, err := f.Plot.WriterTo(figureWidth, figureHeight, format)
			if err != nil {
				return nil, fmt.Errorf("render %s.%s: %w", f.Name, format, err)
			}
			var buf bytes.Buffer
			if _, err := wt.WriteTo(&buf); err != nil {
				return nil, fmt.Errorf("render %s.%s: %w", f.Name, format, err)
			}
			files = append(files, outputFile{name: f.Name + "." + format, data: buf.Bytes()})
		}
	}
	return files, nil
}

type outputFile struct {
	name string
	data []byte
}

// writeFiles writes every file into dir or none: each goes to a temporary
// file first, and only when all are written are they renamed into place. A
// directory the call created is removed again on failure.
func writeFiles(dir string, files []outputFile) (paths []string, err error) {
	_, statErr := os.Stat(dir)
	created := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	var temps []string
	defer func() {
		if err == nil {
			return
		}
		for _, tmp := range temps {
			_ = os.Remove(tmp)
		}
		if created {
			_ = os.Remove(dir) // only if still empty
		}
	}()
	for _, f := range files {
		tmp, err := os.CreateTemp(dir, "."+f.name+".tmp-*")
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", f.name, err)
		}
		temps = append(temps, tmp.Name())
		_, werr := tmp.Write(f.data)
		merr := tmp.Chmod(0o644) // CreateTemp makes files private; plots are not
		cerr := tmp.Close()
		if err := errors.Join(werr, merr, cerr); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	for i, f := range files {
		final := filepath.Join(dir, f.name)
		if err := os.Rename(temps[i], final); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.name, err)
		}
		paths = append(paths, final)
	}
	return paths, nil
}

// newPlot returns a plot with the project's common styling.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p
}

// addLine adds one series with the i-th color and dash pattern.
func addLine(p *plot.Plot, label string, xys plotter.XYs, i int) error {
	if len(xys) == 0 {
		return nil
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("plot %q: %w", label, err)
	}
	line.Color = plotutil.Color(i)
	line.Dashes = plotutil.Dashes(i)
	line.Width = vg.Points(1.5)
	p.Add(line)
	p.Legend.Add(label, line)
	return nil
}

// addReference adds a thin grey line (a target, an ideal).
func addReference(p *plot.Plot, label string, xys plotter.XYs) error {
	line, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("plot %q: %w", label, err)
	}
	line.Color = color.Gray{Y: 110}
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(line)
	p.Legend.Add(label, line)
	return nil
}

// SpeedupFigure plots eq. 2.3 against k for each parallel fraction in ps,
// with the best budget split r at each k (BestSplit), for node gain f: the
// paper's Fig. 1.
func SpeedupFigure(f NodeGain, ps []float64, kMax float64) (Figure, error) {
	kMin := 1.0
	if f == GainLog {
		kMin = 1.05
	}
	if !(kMax > kMin) || math.IsInf(kMax, 0) {
		return Figure{}, fmt.Errorf("%w: largest k %v must be finite and above %v", ErrDomain, kMax, kMin)
	}
	p := newPlot(fmt.Sprintf("Speedup (eq. 2.3), f(r) = %s, best split r", gainFormula(f)), "budget factor k", "Speedup(p, k, r*)")
	const steps = 200
	for i, frac := range ps {
		var xys plotter.XYs
		for s := 0; s <= steps; s++ {
			k := kMin + (kMax-kMin)*float64(s)/steps
			_, sp, err := BestSplit(frac, k, f)
			if err != nil {
				return Figure{}, err
			}
			xys = append(xys, plotter.XY{X: k, Y: sp})
		}
		if err := addLine(p, fmt.Sprintf("p = %v", frac), xys, i); err != nil {
			return Figure{}, err
		}
	}
	if err := addReference(p, "k (linear)", plotter.XYs{{X: kMin, Y: kMin}, {X: kMax, Y: kMax}}); err != nil {
		return Figure{}, err
	}
	return Figure{Name: "speedup-" + f.String(), Plot: p}, nil
}

func gainFormula(f NodeGain) string {
	if f == GainLog {
		return "ln r"
	}
	return "sqrt(r)"
}

// log10Ticks labels a linear axis that carries log10 values as powers of
// ten, leaving the headroom above 1 (log10 > 0) unlabelled.
type log10Ticks struct{}

func (log10Ticks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if v := ticks[i].Value; ticks[i].Label != "" && v == math.Trunc(v) && v <= 0 {
			ticks[i].Label = fmt.Sprintf("1e%d", int(v))
		} else {
			ticks[i].Label = ""
		}
	}
	return ticks
}

// failureFloor is the lowest log10 probability a failure figure shows by
// default: far tails (1e-150 for small lambda) would squash the range where
// targets lie.
const failureFloor = -40

// FailureFigure plots Pr[A_i] (eq. 6.1, log scale) against the committee
// size n = 1..nMax for N nodes and each adversary share. Sizes whose
// probability is exactly 0 are left out; the axis stops at 1e-40, or 10
// decades below the target.
//
// A target above 0 is drawn as the most one committee may fail for the
// union bound over committees to meet it: target / committees for a fixed
// count, or target / floor(N/n) when committees is 0 (the count of eq. 6.2 at
// each size). With committees 1 the target bounds one committee.
func FailureFigure(nodes int64, shares []float64, threshold float64, rule Tolerance, nMax int64, target float64, committees int64) (Figure, error) {
	if nMax < 1 || nMax > nodes {
		return Figure{}, fmt.Errorf("%w: largest committee %d must be in [1, N = %d]", ErrDomain, nMax, nodes)
	}
	if committees < 0 || !(target >= 0 && target < 1) {
		return Figure{}, fmt.Errorf("%w: target %v over %d committees", ErrDomain, target, committees)
	}
	p := newPlot(fmt.Sprintf("Committee failure Pr[A_i] (eq. 6.1), N = %d, rho = %.4g, %s rule", nodes, threshold, rule),
		"committee size n", "Pr[A_i]")
	p.Y.Tick.Marker = log10Ticks{}
	floor := float64(failureFloor)
	if target > 0 {
		floor = min(floor, math.Floor(math.Log10(target/float64(max(1, committees, nodes))))-10)
	}
	lowest := 0.0
	for i, share := range shares {
		a := Adversary{Nodes: nodes, Share: share, Threshold: threshold, Rule: rule}
		if err := a.Validate(); err != nil {
			return Figure{}, err
		}
		var xys plotter.XYs
		for n := int64(1); n <= nMax; n++ {
			lp := a.failure(n, nodes/n).LogOne
			if math.IsInf(lp, -1) {
				continue
			}
			xys = append(xys, plotter.XY{X: float64(n), Y: lp / math.Ln10})
			lowest = min(lowest, lp/math.Ln10)
		}
		if err := addLine(p, fmt.Sprintf("lambda = %v", share), xys, i); err != nil {
			return Figure{}, err
		}
	}
	legendEntries := len(shares)
	if target > 0 {
		var xys plotter.XYs
		label := fmt.Sprintf("target %g", target)
		switch committees {
		case 0:
			label += " / floor(N/n)"
			for n := int64(1); n <= nMax; n++ {
				xys = append(xys, plotter.XY{X: float64(n), Y: math.Log10(target / float64(nodes/n))})
			}
		default:
			if committees > 1 {
				label += fmt.Sprintf(" / %d committees", committees)
			}
			y := math.Log10(target / float64(committees))
			xys = plotter.XYs{{X: 1, Y: y}, {X: float64(nMax), Y: y}}
		}
		for _, xy := range xys {
			lowest = min(lowest, xy.Y)
		}
		legendEntries++
		if err := addReference(p, label, xys); err != nil {
			return Figure{}, err
		}
	}
	// Probabilities are at most 1 (log10 <= 0): the legend goes into
	// headroom above 1, where no curve can run.
	p.Y.Min = max(floor, math.Floor(lowest)-1)
	p.Y.Max = -p.Y.Min * 0.075 * float64(legendEntries+1)
	return Figure{Name: "failure", Plot: p}, nil
}

// ThroughputFigure plots the predicted throughput of 1..maxChains chains
// for each committee size, with the target as a horizontal line (paper
// Fig. 12). The model has no cross-chain cost, so each line is straight.
func ThroughputFigure(c HardwareCosts, params ModelParams, blockSize int, committees []int, maxChains int, target float64) (Figure, error) {
	if maxChains < 1 || maxChains > MaxChains {
		return Figure{}, fmt.Errorf("%w: chain count %d must be in [1, %d]", ErrDomain, maxChains, MaxChains)
	}
	p := newPlot(fmt.Sprintf("Predicted throughput, B = %d messages per block", blockSize), "transaction chains m", "messages per second")
	for i, n := range committees {
		block, err := c.ChainBlock(params, n, blockSize)
		if err != nil {
			return Figure{}, err
		}
		var xys plotter.XYs
		for m := 1; m <= maxChains; m++ {
			xys = append(xys, plotter.XY{X: float64(m), Y: float64(m) * block.Throughput()})
		}
		if err := addLine(p, fmt.Sprintf("committee n = %d", n), xys, i); err != nil {
			return Figure{}, err
		}
	}
	p.Y.Min = 0
	if target > 0 {
		if err := addReference(p, fmt.Sprintf("target %g msg/s", target), plotter.XYs{{X: 1, Y: target}, {X: float64(maxChains), Y: target}}); err != nil {
			return Figure{}, err
		}
	}
	return Figure{Name: "throughput", Plot: p}, nil
}

// BlockTimeFigure plots the predicted block time against the block size for
// each committee size (paper Fig. 13).
func BlockTimeFigure(c HardwareCosts, params ModelParams, committees []int, blockSizes []int) (Figure, error) {
	p := newPlot("Predicted block time", "block size B (messages)", "block time (s)")
	for i, n := range committees {
		var xys plotter.XYs
		for _, b := range blockSizes {
			block, err := c.ChainBlock(params, n, b)
			if err != nil {
				return Figure{}, err
			}
			xys = append(xys, plotter.XY{X: float64(b), Y: block.BlockTime().Seconds()})
		}
		if err := addLine(p, fmt.Sprintf("committee n = %d", n), xys, i); err != nil {
			return Figure{}, err
		}
	}
	p.Y.Min = 0
	return Figure{Name: "blocktime", Plot: p}, nil
}

// plotShares returns the adversary shares a failure figure shows: the one
// asked about and the usual 0.1, 0.2, 0.25, 0.3 below the threshold.
func plotShares(share, threshold float64) []float64 {
	out := []float64{share}
	for _, s := range []float64{0.1, 0.2, 0.25, 0.3} {
		if s < threshold && s != share {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}
