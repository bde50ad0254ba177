package testnet

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/tools/txcmd"
)

// File names inside a testnet directory.
const (
	ManifestFile = "testnet.json"
	GenesisFile  = "genesis.json"
	AccountsFile = "accounts.json"
	ConfigFile   = "config.toml"
	LogFile      = "node.log"
	PIDFile      = "node.pid"
)

// apiPortOffset separates a node's API port from its QUIC port.
const apiPortOffset = 80

// Consensus timeouts of a local testnet, whose nodes share one machine.
const (
	localProposalTimeout = 2 * time.Second
	localRoundTimeout    = 4 * time.Second
)

// MaxNodes bounds the processes of one testnet.
const MaxNodes = 64

// Options shape a new testnet: Chains transaction chains of Members nodes
// each, every node in the root committee too, so Chains*Members processes.
type Options struct {
	// Chains is the number of transaction chains, 1 to 16.
	Chains int
	// Members is the committee size of each transaction chain; the number
	// of transaction chains times Members is at most MaxNodes.
	Members int
	// SubChains, when set (1 to 3), turns the last transaction chain into
	// a coordinator of 2^SubChains transaction sub-chains (paper Fig. 4),
	// numbered after it; the coordinator's committee is their members.
	SubChains uint8
	// Accounts is the number of funded accounts, each with Balance.
	Accounts int
	Balance  uint64
	// BasePort is node 0's QUIC port; node i uses BasePort+i for QUIC and
	// BasePort+80+i for its API.
	BasePort int
	// Profile is the configuration profile of every node.
	Profile string
	// Configure, when set, adjusts each node's configuration before it is
	// written (tests shorten timeouts with it).
	Configure func(i int, c *config.Config)
}

// Manifest describes a generated testnet.
type Manifest struct {
	// Chains is the number of top-level chains, SubChains how many bits
	// split the last one into sub-chains (0: none); Members is the
	// committee size of each transaction chain.
	Chains    int    `json:"chains"`
	SubChains uint8  `json:"sub_chains,omitempty"`
	Members   int    `json:"members"`
	Nodes     []Node `json:"nodes"`
}

// Node is one node of the manifest. Paths are relative to the testnet
// directory.
type Node struct {
	Index int    `json:"index"`
	Dir   string `json:"dir"`
	P2P   string `json:"p2p"`
	API   string `json:"api"`
	// Chain is the transaction chain the node runs (besides the root
	// chain, which every node runs).
	Chain uint32 `json:"chain"`
}

// Describe says what the testnet runs, for people.
func (m *Manifest) Describe() string {
	s := fmt.Sprintf("%d chain(s)", m.Chains)
	if m.SubChains > 0 {
		s += fmt.Sprintf(", the last split into %d sub-chains,", 1<<m.SubChains)
	}
	return s + fmt.Sprintf(" of %d members", m.Members)
}

// ChainNodes returns the nodes that run transaction chain chain.
func (m *Manifest) ChainNodes(chain uint32) []Node {
	var out []Node
	for _, n := range m.Nodes {
		if n.Chain == chain {
			out = append(out, n)
		}
	}
	return out
}

// APIURL returns the node's API base URL.
func (n Node) APIURL() string { return "http://" + n.API }

// ErrExists: the directory already holds a testnet.
var ErrExists = errors.New("testnet already exists")

