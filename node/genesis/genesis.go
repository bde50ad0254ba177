package genesis

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// FileType is the value of the "type" field of the files this version reads
// and writes.
const FileType = "thinkey-genesis/v2"

// MaxFileSize bounds what Parse reads: about 10,000 accounts fit in 1 MiB.
const MaxFileSize = 64 << 20

// MaxNodes bounds the nodes of one network: every node is in the root
// committee, so a committee's bound is the network's.
const MaxNodes = types.MaxCommitteeSize

// Errors callers branch on.
var (
	// ErrMalformed: the bytes are not a genesis file of this version (bad
	// JSON, unknown or mistyped field, trailing data, wrong type).
	ErrMalformed = errors.New("malformed genesis file")
	// ErrInvalid: the file decodes but breaks a rule of Validate.
	ErrInvalid = errors.New("invalid genesis")
)

// Genesis is a network's starting point.
type Genesis struct {
	// GenesisTimeMillis is the timestamp of every chain's block 0, in
	// milliseconds since the Unix epoch.
	GenesisTimeMillis uint64
	// Nodes are the network's validator nodes; committees name them by
	// their index here.
	Nodes []Member
	// Chains is the topology, in strictly increasing ID order (the root,
	// chain 0, first), with each chain's committee.
	Chains []Chain
	// Accounts are the funded accounts of block 0, in strictly increasing
	// address order; each belongs to the transaction chain that owns its
	// address (chains.Topology.OwnerOf).
	Accounts []Account
}

// Chain is one chain of the network: its place in the topology, its
// consensus limits and its committee.
type Chain struct {
	ID         types.ChainID
	Kind       chains.Kind
	Parent     types.ChainID
	Prefix     uint64
	PrefixBits uint8
	// BlockGas and StepLimit are consensus rules of a transaction chain
	// (node/exec.Limits); zero means the default. Zero on other chains.
	BlockGas  actor.Gas
	StepLimit uint64
	// Committee lists indices into Genesis.Nodes: the chain's consensus
	// member i is Nodes[Committee[i]].
	Committee []int
}

// Member is one validator node.
type Member struct {
	BLSPublicKey      *bls.PublicKey
	ProofOfPossession *bls.Signature
	PeerID            netq.PeerID
	// Address is the node's netq/quic UDP address, host:port.
	Address string
}

// Account is a funded account of block 0: a plain account with a balance,
// no code, no storage and nonce 0.
type Account struct {
	Address types.Address
	Balance uint64
}

// NewMember builds the node entry of a node key reachable at address.
func NewMember(pub keys.Public, address string) Member {
	return Member{BLSPublicKey: pub.BLSPublicKey, ProofOfPossession: pub.ProofOfPossession, PeerID: pub.PeerID, Address: address}
}

// NewUniform returns a genesis without accounts over nodes: a root chain
// whose committee is every node, and txChains transaction chains with the
// balanced prefixes of chains.Uniform, chain j's committee being nodes
// (j-1)*members to j*members-1. It needs at least txChains*members nodes;
// the nodes after those are in the root committee only.
func NewUniform(timeMillis uint64, nodes []Member, txChains, members int) (*Genesis, error) {
	topo, err := chains.Uniform(txChains)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return NewLayout(timeMillis, nodes, topo, members)
}

