package codec

import (
	"encoding/binary"
	"slices"
)

// Encoder appends canonical fields to a byte slice owned by the caller.
//
// The zero Encoder appends to a nil slice. Use it as a local variable and
// take the result with [Encoder.Bytes]; it holds no other state.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an Encoder that appends to dst, after growing dst once so
// that size more bytes fit without reallocation. Pass the exact encoded size
// of the value to keep encoding to at most one allocation, and to none when
// dst already has the capacity.
func NewEncoder(dst []byte, size int) Encoder {
	return Encoder{buf: slices.Grow(dst, size)}
}

// Bytes returns the slice with everything appended so far.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the length of the slice so far.
func (e *Encoder) Len() int { return len(e.buf) }

// AppendUint8 appends v as one byte.
func (e *Encoder) AppendUint8(v uint8) { e.buf = append(e.buf, v) }

// AppendUint16 appends v as two bytes, big-endian.
func (e *Encoder) AppendUint16(v uint16) { e.buf = binary.BigEndian.AppendUint16(e.buf, v) }

// AppendUint32 appends v as four bytes, big-endian.
func (e *Encoder) AppendUint32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }

// AppendUint64 appends v as eight bytes, big-endian.
func (e *Encoder) AppendUint64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }

// AppendBool appends 0x01 for true and 0x00 for false.
func (e *Encoder) AppendBool(v bool) {
	var b uint8
	if v {
		b = 1
	}
	e.buf = append(e.buf, b)
}

// AppendFixed appends b as is, with no length: the field's size is fixed by
// its type, so the decoder knows it.
func (e *Encoder) AppendFixed(b []byte) { e.buf = append(e.buf, b...) }

// AppendBytes appends the length of b as a big-endian uint32 and then b.
//
// The caller checks len(b) against the field's maximum before encoding (the
// types of node/types do, in their encodability checks); every maximum in
// the protocol is far below 2^32.
func (e *Encoder) AppendBytes(b []byte) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(len(b)))
	e.buf = append(e.buf, b...)
}
