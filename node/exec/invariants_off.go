//go:build !invariants

package exec

// invariantsEnabled makes Execute check CheckExecution on every block it
// builds; the invariants build tag turns it on.
const invariantsEnabled = false