// NewLayout returns a genesis without accounts over nodes and topo: the
// root committee is every node; the transaction chains, in ID order, get
// members nodes each, in node order; a coordinator's committee is the
// members of its sub-chains. It needs at least members nodes per
// transaction chain; the nodes after those are in the root committee
// only.
func NewLayout(timeMillis uint64, nodes []Member, topo *chains.Topology, members int) (*Genesis, error) {
	txs := 0
	for _, c := range topo.Chains() {
		if c.Kind == chains.Transaction {
			txs++
		}
	}
	if members < 1 || txs*members > len(nodes) {
		return nil, fmt.Errorf("%w: %d chains of %d members need %d nodes, have %d", ErrInvalid, txs, members, txs*members, len(nodes))
	}
	g := &Genesis{GenesisTimeMillis: timeMillis, Nodes: slices.Clone(nodes)}
	next := 0
	committees := map[types.ChainID][]int{}
	for _, c := range topo.Chains() {
		switch c.Kind {
		case chains.Root:
			for i := range nodes {
				committees[c.ID] = append(committees[c.ID], i)
			}
		case chains.Transaction:
			for i := next; i < next+members; i++ {
				committees[c.ID] = append(committees[c.ID], i)
			}
			next += members
			if c.Parent != types.RootChain {
				committees[c.Parent] = append(committees[c.Parent], committees[c.ID]...)
			}
		}
	}
	for _, c := range topo.Chains() {
		committee := committees[c.ID]
		slices.Sort(committee)
		g.Chains = append(g.Chains, Chain{ID: c.ID, Kind: c.Kind, Parent: c.Parent, Prefix: c.Prefix, PrefixBits: c.PrefixBits, Committee: committee})
	}
	return g, nil
}

// Topology returns the chains as a validated topology.
func (g *Genesis) Topology() (*chains.Topology, error) {
	t, err := g.topology()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return t, nil
}

func (g *Genesis) topology() (*chains.Topology, error) {
	cs := make([]chains.Chain, len(g.Chains))
	for i, c := range g.Chains {
		cs[i] = chains.Chain{ID: c.ID, Kind: c.Kind, Parent: c.Parent, Prefix: c.Prefix, PrefixBits: c.PrefixBits}
	}
	return chains.New(cs)
}

// Chain returns the chain with the given ID.
func (g *Genesis) Chain(id types.ChainID) (Chain, bool) {
	for _, c := range g.Chains {
		if c.ID == id {
			return c, true
		}
	}
	return Chain{}, false
}

// Spec returns the chain spec node/exec executes a transaction chain's
// blocks with.
func (c Chain) Spec() exec.ChainSpec {
	return exec.ChainSpec{
		ID:         c.ID,
		Prefix:     c.Prefix,
		PrefixBits: c.PrefixBits,
		Limits:     exec.Limits{BlockGas: c.BlockGas, StepLimit: c.StepLimit},
	}
}

// Committee returns the members of chain id's committee, by validator
// index; nil for an unknown chain.
func (g *Genesis) Committee(id types.ChainID) []Member {
	c, ok := g.Chain(id)
	if !ok {
		return nil
	}
	out := make([]Member, len(c.Committee))
	for i, n := range c.Committee {
		if n >= 0 && n < len(g.Nodes) {
			out[i] = g.Nodes[n]
		}
	}
	return out
}

// PublicKeys returns the BLS keys of chain id's committee, by validator
// index.
func (g *Genesis) PublicKeys(id types.ChainID) []*bls.PublicKey {
	members := g.Committee(id)
	out := make([]*bls.PublicKey, len(members))
	for i, m := range members {
		out[i] = m.BLSPublicKey
	}
	return out
}

// NodeOf returns the index in Nodes of the node whose BLS key is pub.
func (g *Genesis) NodeOf(pub *bls.PublicKey) (int, bool) {
	for i, m := range g.Nodes {
		if m.BLSPublicKey.Equal(pub) {
			return i, true
		}
	}
	return 0, false
}

// MemberOf returns node's validator index in chain id's committee.
func (g *Genesis) MemberOf(id types.ChainID, node int) (types.ValidatorIndex, bool) {
	c, ok := g.Chain(id)
	if !ok {
		return 0, false
	}
	i := slices.Index(c.Committee, node)
	return types.ValidatorIndex(i), i >= 0
}

// ChainsOf returns the chains whose committee holds node, by ID.
func (g *Genesis) ChainsOf(node int) []types.ChainID {
	var out []types.ChainID
	for _, c := range g.Chains {
		if slices.Contains(c.Committee, node) {
			out = append(out, c.ID)
		}
	}
	return out
}

