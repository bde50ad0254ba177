package sim

import (
	"math/bits"
	"time"
)

// Counter counts messages and their payload bytes.
type Counter struct {
	Messages uint64
	Bytes    uint64
}

func (c *Counter) add(size int) {
	c.Messages++
	c.Bytes += uint64(size)
}

// NodeMetrics are the counts of one node (or, in Metrics.Total, of all).
type NodeMetrics struct {
	// Sent counts Send and Broadcast copies handed to the world by the node,
	// whatever became of them.
	Sent Counter
	// Received counts copies delivered to the node's handler.
	Received Counter
	// Dropped counts copies addressed to the node that were lost, for any
	// DropReason.
	Dropped Counter
	// Duplicated counts the extra copies the network made of the node's
	// messages.
	Duplicated Counter
	// Timers counts timer firings.
	Timers uint64
	// Crashes and Restarts count the node's crashes and completed restarts.
	Crashes, Restarts uint64
	// CPUBusy is the virtual CPU time charged to the node.
	CPUBusy time.Duration
}

// Metrics are the counts of a run. Every copy the world makes (one per
// Sent, one more per Duplicated) ends Received or Dropped, or is still in
// flight or held.
type Metrics struct {
	Total   NodeMetrics
	PerNode []NodeMetrics // indexed by NodeID
	// DroppedBy splits Total.Dropped by DropReason.
	DroppedBy [dropReasonCount]Counter
	// Held counts copies a PartitionHold partition held back (they are
	// counted again when they are finally received or dropped).
	Held Counter
	// Latency is the virtual time from Send to the receiving handler, over
	// every delivery: uplink queueing and serialization, propagation, and
	// waiting for the receiver's CPU.
	Latency LatencyHistogram
	// Events counts processed events, including those that turned out
	// stale (a replaced timer, a message to a crashed node).
	Events uint64
}

// Metrics returns a copy of the counts so far.
func (w *World) Metrics() Metrics {
	m := w.metrics
	m.PerNode = make([]NodeMetrics, len(w.nodes))
	for i := range w.nodes {
		m.PerNode[i] = w.nodes[i].metrics
	}
	m.Total.CPUBusy = 0
	for i := range m.PerNode {
		m.Total.CPUBusy += m.PerNode[i].CPUBusy
	}
	return m
}

// latencyBuckets is one bucket per bit length of a duration in nanoseconds.
const latencyBuckets = 64

// LatencyHistogram is a log2 histogram of virtual durations: bucket k counts
// durations of k significant bits, that is in [2^(k-1), 2^k) ns (bucket 0
// counts zero). Exact count, sum, min and max ride along.
type LatencyHistogram struct {
	Buckets  [latencyBuckets]uint64
	Count    uint64
	Sum      time.Duration
	Min, Max time.Duration
}

// Observe adds one duration; negative ones count as zero.
func (h *LatencyHistogram) Observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.Buckets[bits.Len64(uint64(d))]++
	if h.Count == 0 || d < h.Min {
		h.Min = d
	}
	if d > h.Max {
		h.Max = d
	}
	h.Count++
	h.Sum += d
}

// Mean returns the average duration, or zero when empty.
func (h *LatencyHistogram) Mean() time.Duration {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / time.Duration(h.Count)
}

// Quantile returns an upper bound, within a factor of two, of the q-th
// quantile (q in [0, 1]): the top of the bucket that holds it, never above
// Max. It returns zero when empty.
func (h *LatencyHistogram) Quantile(q float64) time.Duration {
	if h.Count == 0 {
		return 0
	}
	if !(q > 0) {
		return h.Min
	}
	if q >= 1 {
		return h.Max
	}
	rank := uint64(q * float64(h.Count))
	if rank >= h.Count {
		rank = h.Count - 1
	}
	var seen uint64
	for k, c := range h.Buckets {
		seen += c
		if seen > rank {
			top := time.Duration(uint64(1)<<k - 1)
			if k == latencyBuckets-1 || top > h.Max {
				top = h.Max
			}
			if top < h.Min {
				top = h.Min
			}
			return top
		}
	}
	return h.Max
}
