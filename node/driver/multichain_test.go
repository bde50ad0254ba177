package driver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/api"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/light"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/types"
)

// balance returns a wallet's balance on node i (0 when absent).
func (c *cluster) balance(i, w int) uint64 {
	a, _ := c.node(i).Account(c.wallets[w].addr)
	return a.Balance
}

// submitTo submits a transfer of amount from wallet w to wallet to through
// the first running member of w's chain, and returns its ID.
func (c *cluster) submitTo(w, to int, amount uint64) types.Hash {
	c.t.Helper()
	m := c.transfer(w, to, amount)
	for _, i := range c.members(c.wallets[w].chain) {
		if n := c.node(i); n != nil {
			res, err := n.Submit([]types.Message{m})
			if err != nil || res[0].Err != nil {
				c.t.Fatalf("submit: %v %+v", err, res)
			}
			return res[0].ID
		}
	}
	c.t.Fatalf("no member of chain %d running", c.wallets[w].chain)
	return types.Hash{}
}

// settledBalances waits until every running node of each wallet's chain
// reports the balance want gives, and the relays in flight are consumed.
func (c *cluster) settledBalances(timeout time.Duration, want map[int]uint64) {
	c.t.Helper()
	waitFor(c.t, timeout, "balances settled on every member", func() bool {
		for w, b := range want {
			for _, i := range c.members(c.wallets[w].chain) {
				if n := c.node(i); n != nil && c.balance(i, w) != b {
					return false
				}
			}
		}
		return true
	})
}

