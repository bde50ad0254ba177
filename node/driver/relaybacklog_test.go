package driver_test

import (
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/types"
)

// deliveryMark reads the delivery mark running node i stored for chain
// toward dest.
func (c *cluster) deliveryMark(i int, chain, dest types.ChainID) (types.Height, bool) {
	c.t.Helper()
	c.mu.Lock()
	rn := c.nodes[i]
	c.mu.Unlock()
	if rn == nil {
		c.t.Fatalf("node %d is not running", i)
	}
	m, ok, err := driver.DeliveryMark(rn.db, chain, dest)
	if err != nil {
		c.t.Fatal(err)
	}
	return m, ok
}

// includedAt submits a transfer through the first running member of w's
// chain, waits until a committed block holds it and returns that height.
func (c *cluster) includedAt(w, to int, amount uint64) types.Height {
	c.t.Helper()
	id := c.submitTo(w, to, amount)
	var st driver.MessageStatus
	waitFor(c.t, 60*time.Second, "the transfer included", func() bool {
		for _, i := range c.members(c.wallets[w].chain) {
			if n := c.node(i); n != nil {
				var err error
				st, err = n.MessageStatus(id)
				return err == nil && st.State == driver.MessageConfirmed
			}
		}
		return false
	})
	return st.Location.Height
}

// A destination chain unreachable for much longer than its relays fit in a
// source member's memory (here 2 packages per destination chain), with the
// source chain's only member restarted in the middle of the outage: the
// relays wait in the store behind the delivery mark, the restarted member
// reads them back from the mark, and once the destination is back every
// relay is consumed exactly once and the value is conserved. Meanwhile the
// relays to a chain that stayed up keep flowing.
func TestRelaysOutliveDestinationOutageAndSourceRestart(t *testing.T) {
	t.Cleanup(driver.SetRelayLimits(6, 3, 2*time.Second)) // runs after the cluster's stop
	c := newChains(t, 4, 1, 8)                            // wallets w and w+4 on chain 1 + w
	src, dst := c.members(1)[0], c.members(2)[0]
	for i := range c.nodes {
		c.start(i)
	}
	const supply = 8 * 1_000_000
	want := map[int]uint64{}
	for w := range c.wallets {
		want[w] = 1_000_000
	}
	send := func(w, to int, amount uint64) types.Height {
		want[w] -= amount
		want[to] += amount
		return c.includedAt(w, to, amount)
	}
	send(0, 2, 5) // chain 1 -> chain 3 before the outage
	c.settledBalances(60*time.Second, map[int]uint64{2: want[2]})

	c.stop(dst)
	const transfers = 24
	var first, last types.Height
	for k := range transfers {
		if k == transfers/2 {
			c.stop(src)
			c.start(src)
		}
		h := send(0, 1, uint64(1+k%3))
		send(4, 5, 2)
		if k%4 == 0 {
			send(4, 6, 1) // chain 1 -> chain 3, which stays up
		}
		if first == 0 {
			first = h
		}
		last = h
	}
	if last-first < 2*transfers/3 {
		t.Fatalf("the transfers took only heights %d to %d", first, last)
	}
	// The chain that stayed up got its relays although those to chain 2
	// fill the source's memory.
	c.settledBalances(60*time.Second, map[int]uint64{2: want[2], 6: want[6]})
	if m, ok := c.deliveryMark(src, 1, 2); !ok || m > first {
		t.Fatalf("delivery mark toward chain 2 %d (stored %v) passes its first unacknowledged relay at height %d", m, ok, first)
	}
	// The mark toward the chain that stayed up moves on regardless.
	waitFor(t, 30*time.Second, "the delivery mark toward chain 3 past the last relay", func() bool {
		m, ok := c.deliveryMark(src, 1, 3)
		return ok && m > last
	})

	c.start(dst)
	c.settledBalances(120*time.Second, want)
	var total uint64
	for w := range c.wallets {
		total += c.balance(c.members(c.wallets[w].chain)[0], w)
	}
	if total != supply {
		t.Fatalf("value not conserved: %d, want %d", total, supply)
	}
	if ids := consumedRelays(t, c, 2); len(ids) != 2*transfers { // fails on a relay consumed twice
		t.Fatalf("chain 2 consumed %d relays, want %d", len(ids), 2*transfers)
	}
	waitFor(t, 30*time.Second, "the delivery mark past the last relay", func() bool {
		m, ok := c.deliveryMark(src, 1, 2)
		return ok && m > last
	})
}
