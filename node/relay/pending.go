package relay

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// Defaults of PendingConfig.
const (
	DefaultPendingSize = 1 << 16
	DefaultResendBase  = time.Second
	DefaultResendMax   = time.Minute
)

// PendingConfig bounds a Pending. Zero fields take their defaults.
type PendingConfig struct {
	// Max is the most unacknowledged packages held.
	Max int
	// Base is the wait before the first re-send; each re-send doubles the
	// wait, up to MaxBackoff.
	Base       time.Duration
	MaxBackoff time.Duration
}

func (c PendingConfig) withDefaults() PendingConfig {
	if c.Max <= 0 {
		c.Max = DefaultPendingSize
	}
	if c.Base <= 0 {
		c.Base = DefaultResendBase
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultResendMax
	}
	c.MaxBackoff = max(c.MaxBackoff, c.Base)
	return c
}

// Pending is a source member's record of the packages it sent and no
// destination has acknowledged yet, with when to send each again. Time is
// the caller's: a duration since any fixed instant (virtual time in the
// simulator, a monotonic clock in the driver). Not safe for concurrent use.
type Pending struct {
	cfg  PendingConfig
	seq  uint64
	byID map[types.Hash]*pendingEntry
}

type pendingEntry struct {
	a    Addressed
	seq  uint64 // order of Add: ties of the send order
	next time.Duration
	wait time.Duration
}

// NewPending returns an empty Pending.
func NewPending(cfg PendingConfig) *Pending {
	return &Pending{cfg: cfg.withDefaults(), byID: make(map[types.Hash]*pendingEntry)}
}

// Len returns the number of unacknowledged packages.
func (p *Pending) Len() int { return len(p.byID) }

// Add records a package to send, due at now: the next Due returns it. A
// package of a message already held is ignored; one beyond the bound fails
// with ErrFull (its block's relays can be rebuilt with Outbox later).
func (p *Pending) Add(now time.Duration, a Addressed) error {
	id := a.Package.Message.ID()
	if _, ok := p.byID[id]; ok {
		return nil
	}
	if len(p.byID) >= p.cfg.Max {
		return fmt.Errorf("relay pending: %w: %d packages", ErrFull, len(p.byID))
	}
	p.seq++
	p.byID[id] = &pendingEntry{a: a, seq: p.seq, next: now, wait: p.cfg.Base}
	return nil
}

// Due returns the packages due at now, by destination chain and then in
// the order they were added, and schedules each one's next send after its
// current wait, which then doubles up to MaxBackoff.
func (p *Pending) Due(now time.Duration) []Addressed {
	var due []*pendingEntry
	for _, e := range p.byID {
		if e.next <= now {
			due = append(due, e)
		}
	}
	slices.SortFunc(due, func(x, y *pendingEntry) int {
		return cmp.Or(cmp.Compare(x.a.Dest, y.a.Dest), cmp.Compare(x.seq, y.seq))
	})
	if len(due) == 0 {
		return nil
	}
	out := make([]Addressed, len(due))
	for i, e := range due {
		out[i] = e.a
		e.next = now + e.wait
		if e.next < now { // saturate rather than wrap
			e.next = math.MaxInt64
		}
		if e.wait > p.cfg.MaxBackoff/2 {
			e.wait = p.cfg.MaxBackoff
		} else {
			e.wait *= 2
		}
	}
	return out
}

// Ack forgets the packages of ids: their destination consumed them.
func (p *Pending) Ack(ids []types.Hash) {
	for _, id := range ids {
		delete(p.byID, id)
	}
}
