package consensus

import "github.com/thinkey/thinkey/node/types"

// futureMessage is a message for a round or height the core has not reached.
type futureMessage struct {
	height types.Height
	round  types.Round
	from   types.ValidatorIndex
	msg    Message
}

// futureBuffer keeps, per sender, the latest messages the core is not ready
// for, at most limit each: a sender's oldest message goes first, so a
// member that runs ahead keeps its most recent messages, and a faulty member
// can only crowd out its own.
type futureBuffer struct {
	perSender [][]futureMessage
	limit     int
}

func newFutureBuffer(n, limit int) futureBuffer {
	return futureBuffer{perSender: make([][]futureMessage, n), limit: limit}
}

func (b *futureBuffer) push(m futureMessage) {
	q := b.perSender[m.from]
	if len(q) >= b.limit {
		q = append(q[:0], q[len(q)-b.limit+1:]...)
	}
	b.perSender[m.from] = append(q, m)
}

// putBack returns taken messages to the buffer, ahead of anything pushed
// since, in their order.
func (b *futureBuffer) putBack(msgs []futureMessage) {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		q := b.perSender[m.from]
		if len(q) >= b.limit {
			continue // newer messages of this sender took the room
		}
		b.perSender[m.from] = append([]futureMessage{m}, q...)
	}
}

// take removes and returns, sender by sender in index order, the messages
// now current at (height, round), together with the current height's round
// changes of any round (they are kept apart, see onRoundChange); messages
// now behind are dropped.
func (b *futureBuffer) take(height types.Height, round types.Round) []futureMessage {
	var out []futureMessage
	for s, q := range b.perSender {
		kept := q[:0]
		for _, m := range q {
			switch {
			case m.height < height || (m.height == height && m.round < round && m.msg.Kind() != KindRoundChange):
			case m.height == height && (m.round == round || m.msg.Kind() == KindRoundChange):
				out = append(out, m)
			default:
				kept = append(kept, m)
			}
		}
		clear(q[len(kept):])
		b.perSender[s] = kept
	}
	return out
}

// len returns the number of messages buffered from sender s.
func (b *futureBuffer) len(s types.ValidatorIndex) int { return len(b.perSender[s]) }
