package types

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/codec"
)

// ChainID names a chain: the root chain or one transaction chain.
type ChainID uint32

// RootChain is the ID of the root chain (paper 3.2): it records the digests
// of the other chains' confirmed blocks. Transaction chains are numbered
// from 1.
const RootChain ChainID = 0

// Height is the position of a block in its chain; the genesis block has
// height 0.
type Height uint64

// Round numbers the consensus attempts at one height (paper 4.2), from 0.
type Round uint32

// Epoch numbers the terms of committees (paper 4.1).
type Epoch uint64

// ValidatorIndex is a member's position in its committee, from 0.
type ValidatorIndex uint32

// Hash is a SHA-256 digest: block hashes, message ids, Merkle roots.
type Hash = hash.Digest

// AddressSize is the length of an account address in bytes.
const AddressSize = 20

// Address identifies an account. Its leading bits say which chain holds the
// account: a chain owns a prefix, and a sub-chain owns a longer one.
type Address [AddressSize]byte

// String returns the address in lower-case hex.
func (a Address) String() string { return hex.EncodeToString(a[:]) }

// IsZero reports whether every byte of a is zero.
func (a Address) IsZero() bool { return a == Address{} }

// Prefix returns the first bits bits of a, most significant first, as the
// low bits of the result. bits is capped at 64.
func (a Address) Prefix(bits uint8) uint64 {
	if bits == 0 {
		return 0
	}
	if bits > 64 {
		bits = 64
	}
	var first uint64
	for i := range 8 {
		first = first<<8 | uint64(a[i])
	}
	return first >> (64 - bits)
}

// HasPrefix reports whether the first bits bits of a equal the low bits bits
// of prefix. It is false when bits exceeds 64 or prefix has bits set above
// bit number bits, since no address can then match.
func (a Address) HasPrefix(prefix uint64, bits uint8) bool {
	if bits > 64 || (bits < 64 && prefix>>bits != 0) {
		return false
	}
	return a.Prefix(bits) == prefix
}

// Key and signature sizes of the two signature schemes (brief principle 5).
const (
	// Ed25519PublicKeySize is the size of an account's public key.
	Ed25519PublicKeySize = 32
	// Ed25519SignatureSize is the size of an account's signature.
	Ed25519SignatureSize = 64
	// BLSSignatureSize is the size of a compressed BLS12-381 G2 point, the
	// signature of votes and certificates.
	BLSSignatureSize = 96
)

// Tag is the first byte of every encoding in this package: it says which
// type follows, so the node can dispatch bytes from the network and no two
// types can ever share an encoding (or a hash).
type Tag uint8

// The type tags. Zero is never a tag.
const (
	TagHeader      Tag = 1
	TagMessage     Tag = 2
	TagVote        Tag = 3
	TagCertificate Tag = 4
)

// String returns the name of the type the tag announces.
func (t Tag) String() string {
	switch t {
	case TagHeader:
		return "header"
	case TagMessage:
		return "message"
	case TagVote:
		return "vote"
	case TagCertificate:
		return "certificate"
	}
	return fmt.Sprintf("tag(%d)", uint8(t))
}

// TagOf returns the type tag of an encoding without decoding it. It fails
// with codec.ErrTruncated on empty input and codec.ErrUnknownKind on a byte
// that is not a tag.
func TagOf(b []byte) (Tag, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("type tag: %w: empty input", codec.ErrTruncated)
	}
	t := Tag(b[0])
	switch t {
	case TagHeader, TagMessage, TagVote, TagCertificate:
		return t, nil
	}
	return 0, fmt.Errorf("type tag: %w: 0x%02x", codec.ErrUnknownKind, b[0])
}

// readTag reads the type tag and fails with codec.ErrWrongType unless it is
// want.
func readTag(d *codec.Decoder, want Tag) {
	got := Tag(d.Uint8("Tag"))
	if d.Err() == nil && got != want {
		d.Fail("Tag", fmt.Errorf("%w: %v, want %v", codec.ErrWrongType, got, want))
	}
}

// ErrInvalid is wrapped by every ValidateBasic error: the value breaks a rule
// of its type. When the rule is one the encoding itself enforces (a known
// kind, a length maximum), the error also wraps the codec sentinel that the
// decoder would have reported.
var ErrInvalid = errors.New("invalid")

func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
