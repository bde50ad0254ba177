package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// ConsensusTargets says what a run of RunConsensus must reach.
type ConsensusTargets struct {
	// Heights is the least height every honest member must commit.
	Heights types.Height
	// LivenessHeights is how many heights beyond the highest one any honest
	// member had committed when the faults healed (FaultPlan.HealBy) every
	// honest member must then commit.
	LivenessHeights int
	// LivenessWindow bounds the virtual time from HealBy to reaching both
	// targets; zero takes LivenessWindow.
	LivenessWindow time.Duration
}

// LivenessWindow is the default bound on the virtual time honest members
// take, from the moment the faults heal, to commit heights more heights,
// when the highest round an honest member is in at that moment is round.
// With q = n - f and the timers of docs/CONSENSUS.md (rule 6 included):
//
//	2·T(round) + (heights+1) · Σ_{k=0}^{f+2} T(round + k),   T(r) = RoundTimeout + r·TimeoutIncrement
//
// Two round timeouts let the members in different rounds meet (a member
// ahead waits at most one round timeout for a quorum of round changes and
// re-sends its own meanwhile; the others time out into its round). Then
// each height is given f+3 rounds: f of them may be led by Byzantine
// members, one may end without the safe value's block at its leader, and
// one more absorbs message delays at the round boundary; one height more
// covers block sync of members left behind.
func LivenessWindow(cfg *ConsensusConfig, round types.Round, heights int) time.Duration {
	f := consensus.ThresholdsFor(cfg.Members).F
	var perHeight time.Duration
	for k := range types.Round(f + 3) {
		perHeight += cfg.roundTimeout(round + k)
	}
	return 2*cfg.roundTimeout(round) + time.Duration(heights+1)*perHeight
}

// ConsensusReport sums up a run.
type ConsensusReport struct {
	Seed      uint64
	Members   int
	Scheme    SignatureScheme
	Byzantine []ByzantineMember
	Faults    FaultKinds
	HealBy    time.Duration
	// Heights is the lowest height every honest member committed.
	Heights types.Height
	// EmptyBlocks counts the heights in 1..Heights decided EMPTY;
	// FastDecisions those decided by early consensus (all n prepares).
	EmptyBlocks, FastDecisions int
	// Rounds is the sum over heights 1..Heights of the deciding round plus
	// one (Heights when every height is decided in round 0); MaxRound the
	// highest deciding round.
	Rounds   uint64
	MaxRound types.Round
	// Messages and Bytes count the copies members handed to the network.
	Messages, Bytes uint64
	// VirtualTime is the virtual time at the end of the run.
	VirtualTime time.Duration
	// Evidence counts the Evidence actions of honest members.
	Evidence int
	// Work sums every member's signature work.
	Work SignatureWork
	// LivenessTarget and LivenessDeadline are the height honest members had
	// to reach after HealBy, and by when.
	LivenessTarget   types.Height
	LivenessDeadline time.Duration
	// TraceHash is the world's trace hash at the end of the run.
	TraceHash hash.Digest
}

// RunConsensus runs one seed of a simulated committee: a safety phase until
// the faults heal (FaultPlan.HealBy), checked as it goes, then a liveness
// phase in which every honest member must reach the targets within the
// liveness window, then the end-of-run checks. It returns the report and,
// on failure, an error wrapping ErrCheckFailed or ErrNoLiveness (or the
// world's error).
func RunConsensus(cfg ConsensusConfig, targets ConsensusTargets) (ConsensusReport, error) {
	if targets.LivenessHeights < 0 || targets.LivenessWindow < 0 {
		return ConsensusReport{}, fmt.Errorf("%w: negative liveness target", ErrInvalidConfig)
	}
	cl, err := NewConsensusCluster(cfg)
	if err != nil {
		return ConsensusReport{}, err
	}
	err = cl.run(targets)
	return cl.Report(), err
}