// GenesisAccounts returns the accounts of chain id's block 0 as node/actor
// accounts, in address order.
func (g *Genesis) GenesisAccounts(id types.ChainID) []actor.Account {
	c, ok := g.Chain(id)
	if !ok || c.Kind != chains.Transaction {
		return nil
	}
	var out []actor.Account
	for _, a := range g.Accounts {
		if a.Address.HasPrefix(c.Prefix, c.PrefixBits) {
			out = append(out, actor.Account{Address: a.Address, Balance: a.Balance})
		}
	}
	return out
}

// Supply returns the sum of the genesis balances.
func (g *Genesis) Supply() uint64 {
	var s uint64
	for _, a := range g.Accounts {
		s += a.Balance
	}
	return s
}

// Validate reports every rule g breaks, each wrapping ErrInvalid.
func (g *Genesis) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
	}
	if g.GenesisTimeMillis == 0 {
		bad("genesis_time_ms must be set")
	}
	g.validateNodes(bad)
	g.validateChains(bad)
	var supply uint64
	overflow := false
	for i, a := range g.Accounts {
		if i > 0 && bytes.Compare(g.Accounts[i-1].Address[:], a.Address[:]) >= 0 {
			bad("accounts[%d]: address %v not after accounts[%d] (%v): want strictly increasing addresses", i, a.Address, i-1, g.Accounts[i-1].Address)
		}
		var carry uint64
		supply, carry = bits.Add64(supply, a.Balance, 0)
		if carry != 0 && !overflow {
			overflow = true
			bad("accounts: balances sum past 2^64-1 at accounts[%d]", i)
		}
	}
	// Every address has an owner: the transaction chains partition the
	// address space (chains.New checks it), so no account is off-chain.
	return errors.Join(errs...)
}

func (g *Genesis) validateNodes(bad func(string, ...any)) {
	if n := len(g.Nodes); n < 1 || n > MaxNodes {
		bad("%d nodes, want 1 to %d", n, MaxNodes)
	}
	keysSeen := map[string]int{}
	peersSeen := map[netq.PeerID]int{}
	addrsSeen := map[string]int{}
	for i, m := range g.Nodes {
		switch {
		case m.BLSPublicKey == nil:
			bad("nodes[%d]: bls_public_key missing", i)
		case m.ProofOfPossession == nil:
			bad("nodes[%d]: bls_proof_of_possession missing", i)
		case !bls.VerifyPossession(m.BLSPublicKey, m.ProofOfPossession):
			bad("nodes[%d]: proof of possession does not verify for its key", i)
		}
		if m.BLSPublicKey != nil {
			k := string(m.BLSPublicKey.Bytes())
			if j, dup := keysSeen[k]; dup {
				bad("nodes[%d]: same bls_public_key as nodes[%d]", i, j)
			}
			keysSeen[k] = i
		}
		if m.PeerID.IsZero() {
			bad("nodes[%d]: peer_id missing", i)
		} else if j, dup := peersSeen[m.PeerID]; dup {
			bad("nodes[%d]: same peer_id as nodes[%d]", i, j)
		} else {
			peersSeen[m.PeerID] = i
		}
		if err := checkHostPort(m.Address); err != nil {
			bad("nodes[%d]: address %q: %v", i, m.Address, err)
		} else if j, dup := addrsSeen[m.Address]; dup {
			bad("nodes[%d]: same address as nodes[%d]", i, j)
		} else {
			addrsSeen[m.Address] = i
		}
	}
}

