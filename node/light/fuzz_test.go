package light

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thinkey/thinkey/node/codec"
)

// The fuzz targets share one property: decoding never panics, an accepted
// input re-encodes to exactly the same bytes, and a rejected one is
// rejected with a codec sentinel. Accepted proofs also go through the
// verifier, with and without the topology, which must not panic on
// anything that decodes.
//
// Their seed corpora live in testdata/fuzz/<target>/ and run with every
// `go test`; rewrite them with
//
//	go test -run '^TestWriteFuzzCorpus$' ./node/light -write-fuzz-corpus

var writeFuzzCorpus = flag.Bool("write-fuzz-corpus", false, "rewrite the seed corpora under testdata/fuzz")

var codecSentinels = []error{
	codec.ErrTruncated, codec.ErrTrailingBytes, codec.ErrNonCanonical, codec.ErrTooLarge,
	codec.ErrUnknownKind, codec.ErrWrongType, codec.ErrUnsupportedVersion,
}

func fuzzCanonical[T any, P interface {
	*T
	MarshalBinary() ([]byte, error)
}](t *testing.T, b []byte, decode func([]byte) (T, error)) (P, bool) {
	v, err := decode(b)
	if err != nil {
		for _, s := range codecSentinels {
			if errors.Is(err, s) {
				return nil, false
			}
		}
		t.Fatalf("error wraps no codec sentinel: %v", err)
	}
	p := P(&v)
	again, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("accepted input does not re-encode: %v", err)
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("accepted input re-encodes differently\n  in % x\n out % x", b, again)
	}
	return p, true
}

func fuzzVerifiers(f *testing.F) []Verifier {
	w := newWorld(f)
	return []Verifier{{RootKeys: w.pubs}, {RootKeys: w.pubs, Topology: w.topo}}
}

func addSeeds(f *testing.F, target string) {
	for _, b := range fuzzSeeds(f)[target] {
		f.Add(b)
	}
}

func FuzzDecodeHeaderProof(f *testing.F) {
	addSeeds(f, "FuzzDecodeHeaderProof")
	vs := fuzzVerifiers(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, ok := fuzzCanonical(t, b, DecodeHeaderProof); ok {
			for _, v := range vs {
				_ = v.VerifyHeader(p)
			}
		}
	})
}

func FuzzDecodeAccountProof(f *testing.F) {
	addSeeds(f, "FuzzDecodeAccountProof")
	vs := fuzzVerifiers(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, ok := fuzzCanonical(t, b, DecodeAccountProof); ok {
			for _, v := range vs {
				_, _ = v.VerifyAccount(p)
			}
		}
	})
}

func FuzzDecodeRelayProof(f *testing.F) {
	addSeeds(f, "FuzzDecodeRelayProof")
	vs := fuzzVerifiers(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, ok := fuzzCanonical(t, b, DecodeRelayProof); ok {
			for _, v := range vs {
				_ = v.VerifyRelay(p)
			}
		}
	})
}

// fuzzSeeds returns the named seed files of each target: valid proofs of
// every shape (signed by the test root committee, so the verifier runs to
// the end on them) and one input per rejection rule (badSeeds).
func fuzzSeeds(tb fatalReporter) map[string]map[string][]byte {
	w := newWorld(tb)
	root, tx, empty, sub := w.rootProof(), w.txProof(tb), w.emptyProof(tb), w.subProof(tb)
	seeds := map[string]map[string][]byte{
		"FuzzDecodeHeaderProof": {
			"valid-root":      mustEncode(tb, &root),
			"valid-one-lift":  mustEncode(tb, &tx),
			"valid-empty":     mustEncode(tb, &empty),
			"valid-two-lifts": mustEncode(tb, &sub),
		},
		"FuzzDecodeAccountProof": {},
		"FuzzDecodeRelayProof":   {},
	}
	for i := range w.accounts {
		p := w.accountProof(tb, i)
		seeds["FuzzDecodeAccountProof"][fmt.Sprintf("valid-%d", i)] = mustEncode(tb, &p)
	}
	for i := range w.relays.OuterRelay {
		p := w.relayProof(tb, i)
		seeds["FuzzDecodeRelayProof"][fmt.Sprintf("valid-%d", i)] = mustEncode(tb, &p)
	}
	for target, bad := range badSeeds(tb, w) {
		for name, s := range bad {
			seeds[target][name] = s.in
		}
	}
	return seeds
}

func corpusFile(b []byte) string { return fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b) }

// TestWriteFuzzCorpus writes the seed files of each fuzz target. It does
// nothing unless -write-fuzz-corpus is given, so test runs never touch
// testdata; files the fuzzer added (crashers) are left alone.
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
			if err := os.WriteFile(filepath.Join(dir, name), []byte(corpusFile(b)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestFuzzCorpusMatchesSeeds checks that the committed seed files are the
// ones fuzzSeeds describes, so a format change cannot leave the corpus
// silently stale: valid seeds must still decode and verify, invalid ones
// must still be rejected.
func TestFuzzCorpusMatchesSeeds(t *testing.T) {
	w := newWorld(t)
	checks := map[string]func([]byte) error{
		"FuzzDecodeHeaderProof": func(b []byte) error {
			p, err := DecodeHeaderProof(b)
			if err != nil {
				return err
			}
			return VerifyHeader(&p, w.pubs)
		},
		"FuzzDecodeAccountProof": func(b []byte) error {
			p, err := DecodeAccountProof(b)
			if err != nil {
				return err
			}
			_, err = VerifyAccount(&p, w.pubs)
			return err
		},
		"FuzzDecodeRelayProof": func(b []byte) error {
			p, err := DecodeRelayProof(b)
			if err != nil {
				return err
			}
			return VerifyRelay(&p, w.pubs)
		},
	}
	for target, seeds := range fuzzSeeds(t) {
		for name, want := range seeds {
			path := filepath.Join("testdata", "fuzz", target, name)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (rewrite the corpus with -write-fuzz-corpus)", err)
			}
			if string(raw) != corpusFile(want) {
				t.Errorf("%s is stale; rewrite the corpus with -write-fuzz-corpus", path)
			}
			err = checks[target](want)
			if valid := strings.HasPrefix(name, "valid"); valid != (err == nil) {
				t.Errorf("%s: seed named %q checks with error %v", target, name, err)
			}
		}
	}
}
