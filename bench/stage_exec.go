package bench

import (
	cryptorand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// The exec stage measures block execution (node/exec): the leader's
// Execute of a block of payments, and a committee member's Verify of it,
// signature checks included, on one worker and on two. Three shapes of
// block:
//
//   - uniform: each payment from a distinct random account to a random
//     account;
//   - hot-recipient: every payment to one account, whose adds are merged
//     (paper 5.6);
//   - hot-sender: every payment from one account (nonces 0, 1, ...), whose
//     record is one long sequence that only one worker can replay.

// execSizes returns the number of accounts and payments per block.
func execSizes(cfg Config) (accounts, payments int) {
	if cfg.Quick {
		return 2_000, 200
	}
	return 10_000, 1_000
}

var execShapes = []string{"uniform", "hot-recipient", "hot-sender"}

// execWorkerCounts are the pool sizes Verify is measured with.
var execWorkerCounts = []int{1, 2}

func execCaseName(op, shape string, payments, workers int) string {
	name := fmt.Sprintf("%s/%s/payments=%d", op, shape, payments)
	if workers > 0 {
		name += fmt.Sprintf("/workers=%d", workers)
	}
	return name
}

func execCases(cfg Config) []Case {
	accounts, payments := execSizes(cfg)
	var cases []Case
	for _, shape := range execShapes {
		f := &execFixture{shape: shape, accounts: accounts, payments: payments}
		unit := fmt.Sprintf("block of %d", payments)
		cases = append(cases, Case{Stage: "exec", Name: execCaseName("execute", shape, payments, 0), Unit: unit, Run: f.benchExecute})
		for _, w := range execWorkerCounts {
			cases = append(cases, Case{
				Stage: "exec", Name: execCaseName("verify", shape, payments, w), Unit: unit,
				Run: func(b *testing.B) { f.benchVerify(b, w) },
			})
		}
	}
	return cases
}

func execComparisons(cfg Config) []Comparison {
	_, payments := execSizes(cfg)
	var out []Comparison
	for _, shape := range execShapes {
		// The bound: verification on two cores at least 1.6 times
		// faster than on one (a cost fraction of at most 0.625).
		out = append(out, Comparison{
			Name:        fmt.Sprintf("exec verify %s, 2 workers / 1 worker (cost fraction)", shape),
			Numerator:   "exec/" + execCaseName("verify", shape, payments, 2),
			Denominator: "exec/" + execCaseName("verify", shape, payments, 1),
			Target:      0.625,
			AtMost:      true,
		})
	}
	return out
}

// execFixture is one chain's state and a block of payments against it,
// built on the first run of a case and reused, since testing.Benchmark
// calls a case several times while it sizes b.N.
type execFixture struct {
	shape              string
	accounts, payments int

	once   sync.Once
	err    error
	chain  exec.ChainSpec
	view   *exec.MemState
	inputs []exec.Input
	block  exec.Result
}

func (f *execFixture) build(b *testing.B) {
	f.once.Do(func() { f.err = f.construct() })
	if f.err != nil {
		b.Fatal(f.err)
	}
}

// construct draws the accounts and payments from a fixed seed, so every
// run measures the same work, and executes the block once.
func (f *execFixture) construct() error {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(f.accounts)<<8|uint64(len(f.shape)))
	rnd := rand.NewChaCha8(seed)
	prng := rand.New(rnd)
	f.chain = exec.ChainSpec{ID: 1} // a chain owning every address

	// Only payers need keys; the other accounts get random addresses.
	payers := f.payments
	if f.shape == "hot-sender" {
		payers = 1
	}
	keys := make([]ed25519.PrivateKey, payers)
	accounts := make([]actor.Account, f.accounts)
	for i := range accounts {
		if i < payers {
			k, err := ed25519.GenerateKey(rnd)
			if err != nil {
				return err
			}
			keys[i] = k
			accounts[i].Address = actor.AddressFromPublicKey(k.Public())
		} else {
			_, _ = rnd.Read(accounts[i].Address[:]) // ChaCha8.Read never fails
		}
		accounts[i].Balance = 1_000_000
	}
	view, err := exec.NewMemState(accounts)
	if err != nil {
		return err
	}
	f.view = view
	hot := accounts[payers].Address // not a payer: it only receives
	for i := range f.payments {
		var m types.Message
		switch f.shape {
		case "uniform":
			to := accounts[prng.IntN(len(accounts))].Address
			m = actor.NewTransfer(keys[i], 0, to, 1+prng.Uint64N(100))
		case "hot-recipient":
			m = actor.NewTransfer(keys[i], 0, hot, 1+prng.Uint64N(100))
		case "hot-sender":
			to := accounts[1+prng.IntN(len(accounts)-1)].Address
			m = actor.NewTransfer(keys[0], uint64(i), to, 1+prng.Uint64N(100))
		}
		f.inputs = append(f.inputs, exec.Input{Message: m})
	}
	f.block, err = exec.Execute(f.view, f.chain, f.inputs, exec.Env{Randomness: cryptorand.Reader})
	if err != nil {
		return err
	}
	for i, r := range f.block.Receipts {
		if !r.Included {
			return fmt.Errorf("exec fixture %s: payment %d left out: %v", f.shape, i, r.Reason)
		}
	}
	return nil
}

