// Package accel is the hot-path acceleration layer of the node: it picks the
// SHA-256 backend by measurement, reports the CPU features the hot paths
// dispatch on, and pins goroutines to cores. The batch signature verifier
// will live here too.
//
// Node start-up calls [SelectHashBackend] once, before anything is hashed,
// logs [Features] and the timings, and pins the consensus and executor loops
// with [PinToCore] when the config asks for it; `thinkey bench` uses the same
// calls so that a report states what the node would run with.
//
// # Backend selection
//
// Which SHA-256 is fastest depends on the CPU (SHA-NI, AVX-512, ARM SHA2)
// and on the Go release, so it is measured rather than guessed from feature
// bits. Each backend of crypto/hash hashes three representative inputs,
// weighted per transaction of a block:
//
//	input           weight  why
//	64 bytes        2       its Merkle leaf and about one inner node
//	256 bytes       1       its message id (a signed message)
//	16 KiB          1/64    its share of the block body, hashed in 16 KiB chunks
//
// The score of a backend is Σ weight × (ns per hash): nanoseconds of
// hashing per transaction. Backends are interleaved round by round, the
// first backend changing every round, and each keeps its minimum per input
// over the rounds, because noise (preemption, another tenant, frequency
// steps) only ever adds time. Measurement stops after [DefaultRounds] rounds
// or once [DefaultBudget] is spent; the 16 rounds took 2.7 to 5 ms on a
// 2-core SHA-NI Xeon under other load, well inside the 20 ms budget.
// The decision itself is a pure function of the timings: the lowest score
// wins, except that the standard library keeps its place unless beaten by
// more than 3%, since it needs no extra code path. A backend can also be
// forced by name ("stdlib", "sha256-simd"; "auto" measures), from the config
// or a flag.
//
// # Invariants
//
//   - Selection never changes a result, only its cost: every backend
//     computes the same function, which crypto/hash tests against the
//     standard library, and the selection re-checks each candidate's digest
//     against crypto/sha256 before timing it, leaving out any that differs.
//   - The clock is injected ([SelectOptions].Now), so the selection is
//     tested deterministically with a fake clock and fake backends.
//   - [PinToCore] validates the core against the thread's allowed CPU set
//     and returns an error, never panics; its unpin restores the previous set
//     on the same thread.
//
// The one piece of process-wide state accel touches is crypto/hash's active
// backend, written by SelectHashBackend at start-up (see crypto/hash for why
// that state is global).
//
// # Dependencies
//
// golang.org/x/sys/cpu reads the CPU features (it also accounts for what the
// OS enables, e.g. AVX state); it lacks a SHA-NI bit, which comes from
// github.com/klauspost/cpuid/v2, the detector sha256-simd itself uses.
// golang.org/x/sys/unix provides sched_setaffinity; pinning is Linux-only
// and returns [ErrPinningUnsupported] elsewhere.
package accel
