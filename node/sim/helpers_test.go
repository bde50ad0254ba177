package sim

import (
	"testing"
	"time"
)

// delivery is one OnMessage call seen by a probe.
type delivery struct {
	at      time.Duration
	from    NodeID
	payload string
}

// firing is one OnTimer call seen by a probe.
type firing struct {
	at time.Duration
	id uint64
}

// probe is a NodeHandler that records what it sees and runs optional hooks.
type probe struct {
	starts, restarts, crashes []time.Duration
	messages                  []delivery
	timers                    []firing

	onStart   func(now time.Duration)
	onMessage func(now time.Duration, from NodeID, payload []byte)
	onTimer   func(now time.Duration, id uint64)
	onRestart func(now time.Duration)
}

func (p *probe) OnStart(now time.Duration) {
	p.starts = append(p.starts, now)
	if p.onStart != nil {
		p.onStart(now)
	}
}

func (p *probe) OnMessage(now time.Duration, from NodeID, payload []byte) {
	p.messages = append(p.messages, delivery{now, from, string(payload)})
	if p.onMessage != nil {
		p.onMessage(now, from, payload)
	}
}

func (p *probe) OnTimer(now time.Duration, id uint64) {
	p.timers = append(p.timers, firing{now, id})
	if p.onTimer != nil {
		p.onTimer(now, id)
	}
}

func (p *probe) OnCrash(now time.Duration) { p.crashes = append(p.crashes, now) }

func (p *probe) OnRestart(now time.Duration) {
	p.restarts = append(p.restarts, now)
	if p.onRestart != nil {
		p.onRestart(now)
	}
}

// newTestWorld returns a world over cfg with n probes.
func newTestWorld(t testing.TB, seed uint64, cfg NetworkConfig, n int) (*World, []*probe) {
	t.Helper()
	w, err := NewWorld(WorldConfig{Seed: seed, Network: cfg})
	if err != nil {
		t.Fatalf("new world: %v", err)
	}
	probes := make([]*probe, n)
	for i := range probes {
		probes[i] = &probe{}
		if id := w.AddNode(probes[i]); id != NodeID(i) {
			t.Fatalf("AddNode returned %d, want %d", id, i)
		}
	}
	return w, probes
}

func mustRun(t testing.TB, w *World, until time.Duration) {
	t.Helper()
	if err := w.Run(until); err != nil {
		t.Fatalf("run until %v: %v", until, err)
	}
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
