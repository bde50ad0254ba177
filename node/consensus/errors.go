package consensus

import (
	"errors"

	"github.com/thinkey/thinkey/node/types"
)

// Sentinel errors of Step, New and the decoders' callers. Step wraps them
// with context; callers branch with errors.Is. An event rejected with any of
// them has changed nothing in the core.
var (
	// ErrStale means the event concerns a height or round the core has left,
	// a timer it no longer waits for, or a verification result it no longer
	// needs. It is routine under reordering and is logged, not alarmed on.
	ErrStale = errors.New("stale")
	// ErrFuture means a message names a height beyond the next one: the
	// member is behind and the shell should sync blocks rather than feed
	// the core.
	ErrFuture = errors.New("too far ahead")
	// ErrUnknownMember means a sender or signer index is not a member of
	// the committee.
	ErrUnknownMember = errors.New("unknown member")
	// ErrInvalid means the input breaks a rule of the protocol: another
	// chain, a message signed by someone other than its sender, a
	// malformed justification, a result that does not match its request.
	// It is node/types.ErrInvalid, so stateless (ValidateBasic) and stateful
	// rejections are one class.
	ErrInvalid = types.ErrInvalid
	// ErrNotStarted means an event arrived before the Start event.
	ErrNotStarted = errors.New("core not started")
	// ErrInvariant reports a broken internal invariant (see CheckInvariants).
	ErrInvariant = errors.New("invariant violated")
)
