package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestScheduledEventsRunInTimeThenQueueingOrder(t *testing.T) {
	w, _ := newTestWorld(t, 1, NetworkConfig{}, 0)
	var got []string
	for _, s := range []struct {
		at    time.Duration
		label string
	}{
		{30, "c1"}, {10, "a1"}, {30, "c2"}, {20, "b1"}, {10, "a2"}, {10, "a3"}, {0, "z"},
	} {
		w.Schedule(s.at, func() { got = append(got, s.label) })
	}
	mustRun(t, w, time.Second)
	want := []string{"z", "a1", "a2", "a3", "b1", "c1", "c2"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if w.Now() != time.Second {
		t.Fatalf("clock %v after Run(1s), want 1s", w.Now())
	}
}

// The queue is a total order on (time, seq): whatever the times, events come
// out as a stable sort of their queueing order by time, and a script queued
// by a script at the same time runs after everything already queued then.
func TestScheduleOrderProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		times := rapid.SliceOfN(rapid.Int64Range(0, 20), 1, 60).Draw(rt, "times")
		w, err := NewWorld(WorldConfig{})
		if err != nil {
			rt.Fatal(err)
		}
		type item struct {
			at  time.Duration
			idx int
		}
		var got []item
		for i, at := range times {
			w.Schedule(time.Duration(at), func() {
				got = append(got, item{w.Now(), i})
				if i%3 == 0 { // a nested schedule at the same time goes last at that time
					w.Schedule(w.Now(), func() { got = append(got, item{w.Now(), -1 - i}) })
				}
			})
		}
		if err := w.Run(time.Hour); err != nil {
			rt.Fatal(err)
		}
		for i := 1; i < len(got); i++ {
			if got[i].at < got[i-1].at {
				rt.Fatalf("time went back: %v then %v", got[i-1], got[i])
			}
		}
		var direct []item
		for _, it := range got {
			if it.idx >= 0 {
				direct = append(direct, it)
			}
		}
		want := make([]item, len(times))
		for i, at := range times {
			want[i] = item{time.Duration(at), i}
		}
		slices.SortStableFunc(want, func(a, b item) int { return int(a.at - b.at) })
		if !slices.Equal(direct, want) {
			rt.Fatalf("order %v, want %v", direct, want)
		}
		// Each nested script runs after its parent and after every direct
		// script of the same time.
		for k, it := range got {
			if it.idx >= 0 {
				continue
			}
			for _, later := range got[k+1:] {
				if later.idx >= 0 && later.at == it.at {
					rt.Fatalf("direct script %d at %v ran after nested script %d", later.idx, it.at, -1-it.idx)
				}
			}
		}
	})
}

func TestTimers(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		script func(w *World)
		want   []firing
	}{
		{"fires at its time", func(w *World) { w.SetTimer(0, 5*ms, 1) }, []firing{{5 * ms, 1}}},
		{"re-arm later replaces", func(w *World) {
			w.SetTimer(0, 5*ms, 1)
			w.SetTimer(0, 9*ms, 1)
		}, []firing{{9 * ms, 1}}},
		{"re-arm earlier replaces", func(w *World) {
			w.SetTimer(0, 9*ms, 1)
			w.SetTimer(0, 5*ms, 1)
		}, []firing{{5 * ms, 1}}},
		{"cancel", func(w *World) {
			w.SetTimer(0, 5*ms, 1)
			w.CancelTimer(0, 1)
		}, nil},
		{"cancel then re-arm", func(w *World) {
			w.SetTimer(0, 5*ms, 1)
			w.CancelTimer(0, 1)
			w.SetTimer(0, 7*ms, 1)
		}, []firing{{7 * ms, 1}}},
		{"distinct IDs are independent", func(w *World) {
			w.SetTimer(0, 7*ms, 2)
			w.SetTimer(0, 5*ms, 1)
			w.SetTimer(0, 7*ms, 3)
		}, []firing{{5 * ms, 1}, {7 * ms, 2}, {7 * ms, 3}}},
		{"past deadline fires now", func(w *World) {
			w.Schedule(4*ms, func() { w.SetTimer(0, ms, 1) })
		}, []firing{{4 * ms, 1}}},
		{"crash drops timers", func(w *World) {
			w.SetTimer(0, 5*ms, 1)
			w.Schedule(3*ms, func() { mustNil(t, w.Crash(0)) })
			w.Schedule(4*ms, func() { mustNil(t, w.Restart(0)) })
		}, nil},
		{"arming while down does nothing", func(w *World) {
			w.Schedule(3*ms, func() {
				mustNil(t, w.Crash(0))
				w.SetTimer(0, 5*ms, 1)
			})
			w.Schedule(4*ms, func() { mustNil(t, w.Restart(0)) })
		}, nil},
		{"re-armed after restart fires", func(w *World) {
			w.SetTimer(0, 5*ms, 1)
			w.Schedule(3*ms, func() { mustNil(t, w.Crash(0)) })
			w.Schedule(4*ms, func() {
				mustNil(t, w.Restart(0))
			})
			w.Schedule(4*ms+1, func() { w.SetTimer(0, 8*ms, 1) })
		}, []firing{{8 * ms, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, p := newTestWorld(t, 1, NetworkConfig{}, 1)
			mustRun(t, w, 0) // boot
			tc.script(w)
			mustRun(t, w, time.Second)
			if !slices.Equal(p[0].timers, tc.want) {
				t.Fatalf("firings %v, want %v", p[0].timers, tc.want)
			}
		})
	}
}

