package sim

import (
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// The application of a simulated committee: what blocks are and when one is
// valid. It stands in for execution, which consensus treats as opaque: a
// block's body is random bytes from the proposer's seeded stream, and its
// header commits to the body and to the chain before it.
//
// A block of height h is valid when:
//
//   - its InputRoot is SHA-256(blockBodyLabel || body);
//   - its ParentHash is the link of height h-1 of the checking member's
//     chain (see chainLink), so that a block only fits the chain it was
//     built on;
//   - its Proposer is the leader of (h, header.Round) and the body is not
//     empty.
//
// An invalid-proposal Byzantine member builds blocks whose InputRoot does
// not match their body.

const (
	blockBodyLabel  = "thinkey/sim/block-body/v1"
	genesisLabel    = "thinkey/sim/genesis/v1"
	emptyBlockLabel = "thinkey/sim/empty-block/v1"
)

// genesisLink is the link of height 0 of a chain.
func genesisLink(chain types.ChainID) types.Hash {
	return types.Hash(hash.Sum256(binary.BigEndian.AppendUint32([]byte(genesisLabel), uint32(chain))))
}

// chainLink is the link of a height given the link of the height before and
// the height's decision: the decided block's hash, or for EMPTY a hash of
// the previous link (every height has a distinct link either way).
func chainLink(prev types.Hash, d *consensus.Decision) types.Hash {
	if v := d.Value(); !consensus.IsEmptyValue(v) {
		return v
	}
	return types.Hash(hash.Sum256(append([]byte(emptyBlockLabel), prev[:]...)))
}

// bodyRoot is the InputRoot a body must have.
func bodyRoot(body []byte) types.Hash {
	h := hash.New()
	h.Write([]byte(blockBodyLabel))
	h.Write(body)
	var out types.Hash
	h.Sum(out[:0])
	return out
}

// buildBlock builds the block a member proposes at (height, round) on
// parent, with a body of size random bytes from rng; invalid builds one
// whose InputRoot does not match its body.
func buildBlock(chain types.ChainID, height types.Height, round types.Round, proposer types.ValidatorIndex,
	parent types.Hash, now time.Duration, size int, rng *rand.Rand, invalid bool) consensus.Block {
	body := make([]byte, max(size, 8))
	for i := 0; i < len(body); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		copy(body[i:], w[:])
	}
	root := bodyRoot(body)
	if invalid {
		root[0] ^= 0xff
	}
	return consensus.Block{
		Header: types.Header{
			Version: types.HeaderVersion, ChainID: chain, Height: height, Round: round,
			ParentHash: parent, TimestampMillis: uint64(now / time.Millisecond), Proposer: proposer,
			InputRoot: root,
		},
		Body: body,
	}
}

// blockValid is the application's validity check of b on a chain whose
// last link is parent, for a committee of n.
func blockValid(b *consensus.Block, parent types.Hash, n int) bool {
	h := &b.Header
	return len(b.Body) > 0 && !h.Empty && h.ParentHash == parent &&
		h.Proposer == consensus.Leader(h.Height, h.Round, n) && h.InputRoot == bodyRoot(b.Body)
}
