package exec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

func hashOf(b byte) types.Hash {
	var h types.Hash
	for i := range h {
		h[i] = b + byte(i)
	}
	return h
}

func sampleRecord() Record {
	return Record{Address: types.Address{0xa1, 0xa2}, Entries: []Entry{
		{Processed: []types.Hash{hashOf(0x10)}, Outputs: []types.Hash{hashOf(0x20), hashOf(0x30)}},
		{Processed: []types.Hash{hashOf(0x40), hashOf(0x50)}},
	}}
}

// sampleBody is a small body with one of everything, valid as an encoding
// (not as a block).
func sampleBody(tb fatalReporter) Body {
	tb.Helper()
	ext := actor.NewTransfer(testKey(tb, 1), 0, types.Address{0xbb}, 5)
	inRelay := types.Message{Kind: types.MessageOuterRelay, From: types.Address{0xcc}, To: types.Address{0xdd}, SourceChain: 2,
		Cause: hashOf(0x60), Value: 3, Method: []byte("add")}
	inter := types.Message{Kind: types.MessageInterRelay, From: types.Address{0xdd}, To: types.Address{0xee}, SourceChain: 1,
		Cause: hashOf(0x70), Nonce: 1, Value: 2, Method: []byte("add")}
	outer := inter
	outer.Kind = types.MessageOuterRelay
	return Body{
		Inputs:     []Input{{Message: ext}, {Message: inRelay, Proof: []byte{1, 2, 3}}},
		InterRelay: []types.Message{inter},
		OuterRelay: []types.Message{outer},
		Records:    []Record{sampleRecord()},
	}
}

func encodeBody(tb fatalReporter, b *Body) []byte {
	tb.Helper()
	out, err := b.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestRecordLayout pins the record encoding to doc.go.
func TestRecordLayout(t *testing.T) {
	r := sampleRecord()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	be := binary.BigEndian
	h := func(x byte) []byte { v := hashOf(x); return v[:] }
	want := []byte{0x11}
	want = append(want, r.Address[:]...)
	want = be.AppendUint32(want, 2)
	want = append(be.AppendUint32(want, 1), h(0x10)...)
	want = append(append(be.AppendUint32(want, 2), h(0x20)...), h(0x30)...)
	want = append(append(be.AppendUint32(want, 2), h(0x40)...), h(0x50)...)
	want = be.AppendUint32(want, 0)
	if !bytes.Equal(b, want) || r.EncodedLen() != len(b) {
		t.Fatalf("record encoding\n got % x\nwant % x", b, want)
	}
}

// TestBodyLayout pins the body encoding to doc.go.
func TestBodyLayout(t *testing.T) {
	body := sampleBody(t)
	b := encodeBody(t, &body)
	be := binary.BigEndian
	want := []byte{0x12}
	want = be.AppendUint32(want, 2)
	for _, in := range body.Inputs {
		enc, _ := in.Message.MarshalBinary()
		want = append(be.AppendUint32(want, uint32(len(enc))), enc...)
		want = append(be.AppendUint32(want, uint32(len(in.Proof))), in.Proof...)
	}
	for _, list := range [][]types.Message{body.InterRelay, body.OuterRelay} {
		want = be.AppendUint32(want, uint32(len(list)))
		for _, m := range list {
			enc, _ := m.MarshalBinary()
			want = append(be.AppendUint32(want, uint32(len(enc))), enc...)
		}
	}
	want = be.AppendUint32(want, 1)
	rec, _ := body.Records[0].MarshalBinary()
	want = append(be.AppendUint32(want, uint32(len(rec))), rec...)
	if !bytes.Equal(b, want) || body.EncodedLen() != len(b) {
		t.Fatalf("body encoding\n got % x\nwant % x", b, want)
	}
}

func TestBodyRoundTrip(t *testing.T) {
	body := sampleBody(t)
	b := encodeBody(t, &body)
	got, err := DecodeBody(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, body) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, body)
	}
	if _, err := DecodeBody(encodeBody(t, &Body{})); err != nil {
		t.Fatalf("empty body: %v", err)
	}
}

