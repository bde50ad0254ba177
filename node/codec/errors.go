package codec

import "errors"

// Sentinel errors wrapped by every decode error. Callers branch on them with
// errors.Is; the wrapping error names the type and field.
var (
	// ErrTruncated means the input ended inside a field.
	ErrTruncated = errors.New("truncated input")
	// ErrTrailingBytes means bytes are left after the last field.
	ErrTrailingBytes = errors.New("trailing bytes")
	// ErrNonCanonical means a field holds a value outside its single
	// encoding: a bool byte other than 0 or 1, padding bits that are set.
	ErrNonCanonical = errors.New("non-canonical encoding")
	// ErrTooLarge means the input, or a length-prefixed field, or a count,
	// exceeds the maximum its type allows.
	ErrTooLarge = errors.New("too large")
	// ErrUnknownKind means an enumerated field holds a value with no meaning.
	ErrUnknownKind = errors.New("unknown kind")
	// ErrWrongType means the input's type tag names another type than the
	// one being decoded.
	ErrWrongType = errors.New("wrong type tag")
	// ErrUnsupportedVersion means a versioned encoding has a version this
	// node does not know.
	ErrUnsupportedVersion = errors.New("unsupported version")
)
