package testnet_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/tools/testnet"
	"github.com/thinkey/thinkey/tools/txcmd"
)

func TestGenerateWritesAConsistentNetwork(t *testing.T) {
	dir := t.TempDir()
	m, err := testnet.Generate(dir, testnet.Options{Nodes: 4, Accounts: 5, Balance: 100, BasePort: 7600, Profile: "vps-1c2g"})
	if err != nil {
		t.Fatal(err)
	}
	gen, err := driver.LoadGenesisFile(filepath.Join(dir, testnet.GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(gen.Committee) != 4 || len(gen.Accounts) != 5 {
		t.Fatalf("genesis has %d members and %d accounts", len(gen.Committee), len(gen.Accounts))
	}
	accounts, err := txcmd.LoadAccounts(filepath.Join(dir, testnet.AccountsFile))
	if err != nil {
		t.Fatal(err)
	}
	funded := map[[20]byte]uint64{}
	for _, a := range gen.Accounts {
		funded[a.Address] = a.Balance
	}
	for i, a := range accounts {
		if funded[a.Address] != 100 {
			t.Fatalf("account %d (%s) not funded in the genesis", i, a.Address)
		}
		one, err := txcmd.LoadAccount(filepath.Join(dir, "accounts", strconv.Itoa(i)+".key"))
		if err != nil || one.Address != a.Address {
			t.Fatalf("account key %d: %v", i, err)
		}
	}
	for i, n := range m.Nodes {
		cfgPath, err := testnet.ConfigPath(dir, n)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(cfgPath)
		if err != nil {
			t.Fatalf("node %d config: %v", i, err)
		}
		if cfg.Accel.PinConsensusCore != -1 || cfg.Accel.PinExecutorCore != -1 || cfg.Consensus.ProposalTimeout.Duration < 2*time.Second {
			t.Fatalf("node %d: pinning %d/%d, proposal timeout %v: not set for a shared machine", i,
				cfg.Accel.PinConsensusCore, cfg.Accel.PinExecutorCore, cfg.Consensus.ProposalTimeout.Duration)
		}
		if cfg.Network.Listen != n.P2P || cfg.API.Listen != n.API || gen.Committee[i].Address != n.P2P {
			t.Fatalf("node %d: listen %s api %s, manifest %+v", i, cfg.Network.Listen, cfg.API.Listen, n)
		}
		cfg.Node.DataDir = filepath.Join(dir, n.Dir)
		k, err := driver.LoadKeyFile(cfg.Path(cfg.Node.KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if idx, ok := gen.MemberOf(k.BLS.PublicKey()); !ok || int(idx) != i || gen.Committee[i].PeerID != k.Identity.PeerID() {
			t.Fatalf("node %d key is member %d (%v)", i, idx, ok)
		}
		if _, err := driver.LoadGenesisFile(cfg.Path(cfg.Node.GenesisFile)); err != nil {
			t.Fatalf("node %d finds no genesis: %v", i, err)
		}
		if testnet.Running(dir, n) != 0 {
			t.Fatalf("node %d reported running before any start", i)
		}
	}
	if _, err := testnet.Generate(dir, testnet.Options{Nodes: 4, BasePort: 7600}); !errors.Is(err, testnet.ErrExists) {
		t.Fatalf("second Generate = %v, want ErrExists", err)
	}
	loaded, err := testnet.LoadManifest(dir)
	if err != nil || len(loaded.Nodes) != 4 {
		t.Fatalf("LoadManifest: %v", err)
	}
}

// A pid file naming a live process that is not the node, or no process, is
// not mistaken for a running node.
func TestRunningIgnoresStalePIDFiles(t *testing.T) {
	dir := t.TempDir()
	m, err := testnet.Generate(dir, testnet.Options{Nodes: 1, BasePort: 7600})
	if err != nil {
		t.Fatal(err)
	}
	n := m.Nodes[0]
	for _, pid := range []int{os.Getpid(), 1 << 22, -5} {
		if err := os.WriteFile(filepath.Join(dir, n.Dir, testnet.PIDFile), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := testnet.Running(dir, n); got != 0 {
			t.Errorf("pid file %d: Running = %d, want 0", pid, got)
		}
	}
}

func TestGenerateRejectsBadOptions(t *testing.T) {
	for _, c := range []struct {
		o    testnet.Options
		says string
	}{
		{testnet.Options{Nodes: 0, BasePort: 7600}, "--nodes"},
		{testnet.Options{Nodes: 65, BasePort: 7600}, "--nodes"},
		{testnet.Options{Nodes: 4, Accounts: -1, BasePort: 7600}, "--accounts"},
		{testnet.Options{Nodes: 4, BasePort: 80}, "--base-port"},
		{testnet.Options{Nodes: 4, BasePort: 65500}, "--base-port"},
		{testnet.Options{Nodes: 4, BasePort: 7600, Profile: "tiny"}, "unknown profile"},
	} {
		if _, err := testnet.Generate(t.TempDir(), c.o); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Generate(%+v) = %v, want an error mentioning %q", c.o, err, c.says)
		}
	}
}

func TestCommandRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := testnet.Generate(dir, testnet.Options{Nodes: 2, BasePort: 7600}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"up"}, "--dir is required"},
		{[]string{"down"}, "--dir is required"},
		{[]string{"down", "--dir", t.TempDir()}, "no such file"},
		{[]string{"up", "--dir", dir, "--nodes", "3"}, "holds a testnet of 2 nodes"},
		{[]string{"up", "--dir", t.TempDir(), "--nodes", "0"}, "--nodes"},
	} {
		cmd := testnet.Command()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(c.args)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("testnet %v = %v, want an error mentioning %q", c.args, err, c.says)
		}
	}
}
