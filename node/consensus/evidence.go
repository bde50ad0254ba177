package consensus

import (
	"fmt"

	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// SignedProposal is the statement a leader signs when it proposes: which
// value it proposes for which round. Two of them with different values for
// one round are equivocation evidence.
type SignedProposal struct {
	ChainID  types.ChainID
	Height   types.Height
	Round    types.Round
	Proposer types.ValidatorIndex
	// Value is the proposed block's hash, zero for EMPTY.
	Value     types.Hash
	Signature [types.BLSSignatureSize]byte
}

// SignedProposalSize is the length of a SignedProposal inside evidence.
const SignedProposalSize = 4 + 8 + 4 + 4 + 32 + types.BLSSignatureSize

const proposalSigningSize = len(ProposalSigningDomain) + 4 + 8 + 4 + 4 + 32

// SigningBytes returns the domain ProposalSigningDomain followed by ChainID,
// Height, Round, Proposer and Value.
func (s *SignedProposal) SigningBytes() []byte {
	out := append(make([]byte, 0, proposalSigningSize), ProposalSigningDomain...)
	e := codec.NewEncoder(out, proposalSigningSize-len(ProposalSigningDomain))
	e.AppendUint32(uint32(s.ChainID))
	e.AppendUint64(uint64(s.Height))
	e.AppendUint32(uint32(s.Round))
	e.AppendUint32(uint32(s.Proposer))
	e.AppendFixed(s.Value[:])
	return e.Bytes()
}

func (s *SignedProposal) appendTo(e *codec.Encoder) {
	e.AppendUint32(uint32(s.ChainID))
	e.AppendUint64(uint64(s.Height))
	e.AppendUint32(uint32(s.Round))
	e.AppendUint32(uint32(s.Proposer))
	e.AppendFixed(s.Value[:])
	e.AppendFixed(s.Signature[:])
}

func (s *SignedProposal) decodeFrom(d *codec.Decoder) {
	s.ChainID = types.ChainID(d.Uint32("ChainID"))
	s.Height = types.Height(d.Uint64("Height"))
	s.Round = types.Round(d.Uint32("Round"))
	s.Proposer = types.ValidatorIndex(d.Uint32("Proposer"))
	d.Fixed("Value", s.Value[:])
	d.Fixed("Signature", s.Signature[:])
}

// EvidenceKind says what an Evidence proves.
type EvidenceKind uint8

// The evidence kinds.
const (
	// EvidenceVotes: two votes of one member in one stage (preparation,
	// counting prepare and leader-faulty votes as one stage, or
	// confirmation) of one round, on different values.
	EvidenceVotes EvidenceKind = 1
	// EvidenceProposals: two proposals of one round's leader with
	// different values.
	EvidenceProposals EvidenceKind = 2
)

// String returns the kind's name.
func (k EvidenceKind) String() string {
	switch k {
	case EvidenceVotes:
		return "double-vote"
	case EvidenceProposals:
		return "double-proposal"
	}
	return fmt.Sprintf("evidence-kind(%d)", uint8(k))
}

// Evidence is a pair of conflicting statements signed by one member
// (docs/CONSENSUS.md, "Equivocation evidence"). The core emits it once per
// offence; the root chain checks it with VerifyEvidence and punishes the
// offender.
type Evidence struct {
	Kind EvidenceKind
	// Votes holds the two votes when Kind is EvidenceVotes, the first seen
	// first.
	Votes [2]types.Vote
	// Proposals holds the two proposals when Kind is EvidenceProposals.
	Proposals [2]SignedProposal
}

// Offender returns the member who signed both statements.
func (e *Evidence) Offender() types.ValidatorIndex {
	if e.Kind == EvidenceProposals {
		return e.Proposals[0].Proposer
	}
	return e.Votes[0].Voter
}

// EvidenceTag is the first byte of an Evidence encoding.
const EvidenceTag = 0x18

// EvidenceMaxSize is the length of the largest Evidence encoding.
const EvidenceMaxSize = 2 + 2*types.VoteSize

// AppendBinary appends the canonical encoding of e: the tag, the kind, then
// the two statements of that kind (the other pair is not encoded).
func (e *Evidence) AppendBinary(dst []byte) ([]byte, error) {
	switch e.Kind {
	case EvidenceVotes:
		for i := range e.Votes {
			if !e.Votes[i].Kind.Known() {
				return dst, fmt.Errorf("encode evidence: vote %d: %w: %v", i, codec.ErrUnknownKind, e.Votes[i].Kind)
			}
		}
		enc := codec.NewEncoder(dst, 2+2*types.VoteSize)
		enc.AppendUint8(EvidenceTag)
		enc.AppendUint8(uint8(e.Kind))
		appendVote(&enc, &e.Votes[0])
		appendVote(&enc, &e.Votes[1])
		return enc.Bytes(), nil
	case EvidenceProposals:
		enc := codec.NewEncoder(dst, 2+2*SignedProposalSize)
		enc.AppendUint8(EvidenceTag)
		enc.AppendUint8(uint8(e.Kind))
		e.Proposals[0].appendTo(&enc)
		e.Proposals[1].appendTo(&enc)
		return enc.Bytes(), nil
	}
	return dst, fmt.Errorf("encode evidence: field Kind: %w: %d", codec.ErrUnknownKind, uint8(e.Kind))
}

// MarshalBinary returns the canonical encoding of e.
func (e *Evidence) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil) }

