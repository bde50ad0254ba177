package driver_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/thinkey/thinkey/netq"
)

// The timers are wired to the core: with the leader of height 1 down, the
// others decide EMPTY at height 1 once the proposal timeout has passed (in
// the bubble's virtual time), and go on with the next leader. The whole
// committee, stores and network included, runs inside the bubble and stops
// cleanly.
func TestTimersDecideEmptyWithoutTheLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 4, 1)
		start := time.Now()
		for _, i := range []int{0, 2, 3} { // member 1 leads height 1, round 0
			c.start(i)
		}
		for c.node(0).Status().Head < 2 {
			time.Sleep(10 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b, err := c.node(0).Block(1)
		if err != nil {
			t.Fatal(err)
		}
		if !b.Header.Empty {
			t.Fatalf("height 1 decided a block proposed by a member that is down")
		}
		if min := c.cfg.Consensus.ProposalTimeout.Duration; elapsed < min {
			t.Fatalf("EMPTY decided after %v, before the proposal timeout %v", elapsed, min)
		}
		b2, err := c.node(2).Block(2)
		if err != nil || b2.Header.Empty || b2.Header.Proposer != 2 {
			t.Fatalf("height 2: %+v, %v; want member 2's block", b2.Header, err)
		}
		c.stopAll()
	})
}

// Back-pressure: a member whose process hangs (its endpoint is attached but
// never read) fills the others' queues to it. Their sends to it give up
// after a bounded wait and are counted as dropped, and the three others go
// on deciding blocks.
func TestHungMemberDoesNotStallTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 4, 1)
		c.limits = netq.Limits{QueueMessages: 16}
		hung, err := c.net.Attach(c.keys[3].Identity.PeerID(), netq.Limits{QueueMessages: 16, InboundMessages: 4})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			c.start(i)
		}
		for minHead(c) < 30 {
			time.Sleep(50 * time.Millisecond)
		}
		dropped := counterValue(t, c.node(0), "thinkey_driver_messages_dropped_total")
		if dropped == 0 {
			t.Fatal("no message to the hung member was counted as dropped")
		}
		sameChain(t, c, minHead(c))
		c.stopAll()
		_ = hung.Close()
	})
}
