package sim_test

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/sim"
)

// Flags of the simulation tests: -seed replays one seed (the command every
// failure prints), -seeds sets how many seeds a sweep runs (raise it for a
// soak), -simtrace logs every event of a replayed seed.
var (
	seedFlag    sim.SeedFlag
	seedsFlag   = flag.Int("seeds", 200, "number of seeds a simulation sweep runs")
	traceFlag   = flag.Bool("simtrace", false, "log every simulator event of a -seed replay")
	packagePath = "./node/sim"
)

func init() {
	flag.Var(&seedFlag, "seed", "run only this simulation seed (replay)")
}

func seeds() []uint64 { return seedFlag.Seeds(*seedsFlag) }

func replaying() bool {
	_, set := seedFlag.Value()
	return set
}

// testLogWriter sends a trace to the test log.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// The toy protocol: flooding with anti-entropy. Every node originates a new
// value now and then until the faults are over; it persists what it learns
// before it forwards it, floods new values to everyone, and every
// anti-entropy period broadcasts all it knows, so that after the network
// heals everyone learns everything. Values are uint32s, id<<16 | counter.

const (
	timerOriginate   = 1
	timerAntiEntropy = 2
	valueCost        = 20 * time.Microsecond // virtual CPU per value handled
)

// floodDisk is what a node persisted; it survives crashes.
type floodDisk struct {
	known     []uint32 // in learning order
	originate uint32   // next counter of this node's own values
}

// observer is the test's omniscient view, where invariants are checked.
type observer struct {
	originated map[uint32]bool
	learned    []map[uint32]int // per node: value -> times learned
	violations []string
}

func (o *observer) violate(format string, args ...any) {
	if len(o.violations) < 10 {
		o.violations = append(o.violations, fmt.Sprintf(format, args...))
	}
}

type floodNode struct {
	w    *sim.World
	id   sim.NodeID
	obs  *observer
	disk *floodDisk
	// forgetful nodes do not persist: the bug the invariants must catch.
	forgetful      bool
	originateUntil time.Duration

	known map[uint32]bool // volatile, rebuilt from disk on restart
	up    bool
}

func (n *floodNode) OnStart(now time.Duration) { n.boot(now) }

func (n *floodNode) OnRestart(now time.Duration) { n.boot(now) }

func (n *floodNode) boot(now time.Duration) {
	n.up = true
	n.known = make(map[uint32]bool, len(n.disk.known))
	for _, v := range n.disk.known {
		n.known[v] = true
	}
	n.w.Charge(n.id, time.Duration(len(n.disk.known))*valueCost) // recovery reads the disk
	n.armOriginate(now)
	n.w.SetTimer(n.id, now+n.antiEntropyPeriod(), timerAntiEntropy)
}

func (n *floodNode) antiEntropyPeriod() time.Duration {
	return 150*time.Millisecond + time.Duration(n.w.Rand(n.id).Int64N(int64(100*time.Millisecond)))
}

func (n *floodNode) armOriginate(now time.Duration) {
	next := now + 200*time.Millisecond + time.Duration(n.w.Rand(n.id).Int64N(int64(600*time.Millisecond)))
	if next < n.originateUntil {
		n.w.SetTimer(n.id, next, timerOriginate)
	}
}

func (n *floodNode) OnCrash(time.Duration) {
	n.up = false
	n.known = nil
	if n.forgetful {
		*n.disk = floodDisk{}
	}
}

func (n *floodNode) OnTimer(now time.Duration, id uint64) {
	if !n.up {
		n.obs.violate("node %d: timer %d fired while crashed", n.id, id)
		return
	}
	switch id {
	case timerOriginate:
		v := uint32(n.id)<<16 | n.disk.originate
		n.disk.originate++
		n.obs.originated[v] = true
		n.learn(v)
		n.w.Broadcast(n.id, encodeValues([]uint32{v}))
		n.armOriginate(now)
	case timerAntiEntropy:
		if len(n.disk.known) > 0 {
			n.w.Broadcast(n.id, encodeValues(n.disk.known))
		}
		n.w.SetTimer(n.id, now+n.antiEntropyPeriod(), timerAntiEntropy)
	default:
		n.obs.violate("node %d: unknown timer %d", n.id, id)
	}
}

func (n *floodNode) OnMessage(now time.Duration, from sim.NodeID, payload []byte) {
	if !n.up {
		n.obs.violate("node %d: message while crashed", n.id)
		return
	}
	values, err := decodeValues(payload)
	if err != nil {
		n.obs.violate("node %d: from %d: %v", n.id, from, err)
		return
	}
	n.w.Charge(n.id, time.Duration(len(values))*valueCost)
	var fresh []uint32
	for _, v := range values {
		if !n.known[v] {
			n.learn(v)
			fresh = append(fresh, v)
		}
	}
	if len(fresh) > 0 { // persisted by learn, then forwarded
		n.w.Broadcast(n.id, encodeValues(fresh))
	}
}

