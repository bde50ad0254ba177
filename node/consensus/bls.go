package consensus

import (
	"fmt"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/node/types"
)

// BLSSigner signs with a BLS secret key: the production Signer, shared by
// the node driver and the simulator's real-BLS runs.
type BLSSigner struct{ Key *bls.SecretKey }

// Sign returns the compressed BLS signature of msg.
func (s BLSSigner) Sign(msg []byte) [types.BLSSignatureSize]byte {
	var out [types.BLSSignatureSize]byte
	copy(out[:], bls.Sign(s.Key, msg).Bytes())
	return out
}

// BLSAggregator aggregates compressed BLS signatures into a certificate's
// signature. It decodes each one, subgroup check included, so a malformed
// signature is an error rather than a bad certificate.
type BLSAggregator struct{}

// Aggregate returns the compressed sum of sigs.
func (BLSAggregator) Aggregate(sigs [][types.BLSSignatureSize]byte) ([types.BLSSignatureSize]byte, error) {
	var out [types.BLSSignatureSize]byte
	parsed := make([]*bls.Signature, len(sigs))
	for i := range sigs {
		s, err := bls.SignatureFromBytes(sigs[i][:])
		if err != nil {
			return out, fmt.Errorf("aggregate: signature %d: %w", i, err)
		}
		parsed[i] = s
	}
	agg, err := bls.AggregateSignatures(parsed)
	if err != nil {
		return out, fmt.Errorf("aggregate: %w", err)
	}
	copy(out[:], agg.Bytes())
	return out, nil
}
