package loadgen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/tools/txcmd"
)

// Config is one load run.
type Config struct {
	// APIs are the nodes' API base URLs. Each node's GET /v1/chains says
	// which transaction chain it serves; an account's transfers go to the
	// nodes of its chain in turn, and each chain is followed on the first
	// of its nodes. Accounts of a chain that no node of APIs serves take
	// no part.
	APIs []string
	// Accounts are the funded accounts to send from (and to).
	Accounts []txcmd.Account
	// Rate is the target in transfers per second, over all chains.
	Rate float64
	// Duration is how long transfers are submitted.
	Duration time.Duration
	// Batch is the most transfers per HTTP request.
	Batch int
	// Workers is the number of concurrent submitters.
	Workers int
	// Drain bounds the wait for confirmations after Duration.
	Drain time.Duration
	// Amount is each transfer's amount.
	Amount uint64
	// Cross, from 0 to 1, is the share of transfers whose recipient is
	// on another chain than the sender's, drawn uniformly from the
	// accounts of the other chains; the rest go to an account of the
	// sender's chain, drawn uniformly too. Negative: each account pays
	// the next one, in the order of Accounts, whatever its chain.
	Cross float64
	// Progress, when set, is called about once a second with the running
	// counts.
	Progress func(Progress)
}

// Progress is a running count.
type Progress struct {
	Elapsed                        time.Duration
	Submitted, Rejected, Confirmed int
}

// Figures are the counts and latencies of a run, over all chains or for
// one.
type Figures struct {
	Submitted int `json:"submitted"`
	Accepted  int `json:"accepted"`
	Rejected  int `json:"rejected"`
	Failed    int `json:"failed"`
	// Confirmed is the number of transfers seen in a committed block of
	// their chain (the API's "included").
	Confirmed int `json:"confirmed"`
	// TPS is confirmed transfers per second, from the start of the run to
	// the last confirmation.
	TPS float64 `json:"tps"`
	// Latency percentiles of confirmed transfers, from the moment each was
	// due to the moment the loader saw it in a committed block.
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
	// Blocks is the number of blocks that confirmed transfers.
	Blocks int `json:"blocks"`
	// Recorded is the number of confirmed transfers whose block the
	// chain's recorder (the root chain, or the coordinator of a
	// sub-chain) recorded during the run: the API's "confirmed", from
	// which a transfer to another chain is irrevocable. The Recorded
	// latencies run from due to that moment.
	Recorded    int           `json:"recorded"`
	RecordedP50 time.Duration `json:"recorded_p50_ns"`
	RecordedP90 time.Duration `json:"recorded_p90_ns"`
	RecordedP99 time.Duration `json:"recorded_p99_ns"`
	RecordedMax time.Duration `json:"recorded_max_ns"`
	// Cross is the number of submitted transfers to an account of
	// another chain.
	Cross int `json:"cross"`
}

// ChainReport is what a run measured on one transaction chain.
type ChainReport struct {
	Chain uint32 `json:"chain"`
	// Senders is the number of funded accounts of the chain that sent.
	Senders int `json:"senders"`
	Figures
}

// Report is what a run measured.
type Report struct {
	TargetRate float64       `json:"target_rate"`
	Duration   time.Duration `json:"duration_ns"`
	// SubmitRate is the rate transfers were submitted at.
	SubmitRate float64 `json:"submit_rate"`
	// The figures over all chains.
	Figures
	// RejectReasons counts refusals by the API's code.
	RejectReasons map[string]int `json:"reject_reasons,omitempty"`
	// Chains are the figures of each chain that sent, by chain ID.
	Chains []ChainReport `json:"chains"`
	// Unserved is the number of accounts on chains that no node of the
	// APIs serves, which took no part.
	Unserved int `json:"unserved_accounts,omitempty"`
}

// Validate reports every problem of c.
func (c *Config) Validate() error {
	var errs []error
	if len(c.APIs) == 0 {
		errs = append(errs, errors.New("--api: at least one URL"))
	}
	if len(c.Accounts) < 2 {
		errs = append(errs, fmt.Errorf("--accounts: %d accounts, want at least 2", len(c.Accounts)))
	}
	if !(c.Rate > 0) || c.Rate > 1e6 || math.IsInf(c.Rate, 0) {
		errs = append(errs, fmt.Errorf("--rate %v: want a rate above 0 and at most 1000000 per second", c.Rate))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("--duration %v: must be positive", c.Duration))
	}
	if c.Batch < 1 || c.Batch > 4096 {
		errs = append(errs, fmt.Errorf("--batch %d: want 1 to 4096", c.Batch))
	}
	if c.Workers < 1 || c.Workers > 1024 {
		errs = append(errs, fmt.Errorf("--workers %d: want 1 to 1024", c.Workers))
	}
	if c.Amount == 0 {
		errs = append(errs, errors.New("--amount: must be positive"))
	}
	if math.IsNaN(c.Cross) || c.Cross > 1 {
		errs = append(errs, fmt.Errorf("--cross %v: want a share from 0 to 1 (negative: the next account)", c.Cross))
	}
	return errors.Join(errs...)
}

