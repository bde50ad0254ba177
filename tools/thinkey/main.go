// Command thinkey is the one binary of the project: the validator node and the
// tools around it. Each subcommand tree lives in the package that owns it;
// this package only assembles them.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/thinkey/thinkey/accel"
	"github.com/thinkey/thinkey/bench"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/tools/keycmd"
	"github.com/thinkey/thinkey/tools/lightcmd"
	"github.com/thinkey/thinkey/tools/loadgen"
	"github.com/thinkey/thinkey/tools/planner"
	"github.com/thinkey/thinkey/tools/simulate"
	"github.com/thinkey/thinkey/tools/testnet"
	"github.com/thinkey/thinkey/tools/txcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := rootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "thinkey:", err)
		os.Exit(1)
	}
}

func rootCommand() *cobra.Command {
	var hashBackend string
	root := &cobra.Command{
		Use:           "thinkey",
		Short:         "Thinkey validator node and tools",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Every subcommand hashes; pick the SHA-256 backend once, first.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			b, timings, err := accel.SelectHashBackend(accel.SelectOptions{Backend: hashBackend})
			if err != nil {
				return fmt.Errorf("--hash-backend: %w", err)
			}
			slog.Debug("sha-256 backend selected", "backend", b.Name, "measured", len(timings) > 0)
			return nil
		},
	}
	root.PersistentFlags().StringVar(&hashBackend, "hash-backend", accel.Auto,
		"SHA-256 backend: "+strings.Join(accel.BackendChoices(), ", ")+" (auto measures each at start)")
	root.AddCommand(
		keycmd.Command(),
		driver.Command(),
		txcmd.Command(),
		lightcmd.Command(),
		testnet.Command(),
		loadgen.Command(),
		bench.Command(),
		planner.Command(),
		simulate.Command(),
		versionCommand(),
	)
	return root
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			version := "devel"
			if bi, ok := debug.ReadBuildInfo(); ok {
				if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
					version = bi.Main.Version
				}
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						version += " " + s.Value
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "thinkey %s (%s)\n", version, bi.GoVersion)
				return
			}
			fmt.Fprintln(cmd.OutOrStdout(), "thinkey", version)
		},
	}
}
