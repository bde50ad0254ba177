package ed25519

import (
	"bytes"
	"io"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// BatchRandomnessSize is how many bytes Batch.Verify reads from its random
// source on every call with at least one entry, whatever the entries are, so
// that a seeded source advances the same way on every run.
const BatchRandomnessSize = 32

// Batch collects (public key, message, signature) entries and verifies them
// together, much faster per signature than Verify when all are valid.
//
// The verdict for every entry is exactly the verdict of Verify for the same
// entry (see the package documentation for the one caveat, a 2^-128 chance
// per call). A Batch is not safe for concurrent use; Reset it to reuse it.
type Batch struct {
	entries []batchEntry
	// verifier is kept between calls so that its entry storage is reused.
	verifier *voi.BatchVerifier
}

type batchEntry struct {
	pub PublicKey
	msg []byte
	sig Signature
}

// NewBatch returns an empty batch with room for capacity entries (a
// capacity below zero counts as zero).
func NewBatch(capacity int) *Batch {
	return &Batch{entries: make([]batchEntry, 0, max(capacity, 0))}
}

// Add appends an entry. The batch keeps msg, not a copy of it: msg must not
// change until the last Verify of this batch has returned.
func (b *Batch) Add(pub PublicKey, msg []byte, sig Signature) {
	b.entries = append(b.entries, batchEntry{pub: pub, msg: msg, sig: sig})
}

// Len returns the number of entries.
func (b *Batch) Len() int { return len(b.entries) }

// Reset empties the batch and keeps its storage.
func (b *Batch) Reset() {
	clear(b.entries) // drop references to the callers' messages
	b.entries = b.entries[:0]
}

// Verify checks every entry and returns valid[i] == Verify(entry i) for each
// entry, in the order of Add, and allValid, true when every entry is valid.
// An empty batch is all valid.
//
// rnd supplies the secret random coefficients of the batch equation and must
// be unpredictable to whoever produced the signatures: crypto/rand.Reader in
// production, a seeded reader in tests and simulations. Verify reads exactly
// BatchRandomnessSize bytes from it. If rnd is nil or fails, the entries are
// verified one by one with Verify, which gives the same verdicts more slowly.
//
// When the batch equation fails, each entry is checked on its own, reusing
// the points already decoded for the batch, to find the invalid ones; so a
// batch holding an invalid entry costs about as much as verifying every entry
// singly.
func (b *Batch) Verify(rnd io.Reader) (allValid bool, valid []bool) {
	if len(b.entries) == 0 {
		return true, []bool{}
	}
	var coefficientKey [BatchRandomnessSize]byte
	if rnd == nil {
		return b.verifyEach()
	}
	if _, err := io.ReadFull(rnd, coefficientKey[:]); err != nil {
		return b.verifyEach()
	}
	if b.verifier == nil {
		b.verifier = voi.NewBatchVerifierWithCapacity(len(b.entries))
	}
	verifier := b.verifier.Reset()
	for i := range b.entries {
		e := &b.entries[i]
		verifier.AddWithOptions(e.pub[:], e.msg, e.sig[:], verifyOptions)
	}
	// The library draws its coefficients from a stream cipher keyed with the
	// first 32 bytes it reads; handing it exactly those bytes keeps a failing
	// source away from it, since it panics when its source fails.
	return verifier.Verify(bytes.NewReader(coefficientKey[:]))
}

// verifyEach is the serial path, used when no randomness is available.
func (b *Batch) verifyEach() (allValid bool, valid []bool) {
	allValid = true
	valid = make([]bool, len(b.entries))
	for i := range b.entries {
		e := &b.entries[i]
		valid[i] = Verify(e.pub, e.msg, e.sig)
		allValid = allValid && valid[i]
	}
	return allValid, valid
}
