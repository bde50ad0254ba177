package lightcmd

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/light"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// network is what the test node serves: block 5 of chain 1, recorded by
// root block 40, certified by three of the four root committee members;
// an account of chain 1 and an outer relay of the block.
type network struct {
	keys    []*bls.SecretKey
	genesis []byte // a genesis file with the root committee

	root, tx types.Header
	rootBody rootchain.Body
	cert     types.Certificate
	account  actor.Account
	leaves   []exec.AccountLeaf
	relays   exec.Body
}

func hashOf(b byte) types.Hash {
	var h types.Hash
	for i := range h {
		h[i] = b ^ byte(i)
	}
	return h
}

func committeeKeys(t *testing.T, salt byte) []*bls.SecretKey {
	t.Helper()
	keys := make([]*bls.SecretKey, 4)
	for i := range keys {
		sk, err := bls.GenerateKey(bytes.Repeat([]byte{salt, byte(i)}, 16))
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = sk
	}
	return keys
}

// genesisFile returns the text of a genesis whose nodes have keys: every
// node in the root committee, and two transaction chains (prefixes 0 and
// 1) of two members each.
func genesisFile(t *testing.T, keys []*bls.SecretKey) []byte {
	t.Helper()
	nodes := make([]genesis.Member, len(keys))
	for i, k := range keys {
		nodes[i] = genesis.Member{BLSPublicKey: k.PublicKey(), ProofOfPossession: bls.ProvePossession(k),
			PeerID: netq.PeerID{byte(i + 1)}, Address: fmt.Sprintf("127.0.0.1:%d", 7600+i)}
	}
	g, err := genesis.NewUniform(1_700_000_000_000, nodes, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sign(t *testing.T, keys []*bls.SecretKey, cert types.Certificate, signers ...types.ValidatorIndex) types.Certificate {
	t.Helper()
	set, _ := types.NewSignerSet(len(keys))
	msg := cert.VoteSigningBytes()
	var sigs [][types.BLSSignatureSize]byte
	for _, s := range signers {
		_ = set.Add(s)
		sigs = append(sigs, consensus.BLSSigner{Key: keys[s]}.Sign(msg))
	}
	cert.Signers = set
	agg, err := (consensus.BLSAggregator{}).Aggregate(sigs)
	if err != nil {
		t.Fatal(err)
	}
	cert.AggregateSignature = agg
	return cert
}

func newNetwork(t *testing.T) *network {
	t.Helper()
	n := &network{keys: committeeKeys(t, 0x33)}
	n.genesis = genesisFile(t, n.keys)

	n.account = actor.Account{Address: types.Address{0x12, 0x34}, Balance: 980, Nonce: 2}
	other := actor.Account{Address: types.Address{0x40}, Balance: 7}
	for _, a := range []actor.Account{n.account, other} {
		n.leaves = append(n.leaves, exec.AccountLeaf{Address: a.Address, Hash: a.LeafHash()})
	}
	n.relays.OuterRelay = []types.Message{{
		Kind: types.MessageOuterRelay, From: n.account.Address, To: types.Address{0xc0}, SourceChain: 1,
		Cause: hashOf(0x77), Value: 250, Method: []byte("add"),
	}}

	n.tx = types.Header{Version: types.HeaderVersion, ChainID: 1, Height: 5, ParentHash: hashOf(4),
		TimestampMillis: 1_700_000_000_000, InputRoot: hashOf(6)}
	n.tx.StateRoot = merkle.RootFromLeafHashes([]types.Hash{n.leaves[0].Hash, n.leaves[1].Hash})
	n.tx.OuterRelayRoot = merkle.RootFromLeafHashes([]types.Hash{exec.RelayLeaf(n.relays.OuterRelay[0].ID())})
	other2 := types.Header{Version: types.HeaderVersion, ChainID: 2, Height: 3, ParentHash: hashOf(2)}

	n.rootBody = rootchain.Body{Records: []rootchain.Record{{Header: n.tx}, {Header: other2}}}
	n.root = types.Header{Version: types.HeaderVersion, ChainID: 0, Height: 40, ParentHash: hashOf(39),
		TimestampMillis: 1_700_000_001_000, StateRoot: hashOf(0x50)}
	n.root.InputRoot = merkle.RootFromLeafHashes([]types.Hash{n.rootBody.Records[0].Leaf(), n.rootBody.Records[1].Leaf()})
	n.cert = sign(t, n.keys, types.Certificate{ChainID: 0, Height: 40, Kind: types.VoteConfirm, BlockHash: n.root.Hash()}, 0, 1, 3)
	return n
}

func (n *network) rootKeys() []*bls.PublicKey {
	out := make([]*bls.PublicKey, len(n.keys))
	for i, k := range n.keys {
		out[i] = k.PublicKey()
	}
	return out
}

func (n *network) headerProof(t *testing.T) light.HeaderProof {
	t.Helper()
	path, err := rootchain.ProveRecord(&n.rootBody, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	return light.HeaderProof{Header: n.tx, Lifts: []relay.Lift{{Recorder: n.root, Path: path}}, RootCertificate: n.cert}
}

func (n *network) accountProof(t *testing.T) light.AccountProof {
	t.Helper()
	enc, _ := n.account.MarshalBinary()
	path, err := exec.ProveAccount(n.leaves, n.account.Address)
	if err != nil {
		t.Fatal(err)
	}
	return light.AccountProof{Block: n.headerProof(t), Account: enc, Path: path}
}

func (n *network) relayProof(t *testing.T) light.RelayProof {
	t.Helper()
	m := n.relays.OuterRelay[0]
	path, err := exec.ProveRelay(&n.relays, m.ID())
	if err != nil {
		t.Fatal(err)
	}
	return light.RelayProof{Block: n.headerProof(t), Message: m, Path: path}
}

// node is an HTTP API serving fixed answers by path; any other path is a
// JSON 404.
type node struct {
	mu      sync.Mutex
	answers map[string]string
	status  map[string]int
}

func (s *node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, ok := s.answers[r.URL.Path]
	status := s.status[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error": "no such thing: %s", "code": "not_found"}`, r.URL.Path)
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func (s *node) serve(path string, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[path] = body
}

func proofAnswer(t *testing.T, v interface{ MarshalBinary() ([]byte, error) }) string {
	t.Helper()
	b, err := v.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`{"proof": %q, "chain": 99}`, hex.EncodeToString(b))
}

type env struct {
	net     *network
	node    *node
	url     string
	genesis string
	dir     string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	n := newNetwork(t)
	srv := &node{answers: map[string]string{}, status: map[string]int{}}
	hp, ap, rp := n.headerProof(t), n.accountProof(t), n.relayProof(t)
	rootProof := light.HeaderProof{Header: n.root, RootCertificate: n.cert}
	srv.serve("/v1/light/chains/1/blocks/5", proofAnswer(t, &hp))
	srv.serve("/v1/light/chains/0/blocks/40", proofAnswer(t, &rootProof))
	srv.serve("/v1/light/accounts/"+n.account.Address.String(), proofAnswer(t, &ap))
	srv.serve("/v1/light/relays/"+n.relays.OuterRelay[0].ID().String(), proofAnswer(t, &rp))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	gen := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(gen, n.genesis, 0o644); err != nil {
		t.Fatal(err)
	}
	return &env{net: n, node: srv, url: hs.URL, genesis: gen, dir: dir}
}

// run runs `thinkey light args...` against the test node and genesis
// unless args name their own.
func (e *env) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := Command()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	full := append([]string{}, args...)
	if !hasFlag(args, "--node") {
		full = append(full, "--node", e.url)
	}
	if !hasFlag(args, "--genesis") {
		full = append(full, "--genesis", e.genesis)
	}
	cmd.SetArgs(full)
	err := cmd.Execute()
	return out.String(), err
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

func (e *env) writeGenesis(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifiedFacts(t *testing.T) {
	e := newEnv(t)
	acct := e.net.account.Address.String()
	relayID := e.net.relays.OuterRelay[0].ID().String()
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"transaction header", []string{"header", "--chain", "1", "--height", "5"}, []string{
			"verified block 5 of chain 1", e.net.tx.Hash().String(), e.net.tx.StateRoot.String(),
			"root height 40 (root block " + e.net.root.Hash().String() + ")", "by 3 of 4 root committee members (confirm certificate, round 0)",
		}},
		{"root header", []string{"header", "--chain", "0", "--height", "40"}, []string{
			"verified block 40 of chain 0", "root height 40 (a root block itself)",
		}},
		{"account", []string{"account", acct}, []string{
			"verified account " + acct + " on chain 1", "balance      980", "nonce        2", "code         none",
			"as of block  5 of chain 1 (hash " + e.net.tx.Hash().String() + ")", "root height 40",
		}},
		{"account with 0x", []string{"account", "0x" + strings.ToUpper(acct)}, []string{"balance      980"}},
		{"relay", []string{"relay", relayID}, []string{
			"verified relay " + relayID + " produced by block 5 of chain 1",
			"from         " + acct + " (chain 1)", "to           c000000000000000000000000000000000000000", "value        250", "method       add",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := e.run(t, c.args...)
			if err != nil {
				t.Fatalf("error %v; output:\n%s", err, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestFailedChecks(t *testing.T) {
	acctPath := func(e *env) string { return "/v1/light/accounts/" + e.net.account.Address.String() }
	relayPath := func(e *env) string { return "/v1/light/relays/" + e.net.relays.OuterRelay[0].ID().String() }
	const headerPath = "/v1/light/chains/1/blocks/5"
	header := []string{"header", "--chain", "1", "--height", "5"}
	account := func(e *env) []string { return []string{"account", e.net.account.Address.String()} }
	relayArgs := func(e *env) []string { return []string{"relay", e.net.relays.OuterRelay[0].ID().String()} }

	cases := []struct {
		name  string
		setup func(t *testing.T, e *env) []string // serves what it needs and returns the arguments
		want  string
	}{
		{"tampered header", func(t *testing.T, e *env) []string {
			p := e.net.headerProof(t)
			p.Header.StateRoot[0] ^= 1
			e.node.serve(headerPath, proofAnswer(t, &p))
			return header
		}, "verification failed"},
		{"too few signers", func(t *testing.T, e *env) []string {
			p := e.net.headerProof(t)
			p.RootCertificate = sign(t, e.net.keys, e.net.cert, 0, 1)
			e.node.serve(headerPath, proofAnswer(t, &p))
			return header
		}, "verification failed"},
		{"another root committee", func(t *testing.T, e *env) []string {
			g := e.writeGenesis(t, "other.json", genesisFile(t, committeeKeys(t, 0x44)))
			return append(header, "--genesis", g)
		}, "verification failed"},
		{"another block than asked", func(t *testing.T, e *env) []string {
			e.node.serve("/v1/light/chains/1/blocks/6", e.node.answers[headerPath])
			return []string{"header", "--chain", "1", "--height", "6"}
		}, "proved block 5 of chain 1 instead"},
		{"chain outside the genesis topology", func(t *testing.T, e *env) []string {
			// A root block that records a chain the genesis does not
			// have: its certificate verifies, the topology refuses it.
			h := types.Header{Version: types.HeaderVersion, ChainID: 7, Height: 1, ParentHash: hashOf(7)}
			body := rootchain.Body{Records: []rootchain.Record{{Header: h}}}
			root := types.Header{Version: types.HeaderVersion, ChainID: 0, Height: 41, ParentHash: e.net.root.Hash(),
				InputRoot: merkle.RootFromLeafHashes([]types.Hash{body.Records[0].Leaf()})}
			path, err := rootchain.ProveRecord(&body, 7, 1)
			if err != nil {
				t.Fatal(err)
			}
			p := light.HeaderProof{Header: h, Lifts: []relay.Lift{{Recorder: root, Path: path}},
				RootCertificate: sign(t, e.net.keys, types.Certificate{ChainID: 0, Height: 41, Kind: types.VoteConfirm, BlockHash: root.Hash()}, 0, 1, 2)}
			if err := light.VerifyHeader(&p, e.net.rootKeys()); err != nil {
				t.Fatalf("without the topology: %v", err)
			}
			e.node.serve("/v1/light/chains/7/blocks/1", proofAnswer(t, &p))
			return []string{"header", "--chain", "7", "--height", "1"}
		}, "not in the topology"},
		{"tampered account", func(t *testing.T, e *env) []string {
			p := e.net.accountProof(t)
			a := e.net.account
			a.Balance = 1_000_000
			p.Account, _ = a.MarshalBinary()
			e.node.serve(acctPath(e), proofAnswer(t, &p))
			return account(e)
		}, "verification failed"},
		{"another account than asked", func(t *testing.T, e *env) []string {
			other := types.Address{0x40}
			e.node.serve("/v1/light/accounts/"+other.String(), e.node.answers[acctPath(e)])
			return []string{"account", other.String()}
		}, "proved account " + types.Address{0x12, 0x34}.String() + " instead"},
		{"tampered relay", func(t *testing.T, e *env) []string {
			p := e.net.relayProof(t)
			p.Message.Value++
			e.node.serve(relayPath(e), proofAnswer(t, &p))
			return relayArgs(e)
		}, "verification failed"},
		{"another relay than asked", func(t *testing.T, e *env) []string {
			id := hashOf(1).String()
			e.node.serve("/v1/light/relays/"+id, e.node.answers[relayPath(e)])
			return []string{"relay", id}
		}, "instead"},
		{"relay of an EMPTY block", func(t *testing.T, e *env) []string {
			p := e.net.relayProof(t)
			p.Block.Header.Empty = true
			e.node.serve(relayPath(e), proofAnswer(t, &p))
			return relayArgs(e)
		}, "verification failed"},
		{"malformed proof", func(t *testing.T, e *env) []string {
			e.node.serve(headerPath, `{"proof": "2501"}`)
			return header
		}, "malformed"},
		{"proof of another kind", func(t *testing.T, e *env) []string {
			e.node.serve(headerPath, e.node.answers[acctPath(e)])
			return header
		}, "malformed"},
		{"proof that is not hex", func(t *testing.T, e *env) []string {
			e.node.serve(headerPath, `{"proof": "zz"}`)
			return header
		}, "not hex"},
		{"answer without proof", func(t *testing.T, e *env) []string {
			e.node.serve(headerPath, `{"chain": 1}`)
			return header
		}, "no proof"},
		{"answer that is not JSON", func(t *testing.T, e *env) []string {
			e.node.serve(headerPath, `<html>`)
			return header
		}, "not JSON"},
		{"not found", func(t *testing.T, e *env) []string {
			return []string{"header", "--chain", "1", "--height", "99"}
		}, "has not recorded it yet"},
		{"node failure", func(t *testing.T, e *env) []string {
			e.node.status[headerPath] = http.StatusServiceUnavailable
			e.node.serve(headerPath, `{"error": "syncing", "code": "unavailable"}`)
			return header
		}, "503 unavailable"},
		{"node unreachable", func(t *testing.T, e *env) []string {
			return append(header, "--node", "http://127.0.0.1:1")
		}, "GET /v1/light/chains/1/blocks/5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			args := c.setup(t, e)
			out, err := e.run(t, args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q; output:\n%s", err, c.want, out)
			}
			if strings.Contains(out, "verified") {
				t.Fatalf("printed facts on failure:\n%s", out)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	bad := e.writeGenesis(t, "bad.json", []byte(`{"type": "thinkey-genesis/v1"}`))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"header", "--height", "5"}, `"chain" not set`},
		{[]string{"header", "--chain", "1"}, `"height" not set`},
		{[]string{"header", "--chain", "-1", "--height", "5"}, "invalid argument"},
		{[]string{"header", "--chain", "1", "--height", "x"}, "invalid argument"},
		{[]string{"account", "1234"}, "address"},
		{[]string{"account"}, "accepts 1 arg"},
		{[]string{"relay", "nothex"}, "relay id"},
		{[]string{"header", "--chain", "1", "--height", "5", "--genesis", filepath.Join(e.dir, "missing.json")}, "--genesis"},
		{[]string{"header", "--chain", "1", "--height", "5", "--genesis", bad}, "malformed genesis"},
		{[]string{"header", "--chain", "1", "--height", "5", "--node", "127.0.0.1:7680"}, "--node"},
	}
	for _, c := range cases {
		out, err := e.run(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("light %s: error %v, want one mentioning %q; output:\n%s", strings.Join(c.args, " "), err, c.want, out)
		}
	}
}

func TestParseGenesis(t *testing.T) {
	keys := committeeKeys(t, 0x33)
	good := genesisFile(t, keys)
	n, err := ParseGenesis(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.RootKeys) != len(keys) || n.Topology == nil || len(n.Topology.Transactions()) != 2 {
		t.Fatalf("network %+v", n)
	}
	for i := range keys {
		if !n.RootKeys[i].Equal(keys[i].PublicKey()) {
			t.Fatalf("root key %d differs", i)
		}
	}
	pop0 := hex.EncodeToString(bls.ProvePossession(keys[0]).Bytes())
	pop1 := hex.EncodeToString(bls.ProvePossession(keys[1]).Bytes())
	for name, data := range map[string][]byte{
		"not JSON":            []byte("{"),
		"single-chain format": []byte(`{"type": "thinkey-genesis/v1", "chain": {"id": 0}, "committee": []}`),
		"another key's proof": bytes.Replace(good, []byte(pop1), []byte(pop0), 1),
	} {
		if _, err := ParseGenesis(data); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
