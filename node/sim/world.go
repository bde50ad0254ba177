package sim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
)

// NodeID names a node of a world. AddNode numbers nodes from 0 in the order
// they are added.
type NodeID uint32

// NodeHandler is one simulated node: the world calls it for each event of
// that node, one call at a time, and it answers by calling back into the
// world (Send, Broadcast, SetTimer, CancelTimer, Charge). Those calls only
// queue events, so a handler is never entered recursively.
//
// The now argument is the virtual time of the event. A handler owns no
// clock and no randomness besides World.Rand of its node.
type NodeHandler interface {
	// OnStart is the node's first event, at the time it was added.
	OnStart(now time.Duration)
	// OnMessage delivers a payload sent by from. The payload is shared with
	// the sender and any other receiver: treat it as read-only.
	OnMessage(now time.Duration, from NodeID, payload []byte)
	// OnTimer fires a timer armed with SetTimer.
	OnTimer(now time.Duration, timerID uint64)
	// OnCrash tells the handler that its node crashed at now: it must
	// forget all volatile state, keeping only what it persisted. The world
	// has already dropped its timers; sends from it are dropped until it
	// restarts.
	OnCrash(now time.Duration)
	// OnRestart brings the node back up after a crash. The handler restores
	// itself from what it persisted; the world only tells it when.
	OnRestart(now time.Duration)
}

// WorldConfig configures a world.
type WorldConfig struct {
	// Seed determines every random choice of the run.
	Seed uint64
	// Network is the packet model (see NetworkConfig).
	Network NetworkConfig
	// MaxEvents stops a run with ErrEventLimit after that many events, a
	// guard against protocols that loop without advancing time. Zero is no
	// limit.
	MaxEvents uint64
	// Trace, when set, receives one line per event (deliveries, drops,
	// timers, crashes, restarts, scripts), for reading a failing seed.
	Trace io.Writer
}

// Validate reports every problem of the config at once.
func (c WorldConfig) Validate() error {
	if err := c.Network.Validate(); err != nil {
		return fmt.Errorf("world config: %w", err)
	}
	return nil
}

// nodeState is the world's view of one node.
type nodeState struct {
	handler NodeHandler

	up      bool
	booting bool // a boot event is queued and still valid
	started bool // OnStart has run; later boots are restarts
	// incarnation counts crashes. Messages and boots are stamped with it,
	// so those that predate a crash are recognised when they come due.
	incarnation uint64
	// crashedAt[k] is when incarnation k ended.
	crashedAt []time.Duration
	// timers maps a timer ID to the generation of its armed event; an
	// event whose generation is not here any more was replaced or
	// cancelled.
	timers map[uint64]uint64

	// busyUntil is when the node's single CPU is free. While a handler
	// runs it is the handler's cursor: now plus what it has charged.
	busyUntil    time.Duration
	uplinkFreeAt time.Duration // when the uplink finishes what it has queued

	rng     *rand.Rand // the handler's stream (World.Rand)
	netRand *rand.Rand // the fate of this node's outgoing messages

	metrics NodeMetrics
}

// World is a simulated network of nodes on virtual time: one goroutine, one
// event queue ordered by (time, sequence number), seeded randomness. See the
// package documentation for the determinism contract.
type World struct {
	cfg   WorldConfig
	now   time.Duration
	seq   uint64
	queue eventQueue
	nodes []nodeState
	net   network

	timerGeneration uint64

	running   bool
	inHandler bool
	current   NodeID // the node whose handler runs, when inHandler

	err error // sticky: the first misuse or trace failure

	events  uint64
	metrics Metrics
	trace   traceHash
}

// NewWorld returns an empty world at virtual time zero.
func NewWorld(cfg WorldConfig) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &World{cfg: cfg}
	w.net.cfg = cfg.Network
	w.net.cuts = make(map[link]bool)
	w.net.clogs = make(map[link]clog)
	w.trace.init()
	return w, nil
}

// Seed returns the world's seed.
func (w *World) Seed() uint64 { return w.cfg.Seed }

// Now returns the current virtual time.
func (w *World) Now() time.Duration { return w.now }

