package sim

import (
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
)

// eventKind is what a queued event does when its time comes.
type eventKind uint8

const (
	// eventBoot brings a node up: OnStart the first time, OnRestart after
	// a crash.
	eventBoot eventKind = iota + 1
	// eventDeliver hands a message copy to its receiver.
	eventDeliver
	// eventTimer fires a node's timer.
	eventTimer
	// eventCrashNotice tells a node's handler that it crashed.
	eventCrashNotice
	// eventScript runs a function scheduled with World.Schedule.
	eventScript
)

func (k eventKind) String() string {
	switch k {
	case eventBoot:
		return "boot"
	case eventDeliver:
		return "deliver"
	case eventTimer:
		return "timer"
	case eventCrashNotice:
		return "crash"
	case eventScript:
		return "script"
	default:
		return "unknown"
	}
}

// event is one entry of the queue. Fields beyond at, seq and kind are used by
// the kinds that need them.
type event struct {
	at   time.Duration // when it is due, in virtual time since the start
	seq  uint64        // tie-break: order of queueing, unique per world
	kind eventKind

	node NodeID // the node it is for (receiver of a message)

	// Boot and timer: the incarnation (boot) or timer generation it was
	// queued for; a mismatch when it comes due means it went stale.
	generation uint64
	timerID    uint64

	// Message copies.
	from            NodeID
	payload         []byte
	digest          hash.Digest
	sentAt          time.Duration // when the sender handed it to the world
	departAt        time.Duration // when its last bit left the sender's uplink
	toIncarnation   uint64        // receiver's incarnation at send time
	fromIncarnation uint64        // sender's incarnation at send time
	arrived         bool          // past the network: only waits for the receiver's CPU

	fn func() // script events
}

// eventQueue is a binary min-heap of events ordered by (at, seq). Sequence
// numbers are unique, so the order is total and no two runs can break a tie
// differently.
type eventQueue struct {
	items []*event
}

func eventLess(a, b *event) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (q *eventQueue) Len() int { return len(q.items) }

// peek returns the next event without removing it, or nil.
func (q *eventQueue) peek() *event {
	if len(q.items) == 0 {
		return nil
	}
	return q.items[0]
}

func (q *eventQueue) push(e *event) {
	q.items = append(q.items, e)
	i := len(q.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !eventLess(q.items[i], q.items[parent]) {
			break
		}
		q.items[i], q.items[parent] = q.items[parent], q.items[i]
		i = parent
	}
}

// pop removes and returns the next event, or nil.
func (q *eventQueue) pop() *event {
	n := len(q.items)
	if n == 0 {
		return nil
	}
	top := q.items[0]
	last := q.items[n-1]
	q.items[n-1] = nil // let the payload be collected
	q.items = q.items[:n-1]
	if n > 1 {
		q.items[0] = last
		q.down(0)
	}
	return top
}

func (q *eventQueue) down(i int) {
	n := len(q.items)
	for {
		left := 2*i + 1
		if left >= n {
			return
		}
		smallest := left
		if right := left + 1; right < n && eventLess(q.items[right], q.items[left]) {
			smallest = right
		}
		if !eventLess(q.items[smallest], q.items[i]) {
			return
		}
		q.items[i], q.items[smallest] = q.items[smallest], q.items[i]
		i = smallest
	}
}
