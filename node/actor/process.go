package actor

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"

	"github.com/thinkey/thinkey/node/types"
)

// Gas measures the work of processing messages: what a block may spend and
// what a verifier redoes.
type Gas uint64

// The gas schedule. It is part of the protocol: every node charges the same
// amounts, so the block budget (node/exec) decides the same way everywhere.
const (
	// GasPerMessage is charged for every message processed, merged or not.
	GasPerMessage Gas = 1000
	// GasPerSend is charged for every message a processing produces.
	GasPerSend Gas = 1000
	// GasPerCodeByte is charged per byte of program, for parsing it, each
	// time a program runs.
	GasPerCodeByte Gas = 1
	// GasPerStep is charged per Starlark execution step.
	GasPerStep Gas = 1
)

// DefaultStepLimit is the number of Starlark steps one message may take.
const DefaultStepLimit = 100_000

// MaxSends is the most messages one processing may produce.
const MaxSends = 64

// Limits bound the processing of one message. Every node must use the same
// limits: a program that runs out of steps fails, and that failure is part
// of the block.
type Limits struct {
	// StepLimit is the number of Starlark steps a program may take for one
	// message; zero means DefaultStepLimit.
	StepLimit uint64
}

func (l Limits) stepLimit() uint64 {
	if l.StepLimit == 0 {
		return DefaultStepLimit
	}
	return l.StepLimit
}

// Status says what processing a message did.
type Status uint8

// The statuses of a processed message.
const (
	// StatusApplied: the method ran and its effects stand.
	StatusApplied Status = 1
	// StatusNoEffect: the message was valid and is consumed, and its method
	// by rule changed nothing: tran with a bill above the balance, recorded
	// (m : ∅) as in paper 5.4.
	StatusNoEffect Status = 2
	// StatusFailed: the method failed; everything it did is discarded, and
	// the message's value, if any, goes back to its sender in an add.
	StatusFailed Status = 3
)