// Generate creates a testnet in dir: keys, genesis, accounts, configs.
func Generate(dir string, o Options) (*Manifest, error) {
	txChains := o.Chains - 1 + 1<<o.SubChains
	nodes := txChains * o.Members
	switch {
	case o.Chains < 1 || o.Chains > 16:
		return nil, fmt.Errorf("--chains %d: want 1 to 16", o.Chains)
	case o.SubChains > 3:
		return nil, fmt.Errorf("--sub-chains %d: want 0 to 3 bits", o.SubChains)
	case o.Members < 1 || nodes > MaxNodes:
		return nil, fmt.Errorf("--members %d: want 1 to %d members per transaction chain (at most %d nodes in all)", o.Members, MaxNodes/txChains, MaxNodes)
	case o.Accounts < 0 || o.Accounts > 100_000:
		return nil, fmt.Errorf("--accounts %d: want 0 to 100000", o.Accounts)
	case o.BasePort < 1024 || o.BasePort+apiPortOffset+nodes > 65535:
		return nil, fmt.Errorf("--base-port %d: want 1024 to %d", o.BasePort, 65535-apiPortOffset-nodes)
	}
	if o.Profile == "" {
		o.Profile = "default"
	}
	if _, err := config.Defaults(o.Profile); err != nil {
		return nil, fmt.Errorf("--profile: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return nil, fmt.Errorf("%s: %w", dir, ErrExists)
	}
	if err := os.MkdirAll(filepath.Join(dir, "accounts"), 0o700); err != nil {
		return nil, err
	}
	topo, err := chains.Uniform(o.Chains)
	if err != nil {
		return nil, fmt.Errorf("--chains: %w", err)
	}
	if o.SubChains > 0 {
		last := types.ChainID(o.Chains)
		if topo, err = topo.WithSubChains(last, o.SubChains, last+1); err != nil {
			return nil, fmt.Errorf("--sub-chains: %w", err)
		}
	}
	m := &Manifest{Chains: o.Chains, SubChains: o.SubChains, Members: o.Members}
	nodeKeys := make([]keys.Key, nodes)
	members := make([]genesis.Member, nodes)
	for i := range nodes {
		k, err := keys.Generate(rand.Reader)
		if err != nil {
			return nil, err
		}
		nodeKeys[i] = k
		n := Node{
			Index: i,
			Dir:   fmt.Sprintf("node-%d", i),
			P2P:   "127.0.0.1:" + strconv.Itoa(o.BasePort+i),
			API:   "127.0.0.1:" + strconv.Itoa(o.BasePort+apiPortOffset+i),
		}
		m.Nodes = append(m.Nodes, n)
		members[i] = genesis.NewMember(k.Public(), n.P2P)
	}
	gen, err := genesis.NewLayout(uint64(time.Now().UnixMilli()), members, topo, o.Members)
	if err != nil {
		return nil, err
	}
	for i := range m.Nodes {
		for _, id := range gen.ChainsOf(i) {
			if c, _ := topo.Chain(id); c.Kind == chains.Transaction {
				m.Nodes[i].Chain = uint32(id)
			}
		}
	}
	accounts := make([]txcmd.Account, o.Accounts)
	for i := range accounts {
		key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		accounts[i] = txcmd.NewAccount(key)
		gen.Accounts = append(gen.Accounts, genesis.Account{Address: accounts[i].Address, Balance: o.Balance})
	}
	slices.SortFunc(gen.Accounts, func(a, b genesis.Account) int { return strings.Compare(string(a.Address[:]), string(b.Address[:])) })
	if err := gen.Validate(); err != nil {
		return nil, err
	}
	genText, err := gen.Marshal()
	if err != nil {
		return nil, err
	}
	if err := driver.WriteFile(filepath.Join(dir, GenesisFile), genText, 0o644); err != nil {
		return nil, err
	}
	accText, err := txcmd.MarshalAccounts(accounts)
	if err != nil {
		return nil, err
	}
	if err := driver.WriteFile(filepath.Join(dir, AccountsFile), accText, 0o600); err != nil {
		return nil, err
	}
	for i, a := range accounts {
		text, err := txcmd.MarshalAccount(a)
		if err != nil {
			return nil, err
		}
		if err := driver.WriteFile(filepath.Join(dir, "accounts", fmt.Sprintf("%d.key", i)), text, 0o600); err != nil {
			return nil, err
		}
	}
	for i, n := range m.Nodes {
		cfg, err := config.Defaults(o.Profile)
		if err != nil {
			return nil, err
		}
		cfg.Node.DataDir = "."
		cfg.Node.GenesisFile = filepath.Join("..", GenesisFile)
		cfg.Network.Listen = n.P2P
		cfg.API.Listen = n.API
		// Every node of a local testnet shares the machine's cores:
		// pinning them all to the profile's core would stack them on one.
		cfg.Accel.PinConsensusCore, cfg.Accel.PinExecutorCore = -1, -1
		// The nodes also share the machine's cores with each other: a
		// leader building a large block, or the members verifying it,
		// get a fraction of a core each. Twice the default timeouts keep
		// them from being taken for faulty under that contention.
		cfg.Consensus.ProposalTimeout.Duration = max(cfg.Consensus.ProposalTimeout.Duration, localProposalTimeout)
		cfg.Consensus.RoundTimeout.Duration = max(cfg.Consensus.RoundTimeout.Duration, localRoundTimeout)
		// Batches of API submissions arrive as JSON with hex: leave room.
		cfg.API.MaxBodyBytes = max(cfg.API.MaxBodyBytes, 8<<20)
		if o.Configure != nil {
			o.Configure(i, &cfg)
		}
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("node %d config: %w", i, err)
		}
		tmpl, err := config.Template(cfg)
		if err != nil {
			return nil, err
		}
		nodeDir := filepath.Join(dir, n.Dir)
		if err := driver.WriteKeyFile(filepath.Join(nodeDir, cfg.Node.KeyFile), nodeKeys[i]); err != nil {
			return nil, err
		}
		if err := driver.WriteFile(filepath.Join(nodeDir, ConfigFile), tmpl, 0o644); err != nil {
			return nil, err
		}
	}
	text, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := driver.WriteFile(filepath.Join(dir, ManifestFile), append(text, '\n'), 0o644); err != nil {
		return nil, err
	}
	return m, nil
}

