package rootchain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
	"pgregory.net/rapid"
)

func sampleRecord(tb fatalReporter) Record {
	g := types.Header{Version: types.HeaderVersion, ChainID: 7, TimestampMillis: 5, StateRoot: filled(9)}
	return certify(tb, blockAfter(&g, 0x40))
}

func sampleBody(tb fatalReporter) Body {
	g := genesisOf(mustUniform(tb, 2))
	recs := history(tb, g[1], 3, map[int]bool{2: true}, 0x10)
	return Body{Records: append(recs, history(tb, g[2], 1, nil, 0x30)...)}
}

func sampleState(tb fatalReporter) *State {
	topo := mustUniform(tb, 3)
	st := mustState(tb, topo, types.RootChain)
	body := sampleBody(tb)
	res, err := Execute(st, body.Records, committeesFor(topo, types.RootChain), Limits{})
	if err != nil {
		tb.Fatalf("execute: %v", err)
	}
	return res.State
}

func TestRecordLayout(t *testing.T) {
	r := sampleRecord(t)
	enc := encodeOf(t, &r)
	if len(enc) != r.EncodedLen() || len(enc) != 1+types.HeaderSize+150+1 {
		t.Fatalf("length %d, EncodedLen %d", len(enc), r.EncodedLen())
	}
	if enc[0] != RecordTag {
		t.Fatalf("tag 0x%02x", enc[0])
	}
	hdr := encodeOf(t, &r.Header)
	cert := encodeOf(t, &r.Certificate)
	if !bytes.Equal(enc[1:1+types.HeaderSize], hdr) || !bytes.Equal(enc[1+types.HeaderSize:], cert) {
		t.Fatal("record is not tag || header || certificate")
	}
	if r.Leaf() != headerLeaf(new(r.Header.Hash())) {
		t.Fatal("leaf is not LeafHash(header hash)")
	}
}

func TestBodyLayout(t *testing.T) {
	b := sampleBody(t)
	enc := encodeOf(t, &b)
	if enc[0] != BodyTag || binary.BigEndian.Uint32(enc[1:]) != uint32(len(b.Records)) || len(enc) != b.EncodedLen() {
		t.Fatalf("body header % x, length %d, EncodedLen %d", enc[:5], len(enc), b.EncodedLen())
	}
	off := 5
	for i := range b.Records {
		n := int(binary.BigEndian.Uint32(enc[off:]))
		if rec := encodeOf(t, &b.Records[i]); !bytes.Equal(enc[off+4:off+4+n], rec) {
			t.Fatalf("record %d is not length || encoding", i)
		}
		off += 4 + n
	}
	if off != len(enc) {
		t.Fatalf("%d bytes after the records", len(enc)-off)
	}
}

func TestStateLayout(t *testing.T) {
	st := sampleState(t)
	enc := encodeOf(t, st)
	if enc[0] != StateTag || binary.BigEndian.Uint32(enc[1:]) != uint32(st.Recorder()) ||
		binary.BigEndian.Uint32(enc[5:]) != 3 || len(enc) != 9+3*types.HeaderSize {
		t.Fatalf("state encoding % x..., length %d", enc[:9], len(enc))
	}
	for i, id := range st.Children() {
		tip, _ := st.Tip(id)
		if !bytes.Equal(enc[9+i*types.HeaderSize:9+(i+1)*types.HeaderSize], encodeOf(t, &tip)) {
			t.Fatalf("tip %d is not the header encoding", i)
		}
	}
}

