package mempool

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Removal reasons, the "reason" label of thinkey_mempool_removed_total.
const (
	removedIncluded = "included" // Update: the message is in a committed block
	removedStale    = "stale"    // Update: a block consumed its nonce
	removedRemoved  = "removed"  // Remove
	removedDropped  = "dropped"  // Drop
)

// metrics are a pool's Prometheus collectors, labelled with its chain.
type metrics struct {
	pending  prometheus.Gauge
	admitted prometheus.Counter
	rejected map[string]prometheus.Counter // by Reason
	removed  map[string]prometheus.Counter
}

func newMetrics(chain string) (*metrics, []prometheus.Collector) {
	labels := prometheus.Labels{"chain": chain}
	pending := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "thinkey", Subsystem: "mempool", Name: "pending_messages",
		Help:        "Messages waiting in the mempool.",
		ConstLabels: labels,
	})
	admitted := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "thinkey", Subsystem: "mempool", Name: "admitted_total",
		Help:        "Messages admitted to the mempool.",
		ConstLabels: labels,
	})
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "thinkey", Subsystem: "mempool", Name: "rejected_total",
		Help:        "Messages refused by the mempool, by reason.",
		ConstLabels: labels,
	}, []string{"reason"})
	removed := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "thinkey", Subsystem: "mempool", Name: "removed_total",
		Help:        "Messages that left the mempool, by reason.",
		ConstLabels: labels,
	}, []string{"reason"})
	m := &metrics{
		pending:  pending,
		admitted: admitted,
		rejected: map[string]prometheus.Counter{},
		removed:  map[string]prometheus.Counter{},
	}
	// Every label value exists from the start, so dashboards see zeros
	// instead of missing series.
	for _, r := range Reasons() {
		m.rejected[r] = rejected.WithLabelValues(r)
	}
	for _, r := range []string{removedIncluded, removedStale, removedRemoved, removedDropped} {
		m.removed[r] = removed.WithLabelValues(r)
	}
	return m, []prometheus.Collector{pending, admitted, rejected, removed}
}

// register adds the collectors to reg, all or none; a nil reg registers
// nothing.
func register(reg prometheus.Registerer, cs []prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return fmt.Errorf("register mempool metrics: %w", err)
		}
	}
	return nil
}

func chainLabel(c Config) string { return strconv.FormatUint(uint64(c.Chain), 10) }
