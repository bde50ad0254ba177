package driver

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// deliveryMarkPrefix | chain u32 | dest u32: the delivery mark of a
// transaction chain this node runs toward one destination chain (node
// record, see "Storage" in doc.go): height u64, the lowest committed height
// of the chain whose outer relays to dest this member may still have to
// send. Every package to dest of a lower height was acknowledged by the
// destination member this member sends to. A mark per destination lets a
// destination that stays silent hold back only its own relays: after a
// restart the others are not sent again.
//
// deliveryMarkPrefix | chain u32 alone is the one mark for every
// destination that earlier versions wrote; a destination with no mark of
// its own starts from it.
const deliveryMarkPrefix = "outbox/"

func deliveryMarkKey(chain, dest types.ChainID) []byte {
	return binary.BigEndian.AppendUint32(chainDeliveryMarkKey(chain), uint32(dest))
}

func chainDeliveryMarkKey(chain types.ChainID) []byte {
	return binary.BigEndian.AppendUint32([]byte(deliveryMarkPrefix), uint32(chain))
}

func encodeDeliveryMark(h types.Height) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(h))
}

func decodeDeliveryMark(b []byte) (types.Height, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("delivery mark of %d bytes, want 8: %w", len(b), storage.ErrCorruption)
	}
	return types.Height(binary.BigEndian.Uint64(b)), nil
}

// readMarkRecord reads one mark record; ok is false when there is none.
func readMarkRecord(db *storage.DB, key []byte) (types.Height, bool, error) {
	b, err := db.Record(key)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	mark, err := decodeDeliveryMark(b)
	if err != nil {
		return 0, false, err
	}
	return mark, true, nil
}

// readDeliveryMarks returns chain's stored delivery mark toward each of
// dests: its own, or the chain's former single mark; a destination with
// neither is absent from the map.
func readDeliveryMarks(db *storage.DB, chain types.ChainID, dests []types.ChainID) (map[types.ChainID]types.Height, error) {
	shared, sharedOK, err := readMarkRecord(db, chainDeliveryMarkKey(chain))
	if err != nil {
		return nil, fmt.Errorf("read delivery mark of chain %d: %w", chain, err)
	}
	marks := make(map[types.ChainID]types.Height, len(dests))
	for _, d := range dests {
		m, ok, err := readMarkRecord(db, deliveryMarkKey(chain, d))
		switch {
		case err != nil:
			return nil, fmt.Errorf("read delivery mark of chain %d toward chain %d: %w", chain, d, err)
		case ok:
			marks[d] = m
		case sharedOK:
			marks[d] = shared
		}
	}
	return marks, nil
}

// writeDeliveryMarks stores chain's delivery marks toward the destinations
// of marks in one batch of their own: they need not be atomic with
// anything, since a mark that lags only makes a restarted node send more
// again.
func writeDeliveryMarks(db *storage.DB, chain types.ChainID, marks map[types.ChainID]types.Height) error {
	b := db.NewBatch()
	defer b.Close()
	for d, m := range marks {
		if err := b.PutRecord(deliveryMarkKey(chain, d), encodeDeliveryMark(m)); err != nil {
			return fmt.Errorf("write delivery mark of chain %d toward chain %d: %w", chain, d, err)
		}
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("write delivery marks of chain %d: %w", chain, err)
	}
	return nil
}

// outboxReader returns the header of committed height h of the chain (the
// synthetic empty header for EMPTY) and the packages of its outer relays
// (relay.Outbox; none for an EMPTY height or a block without outer
// relays).
type outboxReader func(h types.Height) (types.Header, []relay.Addressed, error)

