package types

import (
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/codec"
)

// VoteKind says what a vote, or the certificate aggregating votes, stands
// for (paper 4.2, Fig. 5).
type VoteKind uint8

// The vote kinds. Zero and values above VoteConfirm are not kinds.
const (
	// VotePrepare signs the hash of the proposed block (preparation stage).
	VotePrepare VoteKind = 1
	// VoteLeaderFaulty is the "leader faulty" message a member signs when
	// its timeout fires before a proposal arrives; it names no block, so its
	// BlockHash is zero.
	VoteLeaderFaulty VoteKind = 2
	// VoteConfirm confirms the value a preparation certificate was gathered
	// on (confirmation stage): BlockHash is that block's hash, or zero for
	// EMPTY. It signs the value, not the certificate, so that the confirm
	// votes of members holding different signer sets still aggregate.
	VoteConfirm VoteKind = 3
)

// String returns the kind's name.
func (k VoteKind) String() string {
	switch k {
	case VotePrepare:
		return "prepare"
	case VoteLeaderFaulty:
		return "leader-faulty"
	case VoteConfirm:
		return "confirm"
	}
	return fmt.Sprintf("vote-kind(%d)", uint8(k))
}

// Known reports whether k is one of the defined kinds.
func (k VoteKind) Known() bool { return k >= VotePrepare && k <= VoteConfirm }

// VoteSigningDomain prefixes the bytes a vote's BLS signature covers, so that
// a vote signature can never be valid for anything else.
const VoteSigningDomain = "thinkey/vote/v1"

// VoteSigningSize is the length of a vote's signing bytes.
const VoteSigningSize = len(VoteSigningDomain) + 4 + 8 + 4 + 1 + hash.Size

// VoteSize is the length of every vote encoding.
const VoteSize = 1 + 4 + 8 + 4 + 1 + hash.Size + 4 + BLSSignatureSize

// Vote is one committee member's signed vote at one round of one height of
// one chain (paper 4.2).
type Vote struct {
	ChainID ChainID
	Height  Height
	Round   Round
	Kind    VoteKind
	// BlockHash is what the vote is for: the block's header hash for a
	// prepare vote, the confirmed value (a block hash, or zero for EMPTY)
	// for a confirm vote, zero for a leader-faulty vote.
	BlockHash Hash
	// Voter is the member's index in the committee; the verifier looks up
	// its public key by it.
	Voter ValidatorIndex
	// Signature is the member's BLS signature over SigningBytes, a
	// compressed G2 point.
	Signature [BLSSignatureSize]byte
}

// checkDomain reports a field value the encoding cannot carry.
func (v *Vote) checkDomain() error {
	if !v.Kind.Known() {
		return fmt.Errorf("field Kind: %w %d", codec.ErrUnknownKind, uint8(v.Kind))
	}
	return nil
}

// AppendBinary appends the canonical encoding of v to dst. It fails, leaving
// dst as it was, when v.Kind is unknown.
func (v *Vote) AppendBinary(dst []byte) ([]byte, error) {
	if err := v.checkDomain(); err != nil {
		return dst, fmt.Errorf("encode vote: %w", err)
	}
	return v.appendTo(dst), nil
}

// MarshalBinary returns the canonical encoding of v.
func (v *Vote) MarshalBinary() ([]byte, error) {
	return v.AppendBinary(make([]byte, 0, VoteSize))
}

func (v *Vote) appendTo(dst []byte) []byte {
	e := codec.NewEncoder(dst, VoteSize)
	e.AppendUint8(uint8(TagVote))
	e.AppendUint32(uint32(v.ChainID))
	e.AppendUint64(uint64(v.Height))
	e.AppendUint32(uint32(v.Round))
	e.AppendUint8(uint8(v.Kind))
	e.AppendFixed(v.BlockHash[:])
	e.AppendUint32(uint32(v.Voter))
	e.AppendFixed(v.Signature[:])
	return e.Bytes()
}

