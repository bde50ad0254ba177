package consensus

import (
	"bytes"
	"fmt"

	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// MaxBlockBodySize bounds the body a Proposal or Decision carries, so that a
// message's maximum size, checked before any field is read, stays within
// what a 2 GB node can buffer per peer.
const MaxBlockBodySize = 4 << 20

// MessageKind is the first byte of every consensus message encoding. The
// values start at 0x10 so that they never collide with the type tags of
// node/types (0x01..0x04): the node can dispatch any bytes it receives on
// their first byte.
type MessageKind uint8

// The message kinds.
const (
	KindProposal    MessageKind = 0x10
	KindPrepare     MessageKind = 0x11
	KindConfirm     MessageKind = 0x12
	KindRoundChange MessageKind = 0x13
	KindDecision    MessageKind = 0x14
)

// String returns the kind's name.
func (k MessageKind) String() string {
	switch k {
	case KindProposal:
		return "proposal"
	case KindPrepare:
		return "prepare"
	case KindConfirm:
		return "confirm"
	case KindRoundChange:
		return "round-change"
	case KindDecision:
		return "decision"
	}
	return fmt.Sprintf("message-kind(0x%02x)", uint8(k))
}

// Message is one consensus message: *Proposal, *Prepare, *Confirm,
// *RoundChange or *Decision. The set is closed.
type Message interface {
	// Kind returns the message's kind byte.
	Kind() MessageKind
	// AppendBinary appends the canonical encoding, kind byte first.
	AppendBinary(dst []byte) ([]byte, error)
	// ValidateBasic checks the rules that need no committee; its errors
	// wrap ErrInvalid.
	ValidateBasic() error
	isMessage()
}

// Block is a proposed block as consensus sees it: the header, whose hash is
// the value the committee votes on, and the body the header's roots commit
// to, opaque here (the application checks it, see VerifyBlock).
type Block struct {
	Header types.Header
	Body   []byte
}

// Hash returns the block's value: its header hash.
func (b *Block) Hash() types.Hash { return b.Header.Hash() }

// Clone returns a copy of b that shares no memory with it.
func (b *Block) Clone() *Block {
	if b == nil {
		return nil
	}
	return &Block{Header: b.Header, Body: bytes.Clone(b.Body)}
}

// validateFor checks the block against the height it is proposed or decided
// at: a valid header of this chain and height, not the empty block (EMPTY is
// carried as the absence of a block), a body within bounds.
func (b *Block) validateFor(chain types.ChainID, height types.Height) error {
	if err := b.Header.ValidateBasic(); err != nil {
		return fmt.Errorf("block: %w", err)
	}
	if b.Header.ChainID != chain || b.Header.Height != height {
		return fmt.Errorf("block: %w: header names chain %d height %d, want chain %d height %d",
			ErrInvalid, b.Header.ChainID, b.Header.Height, chain, height)
	}
	if b.Header.Empty {
		return fmt.Errorf("block: %w: the empty block is proposed as EMPTY, not as a block", ErrInvalid)
	}
	if len(b.Body) > MaxBlockBodySize {
		return fmt.Errorf("block: %w: body of %d bytes (maximum %d)", ErrInvalid, len(b.Body), MaxBlockBodySize)
	}
	return nil
}

// IsEmptyValue reports whether a value is EMPTY, the empty block of the
// height (docs/CONSENSUS.md, "Values"): the zero hash.
func IsEmptyValue(v types.Hash) bool { return v.IsZero() }

// isPrepareStage reports whether a vote kind belongs to the preparation
// stage: a prepare on a block or a leader-faulty vote, the prepare on EMPTY.
func isPrepareStage(k types.VoteKind) bool {
	return k == types.VotePrepare || k == types.VoteLeaderFaulty
}

// prepareKindFor returns the vote kind of a prepare on value v.
func prepareKindFor(v types.Hash) types.VoteKind {
	if IsEmptyValue(v) {
		return types.VoteLeaderFaulty
	}
	return types.VotePrepare
}

// validateVote checks a vote's stateless rules. It is Vote.ValidateBasic
// except that a confirm vote may name the zero hash: docs/CONSENSUS.md
// confirms EMPTY with the zero block hash, which node/types does not yet
// allow.
func validateVote(v *types.Vote) error {
	if v.Kind == types.VoteConfirm {
		if v.Signature == ([types.BLSSignatureSize]byte{}) {
			return fmt.Errorf("vote: %w: not signed", ErrInvalid)
		}
		return nil
	}
	return v.ValidateBasic()
}

// validateCertificate is Certificate.ValidateBasic with the same exception
// for confirm certificates on EMPTY.
func validateCertificate(c *types.Certificate) error {
	if c.Kind == types.VoteConfirm {
		if c.Signers.Count() == 0 {
			return fmt.Errorf("certificate: %w: no signers", ErrInvalid)
		}
		if c.AggregateSignature == ([types.BLSSignatureSize]byte{}) {
			return fmt.Errorf("certificate: %w: aggregate signature is all zero", ErrInvalid)
		}
		return nil
	}
	return c.ValidateBasic()
}

// ---------------------------------------------------------------- Prepare

// PrepareSize is the length of every Prepare encoding.
const PrepareSize = 1 + types.VoteSize

// Prepare carries a preparation-stage vote: VotePrepare on a block hash, or
// VoteLeaderFaulty (the prepare on EMPTY).
type Prepare struct {
	Vote types.Vote
}

// Kind returns KindPrepare.
func (*Prepare) Kind() MessageKind { return KindPrepare }
func (*Prepare) isMessage()        {}

// AppendBinary appends the canonical encoding of m.
func (m *Prepare) AppendBinary(dst []byte) ([]byte, error) {
	if !isPrepareStage(m.Vote.Kind) {
		return dst, fmt.Errorf("encode prepare: field Vote: %w: %v", codec.ErrUnknownKind, m.Vote.Kind)
	}
	e := codec.NewEncoder(dst, PrepareSize)
	e.AppendUint8(uint8(KindPrepare))
	appendVote(&e, &m.Vote)
	return e.Bytes(), nil
}

// ValidateBasic checks the vote.
func (m *Prepare) ValidateBasic() error {
	if !isPrepareStage(m.Vote.Kind) {
		return fmt.Errorf("prepare: %w: carries a %v vote", ErrInvalid, m.Vote.Kind)
	}
	if err := validateVote(&m.Vote); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	return nil
}

// DecodePrepare decodes a canonical Prepare encoding.
func DecodePrepare(b []byte) (*Prepare, error) {
	d := codec.NewDecoder("prepare", b, PrepareSize)
	readKind(&d, KindPrepare)
	m := &Prepare{Vote: readVote(&d, "Vote")}
	if d.Err() == nil && !isPrepareStage(m.Vote.Kind) {
		d.Fail("Vote", fmt.Errorf("%w: %v vote in a prepare", codec.ErrUnknownKind, m.Vote.Kind))
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return m, nil
}

// ---------------------------------------------------------------- Confirm

// ConfirmMaxSize is the length of the largest Confirm encoding.
const ConfirmMaxSize = 1 + types.VoteSize + 4 + types.CertificateMaxSize

// Confirm carries a confirmation-stage vote and the prepare certificate
// that justifies it (docs/CONSENSUS.md, step 3).
type Confirm struct {
	Vote               types.Vote
	PrepareCertificate types.Certificate
}

// Kind returns KindConfirm.
func (*Confirm) Kind() MessageKind { return KindConfirm }
func (*Confirm) isMessage()        {}

// AppendBinary appends the canonical encoding of m.
func (m *Confirm) AppendBinary(dst []byte) ([]byte, error) {
	if m.Vote.Kind != types.VoteConfirm {
		return dst, fmt.Errorf("encode confirm: field Vote: %w: %v", codec.ErrUnknownKind, m.Vote.Kind)
	}
	if !isPrepareStage(m.PrepareCertificate.Kind) {
		return dst, fmt.Errorf("encode confirm: field PrepareCertificate: %w: %v", codec.ErrUnknownKind, m.PrepareCertificate.Kind)
	}
	e := codec.NewEncoder(dst, 1+types.VoteSize+4+m.PrepareCertificate.EncodedLen())
	e.AppendUint8(uint8(KindConfirm))
	appendVote(&e, &m.Vote)
	appendCertificate(&e, &m.PrepareCertificate)
	return e.Bytes(), nil
}

// ValidateBasic checks the vote, the certificate, and that the certificate
// is a prepare certificate for the vote's value at the vote's round.
func (m *Confirm) ValidateBasic() error {
	if m.Vote.Kind != types.VoteConfirm {
		return fmt.Errorf("confirm: %w: carries a %v vote", ErrInvalid, m.Vote.Kind)
	}
	if err := validateVote(&m.Vote); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	c := &m.PrepareCertificate
	if !isPrepareStage(c.Kind) {
		return fmt.Errorf("confirm: %w: justified by a %v certificate", ErrInvalid, c.Kind)
	}
	if err := validateCertificate(c); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	if c.ChainID != m.Vote.ChainID || c.Height != m.Vote.Height || c.Round != m.Vote.Round || c.BlockHash != m.Vote.BlockHash {
		return fmt.Errorf("confirm: %w: certificate (chain %d height %d round %d value %v) does not justify the vote (chain %d height %d round %d value %v)",
			ErrInvalid, c.ChainID, c.Height, c.Round, c.BlockHash, m.Vote.ChainID, m.Vote.Height, m.Vote.Round, m.Vote.BlockHash)
	}
	return nil
}

// DecodeConfirm decodes a canonical Confirm encoding.
func DecodeConfirm(b []byte) (*Confirm, error) {
	d := codec.NewDecoder("confirm", b, ConfirmMaxSize)
	readKind(&d, KindConfirm)
	m := &Confirm{Vote: readVote(&d, "Vote")}
	if d.Err() == nil && m.Vote.Kind != types.VoteConfirm {
		d.Fail("Vote", fmt.Errorf("%w: %v vote in a confirm", codec.ErrUnknownKind, m.Vote.Kind))
	}
	m.PrepareCertificate = readCertificate(&d, "PrepareCertificate")
	if d.Err() == nil && !isPrepareStage(m.PrepareCertificate.Kind) {
		d.Fail("PrepareCertificate", fmt.Errorf("%w: %v certificate justifies a confirm", codec.ErrUnknownKind, m.PrepareCertificate.Kind))
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return m, nil
}

// ------------------------------------------------------------ RoundChange

// RoundChangeMaxSize is the length of the largest RoundChange encoding.
const RoundChangeMaxSize = roundChangeFixedSize + 4 + types.CertificateMaxSize + types.VoteSize

const roundChangeFixedSize = 1 + 4 + 8 + 4 + 4 + 1 + 1 + types.BLSSignatureSize

// RoundChangeSigningDomain prefixes the bytes a round change's signature
// covers.
const RoundChangeSigningDomain = "thinkey/round-change/v1"

// RoundChange is a member's request to move to Round (docs/CONSENSUS.md,
// step 5), reporting what it knows of the height: the highest-round prepare
// certificate it has seen and its own last prepare vote.
type RoundChange struct {
	ChainID types.ChainID
	Height  types.Height
	// Round is the round the sender enters; at least 1.
	Round  types.Round
	Sender types.ValidatorIndex
	// HighestCertificate is the sender's lock, nil when it has none.
	HighestCertificate *types.Certificate
	// LastPrepare is the sender's last prepare vote at Height, nil when it
	// has prepared nothing.
	LastPrepare *types.Vote
	// Signature is the sender's BLS signature over SigningBytes.
	Signature [types.BLSSignatureSize]byte
}

// Kind returns KindRoundChange.
func (*RoundChange) Kind() MessageKind { return KindRoundChange }
func (*RoundChange) isMessage()        {}

// SigningBytes returns the bytes the sender signs: the domain, ChainID,
// Height, Round, Sender, then the hash of HighestCertificate and of
// LastPrepare (zero when absent). The reports are bound by hash, so a leader
// that relays the message in a justification cannot strip or swap them.
func (m *RoundChange) SigningBytes() []byte {
	out := make([]byte, 0, len(RoundChangeSigningDomain)+4+8+4+4+2*32)
	out = append(out, RoundChangeSigningDomain...)
	e := codec.NewEncoder(out, 4+8+4+4+2*32)
	e.AppendUint32(uint32(m.ChainID))
	e.AppendUint64(uint64(m.Height))
	e.AppendUint32(uint32(m.Round))
	e.AppendUint32(uint32(m.Sender))
	var certHash, prepareHash types.Hash
	if m.HighestCertificate != nil {
		certHash = m.HighestCertificate.Hash()
	}
	if m.LastPrepare != nil {
		prepareHash = m.LastPrepare.Hash()
	}
	e.AppendFixed(certHash[:])
	e.AppendFixed(prepareHash[:])
	return e.Bytes()
}

// encodedLen returns the length of m's encoding.
func (m *RoundChange) encodedLen() int {
	n := roundChangeFixedSize
	if m.HighestCertificate != nil {
		n += 4 + m.HighestCertificate.EncodedLen()
	}
	if m.LastPrepare != nil {
		n += types.VoteSize
	}
	return n
}

func (m *RoundChange) checkDomain() error {
	if c := m.HighestCertificate; c != nil && !isPrepareStage(c.Kind) {
		return fmt.Errorf("field HighestCertificate: %w: %v", codec.ErrUnknownKind, c.Kind)
	}
	if v := m.LastPrepare; v != nil && !isPrepareStage(v.Kind) {
		return fmt.Errorf("field LastPrepare: %w: %v", codec.ErrUnknownKind, v.Kind)
	}
	return nil
}

// AppendBinary appends the canonical encoding of m.
func (m *RoundChange) AppendBinary(dst []byte) ([]byte, error) {
	if err := m.checkDomain(); err != nil {
		return dst, fmt.Errorf("encode round change: %w", err)
	}
	e := codec.NewEncoder(dst, m.encodedLen())
	m.appendTo(&e)
	return e.Bytes(), nil
}

func (m *RoundChange) appendTo(e *codec.Encoder) {
	e.AppendUint8(uint8(KindRoundChange))
	e.AppendUint32(uint32(m.ChainID))
	e.AppendUint64(uint64(m.Height))
	e.AppendUint32(uint32(m.Round))
	e.AppendUint32(uint32(m.Sender))
	e.AppendBool(m.HighestCertificate != nil)
	if m.HighestCertificate != nil {
		appendCertificate(e, m.HighestCertificate)
	}
	e.AppendBool(m.LastPrepare != nil)
	if m.LastPrepare != nil {
		appendVote(e, m.LastPrepare)
	}
	e.AppendFixed(m.Signature[:])
}

// ValidateBasic checks that the round is at least 1 and that the reports
// belong to the same chain and height, to earlier rounds, and (the last
// prepare) to the sender.
func (m *RoundChange) ValidateBasic() error {
	if err := m.checkDomain(); err != nil {
		return fmt.Errorf("round change: %w: %w", ErrInvalid, err)
	}
	if m.Round == 0 {
		return fmt.Errorf("round change: %w: round 0 is never entered by a round change", ErrInvalid)
	}
	if c := m.HighestCertificate; c != nil {
		if err := validateCertificate(c); err != nil {
			return fmt.Errorf("round change: %w", err)
		}
		if c.ChainID != m.ChainID || c.Height != m.Height || c.Round >= m.Round {
			return fmt.Errorf("round change: %w: certificate of chain %d height %d round %d reported for chain %d height %d round %d",
				ErrInvalid, c.ChainID, c.Height, c.Round, m.ChainID, m.Height, m.Round)
		}
	}
	if v := m.LastPrepare; v != nil {
		if err := validateVote(v); err != nil {
			return fmt.Errorf("round change: last prepare: %w", err)
		}
		if v.ChainID != m.ChainID || v.Height != m.Height || v.Round >= m.Round || v.Voter != m.Sender {
			return fmt.Errorf("round change: %w: last prepare of voter %d at chain %d height %d round %d reported by %d for chain %d height %d round %d",
				ErrInvalid, v.Voter, v.ChainID, v.Height, v.Round, m.Sender, m.ChainID, m.Height, m.Round)
		}
	}
	if m.Signature == ([types.BLSSignatureSize]byte{}) {
		return fmt.Errorf("round change: %w: not signed", ErrInvalid)
	}
	return nil
}

// DecodeRoundChange decodes a canonical RoundChange encoding.
func DecodeRoundChange(b []byte) (*RoundChange, error) {
	d := codec.NewDecoder("round change", b, RoundChangeMaxSize)
	m := &RoundChange{}
	m.decodeFrom(&d)
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *RoundChange) decodeFrom(d *codec.Decoder) {
	readKind(d, KindRoundChange)
	m.ChainID = types.ChainID(d.Uint32("ChainID"))
	m.Height = types.Height(d.Uint64("Height"))
	m.Round = types.Round(d.Uint32("Round"))
	m.Sender = types.ValidatorIndex(d.Uint32("Sender"))
	if d.Bool("HasHighestCertificate") {
		c := readCertificate(d, "HighestCertificate")
		m.HighestCertificate = &c
	}
	if d.Bool("HasLastPrepare") {
		v := readVote(d, "LastPrepare")
		m.LastPrepare = &v
	}
	d.Fixed("Signature", m.Signature[:])
	if d.Err() == nil {
		if err := m.checkDomain(); err != nil {
			d.Fail("reports", err)
		}
	}
}

// --------------------------------------------------------------- Proposal

// MaxJustification bounds the round changes a proposal carries: a quorum of
// the largest committee.
const MaxJustification = types.MaxCommitteeSize

// ProposalMaxSize is the length of the largest Proposal encoding.
const ProposalMaxSize = proposalFixedSize + types.HeaderSize + 4 + MaxBlockBodySize + MaxJustification*RoundChangeMaxSize

const proposalFixedSize = 1 + 4 + 8 + 4 + 4 + 1 + 4 + types.BLSSignatureSize

// ProposalSigningDomain prefixes the bytes a proposal's signature covers.
const ProposalSigningDomain = "thinkey/proposal/v1"

// Proposal is the leader's proposal of a value for a round
// (docs/CONSENSUS.md, step 1).
type Proposal struct {
	ChainID  types.ChainID
	Height   types.Height
	Round    types.Round
	Proposer types.ValidatorIndex
	// Block is the proposed block; nil proposes EMPTY (allowed in rounds
	// above 0 only).
	Block *Block
	// Justification is empty in round 0 and holds a quorum of round
	// changes for Round otherwise, in increasing order of sender.
	Justification []RoundChange
	// Signature is the proposer's BLS signature over SigningBytes.
	Signature [types.BLSSignatureSize]byte
}

// Kind returns KindProposal.
func (*Proposal) Kind() MessageKind { return KindProposal }
func (*Proposal) isMessage()        {}

// Value returns the proposed value: the block hash, or zero for EMPTY.
func (m *Proposal) Value() types.Hash {
	if m.Block == nil {
		return types.Hash{}
	}
	return m.Block.Hash()
}

// Statement returns what the proposer signed, the part of a proposal that
// equivocation evidence carries.
func (m *Proposal) Statement() SignedProposal {
	return SignedProposal{ChainID: m.ChainID, Height: m.Height, Round: m.Round, Proposer: m.Proposer, Value: m.Value(), Signature: m.Signature}
}

// SigningBytes returns the bytes the proposer signs (see SignedProposal).
// The justification is not signed: it authenticates itself, each round
// change being signed by its sender.
func (m *Proposal) SigningBytes() []byte {
	s := m.Statement()
	return s.SigningBytes()
}

func (m *Proposal) encodedLen() int {
	n := proposalFixedSize
	if m.Block != nil {
		n += types.HeaderSize + 4 + len(m.Block.Body)
	}
	for i := range m.Justification {
		n += m.Justification[i].encodedLen()
	}
	return n
}

// AppendBinary appends the canonical encoding of m.
func (m *Proposal) AppendBinary(dst []byte) ([]byte, error) {
	if m.Block != nil {
		if m.Block.Header.Version != types.HeaderVersion {
			return dst, fmt.Errorf("encode proposal: field Header: %w: %d", codec.ErrUnsupportedVersion, m.Block.Header.Version)
		}
		if len(m.Block.Body) > MaxBlockBodySize {
			return dst, fmt.Errorf("encode proposal: field Body: %w: %d bytes (maximum %d)", codec.ErrTooLarge, len(m.Block.Body), MaxBlockBodySize)
		}
	}
	if len(m.Justification) > MaxJustification {
		return dst, fmt.Errorf("encode proposal: field Justification: %w: %d round changes (maximum %d)", codec.ErrTooLarge, len(m.Justification), MaxJustification)
	}
	for i := range m.Justification {
		if err := m.Justification[i].checkDomain(); err != nil {
			return dst, fmt.Errorf("encode proposal: justification %d: %w", i, err)
		}
	}
	e := codec.NewEncoder(dst, m.encodedLen())
	e.AppendUint8(uint8(KindProposal))
	e.AppendUint32(uint32(m.ChainID))
	e.AppendUint64(uint64(m.Height))
	e.AppendUint32(uint32(m.Round))
	e.AppendUint32(uint32(m.Proposer))
	appendOptionalBlock(&e, m.Block)
	e.AppendUint32(uint32(len(m.Justification)))
	for i := range m.Justification {
		m.Justification[i].appendTo(&e)
	}
	e.AppendFixed(m.Signature[:])
	return e.Bytes(), nil
}

// ValidateBasic checks the rules that need no committee: the block belongs
// to this chain and height and is not the empty block; round 0 proposes a
// block with no justification; a later round carries round changes for the
// same chain, height and round from strictly increasing senders.
func (m *Proposal) ValidateBasic() error {
	if m.Block != nil {
		if err := m.Block.validateFor(m.ChainID, m.Height); err != nil {
			return fmt.Errorf("proposal: %w", err)
		}
	}
	if m.Round == 0 {
		if m.Block == nil {
			return fmt.Errorf("proposal: %w: round 0 proposes a block, not EMPTY", ErrInvalid)
		}
		if len(m.Justification) != 0 {
			return fmt.Errorf("proposal: %w: round 0 carries %d round changes", ErrInvalid, len(m.Justification))
		}
	} else if len(m.Justification) == 0 {
		return fmt.Errorf("proposal: %w: round %d carries no justification", ErrInvalid, m.Round)
	}
	for i := range m.Justification {
		rc := &m.Justification[i]
		if err := rc.ValidateBasic(); err != nil {
			return fmt.Errorf("proposal: justification %d: %w", i, err)
		}
		if rc.ChainID != m.ChainID || rc.Height != m.Height || rc.Round != m.Round {
			return fmt.Errorf("proposal: %w: justification %d is for chain %d height %d round %d", ErrInvalid, i, rc.ChainID, rc.Height, rc.Round)
		}
		if i > 0 && rc.Sender <= m.Justification[i-1].Sender {
			return fmt.Errorf("proposal: %w: justification senders not strictly increasing at %d", ErrInvalid, i)
		}
	}
	if m.Signature == ([types.BLSSignatureSize]byte{}) {
		return fmt.Errorf("proposal: %w: not signed", ErrInvalid)
	}
	return nil
}

// DecodeProposal decodes a canonical Proposal encoding. The block body is
// copied, so the result does not alias b.
func DecodeProposal(b []byte) (*Proposal, error) {
	d := codec.NewDecoder("proposal", b, ProposalMaxSize)
	readKind(&d, KindProposal)
	m := &Proposal{}
	m.ChainID = types.ChainID(d.Uint32("ChainID"))
	m.Height = types.Height(d.Uint64("Height"))
	m.Round = types.Round(d.Uint32("Round"))
	m.Proposer = types.ValidatorIndex(d.Uint32("Proposer"))
	m.Block = readOptionalBlock(&d)
	count := d.Uint32("JustificationCount")
	if d.Err() == nil && count > MaxJustification {
		d.Fail("JustificationCount", fmt.Errorf("%w: %d round changes (maximum %d)", codec.ErrTooLarge, count, MaxJustification))
	}
	if d.Err() == nil && count > 0 {
		// Every round change takes at least roundChangeFixedSize bytes, so
		// a count the input cannot hold is refused before allocating.
		if uint64(count)*roundChangeFixedSize > uint64(d.Remaining()) {
			d.Fail("Justification", fmt.Errorf("%w: %d round changes cannot fit in %d bytes", codec.ErrTruncated, count, d.Remaining()))
		} else {
			m.Justification = make([]RoundChange, count)
			for i := range m.Justification {
				m.Justification[i].decodeFrom(&d)
			}
		}
	}
	d.Fixed("Signature", m.Signature[:])
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return m, nil
}

// --------------------------------------------------------------- Decision

// DecisionMaxSize is the length of the largest Decision encoding.
const DecisionMaxSize = 1 + 1 + types.HeaderSize + 4 + MaxBlockBodySize + 4 + types.CertificateMaxSize

// Decision is a decided value with its proof (docs/CONSENSUS.md, step 4): a
// confirm certificate of a quorum, or a fast certificate (prepares of all n
// members). It is the Commit action, and the message a member broadcasts
// when it decides, from which others catch up.
type Decision struct {
	// Block is the decided block; nil when EMPTY was decided.
	Block *Block
	// Certificate proves the decision; its Height and Round say where.
	Certificate types.Certificate
}

// Kind returns KindDecision.
func (*Decision) Kind() MessageKind { return KindDecision }
func (*Decision) isMessage()        {}

// Value returns the decided value: the certificate's block hash, zero for
// EMPTY.
func (m *Decision) Value() types.Hash { return m.Certificate.BlockHash }

// Height returns the decided height.
func (m *Decision) Height() types.Height { return m.Certificate.Height }

// AppendBinary appends the canonical encoding of m.
func (m *Decision) AppendBinary(dst []byte) ([]byte, error) {
	if m.Block != nil {
		if m.Block.Header.Version != types.HeaderVersion {
			return dst, fmt.Errorf("encode decision: field Header: %w: %d", codec.ErrUnsupportedVersion, m.Block.Header.Version)
		}
		if len(m.Block.Body) > MaxBlockBodySize {
			return dst, fmt.Errorf("encode decision: field Body: %w: %d bytes (maximum %d)", codec.ErrTooLarge, len(m.Block.Body), MaxBlockBodySize)
		}
	}
	if !m.Certificate.Kind.Known() {
		return dst, fmt.Errorf("encode decision: field Certificate: %w: %v", codec.ErrUnknownKind, m.Certificate.Kind)
	}
	size := 1 + 1 + 4 + m.Certificate.EncodedLen()
	if m.Block != nil {
		size += types.HeaderSize + 4 + len(m.Block.Body)
	}
	e := codec.NewEncoder(dst, size)
	e.AppendUint8(uint8(KindDecision))
	appendOptionalBlock(&e, m.Block)
	appendCertificate(&e, &m.Certificate)
	return e.Bytes(), nil
}

// ValidateBasic checks the certificate, that it is a confirm certificate or
// a prepare-stage one (the fast path), and that the block is present exactly
// when the value is not EMPTY and hashes to it.
func (m *Decision) ValidateBasic() error {
	c := &m.Certificate
	if err := validateCertificate(c); err != nil {
		return fmt.Errorf("decision: %w", err)
	}
	if IsEmptyValue(c.BlockHash) {
		if m.Block != nil {
			return fmt.Errorf("decision: %w: EMPTY decided but a block is attached", ErrInvalid)
		}
		return nil
	}
	if m.Block == nil {
		return fmt.Errorf("decision: %w: block %v decided but not attached", ErrInvalid, c.BlockHash)
	}
	if err := m.Block.validateFor(c.ChainID, c.Height); err != nil {
		return fmt.Errorf("decision: %w", err)
	}
	if h := m.Block.Hash(); h != c.BlockHash {
		return fmt.Errorf("decision: %w: block hashes to %v, certificate names %v", ErrInvalid, h, c.BlockHash)
	}
	return nil
}

// DecodeDecision decodes a canonical Decision encoding. The block body is
// copied.
func DecodeDecision(b []byte) (*Decision, error) {
	d := codec.NewDecoder("decision", b, DecisionMaxSize)
	m := &Decision{}
	m.decodeFrom(&d)
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Decision) decodeFrom(d *codec.Decoder) {
	readKind(d, KindDecision)
	m.Block = readOptionalBlock(d)
	m.Certificate = readCertificate(d, "Certificate")
}

// --------------------------------------------------------------- Envelope

// MessageMaxSize is the length of the largest consensus message encoding.
const MessageMaxSize = ProposalMaxSize

// EncodeMessage returns the canonical encoding of m.
func EncodeMessage(m Message) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("encode message: %w: nil message", ErrInvalid)
	}
	return m.AppendBinary(nil)
}

// DecodeMessage decodes any consensus message, dispatching on its first
// byte. Errors wrap a node/codec sentinel.
func DecodeMessage(b []byte) (Message, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("decode message: %w: empty input", codec.ErrTruncated)
	}
	switch MessageKind(b[0]) {
	case KindProposal:
		return asMessage(DecodeProposal(b))
	case KindPrepare:
		return asMessage(DecodePrepare(b))
	case KindConfirm:
		return asMessage(DecodeConfirm(b))
	case KindRoundChange:
		return asMessage(DecodeRoundChange(b))
	case KindDecision:
		return asMessage(DecodeDecision(b))
	}
	return nil, fmt.Errorf("decode message: %w: kind byte 0x%02x", codec.ErrUnknownKind, b[0])
}

