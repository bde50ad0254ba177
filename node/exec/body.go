package exec

import (
	"fmt"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// Type tags of the encodings of this package. node/types owns 0x01 to 0x04
// and node/actor 0x10 (accounts).
const (
	RecordTag byte = 0x11
	BodyTag   byte = 0x12
)

// Limits of the body encoding.
const (
	// MaxBlockMessages is the most inputs, inter-relay messages,
	// outer-relay messages, records, or entries in one record.
	MaxBlockMessages = 1 << 16
	// MaxMergedAdds is the most add messages one merged entry processes.
	MaxMergedAdds = 256
	// MaxEntryOutputs is the most messages one entry produces.
	MaxEntryOutputs = actor.MaxSends
	// MaxRelayProofLen is the longest relay proof an input carries, in
	// bytes: room for the relay layer's packed proof of many relays of one
	// source block (a proof of one relay is at most 8 KiB).
	MaxRelayProofLen = 4 << 20
	// MaxBodySize is the longest body encoding, in bytes.
	MaxBodySize = 32 << 20
)

// Input is an input message of a block (paper 5.3): an external message, or
// an outer-relay message of another chain with the proof the relay layer
// checks.
type Input struct {
	Message types.Message
	// Proof is the relay proof, in the relay layer's encoding; empty for an
	// external message.
	Proof []byte
}

// Entry is one step of an account's processing record sigma_i: the message
// it processed and the messages its processing produced, (m : m_a, m_b) in the paper's
// notation. Processed holds one message, or several plain add relays
// merged into one step (paper 5.6) in increasing ID order.
type Entry struct {
	Processed []types.Hash
	Outputs   []types.Hash
}

// Record is an account's processing record sigma_i: its entries in the
// order the account processed them.
type Record struct {
	Address types.Address
	Entries []Entry
}

// Body is what a block holds besides its header (paper 5.3). Its lists are
// in canonical order: InterRelay and OuterRelay by increasing message ID,
// Records by increasing address; Inputs in the leader's processing order.
type Body struct {
	Inputs     []Input
	InterRelay []types.Message
	OuterRelay []types.Message
	Records    []Record
}

// recordFixedSize is a record's tag, address and entry count.
const recordFixedSize = 1 + types.AddressSize + 4

// EncodedLen returns the length of r's encoding.
func (r *Record) EncodedLen() int {
	n := recordFixedSize
	for i := range r.Entries {
		n += 8 + hash.Size*(len(r.Entries[i].Processed)+len(r.Entries[i].Outputs))
	}
	return n
}

func (r *Record) checkDomain() error {
	if len(r.Entries) > MaxBlockMessages {
		return fmt.Errorf("field Entries: %w: %d, maximum %d", codec.ErrTooLarge, len(r.Entries), MaxBlockMessages)
	}
	for i := range r.Entries {
		if p := len(r.Entries[i].Processed); p > MaxMergedAdds {
			return fmt.Errorf("entry %d: field Processed: %w: %d, maximum %d", i, codec.ErrTooLarge, p, MaxMergedAdds)
		}
		if o := len(r.Entries[i].Outputs); o > MaxEntryOutputs {
			return fmt.Errorf("entry %d: field Outputs: %w: %d, maximum %d", i, codec.ErrTooLarge, o, MaxEntryOutputs)
		}
	}
	return nil
}

// AppendBinary appends the canonical encoding of r to dst. It fails, leaving
// dst as it was, on a count over its limit.
func (r *Record) AppendBinary(dst []byte) ([]byte, error) {
	if err := r.checkDomain(); err != nil {
		return dst, fmt.Errorf("encode record: %w", err)
	}
	return r.appendTo(dst), nil
}

// MarshalBinary returns the canonical encoding of r.
func (r *Record) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, r.EncodedLen()))
}

func (r *Record) appendTo(dst []byte) []byte {
	e := codec.NewEncoder(dst, r.EncodedLen())
	e.AppendUint8(RecordTag)
	e.AppendFixed(r.Address[:])
	e.AppendUint32(uint32(len(r.Entries)))
	for i := range r.Entries {
		appendHashes(&e, r.Entries[i].Processed)
		appendHashes(&e, r.Entries[i].Outputs)
	}
	return e.Bytes()
}

