package exec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// Reasons a block is rejected by Check and Verify, and (the first group) an
// input is left out of a block by Execute. Every error of those functions is
// a *BlockError whose Reason is one of these; callers branch with errors.Is.
var (
	// ErrInvalidInput: an input breaks a stateless rule: ValidateBasic,
	// actor.CheckExternal, a kind other than external or another chain's
	// outer relay, a recipient on another chain.
	ErrInvalidInput = errors.New("invalid input")
	// ErrBadSignature: an external input's signature does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrBadRelayProof: a relay input's proof does not verify.
	ErrBadRelayProof = errors.New("bad relay proof")
	// ErrDuplicateMessage: the same message ID twice among the inputs and
	// relay lists.
	ErrDuplicateMessage = errors.New("duplicate message")
	// ErrUnknownAccount: an external message from an account that does not
	// exist (yet) on the chain.
	ErrUnknownAccount = errors.New("unknown account")
	// ErrBadNonce: an external message's nonce is not its account's nonce
	// when the record processes it.
	ErrBadNonce = actor.ErrBadNonce
)

// Reasons only a leader's Execute gives, for inputs it leaves out of the
// block. Neither says the input is invalid: it may fit a later block.
var (
	// ErrBlockFull: the input's processing does not fit what is left of the
	// block's gas, size or message counts.
	ErrBlockFull = errors.New("block full")
	// ErrInputGas: the input's processing, with every inter-relay message it
	// caused, used more than the per-input gas the leader allows.
	ErrInputGas = errors.New("input gas exceeded")
)

// Reasons only Check and Verify give.
var (
	// ErrMalformedBody: the body breaks a structural rule: a list not in
	// canonical order, a relay of the wrong kind, chain or recipient, an
	// empty record or entry, a count over its limit.
	ErrMalformedBody = errors.New("malformed block body")
	// ErrBodyTooLarge: the body's encoding exceeds MaxBodySize.
	ErrBodyTooLarge = errors.New("block body too large")
	// ErrUnknownMessage: a record names a message ID that is not in the
	// body where it should be (processed: inputs or inter-relays; produced:
	// inter- or outer-relays).
	ErrUnknownMessage = errors.New("unknown message")
	// ErrWrongRecipient: a record processes a message addressed to another
	// account, or produces one from another sender.
	ErrWrongRecipient = errors.New("message of another account")
	// ErrProcessedTwice: a message is processed by more than one entry.
	ErrProcessedTwice = errors.New("message processed twice")
	// ErrProducedTwice: a relay message is produced by more than one entry.
	ErrProducedTwice = errors.New("relay produced twice")
	// ErrUnprocessedMessage: an input or inter-relay message no record
	// processes.
	ErrUnprocessedMessage = errors.New("unprocessed message")
	// ErrUnproducedRelay: a relay message of the body no record produces.
	ErrUnproducedRelay = errors.New("relay not produced")
	// ErrBadMerge: a merged entry holds something other than plain add
	// relays in increasing ID order, produces messages, or overflows.
	ErrBadMerge = errors.New("bad merged entry")
	// ErrRecordMismatch: re-executing an account's record from its state
	// before the block does not produce the recorded messages.
	ErrRecordMismatch = errors.New("record does not match execution")
	// ErrOrderCycle: the order graph G_sigma has a cycle (paper Theorem 1):
	// no sequential execution gives these records.
	ErrOrderCycle = errors.New("processing order has a cycle")
	// ErrBlockGas: the block uses more gas than the chain allows.
	ErrBlockGas = errors.New("block gas exceeded")
	// ErrRootMismatch: a root computed from the body differs from the
	// header's.
	ErrRootMismatch = errors.New("root mismatch")
)

// BlockError says why a block, or an input, is rejected: the reason (one of
// the sentinels above), the account and message concerned when there is
// one, and the underlying error.
type BlockError struct {
	// Reason is the sentinel callers branch on.
	Reason error
	// Account is the account concerned, or zero.
	Account types.Address
	// Message is the ID of the message concerned, or zero.
	Message types.Hash
	// Detail says what exactly was found.
	Detail string
	// Err is the underlying error (from the codec, node/types, node/actor,
	// the relay verifier), or nil.
	Err error
}

// Error renders "exec: <reason>: account <a>: message <m>: <detail>: <err>",
// leaving out the parts that are empty.
func (e *BlockError) Error() string {
	var b strings.Builder
	b.WriteString("exec: ")
	b.WriteString(e.Reason.Error())
	if !e.Account.IsZero() {
		fmt.Fprintf(&b, ": account %v", e.Account)
	}
	if !e.Message.IsZero() {
		fmt.Fprintf(&b, ": message %v", e.Message)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As both the reason and the underlying
// error.
func (e *BlockError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

func blockErr(reason error, acct types.Address, msg types.Hash, err error, format string, args ...any) *BlockError {
	e := &BlockError{Reason: reason, Account: acct, Message: msg, Err: err}
	if format != "" {
		e.Detail = fmt.Sprintf(format, args...)
	}
	return e
}