// String returns the status's name.
func (s Status) String() string {
	switch s {
	case StatusApplied:
		return "applied"
	case StatusNoEffect:
		return "no-effect"
	case StatusFailed:
		return "failed"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Send is a message produced by processing: the caller (node/exec) turns
// it into an inter-relay or outer-relay message, with the processed
// message as its cause and its index as its nonce.
type Send struct {
	To     types.Address
	Method []byte
	Value  uint64
	Args   []byte
}

// Outcome is the result of processing one message (or one merged entry).
type Outcome struct {
	// Account is the state after processing.
	Account Account
	// Sends are the produced messages, in order.
	Sends []Send
	// Status and Reason say what happened; Reason is nil for StatusApplied.
	Status Status
	Reason error
	// Gas is the gas the processing used.
	Gas Gas
}

// Process processes msg for acct and returns the new state and the produced
// messages (paper 5.2, Algorithm 1). acct is the account's state before,
// Account{Address: msg.To} for an account that does not exist yet; it is not
// modified.
//
// The caller has checked the message's signature (external) or proof
// (relay) and, for an external message, CheckExternal. Process returns an
// error, and no outcome, only when the message cannot be processed by this
// account at all: it is addressed elsewhere (ErrWrongRecipient), or it is
// external with the wrong nonce (ErrBadNonce), a sender other than the
// account (ErrNotOwnAccount) or a value (ErrExternalValue). Every other
// message is consumed, with one of three statuses:
//
//  1. An external message advances the nonce, whatever follows.
//  2. The message's Value is credited (overflow fails the message).
//  3. The method runs: add does nothing more (its bill is the Value); tran
//     parses {address, bill} from Args, and if the balance covers the bill,
//     debits it and sends {add, bill} to the address, else has no effect
//     (StatusNoEffect); tran is honoured only from the account itself
//     (From == To), anyone else's fails; any other method runs the
//     account's program, and fails when there is none.
//  4. A failure (StatusFailed) keeps step 1 and undoes steps 2 and 3; a
//     message that carried value sends it back to From in an add.
func Process(acct Account, msg *types.Message, limits Limits) (Outcome, error) {
	if msg.To != acct.Address {
		return Outcome{}, fmt.Errorf("process: %w: to %v, account %v", ErrWrongRecipient, msg.To, acct.Address)
	}
	if msg.Kind == types.MessageExternal {
		if msg.From != acct.Address {
			return Outcome{}, fmt.Errorf("process: %w", ErrNotOwnAccount)
		}
		if msg.Value != 0 {
			return Outcome{}, fmt.Errorf("process: %w", ErrExternalValue)
		}
		if msg.Nonce != acct.Nonce {
			return Outcome{}, fmt.Errorf("process: %w: message %d, account %d", ErrBadNonce, msg.Nonce, acct.Nonce)
		}
		if acct.Nonce == math.MaxUint64 {
			return Outcome{}, fmt.Errorf("process: %w", ErrNonceExhausted)
		}
		acct.Nonce++
	}
	out := Outcome{Account: acct, Status: StatusApplied, Gas: GasPerMessage}
	balance, carry := bits.Add64(acct.Balance, msg.Value, 0)
	if carry != 0 {
		return out.failed(msg, ErrBalanceOverflow), nil
	}
	credited := acct
	credited.Balance = balance

	switch {
	case bytes.Equal(msg.Method, []byte(MethodAdd)):
		if len(msg.Args) != 0 {
			return out.failed(msg, fmt.Errorf("%w: add takes no arguments", ErrBadArgs)), nil
		}
		out.Account = credited
		return out, nil

	case bytes.Equal(msg.Method, []byte(MethodTran)):
		if msg.From != acct.Address {
			return out.failed(msg, ErrNotOwner), nil
		}
		recipient, bill, err := ParseTranArgs(msg.Args)
		if err != nil {
			return out.failed(msg, err), nil
		}
		out.Account = credited
		if credited.Balance < bill {
			out.Status = StatusNoEffect
			out.Reason = fmt.Errorf("%w: bill %d, balance %d", ErrInsufficientBalance, bill, credited.Balance)
			return out, nil
		}
		out.Account.Balance -= bill
		out.Sends = []Send{{To: recipient, Method: []byte(MethodAdd), Value: bill}}
		out.Gas += GasPerSend
		return out, nil
	}

	if len(acct.Code) == 0 {
		return out.failed(msg, fmt.Errorf("%w %q", ErrUnknownMethod, msg.Method)), nil
	}
	run := runCode(credited, msg, limits.stepLimit())
	out.Gas += GasPerCodeByte*Gas(len(acct.Code)) + GasPerStep*Gas(run.steps)
	if run.err != nil {
		return out.failed(msg, run.err), nil
	}
	out.Account = run.account
	out.Sends = run.sends
	out.Gas += GasPerSend * Gas(len(run.sends))
	return out, nil
}

// failed turns o, whose Account holds the state before the credit, into a
// failure: the value goes back to the sender.
func (o Outcome) failed(msg *types.Message, reason error) Outcome {
	o.Status = StatusFailed
	o.Reason = reason
	o.Sends = nil
	if msg.Value > 0 {
		o.Sends = []Send{{To: msg.From, Method: []byte(MethodAdd), Value: msg.Value}}
		o.Gas += GasPerSend
	}
	return o
}

// IsPlainAdd reports whether msg is an add with no arguments: a message
// whose processing only credits its value, which commutes with every other
// such message and produces nothing, and so may be merged (paper 5.6).
func IsPlainAdd(msg *types.Message) bool {
	return bytes.Equal(msg.Method, []byte(MethodAdd)) && len(msg.Args) == 0
}

// ProcessAdds processes several plain adds to acct as one merged entry
// (paper 5.6): the balance grows by the sum of their values. It equals
// processing them one by one, in any order, exactly when no prefix sum
// overflows, which is when the total does not; so it fails (ErrBadMerge)
// on an overflow, on a message that is not a plain add, and on a message
// addressed elsewhere.
func ProcessAdds(acct Account, msgs []*types.Message) (Outcome, error) {
	total := acct.Balance
	for _, msg := range msgs {
		if msg.To != acct.Address {
			return Outcome{}, fmt.Errorf("process merged adds: %w: to %v, account %v", ErrWrongRecipient, msg.To, acct.Address)
		}
		if msg.Kind == types.MessageExternal || !IsPlainAdd(msg) {
			return Outcome{}, fmt.Errorf("process merged adds: %w: %v message %q with %d bytes of arguments is not a plain add relay",
				ErrBadMerge, msg.Kind, msg.Method, len(msg.Args))
		}
		var carry uint64
		total, carry = bits.Add64(total, msg.Value, 0)
		if carry != 0 {
			return Outcome{}, fmt.Errorf("process merged adds: %w: %w", ErrBadMerge, ErrBalanceOverflow)
		}
	}
	acct.Balance = total
	return Outcome{Account: acct, Status: StatusApplied, Gas: GasPerMessage * Gas(len(msgs))}, nil
}
