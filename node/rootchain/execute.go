package rootchain

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/types"
)

// Limits are the leader's bounds on the block Execute builds.
type Limits struct {
	// MaxRecords is the most records in the block; 0, or a value above
	// MaxRecords, means MaxRecords.
	MaxRecords int
}

func (l Limits) maxRecords() int {
	if l.MaxRecords <= 0 || l.MaxRecords > MaxRecords {
		return MaxRecords
	}
	return l.MaxRecords
}

// candidate is a pending record with the hashes that order it.
type candidate struct {
	rec        *Record
	index      int
	headerHash types.Hash
	certHash   types.Hash
}

func compareCandidates(a, b *candidate) int {
	if c := compareKeys(key{a.rec.Header.ChainID, a.rec.Header.Height}, key{b.rec.Header.ChainID, b.rec.Header.Height}); c != 0 {
		return c
	}
	if c := bytes.Compare(a.headerHash[:], b.headerHash[:]); c != 0 {
		return c
	}
	return bytes.Compare(a.certHash[:], b.certHash[:])
}

// run is one child chain's progress while Execute fills the block.
type run struct {
	pos    int
	tip    *tip
	cands  []candidate // this chain's candidates above its tip, in order
	next   int         // first candidate not looked at yet
	picked []candidate
	done   bool
}

// Execute builds a recorder block (the leader's side) from pending
// records, in any order and with any duplicates. Per child chain it takes
// the longest run of records that extends the chain's tip one height at a
// time and passes every check of Verify; records of unknown chains, stale,
// or invalid ones are left out and listed in Result.Rejected, records
// beyond a gap are left out silently (they may fit once the gap is
// filled). When several valid records compete for one height (two
// certificates of one block), the one with the smallest (header hash,
// certificate hash) is taken.
//
// When the runs hold more than limits allow, the block takes them round
// by round, one height per chain in chain order per round, so that no
// chain starves the others. The body, its roots and the state after it
// depend only on the state, the set of pending records and the limits:
// not on the order of pending, its duplicates or the Rejected indices.
//
// Execute checks each record's certificate through c once the cheap checks
// passed, so a record that does not make the block because of the limits
// costs nothing. It fails only on a missing state or committees.
func Execute(st *State, pending []Record, c Committees, limits Limits) (Result, error) {
	if st == nil || c == nil {
		return Result{}, fmt.Errorf("rootchain execute: missing state or committees")
	}
	cands := make([]candidate, len(pending))
	for i := range pending {
		r := &pending[i]
		cands[i] = candidate{rec: r, index: i, headerHash: r.Header.Hash(), certHash: r.Certificate.Hash()}
	}
	// Stable, so that of identical records the first one offered stays.
	slices.SortStableFunc(cands, func(a, b candidate) int { return compareCandidates(&a, &b) })
	cands = slices.CompactFunc(cands, func(a, b candidate) bool { return compareCandidates(&a, &b) == 0 })

	var res Result
	var runs []*run
	for lo := 0; lo < len(cands); {
		chain := cands[lo].rec.Header.ChainID
		hi := lo + 1
		for hi < len(cands) && cands[hi].rec.Header.ChainID == chain {
			hi++
		}
		group := cands[lo:hi]
		lo = hi
		pos, ok := st.index[chain]
		if !ok {
			for _, cd := range group {
				res.Rejected = append(res.Rejected, recordErr(ErrNotChild, cd.rec, cd.index, nil, "recorder chain %d", st.recorder))
			}
			continue
		}
		t := st.tips[pos]
		fresh := 0
		for fresh < len(group) && group[fresh].rec.Header.Height <= t.header.Height {
			cd := group[fresh]
			res.Rejected = append(res.Rejected, recordErr(ErrStale, cd.rec, cd.index, nil, "tip is at height %d", t.header.Height))
			fresh++
		}
		if fresh < len(group) {
			runs = append(runs, &run{pos: pos, tip: t, cands: group[fresh:]})
		}
	}

	limit, total := limits.maxRecords(), 0
	for active := len(runs) > 0; active && total < limit; {
		active = false
		for _, r := range runs {
			if total == limit {
				break
			}
			if r.done {
				continue
			}
			if r.extend(c, &res.Rejected) {
				total++
			}
			active = active || !r.done
		}
	}

	leaves := make([]types.Hash, 0, total)
	updates := make(map[int]*tip, len(runs))
	res.Body.Records = make([]Record, 0, total)
	for _, r := range runs {
		if len(r.picked) == 0 {
			continue
		}
		for _, cd := range r.picked {
			res.Body.Records = append(res.Body.Records, *cd.rec)
			leaves = append(leaves, headerLeaf(&cd.headerHash))
		}
		updates[r.pos] = r.tip
	}
	res.State = st.next(updates)
	res.InputRoot = merkle.RootFromLeafHashes(leaves)
	res.StateRoot = res.State.root
	return res, nil
}

// extend takes the first valid candidate for the height after the run's
// tip, recording the invalid ones it tries. It reports whether it took
// one; when none is left for that height the run is done.
func (r *run) extend(c Committees, rejected *[]*RecordError) bool {
	want := r.tip.header.Height + 1
	for r.next < len(r.cands) {
		cd := r.cands[r.next]
		h := cd.rec.Header.Height
		if h < want {
			// Another record for a height already taken.
			r.next++
			continue
		}
		if h > want {
			break
		}
		r.next++
		if err := checkCandidate(r.tip, &cd, c); err != nil {
			*rejected = append(*rejected, err)
			continue
		}
		r.picked = append(r.picked, cd)
		r.tip = tipOf(&cd.rec.Header, &cd.headerHash)
		return true
	}
	r.done = true
	return false
}

// checkCandidate makes Verify's checks of one record, signature last.
func checkCandidate(t *tip, cd *candidate, c Committees) *RecordError {
	r := cd.rec
	if err := r.validateBasic(&cd.headerHash); err != nil {
		return recordErr(ErrMalformedRecord, r, cd.index, err, "")
	}
	if err := t.extendedBy(r, &cd.headerHash, cd.index); err != nil {
		return err
	}
	if err := checkCertificateShape(r, cd.index, c); err != nil {
		return err
	}
	if !c.VerifyCertificate(r.Header.ChainID, &r.Certificate) {
		return recordErr(ErrBadSignature, r, cd.index, nil, "")
	}
	return nil
}
