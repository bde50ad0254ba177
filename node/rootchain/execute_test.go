package rootchain

import (
	"errors"
	"slices"
	"testing"

	"github.com/thinkey/thinkey/node/types"
	"pgregory.net/rapid"
)

// scenario is a state with child histories partly recorded, and a pending
// list holding every history record (the recorded ones are stale) mixed
// with invalid and duplicate records.
type scenario struct {
	st      *State
	c       fakeCommittees
	hist    map[types.ChainID][]Record
	start   map[types.ChainID]int // records already recorded per chain
	pending []Record
	stale   int // distinct stale history records in pending
}

func drawScenario(t *rapid.T) *scenario {
	n := rapid.IntRange(1, 5).Draw(t, "chains")
	topo := mustUniform(t, n)
	g := genesisOf(topo)
	s := &scenario{c: committeesFor(topo, types.RootChain), hist: map[types.ChainID][]Record{}, start: map[types.ChainID]int{}}
	st := mustState(t, topo, types.RootChain)
	var recorded []Record
	for id := types.ChainID(1); id <= types.ChainID(n); id++ {
		l := rapid.IntRange(0, 6).Draw(t, "length")
		empty := map[int]bool{}
		for _, h := range rapid.SliceOfN(rapid.IntRange(1, 6), 0, 3).Draw(t, "empty heights") {
			empty[h] = true
		}
		s.hist[id] = history(t, g[id], l, empty, byte(id)*32)
		s.start[id] = rapid.IntRange(0, l).Draw(t, "recorded")
		recorded = append(recorded, s.hist[id][:s.start[id]]...)
	}
	res, err := Execute(st, recorded, s.c, Limits{})
	if err != nil || len(res.Body.Records) != len(recorded) {
		t.Fatalf("recording the prefixes: %v, %d of %d records", err, len(res.Body.Records), len(recorded))
	}
	s.st = res.State

	for _, recs := range s.hist {
		s.pending = append(s.pending, recs...)
	}
	all := slices.Clone(s.pending)
	if len(all) > 0 {
		for range rapid.IntRange(0, 6).Draw(t, "noise") {
			r := all[rapid.IntRange(0, len(all)-1).Draw(t, "noise of")]
			switch rapid.IntRange(0, 5).Draw(t, "noise kind") {
			case 0: // another valid certificate of the same block
				r = certify(t, r.Header, 1, 2, 3)
			case 1: // a forged signature
				r.Certificate.AggregateSignature[0] ^= 1
			case 2: // a certificate below quorum
				r = certify(t, r.Header, 0, 1)
			case 3: // a fork that does not extend the parent
				h := r.Header
				h.ParentHash = filled(0x5a)
				h.Empty = false
				h.InputRoot = filled(0x33)
				r = certify(t, h)
			case 4: // a record of a chain the recorder does not know
				h := r.Header
				h.ChainID = types.ChainID(n + 1)
				r = certify(t, h)
			case 5: // the same record again
			}
			s.pending = append(s.pending, r)
		}
	}
	// Every distinct pending record of a child at or below its tip is
	// stale.
	seen := map[string]bool{}
	for i := range s.pending {
		r := &s.pending[i]
		start, known := s.start[r.Header.ChainID]
		if enc := string(encodeOf(t, r)); known && r.Header.Height <= types.Height(start) && !seen[enc] {
			seen[enc] = true
			s.stale++
		}
	}
	return s
}

// shuffled returns a permutation of recs with some duplicated.
func shuffled(t *rapid.T, recs []Record, label string) []Record {
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	var out []Record
	for _, i := range rapid.Permutation(order).Draw(t, label) {
		out = append(out, recs[i])
	}
	if len(recs) > 0 {
		for range rapid.IntRange(0, 3).Draw(t, label+" duplicates") {
			out = append(out, recs[rapid.IntRange(0, len(recs)-1).Draw(t, label+" duplicate")])
		}
	}
	return out
}

