package light

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/types"
)

// Type tags of the encodings of this package (docs/ARCHITECTURE.md
// registry).
const (
	HeaderProofTag  byte = 0x25
	AccountProofTag byte = 0x26
	RelayProofTag   byte = 0x27
)

// MaxPathSize is the longest crypto/merkle proof encoding: index, leaf
// count, sibling count and merkle.MaxSiblings siblings.
const MaxPathSize = 8 + 8 + 1 + merkle.MaxSiblings*hash.Size

// liftMaxSize is the longest lift encoding: header, path length, path.
const liftMaxSize = types.HeaderSize + 4 + MaxPathSize

// Longest encodings, the decoders' input limits.
const (
	// HeaderProofMaxSize: relay.MaxLifts lifts with the longest paths and
	// a certificate of types.MaxCommitteeSize members.
	HeaderProofMaxSize = 1 + types.HeaderSize + 1 + relay.MaxLifts*liftMaxSize + 4 + types.CertificateMaxSize
	// AccountProofMaxSize: the largest header proof, account and path.
	AccountProofMaxSize = 1 + 4 + HeaderProofMaxSize + 4 + actor.AccountMaxSize + 4 + MaxPathSize
	// RelayProofMaxSize: the largest header proof, message and path.
	RelayProofMaxSize = 1 + 4 + HeaderProofMaxSize + 4 + types.MessageMaxSize + 4 + MaxPathSize
)

// HeaderProof proves a header of any chain to a light client that knows
// only the root committee's keys: each lift shows that the header before
// it was recorded by a block of a recorder chain, the last lift's recorder
// is a root-chain block, and RootCertificate is that root block's decision
// certificate. With no lift, Header is itself the root block.
type HeaderProof struct {
	// Header is the proven header (a transaction, coordinator or root
	// chain's block).
	Header types.Header
	// Lifts lead from Header up to a root block: Lifts[i].Recorder
	// recorded the header before it (Header for i = 0).
	Lifts []relay.Lift
	// RootCertificate is the root committee's decision certificate of the
	// last header: the last lift's recorder, or Header with no lift.
	RootCertificate types.Certificate
}

// Root returns the root header the proof ends at: the last lift's
// recorder, or Header when there is no lift. Only VerifyHeader says
// whether it is one.
func (p *HeaderProof) Root() *types.Header {
	if len(p.Lifts) == 0 {
		return &p.Header
	}
	return &p.Lifts[len(p.Lifts)-1].Recorder
}

// AccountProof proves the state of one account as of a block of its chain.
type AccountProof struct {
	// Block proves the block's header.
	Block HeaderProof
	// Account is the canonical encoding of the account (node/actor).
	Account []byte
	// Path is the path of the account's leaf in Block.Header.StateRoot
	// (exec.ProveAccount).
	Path merkle.Proof
}

// RelayProof proves that a block produced an outer-relay message.
type RelayProof struct {
	// Block proves the header of the block that produced the message.
	Block HeaderProof
	// Message is the outer-relay message.
	Message types.Message
	// Path is the path of exec.RelayLeaf(Message.ID()) in
	// Block.Header.OuterRelayRoot (exec.ProveRelay).
	Path merkle.Proof
}

// EncodedLen returns the length of p's encoding.
func (p *HeaderProof) EncodedLen() int {
	n := 1 + types.HeaderSize + 1 + 4 + p.RootCertificate.EncodedLen()
	for i := range p.Lifts {
		n += types.HeaderSize + 4 + p.Lifts[i].Path.EncodedSize()
	}
	return n
}

// AppendBinary appends the canonical encoding of p to dst. It fails,
// leaving dst as it was, when p has more than relay.MaxLifts lifts or holds
// a header, path or certificate that does not encode.
func (p *HeaderProof) AppendBinary(dst []byte) ([]byte, error) {
	out, err := p.appendTo(dst)
	if err != nil {
		return dst, fmt.Errorf("encode header proof: %w", err)
	}
	return out, nil
}

