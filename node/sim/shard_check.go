package sim

import (
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// shardObserver sees every commit of every member of a sharded network and
// checks the run as it goes, outside every member, so that it survives
// their crashes (see the package documentation, "Sharded networks:
// checkers"). It also keeps the canonical state of every chain (the blocks
// decided so far, in order), which the conservation check and the reports
// read.
type shardObserver struct {
	net        *ShardedNetwork
	violations []string
	dropped    int

	ledgers map[types.ChainID]*chainLedger
	// balances is every account's balance after the decided blocks of its
	// chain; total their sum, genesis the sum at genesis.
	balances       map[types.Address]uint64
	total, genesis u128
	// produced holds every relay a decided block produced; inFlight is the
	// value of those not consumed yet.
	produced map[types.Hash]*relayLife
	inFlight u128
	// openRelays counts the relays produced and not consumed yet.
	openRelays int
	// certificates caches decision certificate checks.
	certificates map[types.Hash]bool

	// measureFrom starts the throughput window: transfers completed from
	// then on are counted in completed.
	measureFrom time.Duration
	completed   int
	// latency sums, per kind of relay path, the time from the source
	// block's first commit to the destination's.
	relayLatency map[relayPath]*latencySum
	rootChecks   int
	// recordedBy maps a child's (chain, height) to the recorder height
	// whose first commit recorded it; siblingFirst counts the sibling
	// relays consumed before the root recorded the coordinator block that
	// recorded their source (the faster parent-digest path at work).
	recordedBy   map[chainHeight]types.Height
	siblingFirst int
}

// chainLedger is what the observer knows of one chain.
type chainLedger struct {
	com *committee
	// decided[h-1] is the value and body digest first committed at h;
	// headers[h] the header of height h ([0]: genesis).
	decided []decidedShard
	headers []types.Header
	empty   int
	// Transaction chains: external messages included, relays produced and
	// consumed, transfers completed here (add messages processed), and
	// completed within the throughput window.
	externals, relaysOut, relaysIn, completed, measured int
}

type decidedShard struct {
	value types.Hash
	body  hash.Digest
	by    types.ValidatorIndex
	at    time.Duration
	empty bool
}

// relayLife is one relay from its production to its consumption.
type relayLife struct {
	value                  uint64
	source, dest           types.ChainID
	height                 types.Height // the source block's
	producedAt, consumedAt time.Duration
	consumed               bool
}

// relayPath classifies relays by how their proof reaches the destination.
type relayPath uint8

const (
	pathRoot    relayPath = iota // the source is recorded by the root, no lift
	pathSibling                  // sibling sub-chains: the coordinator's record, no lift
	pathLifted                   // across branches: lifted to the root
)

type latencySum struct {
	count int
	sum   time.Duration
}

// u128 is a sum of uint64s that cannot overflow.
type u128 struct{ hi, lo uint64 }

func (s *u128) add(v uint64) {
	var c uint64
	s.lo, c = bits.Add64(s.lo, v, 0)
	s.hi += c
}

func (s *u128) sub(v uint64) {
	var b uint64
	s.lo, b = bits.Sub64(s.lo, v, 0)
	s.hi -= b
}

func (s u128) plus(o u128) u128 {
	lo, c := bits.Add64(s.lo, o.lo, 0)
	return u128{hi: s.hi + o.hi + c, lo: lo}
}

func (s u128) String() string {
	if s.hi == 0 {
		return fmt.Sprint(s.lo)
	}
	return fmt.Sprintf("%d*2^64+%d", s.hi, s.lo)
}

func newShardObserver(n *ShardedNetwork) *shardObserver {
	o := &shardObserver{
		net: n, ledgers: make(map[types.ChainID]*chainLedger), balances: make(map[types.Address]uint64),
		produced: make(map[types.Hash]*relayLife), certificates: make(map[types.Hash]bool),
		relayLatency: make(map[relayPath]*latencySum),
		recordedBy:   make(map[chainHeight]types.Height),
	}
	for _, com := range n.committees {
		o.ledgers[com.chain] = &chainLedger{com: com, headers: []types.Header{n.genesis[com.chain]}}
		for _, a := range com.accounts {
			o.balances[a.Address] = a.Balance
			o.total.add(a.Balance)
		}
	}
	o.genesis = o.total
	return o
}

func (o *shardObserver) violate(format string, args ...any) {
	if len(o.violations) >= maxViolations {
		o.dropped++
		return
	}
	o.violations = append(o.violations, fmt.Sprintf("at %v: %s", o.net.world.Now(), fmt.Sprintf(format, args...)))
}

func (o *shardObserver) failed() bool { return len(o.violations) > 0 }

func (o *shardObserver) err() error {
	if len(o.violations) == 0 {
		return nil
	}
	more := ""
	if o.dropped > 0 {
		more = fmt.Sprintf("\n(%d more)", o.dropped)
	}
	return fmt.Errorf("%w:\n%s%s", ErrCheckFailed, strings.Join(o.violations, "\n"), more)
}

// onCommit checks a member's commit against the chain's first decision at
// that height (agreement: the same value and block body) and its
// certificate; the first commit of a height updates the ledger.
func (o *shardObserver) onCommit(m *shardMember, d *consensus.Decision, res *blockResult) {
	l := o.ledgers[m.com.chain]
	h := d.Height()
	dec := decidedShard{value: d.Value(), by: m.index, at: o.net.world.Now(), empty: d.Block == nil}
	if d.Block != nil {
		dec.body = hash.Sum256(d.Block.Body)
		if d.Block.Hash() != d.Value() {
			o.violate("chain %d member %d commits height %d: block %v under certificate value %v", m.com.chain, m.index, h, d.Block.Hash(), d.Value())
		}
	} else if !consensus.IsEmptyValue(d.Value()) {
		o.violate("chain %d member %d commits height %d: value %v without its block", m.com.chain, m.index, h, d.Value())
	}
	o.checkCertificate(m, d)
	switch {
	case int(h) <= len(l.decided):
		prev := l.decided[h-1]
		if prev.value != dec.value || prev.body != dec.body {
			o.violate("agreement violated on chain %d at height %d: member %d decided %v, member %d decided %v",
				m.com.chain, h, prev.by, prev.value, m.index, dec.value)
		}
		return
	case int(h) > len(l.decided)+1:
		o.violate("chain %d member %d commits height %d before anyone committed height %d", m.com.chain, m.index, h, len(l.decided)+1)
		return
	}
	l.decided = append(l.decided, dec)
	header := m.headers[h]
	l.headers = append(l.headers, header)
	if d.Block == nil {
		l.empty++
		return
	}
	if res == nil {
		o.violate("chain %d member %d commits height %d without a result", m.com.chain, m.index, h)
		return
	}
	if res.exec != nil {
		o.onTxBlock(l, h, res.exec)
	} else {
		o.onRecorderBlock(l, h, &res.root.Body)
	}
}

func (o *shardObserver) checkCertificate(m *shardMember, d *consensus.Decision) {
	cert := &d.Certificate
	if err := consensus.CheckDecisionCertificate(cert, m.com.size()); err != nil || cert.Height != d.Height() || cert.ChainID != m.com.chain {
		o.violate("chain %d member %d commits height %d with a bad certificate: %v", m.com.chain, m.index, d.Height(), err)
		return
	}
	key := cert.Hash()
	ok, seen := o.certificates[key]
	if !seen {
		ok = m.com.keys.VerifyCertificate(cert)
		o.certificates[key] = ok
	}
	if !ok {
		o.violate("chain %d member %d commits height %d with a certificate that does not verify", m.com.chain, m.index, d.Height())
	}
}

// onTxBlock applies the first commit of a transaction block: balances,
// relays produced, relays consumed (each exactly once, and only once
// produced), transfers completed.
func (o *shardObserver) onTxBlock(l *chainLedger, h types.Height, res *exec.Result) {
	now := o.net.world.Now()
	for _, a := range res.WriteSet {
		old, ok := o.balances[a.Address]
		if !ok {
			o.violate("chain %d height %d writes unknown account %v", l.com.chain, h, a.Address)
		}
		o.total.sub(old)
		o.total.add(a.Balance)
		o.balances[a.Address] = a.Balance
	}
	body := &res.Body
	completed := 0
	for i := range body.Inputs {
		msg := &body.Inputs[i].Message
		if msg.Kind == types.MessageExternal {
			l.externals++
			continue
		}
		id := msg.ID()
		r, ok := o.produced[id]
		switch {
		case !ok:
			o.violate("chain %d height %d consumed relay %v that no decided block produced", l.com.chain, h, id)
			continue
		case r.consumed:
			o.violate("exactly-once violated: relay %v consumed again by chain %d at height %d", id, l.com.chain, h)
			continue
		case r.dest != l.com.chain:
			o.violate("relay %v for chain %d consumed by chain %d", id, r.dest, l.com.chain)
		}
		r.consumed, r.consumedAt = true, now
		o.inFlight.sub(r.value)
		o.openRelays--
		l.relaysIn++
		completed++
		o.observeLatency(r, msg, &body.Inputs[i])
	}
	for i := range body.InterRelay {
		if string(body.InterRelay[i].Method) == actor.MethodAdd {
			completed++
		}
	}
	for i := range body.OuterRelay {
		msg := &body.OuterRelay[i]
		id := msg.ID()
		if _, dup := o.produced[id]; dup {
			o.violate("relay %v produced twice (chain %d height %d)", id, l.com.chain, h)
			continue
		}
		o.produced[id] = &relayLife{value: msg.Value, source: l.com.chain, height: h, dest: o.net.topo.OwnerOf(msg.To), producedAt: now}
		o.inFlight.add(msg.Value)
		o.openRelays++
		l.relaysOut++
	}
	l.completed += completed
	if now >= o.measureFrom {
		l.measured += completed
		o.completed += completed
	}
}

func (o *shardObserver) observeLatency(r *relayLife, msg *types.Message, in *exec.Input) {
	path := pathRoot
	if src, _ := o.net.topo.Chain(r.source); src.Parent != types.RootChain {
		path = pathSibling
		if liftCount(in.Proof) > 0 {
			path = pathLifted
		} else if at, ok := o.recordedBy[chainHeight{r.source, r.height}]; !ok {
			o.violate("relay %v consumed before its source block was recorded", msg.ID())
		} else if _, ok := o.recordedBy[chainHeight{src.Parent, at}]; !ok {
			o.siblingFirst++
		}
	}
	s := o.relayLatency[path]
	if s == nil {
		s = &latencySum{}
		o.relayLatency[path] = s
	}
	s.count++
	s.sum += r.consumedAt - r.producedAt
}

// onRecorderBlock checks the first commit of a recorder block: every
// record is the header its chain decided at that height; on the root, value
// is conserved.
func (o *shardObserver) onRecorderBlock(l *chainLedger, h types.Height, body *rootchain.Body) {
	for i := range body.Records {
		rec := &body.Records[i].Header
		c := o.ledgers[rec.ChainID]
		if c == nil || int(rec.Height) >= len(c.headers) {
			o.violate("chain %d height %d records chain %d height %d, which that chain has not decided", l.com.chain, h, rec.ChainID, rec.Height)
			continue
		}
		if c.headers[rec.Height] != *rec {
			o.violate("chain %d height %d records a header of chain %d height %d that is not the decided one", l.com.chain, h, rec.ChainID, rec.Height)
		}
		o.recordedBy[chainHeight{rec.ChainID, rec.Height}] = h
	}
	if l.com.kind == chains.Root {
		o.checkConservation(fmt.Sprintf("root height %d", h))
	}
}

// checkConservation: every balance plus the value of the relays produced
// and not consumed is the genesis total.
func (o *shardObserver) checkConservation(when string) {
	o.rootChecks++
	if got := o.total.plus(o.inFlight); got != o.genesis {
		o.violate("value not conserved after %s: balances %v + relays in flight %v = %v, genesis %v", when, o.total, o.inFlight, got, o.genesis)
	}
}

// onViewAdvanced checks that a follower's view of a recorder chain holds
// the headers that chain decided.
func (o *shardObserver) onViewAdvanced(m *shardMember, v *recorderView) {
	l := o.ledgers[v.chain]
	top := v.height()
	if int(top) >= len(l.headers) {
		o.violate("chain %d member %d follows chain %d to height %d, decided only to %d", m.com.chain, m.index, v.chain, top, len(l.headers)-1)
		return
	}
	if l.headers[top].Hash() != v.hashes[top] {
		o.violate("chain %d member %d follows chain %d: its height %d is not the decided one", m.com.chain, m.index, v.chain, top)
	}
}

// open returns the number of relays produced and not consumed yet.
func (o *shardObserver) open() int { return o.openRelays }