// TestExecuteProperty: Execute's block verifies and applies to the same
// state; it is the same block for any order of the pending records and
// with duplicates; it holds per chain exactly the next records of the
// chain's history, as many as the limit allows, shared out round by round.
func TestExecuteProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawScenario(t)
		limit := rapid.IntRange(0, len(s.pending)+1).Draw(t, "limit")
		lim := Limits{MaxRecords: limit}
		res, err := Execute(s.st, shuffled(t, s.pending, "order A"), s.c, lim)
		if err != nil {
			t.Fatal(err)
		}
		header := headerFor(s.st, &res)
		verified, err := Verify(s.st, &header, &res.Body, s.c)
		if err != nil {
			t.Fatalf("Execute's block does not verify: %v", err)
		}
		applied, err := Apply(s.st, &header, &res.Body)
		if err != nil {
			t.Fatalf("Execute's block does not apply: %v", err)
		}
		if !res.State.Equal(verified.State) || !res.State.Equal(applied.State) || res.StateRoot != verified.StateRoot {
			t.Fatal("Execute, Verify and Apply give different states")
		}

		again, err := Execute(s.st, shuffled(t, s.pending, "order B"), s.c, lim)
		if err != nil {
			t.Fatal(err)
		}
		if !bodiesEqual(t, &res.Body, &again.Body) || res.InputRoot != again.InputRoot || res.StateRoot != again.StateRoot {
			t.Fatal("the block depends on the order of the pending records")
		}
		if !slices.EqualFunc(res.Rejected, again.Rejected, func(a, b *RecordError) bool {
			return a.Reason == b.Reason && a.Chain == b.Chain && a.Height == b.Height
		}) {
			t.Fatal("the rejections depend on the order of the pending records")
		}

		// The oracle: per chain the next records of its history.
		counts := map[types.ChainID]int{}
		for _, r := range res.Body.Records {
			id := r.Header.ChainID
			want := s.hist[id][s.start[id]+counts[id]].Header
			if r.Header != want {
				t.Fatalf("record %d/%d is not the chain's history", id, r.Header.Height)
			}
			counts[id]++
		}
		total, available := 0, 0
		for id, recs := range s.hist {
			available += len(recs) - s.start[id]
			total += counts[id]
		}
		max := limit
		if max == 0 {
			max = MaxRecords
		}
		if total != min(max, available) {
			t.Fatalf("%d records in the block, want %d", total, min(max, available))
		}
		for i, recs := range s.hist {
			if counts[i] == len(recs)-s.start[i] {
				continue
			}
			for j := range s.hist {
				if counts[j] > counts[i]+1 {
					t.Fatalf("chain %d got %d records while truncated chain %d got %d", j, counts[j], i, counts[i])
				}
			}
		}

		stale := 0
		for _, e := range res.Rejected {
			switch {
			case errors.Is(e, ErrStale):
				stale++
			case errors.Is(e, ErrBadSignature), errors.Is(e, ErrCertificate), errors.Is(e, ErrParentMismatch), errors.Is(e, ErrNotChild):
			default:
				t.Fatalf("unexpected rejection %v", e)
			}
			if e.Index < 0 {
				t.Fatalf("rejection %v names no pending record", e)
			}
		}
		if stale != s.stale {
			t.Fatalf("%d stale records reported, want %d", stale, s.stale)
		}
	})
}

func TestExecuteTakesChainsRoundByRound(t *testing.T) {
	topo := mustUniform(t, 3)
	g := genesisOf(topo)
	st := mustState(t, topo, types.RootChain)
	var pending []Record
	for id := types.ChainID(1); id <= 3; id++ {
		pending = append(pending, history(t, g[id], 4, nil, byte(id)*16)...)
	}
	res, err := Execute(st, pending, committeesFor(topo, types.RootChain), Limits{MaxRecords: 5})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Body.Records {
		got = append(got, string(rune('0'+r.Header.ChainID))+"/"+string(rune('0'+r.Header.Height)))
	}
	want := []string{"1/1", "1/2", "2/1", "2/2", "3/1"}
	if !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
}

func TestExecutePicksValidAmongCompeting(t *testing.T) {
	topo := mustUniform(t, 1)
	g := genesisOf(topo)
	st := mustState(t, topo, types.RootChain)
	c := committeesFor(topo, types.RootChain)
	good := history(t, g[1], 2, map[int]bool{1: true}, 0)
	forged := good[0]
	forged.Certificate.AggregateSignature[1] ^= 1
	wrongEmpty := good[0].Header
	wrongEmpty.TimestampMillis++
	res, err := Execute(st, []Record{forged, certify(t, wrongEmpty), good[1], good[0], good[1]}, c, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Body.Records) != 2 || res.Body.Records[0] != good[0] || res.Body.Records[1] != good[1] {
		t.Fatalf("body %+v", res.Body.Records)
	}
	reasons := map[error]bool{}
	for _, e := range res.Rejected {
		reasons[e.Reason] = true
	}
	if !reasons[ErrEmptyMismatch] {
		t.Fatalf("the mismatched EMPTY record is not rejected: %v", res.Rejected)
	}
}

func TestExecuteWaitsAtAGap(t *testing.T) {
	topo := mustUniform(t, 1)
	g := genesisOf(topo)
	st := mustState(t, topo, types.RootChain)
	recs := history(t, g[1], 3, nil, 0)
	res, err := Execute(st, []Record{recs[2], recs[1]}, committeesFor(topo, types.RootChain), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Body.Records) != 0 || len(res.Rejected) != 0 {
		t.Fatalf("records beyond a gap: %d taken, rejected %v", len(res.Body.Records), res.Rejected)
	}
	if res.State != st || res.InputRoot != mustEmptyRoot() {
		t.Fatal("an empty block changed the state or has another record root")
	}
	if _, err := Execute(nil, nil, fakeCommittees{}, Limits{}); err == nil {
		t.Fatal("Execute without a state")
	}
}
