package bench

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/sim"
	"github.com/thinkey/thinkey/node/types"
)

// The shard stage runs a whole sharded network in the simulator
// (node/sim.ShardedNetwork): a root committee of 4 recording the blocks of
// N transaction chains, each decided by its own committee of 4 over real
// Ed25519-signed payments (node/exec), relays carried between chains with
// Merkle proofs checked against each node's view of the root chain
// (node/relay), and one load client per chain offering more transfers than
// the chain can take (saturation). Each member is charged virtual CPU by
// node/sim's cost model (the figures of docs/PERFORMANCE.md: BLS,
// Ed25519 batches, execution, Merkle, storage), so throughput is measured
// in virtual time and is the same on every machine for one seed; the real
// time per run (ns/op) is only what the simulation costs here.
//
// One iteration is one run: two virtual seconds of warm-up (more than
// twice the time a relay takes from its block to its destination's, so
// that the relay pipeline is full), then the transfers completed (the add
// of each payment processed, on the sender's chain or, for a cross-chain
// transfer, as a relay input on the recipient's) are counted for four
// virtual seconds. Per case it reports:
//
//   - tps: transfers completed per virtual second, all chains;
//   - tps/chain: the same per transaction chain;
//   - relay-latency-ms: the mean time from a relay's block to the block of
//     its destination that consumed it;
//   - tx-cpu-util and root-cpu-util: the share of virtual time the members
//     of the transaction chains and of the root were busy;
//   - heights/vsec: transaction-chain blocks per virtual second.
//
// The sweeps follow paper 6.2: throughput against the number of chains
// (Fig. 12) with half of the transfers cross-chain, and against the
// cross-chain ratio (Fig. 14) at four chains. The network is 20-60 ms one
// way with 1 Gbit/s uplinks (a commodity VPS). Two pairs of cases repeat
// the cross-chain ratio at two chains on 100 Mbit/s uplinks (node/sim's
// default) and on 10 Gbit/s ones: a cross-chain transfer puts a relay
// input in its destination's block (about 300 bytes with its share of the
// packed proof of its source block) and a relay package (about 600 bytes)
// on its source members' uplinks, so the slower the uplink the more the
// cross-chain ratio costs (see docs/PERFORMANCE.md).

// shardCase is one configuration of the stage.
type shardCase struct {
	chains    int
	cross     float64
	bandwidth sim.BitRate
}

func (c shardCase) name() string {
	prefix := ""
	switch {
	case c.bandwidth == shardBandwidth:
	case c.bandwidth%sim.Gbps == 0:
		prefix = fmt.Sprintf("%dgbit/", c.bandwidth/sim.Gbps)
	default:
		prefix = fmt.Sprintf("%dmbit/", c.bandwidth/sim.Mbps)
	}
	return fmt.Sprintf("%schains=%d/cross=%s", prefix, c.chains, strconv.FormatFloat(c.cross, 'f', -1, 64))
}

// shardBandwidth is the uplink of the stage's network.
const shardBandwidth = sim.Gbps

// Targets of issue 7 (paper Fig. 12 and 14).
const (
	shardScalingTarget = 7.0  // TPS(8 chains) >= 7 x TPS(1 chain)
	shardCrossTarget   = 0.85 // TPS(100% cross-chain) >= 85% of TPS(0%)
)

func shardCases(cfg Config) []Case {
	var list []shardCase
	if cfg.Quick {
		list = []shardCase{{1, 0.5, shardBandwidth}, {2, 0.5, shardBandwidth}, {2, 0, shardBandwidth}, {2, 1, shardBandwidth}}
	} else {
		for _, n := range []int{1, 2, 4, 8} {
			list = append(list, shardCase{n, 0.5, shardBandwidth})
		}
		for _, r := range []float64{0, 0.25, 1} {
			list = append(list, shardCase{4, r, shardBandwidth})
		}
		for _, bw := range []sim.BitRate{100 * sim.Mbps, 10 * sim.Gbps} {
			list = append(list, shardCase{2, 0, bw}, shardCase{2, 1, bw})
		}
	}
	out := make([]Case, len(list))
	for i, sc := range list {
		out[i] = Case{Stage: "shard", Name: sc.name(), Unit: "run", Run: func(b *testing.B) { benchShard(b, sc, cfg.Quick) }}
	}
	return out
}

