package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/tools/testnet"
	"github.com/thinkey/thinkey/tools/txcmd"
)

// multi is a running testnet of several transaction chains.
type multi struct {
	*network
	topo    *chains.Topology
	balance uint64
	// byChain lists the account indices of each transaction chain.
	byChain map[uint32][]int
	// down are the nodes killed and not restarted yet.
	down map[int]bool
	// want is every account's expected balance once the relays in
	// flight are delivered.
	want []uint64
}

func startMulti(t *testing.T, txChains, members, accounts int) *multi {
	t.Helper()
	nw := startNetwork(t, txChains, members, accounts)
	gen, err := driver.LoadGenesisFile(filepath.Join(nw.dir, testnet.GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	topo, err := gen.Topology()
	if err != nil {
		t.Fatal(err)
	}
	m := &multi{network: nw, topo: topo, byChain: map[uint32][]int{}, down: map[int]bool{}}
	m.balance = gen.Accounts[0].Balance
	for i, a := range nw.accounts {
		c := uint32(topo.OwnerOf(a.Address))
		m.byChain[c] = append(m.byChain[c], i)
		m.want = append(m.want, m.balance)
	}
	for c := uint32(1); c <= uint32(txChains); c++ {
		if len(m.byChain[c]) < 3 {
			t.Skipf("the testnet's random accounts put only %d on chain %d", len(m.byChain[c]), c)
		}
	}
	return m
}

// chainOf returns the transaction chain of account i.
func (m *multi) chainOf(i int) uint32 { return uint32(m.topo.OwnerOf(m.accounts[i].Address)) }

// live returns the running nodes of chain c.
func (m *multi) live(c uint32) []int {
	var out []int
	for _, n := range m.manifest.ChainNodes(c) {
		if !m.down[n.Index] {
			out = append(out, n.Index)
		}
	}
	return out
}

// transfer sends amount from account from to account to through a live
// node of the sender's chain, and books the expected balances.
func (m *multi) transfer(from, to int, amount uint64) types.Hash {
	m.t.Helper()
	nodes := m.live(m.chainOf(from))
	id := m.send(nodes[from%len(nodes)], from, to, amount)
	m.want[from] -= amount
	m.want[to] += amount
	return id
}

// kill SIGKILLs node i.
func (m *multi) kill(i int) {
	m.t.Helper()
	n := m.manifest.Nodes[i]
	pid := testnet.Running(m.dir, n)
	if pid == 0 {
		m.t.Fatalf("node %d is not running", i)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		m.t.Fatal(err)
	}
	m.waitFor(10*time.Second, fmt.Sprintf("node %d to die", i), func(context.Context) (bool, error) {
		return testnet.Running(m.dir, n) == 0, nil
	})
	m.down[i] = true
}

// settled waits until every account has its expected balance on every live
// node of its chain: every relay sent has been delivered.
func (m *multi) settled(timeout time.Duration) {
	m.t.Helper()
	m.waitFor(timeout, "every balance settled on every member", func(ctx context.Context) (bool, error) {
		for i, a := range m.accounts {
			for _, node := range m.live(m.chainOf(i)) {
				st, err := m.clients[node].Account(ctx, a.Address)
				if err != nil {
					return false, fmt.Errorf("node %d account %d: %w", node, i, err)
				}
				if st.Balance != m.want[i] {
					return false, fmt.Errorf("node %d account %d: balance %d, want %d", node, i, st.Balance, m.want[i])
				}
			}
		}
		return true, nil
	})
}

// relays walks chain c's blocks up to height on node and returns the outer
// relays they produced and the relays they consumed, failing on a relay
// consumed twice.
func (m *multi) relays(node int, c uint32, height uint64) (produced, consumed []string) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seen := map[string]bool{}
	for h := uint64(1); h <= height; h++ {
		b, err := m.clients[node].Block(ctx, c, h)
		if err != nil {
			m.t.Fatalf("node %d block %d of chain %d: %v", node, h, c, err)
		}
		for _, r := range b.OuterRelay {
			produced = append(produced, r.ID)
		}
		for _, in := range b.Inputs {
			if in.Kind != "outer-relay" {
				continue
			}
			if seen[in.ID] {
				m.t.Fatalf("chain %d consumed relay %s twice", c, in.ID)
			}
			seen[in.ID] = true
			consumed = append(consumed, in.ID)
		}
	}
	return produced, consumed
}

// TestCrossChainTestnet runs a testnet of two transaction chains of four
// processes each (eight nodes, all in the root committee): the paper's
// Fig. 10 payments with Alice and Charlie on one chain and Bob on the
// other through `thinkey tx send`, which reports m1 irrevocable once
// confirmed and then its delivery; transfers both ways while a member of
// each chain is SIGKILLed and restarted; then every balance on every
// member, the value conserved across the chains, and every relay produced
// consumed exactly once, with the same blocks on every member.
func TestCrossChainTestnet(t *testing.T) {
	const txChains, members, accounts = 2, 4, 24
	m := startMulti(t, txChains, members, accounts)
	one, two := m.byChain[1], m.byChain[2]

	// Fig. 10: Alice (chain 1) pays Bob (chain 2) 10; Bob pays Charlie
	// (chain 1) 10.
	alice, bob, charlie := one[0], two[0], one[1]
	keyFile := func(i int) string { return filepath.Join(m.dir, "accounts", fmt.Sprintf("%d.key", i)) }
	api := func(c uint32) string { return m.manifest.ChainNodes(c)[0].APIURL() }
	out, code := thinkey(t, 90*time.Second, "tx", "send", "--from-key", keyFile(alice), "--to", m.accounts[bob].Address.String(),
		"--amount", "10", "--api", api(1), "--wait", "60s", "--wait-delivery", "--to-api", api(2))
	if code != 0 {
		t.Fatalf("tx send m1: exit %d\n%s", code, out)
	}
	for _, want := range []string{"on chain 1", "irrevocable", "delivered", "on chain 2"} {
		if !strings.Contains(out, want) {
			t.Fatalf("tx send m1 does not say %q:\n%s", want, out)
		}
	}
	m.want[alice] -= 10
	m.want[bob] += 10
	m.nonces[m.accounts[alice].Address]++
	out, code = thinkey(t, 90*time.Second, "tx", "send", "--from-key", keyFile(bob), "--to", m.accounts[charlie].Address.String(),
		"--amount", "10", "--api", api(2), "--wait", "60s", "--wait-delivery", "--to-api", api(1))
	if code != 0 {
		t.Fatalf("tx send m3: exit %d\n%s", code, out)
	}
	m.want[bob] -= 10
	m.want[charlie] += 10
	m.nonces[m.accounts[bob].Address]++
	m.settled(60 * time.Second)

	// Traffic both ways; a member of each chain is killed mid-traffic and
	// restarted while traffic goes on.
	victims := []int{m.manifest.ChainNodes(1)[3].Index, m.manifest.ChainNodes(2)[3].Index}
	sent := map[uint32][]types.Hash{}
	round := func(k int) {
		for j := range 4 {
			from, to := one[(k+j)%len(one)], two[(k+2*j)%len(two)]
			sent[1] = append(sent[1], m.transfer(from, to, uint64(1+j)))
			sent[2] = append(sent[2], m.transfer(to, from, uint64(2+j)))
		}
	}
	for k := range 3 {
		round(k)
	}
	// A mempool is not durable: a transfer is killed with the node that
	// holds it until it is in a block. Its relay, once the block is
	// committed, is not: the victims die with relays in flight.
	for c, ids := range sent {
		m.confirmed(60*time.Second, m.live(c), ids...)
	}
	for _, v := range victims {
		m.kill(v)
	}
	for k := 3; k < 6; k++ {
		round(k)
		time.Sleep(300 * time.Millisecond)
	}
	out, code = thinkey(t, 2*time.Minute, "testnet", "up", "--dir", m.dir)
	if code != 0 {
		t.Fatalf("testnet up to restart the killed nodes: exit %d\n%s", code, out)
	}
	for _, v := range victims {
		if !strings.Contains(out, fmt.Sprintf("node %d started", v)) {
			t.Fatalf("testnet up did not restart node %d:\n%s", v, out)
		}
		delete(m.down, v)
	}
	for k := 6; k < 9; k++ {
		round(k)
	}
	m.settled(90 * time.Second)

	var total uint64
	for _, b := range m.want {
		total += b
	}
	if total != accounts*m.balance {
		t.Fatalf("the expected balances sum to %d, not %d", total, accounts*m.balance)
	}

	// Every member of a chain holds the same blocks; every relay produced
	// by one chain is consumed exactly once by the other.
	var produced, consumed []string
	for c := uint32(1); c <= txChains; c++ {
		nodes := m.live(c)
		h := m.commonHeight(nodes, 1, 60*time.Second)
		m.sameState(nodes, h)
		p, cons := m.relays(nodes[0], c, h)
		produced, consumed = append(produced, p...), append(consumed, cons...)
		for _, node := range nodes[1:] {
			_, again := m.relays(node, c, h)
			if !slices.Equal(again, cons) {
				t.Fatalf("chain %d: node %d consumed %d relays up to height %d, node %d %d", c, node, len(again), h, nodes[0], len(cons))
			}
		}
	}
	slices.Sort(produced)
	slices.Sort(consumed)
	if len(produced) < 2+2*9*4 || !slices.Equal(produced, consumed) {
		t.Fatalf("%d relays produced, %d consumed: want the same, at least %d", len(produced), len(consumed), 2+2*9*4)
	}
	// The restarted members report every relay of their chain executed.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, v := range victims {
		c := m.manifest.Nodes[v].Chain
		for _, id := range consumedOf(t, m, c) {
			rid, err := txcmd.ParseID(id)
			if err != nil {
				t.Fatal(err)
			}
			st, err := m.clients[v].Message(ctx, rid)
			if err != nil || (st.State != "confirmed" && st.State != "included") {
				t.Fatalf("restarted node %d: relay %s %+v, %v", v, id, st, err)
			}
		}
	}
}

// consumedOf returns the relays chain c consumed, read on its first live
// node up to its height.
func consumedOf(t *testing.T, m *multi, c uint32) []string {
	t.Helper()
	node := m.live(c)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := m.height(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	_, cons := m.relays(node, c, h)
	return cons
}
