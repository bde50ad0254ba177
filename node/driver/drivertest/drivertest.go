package drivertest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/netq/memnet"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/api"
	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// Account is a funded account of the network.
type Account struct {
	Key     ed25519.PrivateKey
	Address [20]byte
	// Chain is the transaction chain that holds the account.
	Chain types.ChainID
}

// Network is a running network: a root chain run by every node, and
// transaction chains.
type Network struct {
	Nodes    []*driver.Node
	APIs     []string
	Accounts []Account
	Genesis  *genesis.Genesis
	// Chain is the transaction chain node i runs.
	Chain []types.ChainID
}

// Config returns the node configuration the network runs with: short
// timeouts and block interval, one verification worker.
func Config(t testing.TB) config.Config {
	cfg, err := config.Defaults("default")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Consensus.ProposalTimeout = config.Duration{Duration: 800 * time.Millisecond}
	cfg.Consensus.RoundTimeout = config.Duration{Duration: 1600 * time.Millisecond}
	cfg.Consensus.TimeoutIncrement = config.Duration{Duration: 200 * time.Millisecond}
	cfg.Consensus.BlockInterval = config.Duration{Duration: 30 * time.Millisecond}
	cfg.Accel.VerifyWorkers = 1
	return cfg
}

// Start runs a network of size nodes, which run the root chain and one
// transaction chain, with accounts funded accounts of balance each, drawn
// from seed, and stops it when the test ends.
func Start(t testing.TB, size, accounts int, balance uint64, seed uint64) *Network {
	t.Helper()
	return StartChains(t, 1, size, accounts, balance, seed)
}

// StartChains runs txChains transaction chains of members nodes each
// (every node also runs the root chain); account i is on chain 1 + i mod
// txChains.
func StartChains(t testing.TB, txChains, members, accounts int, balance uint64, seed uint64) *Network {
	t.Helper()
	size := txChains * members
	var s [32]byte
	for i := range s {
		s[i] = byte(seed >> (8 * (i % 8)))
	}
	rnd := rand.NewChaCha8(s)
	nodeKeys := make([]keys.Key, size)
	nodes := make([]genesis.Member, size)
	for i := range nodeKeys {
		k, err := keys.Generate(rnd)
		if err != nil {
			t.Fatal(err)
		}
		nodeKeys[i] = k
		nodes[i] = genesis.NewMember(k.Public(), fmt.Sprintf("127.0.0.1:%d", 1+i))
	}
	gen, err := genesis.NewUniform(uint64(time.Now().Add(-time.Minute).UnixMilli()), nodes, txChains, members)
	if err != nil {
		t.Fatal(err)
	}
	topo, err := gen.Topology()
	if err != nil {
		t.Fatal(err)
	}
	nw := &Network{Genesis: gen}
	for i := range size {
		nw.Chain = append(nw.Chain, types.ChainID(1+i/members))
	}
	for i := range accounts {
		want := types.ChainID(1 + i%txChains)
		for {
			priv, err := ed25519.GenerateKey(rnd)
			if err != nil {
				t.Fatal(err)
			}
			a := Account{Key: priv, Address: actor.AddressFromPublicKey(priv.Public()), Chain: want}
			if topo.OwnerOf(a.Address) != want {
				continue
			}
			nw.Accounts = append(nw.Accounts, a)
			gen.Accounts = append(gen.Accounts, genesis.Account{Address: a.Address, Balance: balance})
			break
		}
	}
	slices.SortFunc(gen.Accounts, func(a, b genesis.Account) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	if err := gen.Validate(); err != nil {
		t.Fatal(err)
	}
	net := memnet.NewNetwork(seed)
	cfg := Config(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make([]chan error, size)
	var cleanups []func()
	t.Cleanup(func() {
		cancel()
		for i, d := range done {
			if d == nil {
				continue
			}
			select {
			case err := <-d:
				if err != nil {
					t.Errorf("node %d stopped with %v", i, err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("node %d did not stop", i)
			}
		}
		for _, c := range slices.Backward(cleanups) {
			c()
		}
	})
	for i := range size {
		db, err := storage.Open("db", storage.Options{FS: vfs.NewMem()})
		if err != nil {
			t.Fatal(err)
		}
		cleanups = append(cleanups, func() { _ = db.Close() })
		ep, err := net.Attach(nodeKeys[i].Identity.PeerID(), netq.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		cleanups = append(cleanups, func() { _ = ep.Close() })
		n, err := driver.New(driver.Options{Config: cfg, Key: nodeKeys[i], Genesis: gen, Transport: ep, DB: db})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api.NewServer(cfg.API, n.API(), n.Registry(), nil).Handler())
		cleanups = append(cleanups, srv.Close)
		done[i] = make(chan error, 1)
		go func() { done[i] <- n.Run(ctx) }()
		nw.Nodes = append(nw.Nodes, n)
		nw.APIs = append(nw.APIs, srv.URL)
	}
	return nw
}
