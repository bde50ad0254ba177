package sim

import (
	"math/rand/v2"
	"time"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// shardClient is the load of one transaction chain: the holder of its
// funded accounts, signing transfers (real Ed25519) and sending them to
// the chain's members. Each account has at most Window transfers in
// flight, with consecutive nonces; members tell the client the next nonce
// of accounts whose messages a block consumed (noncesTag), and a transfer
// still unconfirmed after ResubmitAfter is sent again, with the account's
// others in flight, to another member. A lost transfer therefore never
// wedges its account: its nonce is offered again until consumed. The
// client is outside the measured system: it is never crashed and charges
// no CPU.
type shardClient struct {
	net    *ShardedNetwork
	com    *committee
	id     NodeID
	rng    *rand.Rand
	accts  []*clientAccount
	byAddr map[types.Address]*clientAccount
	// others holds, per other transaction chain, the addresses a
	// cross-chain transfer may pay.
	others  [][]types.Address
	cursor  int   // next account to send from
	member  int   // next member to send to
	credit  int64 // transfers owed to the rate, in thousandths
	ticking bool

	// Counts, for the report.
	submitted, resubmitted, confirmed int
}

// clientAccount is one account a client sends from.
type clientAccount struct {
	key  ed25519.PrivateKey
	addr types.Address
	// next is the nonce of the next new transfer; inFlight the transfers
	// sent and not known consumed, by increasing nonce.
	next     uint64
	inFlight []inFlight
	// scripted accounts send only what Submit gives them.
	scripted bool
}

type inFlight struct {
	msg    types.Message
	sentAt time.Duration
}

func newShardClient(n *ShardedNetwork, com *committee) *shardClient {
	c := &shardClient{net: n, com: com, byAddr: make(map[types.Address]*clientAccount)}
	for i, k := range com.loadKeys {
		a := &clientAccount{key: k, addr: com.accounts[i].Address}
		c.accts = append(c.accts, a)
		c.byAddr[a.addr] = a
	}
	return c
}

// pickRecipients lists the accounts of the other chains, once every
// client exists.
func (c *shardClient) pickRecipients() {
	for _, other := range c.net.clients {
		if other == c || len(other.accts) == 0 {
			continue
		}
		addrs := make([]types.Address, len(other.accts))
		for i, a := range other.accts {
			addrs[i] = a.addr
		}
		c.others = append(c.others, addrs)
	}
}

// submit queues a scripted message for sending.
func (c *shardClient) submit(msg types.Message) {
	a, ok := c.byAddr[msg.From]
	if !ok {
		a = &clientAccount{addr: msg.From, scripted: true, next: msg.Nonce}
		c.byAddr[msg.From] = a
		c.accts = append(c.accts, a)
	}
	a.inFlight = append(a.inFlight, inFlight{msg: msg, sentAt: -1})
	c.arm(c.net.world.Now())
}

// arm makes sure the client ticks.
func (c *shardClient) arm(at time.Duration) {
	if !c.ticking {
		c.ticking = true
		c.net.world.SetTimer(c.id, at, 1)
	}
}

// OnStart implements NodeHandler: it ticks when it has load to offer or
// messages submitted before it started.
func (c *shardClient) OnStart(now time.Duration) {
	c.ticking = false // a timer armed before the node was up was dropped
	if c.outstanding() > 0 {
		c.arm(now)
	} else if c.net.cfg.Load.Rate > 0 && len(c.accts) > 1 {
		c.arm(now + c.net.cfg.Load.Tick)
	}
}

// OnRestart implements NodeHandler (a client is never crashed).
func (c *shardClient) OnRestart(now time.Duration) { c.ticking = false; c.arm(now) }

// OnCrash implements NodeHandler.
func (c *shardClient) OnCrash(time.Duration) {}

// OnMessage implements NodeHandler: a nonce notice confirms transfers.
func (c *shardClient) OnMessage(_ time.Duration, _ NodeID, payload []byte) {
	if len(payload) == 0 || payload[0] != noncesTag {
		return
	}
	ns, err := decodeNonces(payload)
	if err != nil {
		return
	}
	for _, n := range ns {
		a, ok := c.byAddr[n.Address]
		if !ok {
			continue
		}
		done := 0
		for done < len(a.inFlight) && a.inFlight[done].msg.Nonce < n.Next {
			done++
		}
		c.confirmed += done
		a.inFlight = a.inFlight[done:]
		if a.next < n.Next {
			a.next = n.Next // another sender used these nonces: go on after them
		}
	}
}

// OnTimer implements NodeHandler: one tick sends the new transfers the
// rate allows and re-sends the overdue ones.
func (c *shardClient) OnTimer(now time.Duration, _ uint64) {
	c.ticking = false
	load := &c.net.cfg.Load
	var batch []types.Message
	generating := load.Rate > 0 && (load.StopAt == 0 || now < load.StopAt)
	if generating {
		c.credit += int64(load.Rate) * int64(load.Tick/time.Microsecond) / 1000
		c.credit = min(c.credit, 2*int64(load.Rate)*int64(load.Tick/time.Microsecond)/1000+1000)
		for tries := 0; c.credit >= 1000 && tries < len(c.accts); tries++ {
			a := c.accts[c.cursor]
			c.cursor = (c.cursor + 1) % len(c.accts)
			if a.scripted || len(a.inFlight) >= load.Window {
				continue
			}
			msg := c.transfer(a)
			a.inFlight = append(a.inFlight, inFlight{msg: msg, sentAt: now})
			batch = append(batch, msg)
			c.submitted++
			c.credit -= 1000
			tries = -1 // an account sent: every account may be tried again
		}
	}
	var resend []types.Message
	pending := false
	for _, a := range c.accts {
		if len(a.inFlight) == 0 {
			continue
		}
		pending = true
		if first := a.inFlight[0].sentAt; first >= 0 && now-first < load.ResubmitAfter {
			continue
		}
		for i := range a.inFlight {
			if a.inFlight[i].sentAt >= 0 {
				c.resubmitted++
			}
			a.inFlight[i].sentAt = now
			resend = append(resend, a.inFlight[i].msg)
		}
	}
	c.send(batch)
	c.send(resend)
	if generating || pending {
		c.arm(now + load.Tick)
	}
}

// transfer signs the next transfer of a: to another account of the chain,
// or with probability Cross to an account of another chain drawn
// uniformly among the other chains.
func (c *shardClient) transfer(a *clientAccount) types.Message {
	var to types.Address
	if len(c.others) > 0 && c.rng.Float64() < c.net.cfg.Load.Cross {
		addrs := c.others[c.rng.IntN(len(c.others))]
		to = addrs[c.rng.IntN(len(addrs))]
	} else {
		for {
			b := c.accts[c.rng.IntN(len(c.accts))]
			if b != a && !b.scripted {
				to = b.addr
				break
			}
		}
	}
	msg := actor.NewTransfer(a.key, a.next, to, 1+uint64(c.rng.IntN(10)))
	a.next++
	return msg
}

// send hands messages to the next member, round robin.
func (c *shardClient) send(msgs []types.Message) {
	for len(msgs) > 0 {
		chunk := msgs[:min(len(msgs), maxSubmitBatch)]
		msgs = msgs[len(chunk):]
		payload, err := encodeSubmit(chunk)
		if err != nil {
			c.net.obs.violate("client of chain %d: %v", c.com.chain, err)
			return
		}
		c.net.world.Send(c.id, c.com.nodes[c.member%c.com.size()], payload)
		c.member++
	}
}

// outstanding counts the transfers in flight.
func (c *shardClient) outstanding() int {
	n := 0
	for _, a := range c.accts {
		n += len(a.inFlight)
	}
	return n
}
