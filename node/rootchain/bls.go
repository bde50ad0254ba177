package rootchain

import (
	"maps"
	"slices"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/node/types"
)

// BLSCommittees is the Committees of the production node: per child chain
// the BLS public keys of its committee, in member (ValidatorIndex) order,
// as the genesis fixes them. Keys must carry checked proofs of possession
// (node/genesis checks them), which makes FastAggregateVerify over one
// message safe against rogue keys.
type BLSCommittees struct {
	keys map[types.ChainID][]*bls.PublicKey
}

// NewBLSCommittees returns the committees of keys. It copies the map and
// the slices; the keys themselves are immutable.
func NewBLSCommittees(keys map[types.ChainID][]*bls.PublicKey) *BLSCommittees {
	c := &BLSCommittees{keys: make(map[types.ChainID][]*bls.PublicKey, len(keys))}
	for id, ks := range maps.All(keys) {
		c.keys[id] = slices.Clone(ks)
	}
	return c
}

// Size returns the number of members of chain's committee, 0 for an
// unknown chain.
func (c *BLSCommittees) Size(chain types.ChainID) int { return len(c.keys[chain]) }

// VerifyCertificate checks cert's aggregate signature over its vote
// signing bytes with one FastAggregateVerify over the signers' keys.
func (c *BLSCommittees) VerifyCertificate(chain types.ChainID, cert *types.Certificate) bool {
	keys := c.keys[chain]
	if len(keys) == 0 || cert.Signers.CommitteeSize() != len(keys) {
		return false
	}
	signers := cert.SignerIndices(make([]types.ValidatorIndex, 0, cert.SignerCount()))
	if len(signers) == 0 {
		return false
	}
	pks := make([]*bls.PublicKey, len(signers))
	for i, v := range signers {
		if int(v) >= len(keys) || keys[v] == nil {
			return false
		}
		pks[i] = keys[v]
	}
	sig, err := bls.SignatureFromBytes(cert.AggregateSignature[:])
	if err != nil {
		return false
	}
	return bls.FastAggregateVerify(pks, cert.VoteSigningBytes(), sig)
}