// NodeCount returns how many nodes were added.
func (w *World) NodeCount() int { return len(w.nodes) }

// Events returns how many events were processed so far.
func (w *World) Events() uint64 { return w.events }

// Err returns the first misuse recorded (an unknown node passed to Send,
// a negative charge, a failed trace write), which also stops Run.
func (w *World) Err() error { return w.err }

// TraceHash returns the running SHA-256 over every event processed and every
// message copy dropped so far. Two runs of one seed have equal trace hashes
// at equal times; see the package documentation.
func (w *World) TraceHash() hash.Digest { return w.trace.sum() }

// Network returns the packet model in use.
func (w *World) Network() NetworkConfig { return w.net.cfg }

// SetNetwork replaces the packet model for messages sent from now on.
func (w *World) SetNetwork(cfg NetworkConfig) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("set network: %w", err)
	}
	w.net.cfg = cfg
	return nil
}

// AddNode adds a node driven by handler and returns its ID. The node boots
// (OnStart) at the current virtual time, after the events already queued
// for that time. Its random stream (World.Rand) and the stream deciding the
// fate of its messages depend only on the seed and its ID.
func (w *World) AddNode(handler NodeHandler) NodeID {
	id := NodeID(len(w.nodes))
	w.nodes = append(w.nodes, nodeState{
		handler: handler,
		booting: true,
		rng:     newStream(w.cfg.Seed, streamNode, uint64(id)),
		netRand: newStream(w.cfg.Seed, streamNetwork, uint64(id)),
	})
	w.metrics.PerNode = append(w.metrics.PerNode, NodeMetrics{})
	w.push(&event{at: w.now, kind: eventBoot, node: id, generation: 0})
	return id
}

// Rand returns the node's own random stream, for its handler. It returns nil
// for an unknown node.
func (w *World) Rand(node NodeID) *rand.Rand {
	if !w.known(node) {
		return nil
	}
	return w.nodes[node].rng
}

// IsUp reports whether the node is running (booted and not crashed).
func (w *World) IsUp(node NodeID) bool {
	return w.known(node) && w.nodes[node].up
}

func (w *World) known(node NodeID) bool { return int(node) < len(w.nodes) }

// fail records the first misuse; Run returns it.
func (w *World) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *World) checkNode(op string, node NodeID) bool {
	if w.known(node) {
		return true
	}
	w.fail(fmt.Errorf("%s: %w: %d (have %d)", op, ErrUnknownNode, node, len(w.nodes)))
	return false
}

func (w *World) push(e *event) {
	if e.at < w.now {
		e.at = w.now
	}
	w.seq++
	e.seq = w.seq
	w.queue.push(e)
}

// Schedule runs fn at virtual time at (or now, if at is past), after the
// events already queued for that time. Fault scripts use it; fn may call
// any method of the world except Run, RunUntil and Step.
func (w *World) Schedule(at time.Duration, fn func()) {
	if fn == nil {
		return
	}
	w.push(&event{at: at, kind: eventScript, fn: fn})
}

// SetTimer arms the node's timer timerID to fire at virtual time at (or
// now, if at is past). Arming an armed timer replaces it. A crashed node's
// timers are dropped, and arming one while it is down does nothing.
func (w *World) SetTimer(node NodeID, at time.Duration, timerID uint64) {
	if !w.checkNode("set timer", node) {
		return
	}
	n := &w.nodes[node]
	if !n.up {
		return
	}
	if n.timers == nil {
		n.timers = make(map[uint64]uint64)
	}
	w.timerGeneration++
	n.timers[timerID] = w.timerGeneration
	w.push(&event{at: at, kind: eventTimer, node: node, timerID: timerID, generation: w.timerGeneration})
}

// CancelTimer disarms the node's timer timerID, if armed.
func (w *World) CancelTimer(node NodeID, timerID uint64) {
	if !w.checkNode("cancel timer", node) {
		return
	}
	delete(w.nodes[node].timers, timerID)
}

