package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Case is one measurable operation of one stage.
type Case struct {
	// Stage groups cases in the report ("bls", "ed25519", "sha256", ...).
	Stage string
	// Name identifies the case inside its stage, shaped like a Go
	// sub-benchmark name ("verify/single", "votes/n=400/batch").
	Name string
	// Unit names what one benchmark iteration does, for the table
	// ("op", "block", "400 votes"). Empty means "op".
	Unit string
	// Run is the benchmark body. It must call b.ResetTimer after any setup
	// and do b.N iterations of the operation.
	Run func(b *testing.B)
}

// FullName is Stage/Name, the name used by `go test -bench` and the JSON report.
func (c Case) FullName() string { return c.Stage + "/" + c.Name }

// Comparison names two cases whose cost ratio the report states, with the
// target the issue tracker or design sets for it.
type Comparison struct {
	Name        string  `json:"name"`
	Numerator   string  `json:"numerator"`   // FullName of the case measured
	Denominator string  `json:"denominator"` // FullName of the reference case
	Scale       float64 `json:"scale"`       // numerator ns/op is divided by Scale before the ratio (per-item normalisation); 0 means 1
	// Metric, when set, compares that custom metric of the two cases
	// (Result.Extra, such as a simulated throughput) instead of ns/op.
	Metric string `json:"metric,omitempty"`
	// Target is the bound the ratio must meet. AtMost says whether the ratio
	// must be <= Target (a cost) or >= Target (a speedup).
	Target float64 `json:"target"`
	AtMost bool    `json:"at_most"`
	// Filled by the run:
	Ratio float64 `json:"ratio"`
	Met   bool    `json:"met"`
}

// Config selects what a run measures.
type Config struct {
	// Filter is a regular expression matched against Case.FullName; empty
	// means every case.
	Filter string
	// BenchTime is the target time per case (testing's -benchtime). Zero
	// means 1s.
	BenchTime time.Duration
	// Quick shrinks the parameter sweeps (committee sizes, batch sizes, data
	// sizes) for a short smoke run; figures from a quick run are not recorded.
	Quick bool
	// Dir is a scratch directory for stages that write to disk (Pebble). Empty
	// means os.TempDir.
	Dir string
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Filter != "" {
		if _, err := regexp.Compile(c.Filter); err != nil {
			errs = append(errs, fmt.Errorf("filter %q: %w", c.Filter, err))
		}
	}
	if c.BenchTime < 0 {
		errs = append(errs, fmt.Errorf("bench time %v: must not be negative", c.BenchTime))
	}
	return errors.Join(errs...)
}

