package netq_test

import (
	"bytes"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thinkey/thinkey/netq"
)

type fixedStats []netq.PeerStats

func (s fixedStats) Stats() []netq.PeerStats { return s }

func TestMetricsSnapshot(t *testing.T) {
	var m netq.Metrics
	a, b := netq.PeerID{2}, netq.PeerID{1}
	m.Peer(a).AddSent(10)
	m.Peer(a).AddSent(5)
	m.Peer(b).AddReceived(7)
	m.Peer(b).QueueFull.Add(2)
	if m.Peer(a) != m.Peer(a) {
		t.Fatal("Peer returned two counters for one peer")
	}
	snap := m.Snapshot(func(id netq.PeerID) int {
		if id == a {
			return 3
		}
		return 0
	})
	if len(snap) != 2 || !bytes.Equal(snap[0].Peer[:], b[:]) {
		t.Fatalf("snapshot not ordered by PeerID: %+v", snap)
	}
	want := []netq.PeerStats{
		{Peer: b, MessagesReceived: 1, BytesReceived: 7, QueueFull: 2},
		{Peer: a, MessagesSent: 2, BytesSent: 15, Queued: 3},
	}
	for i := range want {
		if snap[i] != want[i] {
			t.Fatalf("snapshot[%d] = %+v, want %+v", i, snap[i], want[i])
		}
	}
}

func TestCollector(t *testing.T) {
	peer := netq.PeerID{0xaa}
	src := fixedStats{{Peer: peer, MessagesSent: 4, BytesSent: 400, Lost: 1, Reconnects: 2, Queued: 5}}
	reg := prometheus.NewRegistry()
	if err := reg.Register(netq.NewCollector("thinkey", src)); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != peer.String() {
				t.Fatalf("%s: labels %v, want peer=%s", fam.GetName(), m.GetLabel(), peer)
			}
			switch {
			case m.GetCounter() != nil:
				got[fam.GetName()] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[fam.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	for name, want := range map[string]float64{
		"thinkey_netq_messages_sent_total":     4,
		"thinkey_netq_bytes_sent_total":        400,
		"thinkey_netq_messages_received_total": 0,
		"thinkey_netq_lost_total":              1,
		"thinkey_netq_reconnects_total":        2,
		"thinkey_netq_queued_messages":         5,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Fatalf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	if len(got) != 9 {
		t.Fatalf("exported %d metrics, want 9: %v", len(got), got)
	}
}
