package driver_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/api"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/types"
)

// metricSample is the value of the series of a metric family that carry
// every given label pair, summed: a counter's or gauge's value, a
// histogram's sample count and sum. found is false when the family is not
// registered or no series matches.
type metricSample struct {
	value, count, sum float64
	found             bool
}

// relayMetric reads metric name of node n's registry, restricted to the
// series with the label pairs of labels ("chain", "1", "dest", "2", ...).
func relayMetric(t *testing.T, n *driver.Node, name string, labels ...string) metricSample {
	t.Helper()
	if len(labels)%2 != 0 {
		t.Fatalf("labels of %s: odd list %v", name, labels)
	}
	mfs, err := n.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var s metricSample
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for k := 0; k < len(labels); k += 2 {
				match := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[k] && lp.GetValue() == labels[k+1] {
						match = true
						break
					}
				}
				if !match {
					continue series
				}
			}
			s.found = true
			s.value += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			s.count += float64(m.GetHistogram().GetSampleCount())
			s.sum += m.GetHistogram().GetSampleSum()
		}
	}
	return s
}

// relayTraffic counts, from the blocks of chain held by its first member,
// the outer relays they produced by destination chain and the relays they
// consumed by source chain.
func relayTraffic(t *testing.T, c *cluster, chain types.ChainID) (produced, consumed map[types.ChainID]int) {
	t.Helper()
	owner := map[types.Address]types.ChainID{}
	for _, w := range c.wallets {
		owner[w.addr] = w.chain
	}
	n := c.node(c.members(chain)[0])
	produced, consumed = map[types.ChainID]int{}, map[types.ChainID]int{}
	for h := types.Height(1); h <= n.Status().Head; h++ {
		b, err := n.API().Block(context.Background(), chain, api.BlockRef{Height: h})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range b.OuterRelay {
			dest, ok := owner[m.To]
			if !ok {
				t.Fatalf("chain %d height %d: relay to %v, no wallet's address", chain, h, m.To)
			}
			produced[dest]++
		}
		for _, in := range b.Inputs {
			if in.Kind == types.MessageOuterRelay {
				consumed[in.SourceChain]++
			}
		}
	}
	return produced, consumed
}

func label(c types.ChainID) string { return fmt.Sprint(uint32(c)) }

