package sim

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// checkPlanWithinBudget replays a plan's actions in order and checks every
// bound of the budget.
func checkPlanWithinBudget(t interface{ Fatalf(string, ...any) }, plan FaultPlan, b FaultBudget) {
	down := map[NodeID]bool{}
	cut := map[link]bool{}
	partitioned := false
	var last time.Duration
	for i, f := range plan.Faults {
		if f.At < last {
			t.Fatalf("fault %d (%v) is out of order", i, f)
		}
		last = f.At
		if f.At < b.Start || f.At > b.HealBy {
			t.Fatalf("fault %v outside [%v, %v]", f, b.Start, b.HealBy)
		}
		switch f.Action {
		case ActionCrash:
			if down[f.Node] {
				t.Fatalf("fault %v crashes a crashed node", f)
			}
			down[f.Node] = true
			if len(down) > b.MaxCrashed {
				t.Fatalf("fault %v: %d nodes down, budget %d", f, len(down), b.MaxCrashed)
			}
		case ActionRestart:
			if !down[f.Node] {
				t.Fatalf("fault %v restarts a running node", f)
			}
			delete(down, f.Node)
		case ActionPartition:
			if partitioned {
				t.Fatalf("fault %v: two partitions at once", f)
			}
			partitioned = true
			seen := 0
			for _, g := range f.Groups {
				if len(g) == 0 {
					t.Fatalf("fault %v has an empty group", f)
				}
				seen += len(g)
			}
			if seen != b.Nodes || len(f.Groups) < 2 {
				t.Fatalf("fault %v does not split %d nodes", f, b.Nodes)
			}
		case ActionHeal:
			if !partitioned {
				t.Fatalf("fault %v heals nothing", f)
			}
			partitioned = false
		case ActionCutLink:
			if f.From == f.To || cut[link{f.From, f.To}] {
				t.Fatalf("fault %v: bad or doubled cut", f)
			}
			cut[link{f.From, f.To}] = true
		case ActionRestoreLink:
			if !cut[link{f.From, f.To}] {
				t.Fatalf("fault %v restores a link that is not cut", f)
			}
			delete(cut, link{f.From, f.To})
		case ActionClog:
			if f.Factor < 1 || f.Factor > b.MaxClogFactor || f.Until > b.HealBy || f.Until <= f.At || f.From == f.To {
				t.Fatalf("fault %v outside the clog budget", f)
			}
		default:
			t.Fatalf("unknown action in %v", f)
		}
		kind := map[FaultAction]FaultKind{ActionCrash: FaultCrash, ActionRestart: FaultCrash,
			ActionPartition: FaultPartition, ActionHeal: FaultPartition, ActionCutLink: FaultLinkCut,
			ActionRestoreLink: FaultLinkCut, ActionClog: FaultClog}[f.Action]
		if !plan.Kinds.Has(kind) {
			t.Fatalf("fault %v of a kind the plan did not enable (%v)", f, plan.Kinds)
		}
	}
	if len(down) != 0 || len(cut) != 0 || partitioned {
		t.Fatalf("faults left active at the end: down %v, cut %v, partitioned %v", down, cut, partitioned)
	}
	for _, pr := range []struct{ got, max float64 }{
		{plan.LossProbability, b.MaxLossProbability},
		{plan.DuplicateProbability, b.MaxDuplicateProbability},
		{plan.ReorderProbability, b.MaxReorderProbability},
	} {
		if pr.got != 0 && pr.got >= pr.max {
			t.Fatalf("probability %v above the budget's %v", pr.got, pr.max)
		}
	}
	if plan.Kinds&^b.Kinds != 0 {
		t.Fatalf("plan enabled %v beyond the budget's %v", plan.Kinds, b.Kinds)
	}
}

func TestGeneratedPlansStayWithinBudget(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nodes := rapid.IntRange(1, 12).Draw(rt, "nodes")
		healBy := time.Duration(rapid.Int64Range(1, 100).Draw(rt, "healBy")) * time.Second
		b := DefaultFaultBudget(nodes, healBy)
		b.MaxCrashed = rapid.IntRange(0, nodes).Draw(rt, "maxCrashed")
		b.MaxEpisodes = rapid.IntRange(0, 10).Draw(rt, "episodes")
		b.Swarm = rapid.Bool().Draw(rt, "swarm")
		b.Kinds = FaultKinds(rapid.Uint16Range(0, uint16(AllFaultKinds)).Draw(rt, "kinds"))
		seed := rapid.Uint64().Draw(rt, "seed")
		plan, err := GenerateFaultPlan(seed, b)
		if err != nil {
			rt.Fatal(err)
		}
		if !b.Swarm && plan.Kinds != b.Kinds {
			rt.Fatalf("without swarm the plan enabled %v, want %v", plan.Kinds, b.Kinds)
		}
		checkPlanWithinBudget(rt, plan, b)
		again, err := GenerateFaultPlan(seed, b)
		if err != nil || !reflect.DeepEqual(plan, again) {
			rt.Fatalf("one seed gave two plans:\n%v\n%v", plan, again)
		}
	})
}

func TestSwarmVariesKindsAcrossSeeds(t *testing.T) {
	b := DefaultFaultBudget(7, 10*time.Second)
	seen := map[FaultKinds]bool{}
	for seed := range uint64(64) {
		plan, err := GenerateFaultPlan(seed, b)
		mustNil(t, err)
		seen[plan.Kinds] = true
	}
	if len(seen) < 20 {
		t.Fatalf("64 seeds enabled only %d distinct kind sets", len(seen))
	}
}