// validateChains checks the topology and the committees.
func (g *Genesis) validateChains(bad func(string, ...any)) {
	for i := 1; i < len(g.Chains); i++ {
		if g.Chains[i].ID <= g.Chains[i-1].ID {
			bad("chains[%d]: id %d not after chains[%d] (%d): want strictly increasing ids", i, g.Chains[i].ID, i-1, g.Chains[i-1].ID)
		}
	}
	_, err := g.topology()
	if err != nil {
		bad("chains: %v", err)
	}
	txOf := map[int]types.ChainID{}
	coordOf := map[int]types.ChainID{}
	for i, c := range g.Chains {
		switch c.Kind {
		case chains.Transaction:
			if err := c.Spec().Validate(); err != nil {
				bad("chains[%d]: %v", i, err)
			}
		default:
			if c.BlockGas != 0 || c.StepLimit != 0 {
				bad("chains[%d]: block_gas and step_limit apply to transaction chains only", i)
			}
		}
		if c.Kind == chains.Coordinator && c.Parent != types.RootChain {
			bad("chains[%d]: coordinator chain %d is under chain %d: this version runs coordinators under the root only", i, c.ID, c.Parent)
		}
		if n := len(c.Committee); n < 1 || n > types.MaxCommitteeSize {
			bad("chains[%d]: committee of %d members, want 1 to %d", i, n, types.MaxCommitteeSize)
		}
		seen := map[int]int{}
		for j, node := range c.Committee {
			if node < 0 || node >= len(g.Nodes) {
				bad("chains[%d]: committee[%d]: node %d is not in nodes (0 to %d)", i, j, node, len(g.Nodes)-1)
				continue
			}
			if k, dup := seen[node]; dup {
				bad("chains[%d]: committee[%d]: node %d already member %d", i, j, node, k)
				continue
			}
			seen[node] = j
			var runs map[int]types.ChainID
			switch c.Kind {
			case chains.Transaction:
				runs = txOf
			case chains.Coordinator:
				runs = coordOf
			default:
				continue
			}
			if other, dup := runs[node]; dup {
				bad("chains[%d]: committee[%d]: node %d is already in the committee of %v chain %d: a node runs at most one", i, j, node, c.Kind, other)
				continue
			}
			runs[node] = c.ID
		}
	}
	// A node of a sub-chain follows the coordinator that records it: it
	// checks its siblings' relays against it (the faster parent-digest
	// path) and lifts its own relays from it to the root.
	for _, c := range g.Chains {
		if c.Kind != chains.Transaction || c.Parent == types.RootChain {
			continue
		}
		parent, ok := g.Chain(c.Parent)
		if !ok {
			continue
		}
		for _, node := range c.Committee {
			if !slices.Contains(parent.Committee, node) {
				bad("node %d of sub-chain %d is not in the committee of its coordinator %d, which it must follow", node, c.ID, c.Parent)
			}
		}
	}
	if root, ok := g.Chain(types.RootChain); ok {
		for node := range g.Nodes {
			if !slices.Contains(root.Committee, node) {
				bad("nodes[%d] is not in the root committee: every node is, since a node outside it would have to follow the root chain by block sync, which this version does not do", node)
			}
		}
	}
}

// checkHostPort checks a host:port address without the net package, which
// a pure core may not import: a non-empty host (brackets around an IPv6
// literal) and a port from 1 to 65535.
func checkHostPort(addr string) error {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return errors.New("want host:port")
	}
	host, port := addr[:i], addr[i+1:]
	if strings.HasPrefix(host, "[") != strings.HasSuffix(host, "]") {
		return errors.New("unbalanced brackets around the host")
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return errors.New("empty host")
	}
	if strings.ContainsAny(host, "[] \t/") || (strings.Contains(host, ":") && !strings.HasPrefix(addr, "[")) {
		return errors.New("malformed host")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return fmt.Errorf("port %q: want 1 to 65535", port)
	}
	return nil
}

// Headers returns the header of block 0 of every chain. A transaction
// chain's is the roots of an empty body over its genesis accounts; a
// recorder chain's (root, coordinator) has the state root of its children's
// block-0 headers (node/rootchain) and the record root of an empty body. No
// parent, the genesis time.
func (g *Genesis) Headers() (map[types.ChainID]types.Header, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	topo, err := g.Topology()
	if err != nil {
		return nil, err
	}
	return rootchain.GenesisHeaders(topo, g.GenesisTimeMillis, func(id types.ChainID) (exec.ChainSpec, []actor.Account) {
		gc, _ := g.Chain(id)
		return gc.Spec(), g.GenesisAccounts(id)
	})
}

