package driver

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the driver's Prometheus collectors. Every node has its own
// registry (Options.Registry), so nodes sharing a process do not collide.
type metrics struct {
	height            prometheus.Gauge
	round             prometheus.Gauge
	blocks            *prometheus.CounterVec // by kind: block, empty
	committedMessages prometheus.Counter
	commitLatency     prometheus.Histogram
	persistDuration   prometheus.Histogram
	messagesIn        *prometheus.CounterVec // by kind
	messagesOut       *prometheus.CounterVec // by kind
	dropped           *prometheus.CounterVec // by reason
	stepRejected      *prometheus.CounterVec // by class
	verifyDuration    *prometheus.HistogramVec
	buildDuration     prometheus.Histogram
	syncedBlocks      prometheus.Counter
}

// Label values of messages_dropped_total: why the driver did not deliver an
// input to a core, or an output to a peer.
const (
	dropUndecodable = "undecodable"    // bytes that decode to nothing we know
	dropInvalid     = "invalid"        // ValidateBasic refused it
	dropUnknownPeer = "unknown_peer"   // not from a committee member
	dropSendFailed  = "send_failed"    // the peer's queue stayed full
	dropCongested   = "peer_congested" // skipped: the peer's queue was full moments ago
	dropIngestFull  = "ingest_full"    // the gossip ingest queue was full
	dropForwardFull = "forward_full"   // the gossip forward queue was full
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		height: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "thinkey", Subsystem: "consensus", Name: "height",
			Help: "Height the consensus core is deciding.",
		}),
		round: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "thinkey", Subsystem: "consensus", Name: "round",
			Help: "Round the consensus core is in at its height.",
		}),
		blocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "thinkey", Subsystem: "chain", Name: "committed_blocks_total",
			Help: "Heights committed, by kind (block, empty).",
		}, []string{"kind"}),
		committedMessages: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "thinkey", Subsystem: "chain", Name: "committed_messages_total",
			Help: "Input messages in committed blocks.",
		}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "thinkey", Subsystem: "chain", Name: "commit_latency_seconds",
			Help:    "From a block's timestamp (its proposal) to its durable commit on this node.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
		persistDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "thinkey", Subsystem: "storage", Name: "persist_duration_seconds",
			Help:    "Time of one synced batch of consensus state and committed blocks.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		messagesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "thinkey", Subsystem: "driver", Name: "messages_in_total",
			Help: "Messages received from peers, by kind.",
		}, []string{"kind"}),
		messagesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "thinkey", Subsystem: "driver", Name: "messages_out_total",
			Help: "Messages queued to peers (one per peer), by kind.",
		}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "thinkey", Subsystem: "driver", Name: "messages_dropped_total",
			Help: "Messages the driver dropped, by reason.",
		}, []string{"reason"}),
		stepRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "thinkey", Subsystem: "consensus", Name: "events_rejected_total",
			Help: "Events the consensus core refused, by class (stale, future, unknown_member, invalid, other).",
		}, []string{"class"}),
		verifyDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "thinkey", Subsystem: "driver", Name: "verify_duration_seconds",
			Help:    "Time of one verification request, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"kind"}),
		buildDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "thinkey", Subsystem: "driver", Name: "build_duration_seconds",
			Help:    "Time to build one proposed block (mempool selection and execution).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		syncedBlocks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "thinkey", Subsystem: "driver", Name: "synced_decisions_total",
			Help: "Decisions fetched from peers by block sync.",
		}),
	}
	for _, r := range []string{dropUndecodable, dropInvalid, dropUnknownPeer, dropSendFailed, dropCongested, dropIngestFull, dropForwardFull} {
		m.dropped.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{
		m.height, m.round, m.blocks, m.committedMessages, m.commitLatency, m.persistDuration,
		m.messagesIn, m.messagesOut, m.dropped, m.stepRejected, m.verifyDuration, m.buildDuration, m.syncedBlocks,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// registerProcessCollectors adds the Go runtime and process collectors, which
// only make sense once per process: the production command calls it, tests
// with several nodes in one process do not.
func registerProcessCollectors(reg prometheus.Registerer) error {
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return err
	}
	return reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}
