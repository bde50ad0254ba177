package driver_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/api"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/exec"
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
	if len(chains) != 2 || !chains[0].Root || chains[0].ID != 0 || chains[1].ID != 1 || chains[1].Height < st.Height {
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