// learn persists v, then records it.
func (n *floodNode) learn(v uint32) {
	if !n.obs.originated[v] {
		n.obs.violate("node %d learned %#x, which nobody originated", n.id, v)
	}
	n.disk.known = append(n.disk.known, v)
	n.known[v] = true
	learned := n.obs.learned[n.id]
	learned[v]++
	if learned[v] > 1 {
		n.obs.violate("node %d learned %#x %d times (lost persisted state)", n.id, v, learned[v])
	}
}

func encodeValues(vs []uint32) []byte {
	out := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		out = binary.BigEndian.AppendUint32(out, v)
	}
	return out
}

var errBadPayload = errors.New("payload is not a whole number of values")

func decodeValues(b []byte) ([]uint32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("decode %d bytes: %w", len(b), errBadPayload)
	}
	out := make([]uint32, 0, len(b)/4)
	for i := 0; i < len(b); i += 4 {
		out = append(out, binary.BigEndian.Uint32(b[i:]))
	}
	return out, nil
}

// floodRun is the outcome of one seed.
type floodRun struct {
	trace   string
	events  uint64
	metrics sim.Metrics
	plan    sim.FaultPlan
	end     time.Duration
}

const (
	floodNodes  = 7
	floodHealBy = 3 * time.Second
	// floodLiveness is how long after HealBy every node must have learned
	// every value: a few anti-entropy periods, with room for the slowest
	// exponential delays.
	floodLiveness = 5 * time.Second
)

// runFlood runs the toy protocol on one seed: a safety phase with the seed's
// faults until HealBy, then a liveness phase on the healed network. It
// returns an error describing the first broken invariant.
func runFlood(t *testing.T, seed uint64, forgetful bool) (floodRun, error) {
	cfg := sim.WorldConfig{Seed: seed, Network: sim.DefaultNetworkConfig(), MaxEvents: 5_000_000}
	if seed%2 == 1 { // half the seeds get a long-tailed network
		cfg.Network.JitterDistribution = sim.JitterExponential
		cfg.Network.Jitter = 15 * time.Millisecond
		cfg.Network.JitterMax = 500 * time.Millisecond
	}
	if *traceFlag && replaying() {
		cfg.Trace = testLogWriter{t}
	}
	w, err := sim.NewWorld(cfg)
	if err != nil {
		return floodRun{}, err
	}
	obs := &observer{originated: map[uint32]bool{}}
	nodes := make([]*floodNode, floodNodes)
	for i := range nodes {
		obs.learned = append(obs.learned, map[uint32]int{})
		nodes[i] = &floodNode{w: w, id: sim.NodeID(i), obs: obs, disk: &floodDisk{},
			forgetful: forgetful, originateUntil: floodHealBy}
		w.AddNode(nodes[i])
	}
	plan, err := sim.GenerateFaultPlan(seed, sim.DefaultFaultBudget(floodNodes, floodHealBy))
	if err != nil {
		return floodRun{}, err
	}
	if err := plan.Apply(w); err != nil {
		return floodRun{}, err
	}
	run := floodRun{plan: plan}
	finish := func() {
		run.trace, run.events, run.metrics, run.end = w.TraceHash().String(), w.Events(), w.Metrics(), w.Now()
	}

	// Safety phase.
	if err := w.Run(floodHealBy); err != nil {
		return run, fmt.Errorf("safety phase: %w", err)
	}
	if len(obs.violations) > 0 {
		finish()
		return run, fmt.Errorf("safety phase: %s", strings.Join(obs.violations, "; "))
	}
	// Liveness phase: the plan healed everything by HealBy.
	for _, n := range nodes {
		if !w.IsUp(n.id) {
			return run, fmt.Errorf("node %d still down at heal-by", n.id)
		}
	}
	everyoneKnowsAll := func() bool {
		for _, n := range nodes {
			if len(n.disk.known) != len(obs.originated) {
				return false
			}
		}
		return true
	}
	err = w.RunUntil(everyoneKnowsAll, floodHealBy+floodLiveness)
	finish()
	if len(obs.violations) > 0 {
		return run, fmt.Errorf("liveness phase: %s", strings.Join(obs.violations, "; "))
	}
	if err != nil {
		var behind []string
		for _, n := range nodes {
			behind = append(behind, fmt.Sprintf("%d:%d/%d", n.id, len(n.disk.known), len(obs.originated)))
		}
		return run, fmt.Errorf("liveness phase: not everyone learned everything (%s): %w", strings.Join(behind, " "), err)
	}
	if len(obs.originated) == 0 {
		return run, errors.New("no value was originated: the run tested nothing")
	}
	return run, nil
}

