package sendq

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/thinkey/thinkey/netq"
)

// Lane selects one of a queue's two bounded lanes.
type Lane uint8

// The lanes, in the order Pop drains them.
const (
	Reliable Lane = iota
	BestEffort
	laneCount
)

// Item is one queued message. Enqueued is stamped by the caller when it
// needs it (memnet's link delay); the queue does not read a clock.
type Item struct {
	Msg      []byte
	Enqueued time.Time
}

// Limits bounds each lane.
type Limits struct {
	Messages int
	Bytes    int
}

// compactAfter is how many consumed slots a lane tolerates at the front of
// its slice before it moves the rest down.
const compactAfter = 64

type lane struct {
	items []Item
	head  int // items[head:] are queued
	bytes int
}

func (l *lane) len() int { return len(l.items) - l.head }

func (l *lane) push(it Item) {
	l.items = append(l.items, it)
	l.bytes += len(it.Msg)
}

func (l *lane) pop() Item {
	it := l.items[l.head]
	l.items[l.head] = Item{} // release the message to the collector
	l.head++
	l.bytes -= len(it.Msg)
	switch {
	case l.head == len(l.items):
		l.items, l.head = l.items[:0], 0
	case l.head >= compactAfter && 2*l.head >= len(l.items):
		n := copy(l.items, l.items[l.head:])
		clear(l.items[n:])
		l.items, l.head = l.items[:n], 0
	}
	return it
}

// Queue is a two-lane bounded queue with one consumer.
type Queue struct {
	limits Limits

	mu     sync.Mutex
	lanes  [laneCount]lane
	closed bool
	// roomMade is closed, and replaced, when an item leaves the queue while
	// producers wait for room; nil when nobody waits.
	roomMade chan struct{}
	// ready holds a token when items may be waiting for the consumer.
	ready chan struct{}
}

// New returns an empty queue with the given bounds per lane.
func New(limits Limits) *Queue {
	return &Queue{limits: limits, ready: make(chan struct{}, 1)}
}

// fits reports whether msg may join lane l now. Caller holds q.mu.
func (q *Queue) fits(l *lane, msg []byte) bool {
	if l.len() == 0 {
		return true
	}
	return l.len() < q.limits.Messages && l.bytes+len(msg) <= q.limits.Bytes
}

func (q *Queue) enqueue(l *lane, it Item) {
	l.push(it)
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// TryPush appends it to lane, or fails at once with an error wrapping
// netq.ErrQueueFull or netq.ErrClosed.
func (q *Queue) TryPush(lane Lane, it Item) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return netq.ErrClosed
	}
	l := &q.lanes[lane]
	if !q.fits(l, it.Msg) {
		return fmt.Errorf("%w: %d messages, %d bytes queued", netq.ErrQueueFull, l.len(), l.bytes)
	}
	q.enqueue(l, it)
	return nil
}

// Push appends it to lane, waiting for room until ctx ends. A context that
// ends first yields an error wrapping both netq.ErrQueueFull and ctx.Err().
func (q *Queue) Push(ctx context.Context, lane Lane, it Item) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return netq.ErrClosed
		}
		l := &q.lanes[lane]
		if q.fits(l, it.Msg) {
			q.enqueue(l, it)
			q.mu.Unlock()
			return nil
		}
		if q.roomMade == nil {
			q.roomMade = make(chan struct{})
		}
		wait := q.roomMade
		queued, queuedBytes := l.len(), l.bytes
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %d messages, %d bytes queued: %w", netq.ErrQueueFull, queued, queuedBytes, ctx.Err())
		case <-wait:
		}
	}
}

// TryPop takes the next item, the reliable lane first, without waiting.
func (q *Queue) TryPop() (Item, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.popLocked()
}

func (q *Queue) popLocked() (Item, bool) {
	for i := range q.lanes {
		l := &q.lanes[i]
		if l.len() > 0 {
			it := l.pop()
			if q.roomMade != nil {
				close(q.roomMade)
				q.roomMade = nil
			}
			return it, true
		}
	}
	return Item{}, false
}

// Pop takes the next item, waiting until one arrives, the queue is closed
// or done is closed; ok is false in the latter two cases.
func (q *Queue) Pop(done <-chan struct{}) (it Item, ok bool) {
	for {
		q.mu.Lock()
		it, ok = q.popLocked()
		closed := q.closed
		q.mu.Unlock()
		if ok {
			return it, true
		}
		if closed {
			return Item{}, false
		}
		select {
		case <-q.ready:
		case <-done:
			return Item{}, false
		}
	}
}

// Wait blocks until the queue holds an item (true), or the queue is closed
// or done is closed (false). It takes nothing: the writer uses it to dial
// only once there is something to send.
func (q *Queue) Wait(done <-chan struct{}) bool {
	for {
		q.mu.Lock()
		n := q.lenLocked()
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return false
		}
		if n > 0 {
			return true
		}
		select {
		case <-q.ready:
		case <-done:
			return false
		}
	}
}

func (q *Queue) lenLocked() int {
	n := 0
	for i := range q.lanes {
		n += q.lanes[i].len()
	}
	return n
}

// Len returns the number of queued items in both lanes.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lenLocked()
}

// Close discards what is queued, wakes every waiter and makes further pushes
// fail with netq.ErrClosed. It returns how many items it discarded, and is
// idempotent (a second call returns 0).
func (q *Queue) Close() (discarded int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0
	}
	q.closed = true
	discarded = q.lenLocked()
	q.lanes = [laneCount]lane{}
	if q.roomMade != nil {
		close(q.roomMade)
		q.roomMade = nil
	}
	close(q.ready)
	return discarded
}
