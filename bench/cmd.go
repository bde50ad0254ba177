package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// Command returns the `thinkey bench` command tree.
func Command() *cobra.Command {
	var (
		cfg  Config
		out  string
		list bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure each stage of the node on this machine and write a hardware-profile report",
		Long: `bench runs the per-stage benchmark harnesses (BLS signatures for committees
of 4 to 400, Ed25519 single and batch, SHA-256 on each backend, Merkle trees, the
canonical codec, Pebble) one after the other, prints a table and writes a JSON
report with the hardware profile of this machine. The capacity planner reads
that JSON back.`,
		Example: `  thinkey bench --out bench.json
  thinkey bench --filter '^bls/' --benchtime 2s
  thinkey bench --quick`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if list {
				cases, err := Select(cfg)
				if err != nil {
					return err
				}
				for _, c := range cases {
					fmt.Fprintln(cmd.OutOrStdout(), c.FullName())
				}
				return nil
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if cfg.Dir == "" {
				dir, err := os.MkdirTemp("", "thinkey-bench-")
				if err != nil {
					return fmt.Errorf("scratch directory: %w", err)
				}
				defer os.RemoveAll(dir)
				cfg.Dir = dir
			}
			var progress Progress
			errw := cmd.ErrOrStderr()
			if isTerminal(errw) {
				progress = func(done, total int, c Case) {
					fmt.Fprintf(errw, "\r\033[K[%d/%d] %s", done+1, total, c.FullName())
				}
			}
			rep, err := Run(cmd.Context(), cfg, progress)
			if progress != nil {
				fmt.Fprint(errw, "\r\033[K")
			}
			if err != nil && len(rep.Results) == 0 {
				return err
			}
			if werr := WriteTable(cmd.OutOrStdout(), rep); werr != nil {
				return werr
			}
			if out != "" {
				data, jerr := json.MarshalIndent(rep, "", "  ")
				if jerr != nil {
					return fmt.Errorf("encode report: %w", jerr)
				}
				if werr := os.WriteFile(out, append(data, '\n'), 0o644); werr != nil {
					return fmt.Errorf("write report: %w", werr)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "\nreport written to %s\n", out)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Filter, "filter", "", "regular expression selecting cases by stage/name")
	f.DurationVar(&cfg.BenchTime, "benchtime", time.Second, "target time per case")
	f.BoolVar(&cfg.Quick, "quick", false, "shrink the sweeps for a short smoke run")
	f.StringVar(&cfg.Dir, "dir", "", "scratch directory for disk stages (default: a temporary directory)")
	f.StringVar(&out, "out", "", "write the JSON report to this file")
	f.BoolVar(&list, "list", false, "list the cases and exit")
	return cmd
}

// isTerminal reports whether w is a character device, where a progress line
// that rewrites itself makes sense; logs and pipes get no progress.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
