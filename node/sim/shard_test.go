package sim_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/sim"
	"github.com/thinkey/thinkey/node/types"
)

// The sharded-network sweeps: a root committee and 2, 4 or 8 transaction
// chains of real signed payments, random cross-chain transfers and a swarm
// of faults per seed, checked for agreement on every chain, root records
// equal to the chains' decided headers, value conservation (balances plus
// relays in flight) after every root block, exactly-once relays, and, once
// the faults heal, every relay consumed and every transfer confirmed. A
// failing seed prints its replay commands.

const (
	// shardHealBy is when the faults of a sweep seed are over and the load
	// stops.
	shardHealBy = 6 * time.Second
	// shardLivenessHeights is how many heights every chain must commit
	// after the faults heal.
	shardLivenessHeights = 2
)

// shardSweeps are the fast default: chain counts and seeds per count.
var shardSweeps = []struct{ chains, seeds, soakSeeds int }{
	{2, 4, 1000},
	{4, 2, 400},
	{8, 1, 150},
}

// shardCLIReplay is the `thinkey sim` command that runs the same seed.
func shardCLIReplay(seed uint64, chainCount int) string {
	return fmt.Sprintf("thinkey sim --chains %d --seed %d --faults swarm --heal-by %v --liveness-heights %d",
		chainCount, seed, shardHealBy, shardLivenessHeights)
}

// shardTotals sums what a sweep exercised.
type shardTotals struct {
	seeds, relays, transfers, crashes, parked, ackedConsumed int
	faults                                                   sim.FaultKinds
}

// runShardSweep runs seeds 1..count (or the -seed replay) of a network of
// chainCount chains.
func runShardSweep(t *testing.T, chainCount, count int) shardTotals {
	t.Helper()
	var totals shardTotals
	for _, seed := range seedFlag.Seeds(count) {
		cfg, err := sim.SwarmShardConfig(seed, chainCount, shardHealBy)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if replaying() && *traceFlag {
			cfg.Trace = testLogWriter{t}
		}
		rep, err := sim.RunShard(cfg, sim.ShardTargets{LivenessHeights: shardLivenessHeights})
		if err != nil {
			t.Errorf("%s\nor:     %s\n%v", sim.FailureReport(packagePath, t.Name(), seed, err), shardCLIReplay(seed, chainCount), cfg.Faults)
			continue
		}
		if rep.RelaysConsumed == 0 || rep.Transfers == 0 || rep.ConservationChecks == 0 {
			t.Errorf("%s", sim.FailureReport(packagePath, t.Name(), seed,
				fmt.Errorf("exercised nothing: %d transfers, %d relays, %d conservation checks", rep.Transfers, rep.RelaysConsumed, rep.ConservationChecks)))
		}
		totals.seeds++
		totals.relays += rep.RelaysConsumed
		totals.transfers += rep.Transfers
		totals.parked += rep.Members.Parked
		totals.ackedConsumed += rep.Members.AckedConsumed
		totals.faults |= cfg.Faults.Kinds
		for _, f := range cfg.Faults.Faults {
			if f.Action == sim.ActionCrash {
				totals.crashes++
			}
		}
	}
	return totals
}

func TestShardSwarm(t *testing.T) {
	for _, s := range shardSweeps {
		t.Run(fmt.Sprintf("chains=%d", s.chains), func(t *testing.T) {
			t.Parallel()
			totals := runShardSweep(t, s.chains, s.seeds)
			t.Logf("%d seeds: %d transfers, %d relays, %d crashes, %d parked checks, %d duplicate relays acknowledged, faults %v",
				totals.seeds, totals.transfers, totals.relays, totals.crashes, totals.parked, totals.ackedConsumed, totals.faults)
		})
	}
}

// TestShardSoak is the long sweep (-soak or THINKEY_SOAK=1).
func TestShardSoak(t *testing.T) {
	if !soaking() && !replaying() {
		t.Skip("the shard soak runs only with -soak or THINKEY_SOAK=1")
	}
	for _, s := range shardSweeps {
		t.Run(fmt.Sprintf("chains=%d", s.chains), func(t *testing.T) {
			totals := runShardSweep(t, s.chains, s.soakSeeds)
			if !replaying() && (totals.crashes == 0 || totals.faults != sim.AllFaultKinds) {
				t.Errorf("the soak did not exercise every fault: %d crashes, kinds %v", totals.crashes, totals.faults)
			}
			t.Logf("%d seeds: %d transfers, %d relays, %d crashes", totals.seeds, totals.transfers, totals.relays, totals.crashes)
		})
	}
}

