package memnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/thinkey/thinkey/netq"
)

// Fault is what a directed link does to the messages it carries.
type Fault struct {
	// DropRate is the probability, in [0, 1], that a message is lost.
	DropRate float64
	// Delay is added to every message, counted from when it was queued;
	// messages keep their order.
	Delay time.Duration
}

// Validate reports what is wrong with f.
func (f Fault) Validate() error {
	var errs []error
	if !(f.DropRate >= 0 && f.DropRate <= 1) { // also rejects NaN
		errs = append(errs, fmt.Errorf("drop rate %v: must be in [0, 1]", f.DropRate))
	}
	if f.Delay < 0 {
		errs = append(errs, fmt.Errorf("delay %v: must not be negative", f.Delay))
	}
	return errors.Join(errs...)
}

type link struct{ from, to netq.PeerID }

// Network connects the Endpoints attached to it. It is safe for concurrent
// use; its fault settings may change while messages flow.
type Network struct {
	mu        sync.Mutex
	endpoints map[netq.PeerID]*Endpoint
	// attached is closed, and replaced, whenever an endpoint attaches, to
	// wake the links waiting for their destination to come up.
	attached chan struct{}
	faults   map[link]Fault
	// group maps a node to its side of the partition; nodes not listed are
	// in group 0. Messages flow only within a group.
	group map[netq.PeerID]int
	rng   *rand.Rand
}

// NewNetwork returns an empty network whose drop decisions are drawn from a
// generator seeded with seed.
func NewNetwork(seed uint64) *Network {
	return &Network{
		endpoints: make(map[netq.PeerID]*Endpoint),
		attached:  make(chan struct{}),
		faults:    make(map[link]Fault),
		group:     make(map[netq.PeerID]int),
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

// Attach creates the endpoint of id with the given limits (zero fields take
// netq's defaults). An id may be attached again once its previous endpoint
// is closed: that is a restart.
func (n *Network) Attach(id netq.PeerID, limits netq.Limits) (*Endpoint, error) {
	limits = limits.WithDefaults()
	if err := limits.Validate(); err != nil {
		return nil, fmt.Errorf("memnet attach %s: limits: %w", id.Short(), err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.endpoints[id]; ok {
		return nil, fmt.Errorf("memnet attach %s: already attached", id.Short())
	}
	e := newEndpoint(n, id, limits)
	n.endpoints[id] = e
	close(n.attached)
	n.attached = make(chan struct{})
	return e, nil
}

// detach removes e, if it is still the endpoint of its id.
func (n *Network) detach(e *Endpoint) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.endpoints[e.id] == e {
		delete(n.endpoints, e.id)
	}
}

// SetFault sets the fault of the directed link from -> to; the zero Fault
// heals it.
func (n *Network) SetFault(from, to netq.PeerID, f Fault) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("memnet fault %s->%s: %w", from.Short(), to.Short(), err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if f == (Fault{}) {
		delete(n.faults, link{from, to})
	} else {
		n.faults[link{from, to}] = f
	}
	return nil
}

// Partition splits the network: each argument is one side, and nodes named
// in no side form one more. Messages between sides are lost. A new call
// replaces the previous partition.
func (n *Network) Partition(sides ...[]netq.PeerID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.group)
	for i, side := range sides {
		for _, id := range side {
			n.group[id] = i + 1
		}
	}
}

// Heal removes the partition and every link fault.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.group)
	clear(n.faults)
}

// route decides the fate of one message on from -> to: whether it is lost,
// and otherwise its delay.
func (n *Network) route(from, to netq.PeerID) (lost bool, delay time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.group[from] != n.group[to] {
		return true, 0
	}
	f := n.faults[link{from, to}]
	if f.DropRate > 0 && n.rng.Float64() < f.DropRate {
		return true, 0
	}
	return false, f.Delay
}

// destination returns the endpoint attached as id, waiting until there is
// one or done is closed.
func (n *Network) destination(id netq.PeerID, done <-chan struct{}) (*Endpoint, bool) {
	for {
		n.mu.Lock()
		e, ok := n.endpoints[id]
		wait := n.attached
		n.mu.Unlock()
		if ok {
			return e, true
		}
		select {
		case <-wait:
		case <-done:
			return nil, false
		}
	}
}