// Cross-chain payments (paper Fig. 10 with Alice and Charlie on chain 1,
// Bob on chain 2): each transfer debits its sender when its block commits,
// and credits its recipient on the other chain once the root chain has
// recorded that block and the relay reached a block of the recipient's
// chain. The relay is consumed once, on every member; the value is
// conserved; a member of each chain killed mid-traffic and restarted ends
// with the same state and consumed set, and nothing is credited twice.
func TestCrossChainTransfersAndRestart(t *testing.T) {
	c := newChains(t, 2, 4, 4) // wallets 0, 2 on chain 1; 1, 3 on chain 2
	for i := range c.nodes {
		c.start(i)
	}
	alice, bob, charlie := 0, 1, 2
	// Fig. 10: m1 Alice -> Bob 10, m3 Bob -> Charlie 10 once Bob holds it.
	m1 := c.submitTo(alice, bob, 10)
	waitFor(t, 60*time.Second, "m1 confirmed on Alice's chain", func() bool {
		st, err := c.node(0).MessageStatus(m1)
		return err == nil && st.State == driver.MessageConfirmed
	})
	c.settledBalances(60*time.Second, map[int]uint64{alice: 999_990, bob: 1_000_010})
	c.submitTo(bob, charlie, 10)
	c.settledBalances(60*time.Second, map[int]uint64{alice: 999_990, bob: 1_000_000, charlie: 1_000_010})

	// Traffic both ways while a member of each chain is killed and
	// restarted.
	want := map[int]uint64{0: 999_990, 1: 1_000_000, 2: 1_000_010, 3: 1_000_000}
	for round := range 6 {
		if round == 2 {
			c.stop(3) // chain 1
			c.stop(6) // chain 2
		}
		if round == 4 {
			c.start(3)
			c.start(6)
		}
		for w := range 4 {
			to := (w + 1) % 4 // always the other chain
			c.submitTo(w, to, uint64(1+w))
			want[w] -= uint64(1 + w)
			want[to] += uint64(1 + w)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A burst from both wallets of chain 1: the relays of one source block
	// reach chain 2 under one packed proof.
	for k := range 8 {
		w, to := 2*(k%2), 2*(k%2)+1
		c.submitTo(w, to, 1)
		want[w]--
		want[to]++
	}
	c.settledBalances(90*time.Second, want)
	if groups := packedGroups(t, c, 2); groups == 0 {
		t.Fatal("chain 2 consumed no relay under a packed group proof")
	}
	var total uint64
	for _, b := range want {
		total += b
	}
	if total != 4_000_000 {
		t.Fatalf("value not conserved: %d", total)
	}
	// Every member of a chain holds the same consumed set and state.
	for _, chain := range []types.ChainID{1, 2} {
		members := c.members(chain)
		waitFor(t, 30*time.Second, "a common height", func() bool {
			for _, i := range members {
				if c.node(i).Status().Head < 3 {
					return false
				}
			}
			return true
		})
		h := types.Height(^uint64(0))
		for _, i := range members {
			h = min(h, c.node(i).Status().Head)
		}
		var ref types.Hash
		for k, i := range members {
			b, err := c.node(i).Block(h)
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				ref = b.Header.Hash()
			} else if b.Header.Hash() != ref {
				t.Fatalf("chain %d height %d: node %d holds another block", chain, h, i)
			}
		}
	}
	ids := consumedRelays(t, c, 2)
	if len(ids) == 0 {
		t.Fatal("chain 2 consumed no relay")
	}
	for _, i := range c.members(2) {
		for _, id := range ids {
			if !c.node(i).Consumed(id) {
				t.Fatalf("node %d: relay %s not in the consumed set", i, id)
			}
		}
	}
}

// relayLifts returns, for the relays every transaction chain consumed, the
// number of lifts of their proofs by (source, destination); -1 for a proof
// by reference.
func relayLifts(t *testing.T, c *cluster) map[[2]types.ChainID]int {
	t.Helper()
	out := map[[2]types.ChainID]int{}
	for _, ch := range c.gen.Chains {
		if ch.Kind != chains.Transaction {
			continue
		}
		n := c.node(ch.Committee[0])
		for h := types.Height(1); h <= n.Status().Head; h++ {
			sb, err := n.Block(h)
			if err != nil {
				t.Fatal(err)
			}
			if sb.Decision == nil || sb.Decision.Block == nil {
				continue
			}
			body, err := exec.DecodeBody(sb.Decision.Block.Body)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range body.Inputs {
				if in.Message.Kind != types.MessageOuterRelay {
					continue
				}
				pair := [2]types.ChainID{in.Message.SourceChain, ch.ID}
				if _, err := relay.DecodeRefProof(in.Proof); err == nil {
					out[pair] = -1
					continue
				}
				if len(in.Proof) > 0 && (in.Proof[0] == relay.GroupProofTag || in.Proof[0] == relay.GroupRefTag) {
					out[pair] = -1 // a packed group proves by reference
					continue
				}
				p, err := relay.DecodeProof(in.Proof)
				if err != nil {
					t.Fatal(err)
				}
				out[pair] = len(p.Lifts)
			}
		}
	}
	return out
}

// packedGroups counts the packed group proofs (relay.GroupProof) in the
// blocks of chain, read from its first member's blocks; each must decode.
func packedGroups(t *testing.T, c *cluster, chain types.ChainID) int {
	t.Helper()
	n := c.node(c.members(chain)[0])
	groups := 0
	for h := types.Height(1); h <= n.Status().Head; h++ {
		sb, err := n.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		if sb.Decision == nil || sb.Decision.Block == nil {
			continue
		}
		body, err := exec.DecodeBody(sb.Decision.Block.Body)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range body.Inputs {
			if len(in.Proof) > 0 && in.Proof[0] == relay.GroupProofTag {
				if _, err := relay.DecodeGroupProof(in.Proof); err != nil {
					t.Fatalf("chain %d height %d: %v", chain, h, err)
				}
				groups++
			}
		}
	}
	return groups
}

// consumedRelays lists the relays the blocks of chain consumed, read from
// its first member's blocks.
func consumedRelays(t *testing.T, c *cluster, chain types.ChainID) []types.Hash {
	t.Helper()
	n := c.node(c.members(chain)[0])
	ctx := context.Background()
	var ids []types.Hash
	seen := map[types.Hash]bool{}
	for h := types.Height(1); h <= n.Status().Head; h++ {
		b, err := n.API().Block(ctx, chain, api.BlockRef{Height: h})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range b.Inputs {
			if in.Kind == types.MessageOuterRelay {
				if seen[in.ID()] {
					t.Fatalf("relay %s consumed twice on chain %d", in.ID(), chain)
				}
				seen[in.ID()] = true
				ids = append(ids, in.ID())
			}
		}
	}
	return ids
}

// The node serves light proofs of its chain's headers, accounts and
// relays, each checked against the root committee's keys alone; the root
// chain's own blocks are proved by their certificate. Accounts of a chain
// the node does not run are refused with an error naming the chain.
func TestLightProofsAndRouting(t *testing.T) {
	c := newChains(t, 2, 1, 2)
	for i := range c.nodes {
		c.start(i)
	}
	a := c.node(0).API() // node 0 runs chain 1, node 1 chain 2
	rootKeys := c.gen.PublicKeys(types.RootChain)
	c.submitTo(0, 1, 7)
	c.settledBalances(60*time.Second, map[int]uint64{0: 999_993, 1: 1_000_007})

	var relayID types.Hash
	var relayHeight types.Height
	for h := types.Height(1); h <= c.node(0).Status().Head && relayID.IsZero(); h++ {
		b, err := a.Block(context.Background(), 1, api.BlockRef{Height: h})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.OuterRelay) > 0 {
			relayID, relayHeight = b.OuterRelay[0].ID(), h
		}
	}
	if relayID.IsZero() {
		t.Fatal("no outer relay on chain 1")
	}
	var rp *light.RelayProof
	var err error
	waitFor(t, 30*time.Second, "the relay's block recorded", func() bool {
		rp, err = a.LightRelay(relayID)
		return err == nil
	})
	if err := light.VerifyRelay(rp, rootKeys); err != nil || rp.Block.Header.Height != relayHeight {
		t.Fatalf("relay proof: %v (height %d, want %d)", err, rp.Block.Header.Height, relayHeight)
	}
	var hp *light.HeaderProof
	waitFor(t, 30*time.Second, "block 1 of chain 2 recorded", func() bool {
		hp, err = a.LightHeader(2, 1)
		return err == nil
	})
	if err := light.VerifyHeader(hp, rootKeys); err != nil || hp.Header.ChainID != 2 {
		t.Fatalf("header proof of another chain: %v", err)
	}
	var ap *light.AccountProof
	waitFor(t, 30*time.Second, "a light account proof", func() bool {
		ap, err = a.LightAccount(c.wallets[0].addr)
		return err == nil
	})
	acct, err := light.VerifyAccount(ap, rootKeys)
	if err != nil || acct.Balance != 999_993 {
		t.Fatalf("account proof: %v, balance %d", err, acct.Balance)
	}
	rootStatus, _ := c.node(0).ChainStatus(types.RootChain)
	rootHead := rootStatus.Head
	var rootProof *light.HeaderProof
	for h := rootHead; h > 0 && rootProof == nil; h-- {
		rootProof, _ = a.LightHeader(types.RootChain, h)
	}
	if rootProof == nil || light.VerifyHeader(rootProof, rootKeys) != nil {
		t.Fatal("no verifiable root header proof")
	}
	for _, f := range []func() error{
		func() error { _, err := a.LightAccount(c.wallets[1].addr); return err },
		func() error { _, err := a.Account(context.Background(), c.wallets[1].addr, false); return err },
		func() error { _, err := a.LightRelay(types.Hash{1}); return err },
		func() error { _, err := a.LightHeader(1, 1<<40); return err },
	} {
		if err := f(); !errors.Is(err, api.ErrNotFound) {
			t.Errorf("lookup of something missing: %v, want api.ErrNotFound", err)
		}
	}
	chains := a.Chains()
	if len(chains) != 3 || !chains[0].Root || chains[2].ID != 2 || chains[2].Height == 0 || chains[2].PrefixBits != 1 {
		t.Fatalf("Chains of a node of chain 1: %+v", chains)
	}
	if st := a.Status(); len(st.Chains) != 2 || st.Chains[0] != 0 || st.Chains[1] != 1 {
		t.Fatalf("Status chains %v, want [0 1]", st.Chains)
	}
	_, err = a.Account(context.Background(), c.wallets[1].addr, false)
	if !errors.Is(err, driver.ErrOtherChain) {
		t.Fatalf("account of chain 2 on a node of chain 1: %v", err)
	}
	res, err := a.SubmitMessages(context.Background(), []types.Message{c.transfer(1, 0, 1)})
	if err != nil || !errors.Is(res[0].Err, driver.ErrOtherChain) || res[0].Chain != 2 {
		t.Fatalf("submit of a chain-2 sender to a chain-1 node: %v %+v", err, res)
	}
}

