package rootchain

import (
	"errors"
	"slices"
	"testing"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/types"
)

// fixture is a valid recorder block over the root of a topology of three
// transaction chains: chain 1 at heights 1, 2 (EMPTY) and 3, chain 2 at
// height 1, nothing of chain 3.
type fixture struct {
	topo    *chains.Topology
	genesis map[types.ChainID]types.Header
	st      *State
	c       fakeCommittees
	header  types.Header
	body    Body
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{topo: mustUniform(t, 3)}
	f.genesis = genesisOf(f.topo)
	f.st = mustState(t, f.topo, types.RootChain)
	f.c = committeesFor(f.topo, types.RootChain)
	recs := history(t, f.genesis[1], 3, map[int]bool{2: true}, 0x10)
	recs = append(recs, history(t, f.genesis[2], 1, nil, 0x50)...)
	res, err := Execute(f.st, recs, f.c, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Body.Records) != 4 || len(res.Rejected) != 0 {
		t.Fatalf("fixture block has %d records, %d rejected", len(res.Body.Records), len(res.Rejected))
	}
	f.body = res.Body
	f.header = headerFor(f.st, &res)
	return f
}

// rec returns the record at position i of the body.
func (f *fixture) rec(i int) *Record { return &f.body.Records[i] }

func TestVerifyRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, f *fixture)
		want   error
		// applyAccepts: Apply, which checks no certificate, accepts the
		// block.
		applyAccepts bool
	}{
		{name: "valid", mutate: func(*testing.T, *fixture) {}, applyAccepts: true},
		{
			name:   "header of another chain",
			mutate: func(_ *testing.T, f *fixture) { f.header.ChainID = 1 },
			want:   ErrWrongChain,
		},
		{
			name: "chain not a child",
			mutate: func(t *testing.T, f *fixture) {
				g := types.Header{Version: types.HeaderVersion, ChainID: 99}
				f.body.Records = append(f.body.Records, certify(t, blockAfter(&g, 1)))
			},
			want: ErrNotChild,
		},
		{
			name: "chain is the recorder itself",
			mutate: func(t *testing.T, f *fixture) {
				g := f.genesis[types.RootChain]
				f.body.Records = slices.Insert(f.body.Records, 0, certify(t, blockAfter(&g, 1)))
			},
			want: ErrNotChild,
		},
		{
			name: "height gap",
			mutate: func(t *testing.T, f *fixture) {
				h := blockAfter(&f.rec(3).Header, 7)
				f.body.Records[3] = certify(t, blockAfter(&h, 8))
			},
			want: ErrGap,
		},
		{
			name: "gap inside a chain's run",
			mutate: func(_ *testing.T, f *fixture) {
				f.body.Records = slices.Delete(f.body.Records, 1, 2)
			},
			want: ErrGap,
		},
		{
			name: "stale: block applied twice",
			mutate: func(t *testing.T, f *fixture) {
				res, err := Apply(f.st, &f.header, &f.body)
				if err != nil {
					t.Fatal(err)
				}
				f.st = res.State
			},
			want: ErrStale,
		},
		{
			name: "parent mismatch",
			mutate: func(t *testing.T, f *fixture) {
				h := f.rec(3).Header
				h.ParentHash = filled(0x77)
				f.body.Records[3] = certify(t, h)
			},
			want: ErrParentMismatch,
		},
		{
			name: "parent mismatch after an EMPTY record",
			mutate: func(t *testing.T, f *fixture) {
				g := f.genesis[1]
				h := f.rec(2).Header
				e := types.EmptyHeader(&g)
				h.ParentHash = e.Hash()
				f.body.Records[2] = certify(t, h)
			},
			want: ErrParentMismatch,
		},
		{
			name: "EMPTY record not EmptyHeader of the tip",
			mutate: func(t *testing.T, f *fixture) {
				h := f.rec(1).Header
				h.TimestampMillis++
				f.body.Records[1] = certify(t, h)
			},
			want: ErrEmptyMismatch,
		},
		{
			name: "EMPTY record with another state root",
			mutate: func(t *testing.T, f *fixture) {
				h := f.rec(1).Header
				h.StateRoot = filled(0x99)
				f.body.Records[1] = certify(t, h)
			},
			want: ErrEmptyMismatch,
		},
		{
			name: "certificate BlockHash mismatch",
			mutate: func(_ *testing.T, f *fixture) {
				f.rec(0).Certificate.BlockHash = filled(0x42)
				resign(f.rec(0))
			},
			want: ErrMalformedRecord,
		},
		{
			name: "certificate of another height",
			mutate: func(_ *testing.T, f *fixture) {
				f.rec(0).Certificate.Height = 2
				resign(f.rec(0))
			},
			want: ErrMalformedRecord,
		},
		{
			name: "certificate of another chain",
			mutate: func(_ *testing.T, f *fixture) {
				f.rec(3).Certificate.ChainID = 1
				resign(f.rec(3))
			},
			want: ErrMalformedRecord,
		},
		{
			name: "EMPTY record certificate names a block",
			mutate: func(_ *testing.T, f *fixture) {
				f.rec(1).Certificate.BlockHash = f.rec(1).Header.Hash()
				resign(f.rec(1))
			},
			want: ErrMalformedRecord,
		},
		{
			name: "EMPTY record not the shape of an empty header",
			mutate: func(t *testing.T, f *fixture) {
				h := f.rec(1).Header
				h.OuterRelayRoot = filled(3)
				f.body.Records[1] = certify(t, h)
			},
			want: ErrMalformedRecord,
		},
		{
			name: "genesis header recorded",
			mutate: func(t *testing.T, f *fixture) {
				f.body.Records = slices.Insert(f.body.Records, 3, certify(t, f.genesis[2]))
			},
			want: ErrMalformedRecord,
		},
		{
			name: "header version",
			mutate: func(_ *testing.T, f *fixture) {
				f.rec(0).Header.Version = 2
			},
			want: ErrMalformedRecord,
		},
		{
			name: "certificate without signature",
			mutate: func(_ *testing.T, f *fixture) {
				f.rec(0).Certificate.AggregateSignature = [types.BLSSignatureSize]byte{}
			},
			want: ErrMalformedRecord,
		},
		{
			name: "certificate below quorum",
			mutate: func(t *testing.T, f *fixture) {
				f.body.Records[0] = certify(t, f.rec(0).Header, 0, 1)
			},
			want:         ErrCertificate,
			applyAccepts: true,
		},
		{
			name: "certificate for a committee of another size",
			mutate: func(t *testing.T, f *fixture) {
				f.body.Records[0] = certifyN(t, f.rec(0).Header, 7, 0, 1, 2, 3, 4, 5)
			},
			want:         ErrCertificate,
			applyAccepts: true,
		},
		{
			name: "prepare certificate not signed by all",
			mutate: func(t *testing.T, f *fixture) {
				f.rec(0).Certificate.Kind = types.VotePrepare
				resign(f.rec(0))
			},
			want:         ErrCertificate,
			applyAccepts: true,
		},
		{
			name: "no committee known for the chain",
			mutate: func(_ *testing.T, f *fixture) {
				delete(f.c.sizes, 2)
			},
			want:         ErrCertificate,
			applyAccepts: true,
		},
		{
			name: "bad signature",
			mutate: func(_ *testing.T, f *fixture) {
				f.rec(2).Certificate.AggregateSignature[5] ^= 1
			},
			want:         ErrBadSignature,
			applyAccepts: true,
		},
		{
			name: "signature over other signers",
			mutate: func(t *testing.T, f *fixture) {
				sig := f.rec(2).Certificate.AggregateSignature
				f.body.Records[2] = certify(t, f.rec(2).Header, 1, 2, 3)
				f.rec(2).Certificate.AggregateSignature = sig
			},
			want:         ErrBadSignature,
			applyAccepts: true,
		},
		{
			name: "records not sorted",
			mutate: func(_ *testing.T, f *fixture) {
				f.body.Records[2], f.body.Records[3] = f.body.Records[3], f.body.Records[2]
			},
			want: ErrMalformedBody,
		},
		{
			name: "chains not sorted",
			mutate: func(_ *testing.T, f *fixture) {
				f.body.Records = append(f.body.Records[3:], f.body.Records[:3]...)
			},
			want: ErrMalformedBody,
		},
		{
			name: "duplicate record",
			mutate: func(_ *testing.T, f *fixture) {
				f.body.Records = slices.Insert(f.body.Records, 1, f.body.Records[0])
			},
			want: ErrMalformedBody,
		},
		{
			name: "two records for one height",
			mutate: func(t *testing.T, f *fixture) {
				f.body.Records = slices.Insert(f.body.Records, 1, certify(t, f.rec(0).Header, 1, 2, 3))
			},
			want: ErrMalformedBody,
		},
		{
			name: "too many records",
			mutate: func(_ *testing.T, f *fixture) {
				f.body.Records = make([]Record, MaxRecords+1)
			},
			want: ErrMalformedBody,
		},
		{
			name:   "records in an EMPTY recorder block",
			mutate: func(_ *testing.T, f *fixture) { f.header.Empty = true },
			want:   ErrMalformedBody,
		},
		{
			name:   "input root mismatch",
			mutate: func(_ *testing.T, f *fixture) { f.header.InputRoot[0] ^= 1 },
			want:   ErrRootMismatch,
		},
		{
			name:   "state root mismatch",
			mutate: func(_ *testing.T, f *fixture) { f.header.StateRoot[0] ^= 1 },
			want:   ErrRootMismatch,
		},
		{
			name:   "outer-relay root not zero",
			mutate: func(_ *testing.T, f *fixture) { f.header.OuterRelayRoot[0] = 1 },
			want:   ErrRootMismatch,
		},
		{
			name:   "record root not zero",
			mutate: func(_ *testing.T, f *fixture) { f.header.RecordRoot[0] = 1 },
			want:   ErrRootMismatch,
		},
		{
			name: "a record left out",
			mutate: func(_ *testing.T, f *fixture) {
				f.body.Records = f.body.Records[:3]
			},
			want: ErrRootMismatch,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.mutate(t, f)
			before := encodeOf(t, f.st)
			res, err := Verify(f.st, &f.header, &f.body, f.c)
			checkOutcome(t, "Verify", res, err, tt.want)
			applied, err := Apply(f.st, &f.header, &f.body)
			if tt.applyAccepts {
				checkOutcome(t, "Apply", applied, err, nil)
			} else {
				checkOutcome(t, "Apply", applied, err, tt.want)
			}
			if tt.want == nil && !res.State.Equal(applied.State) {
				t.Fatal("Verify and Apply give different states")
			}
			if after := encodeOf(t, f.st); string(before) != string(after) {
				t.Fatal("the state given changed")
			}
		})
	}
}