// sender is one funded account's sending state.
type sender struct {
	acct  txcmd.Account
	chain *chainRun
	nonce uint64
	// stale marks a sender whose nonce must be read again (a transfer of
	// it was refused, so the nonces after it would wait forever).
	stale bool
}

// pending is a submitted transfer awaiting confirmation.
type pending struct {
	due time.Time
}

// inBlock is a committed block of confirmed transfers whose recording the
// loader waits for.
type inBlock struct {
	height uint64
	dues   []time.Time
}

// tally is the running figures of one chain.
type tally struct {
	submitted, accepted, rejected, failed, cross int
	latencies, recorded                          []time.Duration
	blocks                                       int
	lastConf                                     time.Time
}

// chainRun is one transaction chain of the run: its nodes, its senders
// and what its follower found.
type chainRun struct {
	id      uint32
	clients []*txcmd.Client
	// next is the client of the next batch.
	next int
	// start is the chain's height when the run began.
	start uint64
	// first and end delimit the chain's senders in run.order.
	first, end int
	// unrecorded are the blocks of confirmed transfers not recorded yet,
	// by height.
	unrecorded []inBlock
	tally      tally
}

// batch is transfers of one chain's senders.
type batch struct {
	chain *chainRun
	msgs  []types.Message
}

// run is the shared state of one run.
type run struct {
	cfg     Config
	clients []*txcmd.Client
	// chains are the chains some node of the APIs serves, by ID.
	chains   []*chainRun
	unserved int

	mu      sync.Mutex
	senders []*sender
	// order lists the senders' indices by chain (chainRun.first, end).
	order   []int
	rnd     *rand.Rand
	next    int
	waiting map[types.Hash]pending
	rep     Report
}

// Run drives the network and returns what it measured.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Drain == 0 {
		cfg.Drain = 60 * time.Second
	}
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	r := &run{cfg: cfg, waiting: map[types.Hash]pending{}, rnd: rand.New(rand.NewPCG(1, 2)),
		rep: Report{TargetRate: cfg.Rate, RejectReasons: map[string]int{}}}
	for _, u := range cfg.APIs {
		c, err := txcmd.NewClient(u)
		if err != nil {
			return Report{}, fmt.Errorf("--api: %w", err)
		}
		r.clients = append(r.clients, c)
	}
	topo, err := r.discover(ctx)
	if err != nil {
		return Report{}, err
	}
	if err := r.loadNonces(ctx, topo); err != nil {
		return Report{}, err
	}

	followCtx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	followDone := make(chan error, len(r.chains))
	for _, ch := range r.chains {
		go func() { followDone <- r.follow(followCtx, ch) }()
	}

	batches := make(chan batch, cfg.Workers*2)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				r.submit(ctx, b)
			}
		}()
	}
	start := time.Now()
	r.generate(ctx, start, batches)
	close(batches)
	wg.Wait()
	submitEnd := time.Now()

	// Drain: wait for the accepted transfers to be confirmed and their
	// blocks recorded.
	drainCtx, cancel := context.WithTimeout(ctx, cfg.Drain)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !r.drained() {
		select {
		case <-drainCtx.Done():
		case <-tick.C:
			continue
		}
		break
	}
	stopFollow()
	var followErr error
	for range r.chains {
		if err := <-followDone; err != nil && !errors.Is(err, context.Canceled) && followErr == nil {
			followErr = err
		}
	}
	if followErr != nil {
		return Report{}, followErr
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := r.rep
	rep.Duration = cfg.Duration
	rep.Unserved = r.unserved
	var total tally
	for _, ch := range r.chains {
		t := &ch.tally
		rep.Chains = append(rep.Chains, ChainReport{Chain: ch.id, Senders: ch.end - ch.first, Figures: t.figures(start)})
		total.submitted += t.submitted
		total.accepted += t.accepted
		total.rejected += t.rejected
		total.failed += t.failed
		total.cross += t.cross
		total.latencies = append(total.latencies, t.latencies...)
		total.recorded = append(total.recorded, t.recorded...)
		total.blocks += t.blocks
		if t.lastConf.After(total.lastConf) {
			total.lastConf = t.lastConf
		}
	}
	rep.Figures = total.figures(start)
	if d := submitEnd.Sub(start); d > 0 {
		rep.SubmitRate = float64(rep.Submitted) / d.Seconds()
	}
	return rep, nil
}

