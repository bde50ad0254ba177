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
	m, err := testnet.Generate(dir, testnet.Options{Chains: 2, Members: 2, Accounts: 5, Balance: 100, BasePort: 7600, Profile: "vps-1c2g"})
	if err != nil {
		t.Fatal(err)
	}
	gen, err := driver.LoadGenesisFile(filepath.Join(dir, testnet.GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(gen.Nodes) != 4 || len(gen.Accounts) != 5 || len(gen.Chains) != 3 || m.Chains != 2 || m.Members != 2 {
		t.Fatalf("genesis has %d nodes, %d chains and %d accounts; manifest %d chains of %d", len(gen.Nodes), len(gen.Chains), len(gen.Accounts), m.Chains, m.Members)
	}
	if got := m.ChainNodes(2); len(got) != 2 || got[0].Index != 2 {
		t.Fatalf("nodes of chain 2: %+v", got)
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
		if cfg.Network.Listen != n.P2P || cfg.API.Listen != n.API || gen.Nodes[i].Address != n.P2P {
			t.Fatalf("node %d: listen %s api %s, manifest %+v", i, cfg.Network.Listen, cfg.API.Listen, n)
		}
		cfg.Node.DataDir = filepath.Join(dir, n.Dir)
		k, err := driver.LoadKeyFile(cfg.Path(cfg.Node.KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if idx, ok := gen.NodeOf(k.BLS.PublicKey()); !ok || idx != i || gen.Nodes[i].PeerID != k.Identity.PeerID() {
			t.Fatalf("node %d key is node %d (%v)", i, idx, ok)
		}
		if chains := gen.ChainsOf(i); len(chains) != 2 || chains[0] != 0 || uint32(chains[1]) != n.Chain {
			t.Fatalf("node %d runs chains %v, manifest says %d", i, chains, n.Chain)
		}
		if _, err := driver.LoadGenesisFile(cfg.Path(cfg.Node.GenesisFile)); err != nil {
			t.Fatalf("node %d finds no genesis: %v", i, err)
		}
		if testnet.Running(dir, n) != 0 {
			t.Fatalf("node %d reported running before any start", i)
		}
	}
	if _, err := testnet.Generate(dir, testnet.Options{Chains: 1, Members: 4, BasePort: 7600}); !errors.Is(err, testnet.ErrExists) {
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
	m, err := testnet.Generate(dir, testnet.Options{Chains: 1, Members: 1, BasePort: 7600})
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
		{testnet.Options{Chains: 1, Members: 0, BasePort: 7600}, "--members"},
		{testnet.Options{Chains: 1, Members: 65, BasePort: 7600}, "--members"},
		{testnet.Options{Chains: 4, Members: 17, BasePort: 7600}, "--members"},
		{testnet.Options{Chains: 0, Members: 4, BasePort: 7600}, "--chains"},
		{testnet.Options{Chains: 17, Members: 1, BasePort: 7600}, "--chains"},
		{testnet.Options{Chains: 1, Members: 4, Accounts: -1, BasePort: 7600}, "--accounts"},
		{testnet.Options{Chains: 1, Members: 4, BasePort: 80}, "--base-port"},
		{testnet.Options{Chains: 1, Members: 4, BasePort: 65500}, "--base-port"},
		{testnet.Options{Chains: 1, Members: 4, BasePort: 7600, Profile: "tiny"}, "unknown profile"},
	} {
		if _, err := testnet.Generate(t.TempDir(), c.o); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Generate(%+v) = %v, want an error mentioning %q", c.o, err, c.says)
		}
	}
}

func TestCommandRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := testnet.Generate(dir, testnet.Options{Chains: 1, Members: 2, BasePort: 7600}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"up"}, "--dir is required"},
		{[]string{"down"}, "--dir is required"},
		{[]string{"down", "--dir", t.TempDir()}, "no such file"},
		{[]string{"up", "--dir", dir, "--members", "3"}, "holds a testnet of 1 chain(s) of 2 members"},
		{[]string{"up", "--dir", dir, "--chains", "2"}, "holds a testnet of 1 chain(s) of 2 members"},
		{[]string{"up", "--dir", t.TempDir(), "--members", "0"}, "--members"},
		{[]string{"up", "--dir", t.TempDir(), "--chains", "0"}, "--chains"},
		{[]string{"create"}, "--dir is required"},
		{[]string{"create", "--dir", dir}, "already exists"},
		{[]string{"create", "--dir", t.TempDir(), "--sub-chains", "5"}, "--sub-chains"},
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

// --sub-chains splits the last chain under a coordinator whose committee
// is its sub-chains' members.
func TestGenerateSubChains(t *testing.T) {
	dir := t.TempDir()
	m, err := testnet.Generate(dir, testnet.Options{Chains: 2, SubChains: 1, Members: 1, Accounts: 2, Balance: 1, BasePort: 7600})
	if err != nil {
		t.Fatal(err)
	}
	gen, err := driver.LoadGenesisFile(filepath.Join(dir, testnet.GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Nodes) != 3 || len(gen.Chains) != 5 || m.SubChains != 1 {
		t.Fatalf("%d nodes, %d chains, manifest %+v", len(m.Nodes), len(gen.Chains), m)
	}
	for i, want := range []uint32{1, 3, 4} {
		if m.Nodes[i].Chain != want {
			t.Fatalf("node %d runs chain %d, want %d", i, m.Nodes[i].Chain, want)
		}
	}
	if coord, _ := gen.Chain(2); len(coord.Committee) != 2 || coord.Committee[0] != 1 {
		t.Fatalf("coordinator committee %v, want [1 2]", coord.Committee)
	}
	if _, err := testnet.Generate(t.TempDir(), testnet.Options{Chains: 1, SubChains: 4, Members: 1, BasePort: 7600}); err == nil || !strings.Contains(err.Error(), "--sub-chains") {
		t.Fatalf("--sub-chains 4: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, testnet.ManifestFile), []byte(`{"nodes":[{"index":0}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := testnet.LoadManifest(dir); err == nil || !strings.Contains(err.Error(), "older version") {
		t.Fatalf("a manifest of the one-chain version: %v", err)
	}
}

// create writes a testnet and starts nothing.
func TestCreateStartsNothing(t *testing.T) {
	dir := t.TempDir()
	cmd := testnet.Command()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"create", "--dir", dir, "--chains", "2", "--members", "1", "--accounts", "3"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("create: %v\n%s", err, out.String())
	}
	m, err := testnet.LoadManifest(dir)
	if err != nil || len(m.Nodes) != 2 || !strings.Contains(out.String(), "node 1  chain 2") {
		t.Fatalf("create wrote %+v, %v:\n%s", m, err, out.String())
	}
	for _, n := range m.Nodes {
		if testnet.Running(dir, n) != 0 {
			t.Fatalf("node %d running after create", n.Index)
		}
	}
}