// appendVoteSigningBytes is shared by Vote and Certificate, so that a
// certificate's VoteSigningBytes are by construction the bytes its votes
// signed.
func appendVoteSigningBytes(dst []byte, chain ChainID, height Height, round Round, kind VoteKind, block *Hash) []byte {
	dst = append(slices.Grow(dst, VoteSigningSize), VoteSigningDomain...)
	e := codec.NewEncoder(dst, VoteSigningSize-len(VoteSigningDomain))
	e.AppendUint32(uint32(chain))
	e.AppendUint64(uint64(height))
	e.AppendUint32(uint32(round))
	e.AppendUint8(uint8(kind))
	e.AppendFixed(block[:])
	return e.Bytes()
}

// AppendSigningBytes appends the bytes the vote's BLS signature covers:
// VoteSigningDomain, ChainID, Height, Round, Kind and BlockHash, encoded as in
// the vote. Voter and Signature are left out, so every member voting for the
// same (chain, height, round, kind, block) signs identical bytes and the
// votes aggregate into one certificate checked with one FastAggregateVerify;
// a voter is bound by its public key instead.
func (v *Vote) AppendSigningBytes(dst []byte) []byte {
	return appendVoteSigningBytes(dst, v.ChainID, v.Height, v.Round, v.Kind, &v.BlockHash)
}

// SigningBytes returns AppendSigningBytes(nil) in a new slice.
func (v *Vote) SigningBytes() []byte {
	return v.AppendSigningBytes(make([]byte, 0, VoteSigningSize))
}

// DecodeVote decodes a canonical vote encoding. It does not allocate unless
// it fails.
func DecodeVote(b []byte) (Vote, error) {
	var v Vote
	err := v.UnmarshalBinary(b)
	return v, err
}

// UnmarshalBinary decodes a canonical vote encoding into v. On failure v is
// left in an unspecified state.
func (v *Vote) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("vote", b, VoteSize)
	readTag(&d, TagVote)
	v.ChainID = ChainID(d.Uint32("ChainID"))
	v.Height = Height(d.Uint64("Height"))
	v.Round = Round(d.Uint32("Round"))
	v.Kind = VoteKind(d.Uint8("Kind"))
	if d.Err() == nil && !v.Kind.Known() {
		d.Fail("Kind", fmt.Errorf("%w %d", codec.ErrUnknownKind, uint8(v.Kind)))
	}
	d.Fixed("BlockHash", v.BlockHash[:])
	v.Voter = ValidatorIndex(d.Uint32("Voter"))
	d.Fixed("Signature", v.Signature[:])
	return d.Finish()
}

// Hash returns SHA-256 of the vote's canonical encoding, signature included:
// the identity under which the network deduplicates votes. It is meaningful
// only for a vote that encodes.
func (v *Vote) Hash() Hash {
	var buf [VoteSize]byte
	return hash.Sum256(v.appendTo(buf[:0]))
}

// ValidateBasic checks the rules of a vote that need no committee: the kind
// is known, BlockHash is zero exactly for a leader-faulty vote, and the
// signature is not all zero (whether it verifies is checked elsewhere).
func (v *Vote) ValidateBasic() error {
	if err := v.checkDomain(); err != nil {
		return fmt.Errorf("vote: %w: %w", ErrInvalid, err)
	}
	if err := checkBlockHashForKind(v.Kind, &v.BlockHash); err != nil {
		return fmt.Errorf("vote: %w", err)
	}
	if isZero(v.Signature[:]) {
		return fmt.Errorf("vote: %w: not signed", ErrInvalid)
	}
	return nil
}

// checkBlockHashForKind applies the rule votes and certificates share: a
// leader-faulty vote (the prepare of EMPTY) names no block, a prepare names
// one, and a confirm names the value it confirms: a block, or zero for EMPTY.
func checkBlockHashForKind(kind VoteKind, block *Hash) error {
	switch kind {
	case VoteLeaderFaulty:
		if !block.IsZero() {
			return fmt.Errorf("%w: %v names block %v", ErrInvalid, kind, block)
		}
	case VotePrepare:
		if block.IsZero() {
			return fmt.Errorf("%w: %v names no block", ErrInvalid, kind)
		}
	}
	return nil
}
