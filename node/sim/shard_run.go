package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/types"
)

// streamShardCrashes: one stream per committee of a sharded network, for
// the crash schedule ShardFaultPlan draws within that committee.
const streamShardCrashes streamKind = 4

// ShardTargets says what a run of RunShard must reach.
type ShardTargets struct {
	// Until is the least virtual time the first phase runs (it runs until
	// the faults heal at least).
	Until time.Duration
	// LivenessHeights is how many heights beyond the highest one each
	// chain had decided when the first phase ended every member of every
	// chain must then commit. With every relay consumed and every client
	// transfer confirmed, that ends the run.
	LivenessHeights int
	// LivenessWindow bounds the virtual time of the liveness phase; zero
	// takes ShardLivenessWindow.
	LivenessWindow time.Duration
	// MeasureFrom starts the throughput window of the report.
	MeasureFrom time.Duration
	// NoDrain ends the run after the first phase (a throughput
	// measurement under load, without the liveness phase).
	NoDrain bool
}

// ShardReport sums up a run of a sharded network.
type ShardReport struct {
	Seed   uint64
	Chains []ShardChainReport
	Faults FaultKinds
	HealBy time.Duration
	// VirtualTime is the virtual time at the end of the run.
	VirtualTime time.Duration
	// Messages and Bytes count the copies nodes handed to the network.
	Messages, Bytes uint64
	// Transfers counts the external messages decided blocks included;
	// Completed the transfers completed (add messages processed: in the
	// block of the transfer, or as a relay input of its recipient's
	// chain).
	Transfers, Completed int
	// RelaysProduced and RelaysConsumed count the outer relays of decided
	// blocks and those the destination consumed.
	RelaysProduced, RelaysConsumed int
	// MeasureFrom and TPS: transfers completed per virtual second from
	// MeasureFrom to the end of the run.
	MeasureFrom time.Duration
	TPS         float64
	// RelayLatency is the mean time from a relay's block to the block that
	// consumed it, per path: "root" (recorded by the root, no lift),
	// "sibling" (between sub-chains of one coordinator, no lift), "lifted"
	// (across branches, lifted to the root); RelayCount counts them.
	RelayLatency map[string]time.Duration
	RelayCount   map[string]int
	// SiblingBeforeRoot counts the sibling relays consumed before the root
	// recorded the coordinator block that recorded their source: the
	// faster parent-digest path (paper 4.3).
	SiblingBeforeRoot int
	// ConservationChecks counts the value-conservation checks made.
	ConservationChecks int
	// Members sums every member's counts.
	Members MemberStats
	// Submitted and Resubmitted count the clients' transfers.
	Submitted, Resubmitted int
	// LivenessDeadline is when the liveness phase had to end.
	LivenessDeadline time.Duration
	TraceHash        hash.Digest
}

// ShardChainReport sums up one chain.
type ShardChainReport struct {
	Chain types.ChainID
	Kind  chains.Kind
	// Height is the lowest height every member committed; Empty the
	// heights decided EMPTY.
	Height types.Height
	Empty  int
	// Transaction chains: external messages included, relays produced and
	// consumed, transfers completed here, and their rate over the
	// measurement window.
	Externals, RelaysOut, RelaysIn, Completed int
	TPS                                       float64
}

// SwarmShardConfig returns the configuration of one swarm seed:
// DefaultShardConfig of chains transaction chains (a light load: enough
// for every block to carry some transfers, little enough that a seed's
// real signature work stays small), the load stopped at healBy, and a
// swarm fault plan (ShardFaultPlan).
func SwarmShardConfig(seed uint64, chainCount int, healBy time.Duration) (ShardConfig, error) {
	cfg := DefaultShardConfig(chainCount)
	cfg.Seed = seed
	cfg.Load.StopAt = healBy
	plan, err := ShardFaultPlan(seed, cfg, healBy)
	if err != nil {
		return ShardConfig{}, err
	}
	cfg.Faults = plan
	return cfg, nil
}

