package relay

import (
	"errors"
	"fmt"

	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// Anchors is what a node knows of its recorder chains: the headers recorded
// by recorder blocks it has committed (the root chain, and the coordinators
// it follows).
type Anchors interface {
	// Confirmed reports whether header hash h of chain c at height is
	// recorded by a recorder block this node has committed. false: not
	// (yet) known here.
	Confirmed(c types.ChainID, height types.Height, h types.Hash) (known bool)
}

// Consumed is the set of relay IDs this chain's committed blocks have
// executed, as of the parent of the block being built or verified.
type Consumed interface {
	Consumed(id types.Hash) bool
}

// Verifier checks the relay inputs of the blocks of chain Chain: it is the
// exec.RelayVerifier a destination chain's shell gives exec. All fields
// must be set.
type Verifier struct {
	Chain    types.ChainID
	Topology *chains.Topology
	Anchors  Anchors
	Consumed Consumed
}

var _ exec.RelayVerifier = Verifier{}

// errNotConfigured is returned by a Verifier with a nil field: a fault of
// the node, not of the relay, so it wraps none of the sentinels.
var errNotConfigured = errors.New("relay verifier not configured")

// VerifyRelay checks that msg, an outer-relay input of chain v.Chain,
// comes with a proof (the encoding of a Proof) that
//
//   - its source header is a non-empty block of msg.SourceChain, a
//     transaction chain other than v.Chain, and msg.To is an account of
//     v.Chain;
//   - its path proves msg in the header's OuterRelayRoot
//     (exec.VerifyRelayProof);
//   - each lift is a block of the recorder (topology parent) of the chain
//     of the header before it, whose record root holds that header;
//
// and otherwise fails with an error wrapping ErrInvalid; then that
// v.Anchors knows the last header as confirmed (else ErrNotConfirmed) and
// that v.Consumed does not hold msg (else ErrConsumed).
func (v Verifier) VerifyRelay(msg *types.Message, proof []byte) error {
	if v.Topology == nil || v.Anchors == nil || v.Consumed == nil {
		return errNotConfigured
	}
	p, err := DecodeProof(proof)
	if err != nil {
		return fmt.Errorf("relay: %w: %w", ErrInvalid, err)
	}
	if err := v.check(msg, &p); err != nil {
		return err
	}
	id := msg.ID() // encodes: check ran ValidateBasic
	last := p.Last()
	lastHash := last.Hash()
	if err := v.settle(id, last, lastHash); err != nil {
		return fmt.Errorf("relay %v: %w (chain %d height %d block %v)", id, err, last.ChainID, last.Height, lastHash)
	}
	return nil
}

// check applies every rule that depends only on msg, the proof and the
// topology; its errors wrap ErrInvalid.
func (v *Verifier) check(msg *types.Message, p *Proof) error {
	if err := checkAddressing(v.Chain, v.Topology, msg, &p.Source); err != nil {
		return err
	}
	if p.Source.Empty {
		return invalid("source block at height %d of chain %d is empty", p.Source.Height, p.Source.ChainID)
	}
	if err := exec.VerifyRelayProof(p.Source.OuterRelayRoot, msg, p.Path); err != nil {
		return fmt.Errorf("relay: %w: %w", ErrInvalid, err)
	}
	prev := &p.Source
	for i := range p.Lifts {
		l := &p.Lifts[i]
		c, ok := v.Topology.Chain(prev.ChainID)
		if !ok || c.Parent == c.ID {
			return invalid("lift %d: chain %d has no recorder", i, prev.ChainID)
		}
		if l.Recorder.ChainID != c.Parent {
			return invalid("lift %d: recorder block of chain %d, chain %d is recorded by %d", i, l.Recorder.ChainID, c.ID, c.Parent)
		}
		if err := rootchain.VerifyRecordProof(&l.Recorder, prev, l.Path); err != nil {
			return fmt.Errorf("relay: %w: lift %d: %w", ErrInvalid, i, err)
		}
		prev = &l.Recorder
	}
	return nil
}

// checkAddressing applies the rules on who sends msg to whom, which an
// Inbox checks on arrival as well: an outer relay of the source header's
// chain, a transaction chain other than chain, to an account of chain.
func checkAddressing(chain types.ChainID, topo *chains.Topology, msg *types.Message, source *types.Header) error {
	if msg.Kind != types.MessageOuterRelay {
		return invalid("%v message", msg.Kind)
	}
	if err := msg.ValidateBasic(); err != nil {
		return fmt.Errorf("relay: %w: %w", ErrInvalid, err)
	}
	if msg.SourceChain != source.ChainID {
		return invalid("message from chain %d, proof from chain %d", msg.SourceChain, source.ChainID)
	}
	if msg.SourceChain == chain {
		return invalid("message from this chain %d", chain)
	}
	if c, ok := topo.Chain(msg.SourceChain); !ok || c.Kind != chains.Transaction {
		return invalid("source chain %d is not a transaction chain", msg.SourceChain)
	}
	if owner := topo.OwnerOf(msg.To); owner != chain {
		return invalid("recipient %v is on chain %d, not %d", msg.To, owner, chain)
	}
	return nil
}

// settle checks the node's view: the last header of the proof, whose hash
// is lastHash, is confirmed and the message not consumed. It returns the
// bare sentinels, so that an Inbox polling packages that wait for their
// source does not build errors.
func (v *Verifier) settle(id types.Hash, last *types.Header, lastHash types.Hash) error {
	if !v.Anchors.Confirmed(last.ChainID, last.Height, lastHash) {
		return ErrNotConfirmed
	}
	if v.Consumed.Consumed(id) {
		return ErrConsumed
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("relay: %w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