// asMessage keeps a failed decode from returning a non-nil interface that
// holds a nil pointer.
func asMessage[M Message](m M, err error) (Message, error) {
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ------------------------------------------------------- shared helpers

// readKind reads the kind byte and fails with codec.ErrWrongType unless it
// is want.
func readKind(d *codec.Decoder, want MessageKind) {
	got := MessageKind(d.Uint8("Kind"))
	if d.Err() == nil && got != want {
		d.Fail("Kind", fmt.Errorf("%w: %v, want %v", codec.ErrWrongType, got, want))
	}
}

// appendVote appends a vote's node/types encoding, whose kind the caller has
// checked.
func appendVote(e *codec.Encoder, v *types.Vote) {
	out, _ := v.AppendBinary(e.Bytes())
	*e = codec.NewEncoder(out, 0)
}

// readVote reads a vote in its fixed-size node/types encoding.
func readVote(d *codec.Decoder, field string) types.Vote {
	var buf [types.VoteSize]byte
	d.Fixed(field, buf[:])
	if d.Err() != nil {
		return types.Vote{}
	}
	v, err := types.DecodeVote(buf[:])
	if err != nil {
		d.Fail(field, err)
	}
	return v
}

// appendCertificate appends a certificate's node/types encoding after its
// uint32 length. The length prefix lets the certificate be decoded as a
// whole by node/types' strict decoder, which then checks that it fills the
// field exactly.
func appendCertificate(e *codec.Encoder, c *types.Certificate) {
	e.AppendUint32(uint32(c.EncodedLen()))
	out, _ := c.AppendBinary(e.Bytes())
	*e = codec.NewEncoder(out, 0)
}

// readCertificate reads a length-prefixed certificate.
func readCertificate(d *codec.Decoder, field string) types.Certificate {
	b := d.Bytes(field, types.CertificateMaxSize)
	if d.Err() != nil {
		return types.Certificate{}
	}
	c, err := types.DecodeCertificate(b)
	if err != nil {
		d.Fail(field, err)
	}
	return c
}

// appendOptionalBlock appends HasBlock and, when set, the header and the
// length-prefixed body.
func appendOptionalBlock(e *codec.Encoder, b *Block) {
	e.AppendBool(b != nil)
	if b == nil {
		return
	}
	out, _ := b.Header.AppendBinary(e.Bytes())
	*e = codec.NewEncoder(out, 0)
	e.AppendBytes(b.Body)
}

// readOptionalBlock reads what appendOptionalBlock wrote.
func readOptionalBlock(d *codec.Decoder) *Block {
	if !d.Bool("HasBlock") {
		return nil
	}
	var buf [types.HeaderSize]byte
	d.Fixed("Header", buf[:])
	if d.Err() != nil {
		return nil
	}
	h, err := types.DecodeHeader(buf[:])
	if err != nil {
		d.Fail("Header", err)
		return nil
	}
	body := d.Bytes("Body", MaxBlockBodySize)
	if d.Err() != nil {
		return nil
	}
	return &Block{Header: h, Body: bytes.Clone(body)}
}