func TestMaxSizes(t *testing.T) {
	set, err := types.NewSignerSet(types.MaxCommitteeSize)
	if err != nil {
		t.Fatal(err)
	}
	r := sampleRecord(t)
	r.Certificate.Signers = set
	if r.EncodedLen() != RecordMaxSize {
		t.Fatalf("largest record %d bytes, RecordMaxSize %d", r.EncodedLen(), RecordMaxSize)
	}
	b := Body{Records: make([]Record, MaxRecords)}
	for i := range b.Records {
		b.Records[i] = r
	}
	if b.EncodedLen() != MaxBodySize {
		t.Fatalf("largest body %d bytes, MaxBodySize %d", b.EncodedLen(), MaxBodySize)
	}
	enc := encodeOf(t, &b)
	if _, err := DecodeBody(enc); err != nil {
		t.Fatalf("largest body does not decode: %v", err)
	}
	if MaxBodySize > 4<<20 {
		t.Fatalf("MaxBodySize %d exceeds consensus.MaxBlockBodySize", MaxBodySize)
	}
}

func TestEncodeRefuses(t *testing.T) {
	r := sampleRecord(t)
	r.Header.Version = 9
	if _, err := r.MarshalBinary(); !errors.Is(err, codec.ErrUnsupportedVersion) {
		t.Errorf("record with header version 9: %v", err)
	}
	r = sampleRecord(t)
	r.Certificate.Kind = 0
	if _, err := r.MarshalBinary(); !errors.Is(err, codec.ErrUnknownKind) {
		t.Errorf("record with certificate kind 0: %v", err)
	}
	prefix := []byte("keep")
	if out, err := r.AppendBinary(prefix); err == nil || !bytes.Equal(out, []byte("keep")) {
		t.Errorf("failed AppendBinary returned %q, %v", out, err)
	}
	b := Body{Records: make([]Record, MaxRecords+1)}
	if _, err := b.MarshalBinary(); !errors.Is(err, codec.ErrTooLarge) {
		t.Errorf("body of MaxRecords+1: %v", err)
	}
	b = Body{Records: []Record{sampleRecord(t), r}}
	if _, err := b.MarshalBinary(); !errors.Is(err, codec.ErrUnknownKind) {
		t.Errorf("body with a bad record: %v", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	r := sampleRecord(t)
	rec := encodeOf(t, &r)
	b := sampleBody(t)
	body := encodeOf(t, &b)
	st := encodeOf(t, sampleState(t))
	put32 := func(in []byte, at int, v uint32) []byte {
		out := bytes.Clone(in)
		binary.BigEndian.PutUint32(out[at:], v)
		return out
	}
	swapped := bytes.Clone(st)
	copy(swapped[9:], st[9+types.HeaderSize:9+2*types.HeaderSize])
	copy(swapped[9+types.HeaderSize:], st[9:9+types.HeaderSize])
	tests := []struct {
		name   string
		decode func([]byte) error
		in     []byte
		want   error
	}{
		{"record empty", decodeRecordErr, nil, codec.ErrTruncated},
		{"record wrong tag", decodeRecordErr, append([]byte{BodyTag}, rec[1:]...), codec.ErrWrongType},
		{"record trailing", decodeRecordErr, append(bytes.Clone(rec), 0), codec.ErrTrailingBytes},
		{"record truncated header", decodeRecordErr, rec[:100], codec.ErrTruncated},
		{"record no certificate", decodeRecordErr, rec[:1+types.HeaderSize], codec.ErrTruncated},
		{"record truncated certificate", decodeRecordErr, rec[:len(rec)-1], codec.ErrTruncated},
		{"record header version", decodeRecordErr, withByte(rec, 3, 9), codec.ErrUnsupportedVersion},
		{"record header tag", decodeRecordErr, withByte(rec, 1, 4), codec.ErrWrongType},
		{"record certificate kind", decodeRecordErr, withByte(rec, 1+types.HeaderSize+17, 9), codec.ErrUnknownKind},
		{"record too large", decodeRecordErr, make([]byte, RecordMaxSize+1), codec.ErrTooLarge},
		{"body wrong tag", decodeBodyErr, withByte(body, 0, RecordTag), codec.ErrWrongType},
		{"body too many", decodeBodyErr, put32(body, 1, MaxRecords+1), codec.ErrTooLarge},
		{"body count past end", decodeBodyErr, put32(body, 1, uint32(len(b.Records)+1)), codec.ErrTruncated},
		{"body count short", decodeBodyErr, put32(body, 1, uint32(len(b.Records)-1)), codec.ErrTrailingBytes},
		{"body record length large", decodeBodyErr, put32(body, 5, RecordMaxSize+1), codec.ErrTooLarge},
		{"body record length short", decodeBodyErr, put32(body, 5, uint32(b.Records[0].EncodedLen()-1)), codec.ErrTruncated},
		{"body bad record", decodeBodyErr, withByte(body, 9, 0x21), codec.ErrWrongType},
		{"body trailing", decodeBodyErr, append(bytes.Clone(body), 0), codec.ErrTrailingBytes},
		{"body too large", decodeBodyErr, make([]byte, MaxBodySize+1), codec.ErrTooLarge},
		{"state wrong tag", decodeStateErr, withByte(st, 0, BodyTag), codec.ErrWrongType},
		{"state too many", decodeStateErr, put32(st, 5, MaxChildren+1), codec.ErrTooLarge},
		{"state count past end", decodeStateErr, put32(st, 5, 4), codec.ErrTruncated},
		{"state trailing", decodeStateErr, append(bytes.Clone(st), 0), codec.ErrTrailingBytes},
		{"state tips out of order", decodeStateErr, swapped, codec.ErrNonCanonical},
		{"state tip of the recorder", decodeStateErr, put32(st, 1, 1), codec.ErrNonCanonical},
		{"state malformed tip", decodeStateErr, withByte(st, 9+2*types.HeaderSize+27, 1), codec.ErrNonCanonical},
		{"state header version", decodeStateErr, withByte(st, 10, 2), codec.ErrUnsupportedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.decode(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	for name, enc := range map[string][]byte{"record": rec, "body": body, "state": st} {
		decode := map[string]func([]byte) error{"record": decodeRecordErr, "body": decodeBodyErr, "state": decodeStateErr}[name]
		for i := range len(enc) {
			if err := decode(enc[:i]); !errors.Is(err, codec.ErrTruncated) {
				t.Fatalf("%s cut to %d bytes: %v", name, i, err)
			}
		}
	}
}

func withByte(b []byte, at int, v byte) []byte {
	out := bytes.Clone(b)
	out[at] = v
	return out
}

func decodeRecordErr(b []byte) error { _, err := DecodeRecord(b); return err }
func decodeBodyErr(b []byte) error   { _, err := DecodeBody(b); return err }
func decodeStateErr(b []byte) error  { _, err := DecodeState(b); return err }

func genRecord(t *rapid.T) Record {
	var h types.Header
	h.Version = types.HeaderVersion
	h.ChainID = types.ChainID(rapid.Uint32().Draw(t, "chain"))
	h.Height = types.Height(rapid.Uint64().Draw(t, "height"))
	h.Round = types.Round(rapid.Uint32().Draw(t, "round"))
	h.ParentHash = filled(rapid.Byte().Draw(t, "parent"))
	h.StateRoot = filled(rapid.Byte().Draw(t, "state"))
	h.Empty = rapid.Bool().Draw(t, "empty")
	n := rapid.IntRange(0, types.MaxCommitteeSize).Draw(t, "committee")
	set, _ := types.NewSignerSet(n)
	for _, i := range rapid.SliceOfN(rapid.IntRange(0, max(n-1, 0)), 0, 20).Draw(t, "signers") {
		_ = set.Add(types.ValidatorIndex(i))
	}
	cert := types.Certificate{
		ChainID: h.ChainID, Height: h.Height, Round: h.Round,
		Kind:      types.VoteKind(rapid.IntRange(1, 3).Draw(t, "kind")),
		BlockHash: filled(rapid.Byte().Draw(t, "block")),
		Signers:   set,
	}
	copy(cert.AggregateSignature[:], rapid.SliceOfN(rapid.Byte(), types.BLSSignatureSize, types.BLSSignatureSize).Draw(t, "sig"))
	return Record{Header: h, Certificate: cert}
}

func TestEncodingRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		recs := rapid.SliceOfN(rapid.Custom(genRecord), 0, 8).Draw(t, "records")
		for i := range recs {
			enc := encodeOf(t, &recs[i])
			got, err := DecodeRecord(enc)
			if err != nil || got != recs[i] {
				t.Fatalf("record %d: decoded %+v, %v", i, got, err)
			}
		}
		b := Body{Records: recs}
		enc := encodeOf(t, &b)
		got, err := DecodeBody(enc)
		if err != nil || len(got.Records) != len(recs) {
			t.Fatalf("body: %v", err)
		}
		for i := range recs {
			if got.Records[i] != recs[i] {
				t.Fatalf("body record %d differs", i)
			}
		}
	})
}

func TestStateRoundTrip(t *testing.T) {
	st := sampleState(t)
	got, err := DecodeState(encodeOf(t, st))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(st) || got.Root() != st.Root() || got.Recorder() != st.Recorder() {
		t.Fatal("decoded state differs")
	}
	if err := got.CheckTopology(mustUniform(t, 3)); err != nil {
		t.Fatalf("decoded state does not match its topology: %v", err)
	}
	if err := got.CheckTopology(mustUniform(t, 4)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("state of 3 children checked against 4: %v", err)
	}
}

// The fuzz targets: decoding never panics, an accepted input re-encodes to
// the same bytes, a rejected one is rejected with a codec sentinel. An
// accepted record goes through ValidateBasic, an accepted body through
// Verify and Apply against a small state, an accepted state through Root,
// Tip and a transition: none may panic.
//
// The seed corpora live in testdata/fuzz/<target>/; rewrite them with
//
//	go test -run '^TestWriteFuzzCorpus$' ./node/rootchain -write-fuzz-corpus

func fuzzCanonical[T any](t *testing.T, b []byte, decode func([]byte) (T, error), encode func(T) ([]byte, error)) (T, bool) {
	v, err := decode(b)
	if err != nil {
		if !wrapsCodecSentinel(err) {
			t.Fatalf("error wraps no codec sentinel: %v", err)
		}
		return v, false
	}
	again, err := encode(v)
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("accepted input re-encodes differently (%v)\n  in % x\n out % x", err, b, again)
	}
	return v, true
}

func FuzzDecodeRecord(f *testing.F) {
	r := sampleRecord(f)
	f.Add(encodeOf(f, &r))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, ok := fuzzCanonical(t, b, DecodeRecord, func(r Record) ([]byte, error) { return r.MarshalBinary() }); ok {
			_ = r.ValidateBasic()
			_ = r.Leaf()
		}
	})
}