// Each kind draws from its own stream: turning partitions on or off leaves
// the crash schedule as it was.
func TestKindsDrawFromIndependentStreams(t *testing.T) {
	b := DefaultFaultBudget(7, 10*time.Second)
	b.Swarm = false
	crashesOf := func(plan FaultPlan) []Fault {
		var out []Fault
		for _, f := range plan.Faults {
			if f.Action == ActionCrash || f.Action == ActionRestart {
				out = append(out, f)
			}
		}
		return out
	}
	b.Kinds = AllFaultKinds
	all, err := GenerateFaultPlan(5, b)
	mustNil(t, err)
	b.Kinds = FaultKinds(0).With(FaultCrash)
	only, err := GenerateFaultPlan(5, b)
	mustNil(t, err)
	if len(crashesOf(all)) == 0 || !reflect.DeepEqual(crashesOf(all), crashesOf(only)) {
		t.Fatalf("crash schedule changed with other kinds:\n%v\n%v", crashesOf(all), crashesOf(only))
	}
}

func TestFaultBudgetValidate(t *testing.T) {
	if err := DefaultFaultBudget(4, time.Second).Validate(); err != nil {
		t.Fatalf("default budget: %v", err)
	}
	bad := FaultBudget{
		Nodes: 0, Kinds: 1 << 12, MaxCrashed: -1, Start: -1, HealBy: -2, MaxEpisodes: -1,
		MinEpisode: 0, MaxEpisode: -1, MaxLossProbability: 2, MaxDuplicateProbability: -1,
		MaxReorderProbability: 0.5, ReorderDelay: -1, MaxClogFactor: 0.5,
	}
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{"nodes 0", "unknown fault kinds", "max crashed", "start -1ns",
		"heal-by", "max episodes", "min episode", "max episode", "max loss", "max duplicate", "reorder delay", "clog factor"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := GenerateFaultPlan(1, bad); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("GenerateFaultPlan accepted a bad budget: %v", err)
	}
}

func TestApplyRejectsBadPlansWhole(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		want  error
	}{
		{"crash unknown node", Fault{Action: ActionCrash, Node: 9}, ErrUnknownNode},
		{"partition unknown node", Fault{Action: ActionPartition, Groups: [][]NodeID{{0}, {9}}}, ErrUnknownNode},
		{"node in two groups", Fault{Action: ActionPartition, Groups: [][]NodeID{{0}, {0, 1}}}, ErrInvalidConfig},
		{"bad partition mode", Fault{Action: ActionPartition, Mode: 5}, ErrInvalidConfig},
		{"cut unknown link", Fault{Action: ActionCutLink, From: 0, To: 9}, ErrUnknownNode},
		{"clog factor below 1", Fault{Action: ActionClog, From: 0, To: 1, Factor: 0.5}, ErrInvalidConfig},
		{"unknown action", Fault{Action: 99}, ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := newTestWorld(t, 1, NetworkConfig{}, 2)
			plan := FaultPlan{Faults: []Fault{{At: 0, Action: ActionCrash, Node: 0}, tc.fault}}
			if err := plan.Apply(w); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if w.Pending() != 2 { // the two boots only: nothing of the plan was scheduled
				t.Fatalf("%d events queued after a rejected plan", w.Pending())
			}
		})
	}
}

func TestApplyRunsEveryAction(t *testing.T) {
	ms := time.Millisecond
	w, p := newTestWorld(t, 1, NetworkConfig{Latency: ms}, 3)
	plan := FaultPlan{
		Kinds:           FaultKinds(0).With(FaultLoss),
		LossProbability: 0, // enabled at zero: sets the network's loss to zero
		Faults: []Fault{
			{At: 10 * ms, Action: ActionCrash, Node: 2},
			{At: 10 * ms, Action: ActionPartition, Groups: [][]NodeID{{0}, {1, 2}}},
			{At: 10 * ms, Action: ActionCutLink, From: 1, To: 0},
			{At: 10 * ms, Action: ActionClog, From: 0, To: 1, Factor: 4, Until: 100 * ms},
			{At: 20 * ms, Action: ActionHeal},
			{At: 20 * ms, Action: ActionRestoreLink, From: 1, To: 0},
			{At: 30 * ms, Action: ActionRestart, Node: 2},
		},
	}
	mustNil(t, plan.Apply(w))
	var observed []string
	w.Schedule(15*ms, func() {
		observed = append(observed, "15ms")
		if w.IsUp(2) {
			t.Error("node 2 up during its crash")
		}
		if b, _, _ := w.net.blocked(0, 1); !b {
			t.Error("0->1 not partitioned")
		}
		if b, _, r := w.net.blocked(1, 0); !b || r != DropLinkCut {
			t.Error("1->0 not cut")
		}
	})
	w.Schedule(25*ms, func() {
		observed = append(observed, "25ms")
		w.Send(0, 1, []byte("clogged"))
		w.Send(1, 0, []byte("restored"))
	})
	mustRun(t, w, time.Second)
	if len(observed) != 2 || !w.IsUp(2) || len(p[2].restarts) != 1 {
		t.Fatalf("observed %v, node 2 up %v restarts %v", observed, w.IsUp(2), p[2].restarts)
	}
	if len(p[1].messages) != 1 || p[1].messages[0].at != 29*ms {
		t.Fatalf("clogged message: %v, want at 29ms", p[1].messages)
	}
	if len(p[0].messages) != 1 || p[0].messages[0].at != 26*ms {
		t.Fatalf("restored link: %v, want at 26ms", p[0].messages)
	}
	if !strings.Contains(plan.String(), "10ms clog 0->1 x4.00 until 100ms") {
		t.Fatalf("plan rendering:\n%v", plan)
	}
}
