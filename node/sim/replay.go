package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// ReplayCommand returns the command line that replays one seed of a
// simulation test: the test named test in package pkg (a path such as
// "./node/sim", relative to the module root), run with its -seed flag. The
// test name is anchored so that no other test runs.
func ReplayCommand(pkg, test string, seed uint64) string {
	return fmt.Sprintf("go test %s -run %s -seed %d", pkg, shellQuote("^"+test+"$"), seed)
}

// FailureReport formats a failed seed for a test log: what failed, then the
// command that replays it. Every simulation failure should be reported
// through it, so no failure lacks its replay command.
func FailureReport(pkg, test string, seed uint64, err error) string {
	return fmt.Sprintf("seed %d failed: %v\nreplay: %s", seed, err, ReplayCommand(pkg, test, seed))
}

// shellQuote quotes s for a POSIX shell when it holds anything beyond
// letters, digits and a few safe punctuation marks.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./=,:", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// SeedFlag is a flag.Value for a test's -seed flag: unset, a sweep runs
// many seeds; set, it runs that one seed alone (the replay). It knows
// whether it was set, since every value, zero included, is a valid seed.
// Register it from a _test.go file: flag.Var(&seed, "seed", "...").
type SeedFlag struct {
	set   bool
	value uint64
}

// String returns the seed, or "" when unset.
func (s *SeedFlag) String() string {
	if s == nil || !s.set {
		return ""
	}
	return strconv.FormatUint(s.value, 10)
}

// Set parses a decimal seed.
func (s *SeedFlag) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return fmt.Errorf("seed %q: %w", v, err)
	}
	s.set, s.value = true, n
	return nil
}

// Value returns the seed and whether it was set.
func (s *SeedFlag) Value() (uint64, bool) { return s.value, s.set }

// Seeds returns the seeds to run: the set seed alone, or 1..count.
func (s *SeedFlag) Seeds(count int) []uint64 {
	if s.set {
		return []uint64{s.value}
	}
	out := make([]uint64, max(count, 0))
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}
