package relay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// sampleProof is a proof of a chainC relay lifted to the root.
func sampleProof(tb fatalReporter) Proof {
	tb.Helper()
	h, body := sourceBlock(chainC, 5, []types.Message{relayMsg(chainC, chainA, 1), relayMsg(chainC, chainA, 2), relayMsg(chainC, chainB, 3)})
	out := outbox(tb, &h, &body, testTopology(tb))
	p := Proof{Source: h, Path: decodeRef(tb, out[0].Package.Proof).Path}
	lift(tb, &p, coord, 8)
	lift(tb, &p, types.RootChain, 3)
	return p
}

// sampleRefProof is the reference proof of a chainA relay.
func sampleRefProof(tb fatalReporter) RefProof {
	tb.Helper()
	h, body := sourceBlock(chainA, 5, []types.Message{relayMsg(chainA, chainB, 1), relayMsg(chainA, chainB, 2), relayMsg(chainA, chainC, 3)})
	return decodeRef(tb, outbox(tb, &h, &body, testTopology(tb))[0].Package.Proof)
}

// sampleBatch holds packages of both forms.
func sampleBatch(tb fatalReporter) Batch {
	tb.Helper()
	h, body := sourceBlock(chainA, 5, []types.Message{relayMsg(chainA, chainB, 1), relayMsg(chainA, chainB, 2), relayMsg(chainA, chainB, 3)})
	b := Batch{Source: chainA, Dest: chainB}
	for _, a := range outbox(tb, &h, &body, testTopology(tb)) {
		b.Packages = append(b.Packages, a.Package)
	}
	b.Packages[1] = fullForm(tb, b.Packages[1], &h)
	b.Packages[2].Message.Args = []byte{1, 2, 3}
	return b
}

func sampleAck() Ack {
	m1, m2 := relayMsg(chainA, chainB, 1), relayMsg(chainA, chainB, 2)
	return Ack{Chain: chainB, IDs: []types.Hash{m1.ID(), m2.ID()}}
}

func marshal(tb fatalReporter, v interface{ MarshalBinary() ([]byte, error) }) []byte {
	tb.Helper()
	b, err := v.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestProofLayout(t *testing.T) {
	p := sampleProof(t)
	enc := marshal(t, &p)
	if len(enc) != p.EncodedLen() {
		t.Fatalf("encoding of %d bytes, EncodedLen %d", len(enc), p.EncodedLen())
	}
	src, _ := p.Source.MarshalBinary()
	path, _ := p.Path.MarshalBinary()
	plen := len(path)
	if enc[0] != ProofTag || !bytes.Equal(enc[1:233], src) || binary.BigEndian.Uint32(enc[233:]) != uint32(plen) ||
		!bytes.Equal(enc[237:237+plen], path) || enc[237+plen] != 2 {
		t.Fatalf("layout does not match the documentation: %x", enc[:240+plen])
	}
	rec, _ := p.Lifts[0].Recorder.MarshalBinary()
	if !bytes.Equal(enc[238+plen:238+plen+types.HeaderSize], rec) {
		t.Fatal("first lift's recorder not after the lift count")
	}
}

func TestRefProofLayout(t *testing.T) {
	r := sampleRefProof(t)
	enc := marshal(t, &r)
	if len(enc) != r.EncodedLen() {
		t.Fatalf("encoding of %d bytes, EncodedLen %d", len(enc), r.EncodedLen())
	}
	path, _ := r.Path.MarshalBinary()
	if enc[0] != RefProofTag || binary.BigEndian.Uint32(enc[1:]) != uint32(chainA) || binary.BigEndian.Uint64(enc[5:]) != 5 ||
		binary.BigEndian.Uint32(enc[13:]) != uint32(len(path)) || !bytes.Equal(enc[17:], path) {
		t.Fatalf("layout does not match the documentation: %x", enc)
	}
	if _, err := DecodeProof(enc); !errors.Is(err, codec.ErrWrongType) {
		t.Fatalf("the full decoder took a reference: %v", err)
	}
	full := sampleProof(t)
	if _, err := DecodeRefProof(marshal(t, &full)); !errors.Is(err, codec.ErrWrongType) {
		t.Fatalf("the reference decoder took a full proof: %v", err)
	}
}

func TestRefProofRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := RefProof{
			Chain:  types.ChainID(rapid.Uint32().Draw(t, "chain")),
			Height: types.Height(rapid.Uint64().Draw(t, "height")),
			Path:   drawPath(t, "path"),
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) != r.EncodedLen() || len(enc) > MaxRefProofLen {
			t.Fatalf("encoding of %d bytes, EncodedLen %d, maximum %d", len(enc), r.EncodedLen(), MaxRefProofLen)
		}
		q, err := DecodeRefProof(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(marshal(t, &q), enc) || q.Chain != r.Chain || q.Height != r.Height || !slices.Equal(q.Path.Siblings, r.Path.Siblings) {
			t.Fatal("reference proof does not round-trip")
		}
	})
}

func TestProofRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := Proof{Source: drawHeader(t, "source"), Path: drawPath(t, "path")}
		for i := range rapid.IntRange(0, MaxLifts).Draw(t, "lifts") {
			p.Lifts = append(p.Lifts, Lift{Recorder: drawHeader(t, fmt.Sprint("recorder", i)), Path: drawPath(t, fmt.Sprint("lift path", i))})
		}
		enc, err := p.MarshalBinary()
		if p.EncodedLen() > MaxProofLen {
			if !errors.Is(err, codec.ErrTooLarge) {
				t.Fatalf("oversized proof: error %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodeProof(enc)
		if err != nil {
			t.Fatal(err)
		}
		again := marshal(t, &q)
		if !bytes.Equal(enc, again) || q.Source != p.Source || len(q.Lifts) != len(p.Lifts) {
			t.Fatal("proof does not round-trip")
		}
	})
}

func drawHeader(t *rapid.T, label string) types.Header {
	var h types.Header
	h.Version = types.HeaderVersion
	h.ChainID = types.ChainID(rapid.Uint32().Draw(t, label+" chain"))
	h.Height = types.Height(rapid.Uint64().Draw(t, label+" height"))
	copy(h.ParentHash[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, label+" parent"))
	copy(h.InputRoot[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, label+" input root"))
	copy(h.OuterRelayRoot[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, label+" relay root"))
	h.Empty = rapid.Bool().Draw(t, label+" empty")
	return h
}

func drawPath(t *rapid.T, label string) merkle.Proof {
	n := rapid.Uint64Range(1, 1<<20).Draw(t, label+" leaves")
	i := rapid.Uint64Range(0, n-1).Draw(t, label+" index")
	k, _ := merkle.SiblingCount(i, n)
	p := merkle.Proof{Index: i, LeafCount: n, Siblings: make([]types.Hash, k)}
	for j := range p.Siblings {
		p.Siblings[j][0], p.Siblings[j][31] = byte(j), rapid.Byte().Draw(t, label+" sibling")
	}
	return p
}