func appendHashes(e *codec.Encoder, hs []types.Hash) {
	e.AppendUint32(uint32(len(hs)))
	for i := range hs {
		e.AppendFixed(hs[i][:])
	}
}

// DecodeRecord decodes a canonical record encoding.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	err := r.UnmarshalBinary(b)
	return r, err
}

// UnmarshalBinary decodes a canonical record encoding into r. On failure r
// is left in an unspecified state.
func (r *Record) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("record", b, MaxBodySize)
	readTag(&d, RecordTag)
	d.Fixed("Address", r.Address[:])
	n := readCount(&d, "Entries", MaxBlockMessages)
	r.Entries = nil
	if n > 0 {
		r.Entries = make([]Entry, 0, min(n, d.Remaining()/8))
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		var entry Entry
		entry.Processed = readHashes(&d, "Processed", MaxMergedAdds)
		entry.Outputs = readHashes(&d, "Outputs", MaxEntryOutputs)
		r.Entries = append(r.Entries, entry)
	}
	return d.Finish()
}

func readTag(d *codec.Decoder, want byte) {
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != want {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x, want 0x%02x", codec.ErrWrongType, tag, want))
	}
}

// readCount reads a uint32 count and fails with ErrTooLarge above limit.
func readCount(d *codec.Decoder, field string, limit int) int {
	n := d.Uint32(field)
	if d.Err() != nil {
		return 0
	}
	if uint64(n) > uint64(limit) {
		d.Fail(field, fmt.Errorf("%w: count %d, maximum %d", codec.ErrTooLarge, n, limit))
		return 0
	}
	return int(n)
}

func readHashes(d *codec.Decoder, field string, limit int) []types.Hash {
	n := readCount(d, field, limit)
	if n == 0 || d.Err() != nil {
		return nil
	}
	if n*hash.Size > d.Remaining() {
		d.Fixed(field, make([]byte, n*hash.Size)) // records the truncation
		return nil
	}
	hs := make([]types.Hash, n)
	for i := range hs {
		d.Fixed(field, hs[i][:])
	}
	return hs
}

// bodyFixedSize is the tag and the four counts.
const bodyFixedSize = 1 + 4*4

// EncodedLen returns the length of b's encoding.
func (b *Body) EncodedLen() int {
	n := bodyFixedSize
	for i := range b.Inputs {
		n += 8 + b.Inputs[i].Message.EncodedLen() + len(b.Inputs[i].Proof)
	}
	for i := range b.InterRelay {
		n += 4 + b.InterRelay[i].EncodedLen()
	}
	for i := range b.OuterRelay {
		n += 4 + b.OuterRelay[i].EncodedLen()
	}
	for i := range b.Records {
		n += 4 + b.Records[i].EncodedLen()
	}
	return n
}

// AppendBinary appends the canonical encoding of b to dst. It fails, leaving
// dst as it was, on anything the decoder would refuse: a count or length
// over its limit, a message that does not encode, a body over MaxBodySize.
func (b *Body) AppendBinary(dst []byte) ([]byte, error) {
	if err := b.checkDomain(); err != nil {
		return dst, fmt.Errorf("encode body: %w", err)
	}
	size := b.EncodedLen()
	if size > MaxBodySize {
		return dst, fmt.Errorf("encode body: %w: %d bytes, maximum %d", codec.ErrTooLarge, size, MaxBodySize)
	}
	e := codec.NewEncoder(dst, size)
	e.AppendUint8(BodyTag)
	e.AppendUint32(uint32(len(b.Inputs)))
	for i := range b.Inputs {
		if err := appendMessage(&e, &b.Inputs[i].Message); err != nil {
			return dst, fmt.Errorf("encode body: input %d: %w", i, err)
		}
		e.AppendBytes(b.Inputs[i].Proof)
	}
	for _, list := range []struct {
		name string
		msgs []types.Message
	}{{"inter-relay", b.InterRelay}, {"outer-relay", b.OuterRelay}} {
		e.AppendUint32(uint32(len(list.msgs)))
		for i := range list.msgs {
			if err := appendMessage(&e, &list.msgs[i]); err != nil {
				return dst, fmt.Errorf("encode body: %s %d: %w", list.name, i, err)
			}
		}
	}
	e.AppendUint32(uint32(len(b.Records)))
	for i := range b.Records {
		r := &b.Records[i]
		e.AppendUint32(uint32(r.EncodedLen()))
		e = codec.NewEncoder(r.appendTo(e.Bytes()), 0)
	}
	return e.Bytes(), nil
}