func checkOutcome(t *testing.T, name string, res Result, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.State == nil || res.StateRoot != res.State.Root() {
			t.Fatalf("%s: result without its state", name)
		}
		return
	}
	if !errors.Is(err, want) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("%s: error %v, want %v", name, err, want)
	}
	var re *RecordError
	if !errors.As(err, &re) || re.Reason != want {
		t.Fatalf("%s: error %v is not a *RecordError with reason %v", name, err, want)
	}
}

func TestRecordErrorNamesTheRecord(t *testing.T) {
	f := newFixture(t)
	f.rec(2).Certificate.AggregateSignature[0] ^= 1
	_, err := Verify(f.st, &f.header, &f.body, f.c)
	var re *RecordError
	if !errors.As(err, &re) || re.Chain != 1 || re.Height != 3 || re.Index != 2 {
		t.Fatalf("error %v does not name record 1/3 at index 2", err)
	}
	if got, want := err.Error(), "rootchain: bad certificate signature: record 1/3 (index 2)"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}

func TestVerifyAdvancesState(t *testing.T) {
	f := newFixture(t)
	res, err := Verify(f.st, &f.header, &f.body, f.c)
	if err != nil {
		t.Fatal(err)
	}
	tip1, _ := res.State.Tip(1)
	tip2, _ := res.State.Tip(2)
	tip3, _ := res.State.Tip(3)
	if tip1 != f.rec(2).Header || tip2 != f.rec(3).Header || tip3 != f.genesis[3] {
		t.Fatal("tips after the block are not its last records")
	}
	if old, _ := f.st.Tip(1); old != f.genesis[1] {
		t.Fatal("the old state moved")
	}
	if res.InputRoot != f.header.InputRoot || res.StateRoot != f.header.StateRoot || res.StateRoot == f.st.Root() {
		t.Fatal("result roots")
	}
	// The next block extends the new tips.
	next := certify(t, blockAfter(&tip1, 0x70))
	r2, err := Execute(res.State, []Record{next}, f.c, Limits{})
	if err != nil || len(r2.Body.Records) != 1 {
		t.Fatalf("next block: %v, %d records", err, len(r2.Body.Records))
	}
	h2 := headerFor(res.State, &r2)
	if _, err := Verify(res.State, &h2, &r2.Body, f.c); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyRecorderBlock(t *testing.T) {
	f := newFixture(t)
	h := types.EmptyHeader(&f.header)
	for _, fn := range []func() (Result, error){
		func() (Result, error) { return Verify(f.st, &h, &Body{}, f.c) },
		func() (Result, error) { return Apply(f.st, &h, &Body{}) },
	} {
		res, err := fn()
		if err != nil {
			t.Fatal(err)
		}
		if res.State != f.st || !res.InputRoot.IsZero() || res.StateRoot != f.st.Root() {
			t.Fatal("an EMPTY recorder block changed something")
		}
	}
}

func TestStateRootLeaves(t *testing.T) {
	f := newFixture(t)
	// The root over the genesis tips, computed from the definition.
	var leaves [][]byte
	for _, id := range []types.ChainID{1, 2, 3} {
		g := f.genesis[id]
		h := g.Hash()
		data := []byte{0, 0, 0, byte(id), 0, 0, 0, 0, 0, 0, 0, 0}
		leaves = append(leaves, append(data, h[:]...))
	}
	if want := merkle.Root(leaves); f.st.Root() != want {
		t.Fatalf("state root %v, want %v", f.st.Root(), want)
	}
}

func TestNewState(t *testing.T) {
	topo := mustUniform(t, 4)
	g := genesisOf(topo)
	st, err := NewState(types.RootChain, topo, g)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Children(), []types.ChainID{1, 2, 3, 4}) || st.Recorder() != types.RootChain {
		t.Fatalf("children %v", st.Children())
	}
	if _, ok := st.Tip(types.RootChain); ok {
		t.Fatal("the recorder has a tip of itself")
	}
	missing := genesisOf(topo)
	delete(missing, 3)
	notGenesis := genesisOf(topo)
	h := notGenesis[2]
	notGenesis[2] = blockAfter(&h, 1)
	wrongChain := genesisOf(topo)
	wrongChain[2] = wrongChain[1]
	tests := []struct {
		name     string
		recorder types.ChainID
		genesis  map[types.ChainID]types.Header
	}{
		{"transaction chain as recorder", 2, g},
		{"unknown chain", 9, g},
		{"missing genesis", types.RootChain, missing},
		{"child header not at height 0", types.RootChain, notGenesis},
		{"header of another chain", types.RootChain, wrongChain},
	}
	for _, tt := range tests {
		if _, err := NewState(tt.recorder, topo, tt.genesis); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if _, err := NewState(types.RootChain, nil, g); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil topology: %v", err)
	}
}