// Charge reports that the node's current work costs d of virtual CPU time.
// A node is one core: its next event waits until the charged time has
// passed, and messages it sends later in the same handler leave after it
// (charge before sending to model "compute, then send"). Outside the
// node's own handler the charge extends its busy period from now.
func (w *World) Charge(node NodeID, d time.Duration) {
	if !w.checkNode("charge", node) {
		return
	}
	if d < 0 {
		w.fail(fmt.Errorf("charge node %d: %w: %v", node, ErrNegativeCost, d))
		return
	}
	n := &w.nodes[node]
	if n.busyUntil < w.now {
		n.busyUntil = w.now
	}
	n.busyUntil = addSaturating(n.busyUntil, d)
	n.metrics.CPUBusy += d
}

// Crash stops the node now: it receives nothing more, its timers are
// dropped, its messages in flight to it are lost (even if it restarts
// before they would arrive), and its own messages still waiting for its
// uplink are lost. Its handler gets OnCrash as the next event at this time.
// Crashing a node that is down cancels a pending restart.
func (w *World) Crash(node NodeID) error {
	if !w.known(node) {
		return fmt.Errorf("crash: %w: %d", ErrUnknownNode, node)
	}
	n := &w.nodes[node]
	if !n.up && !n.booting {
		return nil
	}
	wasUp := n.up
	n.up, n.booting = false, false
	n.crashedAt = append(n.crashedAt, w.now)
	n.incarnation++
	n.timers = nil
	n.busyUntil = w.now
	n.uplinkFreeAt = w.now
	n.metrics.Crashes++
	w.metrics.Total.Crashes++
	if wasUp {
		w.push(&event{at: w.now, kind: eventCrashNotice, node: node})
	}
	return nil
}

// Restart brings a crashed node back: its handler gets OnRestart (or
// OnStart, if it crashed before it first started) as an event at the
// current time, and it is up from that event on. Restarting a node that is
// up or already restarting does nothing.
func (w *World) Restart(node NodeID) error {
	if !w.known(node) {
		return fmt.Errorf("restart: %w: %d", ErrUnknownNode, node)
	}
	n := &w.nodes[node]
	if n.up || n.booting {
		return nil
	}
	n.booting = true
	w.push(&event{at: w.now, kind: eventBoot, node: node, generation: n.incarnation})
	return nil
}

// Send hands payload from one node to another. Sending to oneself is a
// loopback: delivered at once (as an event), never lost or delayed by the
// network. Otherwise the copy goes through the packet model. The payload
// must not be modified afterwards.
func (w *World) Send(from, to NodeID, payload []byte) {
	if !w.checkNode("send from", from) || !w.checkNode("send to", to) {
		return
	}
	w.transmit(from, to, payload, hash.Sum256(payload))
}

// Broadcast sends payload from one node to every other node, in ID order
// (one copy each on the uplink). The payload must not be modified
// afterwards.
func (w *World) Broadcast(from NodeID, payload []byte) {
	if !w.checkNode("broadcast from", from) {
		return
	}
	digest := hash.Sum256(payload)
	for to := range w.nodes {
		if NodeID(to) != from {
			w.transmit(from, NodeID(to), payload, digest)
		}
	}
}

// sendTime is when a message sent now by node enters its uplink: inside the
// node's own handler, after the CPU time charged so far.
func (w *World) sendTime(node NodeID) time.Duration {
	if w.inHandler && w.current == node && w.nodes[node].busyUntil > w.now {
		return w.nodes[node].busyUntil
	}
	return w.now
}

// newCopy returns a delivery event for one copy of a message.
func (w *World) newCopy(from, to NodeID, payload []byte, digest hash.Digest, sentAt, departAt time.Duration) *event {
	return &event{
		at: departAt, kind: eventDeliver, node: to, from: from,
		payload: payload, digest: digest,
		sentAt: sentAt, departAt: departAt,
		toIncarnation: w.nodes[to].incarnation, fromIncarnation: w.nodes[from].incarnation,
	}
}

