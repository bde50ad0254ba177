package simulate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/sim"
	"github.com/thinkey/thinkey/tools/planner"
)

// defaultShardDuration is the virtual time of load of a sharded run
// without faults.
const defaultShardDuration = 10 * time.Second

// validateShard checks the flags of a sharded run, and that the flags of
// one are not given without --chains.
func (o *options) validateShard(changed func(string) bool) []error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: "+format, append([]any{flag}, args...)...))
	}
	if o.chains < 0 || o.chains >= chains.MaxChains {
		bad("chains", "%d not in 0..%d", o.chains, chains.MaxChains-1)
	}
	if o.chains == 0 {
		for _, f := range []string{"cross", "tx-rate", "accounts", "duration"} {
			if changed(f) {
				bad(f, "needs --chains")
			}
		}
		return errs
	}
	for _, f := range []string{"byzantine", "signer", "heights"} {
		if changed(f) {
			bad(f, "is for one committee, not with --chains")
		}
	}
	if !(o.cross >= 0 && o.cross <= 1) {
		bad("cross", "%v not in [0, 1]", o.cross)
	}
	if o.txRate < 0 {
		bad("tx-rate", "%d is negative", o.txRate)
	}
	if o.accounts < 2 {
		bad("accounts", "%d is below 2", o.accounts)
	}
	if o.duration < 0 {
		bad("duration", "%v is negative", o.duration)
	}
	return errs
}

// loadTime is how long the load of a sharded run lasts.
func (o *options) loadTime() time.Duration {
	switch {
	case o.duration > 0:
		return o.duration
	case o.faults == "swarm":
		return o.healBy
	}
	return defaultShardDuration
}

// shardConfig builds the sharded run of one seed. With the flags' defaults
// and --faults swarm it is node/sim's SwarmShardConfig, so a failing seed
// of the simulation tests replays here.
func (o *options) shardConfig(seed uint64, costs sim.CPUCosts) (sim.ShardConfig, sim.ShardTargets, error) {
	cfg := sim.DefaultShardConfig(o.chains)
	cfg.Seed = seed
	cfg.Members = o.members
	cfg.Costs.Consensus = costs
	cfg.Load.Cross = o.cross
	cfg.Load.Rate = o.txRate
	cfg.Load.AccountsPerChain = o.accounts
	cfg.Load.StopAt = o.loadTime()
	if o.blockInterval > 0 {
		cfg.BlockInterval = o.blockInterval
	}
	targets := sim.ShardTargets{LivenessHeights: o.livenessHeights, LivenessWindow: o.livenessWindow}
	if o.duration > 0 || o.faults != "swarm" {
		targets.Until = o.loadTime()
	}
	if o.faults == "swarm" {
		plan, err := sim.ShardFaultPlan(seed, cfg, o.healBy)
		if err != nil {
			return cfg, targets, err
		}
		cfg.Faults = plan
	}
	return cfg, targets, cfg.Validate()
}

