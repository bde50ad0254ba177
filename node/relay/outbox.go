package relay

import (
	"fmt"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// Addressed is a package with the chain it goes to.
type Addressed struct {
	Dest    types.ChainID
	Package Package
}

// Outbox returns the packages of the outer-relay messages of a block of a
// transaction chain, one per message in body order, each addressed to the
// chain that holds its recipient and proved by reference (RefProof: the
// block's chain and height and the message's path in its relay root).
// A destination that does not follow the recorder of the block's chain
// needs the full form instead: LiftPackage gives it. Outbox hashes the
// relay tree once for all the messages and checks that its root is
// header.OuterRelayRoot. The messages are copies; the proofs of one call
// share one buffer.
func Outbox(header *types.Header, body *exec.Body, topo *chains.Topology) ([]Addressed, error) {
	relays := body.OuterRelay
	if len(relays) == 0 {
		return nil, nil
	}
	if topo == nil {
		return nil, fmt.Errorf("relay outbox: no topology")
	}
	if header.Empty {
		return nil, fmt.Errorf("relay outbox: empty block at height %d of chain %d has relays", header.Height, header.ChainID)
	}
	leaves := make([]types.Hash, len(relays))
	var enc []byte
	for i := range relays {
		m := &relays[i]
		if m.Kind != types.MessageOuterRelay || m.SourceChain != header.ChainID {
			return nil, fmt.Errorf("relay outbox: message %d: %v message of chain %d in an outer-relay list of chain %d", i, m.Kind, m.SourceChain, header.ChainID)
		}
		var err error
		if enc, err = m.AppendBinary(enc[:0]); err != nil {
			return nil, fmt.Errorf("relay outbox: message %d: %w", i, err)
		}
		leaves[i] = exec.RelayLeaf(hash.Sum256(enc)) // the message ID
	}
	tree := merkle.NewTree(leaves)
	if root := tree.Root(); root != header.OuterRelayRoot {
		return nil, fmt.Errorf("relay outbox: relays give root %v, header of chain %d height %d has %v", root, header.ChainID, header.Height, header.OuterRelayRoot)
	}
	out := make([]Addressed, len(relays))
	proof := RefProof{Chain: header.ChainID, Height: header.Height}
	var buf []byte
	for i := range relays {
		m := &relays[i]
		dest := topo.OwnerOf(m.To)
		if dest == header.ChainID {
			return nil, fmt.Errorf("relay outbox: message %d: recipient %v is on the source chain %d", i, m.To, dest)
		}
		path, err := tree.Prove(uint64(i))
		if err != nil {
			return nil, fmt.Errorf("relay outbox: message %d: %w", i, err)
		}
		proof.Path = path
		if buf == nil {
			// Every proof of the block has about this length: one
			// allocation for all of them.
			buf = make([]byte, 0, len(relays)*(proof.EncodedLen()+hash.Size))
		}
		start := len(buf)
		if buf, err = proof.AppendBinary(buf); err != nil {
			return nil, fmt.Errorf("relay outbox: message %d: %w", i, err)
		}
		out[i] = Addressed{Dest: dest, Package: Package{Message: m.Clone(), Proof: buf[start:len(buf):len(buf)]}}
	}
	return out, nil
}
