// Package bench holds the per-stage benchmark harnesses of the node and the
// report they produce.
//
// Each stage (BLS, Ed25519, SHA-256, Merkle, codec, Pebble, ...) contributes a
// list of [Case] values: a name plus a func(*testing.B). The same cases run in
// two ways:
//
//   - under `go test -bench` (bench_test.go wraps every case in b.Run), and
//   - from the CLI, `thinkey bench`, which calls [Run]; Run times each case
//     with testing.Benchmark and writes a [Report]: a table on the terminal and
//     a JSON file that carries the hardware profile of the machine
//     (gopsutil), so that the capacity planner can read it back.
//
// The package owns no mutable globals: every run takes a [Config] and returns
// its results. Ratios between cases that must be compared (batch against
// one-by-one, SIMD against portable) are measured in the same run and recorded
// as [Comparison] values, because the machines we run on are noisy and only
// ratios taken side by side are meaningful. Stages that simulate (consensus,
// shard) also report figures in virtual time as custom metrics, which a
// Comparison compares when it names the metric (Comparison.Metric).
package bench