// shardReplay is the command line that runs one seed of a sharded network
// with these flags.
func (o *options) shardReplay(seed uint64) string {
	parts := []string{"thinkey sim", fmt.Sprintf("--chains %d", o.chains), fmt.Sprintf("--seed %d", seed),
		fmt.Sprintf("--members %d", o.members), fmt.Sprintf("--cross %v", o.cross), fmt.Sprintf("--tx-rate %d", o.txRate),
		fmt.Sprintf("--accounts %d", o.accounts), "--faults " + o.faults, fmt.Sprintf("--liveness-heights %d", o.livenessHeights)}
	if o.faults == "swarm" {
		parts = append(parts, "--heal-by "+o.healBy.String())
	}
	if o.duration > 0 {
		parts = append(parts, "--duration "+o.duration.String())
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

// runShard runs the seeds of a sharded network and prints the summary.
func (o *options) runShard(out, errw io.Writer, seeds []uint64) error {
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
		return o.runShardOne(out, seeds[0], costs)
	}
	progress := isTerminal(errw)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seed\tchains\ttransfers\trelays\tTPS\tvirtual time\tmessages\tfaults\ttrace\tresult\t")
	var failed []uint64
	var firstErr error
	for i, seed := range seeds {
		if progress {
			fmt.Fprintf(errw, "\r\033[K[%d/%d] seed %d, %d failed", i+1, len(seeds), seed, len(failed))
		}
		cfg, targets, err := o.shardConfig(seed, costs)
		if err != nil {
			return err
		}
		rep, err := sim.RunShard(cfg, targets)
		result := "ok"
		if err != nil {
			result = "FAIL"
			failed = append(failed, seed)
			if firstErr == nil {
				firstErr = fmt.Errorf("seed %d: %w\nreplay: %s", seed, err, o.shardReplay(seed))
			}
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d/%d\t%.1f\t%v\t%d\t%v\t%.12s\t%s\t\n", seed, o.chains, rep.Transfers, rep.RelaysConsumed, rep.RelaysProduced,
			rep.TPS, rep.VirtualTime.Round(time.Millisecond), rep.Messages, rep.Faults, rep.TraceHash, result)
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

// runShardOne runs one seed and prints per-chain figures and the checks.
func (o *options) runShardOne(out io.Writer, seed uint64, costs sim.CPUCosts) error {
	cfg, targets, err := o.shardConfig(seed, costs)
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
	rep, runErr := sim.RunShard(cfg, targets)
	if traceFile != nil {
		if err := errors.Join(traceBuf.Flush(), traceFile.Close()); err != nil {
			return fmt.Errorf("--trace: %w", err)
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "chain\tkind\theight\tempty\ttransfers\trelays out\trelays in\tcompleted\tTPS\t")
	for _, c := range rep.Chains {
		if c.Kind != chains.Transaction {
			fmt.Fprintf(tw, "%d\t%v\t%d\t%d\t\t\t\t\t\t\n", c.Chain, c.Kind, c.Height, c.Empty)
			continue
		}
		fmt.Fprintf(tw, "%d\t%v\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t\n", c.Chain, c.Kind, c.Height, c.Empty, c.Externals, c.RelaysOut, c.RelaysIn, c.Completed, c.TPS)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(k string, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...)
	}
	row("seed", "%d", seed)
	row("chains", "%d transaction chains, committees of %d, root committee of %d", o.chains, cfg.Members, cfg.RootMembers)
	row("load", "%d transfers/s per chain, %.0f%% cross-chain, %d accounts per chain, until %v", cfg.Load.Rate, 100*cfg.Load.Cross, cfg.Load.AccountsPerChain, cfg.Load.StopAt)
	if cfg.Faults.HealBy > 0 {
		row("faults", "%v (healed by %v)", cfg.Faults.Kinds, cfg.Faults.HealBy)
	} else {
		row("faults", "none")
	}
	row("transfers", "%d submitted, %d re-sent, %d in blocks, %d completed", rep.Submitted, rep.Resubmitted, rep.Transfers, rep.Completed)
	row("TPS", "%.1f completed transfers per virtual second over the whole run", rep.TPS)
	row("relays", "%d produced, %d consumed", rep.RelaysProduced, rep.RelaysConsumed)
	for _, path := range []string{"root", "sibling", "lifted"} {
		if c := rep.RelayCount[path]; c > 0 {
			row("relay latency ("+path+")", "%v mean over %d", rep.RelayLatency[path].Round(time.Millisecond), c)
		}
	}
	row("block checks", "%d parked for the root view (%d timed out), %d refused", rep.Members.Parked, rep.Members.ParkedTimeouts, rep.Members.Refused)
	row("duplicate relays", "%d acknowledged as consumed", rep.Members.AckedConsumed)
	row("messages", "%d (%d bytes)", rep.Messages, rep.Bytes)
	row("virtual time", "%v", rep.VirtualTime)
	checks := "ok"
	if runErr != nil {
		checks = "FAIL"
	}
	row("checks", "%s: agreement on every chain, root records = decided headers, value conserved (%d checks), exactly-once relays, all relays consumed",
		checks, rep.ConservationChecks)
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
		return fmt.Errorf("%w: seed %d: %w\nreplay: %s", ErrSeedsFailed, seed, runErr, o.shardReplay(seed))
	}
	return nil
}
