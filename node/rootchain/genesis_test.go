package rootchain

import (
	"bytes"
	"slices"
	"testing"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

func TestGenesisHeadersCommitToAccountsAndChildren(t *testing.T) {
	flat, err := chains.Uniform(2)
	if err != nil {
		t.Fatal(err)
	}
	topo, err := flat.WithSubChains(2, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	funded := map[types.ChainID][]actor.Account{}
	for i := range 40 {
		var a types.Address
		a[0], a[19] = byte(i*7), byte(i)
		owner := topo.OwnerOf(a)
		funded[owner] = append(funded[owner], actor.Account{Address: a, Balance: uint64(100 + i)})
	}
	for _, accts := range funded { // NewMemState wants increasing addresses
		slices.SortFunc(accts, func(a, b actor.Account) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	}
	chainOf := func(id types.ChainID) (exec.ChainSpec, []actor.Account) {
		spec, err := topo.Spec(id, exec.Limits{})
		if err != nil {
			t.Fatalf("spec of %d: %v", id, err)
		}
		return spec, funded[id]
	}
	hs, err := GenesisHeaders(topo, 1234, chainOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != len(topo.Chains()) {
		t.Fatalf("%d headers for %d chains", len(hs), len(topo.Chains()))
	}
	for _, c := range topo.Chains() {
		h := hs[c.ID]
		if h.ChainID != c.ID || h.Height != 0 || !h.ParentHash.IsZero() || h.TimestampMillis != 1234 {
			t.Fatalf("chain %d: header %+v", c.ID, h)
		}
		if c.Kind == chains.Transaction {
			_, accts := chainOf(c.ID)
			st, err := exec.NewMemState(accts)
			if err != nil {
				t.Fatal(err)
			}
			if h.StateRoot != st.Root() {
				t.Fatalf("chain %d: state root does not commit to its accounts", c.ID)
			}
			continue
		}
		st, err := NewState(c.ID, topo, hs)
		if err != nil {
			t.Fatal(err)
		}
		if h.StateRoot != st.Root() {
			t.Fatalf("recorder %d: state root is not its children's tips", c.ID)
		}
	}
	// A change in one account changes its chain's header and every
	// recorder above it, and nothing else.
	funded[1][0].Balance++
	again, err := GenesisHeaders(topo, 1234, chainOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range topo.Chains() {
		changed := again[c.ID] != hs[c.ID]
		want := c.ID == 1 || c.ID == types.RootChain
		if changed != want {
			t.Fatalf("chain %d: changed=%v after chain 1's account changed", c.ID, changed)
		}
	}
}
