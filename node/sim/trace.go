package sim

import (
	"encoding/binary"
	"fmt"
	gohash "hash"

	"github.com/thinkey/thinkey/crypto/hash"
)

// Trace record kinds beyond the event kinds.
const (
	traceDropKind      = 0x80 // a copy dropped, with its reason
	traceDuplicateKind = 0x81 // an extra copy made by the network
	traceNoteKind      = 0x82 // a network change (partition, heal, cut, clog)
)

// traceHash is the running SHA-256 of a run. Each record is fixed-size and
// big-endian:
//
//	+------+----------+---------+---------+-----------+------------------+--------+
//	| kind | at (ns)  | node    | from    | timer ID  | payload SHA-256  | reason |
//	| 1 B  | 8 B, i64 | 4 B u32 | 4 B u32 | 8 B u64   | 32 B             | 1 B    |
//	+------+----------+---------+---------+-----------+------------------+--------+
//
// Fields a kind does not use are zero; a note hashes its text in the digest
// field.
type traceHash struct {
	h   gohash.Hash
	buf [58]byte
}

func (t *traceHash) init() { t.h = hash.New() }

func (t *traceHash) sum() hash.Digest {
	var d hash.Digest
	t.h.Sum(d[:0])
	return d
}

func (t *traceHash) record(kind byte, at int64, node, from NodeID, timerID uint64, digest *hash.Digest, reason byte) {
	b := t.buf[:]
	b[0] = kind
	binary.BigEndian.PutUint64(b[1:], uint64(at))
	binary.BigEndian.PutUint32(b[9:], uint32(node))
	binary.BigEndian.PutUint32(b[13:], uint32(from))
	binary.BigEndian.PutUint64(b[17:], timerID)
	if digest != nil {
		copy(b[25:57], digest[:])
	} else {
		clear(b[25:57])
	}
	b[57] = reason
	t.h.Write(b)
}

// traceEvent records a processed event.
func (w *World) traceEvent(e *event) {
	switch e.kind {
	case eventDeliver:
		w.trace.record(byte(e.kind), int64(w.now), e.node, e.from, 0, &e.digest, 0)
		if w.cfg.Trace != nil {
			w.traceLine("%v deliver %d->%d len=%d sha=%.16s sent=%v", w.now, e.from, e.node, len(e.payload), e.digest, e.sentAt)
		}
	case eventTimer:
		w.trace.record(byte(e.kind), int64(w.now), e.node, 0, e.timerID, nil, 0)
		if w.cfg.Trace != nil {
			w.traceLine("%v timer node=%d id=%d", w.now, e.node, e.timerID)
		}
	case eventBoot, eventCrashNotice:
		w.trace.record(byte(e.kind), int64(w.now), e.node, 0, 0, nil, 0)
		if w.cfg.Trace != nil {
			w.traceLine("%v %v node=%d", w.now, e.kind, e.node)
		}
	case eventScript:
		w.trace.record(byte(e.kind), int64(w.now), 0, 0, 0, nil, 0)
		if w.cfg.Trace != nil {
			w.traceLine("%v script", w.now)
		}
	default:
		w.trace.record(byte(e.kind), int64(w.now), e.node, 0, 0, nil, 0)
		if w.cfg.Trace != nil {
			w.traceLine("%v event kind=%d node=%d", w.now, e.kind, e.node)
		}
	}
}

func (w *World) traceDrop(e *event, reason DropReason) {
	w.trace.record(traceDropKind, int64(w.now), e.node, e.from, 0, &e.digest, byte(reason))
	if w.cfg.Trace != nil {
		w.traceLine("%v drop %d->%d len=%d sha=%.16s reason=%v", w.now, e.from, e.node, len(e.payload), e.digest, reason)
	}
}

func (w *World) traceDuplicate(e *event) {
	w.trace.record(traceDuplicateKind, int64(w.now), e.node, e.from, 0, &e.digest, 0)
	if w.cfg.Trace != nil {
		w.traceLine("%v duplicate %d->%d len=%d sha=%.16s", w.now, e.from, e.node, len(e.payload), e.digest)
	}
}

func (w *World) traceScriptNote(note string) {
	d := hash.Sum256([]byte(note))
	w.trace.record(traceNoteKind, int64(w.now), 0, 0, 0, &d, 0)
	if w.cfg.Trace != nil {
		w.traceLine("%v %s", w.now, note)
	}
}

// traceLine writes one line to the configured trace writer; a failed write
// stops the run.
func (w *World) traceLine(format string, args ...any) {
	if w.cfg.Trace == nil || w.err != nil {
		return
	}
	if _, err := fmt.Fprintf(w.cfg.Trace, format+"\n", args...); err != nil {
		w.fail(fmt.Errorf("%w: %w", ErrTrace, err))
	}
}
