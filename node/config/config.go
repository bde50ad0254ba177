package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Duration is a time.Duration written in TOML as a string ("1.5s", "200ms").
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("duration %q: %w", text, err)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// Config is the whole node configuration.
type Config struct {
	// Profile names the defaults this configuration started from.
	Profile   string    `toml:"profile"`
	Node      Node      `toml:"node"`
	Network   Network   `toml:"network"`
	API       API       `toml:"api"`
	Consensus Consensus `toml:"consensus"`
	Storage   Storage   `toml:"storage"`
	Accel     Accel     `toml:"accel"`
	Mempool   Mempool   `toml:"mempool"`
	Log       Log       `toml:"log"`
}

// Node is the identity and the data of this node.
type Node struct {
	// DataDir holds the key files and the Pebble store.
	DataDir string `toml:"data_dir"`
	// KeyFile is the node's key file, relative to DataDir unless absolute.
	KeyFile string `toml:"key_file"`
	// GenesisFile is the network's genesis, relative to DataDir unless absolute.
	GenesisFile string `toml:"genesis_file"`
}

// Network is the peer-to-peer transport.
type Network struct {
	// Listen is the UDP address QUIC listens on.
	Listen string `toml:"listen"`
	// Peers are the addresses to dial at start ("id@host:port").
	Peers []string `toml:"peers"`
	// MaxFrameBytes bounds one message on the wire.
	MaxFrameBytes int `toml:"max_frame_bytes"`
	// PeerQueue is the number of messages queued per peer before
	// back-pressure applies.
	PeerQueue int `toml:"peer_queue"`
	// GossipFanout is the number of neighbours that get a full message; the
	// others get its hash and pull it if they lack it (paper 4.4).
	GossipFanout int `toml:"gossip_fanout"`
}

// API is the HTTP JSON API, metrics and health endpoints.
type API struct {
	// Listen is the TCP address of the HTTP server; empty disables it.
	Listen string `toml:"listen"`
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64 `toml:"max_body_bytes"`
}

// Consensus holds the committee protocol's timing (docs/CONSENSUS.md).
type Consensus struct {
	ProposalTimeout  Duration `toml:"proposal_timeout"`
	RoundTimeout     Duration `toml:"round_timeout"`
	TimeoutIncrement Duration `toml:"timeout_increment"`
	// MaxBlockMessages bounds the messages a leader puts in one block.
	MaxBlockMessages int `toml:"max_block_messages"`
	// BlockInterval is the pause between a decision and the next proposal
	// when the mempool is not full.
	BlockInterval Duration `toml:"block_interval"`
}

// Storage is the Pebble store.
type Storage struct {
	CacheBytes    int64 `toml:"cache_bytes"`
	MemTableBytes int64 `toml:"memtable_bytes"`
}

// Accel is the hot-path acceleration layer.
type Accel struct {
	// HashBackend is "auto", "stdlib" or "sha256-simd".
	HashBackend string `toml:"hash_backend"`
	// PinConsensusCore and PinExecutorCore pin those loops to a core; -1
	// leaves them to the scheduler.
	PinConsensusCore int `toml:"pin_consensus_core"`
	PinExecutorCore  int `toml:"pin_executor_core"`
	// VerifyWorkers is the number of goroutines verifying signature batches.
	VerifyWorkers int `toml:"verify_workers"`
}

// Mempool bounds the pending messages.
type Mempool struct {
	MaxMessages int `toml:"max_messages"`
	// MaxPerSender bounds the pending messages of one account, so that one
	// sender cannot fill the pool.
	MaxPerSender int `toml:"max_per_sender"`
}

// Log is the structured logger.
type Log struct {
	// Level is "debug", "info", "warn" or "error".
	Level string `toml:"level"`
	// Format is "text" or "json".
	Format string `toml:"format"`
}

// Profiles lists the names accepted by Defaults.
func Profiles() []string { return []string{"default", "vps-1c2g"} }

