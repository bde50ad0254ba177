package exec

import (
	"fmt"
	"io"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// Default limits of a chain's blocks.
const (
	// DefaultBlockGas bounds the work of one block: at most 50,000
	// processed or produced messages of system methods.
	DefaultBlockGas actor.Gas = 50_000_000
	// DefaultInputGas bounds the work one input may cause, inter-relay
	// messages included, before the leader gives up on it.
	DefaultInputGas actor.Gas = 5_000_000
)

// Limits bound a block. BlockGas and StepLimit are consensus rules: every
// node of a chain must use the same. InputGas is the leader's policy only
// (Check does not look at it). Zero fields take their defaults.
type Limits struct {
	// BlockGas is the most gas the records of one block may use.
	BlockGas actor.Gas
	// InputGas is the most gas Execute lets one input's processing use,
	// with every inter-relay message it causes; a message loop between
	// accounts stops there instead of filling the block.
	InputGas actor.Gas
	// StepLimit is the Starlark step limit of one message.
	StepLimit uint64
}

func (l Limits) withDefaults() Limits {
	if l.BlockGas == 0 {
		l.BlockGas = DefaultBlockGas
	}
	if l.InputGas == 0 {
		l.InputGas = DefaultInputGas
	}
	if l.StepLimit == 0 {
		l.StepLimit = actor.DefaultStepLimit
	}
	return l
}

func (l Limits) actorLimits() actor.Limits { return actor.Limits{StepLimit: l.StepLimit} }

// ChainSpec says which chain a block belongs to and which accounts the
// chain holds: those whose address starts with the PrefixBits bits of
// Prefix (a chain owns a prefix, paper 3.2; PrefixBits 0 owns every
// address).
type ChainSpec struct {
	ID         types.ChainID
	Prefix     uint64
	PrefixBits uint8
	Limits     Limits
}

// Owns reports whether addr is an account of the chain.
func (c ChainSpec) Owns(addr types.Address) bool { return addr.HasPrefix(c.Prefix, c.PrefixBits) }

// Validate reports a prefix no address can match.
func (c ChainSpec) Validate() error {
	if c.PrefixBits > 64 {
		return fmt.Errorf("chain %d: prefix of %d bits, maximum 64", c.ID, c.PrefixBits)
	}
	if c.PrefixBits < 64 && c.Prefix>>c.PrefixBits != 0 {
		return fmt.Errorf("chain %d: prefix %#x has bits above its %d bits", c.ID, c.Prefix, c.PrefixBits)
	}
	return nil
}

// Runner runs independent tasks, possibly in parallel. The cores of this
// package never start goroutines: the shell injects a Runner (a worker
// pool) to use more than one core, or Sequential.
//
// Every task writes only its own result slot, and results are merged in a
// fixed order afterwards, so the outcome never depends on the Runner.
type Runner interface {
	// Run calls task(i) exactly once for every i in [0, n) and returns when
	// all calls have returned.
	Run(n int, task func(i int))
	// Workers is how many tasks may run at once, at least 1. It only sizes
	// chunks of work (signature batches, hash ranges).
	Workers() int
}

// Sequential is the Runner that runs the tasks one after the other, in
// order, on the calling goroutine.
type Sequential struct{}

// Run calls task(0), ..., task(n-1).
func (Sequential) Run(n int, task func(i int)) {
	for i := range n {
		task(i)
	}
}

// Workers returns 1.
func (Sequential) Workers() int { return 1 }

// RelayVerifier checks that a relay input from another chain was produced
// by a confirmed block of that chain (paper 4.3) and was not processed by
// an earlier block of this chain: this package only keeps a message from
// being processed twice within one block. The relay layer implements it.
type RelayVerifier interface {
	// VerifyRelay checks proof for msg, an outer-relay message of another
	// chain addressed to this one, when the proof stands alone: the
	// candidates of Execute. It returns nil if the proof holds.
	VerifyRelay(msg *types.Message, proof []byte) error
	// VerifyRelays checks the relay inputs of a block body; inputs are all
	// its inputs, the external ones included. One proof may cover several
	// relay inputs (the relay layer packs the relays of one source block
	// under one multi-proof, see RelayPacker), so they are checked
	// together. On a failure it returns the position in inputs of the
	// relay input it concerns.
	VerifyRelays(inputs []Input) (at int, err error)
}

// RelayPacker is implemented by a RelayVerifier that can shorten the
// proofs of a block's relay inputs by sharing what they have in common.
// Execute calls it on the inputs it included, in block order, before
// computing the roots.
type RelayPacker interface {
	// PackRelays returns inputs with the same messages in the same order
	// and proofs that VerifyRelays accepts whenever the stand-alone proofs
	// of inputs verify; inputs is not modified. ok=false leaves the
	// proofs as they are.
	PackRelays(inputs []Input) (packed []Input, ok bool)
}

// Env holds what Execute, Check and Verify need from outside the core.
type Env struct {
	// Runner runs the parallel parts; nil means Sequential.
	Runner Runner
	// Relays checks relay inputs; nil rejects every relay input.
	Relays RelayVerifier
	// Randomness supplies the secret coefficients of Ed25519 batch
	// verification (crypto/rand in production, a seeded stream in tests);
	// nil verifies signatures one by one. The verdicts never depend on it.
	Randomness io.Reader
}

func (e Env) runner() Runner {
	if e.Runner == nil {
		return Sequential{}
	}
	return e.Runner
}
