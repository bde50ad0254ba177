package actor

import "errors"

// Errors returned by Process and ProcessAdds: the message cannot be
// processed by this account at all. A block that records such a processing
// is invalid; a leader leaves such an input out of its block.
var (
	// ErrWrongRecipient: the message is addressed to another account.
	ErrWrongRecipient = errors.New("message addressed to another account")
	// ErrBadNonce: an external message's nonce is not the account's nonce.
	ErrBadNonce = errors.New("wrong nonce")
	// ErrNonceExhausted: the account's nonce cannot grow any more.
	ErrNonceExhausted = errors.New("nonce exhausted")
	// ErrBadMerge: a merged entry holds a message that is not a plain add,
	// or adds that together overflow the balance.
	ErrBadMerge = errors.New("messages cannot be merged")
)

// Errors of CheckExternal: stateless rules of external messages beyond
// types.Message.ValidateBasic.
var (
	// ErrSenderMismatch: From is not the address of SenderKey.
	ErrSenderMismatch = errors.New("sender address does not match sender key")
	// ErrSmallOrderKey: SenderKey is a small-order point, under which every
	// signature verifies.
	ErrSmallOrderKey = errors.New("small-order sender key")
	// ErrNotOwnAccount: an external message is addressed to an account
	// other than its sender's.
	ErrNotOwnAccount = errors.New("external message not addressed to the sender's own account")
	// ErrExternalValue: an external message carries value.
	ErrExternalValue = errors.New("external message carries value")
)

// Reasons an Outcome gives for StatusNoEffect and StatusFailed. They are
// part of receipts, not of consensus: a verifier compares outputs and state,
// never reasons.
var (
	// ErrInsufficientBalance: tran (Algorithm 1 line 4) or a program's send
	// asked for more than the balance.
	ErrInsufficientBalance = errors.New("insufficient balance")
	// ErrUnknownMethod: the account has no method of that name.
	ErrUnknownMethod = errors.New("unknown method")
	// ErrBadArgs: the arguments do not fit the method.
	ErrBadArgs = errors.New("bad arguments")
	// ErrNotOwner: tran received from another account; only the account
	// itself may order a withdrawal.
	ErrNotOwner = errors.New("tran from another account")
	// ErrBalanceOverflow: a credit would take the balance past 2^64-1.
	ErrBalanceOverflow = errors.New("balance overflow")
	// ErrStorageLimit: a storage key, value or entry count over its limit.
	ErrStorageLimit = errors.New("storage limit")
	// ErrTooManySends: a program sent more than MaxSends messages.
	ErrTooManySends = errors.New("too many messages sent")
	// ErrStepLimit: a program ran out of steps.
	ErrStepLimit = errors.New("step limit reached")
	// ErrCode: the program failed (syntax error, runtime error, fail()).
	ErrCode = errors.New("program failed")
)