func TestPeriodicTimerRearmedInItsHandler(t *testing.T) {
	w, p := newTestWorld(t, 1, NetworkConfig{}, 1)
	p[0].onStart = func(now time.Duration) { w.SetTimer(0, now+10*time.Millisecond, 7) }
	p[0].onTimer = func(now time.Duration, id uint64) { w.SetTimer(0, now+10*time.Millisecond, id) }
	mustRun(t, w, 55*time.Millisecond)
	if len(p[0].timers) != 5 {
		t.Fatalf("%d firings in 55ms of a 10ms timer, want 5: %v", len(p[0].timers), p[0].timers)
	}
}

func TestCrashAndRestart(t *testing.T) {
	ms := time.Millisecond
	cfg := NetworkConfig{Latency: 20 * ms}
	w, p := newTestWorld(t, 1, cfg, 2)
	mustRun(t, w, 0)
	if len(p[0].starts) != 1 || p[0].starts[0] != 0 {
		t.Fatalf("starts %v, want [0]", p[0].starts)
	}
	w.Send(0, 1, []byte("before crash")) // would arrive at 20ms
	w.Schedule(10*ms, func() {
		mustNil(t, w.Crash(1))
		if w.IsUp(1) {
			t.Error("node up right after Crash")
		}
		w.Send(0, 1, []byte("while down")) // arrives at 30ms, after the restart
		w.Send(1, 0, []byte("from the dead"))
	})
	w.Schedule(15*ms, func() { mustNil(t, w.Restart(1)) })
	w.Schedule(16*ms, func() { w.Send(0, 1, []byte("after restart")) })
	mustRun(t, w, time.Second)

	if !slices.Equal(p[1].crashes, []time.Duration{10 * ms}) {
		t.Errorf("crashes %v, want [10ms]", p[1].crashes)
	}
	if !slices.Equal(p[1].restarts, []time.Duration{15 * ms}) {
		t.Errorf("restarts %v, want [15ms]", p[1].restarts)
	}
	if len(p[1].starts) != 1 {
		t.Errorf("OnStart ran %d times, want once", len(p[1].starts))
	}
	want := []delivery{{30 * ms, 0, "while down"}, {36 * ms, 0, "after restart"}}
	if !slices.Equal(p[1].messages, want) {
		t.Errorf("node 1 got %v, want %v", p[1].messages, want)
	}
	if len(p[0].messages) != 0 {
		t.Errorf("a crashed node's send arrived: %v", p[0].messages)
	}
	m := w.Metrics()
	if got := m.DroppedBy[DropReceiverDown].Messages; got != 1 {
		t.Errorf("receiver-down drops %d, want 1", got)
	}
	if got := m.DroppedBy[DropSenderDown].Messages; got != 1 {
		t.Errorf("sender-down drops %d, want 1", got)
	}
	if m.PerNode[1].Crashes != 1 || m.PerNode[1].Restarts != 1 {
		t.Errorf("node 1 crashes/restarts %d/%d, want 1/1", m.PerNode[1].Crashes, m.PerNode[1].Restarts)
	}
}