// TestCoordinator runs the core for a coordinator of deeper sharding: the
// root records the coordinator, the coordinator its sub-chains.
func TestCoordinator(t *testing.T) {
	topo, err := mustUniform(t, 2).WithSubChains(2, 2, 10)
	if err != nil {
		t.Fatal(err)
	}
	g := genesisOf(topo)
	root, err := NewState(types.RootChain, topo, g)
	if err != nil {
		t.Fatal(err)
	}
	coord, err := NewState(2, topo, g)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(root.Children(), []types.ChainID{1, 2}) || !slices.Equal(coord.Children(), []types.ChainID{10, 11, 12, 13}) {
		t.Fatalf("root children %v, coordinator children %v", root.Children(), coord.Children())
	}
	c := committeesFor(topo, 2)
	sub := history(t, g[11], 2, nil, 0x20)
	res, err := Execute(coord, append(sub, history(t, g[1], 1, nil, 0x30)...), c, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Body.Records) != 2 || len(res.Rejected) != 1 || !errors.Is(res.Rejected[0], ErrNotChild) {
		t.Fatalf("coordinator block: %d records, rejected %v", len(res.Body.Records), res.Rejected)
	}
	h := headerFor(coord, &res)
	h.ChainID = 2
	if _, err := Verify(coord, &h, &res.Body, c); err != nil {
		t.Fatal(err)
	}
	// The root records the coordinator's block like any child's.
	coordGenesis := g[2]
	h.ParentHash, h.Height = coordGenesis.Hash(), 1
	rec := certify(t, h)
	rr, err := Execute(root, []Record{rec}, committeesFor(topo, types.RootChain), Limits{})
	if err != nil || len(rr.Body.Records) != 1 {
		t.Fatalf("root block: %v, %d records, rejected %v", err, len(rr.Body.Records), rr.Rejected)
	}
}
