package sim

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// FaultKind is one family of faults of the atlas (see the package
// documentation).
type FaultKind uint8

const (
	// FaultCrash crashes nodes and restarts them later.
	FaultCrash FaultKind = iota
	// FaultPartition splits the nodes into groups for a while.
	FaultPartition
	// FaultLinkCut cuts single directions of links for a while.
	FaultLinkCut
	// FaultClog multiplies a link's delay for a while.
	FaultClog
	// FaultLoss turns on random message loss for the whole run.
	FaultLoss
	// FaultDuplication turns on random duplication for the whole run.
	FaultDuplication
	// FaultReorder turns on extra random delays for the whole run.
	FaultReorder

	faultKindCount
)

var faultKindNames = [faultKindCount]string{"crash", "partition", "link-cut", "clog", "loss", "duplication", "reorder"}

func (k FaultKind) String() string {
	if k < faultKindCount {
		return faultKindNames[k]
	}
	return fmt.Sprintf("FaultKind(%d)", uint8(k))
}

// FaultKinds is a set of fault kinds.
type FaultKinds uint16

// AllFaultKinds holds every kind of the atlas.
const AllFaultKinds FaultKinds = 1<<faultKindCount - 1

// Has reports whether the set holds kind.
func (s FaultKinds) Has(kind FaultKind) bool { return kind < faultKindCount && s&(1<<kind) != 0 }

// With returns the set plus kind.
func (s FaultKinds) With(kind FaultKind) FaultKinds {
	if kind >= faultKindCount {
		return s
	}
	return s | 1<<kind
}

