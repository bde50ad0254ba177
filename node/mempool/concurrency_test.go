package mempool

import (
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/thinkey/thinkey/node/types"
)

// TestConcurrentAddReapUpdate runs submitters, a block loop and status
// readers at once (meant for -race) and checks the bounds and the final
// accounting: every message is committed exactly once, or refused.
func TestConcurrentAddReapUpdate(t *testing.T) {
	const (
		submitters = 4
		perSender  = 24 // messages per sender, nonces 0..23
		senders    = 4  // per submitter
	)
	src := newNonceMap()
	p := newTestPool(t, Config{MaxMessages: 40, MaxPerSender: 8}, src)

	// Each submitter owns its senders and sends their nonces in order,
	// resubmitting what the pool refused as full until it is committed.
	work := make([][]types.Message, submitters)
	for s := range submitters {
		for n := range perSender {
			for k := range senders {
				work[s] = append(work[s], transfer(testKey(1000+s*senders+k), uint64(n), 0))
			}
		}
	}

	var committedMu sync.Mutex
	committed := map[types.Hash]bool{}
	stop := make(chan struct{})
	var blockLoop sync.WaitGroup
	blockLoop.Add(1)
	go func() {
		defer blockLoop.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			block := p.Reap(16)
			checkReap(asErrors{t}, p, block)
			for _, m := range block {
				src.set(m.From, m.Nonce+1)
			}
			committedMu.Lock()
			for _, m := range block {
				if committed[m.ID()] {
					t.Errorf("message %v committed twice", m.ID())
				}
				committed[m.ID()] = true
			}
			committedMu.Unlock()
			p.Update(block, src)
			checkInvariants(asErrors{t}, p)
		}
	}()

	var wg sync.WaitGroup
	for s := range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			queue := work[s]
			for len(queue) > 0 {
				n := min(len(queue), 6)
				results := p.Add(queue[:n], seeded(uint64(s)))
				var retry []types.Message
				for i, r := range results {
					switch {
					case r.Err == nil, errors.Is(r.Err, ErrNonceTooLow), errors.Is(r.Err, ErrDuplicate):
						// admitted, or already committed or pending: done
					case errors.Is(r.Err, ErrPoolFull), errors.Is(r.Err, ErrSenderFull), errors.Is(r.Err, ErrNonceGap):
						retry = append(retry, queue[i])
					default:
						t.Errorf("unexpected refusal: %v", r.Err)
						return
					}
					_ = p.Status(r.ID)
				}
				queue = append(retry, queue[n:]...)
			}
		}()
	}
	wg.Wait()
	// Let the block loop drain the pool.
	for !t.Failed() {
		committedMu.Lock()
		done := len(committed) == submitters*senders*perSender
		committedMu.Unlock()
		if done {
			break
		}
		runtime.Gosched()
	}
	close(stop)
	blockLoop.Wait()
	if p.Len() != 0 {
		t.Fatalf("pool holds %d after all messages committed", p.Len())
	}
}

// asErrors reports a check's failure with Errorf, which other goroutines
// than the test's may call.
type asErrors struct{ t *testing.T }

func (a asErrors) Helper()                           { a.t.Helper() }
func (a asErrors) Fatalf(format string, args ...any) { a.t.Errorf(format, args...) }
