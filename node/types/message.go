package types

import (
	"fmt"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/codec"
)

// MessageKind says where a message comes from (paper 5.2, 5.3).
type MessageKind uint8

// The message kinds. Zero and values above MessageOuterRelay are not kinds.
const (
	// MessageExternal is created and signed by an account's key holder.
	MessageExternal MessageKind = 1
	// MessageInterRelay was produced by executing a message of a block for
	// an account of the same chain, and is executed in that block.
	MessageInterRelay MessageKind = 2
	// MessageOuterRelay was produced by executing a message of a block of
	// another chain; it is verified with a Merkle proof against that block's
	// OuterRelayRoot (paper 4.3).
	MessageOuterRelay MessageKind = 3
)

// String returns the kind's name.
func (k MessageKind) String() string {
	switch k {
	case MessageExternal:
		return "external"
	case MessageInterRelay:
		return "inter-relay"
	case MessageOuterRelay:
		return "outer-relay"
	}
	return fmt.Sprintf("message-kind(%d)", uint8(k))
}

// Known reports whether k is one of the defined kinds.
func (k MessageKind) Known() bool { return k >= MessageExternal && k <= MessageOuterRelay }

// IsRelay reports whether k is one of the two relay kinds.
func (k MessageKind) IsRelay() bool { return k == MessageInterRelay || k == MessageOuterRelay }

// Limits of a message's variable-length fields.
const (
	// MaxMethodLen is the longest method name, in bytes.
	MaxMethodLen = 64
	// MaxArgsLen is the largest argument blob, in bytes.
	MaxArgsLen = 16 << 10
)

// MessageSigningDomain prefixes the bytes an account signs, so that a
// message signature can never be valid for anything else.
const MessageSigningDomain = "thinkey/message/v1"

// messageFixedSize is the size of an external message encoding with empty
// Method and Args, counting their two length prefixes. A relay encoding also
// carries its Cause.
const messageFixedSize = 1 + 1 + AddressSize + AddressSize + 4 + 8 + 8 + 4 + 4 + Ed25519PublicKeySize + Ed25519SignatureSize

// MessageMaxSize is the length of the largest message encoding: a relay
// message with the longest Method and Args.
const MessageMaxSize = messageFixedSize + hash.Size + MaxMethodLen + MaxArgsLen

// Message is an account message (paper 5.2): an external message signed by
// its sender, or a relay message produced by executing another message.
//
// A decoded Message aliases the input it was decoded from through Method and
// Args; use Clone to keep it beyond the life of that buffer.
type Message struct {
	Kind MessageKind
	From Address
	To   Address
	// SourceChain is the chain whose block produced a relay message; zero for
	// an external message.
	SourceChain ChainID
	// Cause of a relay message is the ID of the message whose execution
	// produced it. An external message has no cause: Cause must be zero, and
	// its encoding does not carry the field.
	Cause Hash
	// Nonce of an external message is the number of external messages the
	// sender sent before it. The Nonce of a relay message is its index among
	// the messages produced by the one execution of its Cause, from 0.
	//
	// A message is executed at most once, so (Cause, Nonce) names one output
	// of one execution: two relays with the same sender, recipient, value
	// and input still have different IDs, and the ID of a relay is derived
	// from content alone, never from a block position.
	Nonce uint64
	// Value is the amount of the balance the message carries.
	Value uint64
	// Method names the receiving account's method: empty, or an identifier
	// of ASCII letters, digits and '_' that does not start with a digit, at
	// most MaxMethodLen bytes.
	Method []byte
	// Args is the method's input, opaque here, at most MaxArgsLen bytes.
	Args []byte
	// SenderKey is the sender's Ed25519 public key; all zero for relays.
	SenderKey [Ed25519PublicKeySize]byte
	// Signature is the sender's Ed25519 signature over SigningBytes; all
	// zero for relays, which are verified by proof instead.
	Signature [Ed25519SignatureSize]byte
}

// EncodedLen returns the length of m's encoding.
func (m *Message) EncodedLen() int {
	n := messageFixedSize + len(m.Method) + len(m.Args)
	if m.Kind.IsRelay() {
		n += hash.Size
	}
	return n
}

// Clone returns a copy of m that shares no memory with m.
func (m *Message) Clone() Message {
	c := *m
	if m.Method != nil {
		c.Method = append([]byte(nil), m.Method...)
	}
	if m.Args != nil {
		c.Args = append([]byte(nil), m.Args...)
	}
	return c
}

// checkDomain reports a field value the encoding cannot carry.
func (m *Message) checkDomain() error {
	if !m.Kind.Known() {
		return fmt.Errorf("field Kind: %w %d", codec.ErrUnknownKind, uint8(m.Kind))
	}
	if !m.Kind.IsRelay() && !m.Cause.IsZero() {
		return fmt.Errorf("field Cause: %w: an external message has no cause", codec.ErrNonCanonical)
	}
	if len(m.Method) > MaxMethodLen {
		return fmt.Errorf("field Method: %w: length %d, maximum %d", codec.ErrTooLarge, len(m.Method), MaxMethodLen)
	}
	if len(m.Args) > MaxArgsLen {
		return fmt.Errorf("field Args: %w: length %d, maximum %d", codec.ErrTooLarge, len(m.Args), MaxArgsLen)
	}
	return nil
}

