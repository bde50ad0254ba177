package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thinkey/thinkey/tools/txcmd"
)

// Command returns `thinkey loadgen`.
func Command() *cobra.Command {
	var apis, accountsFile string
	var asJSON bool
	cfg := Config{}
	cmd := &cobra.Command{
		Use:   "loadgen --api URL[,URL...] --accounts FILE --rate R --duration D [--cross R]",
		Short: "Send signed transfers at a target rate and measure throughput and latency",
		Long: `Send transfers between the funded accounts of FILE (thinkey testnet writes
accounts.json) at --rate per second for --duration. Each node of --api says
which transaction chain it serves (GET /v1/chains); each account's
transfers go, in batches, to the nodes of its chain in turn, and each chain
is followed on the first of its nodes. Give nodes of every chain to load
them all: accounts of a chain no --api node serves take no part.

Prints the achieved transfers per second and the latency percentiles, to a
committed block and to its recording by the chain's recorder (the API's
"confirmed"), over all chains and per chain. --cross sets the share of
transfers to an account of another chain; by default each account pays the
next one of FILE, whatever its chain.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if apis == "" {
				return errors.New("--api is required")
			}
			if accountsFile == "" {
				return errors.New("--accounts is required")
			}
			for _, u := range strings.Split(apis, ",") {
				if u = strings.TrimSpace(u); u != "" {
					cfg.APIs = append(cfg.APIs, u)
				}
			}
			accounts, err := txcmd.LoadAccounts(accountsFile)
			if err != nil {
				return err
			}
			cfg.Accounts = accounts
			if err := cfg.Validate(); err != nil {
				return err
			}
			errOut := cmd.ErrOrStderr()
			cfg.Progress = func(p Progress) {
				fmt.Fprintf(errOut, "\r%5.0fs  submitted %d  rejected %d  confirmed %d ",
					p.Elapsed.Seconds(), p.Submitted, p.Rejected, p.Confirmed)
			}
			rep, err := Run(cmd.Context(), cfg)
			fmt.Fprintln(errOut)
			if err != nil {
				return err
			}
			if asJSON {
				out, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
				return nil
			}
			PrintReport(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&apis, "api", "", "comma-separated node API URLs")
	f.StringVar(&accountsFile, "accounts", "", "accounts file (thinkey testnet's accounts.json)")
	f.Float64Var(&cfg.Rate, "rate", 1000, "target transfers per second")
	f.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to submit")
	f.IntVar(&cfg.Batch, "batch", 200, "transfers per HTTP request")
	f.IntVar(&cfg.Workers, "workers", 8, "concurrent submitters")
	f.DurationVar(&cfg.Drain, "drain", 60*time.Second, "how long to wait for confirmations after the run")
	f.Uint64Var(&cfg.Amount, "amount", 1, "amount of each transfer")
	f.Float64Var(&cfg.Cross, "cross", -1, "share (0 to 1) of transfers to an account of another chain; negative: each account pays the next one of the accounts file")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// PrintReport writes a report as a table.
func PrintReport(w io.Writer, r Report) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "target rate      %.0f transfers/s for %v\n", r.TargetRate, r.Duration)
	fmt.Fprintf(w, "submitted        %d (%.0f/s), accepted %d, rejected %d, failed requests %d\n",
		r.Submitted, r.SubmitRate, r.Accepted, r.Rejected, r.Failed)
	fmt.Fprintf(w, "confirmed        %d in %d blocks (committed)\n", r.Confirmed, r.Blocks)
	fmt.Fprintf(w, "throughput       %.0f transfers/s\n", r.TPS)
	fmt.Fprintf(w, "latency          p50 %s  p90 %s  p99 %s  max %s\n", ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max))
	fmt.Fprintf(w, "recorded         %d, latency p50 %s  p90 %s  p99 %s  max %s\n",
		r.Recorded, ms(r.RecordedP50), ms(r.RecordedP90), ms(r.RecordedP99), ms(r.RecordedMax))
	if len(r.Chains) > 1 || r.Cross > 0 {
		share := 0.0
		if r.Submitted > 0 {
			share = 100 * float64(r.Cross) / float64(r.Submitted)
		}
		fmt.Fprintf(w, "cross-chain      %d of the submitted (%.0f%%)\n", r.Cross, share)
	}
	if len(r.Chains) > 1 {
		for _, c := range r.Chains {
			fmt.Fprintf(w, "chain %-10d senders %d  submitted %d  confirmed %d  %.0f transfers/s  p50 %s  p99 %s  recorded p50 %s  p99 %s\n",
				c.Chain, c.Senders, c.Submitted, c.Confirmed, c.TPS, ms(c.P50), ms(c.P99), ms(c.RecordedP50), ms(c.RecordedP99))
		}
	}
	if r.Unserved > 0 {
		fmt.Fprintf(w, "left out         %d accounts on chains no --api node serves\n", r.Unserved)
	}
	if len(r.RejectReasons) > 0 {
		var reasons []string
		for k, v := range r.RejectReasons {
			reasons = append(reasons, fmt.Sprintf("%s=%d", k, v))
		}
		sort.Strings(reasons)
		fmt.Fprintf(w, "refusals         %s\n", strings.Join(reasons, " "))
	}
}
