// Package planner is the capacity planner: the analysis of the paper (2.2.3
// scalability F_C and psi, 2.2.4 Speedup, 6.1 committee failure) and a cost
// model that turns a hardware profile measured by `thinkey bench` into the
// number of chains, committee size and nodes that reach a target throughput
// and failure probability, with the predicted throughput and confirmation
// time. docs/PLANNER.md states every formula and every term of the cost
// model with its source and default.
//
// Callers: tools/thinkey mounts [Command] as `thinkey plan`; the math is a
// library for anything else that needs it, for example a simulator comparing
// its measured throughput with [PlanCapacity]'s prediction.
//
// # Layout
//
//   - hypergeom.go, security.go: the hypergeometric law in log space, eq. 6.1
//     and 6.2 under an explicit tolerance rule, the smallest committee.
//   - scalability.go: Q, F_C, psi, Speedup and the best budget split.
//   - curve.go, costmodel.go: costs read from a bench.Report, and the block
//     model of a transaction chain and of the root chain.
//   - capacity.go: the plan.
//   - report.go: tables and plots; cmd.go: the command tree.
//
// Everything but cmd.go (flags, reading the profile) and report.go's
// writeFiles is pure: no files, clocks or randomness, so every figure is a
// function of its inputs.
//
// # Invariants
//
//   - Probabilities are carried as natural logarithms, so a tail of 1e-1000
//     prints and compares exactly instead of underflowing to 0. Tails are
//     exact to a relative 1e-12 or so for populations up to 1e6 and beyond
//     (tested against big-integer arithmetic).
//   - A committee of n with threshold rho survives floor(rho n) malicious
//     members under the paper's rule (eq. 6.1 sums from rho n + 1) and
//     ceil(rho n) - 1 under the node's consensus rule; the rule is always
//     named in the output. Products of a fraction and a count that lie
//     within count * 1e-9 of an integer are that integer (1/3 of 999 is 333).
//   - Bad input returns an error wrapping ErrDomain (or ErrUsage at the
//     command line, ErrMissingCase for a thin profile, ErrUnreachable for a
//     target no committee size meets) and never panics. The commands check
//     every flag before doing anything, report all bad flags at once, and
//     write their plots all or none.
//
// # Dependencies
//
// gonum.org/v1/plot draws the figures: pure Go, SVG and PNG from one plot
// description, no cgo. The hypergeometric tail is written here, after
// Loader's saddle-point evaluation of binomial terms (the method of R's
// dbinom and dhyper), because the usual difference of lgamma values loses
// about 1e-9 of relative precision at N = 1e6 and because the planner needs
// the logarithm of tails far below the float64 range.
package planner
