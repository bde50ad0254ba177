package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/tools/txcmd"
)

// Config is one load run.
type Config struct {
	// APIs are the nodes' API base URLs; batches go to them in turn, and
	// the chain is followed on the first.
	APIs []string
	// Accounts are the funded accounts to send from (and to).
	Accounts []txcmd.Account
	// Rate is the target in transfers per second.
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
	// Progress, when set, is called about once a second with the running
	// counts.
	Progress func(Progress)
}

// Progress is a running count.
type Progress struct {
	Elapsed                        time.Duration
	Submitted, Rejected, Confirmed int
}

// Report is what a run measured.
type Report struct {
	TargetRate float64       `json:"target_rate"`
	Duration   time.Duration `json:"duration_ns"`
	Submitted  int           `json:"submitted"`
	Accepted   int           `json:"accepted"`
	Rejected   int           `json:"rejected"`
	Failed     int           `json:"failed"`
	Confirmed  int           `json:"confirmed"`
	// SubmitRate is the rate transfers were submitted at.
	SubmitRate float64 `json:"submit_rate"`
	// TPS is confirmed transfers per second, from the start of the run to
	// the last confirmation.
	TPS float64 `json:"tps"`
	// Latency percentiles of confirmed transfers.
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
	// Blocks is the number of blocks that confirmed transfers.
	Blocks int `json:"blocks"`
	// RejectReasons counts refusals by the API's code.
	RejectReasons map[string]int `json:"reject_reasons,omitempty"`
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
	return errors.Join(errs...)
}

// sender is one funded account's sending state.
type sender struct {
	acct  txcmd.Account
	nonce uint64
	// stale marks a sender whose nonce must be read again (a transfer of
	// it was refused, so the nonces after it would wait forever).
	stale bool
}

// pending is a submitted transfer awaiting confirmation.
type pending struct {
	due time.Time
}

// run is the shared state of one run.
type run struct {
	cfg     Config
	clients []*txcmd.Client
	// chain is the transaction chain the run follows: the first one the
	// first API's node runs.
	chain uint32

	mu        sync.Mutex
	senders   []*sender
	next      int
	waiting   map[types.Hash]pending
	latencies []time.Duration
	blocks    int
	lastConf  time.Time
	rep       Report
}

// Run drives the network and returns what it measured.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Drain == 0 {
		cfg.Drain = 60 * time.Second
	}
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	r := &run{cfg: cfg, waiting: map[types.Hash]pending{}, rep: Report{TargetRate: cfg.Rate, RejectReasons: map[string]int{}}}
	for _, u := range cfg.APIs {
		c, err := txcmd.NewClient(u)
		if err != nil {
			return Report{}, fmt.Errorf("--api: %w", err)
		}
		r.clients = append(r.clients, c)
	}
	st, err := r.clients[0].Status(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("read the node's chains: %w", err)
	}
	for _, c := range st.Chains {
		if c != 0 {
			r.chain = c
			break
		}
	}
	if err := r.loadNonces(ctx); err != nil {
		return Report{}, err
	}
	startHeight, err := r.height(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("read the chain height: %w", err)
	}

	followCtx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	followDone := make(chan error, 1)
	go func() { followDone <- r.follow(followCtx, startHeight+1) }()

	batches := make(chan []types.Message, cfg.Workers*2)
	var wg sync.WaitGroup
	for w := range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				r.submit(ctx, r.clients[w%len(r.clients)], b)
			}
		}()
	}
	start := time.Now()
	r.generate(ctx, start, batches)
	close(batches)
	wg.Wait()
	submitEnd := time.Now()

	// Drain: wait for the accepted transfers to be confirmed.
	drainCtx, cancel := context.WithTimeout(ctx, cfg.Drain)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		r.mu.Lock()
		left := len(r.waiting)
		r.mu.Unlock()
		if left == 0 {
			break
		}
		select {
		case <-drainCtx.Done():
		case <-tick.C:
			continue
		}
		break
	}
	stopFollow()
	if err := <-followDone; err != nil && !errors.Is(err, context.Canceled) {
		return Report{}, fmt.Errorf("follow the chain: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := r.rep
	rep.Duration = cfg.Duration
	rep.Confirmed = len(r.latencies)
	rep.Blocks = r.blocks
	if d := submitEnd.Sub(start); d > 0 {
		rep.SubmitRate = float64(rep.Submitted) / d.Seconds()
	}
	if rep.Confirmed > 0 {
		rep.TPS = float64(rep.Confirmed) / r.lastConf.Sub(start).Seconds()
		lat := slices.Clone(r.latencies)
		slices.Sort(lat)
		rep.P50, rep.P90, rep.P99 = percentile(lat, 0.50), percentile(lat, 0.90), percentile(lat, 0.99)
		rep.Max = lat[len(lat)-1]
	}
	return rep, nil
}

// percentile returns the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}

// loadNonces reads every account's nonce; accounts the chain does not know
// are left out.
func (r *run) loadNonces(ctx context.Context) error {
	type result struct {
		i     int
		nonce uint64
		err   error
	}
	out := make(chan result, len(r.cfg.Accounts))
	sem := make(chan struct{}, 32)
	for i, a := range r.cfg.Accounts {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			st, err := r.clients[i%len(r.clients)].Account(ctx, a.Address)
			out <- result{i: i, nonce: st.Nonce, err: err}
		}()
	}
	nonces := make([]*uint64, len(r.cfg.Accounts))
	for range r.cfg.Accounts {
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
			r.senders = append(r.senders, &sender{acct: r.cfg.Accounts[i], nonce: *n})
		}
	}
	if len(r.senders) < 2 {
		return fmt.Errorf("only %d of the %d accounts exist on the chain", len(r.senders), len(r.cfg.Accounts))
	}
	return nil
}