func FuzzDecodeBody(f *testing.F) {
	b := sampleBody(f)
	f.Add(encodeOf(f, &b))
	topo := mustUniform(f, 2)
	st := mustState(f, topo, types.RootChain)
	c := committeesFor(topo, types.RootChain)
	f.Fuzz(func(t *testing.T, in []byte) {
		body, ok := fuzzCanonical(t, in, DecodeBody, func(b Body) ([]byte, error) { return b.MarshalBinary() })
		if !ok {
			return
		}
		h := types.Header{Version: types.HeaderVersion, ChainID: types.RootChain, Height: 1, ParentHash: filled(1)}
		_, _ = Verify(st, &h, &body, c)
		_, _ = Apply(st, &h, &body)
		_, _ = Execute(st, body.Records, c, Limits{})
		for i := range body.Records {
			_, _ = body.Find(body.Records[i].Header.ChainID, body.Records[i].Header.Height)
		}
	})
}

func FuzzDecodeState(f *testing.F) {
	f.Add(encodeOf(f, sampleState(f)))
	b := sampleBody(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		st, ok := fuzzCanonical(t, in, DecodeState, func(s *State) ([]byte, error) { return s.MarshalBinary() })
		if !ok {
			return
		}
		_ = st.Root()
		for _, id := range st.Children() {
			if _, ok := st.Tip(id); !ok {
				t.Fatalf("child %d has no tip", id)
			}
		}
		res, err := Execute(st, b.Records, fakeCommittees{sizes: map[types.ChainID]int{1: testCommittee, 2: testCommittee}}, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		h := types.Header{Version: types.HeaderVersion, ChainID: st.Recorder(), Height: 1, ParentHash: filled(1)}
		res.SetHeader(&h)
		if _, err := Apply(st, &h, &res.Body); err != nil {
			t.Fatalf("Execute's block does not apply: %v", err)
		}
	})
}