// DecodeEvidence decodes a canonical Evidence encoding.
func DecodeEvidence(b []byte) (Evidence, error) {
	var e Evidence
	d := codec.NewDecoder("evidence", b, EvidenceMaxSize)
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != EvidenceTag {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x, want 0x%02x", codec.ErrWrongType, tag, EvidenceTag))
	}
	e.Kind = EvidenceKind(d.Uint8("Kind"))
	if d.Err() == nil {
		switch e.Kind {
		case EvidenceVotes:
			e.Votes[0] = readVote(&d, "FirstVote")
			e.Votes[1] = readVote(&d, "SecondVote")
		case EvidenceProposals:
			e.Proposals[0].decodeFrom(&d)
			e.Proposals[1].decodeFrom(&d)
		default:
			d.Fail("Kind", fmt.Errorf("%w: %d", codec.ErrUnknownKind, uint8(e.Kind)))
		}
	}
	return e, d.Finish()
}

// SignatureVerifier checks one member's signature over msg; the caller
// looks the key up by index (crypto/bls.Verify in production).
type SignatureVerifier func(signer types.ValidatorIndex, msg []byte, sig [types.BLSSignatureSize]byte) bool

// VerifyEvidence checks evidence without any consensus state, for a
// committee of committeeSize members: both statements are of one signer,
// chain, height and round (and, for votes, one stage), they differ in
// value, the signer is a member (for proposals, the round's leader), and
// both signatures verify. Its errors wrap ErrInvalid or ErrUnknownMember.
func VerifyEvidence(e *Evidence, committeeSize int, verify SignatureVerifier) error {
	if committeeSize < 1 || committeeSize > types.MaxCommitteeSize {
		return fmt.Errorf("evidence: %w: committee size %d", ErrInvalid, committeeSize)
	}
	switch e.Kind {
	case EvidenceVotes:
		a, b := &e.Votes[0], &e.Votes[1]
		for i, v := range []*types.Vote{a, b} {
			if err := validateVote(v); err != nil {
				return fmt.Errorf("evidence: vote %d: %w", i, err)
			}
		}
		if a.ChainID != b.ChainID || a.Height != b.Height || a.Round != b.Round || a.Voter != b.Voter {
			return fmt.Errorf("evidence: %w: votes of different voters or rounds", ErrInvalid)
		}
		sameStage := (isPrepareStage(a.Kind) && isPrepareStage(b.Kind)) || (a.Kind == types.VoteConfirm && b.Kind == types.VoteConfirm)
		if !sameStage {
			return fmt.Errorf("evidence: %w: a %v and a %v vote are of different stages", ErrInvalid, a.Kind, b.Kind)
		}
		if a.BlockHash == b.BlockHash {
			return fmt.Errorf("evidence: %w: both votes are on %v", ErrInvalid, a.BlockHash)
		}
		if int64(a.Voter) >= int64(committeeSize) {
			return fmt.Errorf("evidence: %w: voter %d", ErrUnknownMember, a.Voter)
		}
		for i, v := range []*types.Vote{a, b} {
			if !verify(v.Voter, v.SigningBytes(), v.Signature) {
				return fmt.Errorf("evidence: %w: signature of vote %d does not verify", ErrInvalid, i)
			}
		}
		return nil
	case EvidenceProposals:
		a, b := &e.Proposals[0], &e.Proposals[1]
		if a.ChainID != b.ChainID || a.Height != b.Height || a.Round != b.Round || a.Proposer != b.Proposer {
			return fmt.Errorf("evidence: %w: proposals of different proposers or rounds", ErrInvalid)
		}
		if a.Value == b.Value {
			return fmt.Errorf("evidence: %w: both proposals are of %v", ErrInvalid, a.Value)
		}
		if int64(a.Proposer) >= int64(committeeSize) {
			return fmt.Errorf("evidence: %w: proposer %d", ErrUnknownMember, a.Proposer)
		}
		if leader := Leader(a.Height, a.Round, committeeSize); a.Proposer != leader {
			return fmt.Errorf("evidence: %w: proposer %d is not the leader %d of height %d round %d", ErrInvalid, a.Proposer, leader, a.Height, a.Round)
		}
		for i, p := range []*SignedProposal{a, b} {
			if !verify(p.Proposer, p.SigningBytes(), p.Signature) {
				return fmt.Errorf("evidence: %w: signature of proposal %d does not verify", ErrInvalid, i)
			}
		}
		return nil
	}
	return fmt.Errorf("evidence: %w: kind %v", ErrInvalid, e.Kind)
}
