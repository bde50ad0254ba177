package driver

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/thinkey/thinkey/node/types"
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

// chainRegisterer returns reg with every collector registered through it
// labelled by chain, as a runner's are.
func chainRegisterer(reg prometheus.Registerer, chain types.ChainID) prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"chain": chainLabel(chain)}, reg)
}

func chainLabel(c types.ChainID) string { return strconv.FormatUint(uint64(c), 10) }

// relayMetrics are a transaction chain's relay collectors (subsystem
// "relay"), labelled by chain through their registerer. The counters named
// after relays (produced, acked, abandoned, arrived, consumed) count each
// relay once per node and process; those named after packages (sent,
// received, refused) count transmissions, re-sends included. The gauges are
// set from the structure that holds what they count: the relay backlog,
// relay.Pending and relay.Inbox.
type relayMetrics struct {
	produced   *prometheus.CounterVec   // by dest
	sent       *prometheus.CounterVec   // by dest
	acked      *prometheus.CounterVec   // by dest
	ackLatency *prometheus.HistogramVec // by dest
	abandoned  *prometheus.CounterVec   // by reason
	held       *prometheus.GaugeVec     // by dest
	unread     *prometheus.GaugeVec     // by dest
	pending    prometheus.Gauge
	lag        prometheus.Gauge
	received   *prometheus.CounterVec // by source
	refused    *prometheus.CounterVec // by source, reason
	arrived    *prometheus.CounterVec // by source
	consumed   *prometheus.CounterVec // by source
	inbox      prometheus.Gauge
	// consumedIndex is the memory of the consumed-relay index's filters.
	consumedIndex prometheus.Gauge

	// peers holds the series of every other transaction chain, resolved
	// once so that per-relay updates cost no label lookup. It is not
	// written after newRelayMetrics, so any goroutine may read it.
	peers map[types.ChainID]*relayPeerMetrics
}

// relayPeerMetrics are the series of one other chain: as the destination
// of this chain's relays, and as the source of relays to it.
type relayPeerMetrics struct {
	produced, sent, acked       prometheus.Counter
	ackLatency                  prometheus.Observer
	held, unread                prometheus.Gauge
	received, arrived, consumed prometheus.Counter
}

// Label values of relay_abandoned_total: why this member stopped trying to
// deliver a relay of a committed block. Its other members deliver it.
const (
	abandonRecordedOther = "recorded_other_block" // the recorder recorded another block at its height
	abandonLiftFailed    = "lift_failed"          // its proof could not be lifted to the coordinator block
)

// Label values of relay_packages_refused_total: why a destination member
// did not file an arriving package in its inbox.
const (
	refuseBadProof     = "bad_proof"    // the proof does not decode, or is a packed block proof
	refuseMisaddressed = "misaddressed" // not an outer relay of the proof's source chain to an account of this chain
	refuseInboxFull    = "inbox_full"   // the inbox holds as many packages as it may
	refuseOther        = "other"
)

// newRelayMetrics registers the relay collectors of chain self with reg,
// with a series for each other chain of txChains (the transaction chains,
// which relays go to and come from).
func newRelayMetrics(reg prometheus.Registerer, self types.ChainID, txChains []types.ChainID) (*relayMetrics, error) {
	counter := func(name, help string, label ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "thinkey", Subsystem: "relay", Name: name, Help: help}, label)
	}
	gauge := func(name, help string, label ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "thinkey", Subsystem: "relay", Name: name, Help: help}, label)
	}
	m := &relayMetrics{
		produced: counter("produced_total", "Outer relays of this chain's committed blocks, by destination chain.", "dest"),
		sent: counter("packages_sent_total",
			"Relay packages handed to the transport for the destination member, re-sends included, by destination chain.", "dest"),
		acked: counter("acked_total",
			"Relays of this chain acknowledged by the destination member this member sends to, each once, by destination chain.", "dest"),
		ackLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "thinkey", Subsystem: "relay", Name: "ack_latency_seconds",
			Help:    "From the timestamp of a relay's source block (its proposal) to its acknowledgement by the destination member, by destination chain.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}, []string{"dest"}),
		abandoned: counter("abandoned_total",
			"Relays of this chain this member gave up delivering, by reason (recorded_other_block, lift_failed).", "reason"),
		held: gauge("held_packages",
			"Unacknowledged relay packages in this member's memory (sent, or waiting for the recorder or for room), by destination chain.", "dest"),
		unread: gauge("unread_heights",
			"Committed heights whose relays to the destination chain are still only in the store, not read into memory yet.", "dest"),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "thinkey", Subsystem: "relay", Name: "pending_packages",
			Help: "Relay packages sent, or due to be sent, and not acknowledged (relay.Pending).",
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "thinkey", Subsystem: "relay", Name: "delivery_lag_heights",
			Help: "Committed heights from the delivery mark up: heights whose relays may still be unacknowledged.",
		}),
		received: counter("packages_received_total",
			"Relay packages in batches accepted from the source chain's members, re-sends included, by source chain.", "source"),
		refused: counter("packages_refused_total",
			"Arriving relay packages not filed in the inbox, by source chain and reason (bad_proof, misaddressed, inbox_full, other).", "source", "reason"),
		arrived: counter("arrived_total",
			"Relays filed in the inbox on their first arrival (not re-sends, not other proofs of a relay held), by source chain.", "source"),
		consumed: counter("consumed_total", "Relays consumed by this chain's committed blocks, by source chain.", "source"),
		inbox: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "thinkey", Subsystem: "relay", Name: "inbox_relays",
			Help: "Relays in the inbox: arrived and not consumed by a committed block yet.",
		}),
		consumedIndex: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "thinkey", Subsystem: "relay", Name: "consumed_filter_bytes",
			Help: "Memory of the Bloom filters over the chain's consumed relays (the set itself is in the store).",
		}),
		peers: make(map[types.ChainID]*relayPeerMetrics, len(txChains)),
	}
	for _, c := range txChains {
		if c == self {
			continue
		}
		m.peers[c] = m.resolvePeer(c)
		for _, r := range []string{refuseBadProof, refuseMisaddressed, refuseInboxFull} {
			m.refused.WithLabelValues(chainLabel(c), r)
		}
	}
	for _, r := range []string{abandonRecordedOther, abandonLiftFailed} {
		m.abandoned.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{
		m.produced, m.sent, m.acked, m.ackLatency, m.abandoned, m.held, m.unread, m.pending, m.lag,
		m.received, m.refused, m.arrived, m.consumed, m.inbox, m.consumedIndex,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *relayMetrics) resolvePeer(c types.ChainID) *relayPeerMetrics {
	l := chainLabel(c)
	return &relayPeerMetrics{
		produced: m.produced.WithLabelValues(l), sent: m.sent.WithLabelValues(l), acked: m.acked.WithLabelValues(l),
		ackLatency: m.ackLatency.WithLabelValues(l), held: m.held.WithLabelValues(l), unread: m.unread.WithLabelValues(l),
		received: m.received.WithLabelValues(l), arrived: m.arrived.WithLabelValues(l), consumed: m.consumed.WithLabelValues(l),
	}
}

// peer returns the series of chain c; a chain outside the topology's
// transaction chains (which verified relays do not name) gets them
// resolved afresh.
func (m *relayMetrics) peer(c types.ChainID) *relayPeerMetrics {
	if p, ok := m.peers[c]; ok {
		return p
	}
	return m.resolvePeer(c)
}
