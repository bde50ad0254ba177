package relay

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// Type tags of the packed forms, which only block bodies carry.
const (
	GroupProofTag byte = 0x2a // GroupProof
	GroupRefTag   byte = 0x2b // GroupRef
)

// MaxGroupLeaves is the largest relay tree a group proof proves into: a
// block has at most exec.MaxBlockMessages outer relays.
const MaxGroupLeaves = exec.MaxBlockMessages

// groupFixedSize is the length of a GroupProof encoding less its indices
// and siblings: tag, chain, height, leaf count, index count, sibling
// count.
const groupFixedSize = 1 + 4 + 8 + 4 + 4 + 4

// MaxGroupProofLen is the longest GroupProof encoding. A multi-proof of k
// leaves of a tree of n has at most n-k siblings (each is the root of a
// subtree holding none of the k leaves, and those subtrees are disjoint),
// so indices and siblings together take at most 32 bytes per leaf of the
// source block's relay tree.
const MaxGroupProofLen = groupFixedSize + 4*MaxGroupLeaves + hash.Size*(MaxGroupLeaves-1)

// groupRefSize is the length of a GroupRef encoding: tag, chain, height.
const groupRefSize = 1 + 4 + 8

// GroupProof is the packed proof of the relay inputs of one block that come
// from one source block (a group): one multi-proof of all their messages
// in the source block's OuterRelayRoot, by reference to the recorded
// source block like a RefProof. The first input of the group in the block
// carries it; every other input of the group carries a GroupRef to it. A
// leader packs the RefProofs of the relays it includes (Verifier.PackRelays):
// the paths of relays of one block share their upper siblings, so a group
// carries each once, about 40 bytes a relay against 352 for a path of a
// block of 2,000 relays.
type GroupProof struct {
	// Chain and Height name the block that produced the messages.
	Chain  types.ChainID
	Height types.Height
	// LeafCount is the number of outer relays of that block.
	LeafCount uint32
	// Indices are the positions of the group's messages in that block's
	// OuterRelay list, in the order of the group's inputs in the block
	// that carries the group: Indices[k] is the k-th input's. They are
	// distinct and below LeafCount.
	Indices []uint32
	// Siblings are the siblings of the multi-proof of the indices, sorted
	// (crypto/merkle.MultiProof).
	Siblings []hash.Digest
}

// GroupRef is the proof of a relay input that a GroupProof carried by an
// earlier input of the same block covers: the one of the same source
// block.
type GroupRef struct {
	Chain  types.ChainID
	Height types.Height
}

// groupKey names a source block.
type groupKey struct {
	chain  types.ChainID
	height types.Height
}

// EncodedLen returns the length of g's encoding.
func (g *GroupProof) EncodedLen() int {
	return groupFixedSize + 4*len(g.Indices) + hash.Size*len(g.Siblings)
}

// AppendBinary appends the canonical encoding of g to dst. It fails,
// leaving dst as it was, on anything the decoder would refuse.
func (g *GroupProof) AppendBinary(dst []byte) ([]byte, error) {
	if _, err := g.multiProof(); err != nil {
		return dst, fmt.Errorf("encode relay group proof: %w", err)
	}
	out := slices.Grow(dst, g.EncodedLen())
	out = append(out, GroupProofTag)
	out = binary.BigEndian.AppendUint32(out, uint32(g.Chain))
	out = binary.BigEndian.AppendUint64(out, uint64(g.Height))
	out = binary.BigEndian.AppendUint32(out, g.LeafCount)
	out = binary.BigEndian.AppendUint32(out, uint32(len(g.Indices)))
	for _, i := range g.Indices {
		out = binary.BigEndian.AppendUint32(out, i)
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(g.Siblings)))
	for i := range g.Siblings {
		out = append(out, g.Siblings[i][:]...)
	}
	return out, nil
}

// MarshalBinary returns the canonical encoding of g.
func (g *GroupProof) MarshalBinary() ([]byte, error) { return g.AppendBinary(nil) }

// DecodeGroupProof decodes a canonical group proof encoding (layout in the
// package documentation). The result shares no memory with b.
func DecodeGroupProof(b []byte) (GroupProof, error) {
	var g GroupProof
	err := g.UnmarshalBinary(b)
	return g, err
}

