package types

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

// The fuzz targets share one property: decoding never panics, an accepted
// input re-encodes to exactly the same bytes, and a rejected one is rejected
// with a codec sentinel. Accepted values also go through ValidateBasic, Hash
// and the signing bytes, which must not panic on anything that decodes.
//
// Their seed corpora live in testdata/fuzz/<target>/ and run with every
// `go test`; rewrite them with
//
//	go test -run '^TestWriteFuzzCorpus$' ./node/types -write-fuzz-corpus

func fuzzCanonical[T any](t *testing.T, b []byte, decode func([]byte) (T, error), encode func(*T) ([]byte, error)) (T, bool) {
	v, err := decode(b)
	if err != nil {
		if !wrapsCodecSentinel(err) {
			t.Fatalf("error wraps no codec sentinel: %v", err)
		}
		return v, false
	}
	again, err := encode(&v)
	if err != nil {
		t.Fatalf("accepted input does not re-encode: %v", err)
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("accepted input re-encodes differently\n  in % x\n out % x", b, again)
	}
	return v, true
}

func FuzzDecodeHeader(f *testing.F) {
	h := sampleHeader()
	f.Add(mustEncode(f, &h))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, ok := fuzzCanonical(t, b, DecodeHeader, (*Header).MarshalBinary); ok {
			_ = h.ValidateBasic()
			_ = h.Hash()
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	m := sampleMessage()
	f.Add(mustEncode(f, &m))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, ok := fuzzCanonical(t, b, DecodeMessage, (*Message).MarshalBinary); ok {
			_ = m.ValidateBasic()
			_ = m.ID()
			if sb := m.SigningBytes(); !bytes.Equal(sb[len(MessageSigningDomain):], b[:len(b)-Ed25519SignatureSize]) {
				t.Fatal("signing bytes are not the unsigned prefix of the encoding")
			}
		}
	})
}

func FuzzDecodeVote(f *testing.F) {
	v := sampleVote()
	f.Add(mustEncode(f, &v))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, ok := fuzzCanonical(t, b, DecodeVote, (*Vote).MarshalBinary); ok {
			_ = v.ValidateBasic()
			_ = v.Hash()
			if sb := v.SigningBytes(); !bytes.Equal(sb[len(VoteSigningDomain):], b[1:50]) {
				t.Fatal("signing bytes are not the signed fields of the encoding")
			}
		}
	})
}

func FuzzDecodeCertificate(f *testing.F) {
	c := sampleCertificate(f, 400)
	f.Add(mustEncode(f, &c))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, ok := fuzzCanonical(t, b, DecodeCertificate, (*Certificate).MarshalBinary); ok {
			_ = c.ValidateBasic()
			_ = c.Hash()
			_ = c.VoteSigningBytes()
			if len(c.SignerIndices(nil)) != c.SignerCount() {
				t.Fatal("SignerIndices and SignerCount disagree")
			}
		}
	})
}

var writeFuzzCorpus = flag.Bool("write-fuzz-corpus", false, "rewrite the seed corpora under testdata/fuzz")

// TestWriteFuzzCorpus writes the named seed files of each fuzz target: valid
// encodings of every kind, and one input per rejection rule. It does nothing
// unless -write-fuzz-corpus is given, so test runs never touch testdata;
// files the fuzzer added (crashers) are left alone.
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

