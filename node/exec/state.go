package exec

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// StateView is the read-only state of one chain before a block: the shell
// serves it from the state store. Execute, Check and Verify only read it;
// with a parallel Runner they read it from several goroutines at once, so
// it must be safe for concurrent reads.
type StateView interface {
	// Account returns the account at addr, and false if there is none.
	// The returned account's Code and Storage must not be modified by
	// anyone while the view is in use.
	Account(addr types.Address) (actor.Account, bool)
	// StateLeaves returns the leaf of every account of the chain, in
	// increasing address order: the leaves of the state root. The slice is
	// read-only.
	StateLeaves() []AccountLeaf
}

// AccountLeaf is an account's leaf in the state tree: its address and the
// leaf hash of its encoding (actor.Account.LeafHash).
type AccountLeaf struct {
	Address types.Address
	Hash    types.Hash
}

// MemState is an in-memory StateView for tests, benchmarks and the
// simulator. Apply commits a block's write set; nothing else changes it.
// It is safe for concurrent reads between Applies.
type MemState struct {
	accounts map[types.Address]actor.Account
	leaves   []AccountLeaf
}

// NewMemState returns a state holding copies of accounts. It fails on two
// accounts with the same address.
func NewMemState(accounts []actor.Account) (*MemState, error) {
	s := &MemState{accounts: make(map[types.Address]actor.Account, len(accounts))}
	s.leaves = make([]AccountLeaf, 0, len(accounts))
	for i := range accounts {
		a := accounts[i].Clone()
		if _, dup := s.accounts[a.Address]; dup {
			return nil, fmt.Errorf("state: two accounts at %v", a.Address)
		}
		s.accounts[a.Address] = a
		s.leaves = append(s.leaves, AccountLeaf{Address: a.Address, Hash: a.LeafHash()})
	}
	slices.SortFunc(s.leaves, compareLeaves)
	return s, nil
}

func compareLeaves(a, b AccountLeaf) int { return bytes.Compare(a.Address[:], b.Address[:]) }

// Account returns the account at addr.
func (s *MemState) Account(addr types.Address) (actor.Account, bool) {
	a, ok := s.accounts[addr]
	return a, ok
}

// StateLeaves returns the leaves in address order.
func (s *MemState) StateLeaves() []AccountLeaf { return s.leaves }

// Len returns the number of accounts.
func (s *MemState) Len() int { return len(s.leaves) }

// Root returns the state root.
func (s *MemState) Root() types.Hash {
	return treeRoots(Sequential{}, mergeLeafHashes(s.leaves, nil))[0]
}

// Accounts returns every account in address order.
func (s *MemState) Accounts() []actor.Account {
	out := make([]actor.Account, len(s.leaves))
	for i, l := range s.leaves {
		out[i] = s.accounts[l.Address]
	}
	return out
}

// Apply commits a write set (Result.WriteSet: accounts in strictly
// increasing address order), replacing or adding each account.
func (s *MemState) Apply(writeSet []actor.Account) error {
	for i := 1; i < len(writeSet); i++ {
		if bytes.Compare(writeSet[i-1].Address[:], writeSet[i].Address[:]) >= 0 {
			return fmt.Errorf("state: write set not in strictly increasing address order at %d", i)
		}
	}
	changed := make([]AccountLeaf, len(writeSet))
	for i := range writeSet {
		a := writeSet[i].Clone()
		s.accounts[a.Address] = a
		changed[i] = AccountLeaf{Address: a.Address, Hash: a.LeafHash()}
	}
	s.leaves = mergeLeaves(s.leaves, changed)
	return nil
}

// mergeLeaves returns the leaves of base with those of changed put in
// (replacing a leaf of the same address); both are in increasing address
// order, and so is the result.
func mergeLeaves(base, changed []AccountLeaf) []AccountLeaf {
	out := make([]AccountLeaf, 0, len(base)+len(changed))
	i, j := 0, 0
	for i < len(base) && j < len(changed) {
		switch c := compareLeaves(base[i], changed[j]); {
		case c < 0:
			out = append(out, base[i])
			i++
		case c > 0:
			out = append(out, changed[j])
			j++
		default:
			out = append(out, changed[j])
			i++
			j++
		}
	}
	out = append(out, base[i:]...)
	return append(out, changed[j:]...)
}

// mergeLeafHashes returns the leaf hashes of mergeLeaves(base, changed)
// without building the merged leaves.
func mergeLeafHashes(base, changed []AccountLeaf) []types.Hash {
	out := make([]types.Hash, 0, len(base)+len(changed))
	i, j := 0, 0
	for i < len(base) && j < len(changed) {
		switch c := compareLeaves(base[i], changed[j]); {
		case c < 0:
			out = append(out, base[i].Hash)
			i++
		case c > 0:
			out = append(out, changed[j].Hash)
			j++
		default:
			out = append(out, changed[j].Hash)
			i++
			j++
		}
	}
	for ; i < len(base); i++ {
		out = append(out, base[i].Hash)
	}
	for ; j < len(changed); j++ {
		out = append(out, changed[j].Hash)
	}
	return out
}

// ProveAccount returns the proof that the account at addr is in the state
// whose leaves are given (StateView.StateLeaves of the state after the
// block). It fails if there is no such account: absence cannot be proved
// with this tree.
func ProveAccount(leaves []AccountLeaf, addr types.Address) (merkle.Proof, error) {
	i, found := slices.BinarySearchFunc(leaves, addr, func(l AccountLeaf, a types.Address) int {
		return bytes.Compare(l.Address[:], a[:])
	})
	if !found {
		return merkle.Proof{}, fmt.Errorf("prove account %v: not in the state", addr)
	}
	hashes := make([]types.Hash, len(leaves))
	for k := range leaves {
		hashes[k] = leaves[k].Hash
	}
	return merkle.Prove(hashes, uint64(i))
}

// VerifyAccountProof checks that acct, exactly this state of it, is in the
// state with root stateRoot. The leaf is the hash of the whole account
// encoding, address included, so the proof's index carries no meaning and
// is not checked against anything (see crypto/merkle on leaf counts).
func VerifyAccountProof(stateRoot types.Hash, acct *actor.Account, proof merkle.Proof) error {
	if len(acct.Code) > actor.MaxCodeLen {
		return fmt.Errorf("verify account proof: code of %d bytes, maximum %d", len(acct.Code), actor.MaxCodeLen)
	}
	if err := merkle.Verify(stateRoot, acct.LeafHash(), proof); err != nil {
		return fmt.Errorf("verify account proof of %v: %w", acct.Address, err)
	}
	return nil
}
