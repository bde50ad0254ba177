package testnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/thinkey/thinkey/tools/txcmd"
)

// Defaults of `testnet up`.
const (
	DefaultNodes    = 4
	DefaultAccounts = 1000
	DefaultBalance  = 1_000_000_000
	DefaultBasePort = 7600
	// readyTimeout bounds the wait for every started node's API.
	readyTimeout = 30 * time.Second
	stopGrace    = 15 * time.Second
)

// Command returns `thinkey testnet`.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Run a local multi-process testnet on 127.0.0.1",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(upCommand(), downCommand())
	return cmd
}

func upCommand() *cobra.Command {
	var dir, binary string
	var o Options
	cmd := &cobra.Command{
		Use:   "up --dir D [--nodes N] [--accounts K] [--base-port P]",
		Short: "Create the testnet if needed and start its stopped nodes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			m, err := LoadManifest(dir)
			switch {
			case err == nil:
				if cmd.Flags().Changed("nodes") && o.Nodes != len(m.Nodes) {
					return fmt.Errorf("%s holds a testnet of %d nodes, not %d (remove it to start over)", dir, len(m.Nodes), o.Nodes)
				}
			case errors.Is(err, os.ErrNotExist):
				if m, err = Generate(dir, o); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created a testnet of %d nodes and %d funded accounts in %s\n", o.Nodes, o.Accounts, dir)
			default:
				return err
			}
			if binary == "" {
				if binary, err = os.Executable(); err != nil {
					return fmt.Errorf("find the thinkey binary: %w (pass --binary)", err)
				}
			}
			return up(cmd.Context(), cmd.OutOrStdout(), dir, m, binary)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "testnet directory")
	f.IntVar(&o.Nodes, "nodes", DefaultNodes, "number of validator nodes (a new testnet only)")
	f.IntVar(&o.Accounts, "accounts", DefaultAccounts, "number of funded accounts (a new testnet only)")
	f.Uint64Var(&o.Balance, "balance", DefaultBalance, "balance of each funded account (a new testnet only)")
	f.IntVar(&o.BasePort, "base-port", DefaultBasePort, "QUIC port of node 0; node i uses base+i, its API base+80+i")
	f.StringVar(&o.Profile, "profile", "default", "configuration profile of the nodes: default or vps-1c2g")
	f.StringVar(&binary, "binary", "", "thinkey binary to run the nodes with (default: this one)")
	return cmd
}

func up(ctx context.Context, out io.Writer, dir string, m *Manifest, binary string) error {
	for _, n := range m.Nodes {
		if pid := Running(dir, n); pid != 0 {
			fmt.Fprintf(out, "node %d already running (pid %d)\n", n.Index, pid)
			continue
		}
		pid, err := Start(dir, n, binary)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "node %d started (pid %d)\n", n.Index, pid)
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for _, n := range m.Nodes {
		c, err := txcmd.NewClient(n.APIURL())
		if err != nil {
			return err
		}
		for c.Healthy(ctx) != nil {
			if Running(dir, n) == 0 {
				return fmt.Errorf("node %d exited; see %s", n.Index, filepath.Join(dir, n.Dir, LogFile))
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("node %d: API %s not healthy after %v; see %s", n.Index, n.APIURL(), readyTimeout, filepath.Join(dir, n.Dir, LogFile))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	printUsage(out, dir, m)
	return nil
}

func printUsage(out io.Writer, dir string, m *Manifest) {
	fmt.Fprintf(out, "\ntestnet of %d nodes running in %s\n", len(m.Nodes), dir)
	apis := ""
	for i, n := range m.Nodes {
		fmt.Fprintf(out, "  node %d  api %s  quic %s  log %s\n", n.Index, n.APIURL(), n.P2P, filepath.Join(dir, n.Dir, LogFile))
		if i > 0 {
			apis += ","
		}
		apis += n.APIURL()
	}
	accounts, err := txcmd.LoadAccounts(filepath.Join(dir, AccountsFile))
	if err == nil && len(accounts) >= 2 {
		fmt.Fprintf(out, "\nsend a transfer of 10 from account 0 to account 1:\n")
		fmt.Fprintf(out, "  thinkey tx send --from-key %s --to %s --amount 10 --api %s --wait 10s\n",
			filepath.Join(dir, "accounts", "0.key"), accounts[1].Address, m.Nodes[0].APIURL())
		fmt.Fprintf(out, "check the recipient on another node:\n")
		fmt.Fprintf(out, "  thinkey tx account %s --api %s\n", accounts[1].Address, m.Nodes[len(m.Nodes)-1].APIURL())
		fmt.Fprintf(out, "load test:\n  thinkey loadgen --api %s --accounts %s --rate 1000 --duration 30s\n",
			apis, filepath.Join(dir, AccountsFile))
	}
	fmt.Fprintf(out, "stop it:\n  thinkey testnet down --dir %s\n", dir)
}

func downCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "down --dir D",
		Short: "Stop every node of the testnet (its data stays)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			m, err := LoadManifest(dir)
			if err != nil {
				return err
			}
			n, err := Stop(cmd.Context(), dir, m, stopGrace)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stopped %d node(s); the data stays in %s (thinkey testnet up restarts it)\n", n, dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "testnet directory")
	return cmd
}
