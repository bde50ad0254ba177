package netq

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// PeerStats is a snapshot of the counters of one peer. Counts are since the
// transport started; Queued is the current length of both send queues.
type PeerStats struct {
	Peer             PeerID
	MessagesSent     uint64 // frames handed to the connection
	BytesSent        uint64 // payload bytes of those frames
	MessagesReceived uint64
	BytesReceived    uint64
	// QueueFull counts messages refused because the queue was full: TrySend
	// drops and Send calls whose context ended first.
	QueueFull uint64
	// Lost counts messages accepted into the queue that never reached the
	// connection: a failed write, a partitioned or dropping link (memnet),
	// a peer removed or a transport closed with messages still queued.
	Lost uint64
	// Reconnects counts connections established after the first one.
	Reconnects uint64
	// ConnErrors counts failed dials and connections that ended in error.
	ConnErrors uint64
	Queued     int
}

// Counters are the live counters of one peer, updated by the transport's
// goroutines without locks.
type Counters struct {
	MessagesSent     atomic.Uint64
	BytesSent        atomic.Uint64
	MessagesReceived atomic.Uint64
	BytesReceived    atomic.Uint64
	QueueFull        atomic.Uint64
	Lost             atomic.Uint64
	Reconnects       atomic.Uint64
	ConnErrors       atomic.Uint64
}

// AddSent records one message of n payload bytes sent.
func (c *Counters) AddSent(n int) {
	c.MessagesSent.Add(1)
	c.BytesSent.Add(uint64(n))
}

// AddReceived records one message of n payload bytes received.
func (c *Counters) AddReceived(n int) {
	c.MessagesReceived.Add(1)
	c.BytesReceived.Add(uint64(n))
}

// Metrics holds the Counters of every peer a transport has seen. Entries
// are created on first use and kept for the transport's life, so counters
// survive a peer's removal and re-addition.
type Metrics struct {
	mu    sync.Mutex
	peers map[PeerID]*Counters
}

// Peer returns the counters of id, creating them on first use.
func (m *Metrics) Peer(id PeerID) *Counters {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.peers[id]
	if !ok {
		if m.peers == nil {
			m.peers = make(map[PeerID]*Counters)
		}
		c = new(Counters)
		m.peers[id] = c
	}
	return c
}

// Snapshot returns the counters of every peer ordered by PeerID; queued
// reports a peer's current queue length (nil means zero).
func (m *Metrics) Snapshot(queued func(PeerID) int) []PeerStats {
	m.mu.Lock()
	out := make([]PeerStats, 0, len(m.peers))
	for id, c := range m.peers {
		out = append(out, PeerStats{
			Peer:             id,
			MessagesSent:     c.MessagesSent.Load(),
			BytesSent:        c.BytesSent.Load(),
			MessagesReceived: c.MessagesReceived.Load(),
			BytesReceived:    c.BytesReceived.Load(),
			QueueFull:        c.QueueFull.Load(),
			Lost:             c.Lost.Load(),
			Reconnects:       c.Reconnects.Load(),
			ConnErrors:       c.ConnErrors.Load(),
		})
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b PeerStats) int { return bytes.Compare(a.Peer[:], b.Peer[:]) })
	if queued != nil {
		for i := range out {
			out[i].Queued = queued(out[i].Peer)
		}
	}
	return out
}

// StatsSource is what a Collector reads: any Transport.
type StatsSource interface {
	Stats() []PeerStats
}

// Collector exports a transport's per-peer counters to Prometheus, labelled
// by peer (full hex PeerID). It reads a snapshot on each scrape and holds
// no state of its own.
type Collector struct {
	src   StatsSource
	descs collectorDescs
}

type collectorDescs struct {
	messagesSent, bytesSent, messagesReceived, bytesReceived *prometheus.Desc
	queueFull, lost, reconnects, connErrors, queued          *prometheus.Desc
}

// NewCollector returns a collector of src's stats, with metric names under
// namespace (e.g. "thinkey") and subsystem "netq".
func NewCollector(namespace string, src StatsSource) *Collector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "netq", name), help, []string{"peer"}, nil)
	}
	return &Collector{src: src, descs: collectorDescs{
		messagesSent:     desc("messages_sent_total", "Messages handed to the connection to a peer."),
		bytesSent:        desc("bytes_sent_total", "Payload bytes handed to the connection to a peer."),
		messagesReceived: desc("messages_received_total", "Messages received from a peer."),
		bytesReceived:    desc("bytes_received_total", "Payload bytes received from a peer."),
		queueFull:        desc("queue_full_total", "Messages refused because the peer's send queue was full."),
		lost:             desc("lost_total", "Messages accepted for a peer that never reached the connection."),
		reconnects:       desc("reconnects_total", "Connections to a peer established after the first."),
		connErrors:       desc("conn_errors_total", "Failed dials and connections to a peer that ended in error."),
		queued:           desc("queued_messages", "Messages waiting in the peer's send queues."),
	}}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	d := c.descs
	for _, desc := range []*prometheus.Desc{d.messagesSent, d.bytesSent, d.messagesReceived, d.bytesReceived,
		d.queueFull, d.lost, d.reconnects, d.connErrors, d.queued} {
		ch <- desc
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	d := c.descs
	for _, s := range c.src.Stats() {
		peer := s.Peer.String()
		counter := func(desc *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), peer)
		}
		counter(d.messagesSent, s.MessagesSent)
		counter(d.bytesSent, s.BytesSent)
		counter(d.messagesReceived, s.MessagesReceived)
		counter(d.bytesReceived, s.BytesReceived)
		counter(d.queueFull, s.QueueFull)
		counter(d.lost, s.Lost)
		counter(d.reconnects, s.Reconnects)
		counter(d.connErrors, s.ConnErrors)
		ch <- prometheus.MustNewConstMetric(d.queued, prometheus.GaugeValue, float64(s.Queued), peer)
	}
}

// SendError turns the result of queueing a message for peer into the error a
// Transport's Send or TrySend returns, counting a full queue. A queue closed
// while the transport is still open means the peer was removed, which the
// caller sees as ErrUnknownPeer. Both twins share it, so they report alike.
func SendError(peer PeerID, err error, transportClosed bool, counters *Counters) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrQueueFull):
		counters.QueueFull.Add(1)
	case errors.Is(err, ErrClosed) && !transportClosed:
		err = ErrUnknownPeer
	}
	return fmt.Errorf("send to %s: %w", peer.Short(), err)
}