// run carries out RunConsensus's phases on a fresh cluster.
func (c *ConsensusCluster) run(targets ConsensusTargets) error {
	healBy := c.cfg.Faults.HealBy
	if err := c.Run(healBy); err != nil {
		return fmt.Errorf("safety phase: %w", err)
	}
	var top types.Height
	var round types.Round
	for _, m := range c.members {
		if m.byz.Kind != 0 {
			continue
		}
		top = max(top, types.Height(len(m.chain)))
		if m.core != nil {
			round = max(round, m.core.Status().Round)
		}
	}
	target := max(targets.Heights, top+types.Height(targets.LivenessHeights))
	window := targets.LivenessWindow
	if window == 0 {
		window = LivenessWindow(&c.cfg, round, int(target-min(top, target)))
	}
	c.livenessTarget, c.livenessDeadline = target, c.world.Now()+window
	err := c.RunUntilHeight(target, c.livenessDeadline)
	if errors.Is(err, ErrTimeLimit) || errors.Is(err, ErrStalled) {
		err = fmt.Errorf("%w: honest members at heights %s at %v, need height %d by %v (faults healed at %v in round %d)",
			ErrNoLiveness, c.heightsLine(), c.world.Now(), target, c.livenessDeadline, healBy, round)
	}
	c.obs.checkWitnessedEquivocations()
	return errors.Join(err, c.Violations())
}

// heightsLine renders each member's committed height and round, for a
// failure message.
func (c *ConsensusCluster) heightsLine() string {
	parts := make([]string, len(c.members))
	for i, m := range c.members {
		state := "down"
		if m.core != nil {
			st := m.core.Status()
			state = fmt.Sprintf("r%d", st.Round)
			if st.AwaitingQuorum {
				state += " awaiting-quorum"
			}
		}
		tag := ""
		if m.byz.Kind != 0 {
			tag = " " + m.byz.Kind.String()
		}
		parts[i] = fmt.Sprintf("%d:h%d(%s%s)", i, len(m.chain), state, tag)
	}
	return strings.Join(parts, " ")
}

// Report sums up the run so far.
func (c *ConsensusCluster) Report() ConsensusReport {
	metrics := c.world.Metrics()
	rep := ConsensusReport{
		Seed: c.cfg.Seed, Members: c.cfg.Members, Scheme: c.cfg.Scheme, Byzantine: c.cfg.Byzantine,
		Faults: c.cfg.Faults.Kinds, HealBy: c.cfg.Faults.HealBy,
		Heights:  c.HonestHeight(),
		Messages: metrics.Total.Sent.Messages, Bytes: metrics.Total.Sent.Bytes,
		VirtualTime: c.world.Now(), Evidence: c.obs.evidenceCount, TraceHash: c.world.TraceHash(),
		LivenessTarget: c.livenessTarget, LivenessDeadline: c.livenessDeadline,
	}
	for h := types.Height(1); h <= rep.Heights; h++ {
		d, ok := c.obs.decided[h]
		if !ok {
			continue
		}
		if consensus.IsEmptyValue(d.value) {
			rep.EmptyBlocks++
		}
	}
	for _, m := range c.members {
		rep.Work.Add(m.work())
	}
	if len(c.members) > 0 {
		for _, m := range c.members {
			if m.byz.Kind != 0 || types.Height(len(m.chain)) < rep.Heights {
				continue
			}
			for i := range rep.Heights {
				cert := &m.chain[i].Certificate
				rep.Rounds += uint64(cert.Round) + 1
				rep.MaxRound = max(rep.MaxRound, cert.Round)
				if cert.Kind != types.VoteConfirm {
					rep.FastDecisions++
				}
			}
			break
		}
	}
	return rep
}

// SwarmConsensusConfig returns the configuration of one swarm seed of a
// committee of n: a random set of Byzantine members (0 to f, random kinds;
// RandomByzantine) and a fault plan drawn within the budget that keeps a
// safety run within the threshold: crashes at most f minus the number of
// Byzantine members at once, every kind of the atlas possibly enabled
// (swarm), all healed by healBy.
func SwarmConsensusConfig(seed uint64, n int, healBy time.Duration) (ConsensusConfig, error) {
	cfg := DefaultConsensusConfig(n)
	cfg.Seed = seed
	cfg.Byzantine = RandomByzantine(seed, n, healBy)
	plan, err := ConsensusFaultPlan(seed, n, len(cfg.Byzantine), healBy)
	if err != nil {
		return ConsensusConfig{}, err
	}
	cfg.Faults = plan
	return cfg, nil
}

// ConsensusFaultPlan draws a swarm fault plan for a committee of n with
// byzantine Byzantine members: at most f - byzantine members down at once,
// every episode over by healBy.
func ConsensusFaultPlan(seed uint64, n, byzantine int, healBy time.Duration) (FaultPlan, error) {
	budget := DefaultFaultBudget(n, healBy)
	budget.MaxCrashed = max(consensus.ThresholdsFor(n).F-byzantine, 0)
	plan, err := GenerateFaultPlan(seed, budget)
	if err != nil {
		return FaultPlan{}, fmt.Errorf("consensus fault plan: %w", err)
	}
	return plan, nil
}