// transmit runs one message through the packet model.
func (w *World) transmit(from, to NodeID, payload []byte, digest hash.Digest) {
	sender := &w.nodes[from]
	size := len(payload)
	sender.metrics.Sent.add(size)
	w.metrics.Total.Sent.add(size)
	sendAt := w.sendTime(from)
	if !sender.up {
		w.drop(w.newCopy(from, to, payload, digest, sendAt, sendAt), DropSenderDown)
		return
	}
	if from == to {
		e := w.newCopy(from, to, payload, digest, sendAt, sendAt)
		e.arrived = true
		w.push(e)
		return
	}

	// A fixed number of draws per message, whatever the config, so that
	// turning loss, duplication or reordering on or off changes only their
	// own effect and not the delays of other messages.
	rng := sender.netRand
	lossU, jitterU, reorderU, reorderDelayU := rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64()
	dupU, dupJitterU, dupReorderU, dupReorderDelayU := rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64()

	cfg := &w.net.cfg
	start := sendAt
	if sender.uplinkFreeAt > start {
		start = sender.uplinkFreeAt
	}
	if cfg.UplinkQueueMax > 0 && start-sendAt > cfg.UplinkQueueMax {
		w.drop(w.newCopy(from, to, payload, digest, sendAt, sendAt), DropUplinkFull)
		return
	}
	departAt := addSaturating(start, serialization(size, cfg.UplinkBandwidth))
	sender.uplinkFreeAt = departAt

	first := w.newCopy(from, to, payload, digest, sendAt, departAt)
	if blocked, hold, reason := w.net.blocked(from, to); blocked {
		if hold {
			w.hold(first)
		} else {
			w.drop(first, reason)
		}
		return
	}
	if lossU < cfg.LossProbability {
		w.drop(first, DropLoss)
		return
	}
	first.at = addSaturating(departAt, w.net.propagation(from, to, departAt, jitterU, reorderU, reorderDelayU))
	w.push(first)
	if dupU < cfg.DuplicateProbability {
		second := w.newCopy(from, to, payload, digest, sendAt, departAt)
		second.at = addSaturating(departAt, w.net.propagation(from, to, departAt, dupJitterU, dupReorderU, dupReorderDelayU))
		sender.metrics.Duplicated.add(size)
		w.metrics.Total.Duplicated.add(size)
		w.traceDuplicate(second)
		w.push(second)
	}
}

// hold keeps a copy in the network until the partition heals.
func (w *World) hold(e *event) {
	w.net.held = append(w.net.held, e)
	w.metrics.Held.add(len(e.payload))
}

// drop records a copy that will never be delivered.
func (w *World) drop(e *event, reason DropReason) {
	size := len(e.payload)
	w.nodes[e.node].metrics.Dropped.add(size)
	w.metrics.Total.Dropped.add(size)
	w.metrics.DroppedBy[reason].add(size)
	w.traceDrop(e, reason)
}

// Partition splits the nodes into groups: messages between nodes of
// different groups are dropped or held (mode) until Heal. Nodes named in no
// group, and nodes added later, form one more group together. A new
// partition replaces the current one (held messages stay held).
func (w *World) Partition(mode PartitionMode, groups ...[]NodeID) error {
	switch mode {
	case PartitionDrop, PartitionHold:
	default:
		return fmt.Errorf("partition: %w: unknown mode %v", ErrInvalidConfig, mode)
	}
	rest := len(groups)
	groupOf := make([]int, len(w.nodes))
	for i := range groupOf {
		groupOf[i] = rest
	}
	for g, members := range groups {
		for _, id := range members {
			if !w.known(id) {
				return fmt.Errorf("partition: %w: %d", ErrUnknownNode, id)
			}
			if groupOf[id] != rest {
				return fmt.Errorf("partition: %w: node %d is in groups %d and %d", ErrInvalidConfig, id, groupOf[id], g)
			}
			groupOf[id] = g
		}
	}
	w.net.partitioned = true
	w.net.mode = mode
	w.net.groupOf = groupOf
	w.net.restGroup = rest
	w.traceScriptNote(fmt.Sprintf("partition %v %v", mode, groups))
	return nil
}