func (p *HeaderProof) appendTo(dst []byte) ([]byte, error) {
	if len(p.Lifts) > relay.MaxLifts {
		return dst, fmt.Errorf("field Lifts: %w: %d lifts, maximum %d", codec.ErrTooLarge, len(p.Lifts), relay.MaxLifts)
	}
	out := append(slices.Grow(dst, p.EncodedLen()), HeaderProofTag)
	out, err := p.Header.AppendBinary(out)
	if err != nil {
		return dst, fmt.Errorf("field Header: %w", err)
	}
	out = append(out, byte(len(p.Lifts)))
	for i := range p.Lifts {
		l := &p.Lifts[i]
		if out, err = l.Recorder.AppendBinary(out); err != nil {
			return dst, fmt.Errorf("lift %d: %w", i, err)
		}
		if out, err = appendPath(out, &l.Path); err != nil {
			return dst, fmt.Errorf("lift %d: %w", i, err)
		}
	}
	out = binary.BigEndian.AppendUint32(out, uint32(p.RootCertificate.EncodedLen()))
	if out, err = p.RootCertificate.AppendBinary(out); err != nil {
		return dst, fmt.Errorf("field RootCertificate: %w", err)
	}
	return out, nil
}

// MarshalBinary returns the canonical encoding of p.
func (p *HeaderProof) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// DecodeHeaderProof decodes a canonical header proof encoding. The result
// shares no memory with b.
func DecodeHeaderProof(b []byte) (HeaderProof, error) {
	var p HeaderProof
	err := p.UnmarshalBinary(b)
	return p, err
}

// UnmarshalBinary decodes a canonical header proof encoding into p (layout
// in the package documentation). On failure p is left in an unspecified
// state.
func (p *HeaderProof) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("header proof", b, HeaderProofMaxSize)
	readTag(&d, HeaderProofTag)
	readHeader(&d, "Header", &p.Header)
	n := int(d.Uint8("Lifts"))
	if d.Err() == nil && n > relay.MaxLifts {
		d.Fail("Lifts", fmt.Errorf("%w: %d lifts, maximum %d", codec.ErrTooLarge, n, relay.MaxLifts))
	}
	p.Lifts = nil
	if d.Err() == nil && n > 0 {
		p.Lifts = make([]relay.Lift, n)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		readHeader(&d, "Lifts", &p.Lifts[i].Recorder)
		readPath(&d, "Lifts", &p.Lifts[i].Path)
	}
	raw := d.Bytes("RootCertificate", types.CertificateMaxSize)
	if d.Err() == nil {
		if err := p.RootCertificate.UnmarshalBinary(raw); err != nil {
			d.Fail("RootCertificate", err)
		}
	}
	return d.Finish()
}

// EncodedLen returns the length of p's encoding.
func (p *AccountProof) EncodedLen() int {
	return 1 + 4 + p.Block.EncodedLen() + 4 + len(p.Account) + 4 + p.Path.EncodedSize()
}

// AppendBinary appends the canonical encoding of p to dst. It fails,
// leaving dst as it was, when the header proof or path does not encode or
// Account is not a canonical account encoding.
func (p *AccountProof) AppendBinary(dst []byte) ([]byte, error) {
	if _, err := actor.DecodeAccount(p.Account); err != nil {
		return dst, fmt.Errorf("encode account proof: field Account: %w", err)
	}
	out := append(slices.Grow(dst, p.EncodedLen()), AccountProofTag)
	out, err := appendBlock(out, &p.Block)
	if err != nil {
		return dst, fmt.Errorf("encode account proof: %w", err)
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(p.Account)))
	out = append(out, p.Account...)
	if out, err = appendPath(out, &p.Path); err != nil {
		return dst, fmt.Errorf("encode account proof: %w", err)
	}
	return out, nil
}

// MarshalBinary returns the canonical encoding of p.
func (p *AccountProof) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// DecodeAccountProof decodes a canonical account proof encoding. The
// result shares no memory with b.
func DecodeAccountProof(b []byte) (AccountProof, error) {
	var p AccountProof
	err := p.UnmarshalBinary(b)
	return p, err
}

// UnmarshalBinary decodes a canonical account proof encoding into p. The
// account must be a canonical node/actor encoding. On failure p is left in
// an unspecified state.
func (p *AccountProof) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("account proof", b, AccountProofMaxSize)
	readTag(&d, AccountProofTag)
	readBlock(&d, &p.Block)
	raw := d.Bytes("Account", actor.AccountMaxSize)
	if d.Err() == nil {
		if _, err := actor.DecodeAccount(raw); err != nil {
			d.Fail("Account", err)
		}
	}
	p.Account = bytes.Clone(raw)
	readPath(&d, "Path", &p.Path)
	return d.Finish()
}