func (s FaultKinds) String() string {
	var names []string
	for k := FaultKind(0); k < faultKindCount; k++ {
		if s.Has(k) {
			names = append(names, k.String())
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// FaultAction is one scheduled step of a fault plan.
type FaultAction uint8

const (
	ActionCrash       FaultAction = iota + 1 // crash Node
	ActionRestart                            // restart Node
	ActionPartition                          // partition into Groups with Mode
	ActionHeal                               // heal the partition
	ActionCutLink                            // cut From -> To
	ActionRestoreLink                        // restore From -> To
	ActionClog                               // clog From -> To by Factor until Until
)

func (a FaultAction) String() string {
	switch a {
	case ActionCrash:
		return "crash"
	case ActionRestart:
		return "restart"
	case ActionPartition:
		return "partition"
	case ActionHeal:
		return "heal"
	case ActionCutLink:
		return "cut"
	case ActionRestoreLink:
		return "restore"
	case ActionClog:
		return "clog"
	default:
		return fmt.Sprintf("FaultAction(%d)", uint8(a))
	}
}

// repairs reports whether the action ends a fault; at equal times repairs go
// first, so a plan never has more faults active at once than its budget.
func (a FaultAction) repairs() bool {
	return a == ActionRestart || a == ActionHeal || a == ActionRestoreLink
}

// Fault is one scheduled action. Fields an action does not use are zero.
type Fault struct {
	At       time.Duration
	Action   FaultAction
	Node     NodeID        // crash, restart
	From, To NodeID        // cut, restore, clog
	Groups   [][]NodeID    // partition
	Mode     PartitionMode // partition
	Factor   float64       // clog
	Until    time.Duration // clog
}

func (f Fault) String() string {
	switch f.Action {
	case ActionCrash, ActionRestart:
		return fmt.Sprintf("%v %v node=%d", f.At, f.Action, f.Node)
	case ActionPartition:
		return fmt.Sprintf("%v partition %v groups=%v", f.At, f.Mode, f.Groups)
	case ActionHeal:
		return fmt.Sprintf("%v heal", f.At)
	case ActionCutLink, ActionRestoreLink:
		return fmt.Sprintf("%v %v %d->%d", f.At, f.Action, f.From, f.To)
	case ActionClog:
		return fmt.Sprintf("%v clog %d->%d x%.2f until %v", f.At, f.From, f.To, f.Factor, f.Until)
	default:
		return fmt.Sprintf("%v %v", f.At, f.Action)
	}
}

// FaultBudget bounds what GenerateFaultPlan may do.
type FaultBudget struct {
	// Nodes is the number of nodes, IDs 0..Nodes-1.
	Nodes int
	// Kinds are the kinds that may be enabled. With Swarm, each seed
	// enables a random subset of them (swarm testing: a run with fewer
	// kinds explores each one more deeply); without, all of them.
	Kinds FaultKinds
	Swarm bool
	// MaxCrashed bounds how many nodes are down at any instant (the
	// protocol's f in a safety run).
	MaxCrashed int
	// Start and HealBy bound every episode: no fault begins before Start,
	// and by HealBy every crashed node was restarted, every partition
	// healed, every cut link restored and every clog over. Loss,
	// duplication and reordering last the whole run.
	Start, HealBy time.Duration
	// MaxEpisodes bounds the episodes of each episodic kind (crash,
	// partition, link cut, clog); each seed picks 1..MaxEpisodes.
	MaxEpisodes int
	// MinEpisode and MaxEpisode bound an episode's duration.
	MinEpisode, MaxEpisode time.Duration
	// Upper bounds of the run-long probabilities; each seed draws a value
	// in [0, max).
	MaxLossProbability, MaxDuplicateProbability, MaxReorderProbability float64
	// ReorderDelay is the extra delay of a reordered copy (see
	// NetworkConfig.ReorderDelay).
	ReorderDelay time.Duration
	// MaxClogFactor bounds a clog's delay multiplier (at least 1).
	MaxClogFactor float64
}

// DefaultFaultBudget is a swarm of every kind for a committee of nodes that
// tolerates f = (nodes-1)/3 crashes, with all faults in [healBy/10, healBy].
func DefaultFaultBudget(nodes int, healBy time.Duration) FaultBudget {
	return FaultBudget{
		Nodes:                   nodes,
		Kinds:                   AllFaultKinds,
		Swarm:                   true,
		MaxCrashed:              max(nodes-1, 0) / 3,
		Start:                   healBy / 10,
		HealBy:                  healBy,
		MaxEpisodes:             4,
		MinEpisode:              healBy / 50,
		MaxEpisode:              healBy / 4,
		MaxLossProbability:      0.1,
		MaxDuplicateProbability: 0.1,
		MaxReorderProbability:   0.2,
		ReorderDelay:            100 * time.Millisecond,
		MaxClogFactor:           20,
	}
}

// Validate reports every problem of the budget at once; each wraps
// ErrInvalidConfig.
func (b FaultBudget) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: fault budget: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if b.Nodes < 1 {
		bad("nodes %d is below 1", b.Nodes)
	}
	if b.Kinds&^AllFaultKinds != 0 {
		bad("unknown fault kinds %#x", uint16(b.Kinds&^AllFaultKinds))
	}
	if b.MaxCrashed < 0 || b.MaxCrashed > b.Nodes {
		bad("max crashed %d is not in [0, %d]", b.MaxCrashed, b.Nodes)
	}
	if b.Start < 0 {
		bad("start %v is negative", b.Start)
	}
	if b.HealBy <= b.Start {
		bad("heal-by %v is not after start %v", b.HealBy, b.Start)
	}
	if b.MaxEpisodes < 0 {
		bad("max episodes %d is negative", b.MaxEpisodes)
	}
	if b.MinEpisode <= 0 {
		bad("min episode %v is not positive", b.MinEpisode)
	}
	if b.MaxEpisode < b.MinEpisode {
		bad("max episode %v is below min episode %v", b.MaxEpisode, b.MinEpisode)
	}
	if b.HealBy-b.Start < b.MaxEpisode {
		bad("max episode %v does not fit between start %v and heal-by %v", b.MaxEpisode, b.Start, b.HealBy)
	}
	for _, p := range []struct {
		name  string
		value float64
	}{
		{"max loss probability", b.MaxLossProbability},
		{"max duplicate probability", b.MaxDuplicateProbability},
		{"max reorder probability", b.MaxReorderProbability},
	} {
		if !(p.value >= 0 && p.value <= 1) {
			bad("%s %v is not in [0, 1]", p.name, p.value)
		}
	}
	if b.ReorderDelay < 0 {
		bad("reorder delay %v is negative", b.ReorderDelay)
	}
	if b.Kinds.Has(FaultReorder) && b.MaxReorderProbability > 0 && b.ReorderDelay == 0 {
		bad("reordering needs a positive reorder delay")
	}
	if !(b.MaxClogFactor >= 1 && b.MaxClogFactor <= 1e6) {
		bad("max clog factor %v is not in [1, 1e6]", b.MaxClogFactor)
	}
	return errors.Join(errs...)
}

// FaultPlan is a seed's faults: the kinds it enabled, the run-long network
// probabilities, and the scheduled actions sorted by time (repairs first at
// equal times). It is plain data: print it, edit it, or build one by hand.
type FaultPlan struct {
	Seed   uint64
	Kinds  FaultKinds
	HealBy time.Duration

	// Run-long settings, applied when their kind is enabled.
	LossProbability      float64
	DuplicateProbability float64
	ReorderProbability   float64
	ReorderDelay         time.Duration

	Faults []Fault
}

// GenerateFaultPlan draws a plan within budget from seed. Each kind draws
// from its own stream of the seed, so enabling or disabling one kind leaves
// the others' schedules unchanged.
func GenerateFaultPlan(seed uint64, budget FaultBudget) (FaultPlan, error) {
	if err := budget.Validate(); err != nil {
		return FaultPlan{}, fmt.Errorf("generate fault plan: %w", err)
	}
	plan := FaultPlan{Seed: seed, HealBy: budget.HealBy, Kinds: budget.Kinds}
	if budget.Swarm {
		swarm := newStream(seed, streamFaults, uint64(faultKindCount))
		plan.Kinds = 0
		for k := FaultKind(0); k < faultKindCount; k++ {
			if swarm.IntN(2) == 1 && budget.Kinds.Has(k) {
				plan.Kinds = plan.Kinds.With(k)
			}
		}
	}
	stream := func(k FaultKind) *rand.Rand { return newStream(seed, streamFaults, uint64(k)) }
	g := planGenerator{budget: budget}
	if plan.Kinds.Has(FaultCrash) {
		plan.Faults = append(plan.Faults, g.crashes(stream(FaultCrash))...)
	}
	if plan.Kinds.Has(FaultPartition) {
		plan.Faults = append(plan.Faults, g.partitions(stream(FaultPartition))...)
	}
	if plan.Kinds.Has(FaultLinkCut) {
		plan.Faults = append(plan.Faults, g.linkCuts(stream(FaultLinkCut))...)
	}
	if plan.Kinds.Has(FaultClog) {
		plan.Faults = append(plan.Faults, g.clogs(stream(FaultClog))...)
	}
	if plan.Kinds.Has(FaultLoss) {
		plan.LossProbability = stream(FaultLoss).Float64() * budget.MaxLossProbability
	}
	if plan.Kinds.Has(FaultDuplication) {
		plan.DuplicateProbability = stream(FaultDuplication).Float64() * budget.MaxDuplicateProbability
	}
	if plan.Kinds.Has(FaultReorder) && budget.ReorderDelay > 0 {
		plan.ReorderProbability = stream(FaultReorder).Float64() * budget.MaxReorderProbability
		plan.ReorderDelay = budget.ReorderDelay
	}
	slices.SortStableFunc(plan.Faults, func(a, b Fault) int {
		if a.At != b.At {
			if a.At < b.At {
				return -1
			}
			return 1
		}
		switch ra, rb := a.Action.repairs(), b.Action.repairs(); {
		case ra && !rb:
			return -1
		case rb && !ra:
			return 1
		}
		return 0
	})
	return plan, nil
}

// interval is one episode, [start, end) in virtual time.
type interval struct {
	start, end time.Duration
	key        int // what it applies to (a node, a link); -1 for global
}

func (a interval) overlaps(b interval) bool { return a.start < b.end && b.start < a.end }

// planGenerator draws episodes within a budget.
type planGenerator struct {
	budget FaultBudget
}

// episode draws a duration and a start so that it ends by HealBy.
func (g planGenerator) episode(rng *rand.Rand) (start, end time.Duration) {
	b := g.budget
	dur := b.MinEpisode + time.Duration(rng.Int64N(int64(b.MaxEpisode-b.MinEpisode)+1))
	start = b.Start + time.Duration(rng.Int64N(int64(b.HealBy-b.Start-dur)+1))
	return start, start + dur
}

func (g planGenerator) count(rng *rand.Rand) int {
	if g.budget.MaxEpisodes == 0 {
		return 0
	}
	return 1 + rng.IntN(g.budget.MaxEpisodes)
}

// maxConcurrent is the largest number of episodes of list active at one
// instant inside cand, counting cand.
func maxConcurrent(list []interval, cand interval) int {
	best := 0
	points := []time.Duration{cand.start}
	for _, iv := range list {
		if iv.start > cand.start && iv.start < cand.end {
			points = append(points, iv.start)
		}
	}
	for _, p := range points {
		n := 1
		for _, iv := range list {
			if iv.start <= p && p < iv.end {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func (g planGenerator) crashes(rng *rand.Rand) []Fault {
	if g.budget.MaxCrashed == 0 {
		return nil
	}
	var accepted []interval
	var out []Fault
	for range g.count(rng) {
		node := rng.IntN(g.budget.Nodes)
		start, end := g.episode(rng)
		cand := interval{start, end, node}
		if conflicts(accepted, cand) || maxConcurrent(accepted, cand) > g.budget.MaxCrashed {
			continue
		}
		accepted = append(accepted, cand)
		out = append(out,
			Fault{At: start, Action: ActionCrash, Node: NodeID(node)},
			Fault{At: end, Action: ActionRestart, Node: NodeID(node)})
	}
	return out
}

// conflicts reports whether cand overlaps an accepted episode of the same
// key (one node cannot crash twice at once; one link cannot be cut twice).
func conflicts(accepted []interval, cand interval) bool {
	for _, iv := range accepted {
		if iv.key == cand.key && iv.overlaps(cand) {
			return true
		}
	}
	return false
}

func (g planGenerator) partitions(rng *rand.Rand) []Fault {
	n := g.budget.Nodes
	if n < 2 {
		return nil
	}
	var accepted []interval
	var out []Fault
	for range g.count(rng) {
		start, end := g.episode(rng)
		groups := partitionGroups(rng, n)
		mode := PartitionMode(rng.IntN(2))
		cand := interval{start, end, -1}
		if conflicts(accepted, cand) { // one partition at a time
			continue
		}
		accepted = append(accepted, cand)
		out = append(out,
			Fault{At: start, Action: ActionPartition, Groups: groups, Mode: mode},
			Fault{At: end, Action: ActionHeal})
	}
	return out
}

// partitionGroups draws a split of n >= 2 nodes, after TigerBeetle's packet
// simulator: isolate one node, cut in two at a random size, or (n >= 3)
// three groups. Every node is named; groups are sorted.
func partitionGroups(rng *rand.Rand, n int) [][]NodeID {
	perm := rng.Perm(n)
	var cuts []int
	switch shape := rng.IntN(3); {
	case shape == 0:
		cuts = []int{1}
	case shape == 1 || n < 3:
		cuts = []int{1 + rng.IntN(n-1)}
	default:
		a := 1 + rng.IntN(n-2)
		b := a + 1 + rng.IntN(n-a-1)
		cuts = []int{a, b}
	}
	var groups [][]NodeID
	prev := 0
	for _, c := range append(cuts, n) {
		group := make([]NodeID, 0, c-prev)
		for _, i := range perm[prev:c] {
			group = append(group, NodeID(i))
		}
		slices.Sort(group)
		groups = append(groups, group)
		prev = c
	}
	return groups
}

// randomLink draws a link between two distinct nodes (n >= 2).
func randomLink(rng *rand.Rand, n int) (from, to NodeID, key int) {
	f := rng.IntN(n)
	t := rng.IntN(n - 1)
	if t >= f {
		t++
	}
	return NodeID(f), NodeID(t), f*n + t
}

func (g planGenerator) linkCuts(rng *rand.Rand) []Fault {
	n := g.budget.Nodes
	if n < 2 {
		return nil
	}
	var accepted []interval
	var out []Fault
	for range g.count(rng) {
		from, to, key := randomLink(rng, n)
		both := rng.IntN(2) == 1
		start, end := g.episode(rng)
		cand := interval{start, end, key}
		reverse := interval{start, end, int(to)*n + int(from)}
		if conflicts(accepted, cand) || (both && conflicts(accepted, reverse)) {
			continue
		}
		accepted = append(accepted, cand)
		out = append(out,
			Fault{At: start, Action: ActionCutLink, From: from, To: to},
			Fault{At: end, Action: ActionRestoreLink, From: from, To: to})
		if both {
			accepted = append(accepted, reverse)
			out = append(out,
				Fault{At: start, Action: ActionCutLink, From: to, To: from},
				Fault{At: end, Action: ActionRestoreLink, From: to, To: from})
		}
	}
	return out
}

func (g planGenerator) clogs(rng *rand.Rand) []Fault {
	n := g.budget.Nodes
	if n < 2 {
		return nil
	}
	var accepted []interval
	var out []Fault
	for range g.count(rng) {
		from, to, key := randomLink(rng, n)
		factor := 1 + float64(rng.Float64()*(g.budget.MaxClogFactor-1)) // rounded: no fused multiply-add
		start, end := g.episode(rng)
		cand := interval{start, end, key}
		if conflicts(accepted, cand) {
			continue
		}
		accepted = append(accepted, cand)
		out = append(out, Fault{At: start, Action: ActionClog, From: from, To: to, Factor: factor, Until: end})
	}
	return out
}

// Apply schedules the plan on w (whose nodes it names must exist) and sets
// the run-long probabilities of the enabled kinds on its network. Call it
// before running.
func (p FaultPlan) Apply(w *World) error {
	for i, f := range p.Faults {
		if err := f.check(w); err != nil {
			return fmt.Errorf("apply fault plan: fault %d (%v): %w", i, f, err)
		}
	}
	cfg := w.Network()
	if p.Kinds.Has(FaultLoss) {
		cfg.LossProbability = p.LossProbability
	}
	if p.Kinds.Has(FaultDuplication) {
		cfg.DuplicateProbability = p.DuplicateProbability
	}
	if p.Kinds.Has(FaultReorder) && p.ReorderDelay > 0 {
		cfg.ReorderProbability = p.ReorderProbability
		cfg.ReorderDelay = p.ReorderDelay
	}
	if err := w.SetNetwork(cfg); err != nil {
		return fmt.Errorf("apply fault plan: %w", err)
	}
	for _, f := range p.Faults {
		w.Schedule(f.At, func() { f.run(w) })
	}
	return nil
}

// check validates a fault against the world before anything is scheduled,
// so that applying a plan is all or nothing.
func (f Fault) check(w *World) error {
	switch f.Action {
	case ActionCrash, ActionRestart:
		if !w.known(f.Node) {
			return fmt.Errorf("%w: %d", ErrUnknownNode, f.Node)
		}
	case ActionPartition:
		seen := make(map[NodeID]bool)
		for _, g := range f.Groups {
			for _, id := range g {
				if !w.known(id) {
					return fmt.Errorf("%w: %d", ErrUnknownNode, id)
				}
				if seen[id] {
					return fmt.Errorf("%w: node %d in two groups", ErrInvalidConfig, id)
				}
				seen[id] = true
			}
		}
		if f.Mode != PartitionDrop && f.Mode != PartitionHold {
			return fmt.Errorf("%w: partition mode %v", ErrInvalidConfig, f.Mode)
		}
	case ActionHeal:
	case ActionCutLink, ActionRestoreLink:
		if !w.known(f.From) || !w.known(f.To) {
			return fmt.Errorf("%w: link %d->%d", ErrUnknownNode, f.From, f.To)
		}
	case ActionClog:
		if !w.known(f.From) || !w.known(f.To) {
			return fmt.Errorf("%w: link %d->%d", ErrUnknownNode, f.From, f.To)
		}
		if !(f.Factor >= 1 && f.Factor <= 1e6) {
			return fmt.Errorf("%w: clog factor %v", ErrInvalidConfig, f.Factor)
		}
	default:
		return fmt.Errorf("%w: unknown fault action %v", ErrInvalidConfig, f.Action)
	}
	return nil
}

// run carries out a checked fault; an error here is a bug and stops the run.
func (f Fault) run(w *World) {
	var err error
	switch f.Action {
	case ActionCrash:
		err = w.Crash(f.Node)
	case ActionRestart:
		err = w.Restart(f.Node)
	case ActionPartition:
		err = w.Partition(f.Mode, f.Groups...)
	case ActionHeal:
		w.Heal()
	case ActionCutLink:
		err = w.CutLink(f.From, f.To)
	case ActionRestoreLink:
		err = w.RestoreLink(f.From, f.To)
	case ActionClog:
		err = w.Clog(f.From, f.To, f.Factor, f.Until)
	default:
		err = fmt.Errorf("%w: unknown fault action %v", ErrInvalidConfig, f.Action)
	}
	if err != nil {
		w.fail(fmt.Errorf("fault %v: %w", f, err))
	}
}

// WriteTo writes the plan, one line per fault, for a failure report.
func (p FaultPlan) WriteTo(out io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "fault plan seed=%d kinds=%v heal-by=%v loss=%.4f dup=%.4f reorder=%.4f/%v\n",
		p.Seed, p.Kinds, p.HealBy, p.LossProbability, p.DuplicateProbability, p.ReorderProbability, p.ReorderDelay)
	for _, f := range p.Faults {
		fmt.Fprintf(&b, "  %v\n", f)
	}
	n, err := io.WriteString(out, b.String())
	return int64(n), err
}

// String renders the plan as WriteTo does.
func (p FaultPlan) String() string {
	var b strings.Builder
	p.WriteTo(&b)
	return b.String()
}