// LoadManifest reads the manifest of the testnet in dir.
func LoadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("testnet %s: %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("testnet %s: manifest: %w", dir, err)
	}
	if len(m.Nodes) == 0 {
		return nil, fmt.Errorf("testnet %s: manifest lists no node", dir)
	}
	if m.Chains < 1 || m.Members < 1 {
		return nil, fmt.Errorf("testnet %s was made by an older version (one chain, genesis v1): remove it to start over", dir)
	}
	return &m, nil
}

// ConfigPath returns the absolute path of node n's configuration.
func ConfigPath(dir string, n Node) (string, error) {
	return filepath.Abs(filepath.Join(dir, n.Dir, ConfigFile))
}

// Running reports the process of node n, 0 when it is not running. A pid
// file counts only while its process is alive, not a zombie, and runs this
// node's configuration, so a stale file or a reused pid is never mistaken
// for the node.
func Running(dir string, n Node) int {
	data, err := os.ReadFile(filepath.Join(dir, n.Dir, PIDFile))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	cfgPath, err := ConfigPath(dir, n)
	if err != nil {
		return 0
	}
	if !alive(pid, cfgPath) {
		return 0
	}
	return pid
}

// alive reports whether pid is a live process whose command line names
// cfgPath. Where /proc is missing it trusts signal 0.
func alive(pid int, cfgPath string) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat("/proc/self"); err != nil {
			return true // no procfs on this system
		}
		return false
	}
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(stat), ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(cmdline), cfgPath)
}

// Start starts node n as a `binary node --config` process in its own
// process group (so a terminal's signals to `testnet up` do not reach it),
// logging to its node.log, and writes its pid file.
func Start(dir string, n Node, binary string) (int, error) {
	cfgPath, err := ConfigPath(dir, n)
	if err != nil {
		return 0, err
	}
	logPath := filepath.Join(dir, n.Dir, LogFile)
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logFile.Close()
	cmd := exec.Command(binary, "node", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start node %d: %w", n.Index, err)
	}
	pid := cmd.Process.Pid
	// The process outlives this one; release it instead of waiting.
	_ = cmd.Process.Release()
	if err := driver.WriteFile(filepath.Join(dir, n.Dir, PIDFile), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return pid, err
	}
	return pid, nil
}

// Stop sends SIGTERM to every running node and waits up to grace for them
// to exit, then kills the rest. It returns the number of nodes stopped.
func Stop(ctx context.Context, dir string, m *Manifest, grace time.Duration) (int, error) {
	var pids []int
	var nodes []Node
	for _, n := range m.Nodes {
		if pid := Running(dir, n); pid != 0 {
			if err := syscall.Kill(pid, syscall.SIGTERM); err == nil {
				pids, nodes = append(pids, pid), append(nodes, n)
			}
		}
	}
	deadline := time.Now().Add(grace)
	for i, n := range nodes {
		for Running(dir, n) != 0 && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		if Running(dir, n) != 0 {
			_ = syscall.Kill(pids[i], syscall.SIGKILL)
		}
		_ = os.Remove(filepath.Join(dir, n.Dir, PIDFile))
	}
	return len(pids), nil
}
