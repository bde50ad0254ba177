package genesis_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/types"
)

func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := range s {
		s[i] = byte(seed >> (8 * (i % 8)))
	}
	return rand.NewChaCha8(s)
}

// committee builds n members with keys drawn from seed.
func committee(t testing.TB, n int, seed uint64) []genesis.Member {
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

func address(b byte) types.Address {
	var a types.Address
	a[0] = b
	a[19] = 1
	return a
}

func validGenesis(t testing.TB) *genesis.Genesis {
	t.Helper()
	return &genesis.Genesis{
		GenesisTimeMillis: 1_767_225_600_000,
		Chain:             genesis.Chain{ID: 0},
		Committee:         committee(t, 4, 1),
		Accounts: []genesis.Account{
			{Address: address(1), Balance: 1000},
			{Address: address(2), Balance: 2000},
		},
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
	if got.Committee[2].PeerID != g.Committee[2].PeerID || !got.Committee[3].BLSPublicKey.Equal(g.Committee[3].BLSPublicKey) {
		t.Fatal("committee changed in the round trip")
	}
}

// The hash names the content, not the layout: reindenting the file keeps it,
// changing a balance does not.
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
}

func TestBlockIsGenesisOfTheAccounts(t *testing.T) {
	g := validGenesis(t)
	h, err := g.Block()
	if err != nil {
		t.Fatal(err)
	}
	state, err := exec.NewMemState(g.GenesisAccounts())
	if err != nil {
		t.Fatal(err)
	}
	if h.Height != 0 || !h.ParentHash.IsZero() || h.StateRoot != state.Root() || h.TimestampMillis != g.GenesisTimeMillis {
		t.Fatalf("genesis header %+v does not describe the genesis state", h)
	}
	if err := h.ValidateBasic(); err != nil {
		t.Fatalf("genesis header: %v", err)
	}
	h2, err := validGenesis(t).Block()
	if err != nil || h2.Hash() != h.Hash() {
		t.Fatalf("Block is not deterministic: %v", err)
	}
}

func TestValidateReportsEveryRule(t *testing.T) {
	other := committee(t, 1, 99)[0]
	cases := []struct {
		name   string
		mutate func(g *genesis.Genesis)
		says   []string
	}{
		{"no time", func(g *genesis.Genesis) { g.GenesisTimeMillis = 0 }, []string{"genesis_time_ms"}},
		{"bad prefix", func(g *genesis.Genesis) { g.Chain.PrefixBits = 2; g.Chain.Prefix = 8 }, []string{"prefix"}},
		{"empty committee", func(g *genesis.Genesis) { g.Committee = nil }, []string{"committee of 0"}},
		{"foreign proof", func(g *genesis.Genesis) { g.Committee[1].ProofOfPossession = other.ProofOfPossession }, []string{"committee[1]: proof of possession"}},
		{"duplicate key", func(g *genesis.Genesis) {
			g.Committee[2].BLSPublicKey = g.Committee[0].BLSPublicKey
			g.Committee[2].ProofOfPossession = g.Committee[0].ProofOfPossession
		}, []string{"committee[2]: same bls_public_key as committee[0]"}},
		{"duplicate peer", func(g *genesis.Genesis) { g.Committee[3].PeerID = g.Committee[1].PeerID }, []string{"committee[3]: same peer_id as committee[1]"}},
		{"zero peer", func(g *genesis.Genesis) { g.Committee[0].PeerID = [32]byte{} }, []string{"committee[0]: peer_id missing"}},
		{"duplicate address", func(g *genesis.Genesis) { g.Committee[1].Address = g.Committee[0].Address }, []string{"committee[1]: same address"}},
		{"bad addresses", func(g *genesis.Genesis) {
			g.Committee[0].Address = "localhost"
			g.Committee[1].Address = ":7600"
			g.Committee[2].Address = "127.0.0.1:0"
			g.Committee[3].Address = "::1:7600"
		}, []string{"committee[0]: address", "committee[1]: address", "committee[2]: address", "committee[3]: address"}},
		{"unsorted accounts", func(g *genesis.Genesis) { g.Accounts[0], g.Accounts[1] = g.Accounts[1], g.Accounts[0] }, []string{"accounts[1]"}},
		{"duplicate account", func(g *genesis.Genesis) { g.Accounts[1].Address = g.Accounts[0].Address }, []string{"accounts[1]"}},
		{"account off chain", func(g *genesis.Genesis) { g.Chain.PrefixBits = 8; g.Chain.Prefix = 1 }, []string{"accounts[1]: address"}},
		{"supply overflow", func(g *genesis.Genesis) { g.Accounts[0].Balance = math.MaxUint64 }, []string{"past 2^64-1"}},
		{"two problems at once", func(g *genesis.Genesis) { g.GenesisTimeMillis = 0; g.Committee[0].Address = "x" }, []string{"genesis_time_ms", "committee[0]: address"}},
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
		})
	}
	if err := validGenesis(t).Validate(); err != nil {
		t.Fatalf("valid genesis: %v", err)
	}
	ipv6 := validGenesis(t)
	ipv6.Committee[0].Address = "[::1]:7600"
	if err := ipv6.Validate(); err != nil {
		t.Fatalf("bracketed IPv6 address refused: %v", err)
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
	firstKey := f["committee"].([]any)[0].(map[string]any)["bls_public_key"].(string)
	cases := []struct {
		name string
		data []byte
		want error
		says string
	}{
		{"not json", []byte("genesis"), genesis.ErrMalformed, "invalid character"},
		{"trailing", append(append([]byte{}, text...), '{', '}'), genesis.ErrMalformed, "after the JSON"},
		{"wrong type", replace(genesis.FileType, "other/v1"), genesis.ErrMalformed, "type"},
		{"unknown field", replace(`"chain": {`, `"extra": 1, "chain": {`), genesis.ErrMalformed, "extra"},
		{"negative balance", replace(`"balance": 1000`, `"balance": -1`), genesis.ErrMalformed, "balance"},
		{"upper-case hex", replace(firstKey, strings.ToUpper(firstKey)), genesis.ErrMalformed, "lower case"},
		{"short key", replace(firstKey, firstKey[:10]), genesis.ErrMalformed, "committee[0].bls_public_key is 5 bytes"},
		{"not a point", replace(firstKey, "e"+firstKey[1:]), genesis.ErrMalformed, "committee[0].bls_public_key"},
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
}

// Any set of accounts with distinct addresses and a bounded supply survives
// the round trip, whatever order it was built in.
func TestRoundTripProperty(t *testing.T) {
	members := committee(t, 1, 7)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 30).Draw(t, "accounts")
		seen := map[types.Address]bool{}
		g := &genesis.Genesis{GenesisTimeMillis: 1, Committee: members}
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
		for _, a := range got.Accounts {
			if !seen[a.Address] {
				t.Fatalf("account %v appeared", a.Address)
			}
		}
	})
}
