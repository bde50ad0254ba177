package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// ShardConfig configures a sharded network (NewShardedNetwork): a root
// committee, one committee per transaction or coordinator chain of the
// topology, and one load client per transaction chain. Start from
// DefaultShardConfig.
type ShardConfig struct {
	// Seed determines every random choice of the run.
	Seed uint64
	// Chains is the number of transaction chains of chains.Uniform, used
	// when Topology is nil.
	Chains int
	// Topology, when set, is the chain tree (for instance one with
	// sub-chains, chains.Topology.WithSubChains).
	Topology *chains.Topology
	// Members is the committee size of every transaction and coordinator
	// chain, RootMembers the root committee's.
	Members, RootMembers int
	// Costs is the virtual CPU charged for the members' work.
	Costs ShardCosts
	// The consensus timeouts of every committee (consensus.Config).
	ProposalTimeout, RoundTimeout, TimeoutIncrement time.Duration
	// BlockInterval paces every committee: a leader builds its block no
	// sooner than BlockInterval after it committed the height before. It
	// must be below ProposalTimeout.
	BlockInterval time.Duration
	// MaxBlockMessages bounds the external inputs, MaxBlockRelays the
	// relay inputs of a transaction-chain block; MaxRecords the records of
	// a recorder block.
	MaxBlockMessages, MaxBlockRelays, MaxRecords int
	// MempoolSize bounds each member's mempool.
	MempoolSize int
	// Load is the clients' traffic.
	Load ShardLoad
	// Accounts are further genesis accounts, each on the chain its address
	// belongs to (scripted tests submit their messages with Submit).
	Accounts []actor.Account
	// Network is the packet model.
	Network NetworkConfig
	// RelayBandwidth paces each member's relay packages (zero: a quarter
	// of the uplink; no pacing on an unlimited uplink).
	RelayBandwidth BitRate
	// Faults is the fault plan (ShardFaultPlan draws one over the
	// network's committees). Its HealBy ends the safety phase of RunShard,
	// and random loss ends with it.
	Faults FaultPlan
	// CheckInvariants runs every core's CheckInvariants after every event.
	CheckInvariants bool
	// Trace, when set, receives the world's event trace.
	Trace io.Writer
	// MaxEvents bounds the world's events (zero: no bound).
	MaxEvents uint64
	// ReplayLeader, when set, makes one member of a transaction chain
	// Byzantine: whenever it leads, it adds to its block relay inputs its
	// chain already consumed (a replay, which honest members must refuse).
	ReplayLeader *ShardMemberID
}

// ShardMemberID names one member of one chain's committee.
type ShardMemberID struct {
	Chain  types.ChainID
	Member types.ValidatorIndex
}

// ShardLoad is the traffic of the load clients: one client per
// transaction chain, holding AccountsPerChain funded accounts of that
// chain, each with at most Window transfers in flight.
type ShardLoad struct {
	// AccountsPerChain is the number of funded accounts per transaction
	// chain, each with Balance.
	AccountsPerChain int
	Balance          uint64
	// Rate is the transfers per virtual second each client offers (zero:
	// no load).
	Rate int
	// Cross is the share of transfers whose recipient is on another chain,
	// drawn uniformly among the other chains; the rest pay an account of
	// the sender's chain.
	Cross float64
	// Window is the most transfers in flight per account.
	Window int
	// Tick is the client's period; ResubmitAfter how long a transfer may
	// stay unconfirmed before the client sends it again, to another
	// member.
	Tick, ResubmitAfter time.Duration
	// StopAt stops new transfers from that virtual time on (zero: never);
	// transfers in flight are still re-sent until confirmed.
	StopAt time.Duration
}

