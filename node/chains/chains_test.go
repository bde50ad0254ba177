package chains

import (
	"encoding/binary"
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

func addrWithPrefix(first uint64) types.Address {
	var a types.Address
	binary.BigEndian.PutUint64(a[:8], first)
	return a
}

func TestUniformPrefixes(t *testing.T) {
	cases := []struct {
		n    int
		bits []uint8 // per chain 1..n
	}{
		{1, []uint8{0}},
		{2, []uint8{1, 1}},
		{3, []uint8{2, 2, 1}},
		{4, []uint8{2, 2, 2, 2}},
		{8, []uint8{3, 3, 3, 3, 3, 3, 3, 3}},
	}
	for _, tc := range cases {
		topo, err := Uniform(tc.n)
		if err != nil {
			t.Fatalf("Uniform(%d): %v", tc.n, err)
		}
		if got := len(topo.Transactions()); got != tc.n {
			t.Fatalf("Uniform(%d): %d transaction chains", tc.n, got)
		}
		for i, b := range tc.bits {
			c, ok := topo.Chain(types.ChainID(i + 1))
			if !ok || c.PrefixBits != b || c.Kind != Transaction || c.Parent != types.RootChain {
				t.Fatalf("Uniform(%d): chain %d = %+v, want %d bits under the root", tc.n, i+1, c, b)
			}
		}
		if got := topo.Children(types.RootChain); len(got) != tc.n {
			t.Fatalf("Uniform(%d): root has %d children", tc.n, len(got))
		}
	}
	topo, _ := Uniform(4)
	for i, first := range []uint64{0, 1 << 62, 2 << 62, 3 << 62} {
		for _, a := range []types.Address{addrWithPrefix(first), addrWithPrefix(first | (1<<62 - 1))} {
			if got := topo.OwnerOf(a); got != types.ChainID(i+1) {
				t.Fatalf("OwnerOf(%v) = %d, want %d", a, got, i+1)
			}
		}
	}
	for _, n := range []int{0, -1, MaxChains} {
		if _, err := Uniform(n); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Uniform(%d): %v, want ErrInvalid", n, err)
		}
	}
}

func TestNewRejects(t *testing.T) {
	root := Chain{ID: 0, Kind: Root}
	tx := func(id types.ChainID, parent types.ChainID, p uint64, bits uint8) Chain {
		return Chain{ID: id, Kind: Transaction, Parent: parent, Prefix: p, PrefixBits: bits}
	}
	cases := []struct {
		name   string
		chains []Chain
	}{
		{"empty", nil},
		{"no root", []Chain{tx(1, 0, 0, 1), tx(2, 0, 1, 1)}},
		{"root not at 0", []Chain{{ID: 5, Kind: Root}}},
		{"root with a prefix", []Chain{{ID: 0, Kind: Root, Prefix: 1, PrefixBits: 1}, tx(1, 0, 0, 1)}},
		{"root without children", []Chain{root}},
		{"second root", []Chain{root, {ID: 1, Kind: Root, PrefixBits: 1}, tx(2, 0, 1, 1)}},
		{"duplicate id", []Chain{root, tx(1, 0, 0, 1), tx(1, 0, 1, 1)}},
		{"unknown parent", []Chain{root, tx(1, 0, 0, 1), tx(2, 9, 1, 1)}},
		{"parent is a transaction chain", []Chain{root, tx(1, 0, 0, 1), tx(2, 1, 2, 2)}},
		{"gap", []Chain{root, tx(1, 0, 0, 2), tx(2, 0, 1, 1)}},
		{"overlap", []Chain{root, tx(1, 0, 0, 1), tx(2, 0, 0, 2), tx(3, 0, 1, 1)}},
		{"prefix bits above", []Chain{root, tx(1, 0, 2, 1), tx(2, 0, 1, 1)}},
		{"prefix too long", []Chain{root, tx(1, 0, 0, 65)}},
		{"child does not extend parent", []Chain{root,
			{ID: 1, Kind: Coordinator, Parent: 0, Prefix: 0, PrefixBits: 1}, tx(2, 0, 1, 1),
			tx(3, 1, 2, 2), tx(4, 1, 3, 2)}},
		{"coordinator without children", []Chain{root, {ID: 1, Kind: Coordinator, Parent: 0, PrefixBits: 1}, tx(2, 0, 1, 1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.chains); !errors.Is(err, ErrInvalid) {
				t.Fatalf("New: %v, want ErrInvalid", err)
			}
		})
	}
}

func TestWithSubChains(t *testing.T) {
	topo, err := Uniform(2)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := topo.WithSubChains(2, 2, 10)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := sub.Chain(2); c.Kind != Coordinator {
		t.Fatalf("chain 2 is %v, want coordinator", c.Kind)
	}
	if got := sub.Children(2); len(got) != 4 || got[0] != 10 || got[3] != 13 {
		t.Fatalf("children of 2: %v", got)
	}
	// Chain 2 owned prefix 1/1; sub-chain 10+i owns 1<<2|i over 3 bits.
	for i := range uint64(4) {
		a := addrWithPrefix((4 | i) << 61)
		if got := sub.OwnerOf(a); got != types.ChainID(10+i) {
			t.Fatalf("OwnerOf(%v) = %d, want %d", a, got, 10+i)
		}
	}
	if got := sub.OwnerOf(addrWithPrefix(0)); got != 1 {
		t.Fatalf("chain 1 lost its accounts: owner %d", got)
	}
	if _, err := sub.Spec(2, exec.Limits{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Spec of a coordinator: %v", err)
	}
	if _, err := sub.WithSubChains(2, 1, 20); !errors.Is(err, ErrInvalid) {
		t.Fatalf("splitting a coordinator: %v", err)
	}
	if _, err := sub.WithSubChains(1, 1, 10); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reusing IDs: %v", err)
	}
	if c, _ := topo.Chain(2); c.Kind != Transaction {
		t.Fatal("the original topology changed")
	}
}

// TestOwnerOfProperty: on random split trees, the owner is the one
// transaction chain whose prefix the address has.
func TestOwnerOfProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		topo, err := Uniform(rapid.IntRange(1, 40).Draw(t, "n"))
		if err != nil {
			t.Fatal(err)
		}
		next := types.ChainID(1000)
		for range rapid.IntRange(0, 3).Draw(t, "splits") {
			txs := topo.Transactions()
			id := txs[rapid.IntRange(0, len(txs)-1).Draw(t, "which")]
			bits := uint8(rapid.IntRange(1, 3).Draw(t, "bits"))
			sub, err := topo.WithSubChains(id, bits, next)
			if err != nil {
				t.Fatal(err)
			}
			topo, next = sub, next+types.ChainID(1)<<bits
		}
		var a types.Address
		copy(a[:], rapid.SliceOfN(rapid.Byte(), 20, 20).Draw(t, "address"))
		owner := topo.OwnerOf(a)
		holders := 0
		for _, c := range topo.Chains() {
			if c.Kind == Transaction && c.Owns(a) {
				holders++
				if c.ID != owner {
					t.Fatalf("address %v owned by %d, OwnerOf says %d", a, c.ID, owner)
				}
			}
		}
		if holders != 1 {
			t.Fatalf("address %v held by %d transaction chains", a, holders)
		}
		// The owner's recorders lead to the root.
		c, _ := topo.Chain(owner)
		for steps := 0; c.ID != types.RootChain; steps++ {
			if steps > len(topo.Chains()) {
				t.Fatal("parent chain does not reach the root")
			}
			c, _ = topo.Chain(c.Parent)
		}
	})
}
