package consensus

import (
	"bytes"
	"fmt"

	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// PersistentState is what a member must find again after a crash so that it
// never signs two different votes of one stage in one round and never
// forgets its lock (docs/CONSENSUS.md: "Honest members persist each vote and
// lock before sending it"). The core emits it in Ready.Persist whenever it
// changes; the shell writes and syncs it before sending anything of the
// same Ready, and passes the last one written to New after a restart.
//
// Votes are only ever cast in the member's current round, and the round
// never decreases, so the votes of the current round and the last prepare
// are all a member needs to remember.
type PersistentState struct {
	ChainID types.ChainID
	// Height is the height being decided; every lower height is decided
	// and committed.
	Height types.Height
	// Round is the member's current round at Height.
	Round types.Round
	// LastPrepare is the member's latest prepare (or leader-faulty) vote at
	// Height; when its Round equals Round, the member has prepared in this
	// round.
	LastPrepare *types.Vote
	// LastConfirm is the member's latest confirm vote at Height; when its
	// Round equals Round, the member has confirmed in this round.
	LastConfirm *types.Vote
	// Lock is the highest-round prepare certificate the member has seen at
	// Height.
	Lock *types.Certificate
	// Blocks are the blocks of the values the member prepared or locked
	// at Height (those it holds), oldest first, at most MaxKeptBlocks: a
	// later round's SafeValue may name one of them, and only members that
	// prepared a block are sure to hold it, so they must still hold it
	// after a restart for the round's leader to be able to propose it.
	Blocks []Block
	// PreviousDecision is the decision of Height-1 (nil at the first
	// height), which the member sends to members still working on that
	// height; without it, members that missed the decision could wait
	// forever for a quorum that has moved on.
	PreviousDecision *Decision
}

// MaxKeptBlocks bounds PersistentState.Blocks. A member prepares one value
// per round and SafeValue keeps naming the latest ones, so the oldest is
// dropped first.
const MaxKeptBlocks = 4

// InitialState returns the state of a member that has not yet acted at
// height: round 0, no vote, no lock.
func InitialState(chain types.ChainID, height types.Height) PersistentState {
	return PersistentState{ChainID: chain, Height: height}
}

// PersistentStateTag is the first byte of a PersistentState encoding.
const PersistentStateTag = 0x19

// PersistentStateMaxSize is the length of the largest encoding.
const PersistentStateMaxSize = 1 + 4 + 8 + 4 + 1 + types.VoteSize + 1 + types.VoteSize + 1 + 4 + types.CertificateMaxSize +
	4 + MaxKeptBlocks*(types.HeaderSize+4+MaxBlockBodySize) + 1 + DecisionMaxSize

// EncodePersistentState returns the canonical encoding of s:
// see the package documentation for the layout.
func EncodePersistentState(s *PersistentState) ([]byte, error) {
	if v := s.LastPrepare; v != nil && !isPrepareStage(v.Kind) {
		return nil, fmt.Errorf("encode persistent state: field LastPrepare: %w: %v", codec.ErrUnknownKind, v.Kind)
	}
	if v := s.LastConfirm; v != nil && v.Kind != types.VoteConfirm {
		return nil, fmt.Errorf("encode persistent state: field LastConfirm: %w: %v", codec.ErrUnknownKind, v.Kind)
	}
	if c := s.Lock; c != nil && !isPrepareStage(c.Kind) {
		return nil, fmt.Errorf("encode persistent state: field Lock: %w: %v", codec.ErrUnknownKind, c.Kind)
	}
	if len(s.Blocks) > MaxKeptBlocks {
		return nil, fmt.Errorf("encode persistent state: field Blocks: %w: %d blocks (maximum %d)", codec.ErrTooLarge, len(s.Blocks), MaxKeptBlocks)
	}
	if d := s.PreviousDecision; d != nil && !d.Certificate.Kind.Known() {
		return nil, fmt.Errorf("encode persistent state: field PreviousDecision: %w: certificate kind %v", codec.ErrUnknownKind, d.Certificate.Kind)
	}
	size := 1 + 4 + 8 + 4 + 3 + 2*types.VoteSize + 4 + types.CertificateMaxSize + 4 + 1
	if d := s.PreviousDecision; d != nil {
		size += 2 + 4 + d.Certificate.EncodedLen()
		if d.Block != nil {
			size += types.HeaderSize + 4 + len(d.Block.Body)
		}
	}
	for i := range s.Blocks {
		b := &s.Blocks[i]
		if b.Header.Version != types.HeaderVersion {
			return nil, fmt.Errorf("encode persistent state: block %d: %w: header version %d", i, codec.ErrUnsupportedVersion, b.Header.Version)
		}
		if len(b.Body) > MaxBlockBodySize {
			return nil, fmt.Errorf("encode persistent state: block %d: %w: body of %d bytes (maximum %d)", i, codec.ErrTooLarge, len(b.Body), MaxBlockBodySize)
		}
		size += types.HeaderSize + 4 + len(b.Body)
	}
	e := codec.NewEncoder(nil, size)
	e.AppendUint8(PersistentStateTag)
	e.AppendUint32(uint32(s.ChainID))
	e.AppendUint64(uint64(s.Height))
	e.AppendUint32(uint32(s.Round))
	for _, v := range []*types.Vote{s.LastPrepare, s.LastConfirm} {
		e.AppendBool(v != nil)
		if v != nil {
			appendVote(&e, v)
		}
	}
	e.AppendBool(s.Lock != nil)
	if s.Lock != nil {
		appendCertificate(&e, s.Lock)
	}
	e.AppendUint32(uint32(len(s.Blocks)))
	for i := range s.Blocks {
		out, _ := s.Blocks[i].Header.AppendBinary(e.Bytes())
		e = codec.NewEncoder(out, 0)
		e.AppendBytes(s.Blocks[i].Body)
	}
	e.AppendBool(s.PreviousDecision != nil)
	if d := s.PreviousDecision; d != nil {
		if d.Block != nil && d.Block.Header.Version != types.HeaderVersion {
			return nil, fmt.Errorf("encode persistent state: field PreviousDecision: %w: header version %d", codec.ErrUnsupportedVersion, d.Block.Header.Version)
		}
		if d.Block != nil && len(d.Block.Body) > MaxBlockBodySize {
			return nil, fmt.Errorf("encode persistent state: field PreviousDecision: %w: body of %d bytes", codec.ErrTooLarge, len(d.Block.Body))
		}
		e.AppendUint8(uint8(KindDecision))
		appendOptionalBlock(&e, d.Block)
		appendCertificate(&e, &d.Certificate)
	}
	return e.Bytes(), nil
}

// DecodePersistentState decodes a canonical PersistentState encoding. It
// checks only the encoding; New checks the state against the configuration.
func DecodePersistentState(b []byte) (PersistentState, error) {
	var s PersistentState
	d := codec.NewDecoder("persistent state", b, PersistentStateMaxSize)
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != PersistentStateTag {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x, want 0x%02x", codec.ErrWrongType, tag, PersistentStateTag))
	}
	s.ChainID = types.ChainID(d.Uint32("ChainID"))
	s.Height = types.Height(d.Uint64("Height"))
	s.Round = types.Round(d.Uint32("Round"))
	if d.Bool("HasLastPrepare") {
		v := readVote(&d, "LastPrepare")
		if d.Err() == nil && !isPrepareStage(v.Kind) {
			d.Fail("LastPrepare", fmt.Errorf("%w: %v", codec.ErrUnknownKind, v.Kind))
		}
		s.LastPrepare = &v
	}
	if d.Bool("HasLastConfirm") {
		v := readVote(&d, "LastConfirm")
		if d.Err() == nil && v.Kind != types.VoteConfirm {
			d.Fail("LastConfirm", fmt.Errorf("%w: %v", codec.ErrUnknownKind, v.Kind))
		}
		s.LastConfirm = &v
	}
	if d.Bool("HasLock") {
		c := readCertificate(&d, "Lock")
		if d.Err() == nil && !isPrepareStage(c.Kind) {
			d.Fail("Lock", fmt.Errorf("%w: %v", codec.ErrUnknownKind, c.Kind))
		}
		s.Lock = &c
	}
	count := d.Uint32("BlockCount")
	if d.Err() == nil && count > MaxKeptBlocks {
		d.Fail("BlockCount", fmt.Errorf("%w: %d blocks (maximum %d)", codec.ErrTooLarge, count, MaxKeptBlocks))
	}
	for i := 0; d.Err() == nil && i < int(count); i++ {
		var buf [types.HeaderSize]byte
		d.Fixed("Header", buf[:])
		if d.Err() != nil {
			break
		}
		h, err := types.DecodeHeader(buf[:])
		if err != nil {
			d.Fail("Header", err)
			break
		}
		body := d.Bytes("Body", MaxBlockBodySize)
		s.Blocks = append(s.Blocks, Block{Header: h, Body: bytes.Clone(body)})
	}
	if d.Bool("HasPreviousDecision") {
		s.PreviousDecision = &Decision{}
		s.PreviousDecision.decodeFrom(&d)
	}
	if err := d.Finish(); err != nil {
		return PersistentState{}, err
	}
	return s, nil
}

// validateFor checks that s belongs to this member of this committee and is
// internally consistent: the votes are the member's own at this height, no
// vote or lock is of a round beyond Round.
func (s *PersistentState) validateFor(cfg *Config) error {
	if s.ChainID != cfg.Chain {
		return fmt.Errorf("persistent state: %w: chain %d, configured for chain %d", ErrInvalid, s.ChainID, cfg.Chain)
	}
	checkVote := func(name string, v *types.Vote) error {
		if v == nil {
			return nil
		}
		if err := validateVote(v); err != nil {
			return fmt.Errorf("persistent state: %s: %w", name, err)
		}
		if v.ChainID != s.ChainID || v.Height != s.Height || v.Voter != cfg.Self || v.Round > s.Round {
			return fmt.Errorf("persistent state: %w: %s is voter %d's at chain %d height %d round %d, state is member %d at height %d round %d",
				ErrInvalid, name, v.Voter, v.ChainID, v.Height, v.Round, cfg.Self, s.Height, s.Round)
		}
		return nil
	}
	if v := s.LastPrepare; v != nil && !isPrepareStage(v.Kind) {
		return fmt.Errorf("persistent state: %w: LastPrepare is a %v vote", ErrInvalid, v.Kind)
	}
	if v := s.LastConfirm; v != nil && v.Kind != types.VoteConfirm {
		return fmt.Errorf("persistent state: %w: LastConfirm is a %v vote", ErrInvalid, v.Kind)
	}
	if err := checkVote("LastPrepare", s.LastPrepare); err != nil {
		return err
	}
	if err := checkVote("LastConfirm", s.LastConfirm); err != nil {
		return err
	}
	if v := s.LastConfirm; v != nil && v.Round == s.Round {
		// A member confirms only the value of the round's prepare
		// certificate, which is then its lock.
		if s.Lock == nil || s.Lock.Round != s.Round || s.Lock.BlockHash != v.BlockHash {
			return fmt.Errorf("persistent state: %w: confirmed %v in round %d without a lock on it", ErrInvalid, v.BlockHash, s.Round)
		}
	}
	if c := s.Lock; c != nil {
		if !isPrepareStage(c.Kind) {
			return fmt.Errorf("persistent state: %w: Lock is a %v certificate", ErrInvalid, c.Kind)
		}
		if err := validateCertificate(c); err != nil {
			return fmt.Errorf("persistent state: lock: %w", err)
		}
		if c.ChainID != s.ChainID || c.Height != s.Height || c.Round > s.Round || c.Signers.CommitteeSize() != cfg.CommitteeSize {
			return fmt.Errorf("persistent state: %w: lock of chain %d height %d round %d for %d members, state is height %d round %d of %d members",
				ErrInvalid, c.ChainID, c.Height, c.Round, c.Signers.CommitteeSize(), s.Height, s.Round, cfg.CommitteeSize)
		}
	}
	if len(s.Blocks) > MaxKeptBlocks {
		return fmt.Errorf("persistent state: %w: %d blocks (maximum %d)", ErrInvalid, len(s.Blocks), MaxKeptBlocks)
	}
	seen := make(map[types.Hash]bool, len(s.Blocks))
	for i := range s.Blocks {
		if err := s.Blocks[i].validateFor(s.ChainID, s.Height); err != nil {
			return fmt.Errorf("persistent state: block %d: %w", i, err)
		}
		h := s.Blocks[i].Hash()
		if seen[h] {
			return fmt.Errorf("persistent state: %w: block %v kept twice", ErrInvalid, h)
		}
		seen[h] = true
	}
	if d := s.PreviousDecision; d != nil {
		if err := d.ValidateBasic(); err != nil {
			return fmt.Errorf("persistent state: previous decision: %w", err)
		}
		if d.Certificate.ChainID != s.ChainID || d.Height()+1 != s.Height {
			return fmt.Errorf("persistent state: %w: previous decision is of chain %d height %d, state is chain %d height %d",
				ErrInvalid, d.Certificate.ChainID, d.Height(), s.ChainID, s.Height)
		}
	}
	return nil
}