// DefaultShardConfig returns a network of chains transaction chains
// (chains.Uniform) with committees of 4, a root committee of 4, the
// default network and costs, timeouts of 1 s and 2 s growing by 500 ms a
// round, a block every 200 ms at most, and a light load of 10 transfers
// per second per chain among 32 accounts per chain, half of them
// cross-chain.
func DefaultShardConfig(chainCount int) ShardConfig {
	return ShardConfig{
		Chains:           chainCount,
		Members:          4,
		RootMembers:      4,
		Costs:            DefaultShardCosts(),
		ProposalTimeout:  time.Second,
		RoundTimeout:     2 * time.Second,
		TimeoutIncrement: 500 * time.Millisecond,
		BlockInterval:    200 * time.Millisecond,
		MaxBlockMessages: 2000,
		MaxBlockRelays:   2000,
		MaxRecords:       rootchain.MaxRecords,
		MempoolSize:      20000,
		Load: ShardLoad{
			AccountsPerChain: 32,
			Balance:          1_000_000_000,
			Rate:             10,
			Cross:            0.5,
			Window:           4,
			Tick:             100 * time.Millisecond,
			ResubmitAfter:    3 * time.Second,
		},
		Network:         DefaultNetworkConfig(),
		CheckInvariants: true,
	}
}

// topology returns the configured topology, or chains.Uniform(Chains).
func (c *ShardConfig) topology() (*chains.Topology, error) {
	if c.Topology != nil {
		return c.Topology, nil
	}
	t, err := chains.Uniform(c.Chains)
	if err != nil {
		return nil, fmt.Errorf("%w: shard config: %w", ErrInvalidConfig, err)
	}
	return t, nil
}

// Validate reports every problem of the configuration at once.
func (c ShardConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: shard config: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if _, err := c.topology(); err != nil {
		errs = append(errs, err)
	}
	for _, n := range []int{c.Members, c.RootMembers} {
		if n < 1 || n > types.MaxCommitteeSize {
			bad("committee of %d not in 1..%d", n, types.MaxCommitteeSize)
		}
	}
	if c.ProposalTimeout <= 0 || c.RoundTimeout <= c.ProposalTimeout || c.TimeoutIncrement <= 0 {
		bad("timeouts: proposal %v, round %v (above proposal), increment %v must be positive", c.ProposalTimeout, c.RoundTimeout, c.TimeoutIncrement)
	}
	if c.BlockInterval < 0 || c.BlockInterval >= c.ProposalTimeout {
		bad("block interval %v not in [0, proposal timeout %v)", c.BlockInterval, c.ProposalTimeout)
	}
	if c.MaxBlockMessages < 1 || c.MaxBlockRelays < 1 || c.MaxRecords < 1 || c.MaxRecords > rootchain.MaxRecords {
		bad("block limits: messages %d, relays %d, records %d (1..%d)", c.MaxBlockMessages, c.MaxBlockRelays, c.MaxRecords, rootchain.MaxRecords)
	}
	if c.MempoolSize < 1 {
		bad("mempool size %d", c.MempoolSize)
	}
	l := c.Load
	if l.AccountsPerChain < 0 || l.Rate < 0 || l.Window < 1 || l.Tick <= 0 || l.ResubmitAfter <= 0 || l.StopAt < 0 {
		bad("load: accounts %d, rate %d, window %d, tick %v, resubmit %v, stop %v", l.AccountsPerChain, l.Rate, l.Window, l.Tick, l.ResubmitAfter, l.StopAt)
	}
	if l.Window > c.MempoolSize {
		bad("load window %d above the mempool size %d", l.Window, c.MempoolSize)
	}
	if !(l.Cross >= 0 && l.Cross <= 1) {
		bad("cross-chain share %v not in [0, 1]", l.Cross)
	}
	if l.Rate > 0 && l.AccountsPerChain < 2 {
		bad("load of %d transfers/s needs at least 2 accounts per chain", l.Rate)
	}
	if c.Faults.HealBy < 0 {
		bad("fault plan heal-by %v is negative", c.Faults.HealBy)
	}
	if r := c.ReplayLeader; r != nil && int(r.Member) >= c.Members {
		bad("replay leader %d of a committee of %d", r.Member, c.Members)
	}
	errs = append(errs, c.Costs.Validate(), c.Network.Validate())
	return errors.Join(errs...)
}

// roundTimeout is T(r) = RoundTimeout + r·TimeoutIncrement.
func (c *ShardConfig) roundTimeout(r types.Round) time.Duration {
	return c.RoundTimeout + time.Duration(r)*c.TimeoutIncrement
}

