package actor

import (
	"fmt"
	"math/bits"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/thinkey/thinkey/node/types"
)

// codeResult is what running a program for one message gives back.
type codeResult struct {
	account Account
	sends   []Send
	steps   uint64
	err     error
}

// callState is the account as the program sees and changes it during one
// call. Builtins record the first error they raise in err, so the reason of
// a failure is the node's sentinel, not Starlark's message about it.
type callState struct {
	account Account
	sends   []Send
	err     error
}

func (st *callState) fail(err error) error {
	if st.err == nil {
		st.err = err
	}
	return err
}

// runCode runs acct's program for msg: it executes the program's top level
// (which defines functions) and calls the function named by msg.Method with
// no arguments. acct is the state after the message's value was credited.
func runCode(acct Account, msg *types.Message, stepLimit uint64) (res codeResult) {
	st := &callState{account: acct}
	thread := &starlark.Thread{
		Name:  "account",
		Print: func(*starlark.Thread, string) {}, // programs have no output
		// Load stays nil: load() fails, programs import nothing.
	}
	thread.SetMaxExecutionSteps(stepLimit)
	defer func() {
		// The interpreter is not expected to panic; if it does, the
		// message fails on every node alike instead of stopping them.
		if p := recover(); p != nil {
			res = codeResult{steps: stepLimit, err: fmt.Errorf("%w: interpreter panic: %v", ErrCode, p)}
		}
	}()

	err := st.call(thread, msg)
	res.steps = thread.ExecutionSteps()
	switch {
	case err == nil:
		res.account, res.sends = st.account, st.sends
	case res.steps >= stepLimit:
		res.err = fmt.Errorf("%w: %d steps", ErrStepLimit, stepLimit)
	case st.err != nil:
		res.err = st.err
	default:
		res.err = fmt.Errorf("%w: %v", ErrCode, err)
	}
	return res
}

func (st *callState) call(thread *starlark.Thread, msg *types.Message) error {
	method := string(msg.Method)
	if method == "" || strings.HasPrefix(method, "_") {
		return st.fail(fmt.Errorf("%w %q", ErrUnknownMethod, method))
	}
	predeclared := starlark.StringDict{
		"self":    starlark.Bytes(st.account.Address[:]),
		"sender":  starlark.Bytes(msg.From[:]),
		"value":   starlark.MakeUint64(msg.Value),
		"args":    starlark.Bytes(msg.Args),
		"balance": starlark.NewBuiltin("balance", st.balance),
		"get":     starlark.NewBuiltin("get", st.get),
		"put":     starlark.NewBuiltin("put", st.put),
		"send":    starlark.NewBuiltin("send", st.send),
	}
	// The dialect of account programs: no while loops, no recursion, no
	// top-level control flow, no reassigned globals, so every loop runs
	// over a finite iterable and the step limit bounds all of it. Sets are
	// allowed; like dicts they iterate in insertion order.
	opts := syntax.FileOptions{Set: true}
	globals, err := starlark.ExecFileOptions(&opts, thread, "code", st.account.Code, predeclared)
	if err != nil {
		return err
	}
	fn, ok := globals[method].(*starlark.Function)
	if !ok {
		return st.fail(fmt.Errorf("%w %q", ErrUnknownMethod, method))
	}
	_, err = starlark.Call(thread, fn, nil, nil)
	return err
}

// balance() returns the account's balance, value of this message included.
func (st *callState) balance(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.MakeUint64(st.account.Balance), nil
}

// get(key) returns the bytes stored under key (bytes or string), or None.
func (st *callState) get(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var key starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &key); err != nil {
		return nil, err
	}
	k, err := asBytes(key, "key")
	if err != nil {
		return nil, st.fail(err)
	}
	v, ok := st.account.Storage.Get(k)
	if !ok {
		return starlark.None, nil
	}
	return starlark.Bytes(v), nil
}

// put(key, value) stores value (bytes or string) under key; an empty value
// deletes the key.
func (st *callState) put(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var key, value starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &key, &value); err != nil {
		return nil, err
	}
	k, err := asBytes(key, "key")
	if err != nil {
		return nil, st.fail(err)
	}
	v, err := asBytes(value, "value")
	if err != nil {
		return nil, st.fail(err)
	}
	storage, err := st.account.Storage.With(k, v)
	if err != nil {
		return nil, st.fail(err)
	}
	st.account.Storage = storage
	return starlark.None, nil
}

// send(to, method, value, args=b"") debits value from the balance and
// produces a message to the 20-byte address to.
func (st *callState) send(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		to       starlark.Bytes
		method   string
		value    starlark.Int
		argBytes starlark.Bytes
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "to", &to, "method", &method, "value", &value, "args?", &argBytes); err != nil {
		return nil, err
	}
	if len(to) != types.AddressSize {
		return nil, st.fail(fmt.Errorf("%w: send to an address of %d bytes, want %d", ErrBadArgs, len(to), types.AddressSize))
	}
	if len(method) > types.MaxMethodLen || !isMethodName(method) {
		return nil, st.fail(fmt.Errorf("%w: method %q is not an identifier of at most %d bytes", ErrBadArgs, method, types.MaxMethodLen))
	}
	if len(argBytes) > types.MaxArgsLen {
		return nil, st.fail(fmt.Errorf("%w: %d bytes of arguments, maximum %d", ErrBadArgs, len(argBytes), types.MaxArgsLen))
	}
	amount, ok := value.Uint64()
	if !ok {
		return nil, st.fail(fmt.Errorf("%w: value %v is not a uint64", ErrBadArgs, value))
	}
	if len(st.sends) >= MaxSends {
		return nil, st.fail(fmt.Errorf("%w: maximum %d", ErrTooManySends, MaxSends))
	}
	remaining, borrow := bits.Sub64(st.account.Balance, amount, 0)
	if borrow != 0 {
		return nil, st.fail(fmt.Errorf("%w: send %d, balance %d", ErrInsufficientBalance, amount, st.account.Balance))
	}
	st.account.Balance = remaining
	st.sends = append(st.sends, Send{
		To:     types.Address([]byte(to)),
		Method: []byte(method),
		Value:  amount,
		Args:   []byte(argBytes),
	})
	return starlark.None, nil
}

func asBytes(v starlark.Value, what string) ([]byte, error) {
	switch v := v.(type) {
	case starlark.Bytes:
		return []byte(v), nil
	case starlark.String:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("%w: %s is %s, want bytes or string", ErrBadArgs, what, v.Type())
}

// isMethodName reports whether s is an ASCII identifier (the rule of
// types.Message.ValidateBasic): letters, digits and '_', not starting with
// a digit. The empty name is not one a program may send to.
func isMethodName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