func TestBodyDecodeRejects(t *testing.T) {
	body := sampleBody(t)
	valid := encodeBody(t, &body)
	firstMsgLen := int(binary.BigEndian.Uint32(valid[5:]))
	set32 := func(at int, v uint32) []byte {
		b := bytes.Clone(valid)
		binary.BigEndian.PutUint32(b[at:], v)
		return b
	}
	recordTag := func() []byte {
		r := sampleRecord()
		rb, _ := r.MarshalBinary()
		rb[0] = 0x12
		return rb
	}
	tests := []struct {
		name   string
		decode func([]byte) error
		in     []byte
		want   error
	}{
		{"trailing byte", decodeBodyErr, append(bytes.Clone(valid), 0), codec.ErrTrailingBytes},
		{"wrong tag", decodeBodyErr, append([]byte{0x11}, valid[1:]...), codec.ErrWrongType},
		{"input count over the limit", decodeBodyErr, set32(1, MaxBlockMessages+1), codec.ErrTooLarge},
		{"input count past the end", decodeBodyErr, func() []byte {
			b := encodeBody(t, &Body{})
			binary.BigEndian.PutUint32(b[1:], 1000)
			return b[:9]
		}(), codec.ErrTruncated},
		{"message length over the maximum", decodeBodyErr, set32(5, types.MessageMaxSize+1), codec.ErrTooLarge},
		{"message that does not decode", decodeBodyErr, func() []byte { b := bytes.Clone(valid); b[9+1] = 9; return b }(), codec.ErrUnknownKind},
		{"proof over the maximum", decodeBodyErr, set32(9+firstMsgLen, MaxRelayProofLen+1), codec.ErrTooLarge},
		{"input over the maximum body", decodeBodyErr, make([]byte, MaxBodySize+1), codec.ErrTooLarge},
		{"record with a body tag", decodeRecordErr, recordTag(), codec.ErrWrongType},
		{"record entry merging too much", decodeRecordErr, func() []byte {
			r := sampleRecord()
			rb, _ := r.MarshalBinary()
			binary.BigEndian.PutUint32(rb[25:], MaxMergedAdds+1)
			return rb
		}(), codec.ErrTooLarge},
		{"record entry with too many outputs", decodeRecordErr, func() []byte {
			r := sampleRecord()
			rb, _ := r.MarshalBinary()
			binary.BigEndian.PutUint32(rb[25+4+32:], MaxEntryOutputs+1)
			return rb
		}(), codec.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.decode(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("every prefix", func(t *testing.T) {
		for n := range len(valid) {
			if err := decodeBodyErr(valid[:n]); !errors.Is(err, codec.ErrTruncated) {
				t.Fatalf("prefix of %d bytes: %v, want ErrTruncated", n, err)
			}
		}
	})
	t.Run("encode refuses", func(t *testing.T) {
		big := Body{Inputs: []Input{{Message: body.Inputs[0].Message, Proof: make([]byte, MaxRelayProofLen+1)}}}
		if out, err := big.AppendBinary([]byte{9}); !errors.Is(err, codec.ErrTooLarge) || len(out) != 1 {
			t.Fatalf("oversized proof: %d bytes, %v", len(out), err)
		}
		bad := Body{InterRelay: []types.Message{{Kind: 7}}}
		if _, err := bad.AppendBinary(nil); !errors.Is(err, codec.ErrUnknownKind) {
			t.Fatalf("unknown kind: %v", err)
		}
		merged := Body{Records: []Record{{Entries: []Entry{{Processed: make([]types.Hash, MaxMergedAdds+1)}}}}}
		if _, err := merged.AppendBinary(nil); !errors.Is(err, codec.ErrTooLarge) {
			t.Fatalf("oversized merge: %v", err)
		}
	})
}

func decodeBodyErr(b []byte) error   { _, err := DecodeBody(b); return err }
func decodeRecordErr(b []byte) error { _, err := DecodeRecord(b); return err }

var genHash = rapid.Custom(func(t *rapid.T) types.Hash {
	var h types.Hash
	copy(h[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "hash"))
	return h
})

var genMessage = rapid.Custom(func(t *rapid.T) types.Message {
	m := types.Message{
		Kind:  types.MessageKind(rapid.IntRange(1, 3).Draw(t, "kind")),
		Nonce: rapid.Uint64().Draw(t, "nonce"), Value: rapid.Uint64().Draw(t, "value"),
		Method: []byte(rapid.SampledFrom([]string{"", "add", "tran", "buy"}).Draw(t, "method")),
		Args:   rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "args"),
	}
	if len(m.Method) == 0 {
		m.Method = nil
	}
	if len(m.Args) == 0 {
		m.Args = nil
	}
	copy(m.From[:], rapid.SliceOfN(rapid.Byte(), 20, 20).Draw(t, "from"))
	copy(m.To[:], rapid.SliceOfN(rapid.Byte(), 20, 20).Draw(t, "to"))
	if m.Kind.IsRelay() {
		m.Cause = genHash.Draw(t, "cause")
	}
	return m
})

var genRecord = rapid.Custom(func(t *rapid.T) Record {
	r := Record{}
	copy(r.Address[:], rapid.SliceOfN(rapid.Byte(), 20, 20).Draw(t, "address"))
	for range rapid.IntRange(0, 4).Draw(t, "entries") {
		e := Entry{Processed: rapid.SliceOfN(genHash, 0, 3).Draw(t, "processed"), Outputs: rapid.SliceOfN(genHash, 0, 3).Draw(t, "outputs")}
		if len(e.Processed) == 0 {
			e.Processed = nil
		}
		if len(e.Outputs) == 0 {
			e.Outputs = nil
		}
		r.Entries = append(r.Entries, e)
	}
	return r
})

var genBody = rapid.Custom(func(t *rapid.T) Body {
	var b Body
	for range rapid.IntRange(0, 3).Draw(t, "inputs") {
		in := Input{Message: genMessage.Draw(t, "input")}
		if p := rapid.SliceOfN(rapid.Byte(), 0, 20).Draw(t, "proof"); len(p) > 0 {
			in.Proof = p
		}
		b.Inputs = append(b.Inputs, in)
	}
	b.InterRelay = nilIfEmpty(rapid.SliceOfN(genMessage, 0, 3).Draw(t, "inter"))
	b.OuterRelay = nilIfEmpty(rapid.SliceOfN(genMessage, 0, 3).Draw(t, "outer"))
	b.Records = nilIfEmpty(rapid.SliceOfN(genRecord, 0, 3).Draw(t, "records"))
	return b
})

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TestBodyCanonical: every body round-trips, and a damaged encoding is
// rejected with a codec sentinel or re-encodes to the damaged bytes.
func TestBodyCanonical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		body := genBody.Draw(t, "body")
		b := encodeBody(t, &body)
		got, err := DecodeBody(b)
		if err != nil || !reflect.DeepEqual(got, body) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, got, body)
		}
		damaged := bytes.Clone(b)
		switch rapid.IntRange(0, 2).Draw(t, "damage") {
		case 0:
			damaged[rapid.IntRange(0, len(damaged)-1).Draw(t, "at")] ^= rapid.ByteRange(1, 255).Draw(t, "xor")
		case 1:
			damaged = damaged[:rapid.IntRange(0, len(damaged)).Draw(t, "cut")]
		case 2:
			damaged = append(damaged, rapid.Byte().Draw(t, "extra"))
		}
		checkBodyCanonical(t, damaged)
	})
}