var writeFuzzCorpus = flag.Bool("write-fuzz-corpus", false, "rewrite the seed corpora under testdata/fuzz")

func fuzzSeeds(t *testing.T) map[string]map[string][]byte {
	r := sampleRecord(t)
	rec := encodeOf(t, &r)
	g := genesisOf(mustUniform(t, 1))
	empty := certify(t, types.EmptyHeader(new(g[1])))
	emptyRec := encodeOf(t, &empty)
	b := sampleBody(t)
	body := encodeOf(t, &b)
	st := encodeOf(t, sampleState(t))
	genesisState := encodeOf(t, mustState(t, mustUniform(t, 2), types.RootChain))
	put32 := func(in []byte, at int, v uint32) []byte {
		out := bytes.Clone(in)
		binary.BigEndian.PutUint32(out[at:], v)
		return out
	}
	return map[string]map[string][]byte{
		"FuzzDecodeRecord": {
			"valid":                rec,
			"valid-empty":          emptyRec,
			"truncated":            rec[:len(rec)-10],
			"trailing":             append(bytes.Clone(rec), 0),
			"wrong-tag":            withByte(rec, 0, BodyTag),
			"certificate-bad-kind": withByte(rec, 1+types.HeaderSize+17, 9),
		},
		"FuzzDecodeBody": {
			"valid":          body,
			"valid-none":     encodeOf(t, &Body{}),
			"truncated":      body[:len(body)/2],
			"trailing":       append(bytes.Clone(body), 0),
			"wrong-tag":      withByte(body, 0, RecordTag),
			"too-many":       put32(body, 1, MaxRecords+1),
			"record-too-big": put32(body, 5, RecordMaxSize+1),
		},
		"FuzzDecodeState": {
			"valid":          st,
			"valid-genesis":  genesisState,
			"truncated":      st[:len(st)-1],
			"trailing":       append(bytes.Clone(st), 0),
			"wrong-tag":      withByte(st, 0, BodyTag),
			"too-many":       put32(st, 5, MaxChildren+1),
			"recorder-child": put32(st, 1, 2),
		},
	}
}

// TestWriteFuzzCorpus writes the named seed files of each fuzz target. It
// does nothing unless -write-fuzz-corpus is given.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeFuzzCorpus {
		return
	}
	for target, seeds := range fuzzSeeds(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestFuzzCorpusMatchesSeeds keeps the committed corpora in step with the
// encodings.
func TestFuzzCorpusMatchesSeeds(t *testing.T) {
	decoders := map[string]func([]byte) error{
		"FuzzDecodeRecord": decodeRecordErr, "FuzzDecodeBody": decodeBodyErr, "FuzzDecodeState": decodeStateErr,
	}
	for target, seeds := range fuzzSeeds(t) {
		for name, want := range seeds {
			path := filepath.Join("testdata", "fuzz", target, name)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (rewrite the corpus with -write-fuzz-corpus)", err)
			}
			if body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", want); string(raw) != body {
				t.Errorf("%s is stale; rewrite the corpus with -write-fuzz-corpus", path)
			}
			err = decoders[target](want)
			if valid := strings.HasPrefix(name, "valid"); valid != (err == nil) {
				t.Errorf("%s: seed %q decodes with error %v", target, name, err)
			}
		}
	}
}