// figures sums up a tally of a run that started at start.
func (t *tally) figures(start time.Time) Figures {
	f := Figures{Submitted: t.submitted, Accepted: t.accepted, Rejected: t.rejected, Failed: t.failed,
		Confirmed: len(t.latencies), Blocks: t.blocks, Recorded: len(t.recorded), Cross: t.cross}
	if f.Confirmed > 0 {
		f.TPS = float64(f.Confirmed) / t.lastConf.Sub(start).Seconds()
		f.P50, f.P90, f.P99, f.Max = percentiles(t.latencies)
	}
	f.RecordedP50, f.RecordedP90, f.RecordedP99, f.RecordedMax = percentiles(t.recorded)
	return f
}

// percentiles returns the p50, p90, p99 and maximum of values.
func percentiles(values []time.Duration) (p50, p90, p99, maximum time.Duration) {
	if len(values) == 0 {
		return 0, 0, 0, 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return percentile(sorted, 0.50), percentile(sorted, 0.90), percentile(sorted, 0.99), sorted[len(sorted)-1]
}

// percentile returns the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}

// discover reads the chains from every API: the first node's list is the
// network's topology, and each node serves its transaction chains.
func (r *run) discover(ctx context.Context) ([]txcmd.Chain, error) {
	var topo []txcmd.Chain
	byID := map[uint32]*chainRun{}
	for i, c := range r.clients {
		chains, err := c.Chains(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the chains of %s: %w", c.Base, err)
		}
		if i == 0 {
			topo = chains
		} else if !sameTopology(topo, chains) {
			return nil, fmt.Errorf("%s lists other chains than %s: nodes of two networks?", c.Base, r.clients[0].Base)
		}
		for _, ch := range chains {
			if ch.Kind != txcmd.KindTransaction || !ch.Served {
				continue
			}
			cr := byID[ch.ID]
			if cr == nil {
				cr = &chainRun{id: ch.ID, start: ch.Height}
				byID[ch.ID] = cr
				r.chains = append(r.chains, cr)
			}
			cr.clients = append(cr.clients, c)
		}
	}
	if len(r.chains) == 0 {
		return nil, errors.New("--api: no node serves a transaction chain")
	}
	slices.SortFunc(r.chains, func(a, b *chainRun) int { return cmp.Compare(a.id, b.id) })
	return topo, nil
}

// sameTopology reports whether two nodes list the same chains.
func sameTopology(a, b []txcmd.Chain) bool {
	return slices.EqualFunc(a, b, func(x, y txcmd.Chain) bool {
		return x.ID == y.ID && x.Kind == y.Kind && x.Parent == y.Parent && x.Prefix == y.Prefix
	})
}

// chainOf returns the run's chain that holds addr, nil when no node of the
// APIs serves it.
func (r *run) chainOf(topo []txcmd.Chain, addr types.Address) *chainRun {
	id, ok := txcmd.OwnerOf(topo, addr)
	if !ok {
		return nil
	}
	for _, ch := range r.chains {
		if ch.id == id {
			return ch
		}
	}
	return nil
}

// loadNonces reads every account's nonce from a node of its chain;
// accounts the chain does not know, or of a chain no API serves, are left
// out.
func (r *run) loadNonces(ctx context.Context, topo []txcmd.Chain) error {
	type result struct {
		i     int
		nonce uint64
		err   error
	}
	owners := make([]*chainRun, len(r.cfg.Accounts))
	for i, a := range r.cfg.Accounts {
		if owners[i] = r.chainOf(topo, a.Address); owners[i] == nil {
			r.unserved++
		}
	}
	out := make(chan result, len(r.cfg.Accounts))
	sem := make(chan struct{}, 32)
	asked := 0
	for i, a := range r.cfg.Accounts {
		ch := owners[i]
		if ch == nil {
			continue
		}
		asked++
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			st, err := ch.clients[i%len(ch.clients)].Account(ctx, a.Address)
			out <- result{i: i, nonce: st.Nonce, err: err}
		}()
	}
	nonces := make([]*uint64, len(r.cfg.Accounts))
	for range asked {
		res := <-out
		switch {
		case res.err == nil:
			n := res.nonce
			nonces[res.i] = &n
		case errors.Is(res.err, txcmd.ErrNotFound):
		default:
			return fmt.Errorf("read account %s: %w", r.cfg.Accounts[res.i].Address, res.err)
		}
	}
	for i, n := range nonces {
		if n != nil {
			r.senders = append(r.senders, &sender{acct: r.cfg.Accounts[i], chain: owners[i], nonce: *n})
		}
	}
	if len(r.senders) < 2 {
		return fmt.Errorf("only %d of the %d accounts exist on the chains the APIs serve", len(r.senders), len(r.cfg.Accounts))
	}
	r.indexSenders()
	if r.cfg.Cross > 0 && len(r.chains) < 2 {
		return fmt.Errorf("--cross %v: the APIs serve funded accounts of %d chain(s), want at least 2", r.cfg.Cross, len(r.chains))
	}
	return nil
}