// EncodedLen returns the length of p's encoding.
func (p *RelayProof) EncodedLen() int {
	return 1 + 4 + p.Block.EncodedLen() + 4 + p.Message.EncodedLen() + 4 + p.Path.EncodedSize()
}

// AppendBinary appends the canonical encoding of p to dst. It fails,
// leaving dst as it was, when the header proof, message or path does not
// encode.
func (p *RelayProof) AppendBinary(dst []byte) ([]byte, error) {
	out := append(slices.Grow(dst, p.EncodedLen()), RelayProofTag)
	out, err := appendBlock(out, &p.Block)
	if err != nil {
		return dst, fmt.Errorf("encode relay proof: %w", err)
	}
	out = binary.BigEndian.AppendUint32(out, uint32(p.Message.EncodedLen()))
	if out, err = p.Message.AppendBinary(out); err != nil {
		return dst, fmt.Errorf("encode relay proof: field Message: %w", err)
	}
	if out, err = appendPath(out, &p.Path); err != nil {
		return dst, fmt.Errorf("encode relay proof: %w", err)
	}
	return out, nil
}

// MarshalBinary returns the canonical encoding of p.
func (p *RelayProof) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// DecodeRelayProof decodes a canonical relay proof encoding. The result
// shares no memory with b.
func DecodeRelayProof(b []byte) (RelayProof, error) {
	var p RelayProof
	err := p.UnmarshalBinary(b)
	return p, err
}

// UnmarshalBinary decodes a canonical relay proof encoding into p. On
// failure p is left in an unspecified state.
func (p *RelayProof) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("relay proof", b, RelayProofMaxSize)
	readTag(&d, RelayProofTag)
	readBlock(&d, &p.Block)
	raw := d.Bytes("Message", types.MessageMaxSize)
	p.Message = types.Message{}
	if d.Err() == nil {
		if m, err := types.DecodeMessage(raw); err != nil {
			d.Fail("Message", err)
		} else {
			p.Message = m.Clone()
		}
	}
	readPath(&d, "Path", &p.Path)
	return d.Finish()
}

// appendBlock appends a header proof with its length in front.
func appendBlock(dst []byte, p *HeaderProof) ([]byte, error) {
	out := binary.BigEndian.AppendUint32(dst, uint32(p.EncodedLen()))
	out, err := p.appendTo(out)
	if err != nil {
		return dst, fmt.Errorf("field Block: %w", err)
	}
	return out, nil
}

// readBlock reads a length-prefixed header proof.
func readBlock(d *codec.Decoder, p *HeaderProof) {
	raw := d.Bytes("Block", HeaderProofMaxSize)
	if d.Err() != nil {
		return
	}
	if err := p.UnmarshalBinary(raw); err != nil {
		d.Fail("Block", err)
	}
}

// appendPath appends a length-prefixed crypto/merkle proof encoding.
func appendPath(dst []byte, path *merkle.Proof) ([]byte, error) {
	out := binary.BigEndian.AppendUint32(dst, uint32(path.EncodedSize()))
	out, err := path.AppendBinary(out)
	if err != nil {
		return dst, fmt.Errorf("path: %w", err)
	}
	return out, nil
}

// readPath reads a length-prefixed crypto/merkle proof encoding. Its
// decoder refuses any proof whose shape is not valid, so a path that
// decodes re-encodes to the same bytes; its refusals are reported as
// non-canonical input.
func readPath(d *codec.Decoder, field string, path *merkle.Proof) {
	raw := d.Bytes(field, MaxPathSize)
	if d.Err() != nil {
		return
	}
	pp, err := merkle.UnmarshalProof(raw)
	if err != nil {
		d.Fail(field, fmt.Errorf("%w: %w", codec.ErrNonCanonical, err))
		return
	}
	*path = pp
}

// readHeader reads a fixed-size header encoding.
func readHeader(d *codec.Decoder, field string, h *types.Header) {
	var enc [types.HeaderSize]byte
	d.Fixed(field, enc[:])
	if d.Err() != nil {
		return
	}
	if err := h.UnmarshalBinary(enc[:]); err != nil {
		d.Fail(field, err)
	}
}

// readTag reads the type tag and fails with codec.ErrWrongType unless it
// is want.
func readTag(d *codec.Decoder, want byte) {
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != want {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x, want 0x%02x", codec.ErrWrongType, tag, want))
	}
}