func TestBatchAndAckRoundTrip(t *testing.T) {
	b := sampleBatch(t)
	enc := marshal(t, &b)
	if len(enc) != b.EncodedLen() {
		t.Fatalf("batch encoding of %d bytes, EncodedLen %d", len(enc), b.EncodedLen())
	}
	got, err := DecodeBatch(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(marshal(t, &got), enc) || got.Source != chainA || got.Dest != chainB || len(got.Packages) != 3 {
		t.Fatal("batch does not round-trip")
	}
	empty := Batch{Source: 1, Dest: 2}
	if got, err := DecodeBatch(marshal(t, &empty)); err != nil || got.Packages != nil {
		t.Fatalf("empty batch: %+v, %v", got, err)
	}

	a := sampleAck()
	enc = marshal(t, &a)
	if len(enc) != a.EncodedLen() {
		t.Fatalf("ack encoding of %d bytes, EncodedLen %d", len(enc), a.EncodedLen())
	}
	ga, err := DecodeAck(enc)
	if err != nil || ga.Chain != a.Chain || len(ga.IDs) != 2 || ga.IDs[1] != a.IDs[1] {
		t.Fatalf("ack does not round-trip: %+v, %v", ga, err)
	}
}

func TestEncodersRefuse(t *testing.T) {
	b := sampleBatch(t)
	tooMany := Batch{Packages: make([]Package, MaxBatchPackages+1)}
	bigProof := Batch{Packages: []Package{{Message: b.Packages[0].Message, Proof: make([]byte, MaxBatchSize)}}}
	badMsg := Batch{Packages: []Package{{Message: types.Message{Kind: 9}}}}
	big := Batch{}
	for range MaxBatchSize/(MaxProofLen+200) + 1 {
		big.Packages = append(big.Packages, Package{Message: b.Packages[0].Message, Proof: make([]byte, MaxProofLen)})
	}
	for name, bb := range map[string]*Batch{"too many": &tooMany, "proof too long": &bigProof, "message": &badMsg, "too large": &big} {
		dst := []byte("keep")
		if out, err := bb.AppendBinary(dst); err == nil || string(out) != "keep" {
			t.Fatalf("batch %s: %q, %v: want the input back and an error", name, out, err)
		}
	}
	ack := Ack{IDs: make([]types.Hash, MaxAckIDs+1)}
	if _, err := ack.MarshalBinary(); !errors.Is(err, codec.ErrTooLarge) {
		t.Fatalf("ack over MaxAckIDs: %v", err)
	}
	p := sampleProof(t)
	p.Path.Index = p.Path.LeafCount
	if _, err := p.MarshalBinary(); err == nil {
		t.Fatal("proof with a path of no shape encoded")
	}
	p = sampleProof(t)
	p.Source.Version = 2
	if _, err := p.MarshalBinary(); err == nil {
		t.Fatal("proof with an unsupported header version encoded")
	}
	r := sampleRefProof(t)
	r.Path.Index = r.Path.LeafCount
	if out, err := r.AppendBinary([]byte("keep")); err == nil || string(out) != "keep" {
		t.Fatalf("reference with a path of no shape: %q, %v: want the input back and an error", out, err)
	}
}

func TestSplitBatches(t *testing.T) {
	b := sampleBatch(t)
	var pkgs []Package
	for range 1000 {
		pkgs = append(pkgs, b.Packages...)
	}
	for _, max := range []int{0, 64 << 10, 1} {
		batches := SplitBatches(chainA, chainB, pkgs, max)
		limit := max
		if limit <= 0 {
			limit = MaxBatchSize
		}
		n := 0
		for i := range batches {
			bb := &batches[i]
			if bb.Source != chainA || bb.Dest != chainB || len(bb.Packages) == 0 || len(bb.Packages) > MaxBatchPackages {
				t.Fatalf("max %d: batch %d: %d packages", max, i, len(bb.Packages))
			}
			if bb.EncodedLen() > limit && len(bb.Packages) > 1 {
				t.Fatalf("max %d: batch %d of %d bytes", max, i, bb.EncodedLen())
			}
			if _, err := bb.MarshalBinary(); err != nil {
				t.Fatal(err)
			}
			for j := range bb.Packages {
				if bb.Packages[j].Message.ID() != pkgs[n].Message.ID() {
					t.Fatalf("max %d: package %d out of order", max, n)
				}
				n++
			}
		}
		if n != len(pkgs) {
			t.Fatalf("max %d: %d packages in batches, want %d", max, n, len(pkgs))
		}
	}
	if got := SplitBatches(1, 2, nil, 0); got != nil {
		t.Fatalf("batches of nothing: %v", got)
	}
	ids := make([]types.Hash, 2*MaxAckIDs+1)
	acks := SplitAcks(chainB, ids)
	if len(acks) != 3 || len(acks[2].IDs) != 1 || acks[0].Chain != chainB {
		t.Fatalf("SplitAcks gave %d acks", len(acks))
	}
}

func withUint32(b []byte, at int, v uint32) []byte {
	out := bytes.Clone(b)
	binary.BigEndian.PutUint32(out[at:], v)
	return out
}

func withByte(b []byte, at int, v byte) []byte {
	out := bytes.Clone(b)
	out[at] = v
	return out
}

// fuzzSeeds are the committed corpora: valid encodings (name prefix
// "valid") and one of each rejection.
func fuzzSeeds(tb fatalReporter) map[string]map[string][]byte {
	p := sampleProof(tb)
	proof := marshal(tb, &p)
	plen := p.Path.EncodedSize()
	bare := Proof{Source: p.Source, Path: p.Path}
	r := sampleRefProof(tb)
	ref := marshal(tb, &r)
	b := sampleBatch(tb)
	batch := marshal(tb, &b)
	a := sampleAck()
	ack := marshal(tb, &a)
	groups, refs := groupSeeds(tb)
	h, body := sourceBlock(chainA, 5, []types.Message{relayMsg(chainA, chainB, 1), relayMsg(chainA, chainB, 2), relayMsg(chainA, chainB, 3)})
	var pkgs []Package
	for _, a := range outbox(tb, &h, &body, testTopology(tb)) {
		pkgs = append(pkgs, a.Package)
	}
	packedBatch := SplitBatches(chainA, chainB, pkgs, 0)[0]
	return map[string]map[string][]byte{
		"FuzzDecodeGroupProof": groups,
		"FuzzDecodeGroupRef":   refs,
		"FuzzDecodeProof": {
			"valid-two-lifts":  proof,
			"valid-no-lift":    marshal(tb, &bare),
			"wrong-tag":        withByte(proof, 0, BatchTag),
			"truncated":        proof[:len(proof)-1],
			"trailing":         append(bytes.Clone(proof), 0),
			"too-many-lifts":   withByte(proof, 237+plen, MaxLifts+1),
			"path-length-long": withUint32(proof, 233, maxPathLen+1),
			"path-shape":       withByte(proof, 237+16, 9),
			"header-version":   withByte(proof, 2, 2),
			"oversized":        make([]byte, MaxProofLen+1),
		},
		"FuzzDecodeRefProof": {
			"valid":            ref,
			"valid-one-leaf":   marshal(tb, &RefProof{Chain: chainB, Height: 1, Path: merkle.Proof{LeafCount: 1}}),
			"wrong-tag":        withByte(ref, 0, ProofTag),
			"truncated":        ref[:len(ref)-1],
			"truncated-height": ref[:9],
			"trailing":         append(bytes.Clone(ref), 0),
			"path-length-long": withUint32(ref, 13, maxPathLen+1),
			"path-length-over": withUint32(ref, 13, uint32(len(ref)-refFixedSize+1)),
			"path-shape":       withByte(ref, 17+16, 9),
			"oversized":        append([]byte{RefProofTag}, make([]byte, MaxRefProofLen)...),
		},
		"FuzzDecodeBatch": {
			"valid":             batch,
			"valid-empty":       marshal(tb, &Batch{Source: 3, Dest: 4}),
			"valid-packed":      marshal(tb, &packedBatch),
			"wrong-tag":         withByte(batch, 0, AckTag),
			"truncated":         batch[:len(batch)/2],
			"trailing":          append(bytes.Clone(batch), 0),
			"too-many":          withUint32(batch, 9, MaxBatchPackages+1),
			"message-too-long":  withUint32(batch, 13, types.MessageMaxSize+1),
			"message-malformed": withByte(batch, 13+4+1, 7),
		},
		"FuzzDecodeAck": {
			"valid":       ack,
			"valid-empty": marshal(tb, &Ack{Chain: 1}),
			"wrong-tag":   withByte(ack, 0, ProofTag),
			"truncated":   ack[:len(ack)-1],
			"trailing":    append(bytes.Clone(ack), 0),
			"too-many":    withUint32(ack, 5, MaxAckIDs+1),
			"count-short": withUint32(ack, 5, 3),
		},
	}
}

var decoders = map[string]func([]byte) ([]byte, error){
	"FuzzDecodeGroupProof": func(b []byte) ([]byte, error) {
		g, err := DecodeGroupProof(b)
		if err != nil {
			return nil, err
		}
		return g.MarshalBinary()
	},
	"FuzzDecodeGroupRef": func(b []byte) ([]byte, error) {
		r, err := DecodeGroupRef(b)
		if err != nil {
			return nil, err
		}
		return r.MarshalBinary()
	},
	"FuzzDecodeProof": func(b []byte) ([]byte, error) {
		p, err := DecodeProof(b)
		if err != nil {
			return nil, err
		}
		return p.MarshalBinary()
	},
	"FuzzDecodeRefProof": func(b []byte) ([]byte, error) {
		r, err := DecodeRefProof(b)
		if err != nil {
			return nil, err
		}
		return r.MarshalBinary()
	},
	"FuzzDecodeBatch": func(b []byte) ([]byte, error) {
		v, err := DecodeBatch(b)
		if err != nil {
			return nil, err
		}
		return v.MarshalBinary()
	},
	"FuzzDecodeAck": func(b []byte) ([]byte, error) {
		v, err := DecodeAck(b)
		if err != nil {
			return nil, err
		}
		return v.MarshalBinary()
	},
}

// checkCanonical: the decoder either fails with a node/codec or
// crypto/merkle sentinel, or accepts input that re-encodes to itself.
func checkCanonical(t *testing.T, target string, b []byte) {
	enc, err := decoders[target](b)
	if err != nil {
		for _, s := range []error{codec.ErrTruncated, codec.ErrTrailingBytes, codec.ErrTooLarge, codec.ErrWrongType,
			codec.ErrNonCanonical, codec.ErrUnknownKind, codec.ErrUnsupportedVersion,
			merkle.ErrMalformedProof, merkle.ErrProofLength, merkle.ErrIndexOutOfRange} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("%s: error %v wraps no decoder sentinel", target, err)
	}
	if !bytes.Equal(enc, b) {
		t.Fatalf("%s: accepted input re-encodes differently\n in  %x\n out %x", target, b, enc)
	}
}

func FuzzDecodeProof(f *testing.F) {
	f.Add(marshal(f, ptr(sampleProof(f))))
	topo := testTopology(f)
	msg := relayMsg(chainC, chainA, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCanonical(t, "FuzzDecodeProof", b)
		v := Verifier{Chain: chainA, Topology: topo, Anchors: anchors{}, Consumed: consumed{}}
		if err := v.VerifyRelay(&msg, b); err == nil {
			t.Fatal("a proof verified with no confirmed header")
		}
	})
}

