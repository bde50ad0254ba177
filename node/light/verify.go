package light

import (
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// Verifier checks light proofs against the root committee. A Verifier is
// a value: it holds no state and may be used from many goroutines.
type Verifier struct {
	// RootKeys are the root committee's BLS public keys in member
	// (ValidatorIndex) order, as the genesis fixes them. Each must carry a
	// checked proof of possession (node/genesis checks them), which makes
	// one FastAggregateVerify over the signers' keys safe.
	RootKeys []*bls.PublicKey
	// Topology, when set, adds the checks that need it: every chain of the
	// proof is in it, each lift's recorder is the topology parent of the
	// chain of the header before it, an account belongs to the block's
	// chain and that chain holds accounts, a relay comes from a
	// transaction chain to an account of another chain. A light client
	// without the topology leaves it nil.
	Topology *chains.Topology
}

// VerifyHeader checks p against the root committee keys rootKeys, without
// a topology (Verifier.VerifyHeader).
func VerifyHeader(p *HeaderProof, rootKeys []*bls.PublicKey) error {
	return Verifier{RootKeys: rootKeys}.VerifyHeader(p)
}

// VerifyAccount checks p against the root committee keys rootKeys, without
// a topology, and returns the proven account (Verifier.VerifyAccount).
func VerifyAccount(p *AccountProof, rootKeys []*bls.PublicKey) (actor.Account, error) {
	return Verifier{RootKeys: rootKeys}.VerifyAccount(p)
}

// VerifyRelay checks p against the root committee keys rootKeys, without a
// topology (Verifier.VerifyRelay).
func VerifyRelay(p *RelayProof, rootKeys []*bls.PublicKey) error {
	return Verifier{RootKeys: rootKeys}.VerifyRelay(p)
}

// VerifyHeader checks that p.Header is a header its chain decided, as the
// root committee vouches for it: the rules of the package documentation.
// A refusal wraps ErrInvalid and one reason sentinel; a Verifier without
// usable keys fails with ErrNoRootKeys.
func (v Verifier) VerifyHeader(p *HeaderProof) error {
	if err := v.checkKeys(); err != nil {
		return err
	}
	if p == nil {
		return refuse(ErrMalformed, "no header proof")
	}
	root, err := v.checkLifts(p)
	if err != nil {
		return err
	}
	return v.checkCertificate(root, &p.RootCertificate)
}

// VerifyAccount checks p.Block (VerifyHeader) and that p.Account, exactly
// this state of it, is in the state of that block: the path leads from
// the account's leaf to Block.Header.StateRoot (exec.VerifyAccountProof).
// The block must not be a root-chain block (the root chain holds no
// accounts); with a Topology, its chain must be a transaction chain that
// owns the account's address. It returns a copy of the account.
func (v Verifier) VerifyAccount(p *AccountProof) (actor.Account, error) {
	if err := v.checkKeys(); err != nil {
		return actor.Account{}, err
	}
	if p == nil {
		return actor.Account{}, refuse(ErrMalformed, "no account proof")
	}
	root, err := v.checkLifts(&p.Block)
	if err != nil {
		return actor.Account{}, err
	}
	h := &p.Block.Header
	if h.ChainID == types.RootChain {
		return actor.Account{}, refuse(ErrAccount, "block of the root chain, which holds no accounts")
	}
	if v.Topology != nil {
		if c, _ := v.Topology.Chain(h.ChainID); c.Kind != chains.Transaction {
			return actor.Account{}, refuse(ErrAccount, "chain %d is a %v chain, which holds no accounts", h.ChainID, c.Kind)
		}
	}
	acct, err := actor.DecodeAccount(p.Account)
	if err != nil {
		return actor.Account{}, refuseErr(ErrAccount, err, "account")
	}
	if v.Topology != nil {
		if owner := v.Topology.OwnerOf(acct.Address); owner != h.ChainID {
			return actor.Account{}, refuse(ErrAccount, "account %v is on chain %d, the block is of chain %d", acct.Address, owner, h.ChainID)
		}
	}
	if err := exec.VerifyAccountProof(h.StateRoot, &acct, p.Path); err != nil {
		return actor.Account{}, refuseErr(ErrAccount, err, "block %d/%d", h.ChainID, h.Height)
	}
	if err := v.checkCertificate(root, &p.Block.RootCertificate); err != nil {
		return actor.Account{}, err
	}
	return acct.Clone(), nil
}

// VerifyRelay checks p.Block (VerifyHeader) and that the block produced
// p.Message: the block is not EMPTY, the message is an outer relay whose
// SourceChain is the block's chain, and the path leads from its leaf to
// Block.Header.OuterRelayRoot (exec.VerifyRelayProof). With a Topology,
// the source chain must be a transaction chain and the recipient an
// account of another chain.
func (v Verifier) VerifyRelay(p *RelayProof) error {
	if err := v.checkKeys(); err != nil {
		return err
	}
	if p == nil {
		return refuse(ErrMalformed, "no relay proof")
	}
	root, err := v.checkLifts(&p.Block)
	if err != nil {
		return err
	}
	h, m := &p.Block.Header, &p.Message
	switch {
	case h.Empty:
		return refuse(ErrRelay, "block %d/%d is EMPTY and produced no relay", h.ChainID, h.Height)
	case m.Kind != types.MessageOuterRelay:
		return refuse(ErrRelay, "%v message", m.Kind)
	case m.SourceChain != h.ChainID:
		return refuse(ErrRelay, "message from chain %d, block of chain %d", m.SourceChain, h.ChainID)
	}
	if v.Topology != nil {
		if c, _ := v.Topology.Chain(h.ChainID); c.Kind != chains.Transaction {
			return refuse(ErrRelay, "source chain %d is a %v chain", h.ChainID, c.Kind)
		}
		if owner := v.Topology.OwnerOf(m.To); owner == h.ChainID {
			return refuse(ErrRelay, "recipient %v is on the source chain %d", m.To, owner)
		}
	}
	if err := exec.VerifyRelayProof(h.OuterRelayRoot, m, p.Path); err != nil {
		return refuseErr(ErrRelay, err, "block %d/%d", h.ChainID, h.Height)
	}
	return v.checkCertificate(root, &p.Block.RootCertificate)
}

// checkKeys refuses a Verifier without a usable root committee.
func (v *Verifier) checkKeys() error {
	if len(v.RootKeys) == 0 {
		return fmt.Errorf("light: %w", ErrNoRootKeys)
	}
	if i := slices.Index(v.RootKeys, nil); i >= 0 {
		return fmt.Errorf("light: %w: key %d is nil", ErrNoRootKeys, i)
	}
	return nil
}

// checkLifts applies every rule of a header proof but the certificate's,
// and returns the root header the proof ends at.
func (v *Verifier) checkLifts(p *HeaderProof) (*types.Header, error) {
	if len(p.Lifts) > relay.MaxLifts {
		return nil, refuse(ErrMalformed, "%d lifts, maximum %d", len(p.Lifts), relay.MaxLifts)
	}
	if err := p.Header.ValidateBasic(); err != nil {
		return nil, refuseErr(ErrMalformed, err, "proven header")
	}
	root := p.Root()
	if root.ChainID != types.RootChain {
		return nil, refuse(ErrNotRoot, "the last header is of chain %d (height %d)", root.ChainID, root.Height)
	}
	if v.Topology != nil {
		if _, ok := v.Topology.Chain(p.Header.ChainID); !ok {
			return nil, refuse(ErrLift, "chain %d is not in the topology", p.Header.ChainID)
		}
	}
	prev := &p.Header
	for i := range p.Lifts {
		l := &p.Lifts[i]
		if err := l.Recorder.ValidateBasic(); err != nil {
			return nil, refuseErr(ErrMalformed, err, "lift %d", i)
		}
		// The root chain has no recorder: a root header may only be the
		// last one.
		if prev.ChainID == types.RootChain {
			return nil, refuse(ErrLift, "lift %d: a root-chain header is recorded by no chain", i)
		}
		if v.Topology != nil {
			c, ok := v.Topology.Chain(prev.ChainID)
			if !ok {
				return nil, refuse(ErrLift, "lift %d: chain %d is not in the topology", i, prev.ChainID)
			}
			if l.Recorder.ChainID != c.Parent {
				return nil, refuse(ErrLift, "lift %d: recorder block of chain %d, chain %d is recorded by %d", i, l.Recorder.ChainID, c.ID, c.Parent)
			}
		}
		if err := rootchain.VerifyRecordProof(&l.Recorder, prev, l.Path); err != nil {
			return nil, refuseErr(ErrLift, err, "lift %d", i)
		}
		prev = &l.Recorder
	}
	return root, nil
}

// checkCertificate checks that cert is the root committee's decision
// certificate of root: its shape, that it names root's chain, height and
// hash, and its aggregate signature.
func (v *Verifier) checkCertificate(root *types.Header, cert *types.Certificate) error {
	if err := consensus.CheckDecisionCertificate(cert, len(v.RootKeys)); err != nil {
		return refuseErr(ErrCertificate, err, "root block %d", root.Height)
	}
	switch h := root.Hash(); {
	case cert.ChainID != types.RootChain:
		return refuse(ErrCertificate, "certificate of chain %d", cert.ChainID)
	case cert.Height != root.Height:
		return refuse(ErrCertificate, "certificate of height %d, root block is at %d", cert.Height, root.Height)
	case cert.BlockHash != h:
		return refuse(ErrCertificate, "certificate of block %v, root block %d is %v", cert.BlockHash, root.Height, h)
	}
	committee := rootchain.NewBLSCommittees(map[types.ChainID][]*bls.PublicKey{types.RootChain: v.RootKeys})
	if !committee.VerifyCertificate(types.RootChain, cert) {
		return refuse(ErrSignature, "root block %d: the aggregate signature of %d signers does not verify", root.Height, cert.SignerCount())
	}
	return nil
}