// ShardedNetwork is a multi-chain network on one World: a root committee
// deciding recorder blocks (node/rootchain) that record the decisions of
// the chains below it, a committee per transaction chain deciding blocks
// of real signed payments (node/exec), a committee per coordinator chain
// recording its sub-chains, relays carried between chains with Merkle
// proofs checked against each node's view of its recorder chains
// (node/relay), and load clients. Every member is a NodeHandler around a
// consensus.Core driven through consensus.Apply, as ConsensusCluster's.
// The network checks the run as it goes (see the package documentation,
// "Sharded networks").
type ShardedNetwork struct {
	cfg        ShardConfig
	world      *World
	topo       *chains.Topology
	committees []*committee // root first, then by chain ID
	byChain    map[types.ChainID]*committee
	clients    []*shardClient // by transaction chain ID
	clientOf   map[types.ChainID]*shardClient
	nodes      []nodeRef // by NodeID
	genesis    map[types.ChainID]types.Header
	// committeesView is the rootchain.Committees every recorder member
	// checks child certificates with.
	committeesView standInCommittees
	obs            *shardObserver

	// livenessDeadline is set when the liveness phase of RunPhases starts.
	livenessDeadline time.Duration
}

// nodeRef says what a node of the world is.
type nodeRef struct {
	com    *committee // nil for a client
	member *shardMember
	client *shardClient
}

// committee is one chain's committee.
type committee struct {
	chain   types.ChainID
	kind    chains.Kind
	parent  types.ChainID
	spec    exec.ChainSpec // transaction chains
	keys    *Keyring
	th      consensus.Thresholds
	nodes   []NodeID
	members []*shardMember
	// recorders are the chains the members follow, nearest first: the
	// chain's recorder, its recorder, ... the root (none for the root).
	recorders []types.ChainID
	// followers are the nodes that follow this chain (the members of
	// every chain below it), for a recorder chain.
	followers []NodeID
	// accounts is the chain's genesis state (transaction chains): the load
	// accounts first, with their keys in loadKeys, then the configured
	// ones.
	accounts []actor.Account
	loadKeys []ed25519.PrivateKey
	timing   ConsensusConfig // the timeouts, for LivenessWindow
}

func (c *committee) size() int { return len(c.nodes) }

// follows reports whether the members of c follow recorder chain r.
func (c *committee) follows(r types.ChainID) bool { return slices.Contains(c.recorders, r) }

// standInCommittees is rootchain.Committees over the stand-in keys of each
// chain's committee.
type standInCommittees struct{ net *ShardedNetwork }

func (s standInCommittees) Size(chain types.ChainID) int {
	if c, ok := s.net.byChain[chain]; ok {
		return c.size()
	}
	return 0
}

func (s standInCommittees) VerifyCertificate(chain types.ChainID, cert *types.Certificate) bool {
	c, ok := s.net.byChain[chain]
	return ok && cert.ChainID == chain && c.keys.VerifyCertificate(cert)
}

// loadKeyLabel derives the keys of the load accounts.
const loadKeyLabel = "thinkey/sim/load-account/v1"

// loadKey returns the i-th key of the load accounts: derived from i alone,
// so every seed and every network size uses the same accounts.
func loadKey(i uint64) (ed25519.PrivateKey, error) {
	seed := hash.Sum256(binary.BigEndian.AppendUint64([]byte(loadKeyLabel), i))
	k, err := ed25519.NewKeyFromSeed(seed[:])
	if err != nil {
		return k, fmt.Errorf("sharded network: load key %d: %w", i, err)
	}
	return k, nil
}

