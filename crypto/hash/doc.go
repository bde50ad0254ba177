// Package hash is the one way the node computes SHA-256.
//
// Every digest in the system (block and message ids, Merkle nodes, signing
// payloads) goes through [Sum256] or [New]. Two backends compute the same
// function: Go's standard library and github.com/minio/sha256-simd (SHA-NI,
// AVX-512 and ARM SHA2 kernels). Which one is fastest depends on the CPU and
// the Go release, so package accel measures both at start-up and installs the
// winner with [Use]; until then the standard library is used. Both backends
// are checked against each other by the tests, so the choice can never change
// a digest.
//
// The active backend is process-wide state by design: hashing is a leaf
// operation called from every package, and threading a hasher through every
// constructor would buy nothing, since all backends give identical output.
// It is set once at start-up, before the node runs, and read atomically.
package hash
