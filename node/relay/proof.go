package relay

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// Type tags of the encodings of this package (docs/ARCHITECTURE.md).
const (
	ProofTag    byte = 0x22 // Proof, the full form
	BatchTag    byte = 0x23
	AckTag      byte = 0x24
	RefProofTag byte = 0x29 // RefProof, the form by reference
)

// MaxLifts is the most hops up the recorder tree a proof carries: a chain at
// depth MaxLifts below the root is the deepest a proof can lift to it.
const MaxLifts = 8

// MaxProofLen is the longest encoding of a proof of one relay, in either
// form: what a Package may carry.
const MaxProofLen = 8 << 10

// A block input may carry any proof of this package.
var _ [exec.MaxRelayProofLen - max(MaxProofLen, MaxGroupProofLen)]struct{}

// maxPathLen is the longest crypto/merkle proof encoding: index, leaf
// count, sibling count and 64 siblings.
const maxPathLen = 8 + 8 + 1 + merkle.MaxSiblings*hash.Size

// refFixedSize is the length of a RefProof encoding less its path: tag,
// chain, height and the path's length.
const refFixedSize = 1 + 4 + 8 + 4

// MaxRefProofLen is the longest RefProof encoding.
const MaxRefProofLen = refFixedSize + maxPathLen

// Proof is the full form of a relay proof. It shows that an outer-relay
// message was produced by a block of its source chain, and that the block
// was recorded up the recorder tree: the Source header commits to the
// message through Path, each Lift to the header before it, and the last
// header of (Source, Lifts...) is the one the destination must know as
// confirmed. A relay travels in this form only when its destination does
// not follow the recorder of its source chain (a sub-chain's relay to a
// chain outside its coordinator); otherwise it travels as a RefProof.
type Proof struct {
	// Source is the header of the block that produced the message.
	Source types.Header
	// Path is the path of exec.RelayLeaf(msg.ID()) in Source.OuterRelayRoot
	// (exec.ProveRelay).
	Path merkle.Proof
	// Lifts are zero or more hops, each to the recorder of the chain of the
	// header before it.
	Lifts []Lift
}

// Lift proves that the header before it in a Proof was recorded by a block
// of its recorder chain (the chain's Parent in the topology).
type Lift struct {
	// Recorder is the header of the recorder chain's block.
	Recorder types.Header
	// Path is the path of merkle.LeafHash(prev.Hash()) in
	// Recorder.InputRoot, the record root (rootchain.ProveRecord).
	Path merkle.Proof
}

// Last returns the header the destination must know as confirmed: the last
// lift's recorder, or Source when there is no lift.
func (p *Proof) Last() *types.Header {
	if len(p.Lifts) == 0 {
		return &p.Source
	}
	return &p.Lifts[len(p.Lifts)-1].Recorder
}

// EncodedLen returns the length of p's encoding.
func (p *Proof) EncodedLen() int {
	n := 1 + types.HeaderSize + 4 + p.Path.EncodedSize() + 1
	for i := range p.Lifts {
		n += types.HeaderSize + 4 + p.Lifts[i].Path.EncodedSize()
	}
	return n
}

// AppendBinary appends the canonical encoding of p to dst. It fails,
// leaving dst as it was, when p has more than MaxLifts lifts, encodes to
// more than MaxProofLen bytes, or holds a header or path that does not
// encode.
func (p *Proof) AppendBinary(dst []byte) ([]byte, error) {
	if len(p.Lifts) > MaxLifts {
		return dst, fmt.Errorf("encode relay proof: %w: %d lifts, maximum %d", codec.ErrTooLarge, len(p.Lifts), MaxLifts)
	}
	n := p.EncodedLen()
	if n > MaxProofLen {
		return dst, fmt.Errorf("encode relay proof: %w: %d bytes, maximum %d", codec.ErrTooLarge, n, MaxProofLen)
	}
	out := append(slices.Grow(dst, n), ProofTag)
	out, err := appendHop(out, &p.Source, &p.Path)
	if err != nil {
		return dst, fmt.Errorf("encode relay proof: source: %w", err)
	}
	out = append(out, byte(len(p.Lifts)))
	for i := range p.Lifts {
		if out, err = appendHop(out, &p.Lifts[i].Recorder, &p.Lifts[i].Path); err != nil {
			return dst, fmt.Errorf("encode relay proof: lift %d: %w", i, err)
		}
	}
	return out, nil
}