// relayBacklog is what a source member still has to deliver of its
// chain's outer relays: the packages of committed heights that the
// destination member it sends to has not acknowledged. Only part of it is
// in memory; the rest stays in the store, as committed blocks, and is read
// back as room frees. It holds no lock and reads nothing itself: the relay
// loop owns it and passes an outboxReader.
//
// Each destination chain has a stream: next is the first height it has not
// read (below it, each of its packages is in memory or was acknowledged),
// and it reads further heights only while it holds fewer than perDest
// packages. So a destination that stays unreachable fills its own stream
// and stops it there, while the relays to the other chains go on, and the
// memory held is at most perDest packages per destination, plus the rest
// of the last block read. Streams at the same height share its read.
//
// The delivery mark of a stream, the lowest height it may still have to
// send something of, is min(its next, every height holding one of its
// packages in memory): below it every package to its destination was
// acknowledged (or given up, logged: a block its recorder recorded
// otherwise, a destination without committee), or there was none. It only
// moves up: acknowledgements only release packages, and a stream reads
// upwards. The chain's mark is the lowest of the streams'.
type relayBacklog struct {
	perDest int
	reads   int
	// head is the highest committed height known.
	head    types.Height
	streams map[types.ChainID]*relayStream
	// blocks are the heights with packages in memory not acknowledged;
	// unsent those with packages not handed to relay.Pending yet.
	blocks map[types.Height]*heldBlock
	unsent map[types.Height]*heldBlock
	byID   map[types.Hash]*heldRelay
}

// relayStream is the delivery of the relays to one destination chain.
type relayStream struct {
	next types.Height
	held int
	// ackBy is the genesis node index of the destination member this
	// member sends to: only its acknowledgements release a package.
	ackBy int
	// reading is set while a height is taken for this stream.
	reading bool
}

// heldBlock is a committed height with packages in memory.
type heldBlock struct {
	height types.Height
	header types.Header
	hash   types.Hash
	relays []*heldRelay
	left   int // relays not acknowledged
	// confirmed: the chain's recorder recorded this block (hash) on this
	// node, so its packages may be sent.
	confirmed bool
}

// heldRelay is one package in memory.
type heldRelay struct {
	a     relay.Addressed
	block *heldBlock
	// lifted: the package carries its lift (relayState.lift), or needs
	// none.
	lifted bool
	queued bool // handed to relay.Pending
	done   bool // acknowledged, or given up
}

// newRelayBacklog starts each stream at its height in from (the stored
// delivery marks; 1 for a destination absent from it) with the chain
// committed up to head. dests gives, for each chain relays may go to, the
// node whose acknowledgements count.
func newRelayBacklog(from map[types.ChainID]types.Height, head types.Height, dests map[types.ChainID]int, perDest, reads int) *relayBacklog {
	b := &relayBacklog{
		perDest: max(perDest, 1),
		reads:   max(reads, 1),
		head:    head,
		streams: make(map[types.ChainID]*relayStream, len(dests)),
		blocks:  map[types.Height]*heldBlock{},
		unsent:  map[types.Height]*heldBlock{},
		byID:    map[types.Hash]*heldRelay{},
	}
	for d, node := range dests {
		b.streams[d] = &relayStream{next: min(max(from[d], 1), head+1), ackBy: node}
	}
	return b
}

// committed notes that height h is committed (and in the store).
func (b *relayBacklog) committed(h types.Height) {
	b.head = max(b.head, h)
}

// fill reads the outboxes of the next heights for the streams with room,
// at most b.reads heights. more reports that it stopped on that budget with
// heights left to read. After a read error it stops; the height is read
// again at the next call.
func (b *relayBacklog) fill(read outboxReader) (more bool, skipped int, err error) {
	for range b.reads {
		h, ok := b.nextRead()
		if !ok {
			return false, skipped, nil
		}
		header, pkgs, err := read(h)
		if err != nil {
			return false, skipped, fmt.Errorf("outbox of height %d: %w", h, err)
		}
		skipped += b.take(&header, pkgs)
	}
	_, more = b.nextRead()
	return more, skipped, nil
}

// nextRead returns the lowest height a stream with room has to read.
func (b *relayBacklog) nextRead() (types.Height, bool) {
	var h types.Height
	found := false
	for _, s := range b.streams {
		if s.held < b.perDest && s.next <= b.head && (!found || s.next < h) {
			h, found = s.next, true
		}
	}
	return h, found
}

// take files the packages of the block of header for the streams that read
// its height and moves them past it. It returns how many packages it
// skipped because their destination has no stream.
func (b *relayBacklog) take(header *types.Header, pkgs []relay.Addressed) (skipped int) {
	h := header.Height
	for _, s := range b.streams {
		s.reading = s.next == h && s.held < b.perDest
	}
	blk := b.blocks[h]
	for _, p := range pkgs {
		s := b.streams[p.Dest]
		if s == nil {
			skipped++
			continue
		}
		if !s.reading {
			continue
		}
		id := p.Package.Message.ID()
		if _, dup := b.byID[id]; dup {
			// The same message twice: one delivery consumes both.
			continue
		}
		if blk == nil {
			blk = &heldBlock{height: h, header: *header, hash: header.Hash()}
			b.blocks[h] = blk
		}
		r := &heldRelay{a: p, block: blk}
		blk.relays = append(blk.relays, r)
		blk.left++
		b.byID[id] = r
		b.unsent[h] = blk
		s.held++
	}
	for _, s := range b.streams {
		if s.reading {
			s.next, s.reading = h+1, false
		}
	}
	return skipped
}

