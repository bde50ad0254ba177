package driver_test

import (
	"slices"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/types"
)

// sameChain checks that every running node holds the same block at each
// height up to h, and returns the state root at h.
func sameChain(t *testing.T, c *cluster, h types.Height) types.Hash {
	t.Helper()
	var root types.Hash
	for height := types.Height(1); height <= h; height++ {
		var want types.Hash
		for i := range c.nodes {
			n := c.node(i)
			if n == nil {
				continue
			}
			b, err := n.Block(height)
			if err != nil {
				t.Fatalf("node %d block %d: %v", i, height, err)
			}
			got := b.Header.Hash()
			if want.IsZero() {
				want, root = got, b.Header.StateRoot
			} else if got != want {
				t.Fatalf("height %d: node %d holds block %s, another node %s", height, i, got, want)
			}
		}
	}
	return root
}

func minHead(c *cluster) types.Height {
	var low types.Height = ^types.Height(0)
	for i := range c.nodes {
		if n := c.node(i); n != nil {
			low = min(low, n.Status().Head)
		}
	}
	return low
}

func TestCommitteeDecidesBlocksAndAgrees(t *testing.T) {
	c := newCluster(t, 4, 8)
	for i := range 4 {
		c.start(i)
	}
	var ids []types.Hash
	for w := range 8 {
		for range 3 {
			m := c.transfer(w, (w+1)%8, 10)
			res, err := c.node(w % 4).Submit([]types.Message{m})
			if err != nil || res[0].Err != nil {
				t.Fatalf("submit: %v %v", err, res)
			}
			ids = append(ids, res[0].ID)
		}
	}
	waitFor(t, 60*time.Second, "every transfer confirmed on every node", func() bool {
		for i := range 4 {
			for _, id := range ids {
				st, err := c.node(i).MessageStatus(id)
				if err != nil {
					t.Fatal(err)
				}
				if st.State != driver.MessageConfirmed {
					return false
				}
			}
		}
		return true
	})
	waitFor(t, 30*time.Second, "a common height", func() bool { return minHead(c) >= 3 })
	h := minHead(c)
	root := sameChain(t, c, h)
	if root.IsZero() {
		t.Fatal("zero state root")
	}
	for w := range 8 {
		// Each wallet sent 3 x 10 and received 3 x 10.
		for i := range 4 {
			a, ok := c.node(i).Account(c.wallets[w].addr)
			if !ok || a.Balance != 1_000_000 || a.Nonce != 3 {
				t.Fatalf("node %d wallet %d: %+v, %v; want balance 1000000 nonce 3", i, w, a, ok)
			}
		}
	}
}

func TestStoppedNodeCatchesUpAfterRestart(t *testing.T) {
	c := newCluster(t, 4, 4)
	for i := range 4 {
		c.start(i)
	}
	waitFor(t, 30*time.Second, "first blocks", func() bool { return minHead(c) >= 2 })
	c.stop(3)
	var last types.Hash
	for round := range 5 {
		m := c.transfer(round%4, (round+1)%4, 7)
		res, err := c.node(0).Submit([]types.Message{m})
		if err != nil || res[0].Err != nil {
			t.Fatalf("submit: %v %v", err, res)
		}
		last = res[0].ID
	}
	waitFor(t, 60*time.Second, "transfers confirmed without node 3", func() bool {
		st, err := c.node(1).MessageStatus(last)
		return err == nil && st.State == driver.MessageConfirmed
	})
	// Let the others get well ahead, past what consensus buffers, so that
	// only block sync can bring node 3 back.
	stoppedAt := c.node(0).Status().Head
	waitFor(t, 60*time.Second, "the others to move on", func() bool { return minHead(c) >= stoppedAt+12 })
	ahead := c.node(0).Status().Head
	c.start(3)
	waitFor(t, 60*time.Second, "node 3 to catch up", func() bool { return c.node(3).Status().Head >= ahead+2 })
	h := minHead(c)
	root := sameChain(t, c, h)
	if got := c.node(3).Status(); got.Head == h && got.StateRoot != root {
		t.Fatalf("node 3 state root %s, the others %s", got.StateRoot, root)
	}
	st, err := c.node(3).MessageStatus(last)
	if err != nil || st.State != driver.MessageConfirmed {
		t.Fatalf("restarted node: status of the last transfer = %+v, %v", st, err)
	}
	if synced := counterValue(t, c.node(3), "thinkey_driver_synced_decisions_total"); synced < 1 {
		t.Fatalf("node 3 caught up without block sync (synced %v decisions)", synced)
	}
}

// The whole committee stops and starts again from its stores: nothing
// committed is lost and it goes on deciding on top of it.
func TestWholeCommitteeRestartsFromDisk(t *testing.T) {
	c := newCluster(t, 4, 4)
	for i := range 4 {
		c.start(i)
	}
	m := c.transfer(0, 1, 99)
	res, err := c.node(0).Submit([]types.Message{m})
	if err != nil || res[0].Err != nil {
		t.Fatalf("submit: %v %v", err, res)
	}
	waitFor(t, 60*time.Second, "the transfer confirmed everywhere", func() bool {
		for i := range 4 {
			if st, err := c.node(i).MessageStatus(res[0].ID); err != nil || st.State != driver.MessageConfirmed {
				return false
			}
		}
		return true
	})
	heads := make([]types.Height, 4)
	for i := range 4 {
		c.stop(i)
	}
	for i := range 4 {
		c.start(i)
		heads[i] = c.node(i).Status().Head
		if a, _ := c.node(i).Account(c.wallets[1].addr); a.Balance != 1_000_099 {
			t.Fatalf("node %d after restart: wallet 1 balance %d, want 1000099", i, a.Balance)
		}
	}
	top := slices.Max(heads)
	waitFor(t, 60*time.Second, "new blocks after the restart", func() bool { return minHead(c) >= top+3 })
	sameChain(t, c, minHead(c))
}

// counterValue reads a counter of a node's registry.
func counterValue(t *testing.T, n *driver.Node, name string) float64 {
	t.Helper()
	mfs, err := n.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}