// NewShardedNetwork builds the network on a new world, with the fault plan
// scheduled. Nothing runs until the world does.
func NewShardedNetwork(cfg ShardConfig) (*ShardedNetwork, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	topo, err := cfg.topology()
	if err != nil {
		return nil, err
	}
	w, err := NewWorld(WorldConfig{Seed: cfg.Seed, Network: cfg.Network, Trace: cfg.Trace, MaxEvents: cfg.MaxEvents})
	if err != nil {
		return nil, fmt.Errorf("sharded network: %w", err)
	}
	n := &ShardedNetwork{cfg: cfg, world: w, topo: topo, byChain: map[types.ChainID]*committee{}, clientOf: map[types.ChainID]*shardClient{}}
	n.committeesView = standInCommittees{n}
	keyrings := map[int]*Keyring{}
	keysFor := func(size int) (*Keyring, error) {
		if k, ok := keyrings[size]; ok {
			return k, nil
		}
		k, err := NewKeyring(SchemeStandIn, size)
		keyrings[size] = k
		return k, err
	}
	for _, c := range topo.Chains() {
		size := cfg.Members
		if c.Kind == chains.Root {
			size = cfg.RootMembers
		}
		keys, err := keysFor(size)
		if err != nil {
			return nil, fmt.Errorf("sharded network: %w", err)
		}
		com := &committee{chain: c.ID, kind: c.Kind, parent: c.Parent, keys: keys, th: consensus.ThresholdsFor(size)}
		com.timing = ConsensusConfig{Members: size, ProposalTimeout: cfg.ProposalTimeout, RoundTimeout: cfg.RoundTimeout, TimeoutIncrement: cfg.TimeoutIncrement}
		for p := c; p.ID != types.RootChain; {
			com.recorders = append(com.recorders, p.Parent)
			p, _ = topo.Chain(p.Parent)
		}
		if c.Kind == chains.Transaction {
			if com.spec, err = topo.Spec(c.ID, exec.Limits{}); err != nil {
				return nil, fmt.Errorf("sharded network: %w", err)
			}
		}
		n.committees = append(n.committees, com)
		n.byChain[c.ID] = com
	}
	if err := n.genesisAccounts(); err != nil {
		return nil, err
	}
	if n.genesis, err = genesisHeaders(topo, n.byChain); err != nil {
		return nil, fmt.Errorf("sharded network: %w", err)
	}
	n.obs = newShardObserver(n)
	// Nodes: every committee in chain ID order (the root first), then one
	// client per transaction chain.
	for _, com := range n.committees {
		for i := range com.th.N {
			m, err := newShardMember(n, com, types.ValidatorIndex(i))
			if err != nil {
				return nil, err
			}
			m.id = w.AddNode(m)
			m.seed()
			com.nodes = append(com.nodes, m.id)
			com.members = append(com.members, m)
			n.nodes = append(n.nodes, nodeRef{com: com, member: m})
		}
	}
	for _, com := range n.committees {
		if com.kind == chains.Root || com.kind == chains.Coordinator {
			for _, other := range n.committees {
				if other.follows(com.chain) {
					com.followers = append(com.followers, other.nodes...)
				}
			}
		}
	}
	for _, id := range topo.Transactions() {
		cl := newShardClient(n, n.byChain[id])
		cl.id = w.AddNode(cl)
		cl.rng = w.Rand(cl.id)
		n.clients = append(n.clients, cl)
		n.clientOf[id] = cl
		n.nodes = append(n.nodes, nodeRef{client: cl})
	}
	for _, cl := range n.clients {
		cl.pickRecipients()
	}
	if err := cfg.Faults.Apply(w); err != nil {
		return nil, fmt.Errorf("sharded network: %w", err)
	}
	if cfg.Faults.HealBy > 0 {
		w.Schedule(cfg.Faults.HealBy, func() {
			net := w.Network()
			net.LossProbability = 0
			_ = w.SetNetwork(net) // a valid network with less loss is valid
		})
	}
	return n, nil
}

// genesisAccounts places the load accounts and the configured accounts on
// their chains: load key i goes to the chain that owns its address, until
// every chain has AccountsPerChain of them.
func (n *ShardedNetwork) genesisAccounts() error {
	want := n.cfg.Load.AccountsPerChain
	txs := n.topo.Transactions()
	missing := want * len(txs)
	for i := uint64(0); missing > 0; i++ {
		if i > uint64(want*len(txs))*64+1024 {
			return fmt.Errorf("%w: sharded network: cannot place %d accounts per chain", ErrInvalidConfig, want)
		}
		k, err := loadKey(i)
		if err != nil {
			return err
		}
		addr := actor.AddressFromPublicKey(k.Public())
		com := n.byChain[n.topo.OwnerOf(addr)]
		if len(com.accounts) >= want {
			continue
		}
		com.accounts = append(com.accounts, actor.Account{Address: addr, Balance: n.cfg.Load.Balance})
		com.loadKeys = append(com.loadKeys, k)
		missing--
	}
	for _, a := range n.cfg.Accounts {
		com := n.byChain[n.topo.OwnerOf(a.Address)]
		if slices.ContainsFunc(com.accounts, func(b actor.Account) bool { return b.Address == a.Address }) {
			return fmt.Errorf("%w: sharded network: account %v given twice", ErrInvalidConfig, a.Address)
		}
		com.accounts = append(com.accounts, a)
	}
	return nil
}

