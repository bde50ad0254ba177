package consensus

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// The fuzz targets share one property: decoding never panics, an accepted
// input re-encodes to exactly the same bytes, and a rejected one is
// rejected with a node/codec sentinel. Accepted values also go through
// ValidateBasic and their signing bytes, which must not panic on anything
// that decodes.
//
// Their seed corpora live in testdata/fuzz/<target>/ and run with every
// `go test`; rewrite them with
//
//	go test -run '^TestWriteFuzzCorpus$' ./node/consensus -write-fuzz-corpus

var codecSentinels = []error{
	codec.ErrTruncated, codec.ErrTrailingBytes, codec.ErrNonCanonical, codec.ErrTooLarge,
	codec.ErrUnknownKind, codec.ErrWrongType, codec.ErrUnsupportedVersion,
}

func wrapsCodecSentinel(err error) bool {
	for _, s := range codecSentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func fuzzCanonical[T any](t *testing.T, b []byte, decode func([]byte) (T, error), encode func(T) ([]byte, error)) (T, bool) {
	v, err := decode(b)
	if err != nil {
		if !wrapsCodecSentinel(err) {
			t.Fatalf("error wraps no codec sentinel: %v", err)
		}
		return v, false
	}
	again, err := encode(v)
	if err != nil {
		t.Fatalf("accepted input does not re-encode: %v", err)
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("accepted input re-encodes differently\n  in % x\n out % x", b, again)
	}
	return v, true
}

func encodeAny[M Message](m M) ([]byte, error) { return EncodeMessage(m) }

// exercise runs what a core does first with a decoded message.
func exercise(m Message) {
	_ = m.ValidateBasic()
	switch m := m.(type) {
	case *Proposal:
		_ = m.SigningBytes()
		_ = SafeValue(m.Justification, len(m.Justification))
		_ = highestCertificates(m.Justification)
	case *RoundChange:
		_ = m.SigningBytes()
		_ = roundChangeKey(m)
	case *Prepare:
		_ = m.Vote.SigningBytes()
	case *Confirm:
		_ = m.Vote.SigningBytes()
		_ = m.PrepareCertificate.Hash()
	case *Decision:
		_ = m.Value()
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(mustEncodeMessage(f, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, ok := fuzzCanonical(t, b, DecodeMessage, EncodeMessage); ok {
			if MessageKind(b[0]) != m.Kind() {
				t.Fatalf("kind byte 0x%02x decoded as %v", b[0], m.Kind())
			}
			exercise(m)
		}
	})
}

func FuzzDecodeProposal(f *testing.F) {
	f.Add(mustEncodeMessage(f, sampleProposalJustified()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, ok := fuzzCanonical(t, b, DecodeProposal, encodeAny[*Proposal]); ok {
			exercise(m)
		}
	})
}

func FuzzDecodePrepare(f *testing.F) {
	f.Add(mustEncodeMessage(f, samplePrepare()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, ok := fuzzCanonical(t, b, DecodePrepare, encodeAny[*Prepare]); ok {
			exercise(m)
		}
	})
}

func FuzzDecodeConfirm(f *testing.F) {
	f.Add(mustEncodeMessage(f, sampleConfirm()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, ok := fuzzCanonical(t, b, DecodeConfirm, encodeAny[*Confirm]); ok {
			exercise(m)
		}
	})
}

func FuzzDecodeRoundChange(f *testing.F) {
	f.Add(mustEncodeMessage(f, sampleRoundChange()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, ok := fuzzCanonical(t, b, DecodeRoundChange, encodeAny[*RoundChange]); ok {
			exercise(m)
		}
	})
}

func FuzzDecodeDecision(f *testing.F) {
	f.Add(mustEncodeMessage(f, sampleDecision()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, ok := fuzzCanonical(t, b, DecodeDecision, encodeAny[*Decision]); ok {
			exercise(m)
		}
	})
}

func FuzzDecodeEvidence(f *testing.F) {
	e := sampleVoteEvidence()
	b, _ := e.MarshalBinary()
	f.Add(b)
	encode := func(e Evidence) ([]byte, error) { return e.MarshalBinary() }
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, ok := fuzzCanonical(t, b, DecodeEvidence, encode); ok {
			_ = e.Offender()
			err := VerifyEvidence(&e, 4, func(types.ValidatorIndex, []byte, [types.BLSSignatureSize]byte) bool { return true })
			if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnknownMember) {
				t.Fatalf("VerifyEvidence error of no class: %v", err)
			}
		}
	})
}