// TestFloodSwarm runs the toy protocol over many seeds, each with its own
// swarm of faults, checking safety (no fabricated value, nothing learned
// twice, no event for a crashed node) during the faults and liveness after.
func TestFloodSwarm(t *testing.T) {
	var kindsSeen sim.FaultKinds
	var crashes, received, dropped uint64
	for _, seed := range seeds() {
		run, err := runFlood(t, seed, false)
		if err != nil {
			t.Errorf("%s\n%v", sim.FailureReport(packagePath, t.Name(), seed, err), run.plan)
			continue
		}
		kindsSeen |= run.plan.Kinds
		crashes += run.metrics.Total.Crashes
		received += run.metrics.Total.Received.Messages
		dropped += run.metrics.Total.Dropped.Messages
	}
	if !replaying() {
		// The sweep really exercised the faults.
		if kindsSeen != sim.AllFaultKinds || crashes == 0 || dropped == 0 {
			t.Errorf("the sweep enabled kinds %v, crashed %d times and dropped %d copies", kindsSeen, crashes, dropped)
		}
	}
	t.Logf("%d seeds: %d deliveries, %d drops, %d crashes", len(seeds()), received, dropped, crashes)
}

// A node that forgets its persisted state on a crash relearns values: the
// checker must catch it on some seed with crashes, and its report must
// carry the replay command.
func TestFloodSwarmCatchesLostPersistence(t *testing.T) {
	for seed := uint64(1); seed <= 100; seed++ {
		_, err := runFlood(t, seed, true)
		if err == nil {
			continue
		}
		if !strings.Contains(err.Error(), "learned") {
			t.Fatalf("seed %d failed for another reason: %v", seed, err)
		}
		report := sim.FailureReport(packagePath, "TestFloodSwarm", seed, err)
		want := fmt.Sprintf("replay: go test ./node/sim -run '^TestFloodSwarm$' -seed %d", seed)
		if !strings.Contains(report, want) || !strings.HasPrefix(report, fmt.Sprintf("seed %d failed: ", seed)) {
			t.Fatalf("report lacks the replay command %q:\n%s", want, report)
		}
		return
	}
	t.Fatal("100 seeds of a node that forgets its disk passed the checker")
}

// One seed run twice gives the same trace hash, event count and metrics;
// different seeds give different traces.
func TestFloodDeterminism(t *testing.T) {
	traces := map[string]uint64{}
	for seed := uint64(1); seed <= 8; seed++ {
		first, err1 := runFlood(t, seed, false)
		second, err2 := runFlood(t, seed, false)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s", sim.FailureReport(packagePath, "TestFloodSwarm", seed, errors.Join(err1, err2)))
		}
		if first.trace != second.trace || first.events != second.events || first.end != second.end {
			t.Fatalf("%s", sim.FailureReport(packagePath, t.Name(), seed,
				fmt.Errorf("not reproducible: trace %s/%d events at %v, then %s/%d at %v",
					first.trace, first.events, first.end, second.trace, second.events, second.end)))
		}
		if !reflect.DeepEqual(first.metrics, second.metrics) {
			t.Fatalf("seed %d: metrics differ between two runs", seed)
		}
		if other, dup := traces[first.trace]; dup {
			t.Fatalf("seeds %d and %d have the same trace %s", other, seed, first.trace)
		}
		traces[first.trace] = seed
	}
}

func TestReplayCommand(t *testing.T) {
	tests := []struct {
		pkg, test string
		seed      uint64
		want      string
	}{
		{"./node/sim", "TestFloodSwarm", 42, "go test ./node/sim -run '^TestFloodSwarm$' -seed 42"},
		{"./node/consensus", "TestSafety", 0, "go test ./node/consensus -run '^TestSafety$' -seed 0"},
		{"./x", "Test'q", 18446744073709551615, `go test ./x -run '^Test'\''q$' -seed 18446744073709551615`},
	}
	for _, tc := range tests {
		if got := sim.ReplayCommand(tc.pkg, tc.test, tc.seed); got != tc.want {
			t.Errorf("ReplayCommand(%q, %q, %d) = %q, want %q", tc.pkg, tc.test, tc.seed, got, tc.want)
		}
	}
	report := sim.FailureReport("./node/sim", "TestFloodSwarm", 7, errors.New("two decisions at height 3"))
	lines := strings.Split(report, "\n")
	if !slices.Equal(lines, []string{
		"seed 7 failed: two decisions at height 3",
		"replay: go test ./node/sim -run '^TestFloodSwarm$' -seed 7",
	}) {
		t.Fatalf("report:\n%s", report)
	}
}

func TestSeedFlag(t *testing.T) {
	var s sim.SeedFlag
	if _, set := s.Value(); set || s.String() != "" {
		t.Fatal("unset seed flag is not empty")
	}
	if got := s.Seeds(3); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("unset flag sweeps %v, want 1..3", got)
	}
	if err := s.Set("0"); err != nil {
		t.Fatal(err)
	}
	if v, set := s.Value(); !set || v != 0 || s.String() != "0" {
		t.Fatalf("seed 0: value %d set %v", v, set)
	}
	if got := s.Seeds(200); !slices.Equal(got, []uint64{0}) {
		t.Fatalf("set flag runs %v, want only seed 0", got)
	}
	for _, bad := range []string{"-1", "x", "18446744073709551616"} {
		if err := s.Set(bad); err == nil {
			t.Errorf("seed %q accepted", bad)
		}
	}
}
