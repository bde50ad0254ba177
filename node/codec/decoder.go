package codec

import (
	"encoding/binary"
	"fmt"
)

// Decoder reads canonical fields from an input slice, front to back.
//
// It keeps the first error: after a failure every read returns a zero value
// and leaves the error unchanged, so a type's decoder reads all its fields and
// checks once, with [Decoder.Finish]. Each read names its field, and errors
// say "decode <type>: field <field>: ..." and wrap a sentinel of this package.
//
// Use it as a local variable; it does not allocate except to build an error.
type Decoder struct {
	typeName string
	in       []byte
	off      int
	err      error
}

// NewDecoder returns a Decoder for an encoding of the type named typeName
// (used in errors only). If in is longer than maxLen, the type's largest
// encoding, the Decoder starts failed with [ErrTooLarge] and reads nothing.
func NewDecoder(typeName string, in []byte, maxLen int) Decoder {
	d := Decoder{typeName: typeName, in: in}
	if len(in) > maxLen {
		d.tooLarge(maxLen)
	}
	return d
}

// tooLarge is kept out of NewDecoder so that NewDecoder inlines.
func (d *Decoder) tooLarge(maxLen int) {
	d.err = fmt.Errorf("decode %s: input of %d bytes: %w (maximum %d)", d.typeName, len(d.in), ErrTooLarge, maxLen)
}

// Err returns the first error, or nil.
func (d *Decoder) Err() error { return d.err }

// Offset returns the number of bytes read so far.
func (d *Decoder) Offset() int { return d.off }

// Remaining returns the number of bytes not read yet.
func (d *Decoder) Remaining() int { return len(d.in) - d.off }

// Fail records err against field unless an error is already recorded. Types
// use it for their own rules, wrapping a sentinel of this package:
//
//	d.Fail("Kind", fmt.Errorf("%w %d", codec.ErrUnknownKind, k))
func (d *Decoder) Fail(field string, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("decode %s: field %s: %w", d.typeName, field, err)
	}
}

// Finish returns the first error, or [ErrTrailingBytes] if input is left.
// A type's decoder returns its result.
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.in) {
		d.err = fmt.Errorf("decode %s: %w: %d left after the last field at offset %d",
			d.typeName, ErrTrailingBytes, len(d.in)-d.off, d.off)
	}
	return d.err
}

// take returns the next n bytes, capacity-clipped so that appending to them
// cannot overwrite the input, or nil once an error is recorded.
func (d *Decoder) take(field string, n int) []byte {
	if !d.has(n) {
		d.truncated(field, n)
		return nil
	}
	s := d.in[d.off : d.off+n : d.off+n]
	d.off += n
	return s
}

// truncated records a truncation of field unless an error is recorded.
func (d *Decoder) truncated(field string, n int) {
	if d.err == nil {
		d.err = fmt.Errorf("decode %s: field %s: %w: need %d bytes at offset %d, have %d",
			d.typeName, field, ErrTruncated, n, d.off, len(d.in)-d.off)
	}
}

// has reports whether n more bytes can be read; the fixed-width reads test
// it inline and leave the error to truncated.
func (d *Decoder) has(n int) bool { return d.err == nil && n <= len(d.in)-d.off }

// Uint8 reads one byte.
func (d *Decoder) Uint8(field string) uint8 {
	if !d.has(1) {
		d.truncated(field, 1)
		return 0
	}
	v := d.in[d.off]
	d.off++
	return v
}

// Uint16 reads a big-endian uint16.
func (d *Decoder) Uint16(field string) uint16 {
	if !d.has(2) {
		d.truncated(field, 2)
		return 0
	}
	v := binary.BigEndian.Uint16(d.in[d.off:])
	d.off += 2
	return v
}

// Uint32 reads a big-endian uint32.
func (d *Decoder) Uint32(field string) uint32 {
	if !d.has(4) {
		d.truncated(field, 4)
		return 0
	}
	v := binary.BigEndian.Uint32(d.in[d.off:])
	d.off += 4
	return v
}

// Uint64 reads a big-endian uint64.
func (d *Decoder) Uint64(field string) uint64 {
	if !d.has(8) {
		d.truncated(field, 8)
		return 0
	}
	v := binary.BigEndian.Uint64(d.in[d.off:])
	d.off += 8
	return v
}

// Bool reads one byte that must be 0x00 or 0x01; any other value fails with
// [ErrNonCanonical].
func (d *Decoder) Bool(field string) bool {
	s := d.take(field, 1)
	if s == nil {
		return false
	}
	switch s[0] {
	case 0:
		return false
	case 1:
		return true
	}
	d.Fail(field, fmt.Errorf("%w: bool byte 0x%02x", ErrNonCanonical, s[0]))
	return false
}

// Fixed copies the next len(dst) bytes into dst. On failure dst is left
// unchanged.
func (d *Decoder) Fixed(field string, dst []byte) {
	if !d.has(len(dst)) {
		d.truncated(field, len(dst))
		return
	}
	d.off += copy(dst, d.in[d.off:])
}

// Bytes reads a uint32 length n and then n bytes, and returns them without
// copying: the result aliases the input, and its capacity is clipped to its
// length. A length of zero gives nil. A length above max fails with
// [ErrTooLarge] before anything else is checked; one above what is left of
// the input fails with [ErrTruncated].
func (d *Decoder) Bytes(field string, max int) []byte {
	n := d.Uint32(field)
	if d.err != nil {
		return nil
	}
	if uint64(n) > uint64(max) {
		d.Fail(field, fmt.Errorf("%w: length %d, maximum %d", ErrTooLarge, n, max))
		return nil
	}
	if n == 0 {
		return nil
	}
	return d.take(field, int(n))
}
