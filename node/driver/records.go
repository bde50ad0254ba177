package driver

import (
	"context"
	"time"

	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// recordSender takes the digest records of a chain's committed heights to
// the committee of the chain that records them (its parent: the root, or
// a coordinator): each goes to this node's runner of the parent and to the
// parent's members of this member's share (parent member j when j mod n
// equals this member's index, n the chain's committee size), and again to
// every parent member if it stays unrecorded for recordResend. Heights the
// parent has not recorded are read back from the store after a restart.
// One goroutine owns it.
type recordSender struct {
	r      *runner // the recorded chain
	parent *runner // its recorder
	// records are the records of committed heights the parent has not
	// recorded yet on this node, by height.
	records map[types.Height]*pendingRecord
}

type pendingRecord struct {
	rec  rootchain.Record
	sent time.Time // zero: not sent yet
}

func newRecordSender(r, parent *runner) *recordSender {
	return &recordSender{r: r, parent: parent, records: map[types.Height]*pendingRecord{}}
}

// committed files the record of a committed height.
func (s *recordSender) committed(rec rootchain.Record) {
	s.records[rec.Header.Height] = &pendingRecord{rec: rec}
}

// step forgets what the parent recorded, reads back what is missing, and
// sends what is due.
func (s *recordSender) step(ctx context.Context) {
	parent := s.parent.rootApp()
	chain := s.r.chain
	tip, _ := parent.Tip(chain)
	head, _ := s.r.app.head()
	for h := range s.records {
		if h <= tip.Height {
			delete(s.records, h)
		}
	}
	for h := tip.Height + 1; uint64(h) <= head.Height && h <= tip.Height+maxRecordsAhead; h++ {
		if _, ok := s.records[h]; ok {
			continue
		}
		sb, err := readStoredBlock(s.r.n.db, chain, h)
		if err != nil || sb.Decision == nil {
			s.r.log.Error("read record back", "height", h, "err", err)
			break
		}
		s.records[h] = &pendingRecord{rec: rootchain.Record{Header: sb.Header, Certificate: sb.Decision.Certificate}}
	}
	var fresh, stale []rootchain.Record
	now := time.Now()
	for _, p := range s.records {
		switch {
		case p.sent.IsZero():
			fresh = append(fresh, p.rec)
		case now.Sub(p.sent) > recordResend:
			stale = append(stale, p.rec)
		default:
			continue
		}
		p.sent = now
	}
	if len(fresh) > 0 {
		parent.addRecords(fresh)
		s.broadcast(ctx, fresh, false)
	}
	if len(stale) > 0 {
		parent.addRecords(stale)
		s.broadcast(ctx, stale, true)
	}
}

// broadcast sends records to the parent's members of this member's share,
// or to all of them.
func (s *recordSender) broadcast(ctx context.Context, recs []rootchain.Record, all bool) {
	r, parent := s.r, s.parent
	for start := 0; start < len(recs); start += MaxBatchRecords {
		chunk := recs[start:min(len(recs), start+MaxBatchRecords)]
		enc, err := (&RecordBatch{Records: chunk}).AppendBinary(appendEnvelope(nil, parent.chain))
		if err != nil {
			r.log.Error("encode record batch", "err", err)
			return
		}
		for j, peer := range parent.members {
			if types.ValidatorIndex(j) == parent.self || (!all && j%len(r.members) != int(r.self)) {
				continue
			}
			if err := r.n.sendTo(ctx, peer, enc, sendWait); err != nil {
				r.m.dropped.WithLabelValues(dropSendFailed).Inc()
				continue
			}
			r.m.messagesOut.WithLabelValues("record_batch").Inc()
		}
	}
}

// recordLoop is a coordinator chain's link to the root: it sends its
// records with a recordSender.
func (a *rootApp) recordLoop(ctx context.Context) {
	tick := time.NewTicker(relayTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case rec := <-a.ownRecords:
			a.sender.committed(rec)
			a.sender.step(ctx)
		case <-a.parentMoved:
			a.sender.step(ctx)
		case <-tick.C:
			a.sender.step(ctx)
		}
	}
}