// appendMessage appends a message with its length in front.
func appendMessage(e *codec.Encoder, m *types.Message) error {
	e.AppendUint32(uint32(m.EncodedLen()))
	out, err := m.AppendBinary(e.Bytes())
	if err != nil {
		return err
	}
	*e = codec.NewEncoder(out, 0)
	return nil
}

// checkDomain reports the counts and lengths the decoder would refuse;
// messages that do not encode are found while encoding.
func (b *Body) checkDomain() error {
	counts := []struct {
		field string
		n     int
	}{{"Inputs", len(b.Inputs)}, {"InterRelay", len(b.InterRelay)}, {"OuterRelay", len(b.OuterRelay)}, {"Records", len(b.Records)}}
	for _, c := range counts {
		if c.n > MaxBlockMessages {
			return fmt.Errorf("field %s: %w: count %d, maximum %d", c.field, codec.ErrTooLarge, c.n, MaxBlockMessages)
		}
	}
	for i := range b.Inputs {
		if len(b.Inputs[i].Proof) > MaxRelayProofLen {
			return fmt.Errorf("input %d: field Proof: %w: length %d, maximum %d", i, codec.ErrTooLarge, len(b.Inputs[i].Proof), MaxRelayProofLen)
		}
	}
	for i := range b.Records {
		if err := b.Records[i].checkDomain(); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	return nil
}

// MarshalBinary returns the canonical encoding of b.
func (b *Body) MarshalBinary() ([]byte, error) {
	return b.AppendBinary(make([]byte, 0, b.EncodedLen()))
}

// DecodeBody decodes a canonical body encoding. The messages and proofs of
// the result alias in (see types.DecodeMessage); the record hashes are
// copied.
func DecodeBody(in []byte) (Body, error) {
	var b Body
	err := b.UnmarshalBinary(in)
	return b, err
}

// minMessageSize is the shortest message encoding, which bounds how many
// messages the rest of an input can hold.
const minMessageSize = 166

// UnmarshalBinary decodes a canonical body encoding into b, aliasing in. On
// failure b is left in an unspecified state.
func (b *Body) UnmarshalBinary(in []byte) error {
	d := codec.NewDecoder("body", in, MaxBodySize)
	readTag(&d, BodyTag)
	*b = Body{}
	n := readCount(&d, "Inputs", MaxBlockMessages)
	if n > 0 {
		b.Inputs = make([]Input, 0, min(n, d.Remaining()/minMessageSize))
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		var in Input
		in.Message = readMessage(&d, "Inputs")
		in.Proof = d.Bytes("Proof", MaxRelayProofLen)
		b.Inputs = append(b.Inputs, in)
	}
	b.InterRelay = readMessages(&d, "InterRelay")
	b.OuterRelay = readMessages(&d, "OuterRelay")
	n = readCount(&d, "Records", MaxBlockMessages)
	if n > 0 {
		b.Records = make([]Record, 0, min(n, d.Remaining()/recordFixedSize))
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		enc := d.Bytes("Records", MaxBodySize)
		if d.Err() != nil {
			break
		}
		r, err := DecodeRecord(enc)
		if err != nil {
			d.Fail("Records", err)
			break
		}
		b.Records = append(b.Records, r)
	}
	return d.Finish()
}

func readMessages(d *codec.Decoder, field string) []types.Message {
	n := readCount(d, field, MaxBlockMessages)
	if n == 0 || d.Err() != nil {
		return nil
	}
	out := make([]types.Message, 0, min(n, d.Remaining()/minMessageSize))
	for i := 0; i < n && d.Err() == nil; i++ {
		out = append(out, readMessage(d, field))
	}
	return out
}

func readMessage(d *codec.Decoder, field string) types.Message {
	enc := d.Bytes(field, types.MessageMaxSize)
	if d.Err() != nil {
		return types.Message{}
	}
	m, err := types.DecodeMessage(enc)
	if err != nil {
		d.Fail(field, err)
	}
	return m
}
