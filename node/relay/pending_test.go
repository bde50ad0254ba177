package relay

import (
	"errors"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

func pendingPackages(t *testing.T) []Addressed {
	t.Helper()
	topo := testTopology(t)
	var msgs []types.Message
	for i := range 4 {
		dest := chainB
		if i%2 == 1 {
			dest = chainA
		}
		msgs = append(msgs, relayMsg(chainC, dest, uint64(i)))
	}
	h, body := sourceBlock(chainC, 1, msgs)
	return outbox(t, &h, &body, topo)
}

func ids(as []Addressed) []types.Hash {
	out := make([]types.Hash, len(as))
	for i := range as {
		out[i] = as[i].Package.Message.ID()
	}
	return out
}

func TestPendingBackoff(t *testing.T) {
	pkgs := pendingPackages(t)
	p := NewPending(PendingConfig{Base: time.Second, MaxBackoff: 5 * time.Second})
	if err := p.Add(0, pkgs[0]); err != nil {
		t.Fatal(err)
	}
	// Sent at 0, then after 1s, 2s, 4s, 5s, 5s: due at 0, 1, 3, 7, 12, 17.
	var sent []time.Duration
	for now := time.Duration(0); now <= 20*time.Second; now += 500 * time.Millisecond {
		if due := p.Due(now); len(due) > 0 {
			if len(due) != 1 || due[0].Package.Message.ID() != pkgs[0].Package.Message.ID() {
				t.Fatalf("at %v: %d due", now, len(due))
			}
			sent = append(sent, now)
		}
	}
	want := []time.Duration{0, 1 * time.Second, 3 * time.Second, 7 * time.Second, 12 * time.Second, 17 * time.Second}
	if len(sent) != len(want) {
		t.Fatalf("sent at %v, want %v", sent, want)
	}
	for i := range want {
		if sent[i] != want[i] {
			t.Fatalf("sent at %v, want %v", sent, want)
		}
	}
	p.Ack(ids(pkgs[:1]))
	if p.Len() != 0 || p.Due(time.Hour) != nil {
		t.Fatal("acknowledged package still pending")
	}
}

func TestPendingOrderDedupeAndBound(t *testing.T) {
	pkgs := pendingPackages(t)
	p := NewPending(PendingConfig{Max: 3})
	for i := range 3 {
		if err := p.Add(time.Duration(i), pkgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Add(0, pkgs[1]); err != nil {
		t.Fatalf("duplicate: %v", err)
	}
	if err := p.Add(0, pkgs[3]); !errors.Is(err, ErrFull) {
		t.Fatalf("beyond the bound: %v, want ErrFull", err)
	}
	if due := p.Due(1); len(due) != 2 {
		t.Fatalf("%d due at 1, want the two added by then", len(due))
	}
	due := p.Due(time.Hour)
	if len(due) != 3 {
		t.Fatalf("%d due, want 3", len(due))
	}
	for i := 1; i < len(due); i++ {
		if due[i-1].Dest > due[i].Dest {
			t.Fatalf("due not grouped by destination: %d before %d", due[i-1].Dest, due[i].Dest)
		}
	}
	p.Ack(append(ids(pkgs[:2]), types.Hash{7}))
	if p.Len() != 1 {
		t.Fatalf("%d pending after Ack, want 1", p.Len())
	}
	if err := p.Add(0, pkgs[3]); err != nil {
		t.Fatalf("after Ack: %v", err)
	}
}

func TestPendingConfigDefaults(t *testing.T) {
	c := PendingConfig{}.withDefaults()
	if c.Max != DefaultPendingSize || c.Base != DefaultResendBase || c.MaxBackoff != DefaultResendMax {
		t.Fatalf("defaults %+v", c)
	}
	if c := (PendingConfig{Base: time.Hour, MaxBackoff: time.Second}).withDefaults(); c.MaxBackoff != time.Hour {
		t.Fatalf("MaxBackoff below Base: %+v", c)
	}
	// A huge maximum does not overflow the doubling.
	p := NewPending(PendingConfig{Base: time.Duration(1 << 61), MaxBackoff: time.Duration(1<<63 - 1)})
	pkgs := pendingPackages(t)
	_ = p.Add(0, pkgs[0])
	for range 4 {
		p.Due(time.Duration(1<<63 - 1))
	}
	for _, e := range p.byID {
		if e.wait <= 0 || e.next < 0 {
			t.Fatalf("wait %v next %v overflowed", e.wait, e.next)
		}
	}
}