func FuzzDecodeRefProof(f *testing.F) {
	f.Add(marshal(f, ptr(sampleRefProof(f))))
	topo := testTopology(f)
	msg := relayMsg(chainA, chainB, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCanonical(t, "FuzzDecodeRefProof", b)
		v := Verifier{Chain: chainB, Topology: topo, Anchors: anchors{}, Consumed: consumed{}}
		if err := v.VerifyRelay(&msg, b); err == nil {
			t.Fatal("a proof verified with no recorded header")
		}
	})
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(marshal(f, ptr(sampleBatch(f))))
	topo := testTopology(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCanonical(t, "FuzzDecodeBatch", b)
		if batch, err := DecodeBatch(b); err == nil {
			in := NewInbox(chainB, topo, 8)
			pkgs, _ := batch.Unpacked()
			for _, p := range pkgs {
				_ = in.Add(p)
			}
			in.Ready(&Verifier{Chain: chainB, Topology: topo, Anchors: anchors{}, Consumed: consumed{}}, 8)
		}
	})
}

func FuzzDecodeAck(f *testing.F) {
	f.Add(marshal(f, ptr(sampleAck())))
	f.Fuzz(func(t *testing.T, b []byte) { checkCanonical(t, "FuzzDecodeAck", b) })
}

func ptr[T any](v T) *T { return &v }

var writeFuzzCorpus = flag.Bool("write-fuzz-corpus", false, "rewrite the seed corpora under testdata/fuzz")

// TestWriteFuzzCorpus writes the named seed files of each fuzz target. It
// does nothing unless -write-fuzz-corpus is given.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeFuzzCorpus {
		t.Skip("rewrite with -write-fuzz-corpus")
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
// encodings, and checks that each seed is accepted or rejected as its name
// says.
func TestFuzzCorpusMatchesSeeds(t *testing.T) {
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
			_, err = decoders[target](want)
			if valid := strings.HasPrefix(name, "valid"); valid != (err == nil) {
				t.Errorf("%s: seed %q decodes with error %v", target, name, err)
			}
			checkCanonical(t, target, want)
		}
	}
}
