package relay

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// DefaultInboxSize is the number of packages an Inbox holds when its
// configured size is not positive.
const DefaultInboxSize = 1 << 15

// MaxAlternatives is the most distinct proofs an Inbox keeps for one
// message. Anyone who knows a relay can send it with a proof of a header
// that will never be confirmed; such a proof waits (ErrNotConfirmed) rather
// than fails, so if the first proof to arrive were the only one kept, one
// forged package would block the relay for good. With a few alternatives,
// the newest replacing the oldest, the sender's re-sends get through unless
// forgeries keep arriving faster.
const MaxAlternatives = 4

// Inbox holds the packages that arrived for one destination chain and were
// not yet consumed by a committed block of it, keyed by message ID. It is
// bounded by the number of packages (proofs) held and not safe for
// concurrent use.
type Inbox struct {
	chain types.ChainID
	topo  *chains.Topology
	max   int
	size  int // proofs held, over all messages
	byID  map[types.Hash]*inboxEntry
	// order holds the entries of byID; sorted by compareEntries unless
	// unsorted.
	order    []*inboxEntry
	unsorted bool
}

type inboxEntry struct {
	id  types.Hash
	msg types.Message
	// height is the source height claimed by the first proof: with
	// msg.SourceChain and id, the entry's place in the order.
	height types.Height
	proofs []inboxProof // oldest first, at most MaxAlternatives
}

type inboxProof struct {
	raw   []byte
	proof anyProof
	// lastHash is the hash of a full proof's Last(), computed once: Ready
	// asks the anchors about it at every block until it is confirmed.
	lastHash types.Hash
	// checkedWith is the topology under which the proof's stateless rules
	// (check) held, nil before; they are not run again under it.
	checkedWith *chains.Topology
	// pathRoot is the recorded relay root a proof by reference's path was
	// found to lead to, zero before; the path is not hashed again for it.
	pathRoot types.Hash
}

// NewInbox returns an empty inbox of chain under topo holding at most size
// packages (DefaultInboxSize if size is not positive).
func NewInbox(chain types.ChainID, topo *chains.Topology, size int) *Inbox {
	if size <= 0 {
		size = DefaultInboxSize
	}
	return &Inbox{chain: chain, topo: topo, max: size, byID: make(map[types.Hash]*inboxEntry)}
}

// Len returns the number of messages held.
func (b *Inbox) Len() int { return len(b.byID) }

// Has reports whether a package of message id is held.
func (b *Inbox) Has(id types.Hash) bool {
	_, ok := b.byID[id]
	return ok
}

// Add keeps pkg until its message is consumed. It checks only what needs
// neither state nor Merkle paths: the proof decodes (either form), the
// message is an outer relay of the proof's source chain, a transaction
// chain, addressed to an account of this inbox's chain (errors wrapping
// ErrInvalid). A package already held is ignored; another proof of a held
// message is kept beside the others (MaxAlternatives). A package beyond
// the bound fails with ErrFull. The inbox keeps its own copy of the
// message and proof. Its source height, which orders Ready, is the one
// its first proof names (a reference's Height, a full proof's Source).
func (b *Inbox) Add(pkg Package) error {
	if b.topo == nil {
		return fmt.Errorf("relay inbox: %w", errNotConfigured)
	}
	p, err := decodeAnyProof(pkg.Proof)
	if err != nil {
		return fmt.Errorf("relay inbox: %w: %w", ErrInvalid, err)
	}
	sourceChain, sourceHeight := p.source()
	if err := checkAddressing(b.chain, b.topo, &pkg.Message, sourceChain); err != nil {
		return fmt.Errorf("relay inbox: %w", err)
	}
	id := pkg.Message.ID()
	e, held := b.byID[id]
	if held && slices.ContainsFunc(e.proofs, func(q inboxProof) bool { return bytes.Equal(q.raw, pkg.Proof) }) {
		return nil // a re-send
	}
	alt := inboxProof{raw: bytes.Clone(pkg.Proof), proof: p}
	if !p.byRef {
		alt.lastHash = p.full.Last().Hash()
	}
	if held {
		if len(e.proofs) == MaxAlternatives {
			copy(e.proofs, e.proofs[1:])
			e.proofs[len(e.proofs)-1] = alt
			return nil
		}
		if b.size >= b.max {
			return fmt.Errorf("relay inbox of chain %d: %w: %d packages", b.chain, ErrFull, b.size)
		}
		e.proofs = append(e.proofs, alt)
		b.size++
		return nil
	}
	if b.size >= b.max {
		return fmt.Errorf("relay inbox of chain %d: %w: %d packages", b.chain, ErrFull, b.size)
	}
	e = &inboxEntry{id: id, msg: pkg.Message.Clone(), height: sourceHeight, proofs: []inboxProof{alt}}
	b.byID[id] = e
	b.size++
	if n := len(b.order); n > 0 && compareEntries(e, b.order[n-1]) < 0 {
		b.unsorted = true
	}
	b.order = append(b.order, e)
	return nil
}