// Block returns the header of chain id's block 0 (see Headers).
func (g *Genesis) Block(id types.ChainID) (types.Header, error) {
	hs, err := g.Headers()
	if err != nil {
		return types.Header{}, err
	}
	h, ok := hs[id]
	if !ok {
		return types.Header{}, fmt.Errorf("%w: no chain %d", ErrInvalid, id)
	}
	return h, nil
}

// Hash returns SHA-256 of the canonical text: the network's name.
func (g *Genesis) Hash() (types.Hash, error) {
	text, err := g.Marshal()
	if err != nil {
		return types.Hash{}, err
	}
	return hash.Sum256(text), nil
}

// The JSON layout; field order is the canonical order.
type fileJSON struct {
	Type              string        `json:"type"`
	GenesisTimeMillis uint64        `json:"genesis_time_ms"`
	Nodes             []memberJSON  `json:"nodes"`
	Chains            []chainJSON   `json:"chains"`
	Accounts          []accountJSON `json:"accounts"`
}

type chainJSON struct {
	ID         uint32 `json:"id"`
	Kind       string `json:"kind"`
	Parent     uint32 `json:"parent"`
	Prefix     uint64 `json:"prefix"`
	PrefixBits uint8  `json:"prefix_bits"`
	BlockGas   uint64 `json:"block_gas"`
	StepLimit  uint64 `json:"step_limit"`
	Committee  []int  `json:"committee"`
}

type memberJSON struct {
	BLSPublicKey         string `json:"bls_public_key"`
	BLSProofOfPossession string `json:"bls_proof_of_possession"`
	PeerID               string `json:"peer_id"`
	Address              string `json:"address"`
}

type accountJSON struct {
	Address string `json:"address"`
	Balance uint64 `json:"balance"`
}

// kindNames are the "kind" values of the file.
var kindNames = map[chains.Kind]string{
	chains.Root:        "root",
	chains.Coordinator: "coordinator",
	chains.Transaction: "transaction",
}