func shardComparisons(cfg Config) []Comparison {
	full := func(c shardCase) string { return "shard/" + c.name() }
	if cfg.Quick {
		return nil // a light load, not saturation: no target applies
	}
	return []Comparison{
		{Name: "shard: TPS(8 chains) / TPS(1 chain), half cross-chain", Numerator: full(shardCase{8, 0.5, shardBandwidth}),
			Denominator: full(shardCase{1, 0.5, shardBandwidth}), Metric: "tps", Target: shardScalingTarget},
		{Name: "shard: TPS(100% cross-chain) / TPS(0%), 4 chains", Numerator: full(shardCase{4, 1, shardBandwidth}),
			Denominator: full(shardCase{4, 0, shardBandwidth}), Metric: "tps", Target: shardCrossTarget},
		{Name: "shard at 100 Mbit/s: TPS(100% cross-chain) / TPS(0%), 2 chains", Numerator: full(shardCase{2, 1, 100 * sim.Mbps}),
			Denominator: full(shardCase{2, 0, 100 * sim.Mbps}), Metric: "tps", Target: shardCrossTarget},
		{Name: "shard at 10 Gbit/s: TPS(100% cross-chain) / TPS(0%), 2 chains", Numerator: full(shardCase{2, 1, 10 * sim.Gbps}),
			Denominator: full(shardCase{2, 0, 10 * sim.Gbps}), Metric: "tps", Target: shardCrossTarget},
	}
}

// shardBenchConfig returns the network of one case of the shard stage: n
// transaction chains, a share cross of cross-chain transfers, uplinks of
// bandwidth, and a load that saturates every chain (quick: a light load
// for a smoke run).
func shardBenchConfig(n int, cross float64, bandwidth sim.BitRate, quick bool) sim.ShardConfig {
	cfg := sim.DefaultShardConfig(n)
	cfg.Seed = 1
	cfg.CheckInvariants = false
	cfg.ProposalTimeout, cfg.RoundTimeout, cfg.TimeoutIncrement = 2*time.Second, 4*time.Second, time.Second
	cfg.BlockInterval = 100 * time.Millisecond
	cfg.MempoolSize = 8000
	cfg.Network.UplinkBandwidth = bandwidth
	cfg.Load = sim.ShardLoad{
		AccountsPerChain: 1000, Balance: 1_000_000_000, Rate: 20000, Cross: cross, Window: 16,
		Tick: 100 * time.Millisecond, ResubmitAfter: 10 * time.Second,
	}
	if quick {
		cfg.Load.AccountsPerChain, cfg.Load.Rate, cfg.Load.Window = 64, 300, 4
	}
	return cfg
}

// shardWindow is the warm-up and the measured span of a run.
func shardWindow(quick bool) (warm, measured time.Duration) {
	if quick {
		return 500 * time.Millisecond, time.Second
	}
	return 2 * time.Second, 4 * time.Second
}

func benchShard(b *testing.B, sc shardCase, quick bool) {
	cfg := shardBenchConfig(sc.chains, sc.cross, sc.bandwidth, quick)
	warm, measured := shardWindow(quick)
	var rep sim.ShardReport
	var util shardUtilization
	for b.Loop() {
		n, err := sim.NewShardedNetwork(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := n.RunPhases(sim.ShardTargets{Until: warm + measured, MeasureFrom: warm, NoDrain: true}); err != nil {
			b.Fatalf("%s: %v", sc.name(), err)
		}
		rep = n.Report()
		util = utilization(n)
	}
	b.StopTimer()
	b.ReportMetric(rep.TPS, "tps")
	b.ReportMetric(rep.TPS/float64(sc.chains), "tps/chain")
	b.ReportMetric(float64(rep.RelayLatency["root"])/float64(time.Millisecond), "relay-latency-ms")
	b.ReportMetric(util.tx, "tx-cpu-util")
	b.ReportMetric(util.root, "root-cpu-util")
	b.ReportMetric(util.heights, "heights/vsec")
}

// shardUtilization is the busy share of the members' virtual CPU and the
// transaction chains' block rate over a run.
type shardUtilization struct{ tx, root, heights float64 }

func utilization(n *sim.ShardedNetwork) shardUtilization {
	metrics := n.World().Metrics()
	span := n.World().Now().Seconds()
	var u shardUtilization
	if span <= 0 {
		return u
	}
	busy := func(chain types.ChainID) (float64, int) {
		var s float64
		nodes := n.NodesOf(chain)
		for _, id := range nodes {
			s += metrics.PerNode[id].CPUBusy.Seconds()
		}
		return s, len(nodes)
	}
	rootBusy, rootNodes := busy(types.RootChain)
	u.root = rootBusy / span / float64(rootNodes)
	var txBusy float64
	txNodes := 0
	var heights float64
	for _, c := range n.Topology().Chains() {
		if c.Kind != chains.Transaction {
			continue
		}
		s, k := busy(c.ID)
		txBusy += s
		txNodes += k
		heights += float64(n.ChainHeight(c.ID))
	}
	txs := float64(len(n.Topology().Transactions()))
	u.tx = txBusy / span / float64(txNodes)
	u.heights = heights / txs / span
	return u
}