// ErrUnknownProfile is returned for a profile name not in Profiles.
var ErrUnknownProfile = errors.New("unknown profile")

// Defaults returns the defaults of a named profile.
func Defaults(profile string) (Config, error) {
	c := Config{
		Profile: "default",
		Node:    Node{DataDir: "thinkey-data", KeyFile: "node.key", GenesisFile: "genesis.json"},
		Network: Network{
			Listen:        "127.0.0.1:7600",
			MaxFrameBytes: 4 << 20,
			PeerQueue:     1024,
			GossipFanout:  4,
		},
		API: API{Listen: "127.0.0.1:7680", MaxBodyBytes: 1 << 20},
		Consensus: Consensus{
			ProposalTimeout:  Duration{time.Second},
			RoundTimeout:     Duration{3 * time.Second},
			TimeoutIncrement: Duration{500 * time.Millisecond},
			MaxBlockMessages: 4000,
			BlockInterval:    Duration{100 * time.Millisecond},
		},
		Storage: Storage{CacheBytes: 256 << 20, MemTableBytes: 32 << 20},
		Accel:   Accel{HashBackend: "auto", PinConsensusCore: -1, PinExecutorCore: -1, VerifyWorkers: 2},
		Mempool: Mempool{MaxMessages: 200_000, MaxPerSender: 256},
		Log:     Log{Level: "info", Format: "text"},
	}
	switch profile {
	case "", "default":
		return c, nil
	case "vps-1c2g":
		c.Profile = profile
		c.Storage = Storage{CacheBytes: 64 << 20, MemTableBytes: 8 << 20}
		c.Network.PeerQueue = 512
		c.Accel.PinConsensusCore = 0
		c.Accel.PinExecutorCore = 0
		c.Accel.VerifyWorkers = 1
		c.Mempool = Mempool{MaxMessages: 50_000, MaxPerSender: 128}
		c.Consensus.MaxBlockMessages = 2000
		return c, nil
	}
	return Config{}, fmt.Errorf("profile %q: %w (want one of %s)", profile, ErrUnknownProfile, strings.Join(Profiles(), ", "))
}

// Load reads a TOML file over the defaults of the profile the file names (or
// "default"). Unknown keys are an error. The result is validated.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path)
}

