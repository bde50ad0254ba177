package mempool

import (
	"errors"

	"github.com/thinkey/thinkey/node/actor"
)

// Reasons a message is refused by Add or dropped after admission. Every
// AddResult.Err wraps exactly one of them; callers branch with errors.Is
// and name them with Reason.
var (
	// ErrInvalid: the message breaks a stateless rule (types.Message
	// ValidateBasic, or actor.CheckExternal: not external, not addressed to
	// the sender's own account, carries value). It can never be included.
	ErrInvalid = errors.New("invalid message")
	// ErrSmallOrderKey: the sender key is a small-order point, under which
	// every signature verifies. It is actor.ErrSmallOrderKey.
	ErrSmallOrderKey = actor.ErrSmallOrderKey
	// ErrSenderMismatch: From is not the address of SenderKey. It is
	// actor.ErrSenderMismatch.
	ErrSenderMismatch = actor.ErrSenderMismatch
	// ErrBadSignature: the Ed25519 signature does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrDuplicate: a message with the same ID is already pending.
	ErrDuplicate = errors.New("duplicate message")
	// ErrNonceTooLow: the nonce is below the account's committed nonce; the
	// account already consumed it. Also the reason of messages that Update
	// drops because a block consumed their nonce.
	ErrNonceTooLow = errors.New("nonce too low")
	// ErrNonceGap: the nonce is NonceWindow or more above the account's
	// committed nonce.
	ErrNonceGap = errors.New("nonce too far ahead")
	// ErrNonceConflict: another pending message of the same sender has this
	// nonce. At most one of them can ever be included, and the pool keeps
	// the first.
	ErrNonceConflict = errors.New("nonce already taken by a pending message")
	// ErrSenderFull: the sender already has MaxPerSender pending messages.
	ErrSenderFull = errors.New("too many pending messages from this sender")
	// ErrPoolFull: the pool holds MaxMessages messages. Retry after a block.
	ErrPoolFull = errors.New("mempool full")
	// ErrNonceUnavailable: the NonceSource failed, so the nonce could not
	// be checked. Retry later.
	ErrNonceUnavailable = errors.New("account nonce unavailable")
)

// reasons maps each sentinel to its short name: the "reason" label of the
// metrics and the "code" of the HTTP API. The names are stable; dashboards
// and clients key on them.
var reasons = []struct {
	err  error
	name string
}{
	{ErrInvalid, "invalid"},
	{ErrSmallOrderKey, "small_order_key"},
	{ErrSenderMismatch, "sender_mismatch"},
	{ErrBadSignature, "bad_signature"},
	{ErrDuplicate, "duplicate"},
	{ErrNonceTooLow, "nonce_too_low"},
	{ErrNonceGap, "nonce_gap"},
	{ErrNonceConflict, "nonce_conflict"},
	{ErrSenderFull, "sender_full"},
	{ErrPoolFull, "pool_full"},
	{ErrNonceUnavailable, "nonce_unavailable"},
}

// ReasonOther names an error that wraps none of this package's sentinels.
const ReasonOther = "other"

// Reason returns the short name of the sentinel err wraps ("bad_signature",
// "pool_full", ...), "" for nil, and ReasonOther for an error of another
// origin.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return ReasonOther
}

// Reasons lists every name Reason can return for a non-nil error, in a
// fixed order.
func Reasons() []string {
	out := make([]string, 0, len(reasons)+1)
	for _, r := range reasons {
		out = append(out, r.name)
	}
	return append(out, ReasonOther)
}
