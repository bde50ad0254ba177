package types

import (
	"fmt"
	"math/bits"

	"github.com/thinkey/thinkey/node/codec"
)

// MaxCommitteeSize is the largest committee a certificate can describe. It
// bounds the signer bitmap to 128 bytes, so a SignerSet is a fixed-size value
// that decodes without allocation; the paper's experiments use committees of
// a few hundred members (paper 6.2).
const MaxCommitteeSize = 1024

// SignerSet records which members of a committee of known size signed.
//
// Member i is bit i%8 (least significant first) of byte i/8 of the bitmap;
// the bitmap is (size+7)/8 bytes and its unused high bits are zero. The
// fields are unexported so that every SignerSet keeps those rules: build one
// with NewSignerSet and Add.
type SignerSet struct {
	committeeSize uint32
	bitmap        [MaxCommitteeSize / 8]byte
}

// NewSignerSet returns an empty set for a committee of committeeSize members.
// It fails with codec.ErrTooLarge above MaxCommitteeSize.
func NewSignerSet(committeeSize int) (SignerSet, error) {
	if committeeSize < 0 || committeeSize > MaxCommitteeSize {
		return SignerSet{}, fmt.Errorf("signer set: committee size %d: %w (maximum %d)", committeeSize, codec.ErrTooLarge, MaxCommitteeSize)
	}
	return SignerSet{committeeSize: uint32(committeeSize)}, nil
}

// Add marks member i as a signer. It fails with ErrInvalid when i is not a
// member of the committee.
func (s *SignerSet) Add(i ValidatorIndex) error {
	if uint32(i) >= s.committeeSize {
		return fmt.Errorf("signer set: %w: validator %d outside a committee of %d", ErrInvalid, i, s.committeeSize)
	}
	s.bitmap[i/8] |= 1 << (i % 8)
	return nil
}

// Has reports whether member i signed; false for an i outside the committee.
func (s *SignerSet) Has(i ValidatorIndex) bool {
	return uint32(i) < s.committeeSize && s.bitmap[i/8]&(1<<(i%8)) != 0
}

// CommitteeSize returns the number of members of the committee.
func (s *SignerSet) CommitteeSize() int { return int(s.committeeSize) }

// Count returns the number of signers.
func (s *SignerSet) Count() int {
	n := 0
	for _, b := range s.bitmap[:s.bitmapLen()] {
		n += bits.OnesCount8(b)
	}
	return n
}

// Indices appends the indices of the signers to dst in increasing order and
// returns the result. Pass a slice with room for Count() entries to avoid
// allocating.
func (s *SignerSet) Indices(dst []ValidatorIndex) []ValidatorIndex {
	for byteIndex, b := range s.bitmap[:s.bitmapLen()] {
		for b != 0 {
			bit := bits.TrailingZeros8(b)
			dst = append(dst, ValidatorIndex(byteIndex*8+bit))
			b &= b - 1
		}
	}
	return dst
}

// Bitmap returns the encoded bitmap, aliasing s.
func (s *SignerSet) Bitmap() []byte { return s.bitmap[:s.bitmapLen()] }

func (s *SignerSet) bitmapLen() int { return bitmapLen(s.committeeSize) }

func bitmapLen(committeeSize uint32) int { return int((committeeSize + 7) / 8) }

// decode reads the committee size and the bitmap, rejecting a size above
// MaxCommitteeSize and set padding bits.
func (s *SignerSet) decode(d *codec.Decoder) {
	size := d.Uint32("CommitteeSize")
	if d.Err() != nil {
		return
	}
	if size > MaxCommitteeSize {
		d.Fail("CommitteeSize", fmt.Errorf("%w: %d (maximum %d)", codec.ErrTooLarge, size, MaxCommitteeSize))
		return
	}
	s.committeeSize = size
	d.Fixed("Signers", s.bitmap[:bitmapLen(size)])
	if used := size % 8; d.Err() == nil && used != 0 {
		if last := s.bitmap[bitmapLen(size)-1]; last>>used != 0 {
			d.Fail("Signers", fmt.Errorf("%w: padding bits above member %d are set (last byte 0x%02x)", codec.ErrNonCanonical, size-1, last))
		}
	}
}

func (s *SignerSet) encode(e *codec.Encoder) {
	e.AppendUint32(s.committeeSize)
	e.AppendFixed(s.Bitmap())
}