// Heal ends the partition. Held messages leave again now, in the order they
// were held, each with a fresh delay (they may still be lost to link cuts or
// crashes).
func (w *World) Heal() {
	w.net.partitioned = false
	w.net.groupOf = nil
	held := w.net.held
	w.net.held = nil
	for _, e := range held {
		u := w.nodes[e.from].netRand.Float64()
		e.at = addSaturating(w.now, w.net.propagation(e.from, e.node, w.now, u, 1, 0))
		e.arrived = false
		w.push(e)
	}
	w.traceScriptNote("heal")
}

// PartitionUntil partitions now and heals at virtual time healAt.
func (w *World) PartitionUntil(healAt time.Duration, mode PartitionMode, groups ...[]NodeID) error {
	if err := w.Partition(mode, groups...); err != nil {
		return err
	}
	w.Schedule(healAt, w.Heal)
	return nil
}

// CutLink drops every message from -> to (one direction only) until
// RestoreLink.
func (w *World) CutLink(from, to NodeID) error {
	if !w.known(from) || !w.known(to) {
		return fmt.Errorf("cut link %d->%d: %w", from, to, ErrUnknownNode)
	}
	w.net.cuts[link{from, to}] = true
	w.traceScriptNote(fmt.Sprintf("cut %d->%d", from, to))
	return nil
}

// RestoreLink undoes CutLink.
func (w *World) RestoreLink(from, to NodeID) error {
	if !w.known(from) || !w.known(to) {
		return fmt.Errorf("restore link %d->%d: %w", from, to, ErrUnknownNode)
	}
	delete(w.net.cuts, link{from, to})
	w.traceScriptNote(fmt.Sprintf("restore %d->%d", from, to))
	return nil
}

// Clog multiplies the network delay of messages leaving on from -> to by
// factor (at least 1) until virtual time until. A new clog of the link
// replaces the current one.
func (w *World) Clog(from, to NodeID, factor float64, until time.Duration) error {
	if !w.known(from) || !w.known(to) {
		return fmt.Errorf("clog %d->%d: %w", from, to, ErrUnknownNode)
	}
	if !(factor >= 1) || factor > 1e6 {
		return fmt.Errorf("clog %d->%d: %w: factor %v is not in [1, 1e6]", from, to, ErrInvalidConfig, factor)
	}
	w.net.clogs[link{from, to}] = clog{factor: factor, until: until}
	w.traceScriptNote(fmt.Sprintf("clog %d->%d x%v until %v", from, to, factor, until))
	return nil
}

// Run processes every event due at or before until, then leaves the clock
// at until. It returns the first misuse recorded (see Err), or
// ErrEventLimit.
func (w *World) Run(until time.Duration) error {
	if w.running {
		w.fail(ErrReentrant)
		return ErrReentrant
	}
	w.running = true
	defer func() { w.running = false }()
	for w.err == nil {
		next := w.queue.peek()
		if next == nil || next.at > until {
			break
		}
		w.step()
	}
	if w.err == nil && w.now < until {
		w.now = until
	}
	return w.err
}

// RunUntil processes events until pred holds (checked before each event),
// and returns nil then. It returns an error wrapping ErrTimeLimit, with the
// clock at limit, when the next event is later than limit; ErrStalled when
// no event is left; or the first misuse recorded.
func (w *World) RunUntil(pred func() bool, limit time.Duration) error {
	if w.running {
		w.fail(ErrReentrant)
		return ErrReentrant
	}
	w.running = true
	defer func() { w.running = false }()
	for w.err == nil {
		if pred() {
			return nil
		}
		next := w.queue.peek()
		if next == nil {
			return fmt.Errorf("run until at %v: %w", w.now, ErrStalled)
		}
		if next.at > limit {
			if w.now < limit {
				w.now = limit
			}
			return fmt.Errorf("run until %v: %w", limit, ErrTimeLimit)
		}
		w.step()
	}
	return w.err
}

// Step processes the next event, if any, and reports whether it did.
func (w *World) Step() (bool, error) {
	if w.running {
		w.fail(ErrReentrant)
		return false, ErrReentrant
	}
	if w.err != nil {
		return false, w.err
	}
	if w.queue.peek() == nil {
		return false, nil
	}
	w.running = true
	defer func() { w.running = false }()
	w.step()
	return true, w.err
}

