package types

import (
	"fmt"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/codec"
)

// HeaderVersion is the only header version this node encodes and accepts.
const HeaderVersion uint16 = 1

// HeaderSize is the length of every header encoding.
const HeaderSize = 1 + 2 + 4 + 8 + 8 + 4 + hash.Size + 8 + 4 + 5*hash.Size + 1

// Header is the header of a block of one chain. Its hash is the block hash
// that votes sign and that the root chain records as the block's digest
// (paper 4.3); the roots commit to the block body (paper 5.3).
type Header struct {
	// Version of the header layout; only HeaderVersion exists.
	Version uint16
	ChainID ChainID
	Height  Height
	Epoch   Epoch
	Round   Round
	// ParentHash is the hash of the header at Height-1; zero at genesis.
	ParentHash Hash
	// TimestampMillis is the proposer's clock when it proposed the block, in
	// milliseconds since the Unix epoch.
	TimestampMillis uint64
	Proposer        ValidatorIndex
	// InputRoot is the Merkle root of the block's input messages.
	InputRoot Hash
	// InterRelayRoot is the Merkle root of the relay messages the block
	// produced for accounts of its own chain.
	InterRelayRoot Hash
	// OuterRelayRoot is the Merkle root of the relay messages the block
	// produced for other chains; relay proofs are checked against it
	// (paper 4.3).
	OuterRelayRoot Hash
	// RecordRoot is the root of the accounts' processing records sigma.
	RecordRoot Hash
	// StateRoot is the root of the chain's state after the block.
	StateRoot Hash
	// Empty marks the empty block a committee decides on timeout or
	// equivocation instead of a proposal (paper 4.2).
	Empty bool
}

// Time returns TimestampMillis as a time in UTC.
func (h *Header) Time() time.Time { return time.UnixMilli(int64(h.TimestampMillis)).UTC() }

// checkDomain reports a field value the encoding cannot carry.
func (h *Header) checkDomain() error {
	if h.Version != HeaderVersion {
		return fmt.Errorf("field Version: %w: %d", codec.ErrUnsupportedVersion, h.Version)
	}
	return nil
}

// AppendBinary appends the canonical encoding of h to dst. It fails, leaving
// dst as it was, when h.Version is not HeaderVersion.
func (h *Header) AppendBinary(dst []byte) ([]byte, error) {
	if err := h.checkDomain(); err != nil {
		return dst, fmt.Errorf("encode header: %w", err)
	}
	return h.appendTo(dst), nil
}

// MarshalBinary returns the canonical encoding of h.
func (h *Header) MarshalBinary() ([]byte, error) {
	return h.AppendBinary(make([]byte, 0, HeaderSize))
}

func (h *Header) appendTo(dst []byte) []byte {
	e := codec.NewEncoder(dst, HeaderSize)
	e.AppendUint8(uint8(TagHeader))
	e.AppendUint16(h.Version)
	e.AppendUint32(uint32(h.ChainID))
	e.AppendUint64(uint64(h.Height))
	e.AppendUint64(uint64(h.Epoch))
	e.AppendUint32(uint32(h.Round))
	e.AppendFixed(h.ParentHash[:])
	e.AppendUint64(h.TimestampMillis)
	e.AppendUint32(uint32(h.Proposer))
	e.AppendFixed(h.InputRoot[:])
	e.AppendFixed(h.InterRelayRoot[:])
	e.AppendFixed(h.OuterRelayRoot[:])
	e.AppendFixed(h.RecordRoot[:])
	e.AppendFixed(h.StateRoot[:])
	e.AppendBool(h.Empty)
	return e.Bytes()
}

// DecodeHeader decodes a canonical header encoding. It does not allocate
// unless it fails.
func DecodeHeader(b []byte) (Header, error) {
	var h Header
	err := h.UnmarshalBinary(b)
	return h, err
}

// UnmarshalBinary decodes a canonical header encoding into h. On failure h is
// left in an unspecified state.
func (h *Header) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("header", b, HeaderSize)
	readTag(&d, TagHeader)
	h.Version = d.Uint16("Version")
	if d.Err() == nil && h.Version != HeaderVersion {
		d.Fail("Version", fmt.Errorf("%w: %d", codec.ErrUnsupportedVersion, h.Version))
	}
	h.ChainID = ChainID(d.Uint32("ChainID"))
	h.Height = Height(d.Uint64("Height"))
	h.Epoch = Epoch(d.Uint64("Epoch"))
	h.Round = Round(d.Uint32("Round"))
	d.Fixed("ParentHash", h.ParentHash[:])
	h.TimestampMillis = d.Uint64("TimestampMillis")
	h.Proposer = ValidatorIndex(d.Uint32("Proposer"))
	d.Fixed("InputRoot", h.InputRoot[:])
	d.Fixed("InterRelayRoot", h.InterRelayRoot[:])
	d.Fixed("OuterRelayRoot", h.OuterRelayRoot[:])
	d.Fixed("RecordRoot", h.RecordRoot[:])
	d.Fixed("StateRoot", h.StateRoot[:])
	h.Empty = d.Bool("Empty")
	return d.Finish()
}

// Hash returns the block hash: SHA-256 of the canonical encoding. It is
// meaningful only for a header that encodes (see AppendBinary).
func (h *Header) Hash() Hash {
	var buf [HeaderSize]byte
	return hash.Sum256(h.appendTo(buf[:0]))
}

// ValidateBasic checks the rules of a header that need no chain state: the
// version, and that exactly the genesis header (height 0) has no parent.
func (h *Header) ValidateBasic() error {
	if err := h.checkDomain(); err != nil {
		return fmt.Errorf("header: %w: %w", ErrInvalid, err)
	}
	if h.Height == 0 && !h.ParentHash.IsZero() {
		return fmt.Errorf("header: %w: genesis header (height 0) names a parent", ErrInvalid)
	}
	if h.Height != 0 && h.ParentHash.IsZero() {
		return fmt.Errorf("header: %w: header at height %d has no parent hash", ErrInvalid, h.Height)
	}
	return nil
}

// EmptyHeader returns the header a chain records for the height after
// parent when that height is decided EMPTY (paper 4.2): it has no body,
// changes no state and depends only on the parent, so that every member,
// and every recorder chain checking the digest (node/rootchain), derives
// the same one whatever round or certificate decided it.
func EmptyHeader(parent *Header) Header {
	return Header{
		Version:         HeaderVersion,
		ChainID:         parent.ChainID,
		Height:          parent.Height + 1,
		Epoch:           parent.Epoch,
		ParentHash:      parent.Hash(),
		TimestampMillis: parent.TimestampMillis,
		StateRoot:       parent.StateRoot,
		Empty:           true,
	}
}
