package relay

import (
	"errors"
	"fmt"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// Anchor is what a node's recorder view holds of a recorded header: enough
// to check a proof by reference without the header itself.
type Anchor struct {
	// Hash is the recorded header's hash.
	Hash types.Hash
	// OuterRelayRoot is the recorded header's OuterRelayRoot: zero for an
	// EMPTY header.
	OuterRelayRoot types.Hash
}

// Anchors is what a node knows of its recorder chains: the headers recorded
// by recorder blocks it has committed (the root chain, and the coordinators
// it follows). The two methods answer from the same view: Confirmed(c, h,
// x) holds exactly when Recorded(c, h) knows an anchor of hash x.
type Anchors interface {
	// Confirmed reports whether header hash h of chain c at height is
	// recorded by a recorder block this node has committed. false: not
	// (yet) known here.
	Confirmed(c types.ChainID, height types.Height, h types.Hash) (known bool)
	// Recorded returns the anchor of the header of chain c at height
	// recorded by a recorder block this node has committed. known=false:
	// not (yet) recorded here.
	Recorded(c types.ChainID, height types.Height) (a Anchor, known bool)
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
// comes with a proof of either form (package documentation,
// "Verification") and otherwise fails with an error wrapping ErrInvalid,
// ErrNotConfirmed or ErrConsumed.
func (v Verifier) VerifyRelay(msg *types.Message, proof []byte) error {
	if v.Topology == nil || v.Anchors == nil || v.Consumed == nil {
		return errNotConfigured
	}
	p, err := decodeAnyProof(proof)
	if err != nil {
		return fmt.Errorf("relay: %w: %w", ErrInvalid, err)
	}
	if err := check(v.Chain, v.Topology, msg, &p); err != nil {
		return err
	}
	id := msg.ID() // encodes: check ran ValidateBasic
	if p.byRef {
		if err := v.settleRef(id, &p.ref, nil); err != nil {
			return fmt.Errorf("relay %v: %w (chain %d height %d, by reference)", id, err, p.ref.Chain, p.ref.Height)
		}
		return nil
	}
	last := p.full.Last()
	lastHash := last.Hash()
	if err := v.settle(id, last, lastHash); err != nil {
		return fmt.Errorf("relay %v: %w (chain %d height %d block %v)", id, err, last.ChainID, last.Height, lastHash)
	}
	return nil
}

// check applies every rule that depends only on msg, the proof and the
// topology; its errors wrap ErrInvalid. For a full proof these are all the
// rules but the node's view; a proof by reference has only its addressing
// checked here, its path needs the recorded header (settleRef).
func check(chain types.ChainID, topo *chains.Topology, msg *types.Message, ap *anyProof) error {
	sourceChain, _ := ap.source()
	if err := checkAddressing(chain, topo, msg, sourceChain); err != nil {
		return err
	}
	if ap.byRef {
		return nil
	}
	p := &ap.full
	if p.Source.Empty {
		return invalid("source block at height %d of chain %d is empty", p.Source.Height, p.Source.ChainID)
	}
	if err := exec.VerifyRelayProof(p.Source.OuterRelayRoot, msg, p.Path); err != nil {
		return fmt.Errorf("relay: %w: %w", ErrInvalid, err)
	}
	prev := &p.Source
	for i := range p.Lifts {
		l := &p.Lifts[i]
		c, ok := topo.Chain(prev.ChainID)
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
// Inbox checks on arrival as well: an outer relay of the proof's source
// chain, a transaction chain other than chain, to an account of chain.
func checkAddressing(chain types.ChainID, topo *chains.Topology, msg *types.Message, sourceChain types.ChainID) error {
	if msg.Kind != types.MessageOuterRelay {
		return invalid("%v message", msg.Kind)
	}
	if err := msg.ValidateBasic(); err != nil {
		return fmt.Errorf("relay: %w: %w", ErrInvalid, err)
	}
	if msg.SourceChain != sourceChain {
		return invalid("message from chain %d, proof from chain %d", msg.SourceChain, sourceChain)
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

// settle checks the node's view for a full proof: its last header, whose
// hash is lastHash, is confirmed and the message not consumed. It returns
// the bare sentinels, so that an Inbox polling packages that wait for
// their source does not build errors.
func (v *Verifier) settle(id types.Hash, last *types.Header, lastHash types.Hash) error {
	if !v.Anchors.Confirmed(last.ChainID, last.Height, lastHash) {
		return ErrNotConfirmed
	}
	if v.Consumed.Consumed(id) {
		return ErrConsumed
	}
	return nil
}

// settleRef checks a proof by reference against the node's view: the
// named block is recorded, the path leads from the message to its
// recorded OuterRelayRoot, and the message is not consumed. When verified
// is not nil it holds the root the path was last found to lead to, and is
// updated: the path is hashed again only if the recorded root differs. A
// recorded header does not change, so an Inbox hashes each path once.
// Waiting and consumed give the bare sentinels.
func (v *Verifier) settleRef(id types.Hash, r *RefProof, verified *types.Hash) error {
	an, ok := v.Anchors.Recorded(r.Chain, r.Height)
	if !ok {
		return ErrNotConfirmed
	}
	root := an.OuterRelayRoot
	if root == (types.Hash{}) {
		return invalid("source block at height %d of chain %d is empty", r.Height, r.Chain)
	}
	if verified == nil || *verified != root {
		if err := merkle.Verify(root, exec.RelayLeaf(id), r.Path); err != nil {
			return fmt.Errorf("relay: %w: path to the recorded relay root: %w", ErrInvalid, err)
		}
		if verified != nil {
			*verified = root
		}
	}
	if v.Consumed.Consumed(id) {
		return ErrConsumed
	}
	return nil
}

// Trusted is the exec.RelayVerifier of a block its committee decided: a
// quorum of the committee checked the block's relays against their
// recorder views before certifying it, so a node executing it at commit,
// after block sync or a restart, needs no recorder view of its own, which
// may be behind. It checks what needs no view: the proof decodes, the
// addressing rules, and for a full proof its path and lifts; a proof by
// reference is accepted without looking its block up. Chain and Topology
// must be set; Consumed, when set, is checked as by a Verifier.
type Trusted struct {
	Chain    types.ChainID
	Topology *chains.Topology
	Consumed Consumed
}

var _ exec.RelayVerifier = Trusted{}

// VerifyRelay implements exec.RelayVerifier.
func (t Trusted) VerifyRelay(msg *types.Message, proof []byte) error {
	if t.Topology == nil {
		return errNotConfigured
	}
	p, err := decodeAnyProof(proof)
	if err != nil {
		return fmt.Errorf("relay: %w: %w", ErrInvalid, err)
	}
	if err := check(t.Chain, t.Topology, msg, &p); err != nil {
		return err
	}
	if t.Consumed != nil {
		if id := msg.ID(); t.Consumed.Consumed(id) {
			return fmt.Errorf("relay %v: %w", id, ErrConsumed)
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("relay: %w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
