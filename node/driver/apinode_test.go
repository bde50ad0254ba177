package driver_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/netq/memnet"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/api"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

func TestAPIViewsOfACommittedTransfer(t *testing.T) {
	c := newCluster(t, 4, 2)
	for i := range 4 {
		c.start(i)
	}
	a := c.node(2).API()
	ctx := context.Background()
	m := c.transfer(0, 1, 25)
	res, err := a.SubmitMessages(ctx, []types.Message{m})
	if err != nil || len(res) != 1 || res[0].Err != nil || res[0].Chain != 1 {
		t.Fatalf("SubmitMessages: %v %+v", err, res)
	}
	dup, err := a.SubmitMessages(ctx, []types.Message{m})
	if err != nil || dup[0].Err == nil {
		t.Fatalf("a duplicate was admitted: %v %+v", err, dup)
	}
	var st api.MessageStatus
	waitFor(t, 60*time.Second, "the transfer confirmed", func() bool {
		st, err = a.MessageStatus(ctx, m.ID())
		return err == nil && st.State == api.StateConfirmed
	})
	blk, err := a.Block(ctx, 1, api.BlockRef{Height: st.Height})
	if err != nil || blk.Hash != st.BlockHash || !blk.Confirmed || blk.Certificate == nil {
		t.Fatalf("Block(%d): %v %+v", st.Height, err, blk)
	}
	found := false
	for _, in := range blk.Inputs {
		found = found || in.ID() == m.ID()
	}
	if !found || len(blk.InterRelay) == 0 {
		t.Fatalf("block %d: inputs %d (transfer found %v), inter-relay %d", st.Height, len(blk.Inputs), found, len(blk.InterRelay))
	}
	byHash, err := a.Block(ctx, 1, api.BlockRef{ByHash: true, Hash: st.BlockHash})
	if err != nil || byHash.Header.Height != st.Height {
		t.Fatalf("Block by hash: %v", err)
	}
	view, err := a.Account(ctx, c.wallets[1].addr, true)
	if err != nil || view.Balance != 1_000_025 || view.Proof == nil {
		t.Fatalf("Account: %v %+v", err, view)
	}
	acct, err := actor.DecodeAccount(view.Proof.Leaf)
	if err != nil {
		t.Fatal(err)
	}
	proof := merkle.Proof{Index: view.Proof.LeafIndex, LeafCount: view.Proof.LeafCount, Siblings: view.Proof.Siblings}
	if err := exec.VerifyAccountProof(view.StateRoot, &acct, proof); err != nil {
		t.Fatalf("account proof does not verify: %v", err)
	}
	for _, f := range []func() error{
		func() error { _, err := a.Account(ctx, types.Address{9}, false); return err },
		func() error { _, err := a.MessageStatus(ctx, types.Hash{1}); return err },
		func() error { _, err := a.Block(ctx, 1, api.BlockRef{Height: 1 << 40}); return err },
		func() error { _, err := a.Block(ctx, 5, api.BlockRef{Height: 1}); return err },
		func() error { _, err := a.Block(ctx, 1, api.BlockRef{ByHash: true, Hash: types.Hash{3}}); return err },
	} {
		if err := f(); !errors.Is(err, api.ErrNotFound) {
			t.Errorf("lookup of something missing: %v, want api.ErrNotFound", err)
		}
	}
	chains := a.Chains()
	if len(chains) != 2 || !chains[0].Root || chains[0].ID != 0 || chains[1].ID != 1 || chains[1].Height < st.Height ||
		!chains[0].Served || !chains[1].Served || chains[1].Kind.String() != "transaction" || chains[1].Parent != 0 ||
		chains[1].Confirmed < st.Height || chains[0].Confirmed != chains[0].Height {
		t.Fatalf("Chains: %+v", chains)
	}
	if err := a.Healthy(); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	waitFor(t, 10*time.Second, "peers heard", func() bool { return a.Status().Peers == 3 })
	s := a.Status()
	if s.NodeID != c.keys[2].Identity.PeerID().String() || s.Genesis.IsZero() || s.StartedAt.IsZero() {
		t.Fatalf("Status: %+v", s)
	}
	c.stop(2)
	if err := a.Healthy(); !errors.Is(err, api.ErrUnavailable) {
		t.Fatalf("Healthy of a stopped node: %v", err)
	}
}