// ShardFaultPlan draws a swarm fault plan for the network cfg describes:
// partitions, link cuts, clogs, loss, duplication and reordering over all
// its nodes (clients included), and, when the swarm picks crashes, a crash
// schedule per committee with at most f of its members down at once. Every
// episode is over by healBy.
func ShardFaultPlan(seed uint64, cfg ShardConfig, healBy time.Duration) (FaultPlan, error) {
	topo, err := cfg.topology()
	if err != nil {
		return FaultPlan{}, err
	}
	var groups [][]NodeID
	next := NodeID(0)
	for _, c := range topo.Chains() {
		size := cfg.Members
		if c.Kind == chains.Root {
			size = cfg.RootMembers
		}
		ids := make([]NodeID, size)
		for i := range ids {
			ids[i] = next
			next++
		}
		groups = append(groups, ids)
	}
	total := int(next) + len(topo.Transactions())
	budget := DefaultFaultBudget(total, healBy)
	budget.MaxCrashed = 0
	plan, err := GenerateFaultPlan(seed, budget)
	if err != nil {
		return FaultPlan{}, fmt.Errorf("shard fault plan: %w", err)
	}
	if plan.Kinds.Has(FaultCrash) {
		for j, ids := range groups {
			b := DefaultFaultBudget(len(ids), healBy)
			b.Kinds, b.Swarm = FaultKinds(0).With(FaultCrash), false
			if b.MaxCrashed == 0 {
				continue
			}
			sub, err := GenerateFaultPlan(newStream(seed, streamShardCrashes, uint64(j)).Uint64(), b)
			if err != nil {
				return FaultPlan{}, fmt.Errorf("shard fault plan: %w", err)
			}
			for _, f := range sub.Faults {
				f.Node = ids[f.Node]
				plan.Faults = append(plan.Faults, f)
			}
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
	}
	return plan, nil
}

// ShardLivenessWindow bounds the virtual time a sharded network takes,
// from the end of its first phase, to commit heights more heights on every
// chain and drain its relays and transfers: the slowest committee's
// LivenessWindow for heights+3 heights (a relay needs its block, the
// recorder's block that records it, and the destination's block), plus
// the longest relay re-send backoff twice and the clients' re-send delay
// twice.
func ShardLivenessWindow(n *ShardedNetwork, heights int) time.Duration {
	var w time.Duration
	for _, com := range n.committees {
		var round types.Round
		for _, m := range com.members {
			if m.core != nil {
				round = max(round, m.core.Status().Round)
			}
		}
		w = max(w, LivenessWindow(&com.timing, round, heights+3))
	}
	return w + 2*relayResendMax + 2*n.cfg.Load.ResubmitAfter
}

// RunShard runs one seed of a sharded network: a first phase until the
// faults heal (and at least targets.Until), checked as it goes, then a
// liveness phase in which every chain must commit targets.LivenessHeights
// more heights, every relay produced must be consumed and every client
// transfer confirmed, within the liveness window; then the end-of-run
// checks. It returns the report and, on failure, an error wrapping
// ErrCheckFailed or ErrNoLiveness (or the world's error).
func RunShard(cfg ShardConfig, targets ShardTargets) (ShardReport, error) {
	if targets.LivenessHeights < 0 || targets.LivenessWindow < 0 || targets.Until < 0 {
		return ShardReport{}, fmt.Errorf("%w: negative shard target", ErrInvalidConfig)
	}
	n, err := NewShardedNetwork(cfg)
	if err != nil {
		return ShardReport{}, err
	}
	err = n.RunPhases(targets)
	return n.Report(), err
}

// MeasureFrom starts the throughput window of the report at virtual time
// at.
func (n *ShardedNetwork) MeasureFrom(at time.Duration) { n.obs.measureFrom = at }

// RunPhases runs a built network as RunShard does: its first phase, then,
// unless targets.NoDrain, the liveness phase, then the end-of-run checks.
func (n *ShardedNetwork) RunPhases(targets ShardTargets) error {
	n.MeasureFrom(targets.MeasureFrom)
	first := max(n.cfg.Faults.HealBy, targets.Until)
	if err := n.Run(first); err != nil {
		return fmt.Errorf("first phase: %w", err)
	}
	if targets.NoDrain {
		n.obs.checkConservation("the first phase")
		return n.Violations()
	}
	need := make(map[types.ChainID]types.Height, len(n.committees))
	for _, com := range n.committees {
		top := types.Height(0)
		for _, m := range com.members {
			top = max(top, m.height())
		}
		need[com.chain] = top + types.Height(targets.LivenessHeights)
	}
	window := targets.LivenessWindow
	if window == 0 {
		window = ShardLivenessWindow(n, targets.LivenessHeights)
	}
	n.livenessDeadline = n.world.Now() + window
	err := n.RunUntil(func() bool { return n.drained(need) }, n.livenessDeadline)
	if errors.Is(err, ErrTimeLimit) || errors.Is(err, ErrStalled) {
		err = fmt.Errorf("%w: at %v (deadline %v, faults healed at %v): %s", ErrNoLiveness, n.world.Now(), n.livenessDeadline, n.cfg.Faults.HealBy, n.progressLine(need))
	}
	n.obs.checkConservation("the run")
	return errors.Join(err, n.Violations())
}

// drained reports whether every relay was consumed, every client transfer
// confirmed and every member reached its chain's height in need.
func (n *ShardedNetwork) drained(need map[types.ChainID]types.Height) bool {
	if !n.Drained() {
		return false
	}
	for _, com := range n.committees {
		if com.height() < need[com.chain] {
			return false
		}
	}
	return true
}

// progressLine renders what a liveness failure left undone.
func (n *ShardedNetwork) progressLine(need map[types.ChainID]types.Height) string {
	var parts []string
	for _, com := range n.committees {
		var hs []string
		for _, m := range com.members {
			state := "down"
			if m.core != nil {
				st := m.core.Status()
				state = fmt.Sprintf("r%d", st.Round)
			}
			hs = append(hs, fmt.Sprintf("%d:h%d(%s)", m.index, m.height(), state))
		}
		parts = append(parts, fmt.Sprintf("chain %d need h%d [%s]", com.chain, need[com.chain], strings.Join(hs, " ")))
	}
	out := 0
	for _, c := range n.clients {
		out += c.outstanding()
	}
	parts = append(parts, fmt.Sprintf("relays not consumed %d, transfers unconfirmed %d", n.obs.open(), out))
	return strings.Join(parts, "; ")
}

// Report sums up the run so far.
func (n *ShardedNetwork) Report() ShardReport {
	metrics := n.world.Metrics()
	o := n.obs
	rep := ShardReport{
		Seed: n.cfg.Seed, Faults: n.cfg.Faults.Kinds, HealBy: n.cfg.Faults.HealBy,
		VirtualTime: n.world.Now(), Messages: metrics.Total.Sent.Messages, Bytes: metrics.Total.Sent.Bytes,
		MeasureFrom: o.measureFrom, ConservationChecks: o.rootChecks, TraceHash: n.world.TraceHash(),
		LivenessDeadline: n.livenessDeadline, SiblingBeforeRoot: o.siblingFirst,
		RelayLatency: map[string]time.Duration{}, RelayCount: map[string]int{},
	}
	span := n.world.Now() - o.measureFrom
	for _, com := range n.committees {
		l := o.ledgers[com.chain]
		cr := ShardChainReport{Chain: com.chain, Kind: com.kind, Height: com.height(), Empty: l.empty,
			Externals: l.externals, RelaysOut: l.relaysOut, RelaysIn: l.relaysIn, Completed: l.completed}
		if span > 0 {
			cr.TPS = float64(l.measured) / span.Seconds()
		}
		rep.Chains = append(rep.Chains, cr)
		rep.Transfers += l.externals
		rep.Completed += l.completed
		rep.RelaysProduced += l.relaysOut
		rep.RelaysConsumed += l.relaysIn
		for _, m := range com.members {
			rep.Members.Add(m.stats)
		}
	}
	if span > 0 {
		rep.TPS = float64(o.completed) / span.Seconds()
	}
	for path, name := range map[relayPath]string{pathRoot: "root", pathSibling: "sibling", pathLifted: "lifted"} {
		if s := o.relayLatency[path]; s != nil && s.count > 0 {
			rep.RelayLatency[name] = s.sum / time.Duration(s.count)
			rep.RelayCount[name] = s.count
		}
	}
	for _, c := range n.clients {
		rep.Submitted += c.submitted
		rep.Resubmitted += c.resubmitted
	}
	return rep
}

// MemberStats returns what member i of chain counted.
func (n *ShardedNetwork) MemberStats(chain types.ChainID, i types.ValidatorIndex) MemberStats {
	com, ok := n.byChain[chain]
	if !ok || int(i) >= len(com.members) {
		return MemberStats{}
	}
	return com.members[i].stats
}

// ConsumedAt returns the height at which member i of transaction chain
// chain consumed relay id, in its durable consumed set, and false when it
// holds no such relay.
func (n *ShardedNetwork) ConsumedAt(chain types.ChainID, i types.ValidatorIndex, id types.Hash) (types.Height, bool) {
	com, ok := n.byChain[chain]
	if !ok || int(i) >= len(com.members) {
		return 0, false
	}
	h, ok := com.members[i].consumed[id]
	return h, ok
}

// NodesOf returns the world nodes of chain's committee, by member index.
func (n *ShardedNetwork) NodesOf(chain types.ChainID) []NodeID {
	if com, ok := n.byChain[chain]; ok {
		return com.nodes
	}
	return nil
}

// Drained reports whether every relay produced was consumed and every
// client transfer confirmed.
func (n *ShardedNetwork) Drained() bool {
	if n.obs.open() > 0 {
		return false
	}
	for _, c := range n.clients {
		if c.outstanding() > 0 {
			return false
		}
	}
	return true
}