func FuzzDecodePersistentState(f *testing.F) {
	s := samplePersistentState()
	b, _ := EncodePersistentState(&s)
	f.Add(b)
	encode := func(s PersistentState) ([]byte, error) { return EncodePersistentState(&s) }
	cfg := defaultTestConfig(4, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, ok := fuzzCanonical(t, b, DecodePersistentState, encode); ok {
			if err := s.validateFor(&cfg); err == nil {
				// A state New accepts must give a core that starts.
				c, err := New(cfg, s)
				if err != nil {
					t.Fatalf("validated state refused by New: %v", err)
				}
				if err := c.Step(Start{}); err != nil {
					t.Fatalf("start from a valid state: %v", err)
				}
				if err := c.CheckInvariants(); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

var writeFuzzCorpus = flag.Bool("write-fuzz-corpus", false, "rewrite the seed corpora under testdata/fuzz")

// TestWriteFuzzCorpus writes the named seed files of each fuzz target:
// valid encodings of every shape, and one input per rejection rule. It does
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
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func fuzzSeeds(t *testing.T) map[string]map[string][]byte {
	msgs := make(map[string][]byte)
	for name, m := range sampleMessages() {
		msgs["valid-"+name] = mustEncodeMessage(t, m)
	}
	prepare := msgs["valid-prepare"]
	confirm := msgs["valid-confirm"]
	rc := msgs["valid-round-change"]
	prop := msgs["valid-proposal-round-0"]
	just := msgs["valid-proposal-justified"]
	dec := msgs["valid-decision"]
	countAt := 258 + len(sampleProposalRound0().Block.Body)

	rejects := map[string][]byte{
		"unknown-kind":      withByte(prepare, 0, 0x1f),
		"prepare-truncated": prepare[:100],
		"prepare-confirm":   withByte(prepare, 18, byte(types.VoteConfirm)),
		"confirm-cert-long": withUint32(confirm, 151, uint32(types.CertificateMaxSize+1)),
		"confirm-trailing":  append(bytes.Clone(confirm), 0),
		"rc-bad-bool":       withByte(mustEncodeMessage(t, signedRoundChange(2, 5, 1, nil, nil)), 21, 2),
		"rc-truncated":      rc[:50],
		"proposal-count":    withUint32(prop, countAt, MaxJustification+1),
		"proposal-body":     withUint32(prop, 254, MaxBlockBodySize+1),
		"proposal-cut":      just[:len(just)-200],
		"decision-trailing": append(bytes.Clone(dec), 0),
	}
	all := make(map[string][]byte)
	for k, v := range msgs {
		all[k] = v
	}
	for k, v := range rejects {
		all[k] = v
	}
	only := func(kind MessageKind, extra map[string][]byte) map[string][]byte {
		out := make(map[string][]byte)
		for name, b := range msgs {
			if MessageKind(b[0]) == kind {
				out[name] = b
			}
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	ve := sampleVoteEvidence()
	voteEv, _ := ve.MarshalBinary()
	pe := sampleProposalEvidence()
	propEv, _ := pe.MarshalBinary()
	full := samplePersistentState()
	state, _ := EncodePersistentState(&full)
	initial := InitialState(testChain, 1)
	initialState, _ := EncodePersistentState(&initial)
	return map[string]map[string][]byte{
		"FuzzDecodeMessage":     all,
		"FuzzDecodeProposal":    only(KindProposal, map[string][]byte{"count": rejects["proposal-count"], "body": rejects["proposal-body"], "cut": rejects["proposal-cut"]}),
		"FuzzDecodePrepare":     only(KindPrepare, map[string][]byte{"truncated": rejects["prepare-truncated"], "confirm-vote": rejects["prepare-confirm"]}),
		"FuzzDecodeConfirm":     only(KindConfirm, map[string][]byte{"cert-long": rejects["confirm-cert-long"], "trailing": rejects["confirm-trailing"]}),
		"FuzzDecodeRoundChange": only(KindRoundChange, map[string][]byte{"bad-bool": rejects["rc-bad-bool"], "truncated": rejects["rc-truncated"]}),
		"FuzzDecodeDecision":    only(KindDecision, map[string][]byte{"trailing": rejects["decision-trailing"]}),
		"FuzzDecodeEvidence": {
			"valid-votes": voteEv, "valid-proposals": propEv,
			"unknown-kind": withByte(voteEv, 1, 9), "truncated": voteEv[:120], "wrong-tag": withByte(voteEv, 0, 1),
		},
		"FuzzDecodePersistentState": {
			"valid-full": state, "valid-initial": initialState,
			"truncated": state[:len(state)-3], "trailing": append(bytes.Clone(state), 0), "bad-bool": withByte(state, 17, 2),
		},
	}
}
