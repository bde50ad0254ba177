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
		Use:   "loadgen --api URL[,URL...] --accounts FILE --rate R --duration D",
		Short: "Send signed transfers at a target rate and measure throughput and latency",
		Long: `Send transfers between the funded accounts of FILE (thinkey testnet writes
accounts.json) at --rate per second for --duration, in batches through the
APIs in turn, follow the chain on the first API, and print the achieved
transfers per second and the confirmation latency percentiles.`,
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
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// PrintReport writes a report as a table.
func PrintReport(w io.Writer, r Report) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "target rate      %.0f transfers/s for %v\n", r.TargetRate, r.Duration)
	fmt.Fprintf(w, "submitted        %d (%.0f/s), accepted %d, rejected %d, failed requests %d\n",
		r.Submitted, r.SubmitRate, r.Accepted, r.Rejected, r.Failed)
	fmt.Fprintf(w, "confirmed        %d in %d blocks\n", r.Confirmed, r.Blocks)
	fmt.Fprintf(w, "throughput       %.0f transfers/s\n", r.TPS)
	fmt.Fprintf(w, "latency          p50 %s  p90 %s  p99 %s  max %s\n", ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max))
	if len(r.RejectReasons) > 0 {
		var reasons []string
		for k, v := range r.RejectReasons {
			reasons = append(reasons, fmt.Sprintf("%s=%d", k, v))
		}
		sort.Strings(reasons)
		fmt.Fprintf(w, "refusals         %s\n", strings.Join(reasons, " "))
	}
}
