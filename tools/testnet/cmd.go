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

	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/tools/txcmd"
)

// Defaults of `testnet up`.
const (
	DefaultChains   = 1
	DefaultMembers  = 4
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
	cmd.AddCommand(upCommand(), createCommand(), downCommand())
	return cmd
}

// layoutFlags adds the flags that shape a new testnet.
func layoutFlags(cmd *cobra.Command, o *Options) {
	f := cmd.Flags()
	f.IntVar(&o.Chains, "chains", DefaultChains, "number of transaction chains (a new testnet only)")
	f.IntVar(&o.Members, "members", DefaultMembers, "committee size of each transaction chain; the testnet runs chains*members nodes (a new testnet only)")
	f.Uint8Var(&o.SubChains, "sub-chains", 0, "split the last chain into 2^B sub-chains under a coordinator (a new testnet only)")
	f.IntVar(&o.Accounts, "accounts", DefaultAccounts, "number of funded accounts (a new testnet only)")
	f.Uint64Var(&o.Balance, "balance", DefaultBalance, "balance of each funded account (a new testnet only)")
	f.IntVar(&o.BasePort, "base-port", DefaultBasePort, "QUIC port of node 0; node i uses base+i, its API base+80+i")
	f.StringVar(&o.Profile, "profile", "default", "configuration profile of the nodes: default or vps-1c2g")
}

func createCommand() *cobra.Command {
	var dir string
	var o Options
	cmd := &cobra.Command{
		Use:   "create --dir D [--chains N] [--sub-chains B] [--members M] [--accounts K] [--base-port P]",
		Short: "Create a testnet's keys, genesis and configurations without starting it",
		Long: `Create a testnet in D as up does, without starting any node: for running the
nodes some other way (deploy/compose.yaml runs them in containers).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			m, err := Generate(dir, o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created a testnet of %s (%d nodes) and %d funded accounts in %s\n", m.Describe(), len(m.Nodes), o.Accounts, dir)
			for _, n := range m.Nodes {
				fmt.Fprintf(cmd.OutOrStdout(), "  node %d  chain %d  config %s\n", n.Index, n.Chain, filepath.Join(dir, n.Dir, ConfigFile))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "testnet directory")
	layoutFlags(cmd, &o)
	return cmd
}

func upCommand() *cobra.Command {
	var dir, binary string
	var o Options
	cmd := &cobra.Command{
		Use:   "up --dir D [--chains N] [--sub-chains B] [--members M] [--accounts K] [--base-port P]",
		Short: "Create the testnet if needed and start its stopped nodes",
		Long: `Create a local testnet in D if it does not exist yet, then start every node of
it that is not running, each as a separate thinkey node process on 127.0.0.1.

The network has a root chain and N transaction chains of M members each
(N*M processes): every node is in the root committee, and node i also runs
transaction chain 1 + i/M. With --sub-chains B the last chain becomes a
coordinator of 2^B transaction sub-chains of M members each, numbered after
it, whose nodes also run the coordinator. Accounts belong to the transaction
chain their address prefix names; a transfer to an account of another chain
travels as a relay, proved against the chain that records its source (the
root, or between sub-chains their coordinator).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			m, err := LoadManifest(dir)
			switch {
			case err == nil:
				changed := cmd.Flags().Changed
				if (changed("chains") && o.Chains != m.Chains) || (changed("members") && o.Members != m.Members) ||
					(changed("sub-chains") && o.SubChains != m.SubChains) {
					return fmt.Errorf("%s holds a testnet of %s: leave out --chains, --sub-chains and --members to restart it, or remove it to start over",
						dir, m.Describe())
				}
			case errors.Is(err, os.ErrNotExist):
				if m, err = Generate(dir, o); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created a testnet of %d nodes (%d members per transaction chain) and %d funded accounts in %s\n",
					len(m.Nodes), o.Members, o.Accounts, dir)
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
	layoutFlags(cmd, &o)
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
	fmt.Fprintf(out, "\ntestnet of %d nodes running in %s: the root chain on every node, transaction chains of %d\n",
		len(m.Nodes), dir, m.Members)
	apis := ""
	for i, n := range m.Nodes {
		fmt.Fprintf(out, "  node %d  chain %d  api %s  quic %s  log %s\n", n.Index, n.Chain, n.APIURL(), n.P2P, filepath.Join(dir, n.Dir, LogFile))
		if i > 0 {
			apis += ","
		}
		apis += n.APIURL()
	}
	accounts, err := txcmd.LoadAccounts(filepath.Join(dir, AccountsFile))
	if err != nil || len(accounts) < 2 {
		fmt.Fprintf(out, "stop it:\n  thinkey testnet down --dir %s\n", dir)
		return
	}
	owner := func(i int) uint32 { return 1 }
	if gen, err := driver.LoadGenesisFile(filepath.Join(dir, GenesisFile)); err == nil {
		if topo, err := gen.Topology(); err == nil {
			owner = func(i int) uint32 { return uint32(topo.OwnerOf(accounts[i].Address)) }
		}
	}
	// A transfer from account 0 to the first account of another chain, or
	// to account 1 with a single chain.
	to := 1
	for i := range accounts {
		if owner(i) != owner(0) {
			to = i
			break
		}
	}
	from, dest := m.ChainNodes(owner(0)), m.ChainNodes(owner(to))
	if len(from) == 0 || len(dest) == 0 {
		return
	}
	fmt.Fprintf(out, "\naccounts are on the chain their address prefix names (accounts.json; thinkey tx account shows the chain)\n")
	if owner(to) != owner(0) {
		fmt.Fprintf(out, "send 10 from account 0 (chain %d) to account %d (chain %d), through a node of the sender's chain;\n", owner(0), to, owner(to))
		fmt.Fprintf(out, "it is irrevocable once confirmed on chain %d, then delivered to chain %d as a relay:\n", owner(0), owner(to))
		fmt.Fprintf(out, "  thinkey tx send --from-key %s --to %s --amount 10 --api %s --wait 20s --wait-delivery --to-api %s\n",
			filepath.Join(dir, "accounts", "0.key"), accounts[to].Address, from[0].APIURL(), dest[0].APIURL())
	} else {
		fmt.Fprintf(out, "send a transfer of 10 from account 0 to account %d:\n", to)
		fmt.Fprintf(out, "  thinkey tx send --from-key %s --to %s --amount 10 --api %s --wait 20s\n",
			filepath.Join(dir, "accounts", "0.key"), accounts[to].Address, from[0].APIURL())
	}
	fmt.Fprintf(out, "check the recipient on another node of its chain:\n")
	fmt.Fprintf(out, "  thinkey tx account %s --api %s\n", accounts[to].Address, dest[len(dest)-1].APIURL())
	if m.Chains > 1 || m.SubChains > 0 {
		// loadgen sends each account's transfers to the nodes of its own
		// chain and follows every chain it is given.
		fmt.Fprintf(out, "load test of every chain, half of the transfers cross-chain:\n")
		fmt.Fprintf(out, "  thinkey loadgen --api %s --accounts %s --rate 1000 --duration 30s --cross 0.5\n", apis, filepath.Join(dir, AccountsFile))
	} else {
		fmt.Fprintf(out, "load test:\n")
		fmt.Fprintf(out, "  thinkey loadgen --api %s --accounts %s --rate 1000 --duration 30s\n", apis, filepath.Join(dir, AccountsFile))
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
