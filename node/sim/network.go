package sim

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"
)

// BitRate is a link's capacity in bits per second.
type BitRate uint64

// Common bit rates (decimal, as links are sold).
const (
	Kbps BitRate = 1000
	Mbps         = 1000 * Kbps
	Gbps         = 1000 * Mbps
)

// JitterDistribution is the shape of the random part of a message's delay.
type JitterDistribution uint8

const (
	// JitterUniform draws the extra delay uniformly in [0, Jitter].
	JitterUniform JitterDistribution = iota
	// JitterExponential draws it from an exponential distribution of mean
	// Jitter (a long tail: a few messages are much later than the rest),
	// capped at JitterMax when that is set.
	JitterExponential
)

func (d JitterDistribution) String() string {
	switch d {
	case JitterUniform:
		return "uniform"
	case JitterExponential:
		return "exponential"
	default:
		return fmt.Sprintf("JitterDistribution(%d)", uint8(d))
	}
}

// NetworkConfig is the packet model every message copy goes through. The
// zero value is a perfect network: no delay, unlimited bandwidth, nothing
// lost. DefaultNetworkConfig is a LAN-like one.
type NetworkConfig struct {
	// Latency is the one-way propagation delay every copy pays at least.
	Latency time.Duration
	// Jitter scales the random delay added per copy (see
	// JitterDistribution). Jitter is what reorders messages on one link:
	// the network never promises FIFO.
	Jitter             time.Duration
	JitterDistribution JitterDistribution
	// JitterMax caps an exponential jitter; zero leaves it uncapped.
	// Ignored by the uniform distribution.
	JitterMax time.Duration

	// UplinkBandwidth is each node's outgoing capacity; zero is unlimited.
	// A message occupies the sender's uplink for size/bandwidth, and the
	// uplink sends one message at a time in the order they were sent, so a
	// big message delays the ones behind it (a broadcast is one copy per
	// receiver, serialized one after the other).
	UplinkBandwidth BitRate
	// UplinkQueueMax bounds how long a message may wait for the uplink
	// before it starts to go out; a message that would wait longer is
	// dropped (tail drop). Zero is an unbounded queue.
	UplinkQueueMax time.Duration

	// LossProbability is the chance that a copy is lost.
	LossProbability float64
	// DuplicateProbability is the chance that a delivered message is
	// delivered twice; the second copy has its own delay.
	DuplicateProbability float64
	// ReorderProbability is the chance that a copy is held back by an
	// extra delay, uniform in [0, ReorderDelay], on top of its jitter.
	ReorderProbability float64
	ReorderDelay       time.Duration
}

// DefaultNetworkConfig is a LAN-like network: 20 to 60 ms one way, 100 Mbit/s
// uplinks with an unbounded queue, and no loss, duplication or extra
// reordering (fault plans add those).
func DefaultNetworkConfig() NetworkConfig {
	return NetworkConfig{
		Latency:            20 * time.Millisecond,
		Jitter:             40 * time.Millisecond,
		JitterDistribution: JitterUniform,
		UplinkBandwidth:    100 * Mbps,
	}
}

// Validate reports every problem of the config at once; each wraps
// ErrInvalidConfig.
func (c NetworkConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: network: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Latency < 0 {
		bad("latency %v is negative", c.Latency)
	}
	if c.Jitter < 0 {
		bad("jitter %v is negative", c.Jitter)
	}
	switch c.JitterDistribution {
	case JitterUniform, JitterExponential:
	default:
		bad("unknown jitter distribution %v", c.JitterDistribution)
	}
	if c.JitterMax < 0 {
		bad("jitter cap %v is negative", c.JitterMax)
	}
	if c.UplinkQueueMax < 0 {
		bad("uplink queue bound %v is negative", c.UplinkQueueMax)
	}
	for _, p := range []struct {
		name  string
		value float64
	}{
		{"loss probability", c.LossProbability},
		{"duplicate probability", c.DuplicateProbability},
		{"reorder probability", c.ReorderProbability},
	} {
		if !(p.value >= 0 && p.value <= 1) { // also rejects NaN
			bad("%s %v is not in [0, 1]", p.name, p.value)
		}
	}
	if c.ReorderDelay < 0 {
		bad("reorder delay %v is negative", c.ReorderDelay)
	}
	if c.ReorderProbability > 0 && c.ReorderDelay == 0 {
		bad("reorder probability %v needs a positive reorder delay", c.ReorderProbability)
	}
	return errors.Join(errs...)
}