func fuzzSeeds(t *testing.T) map[string]map[string][]byte {
	h := sampleHeader()
	header := mustEncode(t, &h)
	empty := h
	empty.Empty = true
	genesis := h
	genesis.Height, genesis.ParentHash = 0, Hash{}

	m := sampleMessage()
	message := mustEncode(t, &m)
	relay := sampleRelay()
	inter := sampleRelay()
	inter.Kind = MessageInterRelay
	bare := sampleRelay()
	bare.Method, bare.Args = nil, nil
	bigMethod := sampleMessage()
	bigMethod.Method = bytes.Repeat([]byte("m"), MaxMethodLen)
	longMethod := bytes.Clone(message)
	binary.BigEndian.PutUint32(longMethod[62:], MaxMethodLen+1)
	relayEnc := mustEncode(t, &relay)
	// An external kind byte on a relay encoding: the 32 cause bytes are then
	// read as Nonce, Value and lengths, which no longer fit.
	externalKindOnRelay := withByte(relayEnc, 1, byte(MessageExternal))

	v := sampleVote()
	vote := mustEncode(t, &v)
	faulty := v
	faulty.Kind, faulty.BlockHash = VoteLeaderFaulty, Hash{}
	confirm := v
	confirm.Kind = VoteConfirm

	c400 := sampleCertificate(t, 400)
	certificate := mustEncode(t, &c400)
	c10 := sampleCertificate(t, 10)
	c10enc := mustEncode(t, &c10)
	c1 := sampleCertificate(t, 1)
	cMax := sampleCertificate(t, MaxCommitteeSize)
	bigCommittee := bytes.Clone(c10enc)
	binary.BigEndian.PutUint32(bigCommittee[50:], MaxCommitteeSize+1)

	return map[string]map[string][]byte{
		"FuzzDecodeHeader": {
			"valid":             header,
			"valid-empty-block": mustEncode(t, &empty),
			"valid-genesis":     mustEncode(t, &genesis),
			"truncated":         header[:100],
			"trailing":          append(bytes.Clone(header), 0),
			"bad-bool":          withByte(header, 231, 2),
			"bad-version":       withByte(header, 2, 2),
			"wrong-tag":         withByte(header, 0, byte(TagVote)),
		},
		"FuzzDecodeMessage": {
			"valid-external":          message,
			"valid-outer-relay":       relayEnc,
			"valid-inter-relay":       mustEncode(t, &inter),
			"valid-bare":              mustEncode(t, &bare),
			"valid-long-method":       mustEncode(t, &bigMethod),
			"truncated-args":          message[:100],
			"trailing":                append(bytes.Clone(message), 0),
			"unknown-kind":            withByte(message, 1, 4),
			"oversized-method":        longMethod,
			"wrong-tag":               withByte(message, 0, byte(TagHeader)),
			"relay-cut-in-cause":      relayEnc[:60],
			"relay-kind-byte-changed": externalKindOnRelay,
		},
		"FuzzDecodeVote": {
			"valid-prepare":       vote,
			"valid-leader-faulty": mustEncode(t, &faulty),
			"valid-confirm":       mustEncode(t, &confirm),
			"truncated":           vote[:60],
			"trailing":            append(bytes.Clone(vote), 0),
			"unknown-kind":        withByte(vote, 17, 9),
			"wrong-tag":           withByte(vote, 0, byte(TagCertificate)),
		},
		"FuzzDecodeCertificate": {
			"valid-400":           certificate,
			"valid-10":            c10enc,
			"valid-1":             mustEncode(t, &c1),
			"valid-1024":          mustEncode(t, &cMax),
			"padding-bit":         withByte(c10enc, 55, 0b110),
			"committee-too-large": bigCommittee,
			"truncated":           certificate[:80],
			"trailing":            append(bytes.Clone(c10enc), 0),
			"unknown-kind":        withByte(c10enc, 17, 0),
		},
	}
}

// TestFuzzCorpusMatchesSeeds checks that the committed seed files are the
// ones fuzzSeeds describes, so a format change cannot leave the corpus
// silently stale: valid seeds must still decode and invalid ones must still
// be rejected.
func TestFuzzCorpusMatchesSeeds(t *testing.T) {
	decoders := map[string]func([]byte) error{
		"FuzzDecodeHeader":      func(b []byte) error { _, err := DecodeHeader(b); return err },
		"FuzzDecodeMessage":     func(b []byte) error { _, err := DecodeMessage(b); return err },
		"FuzzDecodeVote":        func(b []byte) error { _, err := DecodeVote(b); return err },
		"FuzzDecodeCertificate": func(b []byte) error { _, err := DecodeCertificate(b); return err },
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
				t.Errorf("%s: seed named %q decodes with error %v", target, name, err)
			}
		}
	}
}
