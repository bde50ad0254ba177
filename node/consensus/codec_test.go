package consensus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

func mustEncodeMessage(t testing.TB, m Message) []byte {
	t.Helper()
	b, err := EncodeMessage(m)
	if err != nil {
		t.Fatalf("encode %v: %v", m.Kind(), err)
	}
	return b
}

func sampleMessages() map[string]Message {
	return map[string]Message{
		"proposal-round-0":   sampleProposalRound0(),
		"proposal-justified": sampleProposalJustified(),
		"proposal-empty":     sampleProposalEmpty(),
		"prepare":            samplePrepare(),
		"leader-faulty":      sampleLeaderFaulty(),
		"confirm":            sampleConfirm(),
		"confirm-empty":      sampleConfirmEmpty(),
		"round-change":       sampleRoundChange(),
		"round-change-bare":  signedRoundChange(2, 5, 1, nil, nil),
		"decision":           sampleDecision(),
		"decision-fast":      sampleDecisionFast(),
		"decision-empty":     sampleDecisionEmpty(),
	}
}

// Every message re-encodes to the bytes it was decoded from, decodes to its
// own kind through DecodeMessage, and passes ValidateBasic.
func TestMessagesRoundTrip(t *testing.T) {
	for name, m := range sampleMessages() {
		t.Run(name, func(t *testing.T) {
			if err := m.ValidateBasic(); err != nil {
				t.Fatalf("sample does not validate: %v", err)
			}
			b := mustEncodeMessage(t, m)
			got, err := DecodeMessage(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.Kind() != m.Kind() {
				t.Fatalf("decoded a %v from a %v", got.Kind(), m.Kind())
			}
			again := mustEncodeMessage(t, got)
			if !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs\n in % x\nout % x", b, again)
			}
			if err := got.ValidateBasic(); err != nil {
				t.Fatalf("decoded message does not validate: %v", err)
			}
		})
	}
}

func withByte(b []byte, at int, v byte) []byte {
	out := bytes.Clone(b)
	out[at] = v
	return out
}

func withUint32(b []byte, at int, v uint32) []byte {
	out := bytes.Clone(b)
	binary.BigEndian.PutUint32(out[at:], v)
	return out
}

// Each rejection rule of the decoders, with the codec sentinel it reports.
func TestDecodeRejects(t *testing.T) {
	prepare := mustEncodeMessage(t, samplePrepare())
	confirm := mustEncodeMessage(t, sampleConfirm())
	rc := mustEncodeMessage(t, sampleRoundChange())
	bareRC := mustEncodeMessage(t, signedRoundChange(2, 5, 1, nil, nil))
	prop := mustEncodeMessage(t, sampleProposalRound0())
	just := mustEncodeMessage(t, sampleProposalJustified())
	dec := mustEncodeMessage(t, sampleDecision())
	// Offsets: a proposal's HasBlock byte is at 21, its body length at 254,
	// its justification count after the body.
	bodyLen := len(sampleProposalRound0().Block.Body)
	countAt := 258 + bodyLen
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, codec.ErrTruncated},
		{"unknown kind byte", withByte(prepare, 0, 0x1f), codec.ErrUnknownKind},
		{"node/types tag is not a message", withByte(prepare, 0, byte(types.TagVote)), codec.ErrUnknownKind},
		{"prepare truncated", prepare[:100], codec.ErrTruncated},
		{"prepare trailing", append(bytes.Clone(prepare), 0), codec.ErrTooLarge},
		{"prepare carrying a confirm vote", withByte(prepare, 18, byte(types.VoteConfirm)), codec.ErrUnknownKind},
		{"prepare vote with a wrong tag", withByte(prepare, 1, byte(types.TagHeader)), codec.ErrWrongType},
		{"confirm truncated in the certificate", confirm[:len(confirm)-10], codec.ErrTruncated},
		{"confirm trailing", append(bytes.Clone(confirm), 0), codec.ErrTrailingBytes},
		{"confirm certificate length too long", withUint32(confirm, 151, uint32(types.CertificateMaxSize+1)), codec.ErrTooLarge},
		{"confirm certificate length short", withUint32(confirm, 151, 100), codec.ErrTruncated},
		{"confirm carrying a prepare vote", withByte(confirm, 18, byte(types.VotePrepare)), codec.ErrUnknownKind},
		{"round change bad bool", withByte(bareRC, 21, 2), codec.ErrNonCanonical},
		{"round change truncated", rc[:50], codec.ErrTruncated},
		{"round change trailing", append(bytes.Clone(rc), 0), codec.ErrTrailingBytes},
		{"round change as a prepare", withByte(rc, 0, byte(KindPrepare)), codec.ErrTooLarge},
		{"prepare as a round change", withByte(prepare, 0, byte(KindRoundChange)), codec.ErrNonCanonical},
		{"proposal bad HasBlock", withByte(prop, 21, 2), codec.ErrNonCanonical},
		{"proposal body too large", withUint32(prop, 254, MaxBlockBodySize+1), codec.ErrTooLarge},
		{"proposal justification count too large", withUint32(prop, countAt, MaxJustification+1), codec.ErrTooLarge},
		{"proposal justification count beyond input", withUint32(prop, countAt, 3), codec.ErrTruncated},
		{"proposal truncated in the justification", just[:len(just)-200], codec.ErrTruncated},
		{"proposal trailing", append(bytes.Clone(prop), 0), codec.ErrTrailingBytes},
		{"proposal header version", withByte(prop, 23, 9), codec.ErrUnsupportedVersion},
		{"decision truncated", dec[:len(dec)-1], codec.ErrTruncated},
		{"decision trailing", append(bytes.Clone(dec), 0), codec.ErrTrailingBytes},
		{"decision bad HasBlock", withByte(dec, 1, 7), codec.ErrNonCanonical},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := DecodeMessage(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, %v; want an error wrapping %v", m, err, tc.want)
			}
			if m != nil {
				t.Fatalf("a failed decode returned a message %T", m)
			}
		})
	}
	t.Run("oversized input is refused before reading", func(t *testing.T) {
		big := make([]byte, ProposalMaxSize+1)
		big[0] = byte(KindProposal)
		if _, err := DecodeProposal(big); !errors.Is(err, codec.ErrTooLarge) {
			t.Fatalf("got %v", err)
		}
	})
}