// benchExecute times the leader building the block: signature checks (one
// batch), execution, merging and roots, on one worker.
func (f *execFixture) benchExecute(b *testing.B) {
	f.build(b)
	env := exec.Env{Randomness: cryptorand.Reader}
	b.ResetTimer()
	for range b.N {
		res, err := exec.Execute(f.view, f.chain, f.inputs, env)
		if err != nil || len(res.Body.Inputs) != f.payments {
			b.Fatalf("execute: %v, %d of %d inputs", err, len(res.Body.Inputs), f.payments)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*f.payments), "ns/payment")
}

// benchVerify times a committee member verifying the block on a pool of
// workers: structure, order graph, signature batches, re-execution of
// every record, roots.
func (f *execFixture) benchVerify(b *testing.B, workers int) {
	f.build(b)
	var runner exec.Runner = exec.Sequential{}
	if workers > 1 {
		pool := newWorkerPool(workers)
		defer pool.close()
		runner = pool
	}
	env := exec.Env{Runner: runner, Randomness: cryptorand.Reader}
	b.ResetTimer()
	for range b.N {
		if _, err := exec.Verify(f.view, f.chain, &f.block.Body, f.block.Roots, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*f.payments), "ns/payment")
}

// workerPool is the parallel exec.Runner of the shell: the caller and
// workers-1 goroutines take task indexes from a shared counter.
type workerPool struct {
	workers int
	jobs    chan *poolJob
}

type poolJob struct {
	n    int
	task func(int)
	next atomic.Int64
	wg   sync.WaitGroup
}

func newWorkerPool(workers int) *workerPool {
	p := &workerPool{workers: workers, jobs: make(chan *poolJob)}
	for range workers - 1 {
		go func() {
			for job := range p.jobs {
				job.drain()
				job.wg.Done()
			}
		}()
	}
	return p
}

func (j *poolJob) drain() {
	for {
		i := int(j.next.Add(1)) - 1
		if i >= j.n {
			return
		}
		j.task(i)
	}
}

// close stops the pool's goroutines.
func (p *workerPool) close() { close(p.jobs) }

// Workers returns the pool size.
func (p *workerPool) Workers() int { return p.workers }

// Run hands the job to the other workers, works on it itself, and waits.
func (p *workerPool) Run(n int, task func(int)) {
	if n <= 1 {
		for i := range n {
			task(i)
		}
		return
	}
	job := &poolJob{n: n, task: task}
	helpers := min(p.workers-1, n-1)
	job.wg.Add(helpers)
	for range helpers {
		p.jobs <- job
	}
	job.drain()
	job.wg.Wait()
}