// MarshalBinary returns the canonical encoding of p.
func (p *Proof) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// appendHop appends a header and the length-prefixed path that leads into
// one of its roots.
func appendHop(dst []byte, h *types.Header, path *merkle.Proof) ([]byte, error) {
	out, err := h.AppendBinary(dst)
	if err != nil {
		return dst, err
	}
	out = binary.BigEndian.AppendUint32(out, uint32(path.EncodedSize()))
	if out, err = path.AppendBinary(out); err != nil {
		return dst, err
	}
	return out, nil
}

// DecodeProof decodes a canonical proof encoding (layout in the package
// documentation). The result shares no memory with b.
func DecodeProof(b []byte) (Proof, error) {
	var p Proof
	err := p.UnmarshalBinary(b)
	return p, err
}

// UnmarshalBinary decodes a canonical proof encoding into p. It rejects,
// with the node/codec sentinels, input over MaxProofLen, a wrong tag, more
// than MaxLifts lifts, truncated input and trailing bytes; headers and
// paths are decoded by their own strict decoders. Every accepted input
// re-encodes to the same bytes. On failure p is left in an unspecified
// state.
func (p *Proof) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("relay proof", b, MaxProofLen)
	readTag(&d, ProofTag)
	readHop(&d, "Source", &p.Source, &p.Path)
	n := int(d.Uint8("Lifts"))
	if d.Err() == nil && n > MaxLifts {
		d.Fail("Lifts", fmt.Errorf("%w: %d lifts, maximum %d", codec.ErrTooLarge, n, MaxLifts))
	}
	p.Lifts = nil
	if d.Err() == nil && n > 0 {
		p.Lifts = make([]Lift, n)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		readHop(&d, "Lifts", &p.Lifts[i].Recorder, &p.Lifts[i].Path)
	}
	return d.Finish()
}

// readHop reads a header and its length-prefixed path.
func readHop(d *codec.Decoder, field string, h *types.Header, path *merkle.Proof) {
	var enc [types.HeaderSize]byte
	d.Fixed(field, enc[:])
	if d.Err() != nil {
		return
	}
	if err := h.UnmarshalBinary(enc[:]); err != nil {
		d.Fail(field, err)
		return
	}
	readPath(d, field, path)
}

// readPath reads a length-prefixed path.
func readPath(d *codec.Decoder, field string, path *merkle.Proof) {
	raw := d.Bytes(field, maxPathLen)
	if d.Err() != nil {
		return
	}
	pp, err := merkle.UnmarshalProof(raw)
	if err != nil {
		d.Fail(field, err)
		return
	}
	*path = pp
}

// AddLift appends a hop to p: recorder is the header of the recorder
// chain's block that recorded p.Last(), path the path of its record in
// recorder.InputRoot (rootchain.ProveRecord). It refuses a lift beyond
// MaxLifts; whether the hop is right is the verifier's question.
func AddLift(p *Proof, recorder *types.Header, path merkle.Proof) error {
	if len(p.Lifts) >= MaxLifts {
		return fmt.Errorf("add lift: %w: proof already has %d lifts", codec.ErrTooLarge, MaxLifts)
	}
	p.Lifts = append(p.Lifts, Lift{Recorder: *recorder, Path: path})
	return nil
}

// RefProof is the form of a relay proof by reference. It names the block
// that produced the message by its chain and height instead of carrying
// its header: the destination looks the header up in its own recorder
// view (Anchors.Recorded), which holds it because the destination follows
// the recorder of the source chain, and checks Path against the recorded
// header's OuterRelayRoot.
type RefProof struct {
	// Chain and Height name the block that produced the message.
	Chain  types.ChainID
	Height types.Height
	// Path is the path of exec.RelayLeaf(msg.ID()) in that block's
	// OuterRelayRoot (exec.ProveRelay).
	Path merkle.Proof
}

// EncodedLen returns the length of r's encoding.
func (r *RefProof) EncodedLen() int { return refFixedSize + r.Path.EncodedSize() }

