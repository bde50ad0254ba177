//go:build invariants

package consensus

// invariantsEnabled makes Step check CheckInvariants after every event.
const invariantsEnabled = true
