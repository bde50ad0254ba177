package driver

import (
	"errors"
	"fmt"

	"github.com/thinkey/thinkey/node/api"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/light"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// The light proofs a node serves (node/light, GET /v1/light/...): every
// proof climbs to one root block this node committed and carries that
// block's decision certificate, so a client that knows only the root
// committee's keys checks it.

// LightHeader implements api.Node: the header of chain at height, lifted
// through the recorder blocks that recorded it up to a root block. A
// header comes from its recorder's block body, so the node proves headers
// of chains it does not run too, as long as it runs their recorder.
func (a apiNode) LightHeader(chain types.ChainID, height types.Height) (*light.HeaderProof, error) {
	p, err := a.n.lightHeader(chain, height)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (n *Node) lightHeader(chain types.ChainID, height types.Height) (*light.HeaderProof, error) {
	if chain == types.RootChain {
		sb, _, err := n.root.rootApp().rootBlock(height)
		if err != nil {
			return nil, notFound(err)
		}
		if sb.Decision == nil || sb.Decision.Block == nil {
			return nil, fmt.Errorf("root block %d is the genesis or EMPTY, which no certificate proves: %w", height, api.ErrNotFound)
		}
		return &light.HeaderProof{Header: sb.Header, RootCertificate: sb.Decision.Certificate}, nil
	}
	c, ok := n.topo.Chain(chain)
	if !ok {
		return nil, fmt.Errorf("chain %d: %w", chain, api.ErrNotFound)
	}
	rec, ok := n.runners[c.Parent]
	if !ok {
		return nil, fmt.Errorf("chain %d is recorded by chain %d, which this node does not run: %w", chain, c.Parent, api.ErrNotFound)
	}
	ra := rec.rootApp()
	an, ok := ra.recorded(chain, height)
	if !ok {
		return nil, fmt.Errorf("block %d of chain %d is not recorded by chain %d on this node: %w", height, chain, c.Parent, api.ErrNotFound)
	}
	sb, body, err := ra.rootBlock(an.root)
	if err != nil {
		return nil, notFound(err)
	}
	at, ok := body.Find(chain, height)
	if !ok || sb.Decision == nil {
		return nil, fmt.Errorf("block %d of chain %d does not hold the record of %d/%d: %w", an.root, c.Parent, chain, height, storage.ErrCorruption)
	}
	path, err := rootchain.ProveRecord(&body, chain, height)
	if err != nil {
		return nil, err
	}
	// The recorder's block is proved the same way, up to the root.
	upper, err := n.lightHeader(c.Parent, an.root)
	if err != nil {
		return nil, err
	}
	return &light.HeaderProof{
		Header:          body.Records[at].Header,
		Lifts:           append([]relay.Lift{{Recorder: sb.Header, Path: path}}, upper.Lifts...),
		RootCertificate: upper.RootCertificate,
	}, nil
}

// LightAccount implements api.Node: the account as of the latest block of
// its chain that the root chain recorded on this node.
func (a apiNode) LightAccount(addr types.Address) (*light.AccountProof, error) {
	n := a.n
	ta, err := n.txFor(addr)
	if err != nil {
		return nil, n.wrongChain(fmt.Sprintf("account %s", addr), n.topo.OwnerOf(addr))
	}
	ta.mu.RLock()
	tip, _ := ta.parent.Tip(ta.spec.ID)
	acct, path, ok, err := ta.history.prove(tip.Height, addr, ta.mem)
	ta.mu.RUnlock()
	switch {
	case err != nil:
		return nil, err
	case tip.Height == 0:
		return nil, fmt.Errorf("no block of chain %d is recorded yet: %w", ta.spec.ID, api.ErrNotFound)
	case !ok:
		return nil, fmt.Errorf("account %s at height %d of chain %d: %w", addr, tip.Height, ta.spec.ID, api.ErrNotFound)
	}
	hp, err := n.lightHeader(ta.spec.ID, tip.Height)
	if err != nil {
		return nil, err
	}
	enc, err := acct.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return &light.AccountProof{Block: *hp, Account: enc, Path: path}, nil
}

// LightRelay implements api.Node: an outer relay produced by a block of
// the node's transaction chain that the root chain recorded.
func (a apiNode) LightRelay(id types.Hash) (*light.RelayProof, error) {
	n := a.n
	if n.tx == nil {
		return nil, fmt.Errorf("relay %s: this node runs no transaction chain: %w", id, api.ErrNotFound)
	}
	chain := n.tx.chain
	rec, err := n.db.Record(relayRecordKey(chain, id))
	if err != nil {
		return nil, fmt.Errorf("relay %s: %w", id, notFound(err))
	}
	loc, err := decodeMessageLocation(rec)
	if err != nil {
		return nil, err
	}
	hp, err := n.lightHeader(chain, loc.Height)
	if err != nil {
		return nil, err
	}
	sb, err := n.ChainBlock(chain, loc.Height)
	if err != nil {
		return nil, notFound(err)
	}
	if sb.Decision == nil || sb.Decision.Block == nil {
		return nil, fmt.Errorf("relay %s: block %d holds no body: %w", id, loc.Height, storage.ErrCorruption)
	}
	body, err := exec.DecodeBody(sb.Decision.Block.Body)
	if err != nil {
		return nil, fmt.Errorf("relay %s: block %d: %w: %w", id, loc.Height, storage.ErrCorruption, err)
	}
	if int(loc.Index) >= len(body.OuterRelay) {
		return nil, fmt.Errorf("relay %s: block %d has %d relays: %w", id, loc.Height, len(body.OuterRelay), storage.ErrCorruption)
	}
	path, err := exec.ProveRelay(&body, id)
	if err != nil {
		return nil, err
	}
	return &light.RelayProof{Block: *hp, Message: body.OuterRelay[loc.Index], Path: path}, nil
}

// notFound adds api.ErrNotFound to a store's or the node's not-found error.
func notFound(err error) error {
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %w", err, api.ErrNotFound)
	}
	return err
}