var codecSentinels = []error{codec.ErrTruncated, codec.ErrTrailingBytes, codec.ErrNonCanonical, codec.ErrTooLarge,
	codec.ErrUnknownKind, codec.ErrWrongType, codec.ErrUnsupportedVersion}

func wrapsCodecSentinel(err error) bool {
	for _, s := range codecSentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func checkBodyCanonical(t fatalReporter, b []byte) {
	body, err := DecodeBody(b)
	if err != nil {
		if !wrapsCodecSentinel(err) {
			t.Fatalf("error wraps no codec sentinel: %v", err)
		}
		return
	}
	again, err := body.MarshalBinary()
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("accepted input re-encodes differently (%v)\n  in % x\n out % x", err, b, again)
	}
}

func checkRecordCanonical(t fatalReporter, b []byte) {
	r, err := DecodeRecord(b)
	if err != nil {
		if !wrapsCodecSentinel(err) {
			t.Fatalf("error wraps no codec sentinel: %v", err)
		}
		return
	}
	again, err := r.MarshalBinary()
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("accepted input re-encodes differently (%v)\n  in % x\n out % x", err, b, again)
	}
}

// FuzzDecodeBody and FuzzDecodeRecord: decoding never panics, an accepted
// input re-encodes to the same bytes, a rejected one is rejected with a
// codec sentinel. An accepted body also goes through Check against an empty
// state, which must return an error or a result, never panic.
//
// The seed corpora live in testdata/fuzz/<target>/; rewrite them with
//
//	go test -run '^TestWriteFuzzCorpus$' ./node/exec -write-fuzz-corpus
func FuzzDecodeBody(f *testing.F) {
	body := sampleBody(f)
	f.Add(encodeBody(f, &body))
	empty := mustState(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkBodyCanonical(t, b)
		if body, err := DecodeBody(b); err == nil {
			_, _ = Check(empty, specFor(1, 0), &body, Env{})
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	r := sampleRecord()
	enc, _ := r.MarshalBinary()
	f.Add(enc)
	f.Fuzz(func(t *testing.T, b []byte) { checkRecordCanonical(t, b) })
}

var writeFuzzCorpus = flag.Bool("write-fuzz-corpus", false, "rewrite the seed corpora under testdata/fuzz")

func fuzzSeeds(t *testing.T) map[string]map[string][]byte {
	// A real block: Fig. 10 across chains, with a relay input and proof.
	chainA, chainB := specFor(0, 1), specFor(1, 1)
	f := newFigure10(t, chainA, chainB)
	resA, err := Execute(mustState(t, actor.Account{Address: f.a, Balance: 20}), chainA, externalInputs(f.m1), Env{})
	if err != nil {
		t.Fatal(err)
	}
	inputs := append(relayInputs(t, &resA, chainB), Input{Message: f.m3})
	resB, err := Execute(mustState(t, actor.Account{Address: f.b, Balance: 5}, actor.Account{Address: f.c, Balance: 10}), chainB, inputs,
		Env{Relays: acceptRelays{roots: []types.Hash{resA.Roots.OuterRelay}}})
	if err != nil {
		t.Fatal(err)
	}
	blockA, blockB := encodeBody(t, &resA.Body), encodeBody(t, &resB.Body)
	sample := sampleBody(t)
	sampleEnc := encodeBody(t, &sample)
	r := sampleRecord()
	record, _ := r.MarshalBinary()
	withCount := func(b []byte, at int, v uint32) []byte {
		out := bytes.Clone(b)
		binary.BigEndian.PutUint32(out[at:], v)
		return out
	}
	return map[string]map[string][]byte{
		"FuzzDecodeBody": {
			"valid-sample":          sampleEnc,
			"valid-empty":           encodeBody(t, &Body{}),
			"valid-outer-relaying":  blockA,
			"valid-relay-receiving": blockB,
			"truncated":             sampleEnc[:len(sampleEnc)/2],
			"trailing":              append(bytes.Clone(sampleEnc), 0),
			"wrong-tag":             append([]byte{0x11}, sampleEnc[1:]...),
			"too-many-inputs":       withCount(sampleEnc, 1, MaxBlockMessages+1),
			"message-length-large":  withCount(sampleEnc, 5, types.MessageMaxSize+1),
		},
		"FuzzDecodeRecord": {
			"valid":           record,
			"valid-empty":     func() []byte { e := Record{Address: r.Address}; b, _ := e.MarshalBinary(); return b }(),
			"truncated":       record[:40],
			"trailing":        append(bytes.Clone(record), 0),
			"too-many-merged": withCount(record, 25, MaxMergedAdds+1),
			"wrong-tag":       append([]byte{0x12}, record[1:]...),
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
	decoders := map[string]func([]byte) error{"FuzzDecodeBody": decodeBodyErr, "FuzzDecodeRecord": decodeRecordErr}
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