// Sub-chains (paper Fig. 4): chain 2 coordinates sub-chains 3 and 4, beside
// the top-level chain 1. A transfer between the sub-chains is delivered on
// the coordinator's record alone (the faster parent-digest path, no lift);
// one from a sub-chain to chain 1 carries a lift to the root block that
// recorded the coordinator's block; one from chain 1 to a sub-chain needs
// no lift (every node follows the root). Light proofs of a sub-chain climb
// both recorders.
func TestSubChainsRelays(t *testing.T) {
	topo, err := chains.Uniform(2)
	if err != nil {
		t.Fatal(err)
	}
	if topo, err = topo.WithSubChains(2, 1, 3); err != nil {
		t.Fatal(err)
	}
	c := newTopology(t, topo, 2, 3) // wallets 0, 1, 2 on chains 1, 3, 4
	for i := range c.nodes {
		c.start(i)
	}
	one, three, four := 0, 1, 2
	c.submitTo(three, four, 5) // siblings
	c.submitTo(three, one, 7)  // up and across
	c.submitTo(one, four, 11)  // down
	c.submitTo(four, three, 3) // siblings
	c.settledBalances(90*time.Second, map[int]uint64{one: 999_996, three: 999_991, four: 1_000_013})
	// The lifts the relays carried, by (source, destination): by
	// reference (-1) where the destination follows the source's recorder.
	want := map[[2]types.ChainID]int{{3, 4}: -1, {3, 1}: 1, {1, 4}: -1, {4, 3}: -1}
	for pair, lifts := range relayLifts(t, c) {
		if w, ok := want[pair]; !ok || w != lifts {
			t.Errorf("relay %d -> %d carried %d lifts (-1: by reference), want %d", pair[0], pair[1], lifts, w)
		}
		delete(want, pair)
	}
	if len(want) > 0 {
		t.Fatalf("relays not consumed: %v", want)
	}
	a := c.node(c.members(4)[0]).API()
	var ap *light.AccountProof
	waitFor(t, 30*time.Second, "a light account proof on a sub-chain", func() bool {
		ap, err = a.LightAccount(c.wallets[four].addr)
		return err == nil
	})
	for h := types.Height(1); h <= 3; h++ {
		if b, err := a.Block(context.Background(), 2, api.BlockRef{Height: h}); err != nil || b.Header.ChainID != 2 || !b.Confirmed {
			t.Fatalf("coordinator block %d: %v %+v", h, err, b)
		}
	}
	acct, err := light.VerifyAccount(ap, c.gen.PublicKeys(types.RootChain))
	if err != nil || len(ap.Block.Lifts) != 2 || ap.Block.Lifts[0].Recorder.ChainID != 2 {
		t.Fatalf("sub-chain account proof: %v, %d lifts", err, len(ap.Block.Lifts))
	}
	if acct.Address != c.wallets[four].addr {
		t.Fatalf("proof of account %v", acct.Address)
	}
}
