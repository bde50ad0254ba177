package simulate

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/thinkey/thinkey/bench"
	"github.com/thinkey/thinkey/node/sim"
)

// The bench cases CostsFromReport reads.
const (
	caseSign    = "bls/sign"
	caseVerify  = "bls/verify/single"
	casePersist = "pebble/apply-block/writes=10"
)

var (
	voteBatchCase     = regexp.MustCompile(`^bls/votes/n=(\d+)/batch$`)
	distinctBatchCase = regexp.MustCompile(`^bls/batch/n=(\d+)/distinct$`)
)

// sizedCost is one measurement of a sized case.
type sizedCost struct {
	size int
	cost float64 // ns per op
}

// CostsFromReport replaces the costs of DefaultCPUCosts that a bench report
// measured:
//
//   - Sign from bls/sign, Verify from bls/verify/single;
//   - SameMessageBase and SameMessagePerVote from the least-squares line
//     through bls/votes/n=*/batch (cost against committee size);
//   - DistinctPerSignature from the slope through bls/batch/n=*/distinct;
//   - Persist from pebble/apply-block/writes=10.
//
// A cost the report lacks keeps its default; notes name each one, with
// the bench filter that would measure it.
func CostsFromReport(rep bench.Report) (sim.CPUCosts, []string) {
	costs := sim.DefaultCPUCosts()
	var notes []string
	single := func(dst *time.Duration, name string) {
		if res, ok := rep.Result(name); ok && res.NsPerOp > 0 && !math.IsInf(res.NsPerOp, 0) {
			*dst = time.Duration(res.NsPerOp)
			return
		}
		notes = append(notes, fmt.Sprintf("%s not in the profile: default %v kept (thinkey bench --filter '^%s$')", name, *dst, regexp.QuoteMeta(name)))
	}
	single(&costs.Sign, caseSign)
	single(&costs.Verify, caseVerify)
	single(&costs.Persist, casePersist)

	var votes, distinct []sizedCost
	for _, res := range rep.Results {
		if !(res.NsPerOp > 0) || math.IsInf(res.NsPerOp, 0) {
			continue
		}
		if m := voteBatchCase.FindStringSubmatch(res.Case); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
				votes = append(votes, sizedCost{n, res.NsPerOp})
			}
		} else if m := distinctBatchCase.FindStringSubmatch(res.Case); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
				distinct = append(distinct, sizedCost{n, res.NsPerOp})
			}
		}
	}
	if base, slope, ok := fitLine(votes); ok {
		costs.SameMessageBase, costs.SameMessagePerVote = time.Duration(base), time.Duration(slope)
	} else {
		notes = append(notes, fmt.Sprintf("bls/votes/n=<size>/batch measured at %d sizes (need 2): defaults kept (thinkey bench --filter '^bls/votes/')", len(votes)))
	}
	if _, slope, ok := fitLine(distinct); ok {
		costs.DistinctPerSignature = time.Duration(slope)
	} else {
		notes = append(notes, fmt.Sprintf("bls/batch/n=<size>/distinct measured at %d sizes (need 2): default kept (thinkey bench --filter '^bls/batch/')", len(distinct)))
	}
	return costs, notes
}

// fitLine fits cost = base + slope·size by least squares; it needs two
// distinct sizes and clamps both terms at zero.
func fitLine(points []sizedCost) (base, slope float64, ok bool) {
	slices.SortFunc(points, func(a, b sizedCost) int { return a.size - b.size })
	if len(points) < 2 || points[0].size == points[len(points)-1].size {
		return 0, 0, false
	}
	var sx, sy, sxx, sxy float64
	for _, p := range points {
		x := float64(p.size)
		sx += x
		sy += p.cost
		sxx += x * x
		sxy += x * p.cost
	}
	n := float64(len(points))
	slope = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	base = (sy - slope*sx) / n
	return max(base, 0), max(slope, 0), true
}