// indexSenders orders the senders by chain (order, each chain's first
// and end) and drops the chains without a sender.
func (r *run) indexSenders() {
	r.order = make([]int, len(r.senders))
	for i := range r.order {
		r.order[i] = i
	}
	slices.SortStableFunc(r.order, func(a, b int) int { return cmp.Compare(r.senders[a].chain.id, r.senders[b].chain.id) })
	for _, ch := range r.chains {
		ch.first, ch.end = 0, 0
	}
	for k, i := range r.order {
		ch := r.senders[i].chain
		if k == 0 || r.senders[r.order[k-1]].chain != ch {
			ch.first = k
		}
		ch.end = k + 1
	}
	active := r.chains[:0]
	for _, ch := range r.chains {
		if ch.end > ch.first {
			active = append(active, ch)
		}
	}
	r.chains = active
}

// generate produces the transfers as they come due, in batches of one
// chain's senders, until the duration has passed.
func (r *run) generate(ctx context.Context, start time.Time, batches chan<- batch) {
	const step = 10 * time.Millisecond
	tick := time.NewTicker(step)
	defer tick.Stop()
	progress := time.NewTicker(time.Second)
	defer progress.Stop()
	made := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-progress.C:
			if r.cfg.Progress != nil {
				r.cfg.Progress(r.progress(time.Since(start)))
			}
		case now := <-tick.C:
			elapsed := now.Sub(start)
			if elapsed >= r.cfg.Duration {
				return
			}
			due := int(elapsed.Seconds() * r.cfg.Rate)
			for made < due {
				n := min(due-made, r.cfg.Batch)
				bs := r.transfers(n, now)
				made += n
				if len(bs) == 0 {
					break
				}
				for _, b := range bs {
					select {
					case batches <- b:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}
}

// progress returns the running counts.
func (r *run) progress(elapsed time.Duration) Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := Progress{Elapsed: elapsed}
	for _, ch := range r.chains {
		p.Submitted += ch.tally.submitted
		p.Rejected += ch.tally.rejected
		p.Confirmed += len(ch.tally.latencies)
	}
	return p
}

// transfers signs n transfers due at now, from the senders in turn, and
// groups them by the sender's chain. Senders, recipients and nonces are
// taken under the lock; the signing is done outside it.
func (r *run) transfers(n int, due time.Time) []batch {
	type plan struct {
		from  *sender
		nonce uint64
		to    *sender
	}
	plans := make([]plan, 0, n)
	r.mu.Lock()
	for tries := 0; len(plans) < n && tries < 2*n+len(r.senders); tries++ {
		i := r.next
		s := r.senders[i]
		r.next = (r.next + 1) % len(r.senders)
		if s.stale {
			continue
		}
		to := r.recipient(i)
		plans = append(plans, plan{from: s, nonce: s.nonce, to: to})
		s.nonce++
		if to.chain != s.chain {
			s.chain.tally.cross++
		}
	}
	r.mu.Unlock()
	var out []batch
	at := map[*chainRun]int{}
	ids := make([]types.Hash, len(plans))
	for i, p := range plans {
		m := actor.NewTransfer(p.from.acct.Key, p.nonce, p.to.acct.Address, r.cfg.Amount)
		ids[i] = m.ID()
		k, ok := at[p.from.chain]
		if !ok {
			k = len(out)
			at[p.from.chain] = k
			out = append(out, batch{chain: p.from.chain})
		}
		out[k].msgs = append(out[k].msgs, m)
	}
	r.mu.Lock()
	for _, id := range ids {
		r.waiting[id] = pending{due: due}
	}
	r.mu.Unlock()
	return out
}

// recipient draws the recipient of a transfer of sender i (under the
// lock): the next sender, or one of another chain with probability Cross
// and else one of the sender's chain, other than itself when it can.
func (r *run) recipient(i int) *sender {
	if r.cfg.Cross < 0 {
		return r.senders[(i+1)%len(r.senders)]
	}
	ch := r.senders[i].chain
	same := ch.end - ch.first
	if other := len(r.order) - same; other > 0 && r.rnd.Float64() < r.cfg.Cross {
		k := r.rnd.IntN(other)
		if k >= ch.first {
			k += same
		}
		return r.senders[r.order[k]]
	}
	if same == 1 {
		return r.senders[i]
	}
	for {
		if j := r.order[ch.first+r.rnd.IntN(same)]; j != i {
			return r.senders[j]
		}
	}
}

// submit sends one batch to the next node of its chain and files the
// verdicts.
func (r *run) submit(ctx context.Context, b batch) {
	ch := b.chain
	r.mu.Lock()
	c := ch.clients[ch.next%len(ch.clients)]
	ch.next++
	r.mu.Unlock()
	results, err := c.SubmitBatch(ctx, b.msgs)
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &ch.tally
	t.submitted += len(b.msgs)
	if err != nil {
		t.failed += len(b.msgs)
		r.rep.RejectReasons["request_failed"] += len(b.msgs)
		for i := range b.msgs {
			delete(r.waiting, b.msgs[i].ID())
			r.markStale(b.msgs[i].From)
		}
		return
	}
	for i, res := range results {
		if res.Accepted {
			t.accepted++
			continue
		}
		t.rejected++
		r.rep.RejectReasons[res.Code]++
		delete(r.waiting, b.msgs[i].ID())
		r.markStale(b.msgs[i].From)
	}
}

// markStale stops a sender until its nonce is read again.
func (r *run) markStale(addr types.Address) {
	for _, s := range r.senders {
		if s.acct.Address == addr && !s.stale {
			s.stale = true
			go r.refresh(s)
			return
		}
	}
}

// refresh reads a stale sender's nonce again, from a node of its chain,
// once its pending transfers had time to land.
func (r *run) refresh(s *sender) {
	time.Sleep(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.chain.clients[0].Account(ctx, s.acct.Address)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		s.nonce = st.Nonce
		s.stale = false
	}
}

// drained reports whether every accepted transfer is confirmed and its
// block recorded.
func (r *run) drained() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.waiting) > 0 {
		return false
	}
	for _, ch := range r.chains {
		if len(ch.unrecorded) > 0 {
			return false
		}
	}
	return true
}

