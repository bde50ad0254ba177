// Package keycmd is `thinkey init`: it creates a validator's directory with
// a new node key (node/keys, mode 0600) and a configuration rendered from a
// profile's defaults (node/config.Template), and prints the public half of
// the key in the form a genesis committee entry takes (node/genesis).
//
// The thinkey binary adds Command to its tree. init never overwrites: an
// existing key or configuration is an error, so running it twice cannot
// destroy a key.
package keycmd