// jitter maps a uniform draw u in [0, 1) to the random part of a delay.
func (c NetworkConfig) jitter(u float64) time.Duration {
	if c.Jitter == 0 {
		return 0
	}
	switch c.JitterDistribution {
	case JitterExponential:
		d := scaleDuration(c.Jitter, negLog(1-u))
		if c.JitterMax > 0 && d > c.JitterMax {
			d = c.JitterMax
		}
		return d
	default: // JitterUniform; Validate rejects the others
		return scaleDuration(c.Jitter, u)
	}
}

// scaleDuration returns d*f, saturating instead of overflowing.
func scaleDuration(d time.Duration, f float64) time.Duration {
	x := float64(float64(d) * f)
	if x >= math.MaxInt64 {
		return math.MaxInt64
	}
	if x <= 0 {
		return 0
	}
	return time.Duration(x)
}

// serialization is how long size bytes occupy an uplink of the given rate,
// rounded up: a message has not left until its last bit has.
func serialization(size int, rate BitRate) time.Duration {
	if rate == 0 || size <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(size)*8, uint64(time.Second))
	if hi >= uint64(rate) {
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, uint64(rate))
	if r != 0 {
		q++
	}
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(q)
}

// addSaturating returns a+b for non-negative durations without overflow.
func addSaturating(a, b time.Duration) time.Duration {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

// PartitionMode says what happens to a message across a partition.
type PartitionMode uint8

const (
	// PartitionDrop loses messages across groups.
	PartitionDrop PartitionMode = iota
	// PartitionHold keeps them in the network and sends them on, each with
	// a fresh delay, when the partition heals (a long stall rather than a
	// loss).
	PartitionHold
)

func (m PartitionMode) String() string {
	switch m {
	case PartitionDrop:
		return "drop"
	case PartitionHold:
		return "hold"
	default:
		return fmt.Sprintf("PartitionMode(%d)", uint8(m))
	}
}

// DropReason says why a message copy was not delivered.
type DropReason uint8

const (
	// DropLoss: the network's random loss.
	DropLoss DropReason = iota
	// DropPartition: sender and receiver were in different groups of a
	// PartitionDrop partition when it left or when it arrived.
	DropPartition
	// DropLinkCut: the link from sender to receiver was cut.
	DropLinkCut
	// DropReceiverDown: the receiver was down when it arrived, or crashed
	// after it was sent (a restart does not bring back messages in flight).
	DropReceiverDown
	// DropSenderDown: the sender was down when it sent, or crashed before
	// the message left its uplink.
	DropSenderDown
	// DropUplinkFull: the message would have waited longer than
	// UplinkQueueMax for the sender's uplink.
	DropUplinkFull

	dropReasonCount
)

func (r DropReason) String() string {
	switch r {
	case DropLoss:
		return "loss"
	case DropPartition:
		return "partition"
	case DropLinkCut:
		return "link-cut"
	case DropReceiverDown:
		return "receiver-down"
	case DropSenderDown:
		return "sender-down"
	case DropUplinkFull:
		return "uplink-full"
	default:
		return fmt.Sprintf("DropReason(%d)", uint8(r))
	}
}

// link is one direction between two nodes.
type link struct{ from, to NodeID }

// clog multiplies a link's delay until a virtual time.
type clog struct {
	factor float64
	until  time.Duration
}

// network is the mutable state of the packet model. Its maps are only looked
// up, never iterated, so they cannot decide an order.
type network struct {
	cfg NetworkConfig

	cuts  map[link]bool
	clogs map[link]clog

	partitioned bool
	mode        PartitionMode
	groupOf     []int // group index per node; nodes added later are in restGroup
	restGroup   int
	held        []*event // copies held by a PartitionHold partition, in order
}

func (n *network) group(id NodeID) int {
	if int(id) < len(n.groupOf) {
		return n.groupOf[id]
	}
	return n.restGroup
}

// blocked reports whether a copy from -> to cannot pass now, and if so
// whether it is held (true) or dropped with the given reason.
func (n *network) blocked(from, to NodeID) (blocked, hold bool, reason DropReason) {
	if n.cuts[link{from, to}] {
		return true, false, DropLinkCut
	}
	if n.partitioned && n.group(from) != n.group(to) {
		return true, n.mode == PartitionHold, DropPartition
	}
	return false, false, 0
}

// propagation is the network delay of one copy on from -> to leaving at
// departAt, from the copy's uniform draws.
func (n *network) propagation(from, to NodeID, departAt time.Duration, jitterU, reorderU, reorderDelayU float64) time.Duration {
	d := addSaturating(n.cfg.Latency, n.cfg.jitter(jitterU))
	if reorderU < n.cfg.ReorderProbability {
		d = addSaturating(d, scaleDuration(n.cfg.ReorderDelay, reorderDelayU))
	}
	if c, ok := n.clogs[link{from, to}]; ok && departAt < c.until {
		d = scaleDuration(d, c.factor)
	}
	return d
}
