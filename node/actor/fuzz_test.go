package actor

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecodeAccount: decoding never panics, an accepted input re-encodes to
// exactly the same bytes, and a rejected one is rejected with a codec
// sentinel. Accepted accounts also go through LeafHash and Clone.
//
// The seed corpus lives in testdata/fuzz/FuzzDecodeAccount/ and runs with
// every `go test`; rewrite it with
//
//	go test -run '^TestWriteFuzzCorpus$' ./node/actor -write-fuzz-corpus
func FuzzDecodeAccount(f *testing.F) {
	a := sampleAccount(f)
	f.Add(mustEncode(f, &a))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkAccountCanonical(t, b)
		if a, err := DecodeAccount(b); err == nil {
			_ = a.LeafHash()
			c := a.Clone()
			if !c.Equal(&a) {
				t.Fatal("Clone differs")
			}
		}
	})
}

var writeFuzzCorpus = flag.Bool("write-fuzz-corpus", false, "rewrite the seed corpora under testdata/fuzz")

func accountSeeds(t *testing.T) map[string][]byte {
	a := sampleAccount(t)
	valid := mustEncode(t, &a)
	plain := Account{Address: a.Address, Balance: 5}
	empty := mustEncode(t, &plain)
	unsorted := binary.BigEndian.AppendUint32(bytes.Clone(empty[:len(empty)-4]), 2)
	for _, kv := range []string{"b", "2", "a", "1"} {
		unsorted = binary.BigEndian.AppendUint32(unsorted, 1)
		unsorted = append(unsorted, kv...)
	}
	tooMany := bytes.Clone(empty)
	binary.BigEndian.PutUint32(tooMany[len(tooMany)-4:], MaxStorageEntries+1)
	return map[string][]byte{
		"valid":             valid,
		"valid-plain":       empty,
		"truncated":         valid[:30],
		"trailing":          append(bytes.Clone(valid), 0),
		"wrong-tag":         append([]byte{0x02}, valid[1:]...),
		"unsorted-keys":     unsorted,
		"too-many-entries":  tooMany,
		"code-length-large": func() []byte { b := bytes.Clone(empty); binary.BigEndian.PutUint32(b[37:], MaxCodeLen+1); return b }(),
	}
}

// TestWriteFuzzCorpus writes the named seed files: valid encodings and one
// input per rejection rule. It does nothing unless -write-fuzz-corpus is
// given.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeFuzzCorpus {
		return
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeAccount")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range accountSeeds(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFuzzCorpusMatchesSeeds keeps the committed corpus in step with the
// encoding: valid seeds decode, the others do not.
func TestFuzzCorpusMatchesSeeds(t *testing.T) {
	for name, want := range accountSeeds(t) {
		path := filepath.Join("testdata", "fuzz", "FuzzDecodeAccount", name)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (rewrite the corpus with -write-fuzz-corpus)", err)
		}
		if body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", want); string(raw) != body {
			t.Errorf("%s is stale; rewrite the corpus with -write-fuzz-corpus", path)
		}
		_, err = DecodeAccount(want)
		if valid := strings.HasPrefix(name, "valid"); valid != (err == nil) {
			t.Errorf("seed %q decodes with error %v", name, err)
		}
	}
}