// compareEntries orders messages by (source chain, source height, ID).
func compareEntries(a, c *inboxEntry) int {
	return cmp.Or(
		cmp.Compare(a.msg.SourceChain, c.msg.SourceChain),
		cmp.Compare(a.height, c.height),
		bytes.Compare(a.id[:], c.id[:]),
	)
}

// Ready returns, in (source chain, source height, message ID) order, up to
// limit inputs whose packages verify now under v. Proofs that fail with
// ErrInvalid are dropped, and messages that fail with ErrConsumed or have
// no proof left; those waiting for their source to be confirmed, and those
// Ready returns, stay until Forget. The inputs share their messages and
// proofs with the inbox.
func (b *Inbox) Ready(v *Verifier, limit int) []exec.Input {
	if b.unsorted {
		slices.SortFunc(b.order, compareEntries)
		b.unsorted = false
	}
	out := make([]exec.Input, 0, max(0, min(limit, len(b.order))))
	kept := b.order[:0]
	for i, e := range b.order {
		if len(out) >= limit {
			kept = append(kept, b.order[i:]...)
			break
		}
		raw, consumed := b.ready(v, e)
		if consumed || len(e.proofs) == 0 { // ready has uncounted its proofs
			delete(b.byID, e.id)
			continue
		}
		if raw != nil {
			out = append(out, exec.Input{Message: e.msg, Proof: raw})
		}
		kept = append(kept, e)
	}
	clear(b.order[len(kept):])
	b.order = kept
	return out
}

// ready returns the first proof of e that verifies now, dropping those that
// never will; consumed reports that the message was consumed.
func (b *Inbox) ready(v *Verifier, e *inboxEntry) (raw []byte, consumed bool) {
	if v.Topology == nil || v.Anchors == nil || v.Consumed == nil || v.Chain != b.chain {
		return nil, false
	}
	kept := e.proofs[:0]
	for i := range e.proofs {
		q := &e.proofs[i]
		err := b.verify(v, e, q)
		if errors.Is(err, ErrConsumed) {
			b.size -= len(kept) + len(e.proofs) - i
			e.proofs = nil
			return nil, true
		}
		if errors.Is(err, ErrInvalid) {
			b.size--
			continue
		}
		kept = append(kept, *q)
		if err == nil {
			raw = q.raw
			kept = append(kept, e.proofs[i+1:]...)
			break
		}
	}
	clear(e.proofs[len(kept):])
	e.proofs = kept
	return raw, false
}

// verify runs v on one proof of e, its stateless rules once per topology
// and a reference's path once per recorded root.
func (b *Inbox) verify(v *Verifier, e *inboxEntry, q *inboxProof) error {
	if q.checkedWith != v.Topology {
		if err := check(v.Chain, v.Topology, &e.msg, &q.proof); err != nil {
			return err
		}
		q.checkedWith = v.Topology
	}
	if q.proof.byRef {
		return v.settleRef(e.id, &q.proof.ref, &q.pathRoot)
	}
	return v.settle(e.id, q.proof.full.Last(), q.lastHash)
}

// Forget drops the messages of ids, the relays a committed block consumed.
func (b *Inbox) Forget(ids []types.Hash) {
	n := len(b.byID)
	for _, id := range ids {
		if e, ok := b.byID[id]; ok {
			b.size -= len(e.proofs)
			delete(b.byID, id)
		}
	}
	if len(b.byID) == n {
		return
	}
	b.order = slices.DeleteFunc(b.order, func(e *inboxEntry) bool {
		_, ok := b.byID[e.id]
		return !ok
	})
}