// Pending returns how many events are queued.
func (w *World) Pending() int { return w.queue.Len() }

// step pops and processes one event.
func (w *World) step() {
	e := w.queue.pop()
	w.now = e.at
	w.events++
	w.metrics.Events++
	if w.cfg.MaxEvents > 0 && w.events > w.cfg.MaxEvents {
		w.fail(fmt.Errorf("at %v: %w (%d)", w.now, ErrEventLimit, w.cfg.MaxEvents))
		return
	}
	switch e.kind {
	case eventBoot:
		w.boot(e)
	case eventDeliver:
		w.deliver(e)
	case eventTimer:
		w.fire(e)
	case eventCrashNotice:
		w.traceEvent(e)
		w.runHandler(e.node, func(h NodeHandler) { h.OnCrash(w.now) })
	case eventScript:
		w.traceEvent(e)
		e.fn()
	default:
		w.fail(fmt.Errorf("at %v: unknown event kind %d", w.now, e.kind))
	}
}

func (w *World) boot(e *event) {
	n := &w.nodes[e.node]
	if n.up || !n.booting || e.generation != n.incarnation {
		return // stale: crashed again before it came due
	}
	n.up, n.booting = true, false
	n.busyUntil = w.now
	if n.uplinkFreeAt < w.now {
		n.uplinkFreeAt = w.now
	}
	w.traceEvent(e)
	if !n.started {
		n.started = true
		w.runHandler(e.node, func(h NodeHandler) { h.OnStart(w.now) })
		return
	}
	n.metrics.Restarts++
	w.metrics.Total.Restarts++
	w.runHandler(e.node, func(h NodeHandler) { h.OnRestart(w.now) })
}

func (w *World) deliver(e *event) {
	receiver := &w.nodes[e.node]
	if !receiver.up || e.toIncarnation != receiver.incarnation {
		w.drop(e, DropReceiverDown)
		return
	}
	if !e.arrived {
		sender := &w.nodes[e.from]
		if e.fromIncarnation != sender.incarnation && e.departAt > sender.crashedAt[e.fromIncarnation] {
			w.drop(e, DropSenderDown)
			return
		}
		if blocked, hold, reason := w.net.blocked(e.from, e.node); blocked {
			if hold {
				w.hold(e)
			} else {
				w.drop(e, reason)
			}
			return
		}
		e.arrived = true
	}
	if w.deferIfBusy(e) {
		return
	}
	size := len(e.payload)
	receiver.metrics.Received.add(size)
	w.metrics.Total.Received.add(size)
	w.metrics.Latency.Observe(w.now - e.sentAt)
	w.traceEvent(e)
	w.runHandler(e.node, func(h NodeHandler) { h.OnMessage(w.now, e.from, e.payload) })
}

func (w *World) fire(e *event) {
	n := &w.nodes[e.node]
	if !n.up {
		return
	}
	if gen, ok := n.timers[e.timerID]; !ok || gen != e.generation {
		return // replaced or cancelled
	}
	if w.deferIfBusy(e) {
		return
	}
	delete(n.timers, e.timerID) // before the handler, which may re-arm it
	n.metrics.Timers++
	w.metrics.Total.Timers++
	w.traceEvent(e)
	w.runHandler(e.node, func(h NodeHandler) { h.OnTimer(w.now, e.timerID) })
}

// deferIfBusy requeues an event for a node whose CPU is still busy, to the
// time it becomes free, and reports whether it did.
func (w *World) deferIfBusy(e *event) bool {
	n := &w.nodes[e.node]
	if n.busyUntil <= w.now {
		return false
	}
	e.at = n.busyUntil
	w.push(e)
	return true
}

func (w *World) runHandler(node NodeID, call func(NodeHandler)) {
	n := &w.nodes[node]
	if n.busyUntil < w.now {
		n.busyUntil = w.now
	}
	w.inHandler, w.current = true, node
	defer func() { w.inHandler = false }()
	call(n.handler)
}
