//go:build invariants

package exec

// invariantsEnabled makes Execute check CheckExecution on every block it
// builds.
const invariantsEnabled = true
