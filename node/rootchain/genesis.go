package rootchain

import (
	"fmt"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// GenesisChain gives what block 0 of transaction chain id depends on: its
// spec and its funded accounts.
type GenesisChain func(id types.ChainID) (exec.ChainSpec, []actor.Account)

// GenesisHeaders returns the header of block 0 of every chain of topo, at
// timeMillis: a transaction chain's carries the roots of an empty body over
// its genesis accounts; a recorder chain's (root, coordinator) the state
// root of its children's block-0 headers and the record root of an empty
// body. None has a parent. node/genesis and the simulator build their
// networks' first blocks with it, so both derive the same ones.
func GenesisHeaders(topo *chains.Topology, timeMillis uint64, chain GenesisChain) (map[types.ChainID]types.Header, error) {
	out := make(map[types.ChainID]types.Header, len(topo.Chains()))
	// Children have longer prefixes than their recorders, but IDs say
	// nothing of depth: walk the tree from the root, children first.
	var walk func(id types.ChainID) error
	walk = func(id types.ChainID) error {
		c, _ := topo.Chain(id)
		h := types.Header{Version: types.HeaderVersion, ChainID: id, TimestampMillis: timeMillis}
		if c.Kind == chains.Transaction {
			spec, accounts := chain(id)
			state, err := exec.NewMemState(accounts)
			if err != nil {
				return fmt.Errorf("genesis state of chain %d: %w", id, err)
			}
			res, err := exec.Execute(state, spec, nil, exec.Env{})
			if err != nil {
				return fmt.Errorf("genesis roots of chain %d: %w", id, err)
			}
			res.Roots.SetHeader(&h)
			out[id] = h
			return nil
		}
		for _, child := range topo.Children(id) {
			if child != id {
				if err := walk(child); err != nil {
					return err
				}
			}
		}
		st, err := NewState(id, topo, out)
		if err != nil {
			return fmt.Errorf("genesis state of chain %d: %w", id, err)
		}
		h.InputRoot = merkle.EmptyRoot()
		h.StateRoot = st.Root()
		out[id] = h
		return nil
	}
	if err := walk(types.RootChain); err != nil {
		return nil, err
	}
	return out, nil
}