// ack releases the packages of ids that node acknowledged and returns the
// IDs it released: only the destination member a package was sent to
// acknowledges it.
func (b *relayBacklog) ack(node int, ids []types.Hash) []types.Hash {
	return b.ackEach(node, ids, nil)
}

// ackEach is ack that also hands each package it releases to released
// (when not nil), so the caller can account for it without hashing the
// message again or keeping anything beside the backlog.
func (b *relayBacklog) ackEach(node int, ids []types.Hash, released func(*heldRelay)) []types.Hash {
	var out []types.Hash
	for _, id := range ids {
		r, ok := b.byID[id]
		if !ok || b.streams[r.a.Dest].ackBy != node {
			continue
		}
		b.release(r)
		if released != nil {
			released(r)
		}
		out = append(out, id)
	}
	return out
}

// release forgets a package: acknowledged, or never deliverable.
func (b *relayBacklog) release(r *heldRelay) {
	if r.done {
		return
	}
	r.done = true
	delete(b.byID, r.a.Package.Message.ID())
	b.streams[r.a.Dest].held--
	blk := r.block
	blk.left--
	if blk.left == 0 {
		delete(b.blocks, blk.height)
		delete(b.unsent, blk.height)
	}
}

// drop gives up the packages of blk that are still held and returns their
// IDs.
func (b *relayBacklog) drop(blk *heldBlock) []types.Hash {
	var ids []types.Hash
	for _, r := range blk.relays {
		if !r.done {
			ids = append(ids, r.a.Package.Message.ID())
			b.release(r)
		}
	}
	return ids
}

// unsentBlocks returns the blocks with packages not handed to
// relay.Pending yet, by height.
func (b *relayBacklog) unsentBlocks() []*heldBlock {
	out := make([]*heldBlock, 0, len(b.unsent))
	for _, blk := range b.unsent {
		out = append(out, blk)
	}
	slices.SortFunc(out, func(x, y *heldBlock) int { return cmp.Compare(x.height, y.height) })
	return out
}

// settle takes blk out of the unsent blocks once each of its packages is
// queued or done.
func (b *relayBacklog) settle(blk *heldBlock) {
	for _, r := range blk.relays {
		if !r.done && !r.queued {
			return
		}
	}
	delete(b.unsent, blk.height)
}

// markOf returns the delivery mark of the stream to dest: every package
// to dest of a lower height was acknowledged (or there was none).
func (b *relayBacklog) markOf(dest types.ChainID) types.Height {
	s, ok := b.streams[dest]
	if !ok {
		return b.head + 1
	}
	m := min(s.next, b.head+1)
	for h, blk := range b.blocks {
		if h >= m {
			continue
		}
		for _, r := range blk.relays {
			if !r.done && r.a.Dest == dest {
				m = h
				break
			}
		}
	}
	return m
}

// marks returns the delivery mark of every stream.
func (b *relayBacklog) marks() map[types.ChainID]types.Height {
	out := make(map[types.ChainID]types.Height, len(b.streams))
	for d := range b.streams {
		out[d] = b.markOf(d)
	}
	return out
}

// mark returns the chain's delivery mark, the lowest of the streams':
// every package of a lower height was acknowledged (or there was none).
func (b *relayBacklog) mark() types.Height {
	m := b.head + 1
	for d := range b.streams {
		m = min(m, b.markOf(d))
	}
	return m
}

// unread returns the number of committed heights s has not read yet: their
// relays for s's destination are only in the store.
func (b *relayBacklog) unread(s *relayStream) types.Height {
	if s.next > b.head {
		return 0
	}
	return b.head + 1 - s.next
}

// lag returns the number of committed heights from the delivery mark up.
func (b *relayBacklog) lag() types.Height {
	return b.head + 1 - b.mark()
}