func (r *run) height(ctx context.Context) (uint64, error) {
	chains, err := r.clients[0].Chains(ctx)
	if err != nil {
		return 0, err
	}
	for _, c := range chains {
		if c.ID == r.chain {
			return c.Height, nil
		}
	}
	return 0, fmt.Errorf("the node lists no chain %d", r.chain)
}

// generate produces the transfers as they come due, in batches, until the
// duration has passed.
func (r *run) generate(ctx context.Context, start time.Time, batches chan<- []types.Message) {
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
				r.mu.Lock()
				p := Progress{Elapsed: time.Since(start), Submitted: r.rep.Submitted, Rejected: r.rep.Rejected, Confirmed: len(r.latencies)}
				r.mu.Unlock()
				r.cfg.Progress(p)
			}
		case now := <-tick.C:
			elapsed := now.Sub(start)
			if elapsed >= r.cfg.Duration {
				return
			}
			due := int(elapsed.Seconds() * r.cfg.Rate)
			for made < due {
				n := min(due-made, r.cfg.Batch)
				b := r.transfers(n, now)
				made += n
				if len(b) == 0 {
					break
				}
				select {
				case batches <- b:
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

// transfers signs n transfers due at now, from the senders in turn. Senders
// and nonces are taken under the lock; the signing is done outside it.
func (r *run) transfers(n int, due time.Time) []types.Message {
	type plan struct {
		from  *sender
		nonce uint64
		to    types.Address
	}
	plans := make([]plan, 0, n)
	r.mu.Lock()
	for tries := 0; len(plans) < n && tries < 2*n+len(r.senders); tries++ {
		s := r.senders[r.next]
		to := r.senders[(r.next+1)%len(r.senders)]
		r.next = (r.next + 1) % len(r.senders)
		if s.stale {
			continue
		}
		plans = append(plans, plan{from: s, nonce: s.nonce, to: to.acct.Address})
		s.nonce++
	}
	r.mu.Unlock()
	out := make([]types.Message, len(plans))
	ids := make([]types.Hash, len(plans))
	for i, p := range plans {
		out[i] = actor.NewTransfer(p.from.acct.Key, p.nonce, p.to, r.cfg.Amount)
		ids[i] = out[i].ID()
	}
	r.mu.Lock()
	for _, id := range ids {
		r.waiting[id] = pending{due: due}
	}
	r.mu.Unlock()
	return out
}

// submit sends one batch and files the verdicts.
func (r *run) submit(ctx context.Context, c *txcmd.Client, b []types.Message) {
	results, err := c.SubmitBatch(ctx, b)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Submitted += len(b)
	if err != nil {
		r.rep.Failed += len(b)
		r.rep.RejectReasons["request_failed"] += len(b)
		for i := range b {
			delete(r.waiting, b[i].ID())
			r.markStale(b[i].From)
		}
		return
	}
	for i, res := range results {
		if res.Accepted {
			r.rep.Accepted++
			continue
		}
		r.rep.Rejected++
		r.rep.RejectReasons[res.Code]++
		delete(r.waiting, b[i].ID())
		r.markStale(b[i].From)
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

// refresh reads a stale sender's nonce again once its pending transfers had
// time to land.
func (r *run) refresh(s *sender) {
	time.Sleep(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := r.clients[0].Account(ctx, s.acct.Address)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		s.nonce = st.Nonce
		s.stale = false
	}
}

// follow reads every block from height on as it is committed and confirms
// the transfers it holds.
func (r *run) follow(ctx context.Context, height uint64) error {
	for {
		head, err := r.height(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for ; height <= head; height++ {
			b, err := r.clients[0].Block(ctx, r.chain, height)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("block %d: %w", height, err)
			}
			seen := time.Now()
			r.mu.Lock()
			found := 0
			for _, in := range b.Inputs {
				id, err := txcmd.ParseID(in.ID)
				if err != nil {
					continue
				}
				if p, ok := r.waiting[id]; ok {
					delete(r.waiting, id)
					r.latencies = append(r.latencies, seen.Sub(p.due))
					found++
				}
			}
			if found > 0 {
				r.blocks++
				r.lastConf = seen
			}
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
