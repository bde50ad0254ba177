//go:build !invariants

package consensus

// invariantsEnabled makes Step check CheckInvariants after every event; the
// invariants build tag turns it on.
const invariantsEnabled = false
