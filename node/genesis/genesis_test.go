package genesis_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := range s {
		s[i] = byte(seed >> (8 * (i % 8)))
	}
	return rand.NewChaCha8(s)
}

// nodes builds n node entries with keys drawn from seed.
func nodes(t testing.TB, n int, seed uint64) []genesis.Member {
	t.Helper()
	rnd := seeded(seed)
	out := make([]genesis.Member, n)
	for i := range out {
		k, err := keys.Generate(rnd)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = genesis.NewMember(k.Public(), fmt.Sprintf("127.0.0.1:%d", 7600+i))
	}
	return out
}

// address returns an address whose first byte is b.
func address(b byte) types.Address {
	var a types.Address
	a[0] = b
	a[19] = 1
	return a
}

// validGenesis is a root chain over 4 nodes and two transaction chains of
// 2 members each (chain 1 owns addresses starting with bit 0, chain 2 with
// bit 1), with an account on each.
func validGenesis(t testing.TB) *genesis.Genesis {
	t.Helper()
	g, err := genesis.NewUniform(1_767_225_600_000, nodes(t, 4, 1), 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	g.Accounts = []genesis.Account{
		{Address: address(0x01), Balance: 1000},
		{Address: address(0x81), Balance: 2000},
	}
	return g
}

func TestNewUniformLayout(t *testing.T) {
	g := validGenesis(t)
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(g.Chains) != 3 || g.Chains[0].Kind != chains.Root || len(g.Chains[0].Committee) != 4 {
		t.Fatalf("chains %+v", g.Chains)
	}
	for node, want := range [][]types.ChainID{{0, 1}, {0, 1}, {0, 2}, {0, 2}} {
		got := g.ChainsOf(node)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("node %d runs chains %v, want %v", node, got, want)
		}
	}
	if i, ok := g.MemberOf(2, 3); !ok || i != 1 {
		t.Fatalf("node 3 in chain 2: member %d, %v; want 1", i, ok)
	}
	if _, ok := g.MemberOf(1, 3); ok {
		t.Fatal("node 3 is a member of chain 1")
	}
	if keys := g.PublicKeys(2); len(keys) != 2 || !keys[0].Equal(g.Nodes[2].BLSPublicKey) {
		t.Fatal("chain 2's keys are not nodes 2 and 3")
	}
	if n, ok := g.NodeOf(g.Nodes[3].BLSPublicKey); !ok || n != 3 {
		t.Fatalf("NodeOf = %d, %v", n, ok)
	}
	if _, err := genesis.NewUniform(1, nodes(t, 3, 1), 2, 2); !errors.Is(err, genesis.ErrInvalid) {
		t.Fatalf("2 chains of 2 over 3 nodes: %v, want ErrInvalid", err)
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	g := validGenesis(t)
	text, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := genesis.Parse(text)
	if err != nil {
		t.Fatalf("Parse(Marshal(g)): %v", err)
	}
	again, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(text, again) {
		t.Fatalf("re-marshal differs:\n%s\n%s", text, again)
	}
	if got.Nodes[2].PeerID != g.Nodes[2].PeerID || !got.Nodes[3].BLSPublicKey.Equal(g.Nodes[3].BLSPublicKey) {
		t.Fatal("nodes changed in the round trip")
	}
	if fmt.Sprint(got.Chains) != fmt.Sprint(g.Chains) {
		t.Fatalf("chains changed in the round trip: %+v, want %+v", got.Chains, g.Chains)
	}
}

// The hash names the content, not the layout: reindenting the file keeps it,
// changing a balance or a committee does not.
func TestHashIgnoresWhitespaceOnly(t *testing.T) {
	g := validGenesis(t)
	text, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want, err := g.Hash()
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, text); err != nil {
		t.Fatal(err)
	}
	reparsed, err := genesis.Parse(compact.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := reparsed.Hash(); got != want {
		t.Fatal("compacting the file changed its hash")
	}
	reparsed.Accounts[0].Balance++
	if got, _ := reparsed.Hash(); got == want {
		t.Fatal("changing a balance kept the hash")
	}
	reparsed.Accounts[0].Balance--
	reparsed.Chains[1].Committee[0], reparsed.Chains[1].Committee[1] = reparsed.Chains[1].Committee[1], reparsed.Chains[1].Committee[0]
	if got, _ := reparsed.Hash(); got == want {
		t.Fatal("reordering a committee kept the hash")
	}
}

func TestHeadersOfEveryChain(t *testing.T) {
	g := validGenesis(t)
	hs, err := g.Headers()
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 3 {
		t.Fatalf("%d headers, want 3", len(hs))
	}
	for id, h := range hs {
		if h.ChainID != id || h.Height != 0 || !h.ParentHash.IsZero() || h.TimestampMillis != g.GenesisTimeMillis {
			t.Fatalf("chain %d: genesis header %+v", id, h)
		}
		if err := h.ValidateBasic(); err != nil {
			t.Fatalf("chain %d: genesis header: %v", id, err)
		}
	}
	for _, id := range []types.ChainID{1, 2} {
		accounts := g.GenesisAccounts(id)
		if len(accounts) != 1 {
			t.Fatalf("chain %d holds %d genesis accounts, want 1", id, len(accounts))
		}
		state, err := exec.NewMemState(accounts)
		if err != nil {
			t.Fatal(err)
		}
		if hs[id].StateRoot != state.Root() {
			t.Fatalf("chain %d: state root %s, accounts give %s", id, hs[id].StateRoot, state.Root())
		}
	}
	topo, err := g.Topology()
	if err != nil {
		t.Fatal(err)
	}
	st, err := rootchain.NewState(types.RootChain, topo, hs)
	if err != nil {
		t.Fatal(err)
	}
	if hs[0].StateRoot != st.Root() {
		t.Fatal("root chain's genesis state root is not the recorder state of its children's genesis headers")
	}
	h1, err := validGenesis(t).Block(1)
	want := hs[1]
	if err != nil || h1.Hash() != want.Hash() {
		t.Fatalf("Block is not deterministic: %v", err)
	}
	if _, err := g.Block(9); !errors.Is(err, genesis.ErrInvalid) {
		t.Fatalf("Block(9): %v, want ErrInvalid", err)
	}
}

func TestValidateReportsEveryRule(t *testing.T) {
	other := nodes(t, 1, 99)[0]
	cases := []struct {
		name   string
		mutate func(g *genesis.Genesis)
		says   []string
	}{
		{"no time", func(g *genesis.Genesis) { g.GenesisTimeMillis = 0 }, []string{"genesis_time_ms"}},
		{"no nodes", func(g *genesis.Genesis) { g.Nodes = nil }, []string{"0 nodes", "node 0 is not in nodes"}},
		{"foreign proof", func(g *genesis.Genesis) { g.Nodes[1].ProofOfPossession = other.ProofOfPossession }, []string{"nodes[1]: proof of possession"}},
		{"duplicate key", func(g *genesis.Genesis) {
			g.Nodes[2].BLSPublicKey = g.Nodes[0].BLSPublicKey
			g.Nodes[2].ProofOfPossession = g.Nodes[0].ProofOfPossession
		}, []string{"nodes[2]: same bls_public_key as nodes[0]"}},
		{"duplicate peer", func(g *genesis.Genesis) { g.Nodes[3].PeerID = g.Nodes[1].PeerID }, []string{"nodes[3]: same peer_id as nodes[1]"}},
		{"zero peer", func(g *genesis.Genesis) { g.Nodes[0].PeerID = [32]byte{} }, []string{"nodes[0]: peer_id missing"}},
		{"duplicate address", func(g *genesis.Genesis) { g.Nodes[1].Address = g.Nodes[0].Address }, []string{"nodes[1]: same address"}},
		{"bad addresses", func(g *genesis.Genesis) {
			g.Nodes[0].Address = "localhost"
			g.Nodes[1].Address = ":7600"
			g.Nodes[2].Address = "127.0.0.1:0"
			g.Nodes[3].Address = "::1:7600"
		}, []string{"nodes[0]: address", "nodes[1]: address", "nodes[2]: address", "nodes[3]: address"}},
		{"prefix gap", func(g *genesis.Genesis) { g.Chains[1].PrefixBits = 2 }, []string{"chains: invalid chain topology"}},
		{"chains out of order", func(g *genesis.Genesis) { g.Chains[1], g.Chains[2] = g.Chains[2], g.Chains[1] }, []string{"chains[2]: id 1 not after"}},
		{"sub-chain member outside its coordinator", func(g *genesis.Genesis) {
			g.Chains[2].Kind = chains.Coordinator
			g.Chains = append(g.Chains, genesis.Chain{ID: 3, Kind: chains.Transaction, Parent: 2, Prefix: 1, PrefixBits: 1, Committee: []int{2, 3}})
			g.Chains[2].Committee = []int{2}
			g.Chains[1].Committee = []int{0, 1}
		}, []string{"node 3 of sub-chain 3 is not in the committee of its coordinator 2"}},
		{"nested coordinator", func(g *genesis.Genesis) {
			g.Chains[2].Kind = chains.Coordinator
			g.Chains = append(g.Chains,
				genesis.Chain{ID: 3, Kind: chains.Coordinator, Parent: 2, Prefix: 1, PrefixBits: 1, Committee: []int{2, 3}},
				genesis.Chain{ID: 4, Kind: chains.Transaction, Parent: 3, Prefix: 1, PrefixBits: 1, Committee: []int{2, 3}})
		}, []string{"coordinator chain 3 is under chain 2"}},
		{"gas on the root", func(g *genesis.Genesis) { g.Chains[0].BlockGas = 5 }, []string{"chains[0]: block_gas"}},
		{"empty committee", func(g *genesis.Genesis) { g.Chains[2].Committee = nil }, []string{"chains[2]: committee of 0"}},
		{"unknown node", func(g *genesis.Genesis) { g.Chains[1].Committee[1] = 7 }, []string{"chains[1]: committee[1]: node 7 is not in nodes"}},
		{"member twice", func(g *genesis.Genesis) { g.Chains[1].Committee[1] = 0 }, []string{"chains[1]: committee[1]: node 0 already member 0"}},
		{"two transaction chains", func(g *genesis.Genesis) { g.Chains[2].Committee[0] = 0 }, []string{"node 0 is already in the committee of transaction chain 1"}},
		{"outside the root", func(g *genesis.Genesis) { g.Chains[0].Committee = g.Chains[0].Committee[:3] }, []string{"nodes[3] is not in the root committee", "block sync"}},
		{"unsorted accounts", func(g *genesis.Genesis) { g.Accounts[0], g.Accounts[1] = g.Accounts[1], g.Accounts[0] }, []string{"accounts[1]"}},
		{"duplicate account", func(g *genesis.Genesis) { g.Accounts[1].Address = g.Accounts[0].Address }, []string{"accounts[1]"}},
		{"supply overflow", func(g *genesis.Genesis) { g.Accounts[0].Balance = math.MaxUint64 }, []string{"past 2^64-1"}},
		{"two problems at once", func(g *genesis.Genesis) { g.GenesisTimeMillis = 0; g.Nodes[0].Address = "x" }, []string{"genesis_time_ms", "nodes[0]: address"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := validGenesis(t)
			c.mutate(g)
			err := g.Validate()
			if !errors.Is(err, genesis.ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if _, err := g.Headers(); !errors.Is(err, genesis.ErrInvalid) {
				t.Errorf("Headers of an invalid genesis: %v", err)
			}
		})
	}
	if err := validGenesis(t).Validate(); err != nil {
		t.Fatalf("valid genesis: %v", err)
	}
	ipv6 := validGenesis(t)
	ipv6.Nodes[0].Address = "[::1]:7600"
	if err := ipv6.Validate(); err != nil {
		t.Fatalf("bracketed IPv6 address refused: %v", err)
	}
	rootOnly := validGenesis(t)
	rootOnly.Chains[2].Committee = []int{2}
	if err := rootOnly.Validate(); err != nil {
		t.Fatalf("a node in the root committee only refused: %v", err)
	}
}

// NewLayout over a topology with sub-chains puts each sub-chain's members in
// the committee of its coordinator, and the result validates.
func TestLayoutWithSubChains(t *testing.T) {
	topo, err := chains.Uniform(2)
	if err != nil {
		t.Fatal(err)
	}
	topo, err = topo.WithSubChains(2, 1, 3) // chain 2 coordinates 3 and 4
	if err != nil {
		t.Fatal(err)
	}
	g, err := genesis.NewLayout(1, nodes(t, 6, 3), topo, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[types.ChainID][]int{0: {0, 1, 2, 3, 4, 5}, 1: {0, 1}, 2: {2, 3, 4, 5}, 3: {2, 3}, 4: {4, 5}}
	for id, w := range want {
		c, ok := g.Chain(id)
		if !ok || fmt.Sprint(c.Committee) != fmt.Sprint(w) {
			t.Fatalf("chain %d committee %v, want %v", id, c.Committee, w)
		}
	}
	if got := g.ChainsOf(4); fmt.Sprint(got) != "[0 2 4]" {
		t.Fatalf("node 4 runs %v, want [0 2 4]", got)
	}
	hs, err := g.Headers()
	if err != nil || len(hs) != 5 {
		t.Fatalf("Headers: %d, %v", len(hs), err)
	}
	st, err := rootchain.NewState(2, topo, hs)
	if err != nil || hs[2].StateRoot != st.Root() {
		t.Fatalf("the coordinator's genesis state root is not its recorder state: %v", err)
	}
	twice := g
	twice.Chains[1].Committee = []int{0, 2} // node 2 is in chain 3 too
	if err := twice.Validate(); err == nil || !strings.Contains(err.Error(), "a node runs at most one") {
		t.Fatalf("a node in two transaction chains: %v", err)
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	text, err := validGenesis(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(text, []byte(old)) {
			t.Fatalf("%q not in the file", old)
		}
		return bytes.Replace(text, []byte(old), []byte(new), 1)
	}
	var f map[string]any
	if err := json.Unmarshal(text, &f); err != nil {
		t.Fatal(err)
	}
	firstKey := f["nodes"].([]any)[0].(map[string]any)["bls_public_key"].(string)
	cases := []struct {
		name string
		data []byte
		want error
		says string
	}{
		{"not json", []byte("genesis"), genesis.ErrMalformed, "invalid character"},
		{"trailing", append(append([]byte{}, text...), '{', '}'), genesis.ErrMalformed, "after the JSON"},
		{"version 1", replace(genesis.FileType, "thinkey-genesis/v1"), genesis.ErrMalformed, "type"},
		{"unknown field", replace(`"nodes": [`, `"extra": 1, "nodes": [`), genesis.ErrMalformed, "extra"},
		{"negative balance", replace(`"balance": 1000`, `"balance": -1`), genesis.ErrMalformed, "balance"},
		{"upper-case hex", replace(firstKey, strings.ToUpper(firstKey)), genesis.ErrMalformed, "lower case"},
		{"short key", replace(firstKey, firstKey[:10]), genesis.ErrMalformed, "nodes[0].bls_public_key is 5 bytes"},
		{"not a point", replace(firstKey, "e"+firstKey[1:]), genesis.ErrMalformed, "nodes[0].bls_public_key"},
		{"unknown kind", replace(`"kind": "root"`, `"kind": "main"`), genesis.ErrMalformed, `chains[0].kind "main"`},
		{"valid json, invalid genesis", replace(`"genesis_time_ms": 1767225600000`, `"genesis_time_ms": 0`), genesis.ErrInvalid, "genesis_time_ms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := genesis.Parse(c.data)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("Parse = %v, want %v mentioning %q", err, c.want, c.says)
			}
		})
	}
	var chainsOnly map[string]any
	if err := json.Unmarshal(text, &chainsOnly); err != nil {
		t.Fatal(err)
	}
	delete(chainsOnly["chains"].([]any)[1].(map[string]any), "committee")
	noCommittee, err := json.Marshal(chainsOnly)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := genesis.Parse(noCommittee); !errors.Is(err, genesis.ErrMalformed) || !strings.Contains(err.Error(), "chains[1].committee is missing") {
		t.Fatalf("Parse without a committee = %v", err)
	}
}

// Any layout of chains and committees, and any set of accounts with
// distinct addresses and a bounded supply, survives the round trip; the
// transaction chains' genesis accounts partition the accounts by owner.
func TestRoundTripProperty(t *testing.T) {
	pool := nodes(t, 8, 7)
	rapid.Check(t, func(t *rapid.T) {
		txChains := rapid.IntRange(1, 4).Draw(t, "chains")
		members := rapid.IntRange(1, 8/txChains).Draw(t, "members")
		g, err := genesis.NewUniform(1, pool[:rapid.IntRange(txChains*members, 8).Draw(t, "nodes")], txChains, members)
		if err != nil {
			t.Fatal(err)
		}
		n := rapid.IntRange(0, 30).Draw(t, "accounts")
		seen := map[types.Address]bool{}
		for range n {
			var a types.Address
			copy(a[:], rapid.SliceOfN(rapid.Byte(), 20, 20).Draw(t, "address"))
			if seen[a] {
				continue
			}
			seen[a] = true
			g.Accounts = append(g.Accounts, genesis.Account{Address: a, Balance: rapid.Uint64Range(0, math.MaxUint64/64).Draw(t, "balance")})
		}
		text, err := g.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := genesis.Parse(text)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if len(got.Accounts) != len(g.Accounts) {
			t.Fatalf("%d accounts back, want %d", len(got.Accounts), len(g.Accounts))
		}
		topo, err := got.Topology()
		if err != nil {
			t.Fatal(err)
		}
		held := 0
		for _, id := range topo.Transactions() {
			for _, a := range got.GenesisAccounts(id) {
				if !seen[a.Address] || topo.OwnerOf(a.Address) != id {
					t.Fatalf("account %v on chain %d, owner %d", a.Address, id, topo.OwnerOf(a.Address))
				}
				held++
			}
		}
		if held != len(seen) {
			t.Fatalf("transaction chains hold %d accounts, want %d", held, len(seen))
		}
	})
}

// TestFuzzCorpus checks that the committed seed corpus of FuzzParse is of
// this file version; THINKEY_UPDATE_CORPUS=1 writes it again.
func TestFuzzCorpus(t *testing.T) {
	text, err := validGenesis(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, text); err != nil {
		t.Fatal(err)
	}
	unsorted := validGenesis(t)
	unsorted.Accounts[0], unsorted.Accounts[1] = unsorted.Accounts[1], unsorted.Accounts[0]
	unsortedText := bytes.Replace(text, []byte(unsorted.Accounts[1].Address.String()), []byte("X"), 1)
	unsortedText = bytes.Replace(unsortedText, []byte(unsorted.Accounts[0].Address.String()), []byte(unsorted.Accounts[1].Address.String()), 1)
	unsortedText = bytes.Replace(unsortedText, []byte("X"), []byte(unsorted.Accounts[0].Address.String()), 1)
	corpus := map[string][]byte{
		"valid":             text,
		"valid-compact":     compact.Bytes(),
		"trailing":          append(append([]byte{}, text...), "{}"...),
		"unsorted-accounts": unsortedText,
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	for name, data := range corpus {
		entry := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
		path := filepath.Join(dir, name)
		if os.Getenv("THINKEY_UPDATE_CORPUS") != "" {
			if err := os.WriteFile(path, entry, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(got, []byte(genesis.FileType)) {
			t.Errorf("corpus entry %s is not a %s file: run with THINKEY_UPDATE_CORPUS=1", path, genesis.FileType)
		}
	}
}
