package types

import (
	"fmt"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/codec"
)

// CertificateMaxSize is the length of the largest certificate encoding, for
// a committee of MaxCommitteeSize members.
const CertificateMaxSize = certificateFixedSize + MaxCommitteeSize/8

// certificateFixedSize counts every field but the bitmap.
const certificateFixedSize = 1 + 4 + 8 + 4 + 1 + hash.Size + 4 + BLSSignatureSize

// Certificate aggregates the votes of several members for the same (chain,
// height, round, kind, block): the signers' BLS signatures over the same
// signing bytes are combined into one (paper 4.2, confirmation stage).
type Certificate struct {
	ChainID ChainID
	Height  Height
	Round   Round
	Kind    VoteKind
	// BlockHash is the BlockHash of the aggregated votes.
	BlockHash Hash
	// Signers says which members' votes are aggregated.
	Signers SignerSet
	// AggregateSignature is the aggregate of the signers' vote signatures,
	// a compressed G2 point.
	AggregateSignature [BLSSignatureSize]byte
}

// SignerCount returns the number of members whose votes are aggregated.
func (c *Certificate) SignerCount() int { return c.Signers.Count() }

// HasSigner reports whether member i's vote is aggregated.
func (c *Certificate) HasSigner(i ValidatorIndex) bool { return c.Signers.Has(i) }

// SignerIndices appends the signers' indices to dst in increasing order. Pass
// a slice with room for SignerCount() entries to avoid allocating.
func (c *Certificate) SignerIndices(dst []ValidatorIndex) []ValidatorIndex {
	return c.Signers.Indices(dst)
}

// AppendVoteSigningBytes appends the signing bytes of the votes c aggregates
// (see Vote.AppendSigningBytes), the message to check AggregateSignature
// against with one FastAggregateVerify over the signers' public keys.
func (c *Certificate) AppendVoteSigningBytes(dst []byte) []byte {
	return appendVoteSigningBytes(dst, c.ChainID, c.Height, c.Round, c.Kind, &c.BlockHash)
}

// VoteSigningBytes returns AppendVoteSigningBytes(nil) in a new slice.
func (c *Certificate) VoteSigningBytes() []byte {
	return c.AppendVoteSigningBytes(make([]byte, 0, VoteSigningSize))
}

// EncodedLen returns the length of c's encoding.
func (c *Certificate) EncodedLen() int { return certificateFixedSize + c.Signers.bitmapLen() }

// checkDomain reports a field value the encoding cannot carry.
func (c *Certificate) checkDomain() error {
	if !c.Kind.Known() {
		return fmt.Errorf("field Kind: %w %d", codec.ErrUnknownKind, uint8(c.Kind))
	}
	return nil
}

// AppendBinary appends the canonical encoding of c to dst. It fails, leaving
// dst as it was, when c.Kind is unknown.
func (c *Certificate) AppendBinary(dst []byte) ([]byte, error) {
	if err := c.checkDomain(); err != nil {
		return dst, fmt.Errorf("encode certificate: %w", err)
	}
	return c.appendTo(dst), nil
}

// MarshalBinary returns the canonical encoding of c.
func (c *Certificate) MarshalBinary() ([]byte, error) {
	return c.AppendBinary(make([]byte, 0, c.EncodedLen()))
}

func (c *Certificate) appendTo(dst []byte) []byte {
	e := codec.NewEncoder(dst, c.EncodedLen())
	e.AppendUint8(uint8(TagCertificate))
	e.AppendUint32(uint32(c.ChainID))
	e.AppendUint64(uint64(c.Height))
	e.AppendUint32(uint32(c.Round))
	e.AppendUint8(uint8(c.Kind))
	e.AppendFixed(c.BlockHash[:])
	c.Signers.encode(&e)
	e.AppendFixed(c.AggregateSignature[:])
	return e.Bytes()
}

// DecodeCertificate decodes a canonical certificate encoding. It does not
// allocate unless it fails: the signer bitmap is copied into the value.
func DecodeCertificate(b []byte) (Certificate, error) {
	var c Certificate
	err := c.UnmarshalBinary(b)
	return c, err
}

// UnmarshalBinary decodes a canonical certificate encoding into c. On failure
// c is left in an unspecified state.
func (c *Certificate) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("certificate", b, CertificateMaxSize)
	readTag(&d, TagCertificate)
	c.ChainID = ChainID(d.Uint32("ChainID"))
	c.Height = Height(d.Uint64("Height"))
	c.Round = Round(d.Uint32("Round"))
	c.Kind = VoteKind(d.Uint8("Kind"))
	if d.Err() == nil && !c.Kind.Known() {
		d.Fail("Kind", fmt.Errorf("%w %d", codec.ErrUnknownKind, uint8(c.Kind)))
	}
	d.Fixed("BlockHash", c.BlockHash[:])
	c.Signers = SignerSet{}
	c.Signers.decode(&d)
	d.Fixed("AggregateSignature", c.AggregateSignature[:])
	return d.Finish()
}

// Hash returns SHA-256 of the certificate's canonical encoding: the digest a
// confirm vote signs for a preparation certificate. It is meaningful only for
// a certificate that encodes.
func (c *Certificate) Hash() Hash {
	var buf [CertificateMaxSize]byte
	return hash.Sum256(c.appendTo(buf[:0]))
}

// ValidateBasic checks the rules of a certificate that need no committee: the
// kind is known, BlockHash is zero exactly for leader-faulty votes, at least
// one member signed, and the aggregate signature is not all zero. Whether the
// signers form a quorum and the signature verifies is checked by the
// consensus core, which knows the committee.
func (c *Certificate) ValidateBasic() error {
	if err := c.checkDomain(); err != nil {
		return fmt.Errorf("certificate: %w: %w", ErrInvalid, err)
	}
	if err := checkBlockHashForKind(c.Kind, &c.BlockHash); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	if c.Signers.Count() == 0 {
		return fmt.Errorf("certificate: %w: no signers", ErrInvalid)
	}
	if isZero(c.AggregateSignature[:]) {
		return fmt.Errorf("certificate: %w: aggregate signature is all zero", ErrInvalid)
	}
	return nil
}