// Encoding refuses what decoding would refuse.
func TestEncodeRefusesUndecodable(t *testing.T) {
	badVote := samplePrepare()
	badVote.Vote.Kind = types.VoteConfirm
	badConfirm := sampleConfirm()
	badConfirm.PrepareCertificate.Kind = types.VoteConfirm
	bigBody := sampleProposalRound0()
	bigBody.Block.Body = make([]byte, MaxBlockBodySize+1)
	badRC := sampleRoundChange()
	badRC.LastPrepare.Kind = types.VoteConfirm
	for name, m := range map[string]Message{"prepare": badVote, "confirm": badConfirm, "proposal": bigBody, "round change": badRC} {
		if _, err := EncodeMessage(m); err == nil {
			t.Errorf("%s: encoded an undecodable value", name)
		}
	}
	if _, err := EncodeMessage(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil message: %v", err)
	}
}

// ValidateBasic's rules, each broken once.
func TestValidateBasicRejects(t *testing.T) {
	cases := map[string]func() Message{
		"prepare unsigned": func() Message { m := samplePrepare(); m.Vote.Signature = [96]byte{}; return m },
		"leader-faulty naming a block": func() Message {
			m := sampleLeaderFaulty()
			m.Vote.BlockHash[0] = 1
			return m
		},
		"confirm certificate of another round": func() Message {
			m := sampleConfirm()
			m.PrepareCertificate.Round++
			return m
		},
		"confirm certificate of another value": func() Message {
			m := sampleConfirm()
			m.PrepareCertificate.BlockHash[0] ^= 1
			return m
		},
		"round change for round 0":         func() Message { m := sampleRoundChange(); m.Round = 0; return m },
		"round change reporting its round": func() Message { m := sampleRoundChange(); m.LastPrepare.Round = m.Round; return m },
		"round change reporting another's prepare": func() Message {
			m := sampleRoundChange()
			m.LastPrepare.Voter++
			return m
		},
		"round change certificate of its round": func() Message {
			m := sampleRoundChange()
			m.HighestCertificate.Round = m.Round
			return m
		},
		"round 0 proposing EMPTY": func() Message { m := sampleProposalRound0(); m.Block = nil; return m },
		"round 0 with a justification": func() Message {
			m := sampleProposalRound0()
			m.Justification = sampleProposalJustified().Justification
			return m
		},
		"later round without justification": func() Message { m := sampleProposalJustified(); m.Justification = nil; return m },
		"justification out of order": func() Message {
			m := sampleProposalJustified()
			m.Justification[0], m.Justification[1] = m.Justification[1], m.Justification[0]
			return m
		},
		"justification for another round": func() Message {
			m := sampleProposalJustified()
			m.Justification[1].Round++
			return m
		},
		"block of another height":    func() Message { m := sampleProposalRound0(); m.Block.Header.Height++; return m },
		"the empty block as a block": func() Message { m := sampleProposalRound0(); m.Block.Header.Empty = true; return m },
		"decision without its block": func() Message { m := sampleDecision(); m.Block = nil; return m },
		"decision with a block for EMPTY": func() Message {
			m := sampleDecisionEmpty()
			m.Block = sampleBlock(5, "a")
			return m
		},
		"decision block not hashing to the value": func() Message {
			m := sampleDecision()
			m.Block = sampleBlock(5, "other")
			return m
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			if err := build().ValidateBasic(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestPersistentStateRoundTrip(t *testing.T) {
	for name, s := range map[string]PersistentState{
		"initial": InitialState(testChain, 1),
		"full":    samplePersistentState(),
	} {
		t.Run(name, func(t *testing.T) {
			b, err := EncodePersistentState(&s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodePersistentState(b)
			if err != nil {
				t.Fatal(err)
			}
			again, err := EncodePersistentState(&got)
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs (%v)", err)
			}
			cfg := defaultTestConfig(4, 0)
			if err := got.validateFor(&cfg); err != nil {
				t.Fatalf("decoded state is not valid for member 0: %v", err)
			}
		})
	}
	full := samplePersistentState()
	b, _ := EncodePersistentState(&full)
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"truncated": {b[:len(b)-5], codec.ErrTruncated},
		"trailing":  {append(bytes.Clone(b), 0), codec.ErrTrailingBytes},
		"wrong tag": {withByte(b, 0, byte(KindDecision)), codec.ErrWrongType},
		"bad bool":  {withByte(b, 17, 3), codec.ErrNonCanonical},
	} {
		if _, err := DecodePersistentState(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}

// New refuses a state that is not this member's.
func TestNewRefusesForeignState(t *testing.T) {
	cfg := defaultTestConfig(4, 0)
	cases := map[string]func(*PersistentState){
		"other chain":             func(s *PersistentState) { s.ChainID++ },
		"someone else's vote":     func(s *PersistentState) { s.LastPrepare.Voter = 2 },
		"vote of a later round":   func(s *PersistentState) { s.Round = 0 },
		"lock of another height":  func(s *PersistentState) { s.Lock.Height++ },
		"confirm without lock":    func(s *PersistentState) { s.Lock = nil },
		"block of another height": func(s *PersistentState) { s.Blocks[0].Header.Height++ },
		"previous decision of the wrong height": func(s *PersistentState) {
			s.PreviousDecision.Certificate.Height = s.Height
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			s := samplePersistentState()
			mutate(&s)
			if _, err := New(cfg, s); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := New(cfg, samplePersistentState()); err != nil {
		t.Fatalf("the sample state: %v", err)
	}
}

func TestEvidenceRoundTripAndVerify(t *testing.T) {
	v := standInVerifier{n: 4}
	for name, e := range map[string]Evidence{"votes": sampleVoteEvidence(), "proposals": sampleProposalEvidence()} {
		t.Run(name, func(t *testing.T) {
			b, err := e.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeEvidence(b)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := got.MarshalBinary()
			if !bytes.Equal(again, b) {
				t.Fatal("re-encoding differs")
			}
			if err := VerifyEvidence(&got, 4, v.verify); err != nil {
				t.Fatalf("valid evidence refused: %v", err)
			}
		})
	}
	forged := func(e Evidence) Evidence { e.Votes[1].Signature[0] ^= 1; return e }
	sameValue := func(e Evidence) Evidence { e.Votes[1] = e.Votes[0]; return e }
	stages := func(e Evidence) Evidence {
		e.Votes[1] = signedVote(3, 5, 0, types.VoteConfirm, types.Hash{})
		return e
	}
	rounds := func(e Evidence) Evidence {
		e.Votes[1] = signedVote(3, 5, 1, types.VoteLeaderFaulty, types.Hash{})
		return e
	}
	notLeader := func(e Evidence) Evidence {
		for i := range e.Proposals {
			e.Proposals[i].Proposer = 0
			e.Proposals[i].Signature = standInSignature(memberSecret(0), e.Proposals[i].SigningBytes())
		}
		return e
	}
	for name, e := range map[string]Evidence{
		"forged signature":    forged(sampleVoteEvidence()),
		"same value":          sameValue(sampleVoteEvidence()),
		"different stages":    stages(sampleVoteEvidence()),
		"different rounds":    rounds(sampleVoteEvidence()),
		"proposer not leader": notLeader(sampleProposalEvidence()),
		"unknown kind":        {Kind: 9},
	} {
		if err := VerifyEvidence(&e, 4, v.verify); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	ev := sampleVoteEvidence()
	if err := VerifyEvidence(&ev, 3, v.verify); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("voter outside the committee: %v", err)
	}
	b, _ := ev.MarshalBinary()
	if _, err := DecodeEvidence(withByte(b, 1, 7)); !errors.Is(err, codec.ErrUnknownKind) {
		t.Errorf("unknown evidence kind: %v", err)
	}
	if _, err := DecodeEvidence(b[:100]); !errors.Is(err, codec.ErrTruncated) {
		t.Errorf("truncated evidence: %v", err)
	}
}
