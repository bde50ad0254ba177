package actor

import (
	"errors"
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/types"
)

func testKey(tb fatalReporter, n byte) ed25519.PrivateKey {
	tb.Helper()
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = n + 1
	k, err := ed25519.NewKeyFromSeed(seed)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// relay returns a relay message from -> to, as node/exec would build it.
func relay(from, to types.Address, method string, value uint64, args []byte) types.Message {
	return types.Message{
		Kind: types.MessageInterRelay, From: from, To: to, SourceChain: 1,
		Cause: types.Hash{0xca}, Value: value, Method: []byte(method), Args: args,
	}
}

func TestCheckExternal(t *testing.T) {
	alice := testKey(t, 1)
	bob := AddressFromPublicKey(testKey(t, 2).Public())
	valid := func() types.Message { return NewTransfer(alice, 3, bob, 10) }
	smallOrder := valid()
	smallOrder.SenderKey = [32]byte{1} // y = 1, x = 0: the identity point
	smallOrder.From = AddressFromPublicKey(ed25519.PublicKey(smallOrder.SenderKey))
	smallOrder.To = smallOrder.From
	tests := []struct {
		name string
		msg  types.Message
		want error
	}{
		{"valid transfer", valid(), nil},
		{"small-order key", smallOrder, ErrSmallOrderKey},
		{"from another address", func() types.Message { m := valid(); m.From = bob; return m }(), ErrSenderMismatch},
		{"to another account", func() types.Message { m := valid(); m.To = bob; return m }(), ErrNotOwnAccount},
		{"with value", func() types.Message { m := valid(); m.Value = 1; return m }(), ErrExternalValue},
		{"relay kind", relay(bob, bob, "add", 1, nil), types.ErrInvalid},
		{"unsigned", func() types.Message { m := valid(); m.Signature = [64]byte{}; return m }(), types.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckExternal(&tt.msg)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	m := valid()
	if !ed25519.Verify(ed25519.PublicKey(m.SenderKey), m.SigningBytes(), ed25519.Signature(m.Signature)) {
		t.Fatal("NewTransfer's signature does not verify")
	}
}

// TestProcessSystemMethods walks Algorithm 1 and the failure rules of
// Process, one case per rule.
func TestProcessSystemMethods(t *testing.T) {
	alice := testKey(t, 1)
	a := AddressFromPublicKey(alice.Public())
	b := types.Address{0xbb}
	base := Account{Address: a, Balance: 20, Nonce: 3}
	bounce := func(to types.Address, v uint64) []Send {
		return []Send{{To: to, Method: []byte(MethodAdd), Value: v}}
	}
	tests := []struct {
		name    string
		acct    Account
		msg     types.Message
		status  Status
		reason  error
		balance uint64
		nonce   uint64
		sends   []Send
		gas     Gas
	}{
		{"tran within balance", base, NewTransfer(alice, 3, b, 10), StatusApplied, nil, 10, 4,
			[]Send{{To: b, Method: []byte(MethodAdd), Value: 10}}, GasPerMessage + GasPerSend},
		{"tran of the whole balance", base, NewTransfer(alice, 3, b, 20), StatusApplied, nil, 0, 4,
			[]Send{{To: b, Method: []byte(MethodAdd), Value: 20}}, GasPerMessage + GasPerSend},
		{"tran over balance: (m : ∅)", base, NewTransfer(alice, 3, b, 21), StatusNoEffect, ErrInsufficientBalance, 20, 4, nil, GasPerMessage},
		{"tran with bad arguments", base, func() types.Message {
			m := types.Message{Nonce: 3, Method: []byte(MethodTran), Args: []byte{1, 2}}
			SignExternal(&m, alice)
			return m
		}(), StatusFailed, ErrBadArgs, 20, 4, nil, GasPerMessage},
		{"unknown method without code", base, func() types.Message {
			m := types.Message{Nonce: 3, Method: []byte("buy")}
			SignExternal(&m, alice)
			return m
		}(), StatusFailed, ErrUnknownMethod, 20, 4, nil, GasPerMessage},
		{"add", base, relay(b, a, MethodAdd, 5, nil), StatusApplied, nil, 25, 3, nil, GasPerMessage},
		{"add of zero", base, relay(b, a, MethodAdd, 0, nil), StatusApplied, nil, 20, 3, nil, GasPerMessage},
		{"add with arguments bounces", base, relay(b, a, MethodAdd, 5, []byte{1}), StatusFailed, ErrBadArgs, 20, 3, bounce(b, 5), GasPerMessage + GasPerSend},
		{"add that overflows bounces", Account{Address: a, Balance: math.MaxUint64 - 1}, relay(b, a, MethodAdd, 2, nil),
			StatusFailed, ErrBalanceOverflow, math.MaxUint64 - 1, 0, bounce(b, 2), GasPerMessage + GasPerSend},
		{"tran from another account bounces its value", base, relay(b, a, MethodTran, 7, TranArgs(b, 1)), StatusFailed, ErrNotOwner, 20, 3, bounce(b, 7), GasPerMessage + GasPerSend},
		{"tran sent to itself", base, relay(a, a, MethodTran, 0, TranArgs(b, 5)), StatusApplied, nil, 15, 3,
			[]Send{{To: b, Method: []byte(MethodAdd), Value: 5}}, GasPerMessage + GasPerSend},
		{"unknown relay method bounces", base, relay(b, a, "buy", 3, nil), StatusFailed, ErrUnknownMethod, 20, 3, bounce(b, 3), GasPerMessage + GasPerSend},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.acct.Clone()
			out, err := Process(tt.acct, &tt.msg, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tt.status || (tt.reason == nil) != (out.Reason == nil) || tt.reason != nil && !errors.Is(out.Reason, tt.reason) {
				t.Fatalf("status %v reason %v, want %v %v", out.Status, out.Reason, tt.status, tt.reason)
			}
			if out.Account.Balance != tt.balance || out.Account.Nonce != tt.nonce {
				t.Fatalf("balance %d nonce %d, want %d %d", out.Account.Balance, out.Account.Nonce, tt.balance, tt.nonce)
			}
			if !slices.EqualFunc(out.Sends, tt.sends, sendsEqual) {
				t.Fatalf("sends %+v, want %+v", out.Sends, tt.sends)
			}
			if out.Gas != tt.gas {
				t.Fatalf("gas %d, want %d", out.Gas, tt.gas)
			}
			if !tt.acct.Equal(&before) {
				t.Fatal("Process changed the account it was given")
			}
		})
	}
}

func sendsEqual(x, y Send) bool {
	return x.To == y.To && string(x.Method) == string(y.Method) && x.Value == y.Value && string(x.Args) == string(y.Args)
}

func TestProcessRefuses(t *testing.T) {
	alice := testKey(t, 1)
	a := AddressFromPublicKey(alice.Public())
	base := Account{Address: a, Balance: 20, Nonce: 3}
	valued := NewTransfer(alice, 3, a, 1)
	valued.Value = 5
	tests := []struct {
		name string
		acct Account
		msg  types.Message
		want error
	}{
		{"nonce behind", base, NewTransfer(alice, 2, a, 1), ErrBadNonce},
		{"nonce ahead", base, NewTransfer(alice, 4, a, 1), ErrBadNonce},
		{"another account's message", Account{Address: types.Address{1}}, NewTransfer(alice, 3, a, 1), ErrWrongRecipient},
		{"external with value", base, valued, ErrExternalValue},
		{"nonce exhausted", Account{Address: a, Nonce: math.MaxUint64}, NewTransfer(alice, math.MaxUint64, a, 1), ErrNonceExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Process(tt.acct, &tt.msg, Limits{}); !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestProcessAddsEqualsOneByOne is the merge rule of paper 5.6: plain adds
// processed as one merged entry give the state of processing them one by
// one in any order, and a merge that would overflow is refused.
func TestProcessAddsEqualsOneByOne(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := types.Address{0xaa}
		acct := Account{Address: a, Balance: rapid.Uint64Range(0, math.MaxUint64/2).Draw(t, "balance"), Nonce: 9}
		n := rapid.IntRange(1, 20).Draw(t, "n")
		msgs := make([]*types.Message, n)
		for i := range msgs {
			m := relay(types.Address{byte(i)}, a, MethodAdd, rapid.Uint64Range(0, math.MaxUint64/32).Draw(t, "value"), nil)
			msgs[i] = &m
		}
		merged, mergeErr := ProcessAdds(acct, msgs)
		one := acct
		var overflow bool
		for _, i := range rapid.Permutation(seq(n)).Draw(t, "order") {
			out, err := Process(one, msgs[i], Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != StatusApplied {
				overflow = true
				break
			}
			one = out.Account
		}
		if overflow {
			if !errors.Is(mergeErr, ErrBadMerge) {
				t.Fatalf("one by one overflows, merged: %v", mergeErr)
			}
			return
		}
		if mergeErr != nil || !merged.Account.Equal(&one) || merged.Gas != GasPerMessage*Gas(n) || len(merged.Sends) != 0 {
			t.Fatalf("merged %+v %v, one by one %+v", merged.Account, mergeErr, one)
		}
	})
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestProcessAddsRefuses(t *testing.T) {
	a := types.Address{0xaa}
	acct := Account{Address: a, Balance: math.MaxUint64 - 5}
	add := func(v uint64) *types.Message { m := relay(types.Address{1}, a, MethodAdd, v, nil); return &m }
	withArgs := relay(types.Address{1}, a, MethodAdd, 1, []byte{1})
	tran := relay(a, a, MethodTran, 0, TranArgs(a, 1))
	elsewhere := relay(types.Address{1}, types.Address{2}, MethodAdd, 1, nil)
	for name, tt := range map[string]struct {
		msgs []*types.Message
		want error
	}{
		"overflow":      {[]*types.Message{add(3), add(3)}, ErrBadMerge},
		"add with args": {[]*types.Message{add(1), &withArgs}, ErrBadMerge},
		"tran":          {[]*types.Message{add(1), &tran}, ErrBadMerge},
		"other account": {[]*types.Message{add(1), &elsewhere}, ErrWrongRecipient},
	} {
		if _, err := ProcessAdds(acct, tt.msgs); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", name, err, tt.want)
		}
	}
	if out, err := ProcessAdds(acct, []*types.Message{add(2), add(3)}); err != nil || out.Account.Balance != math.MaxUint64 {
		t.Fatalf("adds up to the maximum: %v", err)
	}
}