// AppendBinary appends the canonical encoding of r to dst. It fails,
// leaving dst as it was, when the path does not encode.
func (r *RefProof) AppendBinary(dst []byte) ([]byte, error) {
	out := append(slices.Grow(dst, r.EncodedLen()), RefProofTag)
	out = binary.BigEndian.AppendUint32(out, uint32(r.Chain))
	out = binary.BigEndian.AppendUint64(out, uint64(r.Height))
	out = binary.BigEndian.AppendUint32(out, uint32(r.Path.EncodedSize()))
	out, err := r.Path.AppendBinary(out)
	if err != nil {
		return dst, fmt.Errorf("encode relay reference proof: %w", err)
	}
	return out, nil
}

// MarshalBinary returns the canonical encoding of r.
func (r *RefProof) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// DecodeRefProof decodes a canonical reference proof encoding (layout in
// the package documentation). The result shares no memory with b.
func DecodeRefProof(b []byte) (RefProof, error) {
	var r RefProof
	err := r.UnmarshalBinary(b)
	return r, err
}

// UnmarshalBinary decodes a canonical reference proof encoding into r. It
// rejects, with the node/codec sentinels, input over MaxRefProofLen, a
// wrong tag, truncated input and trailing bytes; the path is decoded by
// its own strict decoder. Every accepted input re-encodes to the same
// bytes. On failure r is left in an unspecified state.
func (r *RefProof) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("relay reference proof", b, MaxRefProofLen)
	readTag(&d, RefProofTag)
	r.Chain = types.ChainID(d.Uint32("Chain"))
	r.Height = types.Height(d.Uint64("Height"))
	readPath(&d, "Path", &r.Path)
	return d.Finish()
}

// anyProof is a decoded proof of either form.
type anyProof struct {
	byRef bool
	full  Proof    // when !byRef
	ref   RefProof // when byRef
}

// decodeAnyProof decodes a proof of either form, told apart by its tag.
// The packed forms do not stand alone: they are refused here.
func decodeAnyProof(b []byte) (anyProof, error) {
	switch tagOf(b) {
	case GroupProofTag, GroupRefTag:
		return anyProof{}, fmt.Errorf("decode relay proof: %w: a packed proof (tag 0x%02x) covers a group of a block's inputs, not one relay", codec.ErrWrongType, b[0])
	}
	if len(b) > 0 && b[0] == RefProofTag {
		r, err := DecodeRefProof(b)
		return anyProof{byRef: true, ref: r}, err
	}
	p, err := DecodeProof(b)
	return anyProof{full: p}, err
}

// source returns the chain and height of the block that produced the
// message.
func (p *anyProof) source() (types.ChainID, types.Height) {
	if p.byRef {
		return p.ref.Chain, p.ref.Height
	}
	return p.full.Source.ChainID, p.full.Source.Height
}

// LiftPackage returns pkg with one more hop up the recorder tree added to
// its proof (AddLift): recorder is the header of the recorder block that
// recorded the proof's last header, path the path of that header's record
// in recorder.InputRoot (rootchain.ProveRecord). source is the header of
// the block that produced the message. A proof by reference, which only
// names that block, is turned into the full form over source first; a full
// proof already carries it, and source must be the same header.
func LiftPackage(pkg Package, source, recorder *types.Header, path merkle.Proof) (Package, error) {
	ap, err := decodeAnyProof(pkg.Proof)
	if err != nil {
		return Package{}, fmt.Errorf("lift package: %w", err)
	}
	p := ap.full
	if ap.byRef {
		if source.ChainID != ap.ref.Chain || source.Height != ap.ref.Height {
			return Package{}, fmt.Errorf("lift package: header of chain %d height %d for a proof of chain %d height %d",
				source.ChainID, source.Height, ap.ref.Chain, ap.ref.Height)
		}
		p = Proof{Source: *source, Path: ap.ref.Path}
	} else if p.Source != *source {
		return Package{}, fmt.Errorf("lift package: the proof's source header is not the one given (chain %d height %d)", source.ChainID, source.Height)
	}
	if err := AddLift(&p, recorder, path); err != nil {
		return Package{}, fmt.Errorf("lift package: %w", err)
	}
	enc, err := p.MarshalBinary()
	if err != nil {
		return Package{}, fmt.Errorf("lift package: %w", err)
	}
	return Package{Message: pkg.Message, Proof: enc}, nil
}
