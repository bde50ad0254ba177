package merkle

import (
	"encoding/binary"
	"fmt"

	"github.com/thinkey/thinkey/crypto/hash"
)

// proofHeaderSize is index (8) + leaf count (8) + sibling count (1).
const proofHeaderSize = 8 + 8 + 1

// EncodedSize returns the length of p's canonical encoding.
func (p Proof) EncodedSize() int { return proofHeaderSize + len(p.Siblings)*hash.Size }

// MarshalBinary returns the canonical encoding of p (layout in the package
// documentation). It refuses a proof whose shape is invalid, so that every
// encoding it produces decodes.
func (p Proof) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, p.EncodedSize()))
}

// AppendBinary appends the canonical encoding of p to b.
func (p Proof) AppendBinary(b []byte) ([]byte, error) {
	if err := p.checkShape(); err != nil {
		return b, fmt.Errorf("encode proof: %w", err)
	}
	b = binary.BigEndian.AppendUint64(b, p.Index)
	b = binary.BigEndian.AppendUint64(b, p.LeafCount)
	b = append(b, byte(len(p.Siblings))) // checkShape bounds it by MaxSiblings
	for i := range p.Siblings {
		b = append(b, p.Siblings[i][:]...)
	}
	return b, nil
}

// UnmarshalProof decodes a canonical proof encoding. It rejects truncated
// input and trailing bytes, an empty tree, an index outside the tree, and a
// sibling count other than the one (index, leaf count) requires, so a
// decoded proof always has a valid shape and encodes back to b.
func UnmarshalProof(b []byte) (Proof, error) {
	if len(b) < proofHeaderSize {
		return Proof{}, fmt.Errorf("decode proof: %d bytes, header needs %d: %w", len(b), proofHeaderSize, ErrMalformedProof)
	}
	p := Proof{
		Index:     binary.BigEndian.Uint64(b[0:8]),
		LeafCount: binary.BigEndian.Uint64(b[8:16]),
	}
	count := int(b[16])
	if count > MaxSiblings {
		return Proof{}, fmt.Errorf("decode proof: %d siblings, at most %d: %w", count, MaxSiblings, ErrProofLength)
	}
	want, err := SiblingCount(p.Index, p.LeafCount)
	if err != nil {
		return Proof{}, fmt.Errorf("decode proof: %w", err)
	}
	if count != want {
		return Proof{}, fmt.Errorf("decode proof: leaf %d of %d has %d siblings, want %d: %w",
			p.Index, p.LeafCount, count, want, ErrProofLength)
	}
	body := b[proofHeaderSize:]
	if len(body) != count*hash.Size {
		return Proof{}, fmt.Errorf("decode proof: %d sibling bytes, want %d: %w", len(body), count*hash.Size, ErrMalformedProof)
	}
	p.Siblings = make([]hash.Digest, count)
	for i := range p.Siblings {
		copy(p.Siblings[i][:], body[i*hash.Size:])
	}
	return p, nil
}