// genesisHeaders returns the header of block 0 of every chain, as
// node/genesis builds them: a transaction chain's carries the roots of an
// empty body over its genesis accounts; a recorder chain's the state root
// of its children's block-0 headers and the record root of an empty body.
func genesisHeaders(topo *chains.Topology, byChain map[types.ChainID]*committee) (map[types.ChainID]types.Header, error) {
	return rootchain.GenesisHeaders(topo, 0, func(id types.ChainID) (exec.ChainSpec, []actor.Account) {
		com := byChain[id]
		return com.spec, com.accounts
	})
}

// World returns the network's world.
func (n *ShardedNetwork) World() *World { return n.world }

// Topology returns the chain tree.
func (n *ShardedNetwork) Topology() *chains.Topology { return n.topo }

// Config returns the network's configuration.
func (n *ShardedNetwork) Config() ShardConfig { return n.cfg }

// Violations returns the safety violations seen so far, wrapped in
// ErrCheckFailed, or nil.
func (n *ShardedNetwork) Violations() error { return n.obs.err() }

// Run runs the world until virtual time until, stopping early at the first
// violation.
func (n *ShardedNetwork) Run(until time.Duration) error {
	err := n.world.RunUntil(n.obs.failed, until)
	if verr := n.Violations(); verr != nil {
		return verr
	}
	if errors.Is(err, ErrTimeLimit) || errors.Is(err, ErrStalled) {
		return n.world.Run(until)
	}
	return err
}

// RunUntil runs until pred holds, failing with an error wrapping
// ErrTimeLimit at virtual time limit, or at the first violation.
func (n *ShardedNetwork) RunUntil(pred func() bool, limit time.Duration) error {
	err := n.world.RunUntil(func() bool { return n.obs.failed() || pred() }, limit)
	if verr := n.Violations(); verr != nil {
		return verr
	}
	return err
}

// Submit hands a signed external message to the client of the chain that
// holds its sender, which sends it to a member of that chain and again,
// to another member, until the sender's nonce passes it.
func (n *ShardedNetwork) Submit(msg types.Message) error {
	if msg.Kind != types.MessageExternal {
		return fmt.Errorf("%w: submit: %v message", ErrInvalidConfig, msg.Kind)
	}
	cl, ok := n.clientOf[n.topo.OwnerOf(msg.From)]
	if !ok {
		return fmt.Errorf("%w: submit: no client for %v", ErrInvalidConfig, msg.From)
	}
	cl.submit(msg.Clone())
	return nil
}

// Balance returns the balance of addr in the committed state of its chain
// (the observer's view: every block decided so far), and false for an
// unknown account.
func (n *ShardedNetwork) Balance(addr types.Address) (uint64, bool) {
	b, ok := n.obs.balances[addr]
	return b, ok
}

// Committed returns the decisions member i of chain committed, heights 1,
// 2, ... in order. The slice is shared: do not modify it.
func (n *ShardedNetwork) Committed(chain types.ChainID, i types.ValidatorIndex) []consensus.Decision {
	com, ok := n.byChain[chain]
	if !ok || int(i) >= len(com.members) {
		return nil
	}
	return com.members[i].decisions
}

// ChainHeight returns the lowest height every member of chain committed.
func (n *ShardedNetwork) ChainHeight(chain types.ChainID) types.Height {
	com, ok := n.byChain[chain]
	if !ok {
		return 0
	}
	return com.height()
}

func (c *committee) height() types.Height {
	low := types.Height(len(c.members[0].decisions))
	for _, m := range c.members[1:] {
		low = min(low, types.Height(len(m.decisions)))
	}
	return low
}

// seedFrom draws a 32-byte seed from rng, for a ChaCha8 stream of a
// member.
func seedFrom(rng *rand.Rand) [32]byte {
	var seed [32]byte
	for j := 0; j < len(seed); j += 8 {
		binary.LittleEndian.PutUint64(seed[j:], rng.Uint64())
	}
	return seed
}
