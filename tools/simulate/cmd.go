package simulate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/sim"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/tools/planner"
)

// ErrSeedsFailed is wrapped by the command's error when a seed failed a
// checker or its liveness bound.
var ErrSeedsFailed = errors.New("simulation seeds failed")

// options are the command's flags.
type options struct {
	seed            uint64
	seeds           string
	members         int
	heights         int
	livenessHeights int
	livenessWindow  time.Duration
	byzantine       string
	faults          string
	healBy          time.Duration
	signer          string
	trace           string
	profile         string
	blockInterval   time.Duration

	// A sharded network (--chains above 0) instead of one committee.
	chains   int
	cross    float64
	txRate   int
	accounts int
	duration time.Duration
}

// Command returns the `thinkey sim` command.
func Command() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run simulated committees of real consensus cores on virtual time, one seed or a range",
		Long: `sim runs a committee of node/consensus cores on node/sim's simulated network and
virtual time, from a seed: Byzantine members (--byzantine), a swarm of network
faults and crashes healed by --heal-by (--faults swarm), real BLS or the fast
stand-in signatures (--signer). Every run is checked for agreement, validity,
equivocation evidence, honest double votes and the cores' invariants, and after
the faults heal every honest member must decide --liveness-heights more heights
within the liveness bound. It prints a summary and exits non-zero, with the
command that replays the seed, when a check fails.

With --chains N it runs a sharded network instead: a root committee recording
the blocks of N transaction chains, each decided by its own committee of
--members over real signed payments, --tx-rate transfers per virtual second
offered per chain, a share --cross of them to accounts of other chains (relays
with Merkle proofs checked against the root chain). Every run is checked for
agreement on every chain, root records equal to the chains' decided headers,
value conservation (balances plus relays in flight) after every root block and
exactly-once relays, and after the load stops (at --heal-by with --faults
swarm, else after --duration) every relay must be consumed and every transfer
confirmed. It prints per-chain throughput and relays.`,
		Example: `  thinkey sim --seed 7 --members 16 --heights 20
  thinkey sim --seed 42 --members 7 --faults swarm --byzantine equivocating-leader,delay
  thinkey sim --seeds 1..200 --members 4 --faults swarm --byzantine random
  thinkey sim --seed 3 --signer bls --trace trace.txt
  thinkey sim --chains 4 --seed 7 --faults swarm --heal-by 6s
  thinkey sim --chains 8 --cross 1 --tx-rate 200 --accounts 500 --duration 10s
  thinkey sim --chains 2 --seeds 1..50 --faults swarm --heal-by 6s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			seeds, err := o.validate(cmd.Flags().Changed)
			if err != nil {
				return err
			}
			if o.chains > 0 {
				return o.runShard(cmd.OutOrStdout(), cmd.ErrOrStderr(), seeds)
			}
			return o.run(cmd.OutOrStdout(), cmd.ErrOrStderr(), seeds)
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&o.seed, "seed", 1, "the seed to run")
	f.StringVar(&o.seeds, "seeds", "", "a range of seeds a..b to run instead of --seed")
	f.IntVar(&o.members, "members", 4, "committee size n")
	f.IntVar(&o.heights, "heights", 10, "height every honest member must commit")
	f.IntVar(&o.livenessHeights, "liveness-heights", 3, "heights every honest member must commit after the faults heal")
	f.DurationVar(&o.livenessWindow, "liveness-window", 0, "bound on the virtual time to reach the heights after the faults heal (0: node/sim's LivenessWindow)")
	f.StringVar(&o.byzantine, "byzantine", "none", "Byzantine members: none, random, or a comma-separated list of kinds ("+kindNames()+"), at most f")
	f.StringVar(&o.faults, "faults", "none", "network faults and crashes: none or swarm")
	f.DurationVar(&o.healBy, "heal-by", 30*time.Second, "virtual time by which every swarm fault is over")
	f.StringVar(&o.signer, "signer", "standin", "signatures: standin (fast, charged at BLS costs) or bls (real)")
	f.StringVar(&o.trace, "trace", "", "write every simulator event to this file (one seed only)")
	f.StringVar(&o.profile, "profile", "", "take the virtual CPU costs from this `thinkey bench --out` report")
	f.DurationVar(&o.blockInterval, "block-interval", 0, "least virtual time between a commit and the next block a leader proposes (sharded: 0 keeps node/sim's default)")
	f.IntVar(&o.chains, "chains", 0, "run a sharded network of this many transaction chains (0: one committee)")
	f.Float64Var(&o.cross, "cross", 0.5, "sharded: share of transfers to an account of another chain, 0 to 1")
	f.IntVar(&o.txRate, "tx-rate", sim.DefaultShardConfig(1).Load.Rate, "sharded: transfers per virtual second offered per chain")
	f.IntVar(&o.accounts, "accounts", sim.DefaultShardConfig(1).Load.AccountsPerChain, "sharded: funded accounts per chain")
	f.DurationVar(&o.duration, "duration", 0, "sharded: virtual time of load before the drain (0: --heal-by with --faults swarm, else 10s)")
	return cmd
}

func kindNames() string {
	var names []string
	for _, k := range sim.AllByzantineKinds() {
		names = append(names, k.String())
	}
	return strings.Join(names, ", ")
}

// validate checks every flag (changed says which were given) and returns
// the seeds to run.
func (o *options) validate(changed func(string) bool) ([]uint64, error) {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: "+format, append([]any{flag}, args...)...))
	}
	seeds := []uint64{o.seed}
	if o.seeds != "" {
		if changed("seed") {
			bad("seeds", "give --seed or --seeds, not both")
		}
		first, last, err := parseRange(o.seeds)
		if err != nil {
			bad("seeds", "%v", err)
		} else {
			seeds = seeds[:0]
			for s := first; ; s++ {
				seeds = append(seeds, s)
				if s == last {
					break
				}
			}
		}
	}
	if o.members < 1 || o.members > types.MaxCommitteeSize {
		bad("members", "%d not in 1..%d", o.members, types.MaxCommitteeSize)
	}
	if o.heights < 1 {
		bad("heights", "%d is below 1", o.heights)
	}
	if o.livenessHeights < 0 {
		bad("liveness-heights", "%d is negative", o.livenessHeights)
	}
	if o.livenessWindow < 0 {
		bad("liveness-window", "%v is negative", o.livenessWindow)
	}
	if o.healBy <= 0 {
		bad("heal-by", "%v is not positive", o.healBy)
	}
	if o.blockInterval < 0 {
		bad("block-interval", "%v is negative", o.blockInterval)
	}
	switch o.faults {
	case "none", "swarm":
	default:
		bad("faults", "%q (want none or swarm)", o.faults)
	}
	if _, err := sim.ParseSignatureScheme(o.signer); err != nil {
		bad("signer", "%q (want standin or bls)", o.signer)
	}
	if kinds, err := o.byzantineKinds(); err != nil {
		bad("byzantine", "%v", err)
	} else if f := consensus.ThresholdsFor(max(o.members, 1)).F; len(kinds) > f {
		bad("byzantine", "%d Byzantine members, a committee of %d tolerates f = %d", len(kinds), o.members, f)
	}
	if o.trace != "" && len(seeds) > 1 {
		bad("trace", "traces one seed only, not a range")
	}
	errs = append(errs, o.validateShard(changed)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if o.chains > 0 {
		if _, _, err := o.shardConfig(seeds[0], sim.DefaultCPUCosts()); err != nil {
			return nil, err
		}
		return seeds, nil
	}
	// The config as a whole (timeouts against the block interval, ...).
	if _, _, err := o.config(seeds[0], sim.DefaultCPUCosts()); err != nil {
		return nil, err
	}
	return seeds, nil
}

// parseRange parses "a..b" with a <= b.
func parseRange(s string) (uint64, uint64, error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a range a..b", s)
	}
	first, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("range start %q: %w", a, err)
	}
	last, err := strconv.ParseUint(b, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("range end %q: %w", b, err)
	}
	if first > last {
		return 0, 0, fmt.Errorf("range %d..%d is empty", first, last)
	}
	return first, last, nil
}

// byzantineKinds parses --byzantine; "random" and "none" give no kinds.
func (o *options) byzantineKinds() ([]sim.ByzantineKind, error) {
	switch o.byzantine {
	case "", "none", "random":
		return nil, nil
	}
	var kinds []sim.ByzantineKind
	for _, name := range strings.Split(o.byzantine, ",") {
		k, err := sim.ParseByzantineKind(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

// config builds the run of one seed.
func (o *options) config(seed uint64, costs sim.CPUCosts) (sim.ConsensusConfig, sim.ConsensusTargets, error) {
	cfg := sim.DefaultConsensusConfig(o.members)
	cfg.Seed = seed
	cfg.Costs = costs
	cfg.BlockInterval = o.blockInterval
	cfg.CheckInvariants = true
	scheme, err := sim.ParseSignatureScheme(o.signer)
	if err != nil {
		return cfg, sim.ConsensusTargets{}, err
	}
	cfg.Scheme = scheme
	switch o.byzantine {
	case "random":
		cfg.Byzantine = sim.RandomByzantine(seed, o.members, o.healBy)
	default:
		kinds, err := o.byzantineKinds()
		if err != nil {
			return cfg, sim.ConsensusTargets{}, err
		}
		if len(kinds) > 0 {
			if cfg.Byzantine, err = sim.AssignByzantine(seed, o.members, kinds); err != nil {
				return cfg, sim.ConsensusTargets{}, err
			}
		}
	}
	if o.faults == "swarm" {
		if cfg.Faults, err = sim.ConsensusFaultPlan(seed, o.members, len(cfg.Byzantine), o.healBy); err != nil {
			return cfg, sim.ConsensusTargets{}, err
		}
	}
	targets := sim.ConsensusTargets{Heights: types.Height(o.heights), LivenessHeights: o.livenessHeights, LivenessWindow: o.livenessWindow}
	return cfg, targets, cfg.Validate()
}

// replayCommand is the command line that runs one seed with these flags.
func (o *options) replayCommand(seed uint64) string {
	parts := []string{"thinkey sim", fmt.Sprintf("--seed %d", seed), fmt.Sprintf("--members %d", o.members),
		fmt.Sprintf("--heights %d", o.heights), fmt.Sprintf("--liveness-heights %d", o.livenessHeights),
		"--byzantine " + o.byzantine, "--faults " + o.faults, "--signer " + o.signer}
	if o.faults == "swarm" {
		parts = append(parts, "--heal-by "+o.healBy.String())
	}
	if o.livenessWindow > 0 {
		parts = append(parts, "--liveness-window "+o.livenessWindow.String())
	}
	if o.blockInterval > 0 {
		parts = append(parts, "--block-interval "+o.blockInterval.String())
	}
	if o.profile != "" {
		parts = append(parts, "--profile "+o.profile)
	}
	return strings.Join(parts, " ")
}

// run runs the seeds and prints the summary.
func (o *options) run(out, errw io.Writer, seeds []uint64) error {
	costs := sim.DefaultCPUCosts()
	if o.profile != "" {
		rep, err := planner.LoadProfile(o.profile)
		if err != nil {
			return fmt.Errorf("--profile: %w", err)
		}
		var notes []string
		costs, notes = CostsFromReport(rep)
		for _, n := range notes {
			fmt.Fprintln(errw, "note:", n)
		}
	}
	if len(seeds) == 1 {
		return o.runOne(out, seeds[0], costs)
	}
	progress := isTerminal(errw)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seed\theights\tempty\trounds\tmax round\tmessages\tvirtual time\tevidence\tbyzantine\tfaults\ttrace\tresult\t")
	var failed []uint64
	var firstErr error
	for i, seed := range seeds {
		if progress {
			fmt.Fprintf(errw, "\r\033[K[%d/%d] seed %d, %d failed", i+1, len(seeds), seed, len(failed))
		}
		cfg, targets, err := o.config(seed, costs)
		if err != nil {
			return err
		}
		rep, err := sim.RunConsensus(cfg, targets)
		result := "ok"
		if err != nil {
			result = "FAIL"
			failed = append(failed, seed)
			if firstErr == nil {
				firstErr = fmt.Errorf("seed %d: %w\nreplay: %s", seed, err, o.replayCommand(seed))
			}
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%v\t%d\t%s\t%v\t%.12s\t%s\t\n", seed, rep.Heights, rep.EmptyBlocks, rep.Rounds, rep.MaxRound,
			rep.Messages, rep.VirtualTime.Round(time.Millisecond), rep.Evidence, byzantineList(rep.Byzantine), rep.Faults, rep.TraceHash, result)
	}
	if progress {
		fmt.Fprint(errw, "\r\033[K")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%d seeds, %d failed\n", len(seeds), len(failed))
	if len(failed) > 0 {
		return fmt.Errorf("%w: %d of %d (seeds %v); first failure: %w", ErrSeedsFailed, len(failed), len(seeds), failed, firstErr)
	}
	return nil
}

// runOne runs one seed and prints its summary table.
func (o *options) runOne(out io.Writer, seed uint64, costs sim.CPUCosts) error {
	cfg, targets, err := o.config(seed, costs)
	if err != nil {
		return err
	}
	var traceFile *os.File
	var traceBuf *bufio.Writer
	if o.trace != "" {
		if traceFile, err = os.Create(o.trace); err != nil {
			return fmt.Errorf("--trace: %w", err)
		}
		traceBuf = bufio.NewWriter(traceFile)
		cfg.Trace = traceBuf
	}
	rep, runErr := sim.RunConsensus(cfg, targets)
	if traceFile != nil {
		err := errors.Join(traceBuf.Flush(), traceFile.Close())
		if err != nil {
			return fmt.Errorf("--trace: %w", err)
		}
	}
	th := consensus.ThresholdsFor(cfg.Members)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(k string, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...)
	}
	row("seed", "%d", seed)
	row("members", "%d (f = %d, q = %d)", cfg.Members, th.F, th.Quorum)
	row("signer", "%v", cfg.Scheme)
	row("byzantine", "%s", byzantineList(cfg.Byzantine))
	if cfg.Faults.HealBy > 0 {
		row("faults", "%v (healed by %v)", cfg.Faults.Kinds, cfg.Faults.HealBy)
	} else {
		row("faults", "none")
	}
	row("heights decided", "%d (target %d by %v)", rep.Heights, rep.LivenessTarget, rep.LivenessDeadline)
	row("empty blocks", "%d", rep.EmptyBlocks)
	row("fast decisions", "%d", rep.FastDecisions)
	row("rounds", "%d (highest deciding round %d)", rep.Rounds, rep.MaxRound)
	row("messages", "%d (%d bytes)", rep.Messages, rep.Bytes)
	row("virtual time", "%v", rep.VirtualTime)
	if rep.VirtualTime > 0 {
		row("blocks per virtual second", "%.2f", float64(rep.Heights)/rep.VirtualTime.Seconds())
	}
	row("evidence", "%d", rep.Evidence)
	if perBlock := float64(rep.Heights) * float64(cfg.Members); perBlock > 0 {
		row("aggregate checks / block / member", "%.2f", float64(rep.Work.AggregateChecks)/perBlock)
		row("signatures verified / block / member", "%.1f", float64(rep.Work.SignaturesVerified)/perBlock)
	}
	row("trace hash", "%v", rep.TraceHash)
	if runErr != nil {
		row("result", "FAIL")
	} else {
		row("result", "ok")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("%w: seed %d: %w\nreplay: %s", ErrSeedsFailed, seed, runErr, o.replayCommand(seed))
	}
	return nil
}

func byzantineList(byz []sim.ByzantineMember) string {
	if len(byz) == 0 {
		return "none"
	}
	parts := make([]string, len(byz))
	for i, b := range byz {
		parts[i] = b.String()
	}
	return strings.Join(parts, ",")
}

// isTerminal reports whether w is a character device, where a progress line
// that rewrites itself makes sense; logs and pipes get none.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