func TestNewRefusesAKeyOutsideTheCommittee(t *testing.T) {
	c := newCluster(t, 2, 1)
	outsider, err := keys.Generate(seeded(77))
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open("db", storage.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ep, err := c.net.Attach(outsider.Identity.PeerID(), netq.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	_, err = driver.New(driver.Options{Config: c.cfg, Key: outsider, Genesis: c.gen, Transport: ep, DB: db})
	if !errors.Is(err, driver.ErrNotMember) {
		t.Fatalf("New with an outsider's key = %v, want ErrNotMember", err)
	}
	// A member's BLS key with another identity is refused too.
	mixed := keys.Key{BLS: c.keys[0].BLS, Identity: outsider.Identity}
	if _, err := driver.New(driver.Options{Config: c.cfg, Key: mixed, Genesis: c.gen, Transport: ep, DB: db}); !errors.Is(err, driver.ErrNotMember) {
		t.Fatalf("New with a foreign identity = %v, want ErrNotMember", err)
	}
}

// A store written under one genesis is refused under another.
func TestStoreOfAnotherGenesisIsRefused(t *testing.T) {
	c := newCluster(t, 1, 1)
	c.start(0)
	waitFor(t, 30*time.Second, "a block", func() bool { return c.node(0).Status().Head >= 1 })
	c.stop(0)
	c.gen.GenesisTimeMillis++
	db, err := storage.Open("db", storage.Options{FS: c.fs[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ep, err := c.net.Attach(c.keys[0].Identity.PeerID(), netq.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	_, err = driver.New(driver.Options{Config: c.cfg, Key: c.keys[0], Genesis: c.gen, Transport: ep, DB: db})
	if err == nil || !strings.Contains(err.Error(), "another genesis") {
		t.Fatalf("New over the store of another genesis = %v", err)
	}
}

// A node of chain 1 answers for chain 2's accounts, senders and blocks with
// a WrongChainError naming chain 2 and its node (421 wrong_chain over
// HTTP), lists chain 2 as not served, and reports a transfer to chain 2
// confirmed once the root chain recorded its block; the relay's arrival
// is then the recipient chain's state of the relay ID.
func TestAPIAcrossChains(t *testing.T) {
	c := newChains(t, 2, 1, 2) // node 0 runs chain 1 (wallet 0), node 1 chain 2 (wallet 1)
	for i := range c.nodes {
		c.start(i)
	}
	a, b := c.node(0).API(), c.node(1).API()
	ctx := context.Background()

	got := a.Chains()
	want := []struct {
		kind   chains.Kind
		served bool
	}{{chains.Root, true}, {chains.Transaction, true}, {chains.Transaction, false}}
	if len(got) != len(want) {
		t.Fatalf("Chains: %+v", got)
	}
	for i, w := range want {
		if got[i].ID != types.ChainID(i) || got[i].Kind != w.kind || got[i].Served != w.served || got[i].Parent != 0 {
			t.Fatalf("chain %d: %+v, want kind %v served %v parent 0", i, got[i], w.kind, w.served)
		}
	}

	nodeOf2 := c.gen.Nodes[c.members(2)[0]].Address
	_, err := a.Account(ctx, c.wallets[1].addr, false)
	var wc *api.WrongChainError
	if !errors.As(err, &wc) || wc.Chain != 2 || !errors.Is(err, api.ErrWrongChain) || !errors.Is(err, driver.ErrOtherChain) ||
		!strings.Contains(err.Error(), "chain 2") || !strings.Contains(err.Error(), nodeOf2) {
		t.Fatalf("account of chain 2 on a node of chain 1: %v", err)
	}
	res, err := a.SubmitMessages(ctx, []types.Message{c.transfer(1, 0, 1)})
	if err != nil || !errors.As(res[0].Err, &wc) || wc.Chain != 2 || res[0].Chain != 2 {
		t.Fatalf("sender of chain 2 on a node of chain 1: %v %+v", err, res)
	}
	c.wallets[1].nonce-- // that transfer went nowhere
	if _, err := a.Block(ctx, 2, api.BlockRef{Height: 1}); !errors.As(err, &wc) || wc.Chain != 2 {
		t.Fatalf("block of chain 2 on a node of chain 1: %v", err)
	}
	for _, f := range []func() error{
		func() error { _, err := a.Block(ctx, 9, api.BlockRef{Height: 1}); return err },
		func() error { _, err := a.MessageStatus(ctx, types.Hash{1}); return err },
	} {
		if err := f(); !errors.Is(err, api.ErrNotFound) || errors.Is(err, api.ErrWrongChain) {
			t.Errorf("lookup of something missing: %v, want api.ErrNotFound only", err)
		}
	}

	h := api.NewServer(c.cfg.API, a, nil, nil).Handler()
	get := func(method, target, body string) (int, map[string]any) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, target, err, rec.Body.String())
		}
		return rec.Code, out
	}
	if code, body := get("GET", "/v1/accounts/"+c.wallets[1].addr.String(), ""); code != http.StatusMisdirectedRequest ||
		body["code"] != api.CodeWrongChain || body["chain"] != float64(2) {
		t.Fatalf("GET account of chain 2: %d %v", code, body)
	}
	misdirected := c.transfer(1, 0, 1)
	enc, err := misdirected.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c.wallets[1].nonce--
	if code, body := get("POST", "/v1/messages", fmt.Sprintf(`{"raw":%q}`, hex.EncodeToString(enc))); code != http.StatusMisdirectedRequest ||
		body["code"] != api.CodeWrongChain || body["chain"] != float64(2) || body["accepted"] != false {
		t.Fatalf("POST a sender of chain 2: %d %v", code, body)
	}

	m := c.transfer(0, 1, 5)
	if res, err := a.SubmitMessages(ctx, []types.Message{m}); err != nil || res[0].Err != nil {
		t.Fatalf("submit: %v %+v", err, res)
	}
	var st api.MessageStatus
	waitFor(t, 60*time.Second, "the transfer confirmed on chain 1", func() bool {
		st, err = a.MessageStatus(ctx, m.ID())
		return err == nil && st.State == api.StateConfirmed
	})
	if ch := a.Chains()[1]; ch.Confirmed < st.Height {
		t.Fatalf("chain 1 confirmed height %d below the confirmed message's %d", ch.Confirmed, st.Height)
	}
	blk, err := a.Block(ctx, 1, api.BlockRef{Height: st.Height})
	if err != nil || !blk.Confirmed {
		t.Fatalf("block %d: %v, confirmed %v", st.Height, err, blk.Confirmed)
	}
	var relayID types.Hash
	for _, r := range blk.OuterRelay {
		if r.Cause == m.ID() && r.To == c.wallets[1].addr {
			relayID = r.ID()
		}
	}
	if relayID.IsZero() {
		t.Fatalf("block %d holds no relay of the transfer", st.Height)
	}
	waitFor(t, 60*time.Second, "the relay confirmed on chain 2", func() bool {
		rs, err := b.MessageStatus(ctx, relayID)
		return err == nil && rs.State == api.StateConfirmed && rs.Chain == 2
	})
	if v, err := b.Account(ctx, c.wallets[1].addr, false); err != nil || v.Balance != 1_000_005 {
		t.Fatalf("recipient after delivery: %v %+v", err, v)
	}
}

// A node in the root committee only runs no transaction chain: it serves
// no account, sender or message, and says so with ErrWrongChain.
func TestAPIOfARootOnlyNode(t *testing.T) {
	rnd := seeded(91)
	var ks []keys.Key
	var members []genesis.Member
	for i := range 2 {
		k, err := keys.Generate(rnd)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
		members = append(members, genesis.NewMember(k.Public(), fmt.Sprintf("127.0.0.1:%d", 17700+i)))
	}
	topo, err := chains.Uniform(1)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := genesis.NewLayout(uint64(time.Now().UnixMilli()), members, topo, 1) // node 1: root committee only
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open("db", storage.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ep, err := memnet.NewNetwork(3).Attach(ks[1].Identity.PeerID(), netq.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	n, err := driver.New(driver.Options{Config: testConfig(t), Key: ks[1], Genesis: gen, Transport: ep, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	a := n.API()
	ctx := context.Background()
	if _, err := a.MessageStatus(ctx, types.Hash{1}); !errors.Is(err, api.ErrWrongChain) {
		t.Fatalf("message status: %v, want ErrWrongChain", err)
	}
	var wc *api.WrongChainError
	if _, err := a.Account(ctx, types.Address{1}, false); !errors.As(err, &wc) || wc.Chain != 1 {
		t.Fatalf("account: %v, want a WrongChainError naming chain 1", err)
	}
	priv, err := ed25519.GenerateKey(rnd)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.SubmitMessages(ctx, []types.Message{actor.NewTransfer(priv, 0, types.Address{2}, 1)})
	if err != nil || !errors.As(res[0].Err, &wc) || wc.Chain != 1 {
		t.Fatalf("submit: %v %+v, want a WrongChainError naming chain 1", err, res)
	}
	if cs := a.Chains(); len(cs) != 2 || !cs[0].Served || cs[1].Served {
		t.Fatalf("Chains: %+v", cs)
	}
}
