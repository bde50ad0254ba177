package rootchain

import (
	"fmt"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/types"
)

// ProveRecord returns the proof that the record of chain at height is in
// body: its leaf's path in the record root (the recorder header's
// InputRoot). The body must be in canonical order.
func ProveRecord(body *Body, chain types.ChainID, height types.Height) (merkle.Proof, error) {
	at, ok := body.Find(chain, height)
	if !ok {
		return merkle.Proof{}, fmt.Errorf("prove record %d/%d: not in the body", chain, height)
	}
	leaves := make([]types.Hash, len(body.Records))
	for i := range body.Records {
		leaves[i] = body.Records[i].Leaf()
	}
	p, err := merkle.Prove(leaves, uint64(at))
	if err != nil {
		return merkle.Proof{}, fmt.Errorf("prove record %d/%d: %w", chain, height, err)
	}
	return p, nil
}

// VerifyRecordProof checks that the recorder block of header recorder
// recorded child: the proof leads from LeafHash(child.Hash()) to
// recorder.InputRoot. The leaf is the header's hash, which names its chain
// and height, so the proof's index says nothing and is not checked (see
// crypto/merkle: roots do not commit to the leaf count).
//
// It does not check that recorder is certified, nor that child's chain is
// a child of recorder's in the topology: the caller (node/relay,
// node/light) does.
func VerifyRecordProof(recorder *types.Header, child *types.Header, proof merkle.Proof) error {
	if recorder == nil || child == nil {
		return fmt.Errorf("verify record proof: %w: missing header", ErrInvalid)
	}
	if recorder.Empty {
		return fmt.Errorf("verify record proof: %w: recorder block %d/%d is EMPTY and records nothing", ErrInvalid, recorder.ChainID, recorder.Height)
	}
	if child.ChainID == recorder.ChainID {
		return fmt.Errorf("verify record proof: %w: chain %d does not record itself", ErrInvalid, child.ChainID)
	}
	h := child.Hash()
	if err := merkle.Verify(recorder.InputRoot, headerLeaf(&h), proof); err != nil {
		return fmt.Errorf("verify record proof: %w: %w", ErrInvalid, err)
	}
	return nil
}