func TestCrashLosesMessagesStillInTheUplink(t *testing.T) {
	// 1000 bytes at 8 kbit/s take 1s each on the uplink.
	cfg := NetworkConfig{Latency: time.Millisecond, UplinkBandwidth: 8 * Kbps}
	w, p := newTestWorld(t, 1, cfg, 2)
	mustRun(t, w, 0)
	msg := make([]byte, 1000)
	w.Send(0, 1, msg) // leaves at 1s
	w.Send(0, 1, msg) // leaves at 2s: still queued at the crash
	w.Schedule(1500*time.Millisecond, func() { mustNil(t, w.Crash(0)) })
	w.Schedule(1600*time.Millisecond, func() { mustNil(t, w.Restart(0)) })
	mustRun(t, w, 10*time.Second)
	if len(p[1].messages) != 1 || p[1].messages[0].at != time.Second+time.Millisecond {
		t.Fatalf("node 1 got %v, want one message at 1.001s", p[1].messages)
	}
	if got := w.Metrics().DroppedBy[DropSenderDown].Messages; got != 1 {
		t.Fatalf("sender-down drops %d, want 1", got)
	}
}

func TestCrashBeforeStartBootsOnRestart(t *testing.T) {
	w, p := newTestWorld(t, 1, NetworkConfig{}, 1)
	mustNil(t, w.Crash(0)) // before its boot event ran
	mustRun(t, w, time.Millisecond)
	if len(p[0].starts) != 0 || w.IsUp(0) {
		t.Fatalf("a node crashed before boot started: starts %v", p[0].starts)
	}
	mustNil(t, w.Restart(0))
	mustNil(t, w.Restart(0)) // twice is once
	mustRun(t, w, 2*time.Millisecond)
	if len(p[0].starts) != 1 || len(p[0].restarts) != 0 || !w.IsUp(0) {
		t.Fatalf("starts %v restarts %v, want one start and no restart", p[0].starts, p[0].restarts)
	}
}

func TestCrashCancelsPendingRestart(t *testing.T) {
	w, p := newTestWorld(t, 1, NetworkConfig{}, 1)
	mustRun(t, w, 0)
	w.Schedule(time.Millisecond, func() {
		mustNil(t, w.Crash(0))
		mustNil(t, w.Restart(0))
		mustNil(t, w.Crash(0))
	})
	mustRun(t, w, time.Second)
	if w.IsUp(0) || len(p[0].restarts) != 0 {
		t.Fatalf("up=%v restarts=%v, want down with no restart", w.IsUp(0), p[0].restarts)
	}
}

func TestHandlersAreNotReentered(t *testing.T) {
	w, p := newTestWorld(t, 1, NetworkConfig{}, 1)
	depth, maxDepth, count := 0, 0, 0
	var runErr error
	p[0].onStart = func(time.Duration) { w.Send(0, 0, []byte("x")) }
	p[0].onMessage = func(now time.Duration, _ NodeID, payload []byte) {
		depth++
		maxDepth = max(maxDepth, depth)
		if count++; count < 100 {
			w.Send(0, 0, payload) // loopback: queued, not delivered inside this call
		}
		if count == 50 {
			runErr = w.Run(time.Hour)
		}
		depth--
	}
	err := w.Run(time.Second)
	if maxDepth != 1 {
		t.Fatalf("handler entered at depth %d", maxDepth)
	}
	if !errors.Is(runErr, ErrReentrant) || !errors.Is(err, ErrReentrant) {
		t.Fatalf("nested Run returned %v and Run %v, want ErrReentrant", runErr, err)
	}
	if count != 50 {
		t.Fatalf("%d loopback deliveries before the misuse stopped the run, want 50", count)
	}
}

