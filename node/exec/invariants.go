package exec

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/thinkey/thinkey/node/types"
)

// ErrInvariant is wrapped by every error of CheckExecution: the leader's
// own block breaks a property that holds by construction, a bug.
var ErrInvariant = errors.New("exec invariant violated")

// CheckExecution checks what must hold of every block Execute builds from
// view, each property computed a second way:
//
//   - value is conserved: the balances of the accounts with a record
//     before the block, plus the values of the relay inputs, equal their
//     balances after, plus the values of the outer relays (inter-relay
//     values are debited and credited within the block; external messages
//     carry none);
//   - Check, the verifier's independent path, accepts the block and
//     derives the same roots, write set and gas.
//
// Tests and the simulator call it on every block; Execute calls it itself
// under the invariants build tag. It never panics.
func CheckExecution(view StateView, chain ChainSpec, res *Result, env Env) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("exec: %w: "+format, append([]any{ErrInvariant}, args...)...)
	}
	var before, after sum128
	for i := range res.WriteSet {
		if pre, ok := view.Account(res.WriteSet[i].Address); ok {
			before.add(pre.Balance)
		}
		after.add(res.WriteSet[i].Balance)
	}
	for i := range res.Body.Inputs {
		if m := &res.Body.Inputs[i].Message; m.Kind != types.MessageExternal {
			before.add(m.Value)
		}
	}
	for i := range res.Body.OuterRelay {
		after.add(res.Body.OuterRelay[i].Value)
	}
	if before != after {
		return bad("value before %v, after %v", before, after)
	}
	checked, err := Check(view, chain, &res.Body, env)
	if err != nil {
		return bad("the block does not pass Check: %w", err)
	}
	if checked.Roots != res.Roots || checked.GasUsed != res.GasUsed || len(checked.WriteSet) != len(res.WriteSet) {
		return bad("Check derives other roots, gas or write set")
	}
	for i := range checked.WriteSet {
		if !checked.WriteSet[i].Equal(&res.WriteSet[i]) {
			return bad("Check derives another state of account %v", res.WriteSet[i].Address)
		}
	}
	return nil
}

// sum128 adds uint64 values without overflow.
type sum128 struct{ hi, lo uint64 }

func (s *sum128) add(v uint64) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, v, 0)
	s.hi += carry
}

func (s sum128) String() string {
	if s.hi == 0 {
		return fmt.Sprint(s.lo)
	}
	return fmt.Sprintf("%d*2^64+%d", s.hi, s.lo)
}
