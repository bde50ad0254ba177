package relay

import "errors"

// Errors callers branch on with errors.Is. Every error of VerifyRelay wraps
// exactly one of the first three, or none when the Verifier itself is not
// configured; exec wraps it in its BlockError, through which errors.Is still
// finds it.
var (
	// ErrInvalid: the relay or its proof is wrong and will never verify:
	// a bad encoding, a message of the wrong kind, chain or recipient, a
	// path or lift that does not lead to its root.
	ErrInvalid = errors.New("invalid relay")
	// ErrNotConfirmed: the proof is well formed and leads to a header this
	// node does not know as recorded (yet). It may verify later, once the
	// node's view of its recorder chains catches up: shells retry rather
	// than reject.
	ErrNotConfirmed = errors.New("relay source not confirmed")
	// ErrConsumed: the relay was already executed by a committed block of
	// this chain.
	ErrConsumed = errors.New("relay already consumed")
	// ErrFull: an Inbox or Pending holds as many packages as it may.
	ErrFull = errors.New("relay queue full")
)