// Result is the measurement of one case.
type Result struct {
	Case        string  `json:"case"`
	Stage       string  `json:"stage"`
	Unit        string  `json:"unit"`
	Iterations  int     `json:"iterations"`
	NsPerOp     float64 `json:"ns_per_op"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	MBPerSec    float64 `json:"mb_per_sec,omitempty"`
	BytesPerOp  int64   `json:"bytes_alloc_per_op"`
	AllocsPerOp int64   `json:"allocs_per_op"`
	// Extra carries custom metrics a case reported with b.ReportMetric.
	Extra map[string]float64 `json:"extra,omitempty"`
}

// Report is the outcome of a run: the machine, the figures and the ratios.
type Report struct {
	Profile     Profile      `json:"profile"`
	Started     time.Time    `json:"started"`
	Duration    string       `json:"duration"`
	Quick       bool         `json:"quick"`
	Results     []Result     `json:"results"`
	Comparisons []Comparison `json:"comparisons"`
}

// Result returns the result for the case named full, if it ran.
func (r *Report) Result(full string) (Result, bool) {
	for _, res := range r.Results {
		if res.Case == full {
			return res, true
		}
	}
	return Result{}, false
}

// Cases lists every case of every stage for cfg, in a fixed order.
func Cases(cfg Config) []Case {
	var all []Case
	for _, stage := range stages {
		all = append(all, stage(cfg)...)
	}
	return all
}

// Select returns the cases of cfg whose full name matches cfg.Filter.
func Select(cfg Config) ([]Case, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	all := Cases(cfg)
	if cfg.Filter == "" {
		return all, nil
	}
	re := regexp.MustCompile(cfg.Filter) // validated above
	var out []Case
	for _, c := range all {
		if re.MatchString(c.FullName()) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Progress receives one call before each case starts, for progress bars.
type Progress func(done, total int, c Case)

// Run measures the selected cases one after the other and returns the report.
// It stops early, with the results so far, when ctx is cancelled.
func Run(ctx context.Context, cfg Config, progress Progress) (Report, error) {
	cases, err := Select(cfg)
	if err != nil {
		return Report{}, err
	}
	if len(cases) == 0 {
		return Report{}, fmt.Errorf("no benchmark case matches %q", cfg.Filter)
	}
	rep := Report{Profile: ReadProfile(), Started: time.Now().UTC(), Quick: cfg.Quick}
	benchTime := cfg.BenchTime
	if benchTime == 0 {
		benchTime = time.Second
	}
	for i, c := range cases {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if progress != nil {
			progress(i, len(cases), c)
		}
		rep.Results = append(rep.Results, measure(c, benchTime))
	}
	rep.Duration = time.Since(rep.Started).Round(time.Millisecond).String()
	rep.Comparisons = compare(comparisons(cfg), rep.Results)
	return rep, nil
}

// measure runs one case until it has used about benchTime, the way
// `go test -benchtime` would.
func measure(c Case, benchTime time.Duration) Result {
	runtime.GC()
	br := benchmarkFor(c.Run, benchTime)
	unit := c.Unit
	if unit == "" {
		unit = "op"
	}
	res := Result{
		Case:        c.FullName(),
		Stage:       c.Stage,
		Unit:        unit,
		Iterations:  br.N,
		BytesPerOp:  br.AllocedBytesPerOp(),
		AllocsPerOp: br.AllocsPerOp(),
	}
	if br.N > 0 {
		res.NsPerOp = float64(br.T.Nanoseconds()) / float64(br.N)
	}
	if res.NsPerOp > 0 {
		res.OpsPerSec = 1e9 / res.NsPerOp
	}
	if br.Bytes > 0 && br.T > 0 {
		res.MBPerSec = float64(br.Bytes) * float64(br.N) / 1e6 / br.T.Seconds()
	}
	for k, v := range br.Extra {
		if k == "ns/op" || strings.HasSuffix(k, "B/op") || k == "allocs/op" || k == "MB/s" {
			continue
		}
		if res.Extra == nil {
			res.Extra = map[string]float64{}
		}
		res.Extra[k] = v
	}
	return res
}

// benchmarkFor runs f through testing.Benchmark, which grows b.N until the
// run lasts the -test.benchtime flag. The CLI has no test flags, so the flag
// is registered with testing.Init and set here; it is the one piece of
// process-wide state this package touches, and only from Run.
func benchmarkFor(f func(b *testing.B), benchTime time.Duration) testing.BenchmarkResult {
	testing.Init()
	if fl := flag.Lookup("test.benchtime"); fl != nil {
		_ = fl.Value.Set(benchTime.String()) // a Duration's String always parses
	}
	return testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		f(b)
	})
}

// compare fills Ratio and Met for each comparison whose two cases ran.
func compare(cmps []Comparison, results []Result) []Comparison {
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Case] = r
	}
	var out []Comparison
	for _, c := range cmps {
		num, ok1 := byName[c.Numerator]
		den, ok2 := byName[c.Denominator]
		numV, denV := num.NsPerOp, den.NsPerOp
		if c.Metric != "" {
			numV, denV = num.Extra[c.Metric], den.Extra[c.Metric]
		}
		if !ok1 || !ok2 || denV == 0 {
			continue
		}
		scale := c.Scale
		if scale == 0 {
			scale = 1
		}
		c.Ratio = numV / scale / denV
		if c.AtMost {
			c.Met = c.Ratio <= c.Target
		} else {
			c.Met = c.Ratio >= c.Target
		}
		out = append(out, c)
	}
	return out
}

// WriteTable prints the report as aligned text tables.
func WriteTable(w io.Writer, rep Report) error {
	p := rep.Profile
	fmt.Fprintf(w, "machine: %s, %d logical / %d physical cores, %.1f GiB, %s %s, %s, GOMAXPROCS=%d\n",
		p.CPUModel, p.LogicalCores, p.PhysicalCores, float64(p.MemoryBytes)/(1<<30), p.OS, p.Kernel, p.GoVersion, p.GOMAXPROCS)
	if len(p.CPUFlags) > 0 {
		fmt.Fprintf(w, "cpu features: %s\n", strings.Join(p.CPUFlags, " "))
	}
	fmt.Fprintln(w)
	tw := newTableWriter(w)
	tw.row("case", "unit", "iters", "time/unit", "units/s", "MB/s", "B/unit", "allocs/unit")
	for _, r := range rep.Results {
		mb := ""
		if r.MBPerSec > 0 {
			mb = fmt.Sprintf("%.1f", r.MBPerSec)
		}
		tw.row(r.Case, r.Unit, fmt.Sprint(r.Iterations), formatNs(r.NsPerOp), formatRate(r.OpsPerSec), mb,
			fmt.Sprint(r.BytesPerOp), fmt.Sprint(r.AllocsPerOp))
	}
	if err := tw.flush(); err != nil {
		return err
	}
	if len(rep.Comparisons) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = newTableWriter(w)
	tw.row("comparison", "ratio", "target", "met")
	for _, c := range rep.Comparisons {
		op := ">="
		if c.AtMost {
			op = "<="
		}
		tw.row(c.Name, fmt.Sprintf("%.3f", c.Ratio), fmt.Sprintf("%s %.3g", op, c.Target), fmt.Sprint(c.Met))
	}
	return tw.flush()
}

func formatNs(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2fs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2fµs", ns/1e3)
	default:
		return fmt.Sprintf("%.1fns", ns)
	}
}

func formatRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	default:
		return fmt.Sprintf("%.1f", r)
	}
}