// Marshal returns the canonical text of g (see the package documentation).
// It sorts the chains and accounts of the text, not of g, and refuses a node
// without keys or a chain of unknown kind.
func (g *Genesis) Marshal() ([]byte, error) {
	f := fileJSON{
		Type:              FileType,
		GenesisTimeMillis: g.GenesisTimeMillis,
		Nodes:             make([]memberJSON, len(g.Nodes)),
		Chains:            make([]chainJSON, len(g.Chains)),
		Accounts:          make([]accountJSON, len(g.Accounts)),
	}
	for i, m := range g.Nodes {
		if m.BLSPublicKey == nil || m.ProofOfPossession == nil {
			return nil, fmt.Errorf("marshal genesis: %w: nodes[%d] has no keys", ErrInvalid, i)
		}
		f.Nodes[i] = memberJSON{
			BLSPublicKey:         hex.EncodeToString(m.BLSPublicKey.Bytes()),
			BLSProofOfPossession: hex.EncodeToString(m.ProofOfPossession.Bytes()),
			PeerID:               m.PeerID.String(),
			Address:              m.Address,
		}
	}
	cs := slices.Clone(g.Chains)
	slices.SortFunc(cs, func(a, b Chain) int { return int(int64(a.ID) - int64(b.ID)) })
	for i, c := range cs {
		kind, ok := kindNames[c.Kind]
		if !ok {
			return nil, fmt.Errorf("marshal genesis: %w: chain %d has kind %v", ErrInvalid, c.ID, c.Kind)
		}
		committee := slices.Clone(c.Committee)
		if committee == nil {
			committee = []int{}
		}
		f.Chains[i] = chainJSON{
			ID: uint32(c.ID), Kind: kind, Parent: uint32(c.Parent), Prefix: c.Prefix, PrefixBits: c.PrefixBits,
			BlockGas: uint64(c.BlockGas), StepLimit: c.StepLimit, Committee: committee,
		}
	}
	accounts := slices.Clone(g.Accounts)
	slices.SortFunc(accounts, func(a, b Account) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	for i, a := range accounts {
		f.Accounts[i] = accountJSON{Address: hex.EncodeToString(a.Address[:]), Balance: a.Balance}
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal genesis: %w", err)
	}
	return append(out, '\n'), nil
}

// Parse decodes a genesis file and validates it.
func Parse(data []byte) (*Genesis, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(data), MaxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileJSON
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	if f.Type != FileType {
		return nil, fmt.Errorf("%w: type %q, want %q", ErrMalformed, f.Type, FileType)
	}
	g := &Genesis{
		GenesisTimeMillis: f.GenesisTimeMillis,
		Nodes:             make([]Member, len(f.Nodes)),
		Chains:            make([]Chain, len(f.Chains)),
		Accounts:          make([]Account, len(f.Accounts)),
	}
	var errs []error
	for i, m := range f.Nodes {
		field := func(name string) string { return fmt.Sprintf("nodes[%d].%s", i, name) }
		if b, err := decodeHex(field("bls_public_key"), m.BLSPublicKey, bls.PublicKeySize); err != nil {
			errs = append(errs, err)
		} else if pk, err := bls.PublicKeyFromBytes(b); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrMalformed, field("bls_public_key"), err))
		} else {
			g.Nodes[i].BLSPublicKey = pk
		}
		if b, err := decodeHex(field("bls_proof_of_possession"), m.BLSProofOfPossession, bls.SignatureSize); err != nil {
			errs = append(errs, err)
		} else if sig, err := bls.SignatureFromBytes(b); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrMalformed, field("bls_proof_of_possession"), err))
		} else {
			g.Nodes[i].ProofOfPossession = sig
		}
		if b, err := decodeHex(field("peer_id"), m.PeerID, netq.PeerIDSize); err != nil {
			errs = append(errs, err)
		} else {
			g.Nodes[i].PeerID = netq.PeerID(b)
		}
		g.Nodes[i].Address = m.Address
	}
	for i, c := range f.Chains {
		kind, ok := parseKind(c.Kind)
		if !ok {
			errs = append(errs, fmt.Errorf("%w: chains[%d].kind %q: want root, coordinator or transaction", ErrMalformed, i, c.Kind))
		}
		if c.BlockGas > math.MaxInt64 {
			errs = append(errs, fmt.Errorf("%w: chains[%d].block_gas %d is too large", ErrMalformed, i, c.BlockGas))
		}
		if c.Committee == nil {
			errs = append(errs, fmt.Errorf("%w: chains[%d].committee is missing", ErrMalformed, i))
		}
		g.Chains[i] = Chain{
			ID: types.ChainID(c.ID), Kind: kind, Parent: types.ChainID(c.Parent), Prefix: c.Prefix, PrefixBits: c.PrefixBits,
			BlockGas: actor.Gas(c.BlockGas), StepLimit: c.StepLimit, Committee: c.Committee,
		}
	}
	for i, a := range f.Accounts {
		if b, err := decodeHex(fmt.Sprintf("accounts[%d].address", i), a.Address, types.AddressSize); err != nil {
			errs = append(errs, err)
		} else {
			g.Accounts[i] = Account{Address: types.Address(b), Balance: a.Balance}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

func parseKind(s string) (chains.Kind, bool) {
	for k, name := range kindNames {
		if name == s {
			return k, true
		}
	}
	return 0, false
}

func decodeHex(field, s string, size int) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: %s is missing", ErrMalformed, field)
	}
	if strings.ToLower(s) != s {
		return nil, fmt.Errorf("%w: %s: hex must be lower case", ErrMalformed, field)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, field, err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformed, field, len(b), size)
	}
	return b, nil
}
