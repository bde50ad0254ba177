package chains

import (
	"errors"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// ErrInvalid marks a topology that breaks a rule of New.
var ErrInvalid = errors.New("invalid chain topology")

// MaxChains bounds the chains of one topology.
const MaxChains = 4096

// Kind says what a chain does.
type Kind uint8

// The kinds of chains.
const (
	// Root is the root chain: it records its children's digests.
	Root Kind = iota
	// Coordinator records the digests of its sub-chains and holds no
	// accounts (deeper sharding, paper Fig. 4).
	Coordinator
	// Transaction holds the accounts of its prefix and executes their
	// messages.
	Transaction
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Root:
		return "root"
	case Coordinator:
		return "coordinator"
	case Transaction:
		return "transaction"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Chain is one chain of a topology.
type Chain struct {
	ID   types.ChainID
	Kind Kind
	// Parent is the chain that records this chain's digests: the root for
	// a top-level chain, a coordinator for a sub-chain, the root itself for
	// the root.
	Parent types.ChainID
	// Prefix and PrefixBits are the addresses the chain owns: those whose
	// first PrefixBits bits equal Prefix.
	Prefix     uint64
	PrefixBits uint8
}

// span is the closed interval of 64-bit address prefixes a chain owns.
func (c Chain) span() (first, last uint64) {
	if c.PrefixBits == 0 {
		return 0, ^uint64(0)
	}
	shift := 64 - uint(c.PrefixBits)
	first = c.Prefix << shift
	return first, first | (^uint64(0) >> uint(c.PrefixBits))
}

// Owns reports whether addr starts with the chain's prefix.
func (c Chain) Owns(addr types.Address) bool { return addr.HasPrefix(c.Prefix, c.PrefixBits) }

// Topology is a validated, immutable set of chains.
type Topology struct {
	chains   []Chain // by ID; the root first
	byID     map[types.ChainID]int
	children map[types.ChainID][]types.ChainID
	// leaves are the transaction chains ordered by their first address, for
	// OwnerOf's binary search; leafFirst holds their first prefixes.
	leaves    []types.ChainID
	leafFirst []uint64
}

// New validates chains and returns their topology. The slice is copied.
func New(chains []Chain) (*Topology, error) {
	if len(chains) == 0 || len(chains) > MaxChains {
		return nil, fmt.Errorf("%w: %d chains, want 1 to %d", ErrInvalid, len(chains), MaxChains)
	}
	t := &Topology{
		chains:   slices.Clone(chains),
		byID:     make(map[types.ChainID]int, len(chains)),
		children: make(map[types.ChainID][]types.ChainID),
	}
	slices.SortFunc(t.chains, func(a, b Chain) int { return cmpID(a.ID, b.ID) })
	for i, c := range t.chains {
		if _, dup := t.byID[c.ID]; dup {
			return nil, fmt.Errorf("%w: chain %d listed twice", ErrInvalid, c.ID)
		}
		t.byID[c.ID] = i
		if err := checkPrefix(c); err != nil {
			return nil, err
		}
	}
	if err := t.checkTree(); err != nil {
		return nil, err
	}
	for _, c := range t.chains {
		if c.ID != types.RootChain {
			t.children[c.Parent] = append(t.children[c.Parent], c.ID)
		}
	}
	for _, c := range t.chains {
		if c.Kind == Transaction {
			continue
		}
		if err := t.checkPartition(c); err != nil {
			return nil, err
		}
	}
	for _, c := range t.chains {
		if c.Kind == Transaction {
			t.leaves = append(t.leaves, c.ID)
		}
	}
	slices.SortFunc(t.leaves, func(a, b types.ChainID) int {
		fa, _ := t.chains[t.byID[a]].span()
		fb, _ := t.chains[t.byID[b]].span()
		return cmpUint(fa, fb)
	})
	for _, id := range t.leaves {
		f, _ := t.chains[t.byID[id]].span()
		t.leafFirst = append(t.leafFirst, f)
	}
	return t, nil
}

func checkPrefix(c Chain) error {
	if c.PrefixBits > 64 {
		return fmt.Errorf("%w: chain %d has a prefix of %d bits, at most 64", ErrInvalid, c.ID, c.PrefixBits)
	}
	if c.PrefixBits < 64 && c.Prefix>>c.PrefixBits != 0 {
		return fmt.Errorf("%w: chain %d: prefix %#x has bits above its %d bits", ErrInvalid, c.ID, c.Prefix, c.PrefixBits)
	}
	return nil
}

// checkTree checks kinds and parents: one root at ID 0, every other chain
// under the root or a coordinator, extending its parent's prefix.
func (t *Topology) checkTree() error {
	root := t.chains[0]
	if root.ID != types.RootChain || root.Kind != Root {
		return fmt.Errorf("%w: chain 0 must be the root chain", ErrInvalid)
	}
	if root.Parent != types.RootChain || root.PrefixBits != 0 {
		return fmt.Errorf("%w: the root chain has no parent and owns the empty prefix", ErrInvalid)
	}
	for _, c := range t.chains[1:] {
		if c.Kind != Coordinator && c.Kind != Transaction {
			return fmt.Errorf("%w: chain %d: kind %v, only chain 0 is the root", ErrInvalid, c.ID, c.Kind)
		}
		pi, ok := t.byID[c.Parent]
		if !ok {
			return fmt.Errorf("%w: chain %d: parent %d is not a chain", ErrInvalid, c.ID, c.Parent)
		}
		p := t.chains[pi]
		if p.Kind == Transaction {
			return fmt.Errorf("%w: chain %d: parent %d is a transaction chain", ErrInvalid, c.ID, p.ID)
		}
		if c.PrefixBits < p.PrefixBits || c.Prefix>>(c.PrefixBits-p.PrefixBits) != p.Prefix {
			return fmt.Errorf("%w: chain %d: prefix %#x/%d does not extend parent %d's %#x/%d",
				ErrInvalid, c.ID, c.Prefix, c.PrefixBits, p.ID, p.Prefix, p.PrefixBits)
		}
	}
	// Parents have shorter prefixes than their children, so following
	// parents always ends at the root: no cycle is possible.
	return nil
}

// checkPartition checks that p's children cover p's prefix without overlap.
func (t *Topology) checkPartition(p Chain) error {
	kids := t.children[p.ID]
	if len(kids) == 0 {
		return fmt.Errorf("%w: %v chain %d has no child chains", ErrInvalid, p.Kind, p.ID)
	}
	spans := make([][2]uint64, len(kids))
	for i, id := range kids {
		f, l := t.chains[t.byID[id]].span()
		spans[i] = [2]uint64{f, l}
	}
	slices.SortFunc(spans, func(a, b [2]uint64) int { return cmpUint(a[0], b[0]) })
	first, last := p.span()
	next := first
	for i, s := range spans {
		if s[0] != next {
			if s[0] < next {
				return fmt.Errorf("%w: children of chain %d overlap", ErrInvalid, p.ID)
			}
			return fmt.Errorf("%w: children of chain %d leave addresses from %#016x uncovered", ErrInvalid, p.ID, next)
		}
		if i == len(spans)-1 {
			if s[1] != last {
				return fmt.Errorf("%w: children of chain %d leave addresses after %#016x uncovered", ErrInvalid, p.ID, s[1])
			}
			break
		}
		next = s[1] + 1
	}
	return nil
}

// Uniform returns the topology of a root chain and n transaction chains,
// IDs 1 to n in address order, with balanced prefixes: the shortest prefix
// is split in two until there are n, so a power of two gives n prefixes of
// log2(n) bits.
func Uniform(n int) (*Topology, error) {
	if n < 1 || n >= MaxChains {
		return nil, fmt.Errorf("%w: %d transaction chains, want 1 to %d", ErrInvalid, n, MaxChains-1)
	}
	type prefix struct {
		value uint64
		bits  uint8
	}
	ps := []prefix{{0, 0}}
	for len(ps) < n {
		// Split the first of the shortest prefixes (in address order).
		best := 0
		for i, p := range ps {
			if p.bits < ps[best].bits {
				best = i
			}
		}
		p := ps[best]
		ps = slices.Replace(ps, best, best+1, prefix{p.value << 1, p.bits + 1}, prefix{p.value<<1 | 1, p.bits + 1})
	}
	cs := []Chain{{ID: types.RootChain, Kind: Root}}
	for i, p := range ps {
		cs = append(cs, Chain{ID: types.ChainID(i + 1), Kind: Transaction, Parent: types.RootChain, Prefix: p.value, PrefixBits: p.bits})
	}
	return New(cs)
}

// WithSubChains returns a topology in which transaction chain id becomes a
// coordinator of 2^bits transaction sub-chains, IDs firstID onwards in
// address order, each owning id's prefix extended by bits bits.
func (t *Topology) WithSubChains(id types.ChainID, bits uint8, firstID types.ChainID) (*Topology, error) {
	c, ok := t.Chain(id)
	if !ok || c.Kind != Transaction {
		return nil, fmt.Errorf("%w: chain %d is not a transaction chain", ErrInvalid, id)
	}
	if bits < 1 || bits > 10 || int(c.PrefixBits)+int(bits) > 64 {
		return nil, fmt.Errorf("%w: cannot split chain %d's %d-bit prefix by %d bits", ErrInvalid, id, c.PrefixBits, bits)
	}
	cs := t.Chains()
	cs[t.byID[id]].Kind = Coordinator
	for i := range uint64(1) << bits {
		cs = append(cs, Chain{
			ID: firstID + types.ChainID(i), Kind: Transaction, Parent: id,
			Prefix: c.Prefix<<bits | i, PrefixBits: c.PrefixBits + bits,
		})
	}
	return New(cs)
}

// Chains returns a copy of the chains, by ID (the root first).
func (t *Topology) Chains() []Chain { return slices.Clone(t.chains) }

// Chain returns the chain with the given ID.
func (t *Topology) Chain(id types.ChainID) (Chain, bool) {
	i, ok := t.byID[id]
	if !ok {
		return Chain{}, false
	}
	return t.chains[i], true
}

// Children returns the chains whose digests id records, by ID; nil for a
// transaction chain.
func (t *Topology) Children(id types.ChainID) []types.ChainID { return slices.Clone(t.children[id]) }

// Transactions returns the transaction chains' IDs in address order.
func (t *Topology) Transactions() []types.ChainID { return slices.Clone(t.leaves) }

// OwnerOf returns the transaction chain that holds address a.
func (t *Topology) OwnerOf(a types.Address) types.ChainID {
	v := a.Prefix(64)
	i, found := slices.BinarySearch(t.leafFirst, v)
	if !found {
		i-- // the last leaf starting before v; leaves cover from 0, so i >= 0
	}
	return t.leaves[i]
}

// Spec returns the exec.ChainSpec of transaction chain id.
func (t *Topology) Spec(id types.ChainID, limits exec.Limits) (exec.ChainSpec, error) {
	c, ok := t.Chain(id)
	if !ok || c.Kind != Transaction {
		return exec.ChainSpec{}, fmt.Errorf("%w: chain %d is not a transaction chain", ErrInvalid, id)
	}
	return exec.ChainSpec{ID: id, Prefix: c.Prefix, PrefixBits: c.PrefixBits, Limits: limits}, nil
}

func cmpID(a, b types.ChainID) int { return cmpUint(uint64(a), uint64(b)) }

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
