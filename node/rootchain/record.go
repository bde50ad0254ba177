package rootchain

import (
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// Type tags of the encodings of this package (docs/ARCHITECTURE.md
// registry). 0x22 to 0x27 belong to node/relay and node/light.
const (
	RecordTag byte = 0x20
	BodyTag   byte = 0x21
	StateTag  byte = 0x28
)

// RecordMaxSize is the length of the largest record encoding: a
// certificate for a committee of types.MaxCommitteeSize members.
const RecordMaxSize = 1 + types.HeaderSize + types.CertificateMaxSize

// Record is one decided height of a child chain, as its recorder records
// it (paper 4.3: the digest m_i with the committee's aggregated signature):
// the block header, or types.EmptyHeader(parent) for a height decided
// EMPTY, and the decision certificate of the child's committee.
type Record struct {
	Header types.Header
	// Certificate is the decision certificate: its ChainID and Height are
	// the header's, its BlockHash the header's hash (zero for EMPTY).
	Certificate types.Certificate
}

// Leaf returns the record's leaf in the recorder block's InputRoot:
// merkle.LeafHash of the header hash. A light proof of a child header is
// the path of this leaf.
func (r *Record) Leaf() types.Hash {
	h := r.Header.Hash()
	return headerLeaf(&h)
}

func headerLeaf(headerHash *types.Hash) types.Hash { return merkle.LeafHash(headerHash[:]) }

// EncodedLen returns the length of r's encoding.
func (r *Record) EncodedLen() int { return 1 + types.HeaderSize + r.Certificate.EncodedLen() }

// AppendBinary appends the canonical encoding of r to dst. It fails,
// leaving dst as it was, when the header or certificate does not encode.
func (r *Record) AppendBinary(dst []byte) ([]byte, error) {
	out := append(slices.Grow(dst, r.EncodedLen()), RecordTag)
	out, err := r.Header.AppendBinary(out)
	if err != nil {
		return dst, fmt.Errorf("encode record: %w", err)
	}
	out, err = r.Certificate.AppendBinary(out)
	if err != nil {
		return dst, fmt.Errorf("encode record: %w", err)
	}
	return out, nil
}

// MarshalBinary returns the canonical encoding of r.
func (r *Record) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, r.EncodedLen()))
}

// DecodeRecord decodes a canonical record encoding. The result shares no
// memory with b.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	err := r.UnmarshalBinary(b)
	return r, err
}

// UnmarshalBinary decodes a canonical record encoding into r. On failure r
// is left in an unspecified state.
func (r *Record) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("record", b, RecordMaxSize)
	readTag(&d, RecordTag)
	var hb [types.HeaderSize]byte
	d.Fixed("Header", hb[:])
	if err := d.Err(); err != nil {
		return err
	}
	if err := r.Header.UnmarshalBinary(hb[:]); err != nil {
		return fmt.Errorf("decode record: field Header: %w", err)
	}
	// The certificate is the rest of the input: its own decoder rejects
	// truncation and trailing bytes.
	if err := r.Certificate.UnmarshalBinary(b[d.Offset():]); err != nil {
		return fmt.Errorf("decode record: field Certificate: %w", err)
	}
	return nil
}

// ValidateBasic checks the rules of a record that need no chain state and
// no committee:
//   - the header and certificate pass their own ValidateBasic;
//   - the header is not a genesis header (genesis is never recorded);
//   - the certificate's ChainID and Height are the header's;
//   - for a block, the certificate's BlockHash is the header's hash;
//   - for EMPTY (Header.Empty), the certificate's BlockHash is zero and the
//     header has the shape of an empty header: round, proposer and every
//     root but StateRoot zero. That it is exactly types.EmptyHeader of
//     the chain's tip is checked against the state.
//
// Every error wraps ErrInvalid.
func (r *Record) ValidateBasic() error {
	h := r.Header.Hash()
	if err := r.validateBasic(&h); err != nil {
		return fmt.Errorf("record %d/%d: %w", r.Header.ChainID, r.Header.Height, err)
	}
	return nil
}

// validateBasic is ValidateBasic with the header hash computed by the
// caller, who needs it again.
func (r *Record) validateBasic(headerHash *types.Hash) error {
	h, c := &r.Header, &r.Certificate
	if err := h.ValidateBasic(); err != nil {
		return err
	}
	if err := c.ValidateBasic(); err != nil {
		return err
	}
	if h.Height == 0 {
		return fmt.Errorf("%w: a genesis header is not recorded", ErrInvalid)
	}
	if c.ChainID != h.ChainID || c.Height != h.Height {
		return fmt.Errorf("%w: certificate for %d/%d, header is %d/%d", ErrInvalid, c.ChainID, c.Height, h.ChainID, h.Height)
	}
	if !h.Empty {
		if c.BlockHash != *headerHash {
			return fmt.Errorf("%w: certificate for block %v, header hash is %v", ErrInvalid, c.BlockHash, *headerHash)
		}
		return nil
	}
	if !c.BlockHash.IsZero() {
		return fmt.Errorf("%w: EMPTY record with a certificate for block %v", ErrInvalid, c.BlockHash)
	}
	if h.Round != 0 || h.Proposer != 0 || !h.InputRoot.IsZero() || !h.InterRelayRoot.IsZero() ||
		!h.OuterRelayRoot.IsZero() || !h.RecordRoot.IsZero() {
		return fmt.Errorf("%w: EMPTY record whose header is not the shape of an empty header", ErrInvalid)
	}
	return nil
}

// readTag reads the type tag and fails with codec.ErrWrongType unless it is
// want.
func readTag(d *codec.Decoder, want byte) {
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != want {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x, want 0x%02x", codec.ErrWrongType, tag, want))
	}
}