func TestChargeDelaysTheBusyNode(t *testing.T) {
	ms := time.Millisecond
	w, p := newTestWorld(t, 1, NetworkConfig{Latency: 10 * ms}, 3)
	p[1].onMessage = func(now time.Duration, from NodeID, payload []byte) {
		if string(payload) == "work" {
			w.Charge(1, 50*ms)
			w.Send(1, 2, []byte("result"))
		}
	}
	w.Schedule(0, func() { w.Send(0, 1, []byte("work")) })           // arrives 10ms, busy until 60ms
	w.Schedule(5*ms, func() { w.Send(0, 1, []byte("queued")) })      // arrives 15ms, waits for the CPU
	w.Schedule(5*ms, func() { w.SetTimer(1, 20*ms, 9) })             // due 20ms, waits too
	w.Schedule(70*ms, func() { w.Send(0, 1, []byte("idle again")) }) // arrives 80ms
	mustRun(t, w, time.Second)
	want := []delivery{{10 * ms, 0, "work"}, {60 * ms, 0, "queued"}, {80 * ms, 0, "idle again"}}
	if !slices.Equal(p[1].messages, want) {
		t.Errorf("node 1 got %v, want %v", p[1].messages, want)
	}
	if !slices.Equal(p[1].timers, []firing{{60 * ms, 9}}) {
		t.Errorf("node 1 timers %v, want one at 60ms", p[1].timers)
	}
	if !slices.Equal(p[2].messages, []delivery{{70 * ms, 1, "result"}}) {
		t.Errorf("node 2 got %v, want the result at 70ms (sent after the charge)", p[2].messages)
	}
	if got := w.Metrics().PerNode[1].CPUBusy; got != 50*ms {
		t.Errorf("CPU busy %v, want 50ms", got)
	}
}

func TestMisuseStopsTheRun(t *testing.T) {
	tests := []struct {
		name string
		call func(w *World)
		want error
	}{
		{"send to unknown node", func(w *World) { w.Send(0, 9, nil) }, ErrUnknownNode},
		{"send from unknown node", func(w *World) { w.Send(9, 0, nil) }, ErrUnknownNode},
		{"broadcast from unknown node", func(w *World) { w.Broadcast(9, nil) }, ErrUnknownNode},
		{"timer of unknown node", func(w *World) { w.SetTimer(9, 0, 1) }, ErrUnknownNode},
		{"cancel of unknown node", func(w *World) { w.CancelTimer(9, 1) }, ErrUnknownNode},
		{"charge of unknown node", func(w *World) { w.Charge(9, 1) }, ErrUnknownNode},
		{"negative charge", func(w *World) { w.Charge(0, -1) }, ErrNegativeCost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := newTestWorld(t, 1, NetworkConfig{}, 2)
			ran := false
			w.Schedule(time.Millisecond, func() { tc.call(w) })
			w.Schedule(2*time.Millisecond, func() { ran = true })
			err := w.Run(time.Second)
			if !errors.Is(err, tc.want) || !errors.Is(w.Err(), tc.want) {
				t.Fatalf("Run returned %v, want %v", err, tc.want)
			}
			if ran {
				t.Fatal("the run went on after the misuse")
			}
		})
	}
	w, _ := newTestWorld(t, 1, NetworkConfig{}, 1)
	for name, err := range map[string]error{
		"crash":     w.Crash(5),
		"restart":   w.Restart(5),
		"cut":       w.CutLink(0, 5),
		"restore":   w.RestoreLink(5, 0),
		"clog":      w.Clog(0, 5, 2, time.Second),
		"partition": w.Partition(PartitionDrop, []NodeID{5}),
	} {
		if !errors.Is(err, ErrUnknownNode) {
			t.Errorf("%s of an unknown node: %v, want ErrUnknownNode", name, err)
		}
	}
	if err := w.Clog(0, 0, 0.5, time.Second); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("clog factor 0.5: %v, want ErrInvalidConfig", err)
	}
	if err := w.Partition(PartitionDrop, []NodeID{0}, []NodeID{0}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("node in two groups: %v, want ErrInvalidConfig", err)
	}
	if err := w.Partition(PartitionMode(7)); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("unknown partition mode: %v, want ErrInvalidConfig", err)
	}
}

func TestRunUntil(t *testing.T) {
	w, p := newTestWorld(t, 1, NetworkConfig{Latency: 10 * time.Millisecond}, 2)
	bounce := func(self NodeID) func(time.Duration, NodeID, []byte) {
		return func(_ time.Duration, from NodeID, payload []byte) { w.Send(self, from, payload) }
	}
	p[0].onMessage, p[1].onMessage = bounce(0), bounce(1)
	p[0].onStart = func(time.Duration) { w.Send(0, 1, []byte("ball")) }
	err := w.RunUntil(func() bool { return len(p[0].messages) == 3 }, time.Second)
	if err != nil {
		t.Fatalf("ping-pong: %v", err)
	}
	if w.Now() != 60*time.Millisecond {
		t.Fatalf("third return at %v, want 60ms", w.Now())
	}
	err = w.RunUntil(func() bool { return false }, 200*time.Millisecond)
	if !errors.Is(err, ErrTimeLimit) || w.Now() != 200*time.Millisecond {
		t.Fatalf("got %v at %v, want ErrTimeLimit at 200ms", err, w.Now())
	}

	idle, _ := newTestWorld(t, 1, NetworkConfig{}, 1)
	if err := idle.RunUntil(func() bool { return false }, time.Second); !errors.Is(err, ErrStalled) {
		t.Fatalf("idle world: %v, want ErrStalled", err)
	}
}