// AppendBinary appends the canonical encoding of m to dst. It fails, leaving
// dst as it was, when a field is outside what the encoding can carry: an
// unknown kind, Method or Args over their maximum, or a non-zero Cause on an
// external message.
func (m *Message) AppendBinary(dst []byte) ([]byte, error) {
	if err := m.checkDomain(); err != nil {
		return dst, fmt.Errorf("encode message: %w", err)
	}
	return m.appendTo(dst), nil
}

// MarshalBinary returns the canonical encoding of m.
func (m *Message) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, m.EncodedLen()))
}

func (m *Message) appendTo(dst []byte) []byte {
	dst = m.appendUnsigned(dst, m.EncodedLen())
	return append(dst, m.Signature[:]...)
}

// appendUnsigned appends every field but the signature, which comes last so
// that the signed bytes are a prefix of the encoding. grow is the room to
// reserve.
func (m *Message) appendUnsigned(dst []byte, grow int) []byte {
	e := codec.NewEncoder(dst, grow)
	e.AppendUint8(uint8(TagMessage))
	e.AppendUint8(uint8(m.Kind))
	e.AppendFixed(m.From[:])
	e.AppendFixed(m.To[:])
	e.AppendUint32(uint32(m.SourceChain))
	if m.Kind.IsRelay() {
		e.AppendFixed(m.Cause[:])
	}
	e.AppendUint64(m.Nonce)
	e.AppendUint64(m.Value)
	e.AppendBytes(m.Method)
	e.AppendBytes(m.Args)
	e.AppendFixed(m.SenderKey[:])
	return e.Bytes()
}

// AppendSigningBytes appends the bytes an external message's signature
// covers: MessageSigningDomain followed by the encoding of m without its
// Signature field. Like Hash, it is meaningful only for a message that
// encodes.
func (m *Message) AppendSigningBytes(dst []byte) []byte {
	dst = append(dst, MessageSigningDomain...)
	return m.appendUnsigned(dst, m.EncodedLen()-Ed25519SignatureSize)
}

// SigningBytes returns AppendSigningBytes(nil) in a new slice.
func (m *Message) SigningBytes() []byte {
	return m.AppendSigningBytes(make([]byte, 0, len(MessageSigningDomain)+m.EncodedLen()-Ed25519SignatureSize))
}

// DecodeMessage decodes a canonical message encoding. Method and Args of the
// result alias b.
func DecodeMessage(b []byte) (Message, error) {
	var m Message
	err := m.UnmarshalBinary(b)
	return m, err
}

// UnmarshalBinary decodes a canonical message encoding into m, aliasing
// Method and Args into b. On failure m is left in an unspecified state.
func (m *Message) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("message", b, MessageMaxSize)
	readTag(&d, TagMessage)
	m.Kind = MessageKind(d.Uint8("Kind"))
	if d.Err() == nil && !m.Kind.Known() {
		d.Fail("Kind", fmt.Errorf("%w %d", codec.ErrUnknownKind, uint8(m.Kind)))
	}
	d.Fixed("From", m.From[:])
	d.Fixed("To", m.To[:])
	m.SourceChain = ChainID(d.Uint32("SourceChain"))
	m.Cause = Hash{}
	if m.Kind.IsRelay() {
		d.Fixed("Cause", m.Cause[:])
	}
	m.Nonce = d.Uint64("Nonce")
	m.Value = d.Uint64("Value")
	m.Method = d.Bytes("Method", MaxMethodLen)
	m.Args = d.Bytes("Args", MaxArgsLen)
	d.Fixed("SenderKey", m.SenderKey[:])
	d.Fixed("Signature", m.Signature[:])
	return d.Finish()
}

// ID returns the message's identity: SHA-256 of its canonical encoding,
// signature included. It is meaningful only for a message that encodes.
func (m *Message) ID() Hash {
	return hash.Sum256(m.appendTo(make([]byte, 0, m.EncodedLen())))
}

// ValidateBasic checks the rules of a message that need no state:
//
//   - the kind is known, Method and Args are within their maximum, and
//     Method is empty or an identifier;
//   - an external message has a source chain of zero and a non-zero sender
//     key and signature (whether the signature verifies is checked
//     elsewhere);
//   - a relay message has a non-zero cause and an all-zero sender key and
//     signature.
func (m *Message) ValidateBasic() error {
	if err := m.checkDomain(); err != nil {
		return fmt.Errorf("message: %w: %w", ErrInvalid, err)
	}
	if !isMethodName(m.Method) {
		return fmt.Errorf("message: %w: method %q is not an identifier", ErrInvalid, m.Method)
	}
	if m.Kind.IsRelay() {
		if m.Cause.IsZero() {
			return fmt.Errorf("message: %w: %v message has no cause", ErrInvalid, m.Kind)
		}
		if !isZero(m.SenderKey[:]) {
			return fmt.Errorf("message: %w: %v message carries a sender key", ErrInvalid, m.Kind)
		}
		if !isZero(m.Signature[:]) {
			return fmt.Errorf("message: %w: %v message carries a signature", ErrInvalid, m.Kind)
		}
		return nil
	}
	if m.SourceChain != 0 {
		return fmt.Errorf("message: %w: external message names source chain %d", ErrInvalid, m.SourceChain)
	}
	if isZero(m.SenderKey[:]) {
		return fmt.Errorf("message: %w: external message has no sender key", ErrInvalid)
	}
	if isZero(m.Signature[:]) {
		return fmt.Errorf("message: %w: external message is not signed", ErrInvalid)
	}
	return nil
}

// isMethodName reports whether b is empty or an ASCII identifier: letters,
// digits and '_', not starting with a digit.
func isMethodName(b []byte) bool {
	for i, c := range b {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