// heights returns chain's committed and confirmed heights on its first
// node.
func (ch *chainRun) heights(ctx context.Context) (head, confirmed uint64, err error) {
	chains, err := ch.clients[0].Chains(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, c := range chains {
		if c.ID == ch.id {
			return c.Height, c.ConfirmedHeight, nil
		}
	}
	return 0, 0, fmt.Errorf("%s lists no chain %d", ch.clients[0].Base, ch.id)
}

// follow reads every block of chain ch after the run's start as it is
// committed, confirms the transfers it holds, and counts them recorded
// once the chain's confirmed height reaches their block.
func (r *run) follow(ctx context.Context, ch *chainRun) error {
	height := ch.start + 1
	for {
		head, confirmed, err := ch.heights(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for ; height <= head; height++ {
			b, err := ch.clients[0].Block(ctx, ch.id, height)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("follow chain %d: block %d: %w", ch.id, height, err)
			}
			r.confirm(ch, height, b, time.Now())
		}
		r.record(ch, confirmed, time.Now())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// confirm files the transfers of block b, at height of chain ch, seen at
// seen.
func (r *run) confirm(ch *chainRun, height uint64, b txcmd.Block, seen time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var dues []time.Time
	for _, in := range b.Inputs {
		id, err := txcmd.ParseID(in.ID)
		if err != nil {
			continue
		}
		if p, ok := r.waiting[id]; ok {
			delete(r.waiting, id)
			ch.tally.latencies = append(ch.tally.latencies, seen.Sub(p.due))
			dues = append(dues, p.due)
		}
	}
	if len(dues) > 0 {
		ch.tally.blocks++
		ch.tally.lastConf = seen
		ch.unrecorded = append(ch.unrecorded, inBlock{height: height, dues: dues})
	}
}

// record counts the transfers of ch's blocks up to confirmed as recorded
// at seen.
func (r *run) record(ch *chainRun, confirmed uint64, seen time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := 0
	for ; k < len(ch.unrecorded) && ch.unrecorded[k].height <= confirmed; k++ {
		for _, due := range ch.unrecorded[k].dues {
			ch.tally.recorded = append(ch.tally.recorded, seen.Sub(due))
		}
	}
	ch.unrecorded = ch.unrecorded[k:]
}