// TestShardDeterminism runs one swarm seed twice: the same events in the
// same order give the same trace hash and the same figures.
func TestShardDeterminism(t *testing.T) {
	const seed = 3
	var first sim.ShardReport
	for i := range 2 {
		cfg, err := sim.SwarmShardConfig(seed, 2, shardHealBy)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := sim.RunShard(cfg, sim.ShardTargets{LivenessHeights: shardLivenessHeights})
		if err != nil {
			t.Fatal(sim.FailureReport(packagePath, t.Name(), seed, err))
		}
		if i == 0 {
			first = rep
			continue
		}
		if rep.TraceHash != first.TraceHash || rep.VirtualTime != first.VirtualTime || rep.Completed != first.Completed || rep.Messages != first.Messages {
			t.Fatalf("two runs of seed %d differ: trace %v / %v, time %v / %v, completed %d / %d, messages %d / %d", seed,
				first.TraceHash, rep.TraceHash, first.VirtualTime, rep.VirtualTime, first.Completed, rep.Completed, first.Messages, rep.Messages)
		}
	}
}

// keyOn returns the first key derived from label whose account the
// topology places on chain.
func keyOn(t *testing.T, topo *chains.Topology, chain types.ChainID, label string) ed25519.PrivateKey {
	t.Helper()
	for i := uint64(0); i < 10_000; i++ {
		seed := hash.Sum256(binary.BigEndian.AppendUint64([]byte(label), i))
		k, err := ed25519.NewKeyFromSeed(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		if topo.OwnerOf(actor.AddressFromPublicKey(k.Public())) == chain {
			return k
		}
	}
	t.Fatalf("no key on chain %d", chain)
	return ed25519.PrivateKey{}
}

// TestShardPaperFigure10 is the payment of paper 5.4 (Fig. 10) across
// three chains: Alice (20) on chain 1 pays Bob (5) on chain 2 ten (m1,
// whose add m2 is a relay to chain 2), and once Bob has it, Bob pays
// Charlie (10) on chain 3 ten (m3, relay m4). The balances end at 10, 5
// and 20, and each relay is consumed once, by every member of its chain.
func TestShardPaperFigure10(t *testing.T) {
	const seed = 1
	topo, err := chains.Uniform(3)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob, charlie := keyOn(t, topo, 1, "alice"), keyOn(t, topo, 2, "bob"), keyOn(t, topo, 3, "charlie")
	a, b, c := actor.AddressFromPublicKey(alice.Public()), actor.AddressFromPublicKey(bob.Public()), actor.AddressFromPublicKey(charlie.Public())
	cfg := sim.DefaultShardConfig(3)
	cfg.Seed = seed
	cfg.Load.Rate, cfg.Load.AccountsPerChain = 0, 0
	cfg.Accounts = []actor.Account{{Address: a, Balance: 20}, {Address: b, Balance: 5}, {Address: c, Balance: 10}}
	n, err := sim.NewShardedNetwork(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(err error) { t.Helper(); t.Fatal(sim.FailureReport(packagePath, t.Name(), seed, err)) }
	balance := func(addr types.Address) uint64 { v, _ := n.Balance(addr); return v }

	m1 := actor.NewTransfer(alice, 0, b, 10)
	if err := n.Submit(m1); err != nil {
		t.Fatal(err)
	}
	if err := n.RunUntil(func() bool { return balance(b) == 15 }, time.Minute); err != nil {
		fail(fmt.Errorf("m2 never reached Bob (balances %d/%d/%d): %w", balance(a), balance(b), balance(c), err))
	}
	m3 := actor.NewTransfer(bob, 0, c, 10)
	if err := n.Submit(m3); err != nil {
		t.Fatal(err)
	}
	if err := n.RunUntil(func() bool { return balance(c) == 20 && n.Drained() }, n.World().Now()+time.Minute); err != nil {
		fail(fmt.Errorf("m4 never reached Charlie (balances %d/%d/%d): %w", balance(a), balance(b), balance(c), err))
	}
	// Let every member of every chain catch up, then check once more.
	if err := n.Run(n.World().Now() + 5*time.Second); err != nil {
		fail(err)
	}
	if got := [3]uint64{balance(a), balance(b), balance(c)}; got != [3]uint64{10, 5, 20} {
		t.Fatalf("balances %v, want [10 5 20]", got)
	}
	rep := n.Report()
	if rep.RelaysProduced != 2 || rep.RelaysConsumed != 2 || rep.Transfers != 2 {
		t.Fatalf("%d relays produced, %d consumed, %d transfers; want 2, 2, 2", rep.RelaysProduced, rep.RelaysConsumed, rep.Transfers)
	}
	m2 := relayOf(t, m1, a, b, 10, 1)
	m4 := relayOf(t, m3, b, c, 10, 2)
	for _, r := range []struct {
		chain types.ChainID
		id    types.Hash
	}{{2, m2.ID()}, {3, m4.ID()}} {
		for i := range cfg.Members {
			if _, ok := n.ConsumedAt(r.chain, types.ValidatorIndex(i), r.id); !ok {
				t.Errorf("member %d of chain %d did not consume relay %v", i, r.chain, r.id)
			}
		}
	}
}

// relayOf is the outer relay {add, bill} that from sends to to when
// processing cause on chain source (node/exec's relay rule: the cause and
// the output index make its ID unique).
func relayOf(t *testing.T, cause types.Message, from, to types.Address, bill uint64, source types.ChainID) types.Message {
	t.Helper()
	return types.Message{
		Kind: types.MessageOuterRelay, SourceChain: source, From: from, To: to,
		Cause: cause.ID(), Nonce: 0, Method: []byte(actor.MethodAdd), Value: bill,
	}
}

// TestShardReplayedRelayIsRefused: a relay consumed once is never consumed
// again. A Byzantine leader of chain 2 puts relays its chain already
// consumed back into its blocks: the honest members refuse those blocks
// (relay.ErrConsumed) and the chain goes on. A member of chain 1 that
// crashes and restarts sends every relay of its history again: the
// destination acknowledges the duplicates at once and consumes nothing
// twice (the observer checks exactly-once across all blocks).
func TestShardReplayedRelayIsRefused(t *testing.T) {
	const seed = 2
	cfg := sim.DefaultShardConfig(2)
	cfg.Seed = seed
	cfg.Load.Cross = 1
	cfg.Load.StopAt = 6 * time.Second
	cfg.ReplayLeader = &sim.ShardMemberID{Chain: 2, Member: 1}
	n, err := sim.NewShardedNetwork(cfg)
	if err != nil {
		t.Fatal(err)
	}
	source := n.NodesOf(1)[2]
	n.World().Schedule(4*time.Second, func() { _ = n.World().Crash(source) })
	n.World().Schedule(5*time.Second, func() { _ = n.World().Restart(source) })
	rep, err := runNetwork(n, sim.ShardTargets{Until: 6 * time.Second, LivenessHeights: 3})
	if err != nil {
		t.Fatal(sim.FailureReport(packagePath, t.Name(), seed, err))
	}
	byz := n.MemberStats(2, 1)
	if byz.Replayed == 0 {
		t.Fatal("the replaying leader never put a consumed relay in a block")
	}
	refused := 0
	for i := range cfg.Members {
		if i != 1 {
			refused += n.MemberStats(2, types.ValidatorIndex(i)).RefusedReplays
		}
	}
	if refused == 0 {
		t.Fatal("no honest member refused a block replaying a consumed relay")
	}
	if rep.Members.AckedConsumed == 0 {
		t.Fatal("the restarted member's re-sent relays were not acknowledged as consumed")
	}
	if rep.RelaysConsumed != rep.RelaysProduced {
		t.Fatalf("%d relays produced, %d consumed", rep.RelaysProduced, rep.RelaysConsumed)
	}
	t.Logf("replayed %d, refused %d times by honest members, %d duplicate packages acknowledged, %d relays", byz.Replayed, refused, rep.Members.AckedConsumed, rep.RelaysConsumed)
}

// runNetwork runs a built network as RunShard does.
func runNetwork(n *sim.ShardedNetwork, targets sim.ShardTargets) (sim.ShardReport, error) {
	err := n.RunPhases(targets)
	return n.Report(), err
}

// TestShardSubChainsFasterPath runs chain 1 split into sub-chains 3 and 4
// under coordinator chain 1 (paper Fig. 4), beside top-level chain 2.
// Relays between the siblings 3 and 4 are proved against the coordinator
// with no lift and consumed as soon as the coordinator recorded their
// block, often before the root recorded the coordinator's; relays from 3
// or 4 to chain 2 carry one lift to the root and take longer.
func TestShardSubChainsFasterPath(t *testing.T) {
	topo, err := chains.Uniform(2)
	if err != nil {
		t.Fatal(err)
	}
	if topo, err = topo.WithSubChains(1, 1, 3); err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{1, 5} {
		cfg := sim.DefaultShardConfig(0)
		cfg.Topology = topo
		cfg.Seed = seed
		cfg.Load.StopAt = 6 * time.Second
		if seed == 5 {
			if cfg.Faults, err = sim.ShardFaultPlan(seed, cfg, 6*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := sim.RunShard(cfg, sim.ShardTargets{Until: 6 * time.Second, LivenessHeights: 2})
		if err != nil {
			t.Fatal(sim.FailureReport(packagePath, t.Name(), seed, err))
		}
		sibling, lifted := rep.RelayLatency["sibling"], rep.RelayLatency["lifted"]
		if rep.RelayCount["sibling"] == 0 || rep.RelayCount["lifted"] == 0 || rep.RelayCount["root"] == 0 {
			t.Fatalf("seed %d: relays by path %v: every path must be taken", seed, rep.RelayCount)
		}
		if rep.SiblingBeforeRoot == 0 {
			t.Fatalf("seed %d: no sibling relay was consumed before the root recorded its coordinator block", seed)
		}
		if seed == 1 && sibling >= lifted {
			t.Fatalf("seed %d: sibling relays took %v on average, lifted ones %v: the parent-digest path is not faster", seed, sibling, lifted)
		}
		t.Logf("seed %d: relay latency %v (counts %v), %d sibling relays consumed before the root recorded their coordinator block",
			seed, rep.RelayLatency, rep.RelayCount, rep.SiblingBeforeRoot)
	}
}
