// Package config is the node's configuration: one typed struct with a
// section per subsystem, documented defaults, named profiles, validation that
// reports every problem at once, loading from TOML and a template rendered
// from the defaults.
//
// Precedence, lowest first: the profile's defaults, the TOML file, then
// command-line flags (the CLI applies flags to the loaded struct and calls
// Validate again). Unknown keys in a file are an error, so a misspelt option
// is never silently ignored.
//
// Profiles:
//
//   - "default": a development machine.
//   - "vps-1c2g": the paper's commodity target, one core and 2 GB of RAM:
//     a small Pebble cache and memtable, bounded queues and mempool, one
//     worker for signature batches, and the consensus and executor loops
//     pinned to core 0 (they share the only core; pinning keeps the OS from
//     migrating them).
//
// There is no package-level state: callers own their Config values.
package config
