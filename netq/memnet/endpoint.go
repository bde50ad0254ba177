package memnet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/netq/internal/sendq"
)

// Endpoint is one node's netq.Transport on a Network.
type Endpoint struct {
	net     *Network
	id      netq.PeerID
	limits  netq.Limits
	inbound chan netq.Inbound
	metrics netq.Metrics

	// closing is closed when Close starts; every goroutine watches it.
	closing chan struct{}
	wg      sync.WaitGroup
	// deliveries guards inbound against being closed while another
	// endpoint's link is sending into it: links hold it for reading.
	deliveries sync.RWMutex
	down       bool // under deliveries; set once inbound is about to close

	mu     sync.Mutex
	peers  map[netq.PeerID]*peer
	closed bool

	closeOnce sync.Once
}

var _ netq.Transport = (*Endpoint)(nil)

type peer struct {
	id       netq.PeerID
	queue    *sendq.Queue
	counters *netq.Counters
	// removed is closed when the peer is removed or the endpoint closes.
	removed chan struct{}
}

func newEndpoint(n *Network, id netq.PeerID, limits netq.Limits) *Endpoint {
	return &Endpoint{
		net:     n,
		id:      id,
		limits:  limits,
		inbound: make(chan netq.Inbound, limits.InboundMessages),
		closing: make(chan struct{}),
		peers:   make(map[netq.PeerID]*peer),
	}
}

// LocalID implements netq.Transport.
func (e *Endpoint) LocalID() netq.PeerID { return e.id }

// Receive implements netq.Transport.
func (e *Endpoint) Receive() <-chan netq.Inbound { return e.inbound }

// AddPeer implements netq.Transport. The network routes by PeerID, so addr
// is ignored.
func (e *Endpoint) AddPeer(id netq.PeerID, _ string) error {
	if id == e.id {
		return fmt.Errorf("add peer %s: is this node's own identity", id.Short())
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("add peer %s: %w", id.Short(), netq.ErrClosed)
	}
	if _, ok := e.peers[id]; ok {
		return nil
	}
	p := &peer{
		id:       id,
		queue:    sendq.New(sendq.Limits{Messages: e.limits.QueueMessages, Bytes: e.limits.QueueBytes}),
		counters: e.metrics.Peer(id),
		removed:  make(chan struct{}),
	}
	e.peers[id] = p
	e.wg.Go(func() { e.runLink(p) })
	return nil
}

// RemovePeer implements netq.Transport.
func (e *Endpoint) RemovePeer(id netq.PeerID) {
	e.mu.Lock()
	p, ok := e.peers[id]
	delete(e.peers, id)
	e.mu.Unlock()
	if ok {
		stopPeer(p)
	}
}

func stopPeer(p *peer) {
	close(p.removed)
	p.counters.Lost.Add(uint64(p.queue.Close()))
}

// Send implements netq.Transport.
func (e *Endpoint) Send(ctx context.Context, id netq.PeerID, msg []byte) error {
	p, err := e.peerFor(id, msg)
	if err != nil {
		return err
	}
	return e.pushed(p, p.queue.Push(ctx, sendq.Reliable, sendq.Item{Msg: msg, Enqueued: time.Now()}))
}

// TrySend implements netq.Transport.
func (e *Endpoint) TrySend(id netq.PeerID, msg []byte) error {
	p, err := e.peerFor(id, msg)
	if err != nil {
		return err
	}
	return e.pushed(p, p.queue.TryPush(sendq.BestEffort, sendq.Item{Msg: msg, Enqueued: time.Now()}))
}

func (e *Endpoint) peerFor(id netq.PeerID, msg []byte) (*peer, error) {
	if len(msg) > e.limits.MaxFrameSize {
		return nil, fmt.Errorf("send to %s: %w: %d bytes, limit %d", id.Short(), netq.ErrFrameTooLarge, len(msg), e.limits.MaxFrameSize)
	}
	e.mu.Lock()
	p, ok := e.peers[id]
	closed := e.closed
	e.mu.Unlock()
	switch {
	case closed:
		return nil, fmt.Errorf("send to %s: %w", id.Short(), netq.ErrClosed)
	case !ok:
		return nil, fmt.Errorf("send to %s: %w", id.Short(), netq.ErrUnknownPeer)
	}
	return p, nil
}

func (e *Endpoint) pushed(p *peer, err error) error {
	return netq.SendError(p.id, err, e.isClosed(), p.counters)
}

func (e *Endpoint) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Stats implements netq.Transport.
func (e *Endpoint) Stats() []netq.PeerStats {
	return e.metrics.Snapshot(func(id netq.PeerID) int {
		e.mu.Lock()
		p, ok := e.peers[id]
		e.mu.Unlock()
		if !ok {
			return 0
		}
		return p.queue.Len()
	})
}

// Close implements netq.Transport. It detaches the endpoint, so links of
// other endpoints wait for it to be attached again, as a QUIC sender
// redials a restarting peer.
func (e *Endpoint) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		peers := e.peers
		e.peers = nil
		e.mu.Unlock()
		e.net.detach(e)
		close(e.closing)
		for _, p := range peers {
			stopPeer(p)
		}
		e.wg.Wait()
		e.deliveries.Lock() // waits for other endpoints' links sending to us
		e.down = true
		e.deliveries.Unlock()
		close(e.inbound)
	})
	return nil
}

// runLink carries p's queue to p's endpoint, applying the network's
// faults, until the peer is removed or the endpoint closes.
func (e *Endpoint) runLink(p *peer) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		it, ok := p.queue.Pop(p.removed)
		if !ok {
			return
		}
		lost, delay := e.net.route(e.id, p.id)
		if lost {
			p.counters.Lost.Add(1)
			continue
		}
		if wait := time.Until(it.Enqueued.Add(delay)); delay > 0 && wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-p.removed:
				p.counters.Lost.Add(1)
				return
			}
		}
		dst, ok := e.net.destination(p.id, p.removed)
		if !ok {
			p.counters.Lost.Add(1)
			return
		}
		if dst.deliver(e.id, it.Msg, p.removed) {
			p.counters.AddSent(len(it.Msg))
		} else {
			p.counters.Lost.Add(1)
		}
	}
}

// deliver hands msg from the sender to e's Receive channel, waiting while
// it is full, unless e closes or the sender gives up (done). The message is
// copied, as a wire would, so sender and receiver never share a buffer.
func (e *Endpoint) deliver(from netq.PeerID, msg []byte, done <-chan struct{}) bool {
	e.deliveries.RLock()
	defer e.deliveries.RUnlock()
	if e.down {
		return false
	}
	in := netq.Inbound{From: from, Msg: append([]byte(nil), msg...)}
	select {
	case e.inbound <- in:
		e.metrics.Peer(from).AddReceived(len(msg))
		return true
	case <-e.closing:
		return false
	case <-done:
		return false
	}
}