// UnmarshalBinary decodes a canonical group proof encoding into g. Besides
// the node/codec sentinels for the bytes (over MaxGroupProofLen, wrong tag,
// truncated, trailing) it refuses a proof whose shape cannot be right: no
// index, a leaf count of 0 or over MaxGroupLeaves, an index out of range
// or repeated, a sibling count other than the one the indices require.
// Every accepted input re-encodes to the same bytes. On failure g is left
// in an unspecified state.
func (g *GroupProof) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("relay group proof", b, MaxGroupProofLen)
	readTag(&d, GroupProofTag)
	g.Chain = types.ChainID(d.Uint32("Chain"))
	g.Height = types.Height(d.Uint64("Height"))
	g.LeafCount = d.Uint32("LeafCount")
	n := readCount(&d, "Indices", MaxGroupLeaves)
	g.Indices = nil
	if d.Err() == nil && 4*n <= d.Remaining() {
		g.Indices = make([]uint32, n)
		for k := range g.Indices {
			g.Indices[k] = d.Uint32("Indices")
		}
	} else if d.Err() == nil {
		d.Fixed("Indices", make([]byte, 4*n)) // records the truncation
	}
	s := readCount(&d, "Siblings", MaxGroupLeaves)
	g.Siblings = nil
	if d.Err() == nil && hash.Size*s <= d.Remaining() {
		g.Siblings = make([]hash.Digest, s)
		for k := range g.Siblings {
			d.Fixed("Siblings", g.Siblings[k][:])
		}
	} else if d.Err() == nil {
		d.Fixed("Siblings", make([]byte, hash.Size*s))
	}
	if err := d.Finish(); err != nil {
		return err
	}
	if _, err := g.multiProof(); err != nil {
		return fmt.Errorf("decode relay group proof: %w: %w", codec.ErrNonCanonical, err)
	}
	return nil
}

// multiProof returns the crypto/merkle form of g, its indices sorted,
// after checking its shape.
func (g *GroupProof) multiProof() (merkle.MultiProof, error) {
	if g.LeafCount == 0 || g.LeafCount > MaxGroupLeaves {
		return merkle.MultiProof{}, fmt.Errorf("leaf count %d, want 1 to %d", g.LeafCount, MaxGroupLeaves)
	}
	if len(g.Indices) == 0 {
		return merkle.MultiProof{}, fmt.Errorf("no index")
	}
	sorted := make([]uint64, len(g.Indices))
	for k, i := range g.Indices {
		sorted[k] = uint64(i)
	}
	slices.Sort(sorted)
	for k := range sorted {
		if sorted[k] >= uint64(g.LeafCount) {
			return merkle.MultiProof{}, fmt.Errorf("index %d of %d leaves", sorted[k], g.LeafCount)
		}
		if k > 0 && sorted[k] == sorted[k-1] {
			return merkle.MultiProof{}, fmt.Errorf("index %d twice", sorted[k])
		}
	}
	want, err := merkle.MultiSiblingCount(sorted, uint64(g.LeafCount))
	if err != nil {
		return merkle.MultiProof{}, err
	}
	if len(g.Siblings) != want {
		return merkle.MultiProof{}, fmt.Errorf("%d siblings, the indices need %d", len(g.Siblings), want)
	}
	return merkle.MultiProof{LeafCount: uint64(g.LeafCount), Indices: sorted, Siblings: g.Siblings}, nil
}

// verify checks that the group's messages, whose IDs are ids in the
// order of g.Indices, are the leaves at g.Indices of the tree of root.
func (g *GroupProof) verify(root types.Hash, ids []types.Hash) error {
	if len(ids) != len(g.Indices) {
		return fmt.Errorf("%d inputs for a group proof of %d", len(ids), len(g.Indices))
	}
	mp, err := g.multiProof()
	if err != nil {
		return err
	}
	order := make([]int, len(ids))
	for k := range order {
		order[k] = k
	}
	slices.SortFunc(order, func(x, y int) int { return cmp.Compare(g.Indices[x], g.Indices[y]) })
	leaves := make([]hash.Digest, len(ids))
	for k, at := range order {
		leaves[k] = exec.RelayLeaf(ids[at])
	}
	return merkle.VerifyMulti(root, leaves, mp)
}

// AppendBinary appends the encoding of r to dst.
func (r GroupRef) AppendBinary(dst []byte) []byte {
	out := append(slices.Grow(dst, groupRefSize), GroupRefTag)
	out = binary.BigEndian.AppendUint32(out, uint32(r.Chain))
	return binary.BigEndian.AppendUint64(out, uint64(r.Height))
}

// MarshalBinary returns the encoding of r.
func (r GroupRef) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil), nil }

// DecodeGroupRef decodes a group reference encoding.
func DecodeGroupRef(b []byte) (GroupRef, error) {
	var r GroupRef
	err := r.UnmarshalBinary(b)
	return r, err
}

// UnmarshalBinary decodes a group reference encoding into r, refusing a
// wrong tag, truncated input and trailing bytes.
func (r *GroupRef) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("relay group reference", b, groupRefSize)
	readTag(&d, GroupRefTag)
	r.Chain = types.ChainID(d.Uint32("Chain"))
	r.Height = types.Height(d.Uint64("Height"))
	return d.Finish()
}
