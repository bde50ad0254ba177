package hash

import (
	stdsha256 "crypto/sha256"
	"encoding/hex"
	gohash "hash"
	"sync/atomic"

	simdsha256 "github.com/minio/sha256-simd"
)

// Size is the length of a digest in bytes.
const Size = 32

// Digest is a SHA-256 digest.
type Digest [Size]byte

// String returns the digest in lower-case hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is all zero bytes (the "no digest" value).
func (d Digest) IsZero() bool { return d == Digest{} }

// Backend is one implementation of SHA-256.
type Backend struct {
	Name string
	Sum  func(data []byte) [Size]byte
	New  func() gohash.Hash
}

// Stdlib is Go's crypto/sha256, which uses SHA-NI or AVX2 where present.
var Stdlib = Backend{Name: "stdlib", Sum: stdsha256.Sum256, New: stdsha256.New}

// SIMD is github.com/minio/sha256-simd.
var SIMD = Backend{Name: "sha256-simd", Sum: simdsha256.Sum256, New: simdsha256.New}

// Backends lists every backend, the default first.
func Backends() []Backend { return []Backend{Stdlib, SIMD} }

// active is the index in Backends() of the backend in use. An index rather
// than a function value: Sum256 then calls each backend directly, so its
// argument does not escape to the heap.
var active atomic.Int32

const (
	stdlibIndex = 0
	simdIndex   = 1
)

// Use installs b as the backend of Sum256 and New. Call it at start-up. A
// backend not listed in Backends leaves the standard library in use.
func Use(b Backend) {
	idx := int32(stdlibIndex)
	if b.Name == SIMD.Name {
		idx = simdIndex
	}
	active.Store(idx)
}

// Active returns the backend in use.
func Active() Backend { return Backends()[active.Load()] }

// Sum256 returns the SHA-256 digest of data.
func Sum256(data []byte) Digest {
	if active.Load() == simdIndex {
		return simdsha256.Sum256(data)
	}
	return stdsha256.Sum256(data)
}

// New returns a streaming SHA-256 hasher of the active backend.
func New() gohash.Hash {
	if active.Load() == simdIndex {
		return simdsha256.New()
	}
	return stdsha256.New()
}