// Transfers both ways between two chains of two members each: once the
// balances settle, every source member counts as acknowledged exactly the
// relays its chain produced toward the other (each acknowledged by the
// destination member it sends to, with a latency sample each), has sent at
// least as many packages, and holds nothing unacknowledged in memory, in
// relay.Pending or unread in the store; every destination member counts as
// consumed exactly the relays its chain's blocks consumed, filed each at
// most once, refused none, and its inbox is empty.
func TestRelayMetricsAfterCrossChainTransfers(t *testing.T) {
	c := newChains(t, 2, 2, 4) // wallets 0, 2 on chain 1; 1, 3 on chain 2
	for i := range c.nodes {
		c.start(i)
	}
	want := map[int]uint64{0: 1_000_000, 1: 1_000_000, 2: 1_000_000, 3: 1_000_000}
	for round := range 4 {
		for w := range 4 {
			to := (w + 1) % 4 // always the other chain
			amount := uint64(1 + w + round)
			c.submitTo(w, to, amount)
			want[w] -= amount
			want[to] += amount
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.settledBalances(90*time.Second, want)

	produced := map[types.ChainID]map[types.ChainID]int{}
	consumed := map[types.ChainID]map[types.ChainID]int{}
	for _, chain := range []types.ChainID{1, 2} {
		produced[chain], consumed[chain] = relayTraffic(t, c, chain)
	}
	for _, pair := range [][2]types.ChainID{{1, 2}, {2, 1}} {
		src, dst := pair[0], pair[1]
		relays := produced[src][dst]
		if relays == 0 || consumed[dst][src] != relays {
			t.Fatalf("chain %d produced %d relays for chain %d, which consumed %d of them", src, relays, dst, consumed[dst][src])
		}
		srcLabel, dstLabel := label(src), label(dst)
		for _, i := range c.members(src) {
			n := c.node(i)
			waitFor(t, 60*time.Second, fmt.Sprintf("node %d: relays of chain %d acknowledged", i, src), func() bool {
				return relayMetric(t, n, "thinkey_relay_acked_total", "chain", srcLabel, "dest", dstLabel).value == float64(relays) &&
					relayMetric(t, n, "thinkey_relay_pending_packages", "chain", srcLabel).value == 0 &&
					relayMetric(t, n, "thinkey_relay_delivery_lag_heights", "chain", srcLabel).value == 0
			})
			got := map[string]metricSample{}
			for _, name := range []string{"produced_total", "packages_sent_total", "acked_total", "ack_latency_seconds", "held_packages", "unread_heights"} {
				s := relayMetric(t, n, "thinkey_relay_"+name, "chain", srcLabel, "dest", dstLabel)
				if !s.found {
					t.Fatalf("node %d: thinkey_relay_%s{chain=%q, dest=%q} not registered", i, name, srcLabel, dstLabel)
				}
				got[name] = s
			}
			switch {
			case got["produced_total"].value != float64(relays):
				t.Errorf("node %d: produced_total %v, blocks of chain %d hold %d relays for chain %d", i, got["produced_total"].value, src, relays, dst)
			case got["packages_sent_total"].value < float64(relays):
				t.Errorf("node %d: packages_sent_total %v below the %d relays acknowledged", i, got["packages_sent_total"].value, relays)
			case got["ack_latency_seconds"].count != float64(relays) || got["ack_latency_seconds"].sum <= 0:
				t.Errorf("node %d: ack latency %v samples summing to %vs, want %d samples", i, got["ack_latency_seconds"].count, got["ack_latency_seconds"].sum, relays)
			case got["held_packages"].value != 0 || got["unread_heights"].value != 0:
				t.Errorf("node %d: %v packages held, %v heights unread after every relay was acknowledged", i, got["held_packages"].value, got["unread_heights"].value)
			}
			if a := relayMetric(t, n, "thinkey_relay_abandoned_total", "chain", srcLabel); a.value != 0 {
				t.Errorf("node %d: %v relays abandoned", i, a.value)
			}
		}
		arrivedOverMembers := 0.0
		for _, i := range c.members(dst) {
			n := c.node(i)
			waitFor(t, 60*time.Second, fmt.Sprintf("node %d: relays of chain %d consumed", i, src), func() bool {
				return relayMetric(t, n, "thinkey_relay_consumed_total", "chain", dstLabel, "source", srcLabel).value == float64(relays) &&
					relayMetric(t, n, "thinkey_relay_inbox_relays", "chain", dstLabel).value == 0
			})
			arrived := relayMetric(t, n, "thinkey_relay_arrived_total", "chain", dstLabel, "source", srcLabel).value
			received := relayMetric(t, n, "thinkey_relay_packages_received_total", "chain", dstLabel, "source", srcLabel).value
			refused := relayMetric(t, n, "thinkey_relay_packages_refused_total", "chain", dstLabel, "source", srcLabel)
			if arrived > float64(relays) || received < arrived {
				t.Errorf("node %d: %v relays of chain %d filed, %v packages received, %d relays consumed", i, arrived, src, received, relays)
			}
			if !refused.found || refused.value != 0 {
				t.Errorf("node %d: packages of chain %d refused: %+v", i, src, refused)
			}
			arrivedOverMembers += arrived
		}
		// A leader builds only from its own inbox: each consumed relay was
		// filed by some member.
		if arrivedOverMembers < float64(relays) {
			t.Errorf("chain %d filed %v relays of chain %d over its members, consumed %d", dst, arrivedOverMembers, src, relays)
		}
	}
}

// refProof returns a well-formed proof by reference of a relay at height
// of chain, in a source block that was never recorded.
func refProof(t *testing.T, chain types.ChainID, height types.Height) []byte {
	t.Helper()
	leaves := []hash.Digest{hash.Sum256([]byte("a")), hash.Sum256([]byte("b"))}
	path, err := merkle.NewTree(leaves).Prove(0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := (&relay.RefProof{Chain: chain, Height: height, Path: path}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// outerRelay returns an outer relay of chain source from wallet from to
// wallet to, distinct per n.
func (c *cluster) outerRelay(source types.ChainID, from, to int, n uint64) types.Message {
	return types.Message{
		Kind: types.MessageOuterRelay, From: c.wallets[from].addr, To: c.wallets[to].addr,
		SourceChain: source, Cause: hash.Sum256(binary.BigEndian.AppendUint64(nil, n)), Value: n,
	}
}

// Packages sent by a genesis member of the source chain (its identity, on
// the test network) that the destination cannot file are counted by
// reason; one that is well formed but whose source block is not recorded
// is filed once, however often it arrives, and waits in the inbox.
func TestRelayMetricsRefusedPackages(t *testing.T) {
	c := newChains(t, 2, 1, 2) // wallet 0 on chain 1, wallet 1 on chain 2
	src, dst := c.members(1)[0], c.members(2)[0]
	c.start(dst) // the source member stays down: the test speaks in its name
	ep, err := c.net.Attach(c.keys[src].Identity.PeerID(), c.limits)
	if err != nil {
		t.Fatal(err)
	}
	drained := make(chan struct{})
	go func() { // what the node sends its peer, unread, would only fill the link
		for {
			select {
			case <-ep.Receive():
			case <-drained:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(drained)
		_ = ep.Close()
	})
	dstPeer := c.keys[dst].Identity.PeerID()
	if err := ep.AddPeer(dstPeer, ""); err != nil {
		t.Fatal(err)
	}
	waiting := relay.Package{Message: c.outerRelay(1, 0, 1, 1), Proof: refProof(t, 1, 1<<30)}
	batch := relay.Batch{Source: 1, Dest: 2, Packages: []relay.Package{
		{Message: c.outerRelay(1, 0, 1, 2), Proof: []byte{relay.RefProofTag, 1, 2}},    // truncated proof
		{Message: c.outerRelay(1, 0, 1, 3), Proof: []byte{relay.GroupRefTag, 0, 0, 0}}, // a block's packed form
		{Message: c.outerRelay(1, 0, 0, 4), Proof: refProof(t, 1, 2)},                  // recipient on the source chain
		{Message: c.outerRelay(2, 0, 1, 5), Proof: refProof(t, 1, 2)},                  // message of another chain than its proof
		waiting,
		waiting, // the same package again in the batch: a re-send
	}}
	again := relay.Batch{Source: 1, Dest: 2, Packages: []relay.Package{waiting}}
	for _, b := range []*relay.Batch{&batch, &again} {
		frame, err := b.AppendBinary(binary.BigEndian.AppendUint32(nil, 2)) // the destination chain's envelope
		if err != nil {
			t.Fatal(err)
		}
		// The destination's endpoint is attached: it holds the frame until
		// the node reads it.
		if err := ep.Send(context.Background(), dstPeer, frame); err != nil {
			t.Fatal(err)
		}
	}
	n := c.node(dst)
	waitFor(t, 30*time.Second, "both batches received", func() bool {
		return relayMetric(t, n, "thinkey_relay_packages_received_total", "chain", "2", "source", "1").value == float64(len(batch.Packages)+1)
	})
	for _, tc := range []struct {
		metric string
		labels []string
		want   float64
	}{
		{"thinkey_relay_packages_refused_total", []string{"reason", "bad_proof"}, 2},
		{"thinkey_relay_packages_refused_total", []string{"reason", "misaddressed"}, 2},
		{"thinkey_relay_packages_refused_total", []string{"reason", "inbox_full"}, 0},
		{"thinkey_relay_arrived_total", nil, 1},
		{"thinkey_relay_inbox_relays", nil, 1},
		{"thinkey_relay_consumed_total", nil, 0},
	} {
		labels := append([]string{"chain", "2"}, tc.labels...)
		if tc.metric != "thinkey_relay_inbox_relays" {
			labels = append(labels, "source", "1")
		}
		if got := relayMetric(t, n, tc.metric, labels...); !got.found || got.value != tc.want {
			t.Errorf("%s%v = %+v, want %v", tc.metric, tc.labels, got, tc.want)
		}
	}
}