func TestStep(t *testing.T) {
	w, p := newTestWorld(t, 1, NetworkConfig{}, 2)
	for i := 0; ; i++ {
		ok, err := w.Step()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if i != 2 {
				t.Fatalf("%d steps, want 2 boots", i)
			}
			break
		}
	}
	if len(p[0].starts) != 1 || len(p[1].starts) != 1 || w.Events() != 2 {
		t.Fatalf("starts %d %d, events %d", len(p[0].starts), len(p[1].starts), w.Events())
	}
}

func TestMaxEvents(t *testing.T) {
	w, err := NewWorld(WorldConfig{MaxEvents: 10})
	mustNil(t, err)
	p := &probe{}
	w.AddNode(p)
	p.onStart = func(time.Duration) { w.Send(0, 0, nil) }
	p.onMessage = func(time.Duration, NodeID, []byte) { w.Send(0, 0, nil) } // zero-time loop
	if err := w.Run(time.Second); !errors.Is(err, ErrEventLimit) {
		t.Fatalf("got %v, want ErrEventLimit", err)
	}
}

func TestTraceWriter(t *testing.T) {
	var out strings.Builder
	w, err := NewWorld(WorldConfig{Seed: 3, Network: NetworkConfig{Latency: time.Millisecond}, Trace: &out})
	mustNil(t, err)
	w.AddNode(&probe{})
	w.AddNode(&probe{})
	w.Schedule(0, func() { w.Send(0, 1, []byte("hi")) })
	w.Schedule(0, func() { w.SetTimer(1, 5*time.Millisecond, 4) })
	mustRun(t, w, time.Second)
	for _, want := range []string{"0s boot node=0", "1ms deliver 0->1 len=2", "5ms timer node=1 id=4"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("trace lacks %q:\n%s", want, out.String())
		}
	}

	w, err = NewWorld(WorldConfig{Trace: failingWriter{}})
	mustNil(t, err)
	w.AddNode(&probe{})
	if err := w.Run(time.Second); !errors.Is(err, ErrTrace) {
		t.Fatalf("failing trace writer: %v, want ErrTrace", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestStreamsAreIndependentOfNodeCount(t *testing.T) {
	small, _ := newTestWorld(t, 42, NetworkConfig{}, 3)
	large, _ := newTestWorld(t, 42, NetworkConfig{}, 8)
	for id := NodeID(0); id < 3; id++ {
		a, b := small.Rand(id), large.Rand(id)
		for range 16 {
			if x, y := a.Uint64(), b.Uint64(); x != y {
				t.Fatalf("node %d stream depends on the node count: %x != %x", id, x, y)
			}
		}
	}
	if small.Rand(0).Uint64() == small.Rand(1).Uint64() {
		t.Fatal("nodes 0 and 1 share a stream")
	}
	other, _ := newTestWorld(t, 43, NetworkConfig{}, 1)
	fresh, _ := newTestWorld(t, 42, NetworkConfig{}, 1)
	if other.Rand(0).Uint64() == fresh.Rand(0).Uint64() {
		t.Fatal("seeds 42 and 43 give node 0 the same stream")
	}
	if small.Rand(99) != nil {
		t.Fatal("Rand of an unknown node is not nil")
	}
}

func TestNegLogMatchesMathLog(t *testing.T) {
	xs := []float64{1, 0.5, 0.75, 1e-300, 1.0 / (1 << 53), 0.1, 0.999999, 1 - 1.0/(1<<53)}
	for i := 1; i < 2000; i++ {
		xs = append(xs, float64(i)/2000)
	}
	for _, x := range xs {
		got, want := negLog(x), -math.Log(x)
		if diff := math.Abs(got - want); diff > 1e-14*math.Max(1, math.Abs(want)) {
			t.Fatalf("negLog(%v) = %v, math.Log gives %v (diff %g)", x, got, want, diff)
		}
	}
	// Subnormals, checked against the exact value: amd64's assembly
	// math.Log gets them wrong, one more reason not to depend on it.
	if got, want := negLog(math.SmallestNonzeroFloat64), 1074*math.Ln2; math.Abs(got-want) > 1e-12 {
		t.Errorf("negLog(2^-1074) = %v, want %v", got, want)
	}
	for _, x := range []float64{0, -1, 2, math.NaN()} {
		if got := negLog(x); got != 0 {
			t.Errorf("negLog(%v) = %v, want 0 outside (0, 1]", x, got)
		}
	}
}

func TestSerialization(t *testing.T) {
	tests := []struct {
		size int
		rate BitRate
		want time.Duration
	}{
		{1_000_000, 8 * Mbps, time.Second},
		{1 << 20, 8 * Mbps, 1048576 * time.Microsecond},
		{1, 100 * Mbps, 80 * time.Nanosecond},
		{3, 7, 3428571429}, // rounded up
		{0, 8 * Mbps, 0},
		{1000, 0, 0}, // unlimited
		{math.MaxInt32, 1, math.MaxInt64},
	}
	for _, tc := range tests {
		if got := serialization(tc.size, tc.rate); got != tc.want {
			t.Errorf("serialization(%d B, %d bit/s) = %v, want %v", tc.size, tc.rate, got, tc.want)
		}
	}
}

func TestLatencyHistogram(t *testing.T) {
	var h LatencyHistogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram is not zero")
	}
	for i := 1; i <= 100; i++ {
		h.Observe(time.Duration(i) * time.Millisecond)
	}
	h.Observe(-5) // counts as zero
	if h.Count != 101 || h.Min != 0 || h.Max != 100*time.Millisecond {
		t.Fatalf("count %d min %v max %v", h.Count, h.Min, h.Max)
	}
	if got, want := h.Mean(), 5050*time.Millisecond/101; got != want {
		t.Fatalf("mean %v, want %v", got, want)
	}
	median := h.Quantile(0.5)
	if median < 50*time.Millisecond || median > 100*time.Millisecond {
		t.Fatalf("median bound %v, want within a factor 2 above 50ms", median)
	}
	if h.Quantile(1) != h.Max || h.Quantile(0) != h.Min {
		t.Fatal("extreme quantiles are not min and max")
	}
	for q := 0.0; q <= 1; q += 0.05 {
		if a, b := h.Quantile(q), h.Quantile(q+0.05); a > b {
			t.Fatalf("quantile not monotone: q=%v %v > %v", q, a, b)
		}
	}
}

func TestNetworkConfigValidate(t *testing.T) {
	if err := DefaultNetworkConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	if err := (NetworkConfig{}).Validate(); err != nil {
		t.Fatalf("zero config (perfect network): %v", err)
	}
	bad := NetworkConfig{
		Latency:              -1,
		Jitter:               -1,
		JitterDistribution:   9,
		JitterMax:            -1,
		UplinkQueueMax:       -1,
		LossProbability:      1.5,
		DuplicateProbability: math.NaN(),
		ReorderProbability:   0.5,
		ReorderDelay:         0,
	}
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{"latency", "jitter -", "distribution", "jitter cap", "queue", "loss", "duplicate", "needs a positive reorder delay"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := NewWorld(WorldConfig{Network: bad}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewWorld accepted a bad config: %v", err)
	}
	w, _ := newTestWorld(t, 1, NetworkConfig{}, 0)
	if err := w.SetNetwork(bad); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("SetNetwork accepted a bad config: %v", err)
	}
}

func TestStringers(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{JitterUniform.String(), "uniform"},
		{JitterExponential.String(), "exponential"},
		{JitterDistribution(9).String(), "JitterDistribution(9)"},
		{PartitionHold.String(), "hold"},
		{PartitionMode(9).String(), "PartitionMode(9)"},
		{DropUplinkFull.String(), "uplink-full"},
		{DropReason(99).String(), "DropReason(99)"},
		{fmt.Sprint(eventCrashNotice), "crash"},
		{FaultKinds(0).String(), "none"},
		{AllFaultKinds.String(), "crash,partition,link-cut,clog,loss,duplication,reorder"},
		{FaultKind(99).String(), "FaultKind(99)"},
		{FaultAction(99).String(), "FaultAction(99)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