// Parse is Load on bytes; name is used in errors only.
func Parse(data []byte, name string) (Config, error) {
	var head struct {
		Profile string `toml:"profile"`
	}
	if _, err := toml.Decode(string(data), &head); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", name, err)
	}
	c, err := Defaults(head.Profile)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", name, err)
	}
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", name, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("config %s: unknown keys: %s", name, strings.Join(keys, ", "))
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", name, err)
	}
	return c, nil
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if !slices.Contains(Profiles(), c.Profile) {
		bad("profile", "%q is not one of %s", c.Profile, strings.Join(Profiles(), ", "))
	}
	if c.Node.DataDir == "" {
		bad("node.data_dir", "must not be empty")
	}
	if c.Node.KeyFile == "" {
		bad("node.key_file", "must not be empty")
	}
	if _, _, err := net.SplitHostPort(c.Network.Listen); err != nil {
		bad("network.listen", "%q: %v", c.Network.Listen, err)
	}
	for i, p := range c.Network.Peers {
		id, addr, ok := strings.Cut(p, "@")
		if !ok || id == "" {
			bad(fmt.Sprintf("network.peers[%d]", i), "%q: want id@host:port", p)
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(fmt.Sprintf("network.peers[%d]", i), "%q: %v", p, err)
		}
	}
	if c.Network.MaxFrameBytes < 64<<10 || c.Network.MaxFrameBytes > 64<<20 {
		bad("network.max_frame_bytes", "%d: want between 64 KiB and 64 MiB", c.Network.MaxFrameBytes)
	}
	if c.Network.PeerQueue < 1 {
		bad("network.peer_queue", "%d: must be at least 1", c.Network.PeerQueue)
	}
	if c.Network.GossipFanout < 1 {
		bad("network.gossip_fanout", "%d: must be at least 1", c.Network.GossipFanout)
	}
	if c.API.Listen != "" {
		if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
			bad("api.listen", "%q: %v", c.API.Listen, err)
		}
	}
	if c.API.MaxBodyBytes < 1024 {
		bad("api.max_body_bytes", "%d: must be at least 1024", c.API.MaxBodyBytes)
	}
	for _, d := range []struct {
		name string
		v    Duration
		min  time.Duration
	}{
		{"consensus.proposal_timeout", c.Consensus.ProposalTimeout, time.Millisecond},
		{"consensus.round_timeout", c.Consensus.RoundTimeout, time.Millisecond},
		{"consensus.timeout_increment", c.Consensus.TimeoutIncrement, 0},
		{"consensus.block_interval", c.Consensus.BlockInterval, 0},
	} {
		if d.v.Duration < d.min {
			bad(d.name, "%v: must be at least %v", d.v.Duration, d.min)
		}
	}
	if c.Consensus.RoundTimeout.Duration < c.Consensus.ProposalTimeout.Duration {
		bad("consensus.round_timeout", "%v: must not be shorter than proposal_timeout %v",
			c.Consensus.RoundTimeout.Duration, c.Consensus.ProposalTimeout.Duration)
	}
	if c.Consensus.MaxBlockMessages < 1 || c.Consensus.MaxBlockMessages > 100_000 {
		bad("consensus.max_block_messages", "%d: want between 1 and 100000", c.Consensus.MaxBlockMessages)
	}
	if c.Storage.CacheBytes < 8<<20 {
		bad("storage.cache_bytes", "%d: must be at least 8 MiB", c.Storage.CacheBytes)
	}
	if c.Storage.MemTableBytes < 1<<20 {
		bad("storage.memtable_bytes", "%d: must be at least 1 MiB", c.Storage.MemTableBytes)
	}
	if !slices.Contains([]string{"auto", "stdlib", "sha256-simd"}, c.Accel.HashBackend) {
		bad("accel.hash_backend", "%q: want auto, stdlib or sha256-simd", c.Accel.HashBackend)
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"accel.pin_consensus_core", c.Accel.PinConsensusCore}, {"accel.pin_executor_core", c.Accel.PinExecutorCore}} {
		if p.v < -1 || p.v > 1023 {
			bad(p.name, "%d: want -1 (no pinning) or a core index", p.v)
		}
	}
	if c.Accel.VerifyWorkers < 1 || c.Accel.VerifyWorkers > 256 {
		bad("accel.verify_workers", "%d: want between 1 and 256", c.Accel.VerifyWorkers)
	}
	if c.Mempool.MaxMessages < 1 {
		bad("mempool.max_messages", "%d: must be at least 1", c.Mempool.MaxMessages)
	}
	if c.Mempool.MaxPerSender < 1 || c.Mempool.MaxPerSender > c.Mempool.MaxMessages {
		bad("mempool.max_per_sender", "%d: want between 1 and max_messages", c.Mempool.MaxPerSender)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		bad("log.format", "%q: want text or json", c.Log.Format)
	}
	return errors.Join(errs...)
}

// Path resolves a file name of the node section against DataDir.
func (c Config) Path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(c.Node.DataDir, name)
}

// Template renders c as a commented TOML file, the starting point that
// `thinkey init` writes.
func Template(c Config) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Thinkey node configuration (profile %q).\n", c.Profile)
	fmt.Fprintf(&buf, "# Every key is shown with its default; delete what you do not change.\n")
	fmt.Fprintf(&buf, "# Durations are Go duration strings (\"500ms\", \"2s\"); sizes are bytes.\n\n")
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return nil, fmt.Errorf("render config template: %w", err)
	}
	return buf.Bytes(), nil
}
