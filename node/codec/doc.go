// Package codec holds the primitives of the node's canonical binary encoding:
// an [Encoder] that appends fixed-width fields to a caller-owned buffer and a
// strict [Decoder] that reads them back. Package node/types builds the
// encodings of every consensus-critical type (headers, messages, votes,
// certificates) on these primitives; hashes and signatures are computed over
// the bytes they produce.
//
// # Why hand-written
//
// The encoding is part of the protocol: two honest nodes must produce the same
// bytes for the same value, or their hashes and signatures disagree. A
// general-purpose serializer cannot promise that. Protocol Buffers, for
// example, accepts fields in any order, non-minimal varints, unknown fields
// and omitted defaults, so one value has many encodings; gob and JSON carry
// type descriptions or whitespace and allocate per field. This package
// defines the wire format itself, has no dependency, and does not allocate
// on the hot path.
//
// # Primitives
//
//	primitive        width           encoding
//	---------------  --------------  ---------------------------------------
//	uint8            1               the byte
//	uint16           2               big-endian
//	uint32           4               big-endian
//	uint64           8               big-endian
//	bool             1               0x00 false, 0x01 true
//	fixed array      len(array)      the bytes, no length
//	variable bytes   4 + n           uint32 big-endian length n, then n bytes
//
// # Canonicality rules
//
// Every primitive has exactly one encoding per value, by construction:
//
//   - Integers are fixed width. There are no varints, so there is no
//     non-minimal form to reject.
//   - A bool byte other than 0x00 or 0x01 is rejected ([ErrNonCanonical]).
//   - A variable-length field longer than its field's maximum is rejected
//     ([ErrTooLarge]) before its bytes are touched; one longer than what is
//     left of the input is rejected ([ErrTruncated]).
//   - An input longer than its type's maximum encoding is rejected
//     ([ErrTooLarge]) before any field is read, so an oversized input costs
//     nothing to refuse.
//   - Bytes left after the last field are rejected ([ErrTrailingBytes]).
//
// Types add their own rules on top (known enum values, supported versions,
// zero padding bits) and report them through [Decoder.Fail] with
// [ErrUnknownKind], [ErrUnsupportedVersion], [ErrWrongType] or
// [ErrNonCanonical].
//
// # Errors
//
// Decode errors name the type and the field and wrap one of the sentinel
// errors of this package, so callers branch with errors.Is:
//
//	decode vote: field Round: truncated input: need 4 bytes at offset 13, have 2
//
// The [Decoder] keeps the first error and turns every later read into a
// no-op returning zero, so a type's decoder reads all its fields straight
// through and checks the error once, at [Decoder.Finish].
//
// # Memory
//
// The [Encoder] appends to the slice it is given and grows it at most once
// when sized with [NewEncoder]. The [Decoder] never copies variable-length
// fields: [Decoder.Bytes] returns a sub-slice of the input, so the decoded
// value aliases the input buffer and the caller must not modify or reuse the
// buffer while the value is in use.
package codec
