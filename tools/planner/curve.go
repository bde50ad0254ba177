package planner

import (
	"math"
	"sort"
	"time"
)

// Nanos is a CPU cost in nanoseconds, kept fractional: a codec step costs
// 20-odd nanoseconds and is multiplied by thousands of messages, so rounding
// it to a whole time.Duration would bias the model.
type Nanos float64

// Duration rounds c to a time.Duration.
func (c Nanos) Duration() time.Duration { return time.Duration(math.Round(float64(c))) }

// Point is one measurement of a cost curve: cost Cost at size Size (a batch
// size, a committee size, a byte count, a write count).
type Point struct {
	Size float64
	Cost Nanos
}

// Curve is a cost measured at a few sizes, in increasing Size order.
type Curve []Point

// newCurve sorts points by size and keeps the first point of each size.
func newCurve(points []Point) Curve {
	c := append(Curve(nil), points...)
	sort.SliceStable(c, func(i, j int) bool { return c[i].Size < c[j].Size })
	out := c[:0]
	for i, p := range c {
		if i > 0 && p.Size == out[len(out)-1].Size {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Linear returns the cost at size x by piecewise-linear interpolation
// between the measured points. Outside them it extends the nearest segment,
// with its slope raised to 0 if noise made it negative (a cost does not fall
// as the work grows), and never returns less than 0. A curve of one point is
// flat. An empty curve costs 0.
func (c Curve) Linear(x float64) Nanos {
	switch len(c) {
	case 0:
		return 0
	case 1:
		return c[0].Cost
	}
	i := sort.Search(len(c), func(i int) bool { return c[i].Size >= x })
	switch {
	case i < len(c) && c[i].Size == x:
		return c[i].Cost
	case i == 0:
		return max(0, c[0].Cost-Nanos(slope(c[0], c[1])*(c[0].Size-x)))
	case i == len(c):
		last, prev := c[len(c)-1], c[len(c)-2]
		return last.Cost + Nanos(slope(prev, last)*(x-last.Size))
	}
	a, b := c[i-1], c[i]
	t := (x - a.Size) / (b.Size - a.Size)
	return a.Cost + Nanos(t)*(b.Cost-a.Cost)
}

// Clamped is Linear inside the measured range and the cost of the nearest
// end outside it: for per-item costs of batches, where a batch larger than
// the largest measured one is split into batches of that size.
func (c Curve) Clamped(x float64) Nanos {
	if len(c) == 0 {
		return 0
	}
	x = min(max(x, c[0].Size), c[len(c)-1].Size)
	return c.Linear(x)
}

func slope(a, b Point) float64 {
	return max(0, float64(b.Cost-a.Cost)/(b.Size-a.Size))
}
