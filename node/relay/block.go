package relay

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// A block's relay inputs: stand-alone proofs checked one by one, packed
// ones (GroupProof, GroupRef) checked group by group.

// group is one GroupProof of a block and the positions of the inputs it
// covers, the carrier first.
type group struct {
	key     groupKey
	proof   GroupProof
	members []int
}

// blockRelays sorts the relay inputs of a block: the positions of those
// with a stand-alone proof, and the groups in the order of their carriers.
// Its errors concern the packing (a reference with no group proof before
// it, two group proofs of one source block, a group proof covering another
// number of inputs) and wrap ErrInvalid; at is the input's position.
func blockRelays(inputs []exec.Input) (single []int, groups []*group, at int, err error) {
	byKey := make(map[groupKey]*group)
	for i := range inputs {
		in := &inputs[i]
		if in.Message.Kind == types.MessageExternal {
			continue
		}
		switch tagOf(in.Proof) {
		case GroupProofTag:
			g, err := DecodeGroupProof(in.Proof)
			if err != nil {
				return nil, nil, i, fmt.Errorf("relay: %w: %w", ErrInvalid, err)
			}
			key := groupKey{g.Chain, g.Height}
			if byKey[key] != nil {
				return nil, nil, i, invalid("a second group proof of chain %d height %d", g.Chain, g.Height)
			}
			grp := &group{key: key, proof: g, members: make([]int, 1, len(g.Indices))}
			grp.members[0] = i
			byKey[key] = grp
			groups = append(groups, grp)
		case GroupRefTag:
			r, err := DecodeGroupRef(in.Proof)
			if err != nil {
				return nil, nil, i, fmt.Errorf("relay: %w: %w", ErrInvalid, err)
			}
			grp := byKey[groupKey{r.Chain, r.Height}]
			if grp == nil {
				return nil, nil, i, invalid("reference to a group proof of chain %d height %d that no earlier input carries", r.Chain, r.Height)
			}
			if len(grp.members) == len(grp.proof.Indices) {
				return nil, nil, i, invalid("more inputs than the group proof of chain %d height %d covers (%d)", r.Chain, r.Height, len(grp.proof.Indices))
			}
			grp.members = append(grp.members, i)
		default:
			single = append(single, i)
		}
	}
	for _, g := range groups {
		if len(g.members) != len(g.proof.Indices) {
			return nil, nil, g.members[0], invalid("the group proof of chain %d height %d covers %d inputs, the block has %d",
				g.key.chain, g.key.height, len(g.proof.Indices), len(g.members))
		}
	}
	return single, groups, 0, nil
}

func tagOf(proof []byte) byte {
	if len(proof) == 0 {
		return 0
	}
	return proof[0]
}

// checkGroup applies the rules that need no view to a group: each
// message's addressing. It returns the IDs of the messages in group order.
func checkGroup(chain types.ChainID, topo *chains.Topology, inputs []exec.Input, g *group) ([]types.Hash, int, error) {
	ids := make([]types.Hash, len(g.members))
	for k, i := range g.members {
		msg := &inputs[i].Message
		if err := checkAddressing(chain, topo, msg, g.key.chain); err != nil {
			return nil, i, err
		}
		ids[k] = msg.ID() // encodes: checkAddressing ran ValidateBasic
	}
	return ids, 0, nil
}

// verifyBlock checks the relay inputs of a block: each stand-alone proof
// with single, each group's addressing here and the rest with settle,
// which gets the group's message IDs in group order.
func verifyBlock(chain types.ChainID, topo *chains.Topology, inputs []exec.Input,
	single func(msg *types.Message, proof []byte) error, settle func(g *group, ids []types.Hash) (int, error)) (int, error) {
	alone, groups, at, err := blockRelays(inputs)
	if err != nil {
		return at, err
	}
	for _, i := range alone {
		if err := single(&inputs[i].Message, inputs[i].Proof); err != nil {
			return i, err
		}
	}
	for _, g := range groups {
		ids, at, err := checkGroup(chain, topo, inputs, g)
		if err != nil {
			return at, err
		}
		if at, err := settle(g, ids); err != nil {
			return at, fmt.Errorf("relay group of %d inputs: %w (chain %d height %d)", len(ids), err, g.key.chain, g.key.height)
		}
	}
	return 0, nil
}

// consumedIn returns the position of the first message of g that consumed
// holds.
func consumedIn(consumed Consumed, g *group, ids []types.Hash) (int, error) {
	for k, id := range ids {
		if consumed.Consumed(id) {
			return g.members[k], fmt.Errorf("relay %v: %w", id, ErrConsumed)
		}
	}
	return 0, nil
}

// VerifyRelays implements exec.RelayVerifier: the stand-alone proofs are
// checked as by VerifyRelay; a group is checked whole, its multi-proof
// against the OuterRelayRoot of the recorded source block, and each of its
// messages as a RefProof's would be (addressing, not consumed). Errors
// wrap ErrInvalid, ErrNotConfirmed or ErrConsumed.
func (v Verifier) VerifyRelays(inputs []exec.Input) (int, error) {
	if v.Topology == nil || v.Anchors == nil || v.Consumed == nil {
		return 0, errNotConfigured
	}
	return verifyBlock(v.Chain, v.Topology, inputs, v.VerifyRelay, v.settleGroup)
}

// settleGroup checks a group against the node's view: the source block is
// recorded, the multi-proof leads to its OuterRelayRoot, and no message is
// consumed.
func (v *Verifier) settleGroup(g *group, ids []types.Hash) (int, error) {
	an, ok := v.Anchors.Recorded(g.key.chain, g.key.height)
	if !ok {
		return g.members[0], ErrNotConfirmed
	}
	if an.OuterRelayRoot == (types.Hash{}) {
		return g.members[0], invalid("source block at height %d of chain %d is empty", g.key.height, g.key.chain)
	}
	if err := g.proof.verify(an.OuterRelayRoot, ids); err != nil {
		return g.members[0], fmt.Errorf("relay: %w: multi-proof to the recorded relay root: %w", ErrInvalid, err)
	}
	return consumedIn(v.Consumed, g, ids)
}

// VerifyRelays implements exec.RelayVerifier for a decided block: what
// needs no view, as Trusted.VerifyRelay does; a group's multi-proof is
// accepted without its root, as a RefProof's path is.
func (t Trusted) VerifyRelays(inputs []exec.Input) (int, error) {
	if t.Topology == nil {
		return 0, errNotConfigured
	}
	return verifyBlock(t.Chain, t.Topology, inputs, t.VerifyRelay, func(g *group, ids []types.Hash) (int, error) {
		if t.Consumed == nil {
			return 0, nil
		}
		return consumedIn(t.Consumed, g, ids)
	})
}

var _ exec.RelayPacker = Verifier{}

// packed is a relay input with a proof by reference, waiting to be packed.
type packed struct {
	at   int
	path merkle.Proof
}

// PackRelays implements exec.RelayPacker: the relay inputs with a RefProof
// are grouped by source block, and each source block with two or more
// inputs gets one GroupProof, carried by its first input, the others a
// GroupRef. The multi-proof is merged from the paths (no hashing) and then
// checked against the recorded root, so a group that would not verify is
// left as it was. Full-form proofs stay as they are.
func (v Verifier) PackRelays(inputs []exec.Input) ([]exec.Input, bool) {
	return pack(inputs, func(g *GroupProof, ids []types.Hash) bool {
		an, ok := v.Anchors.Recorded(g.Chain, g.Height)
		return ok && g.verify(an.OuterRelayRoot, ids) == nil
	}), true
}

// pack groups the inputs with a RefProof by source block and gives each
// group of two or more one GroupProof, if accept takes it (ids are the
// group's message IDs in input order); other inputs are kept as they are.
func pack(inputs []exec.Input, accept func(g *GroupProof, ids []types.Hash) bool) []exec.Input {
	var order []groupKey
	byKey := make(map[groupKey][]packed)
	for i := range inputs {
		in := &inputs[i]
		if in.Message.Kind == types.MessageExternal || tagOf(in.Proof) != RefProofTag {
			continue
		}
		r, err := DecodeRefProof(in.Proof)
		if err != nil {
			continue
		}
		key := groupKey{r.Chain, r.Height}
		if _, seen := byKey[key]; !seen {
			order = append(order, key)
		}
		byKey[key] = append(byKey[key], packed{at: i, path: r.Path})
	}
	out, copied := inputs, false
	for _, key := range order {
		ms := byKey[key]
		if len(ms) < 2 {
			continue
		}
		g, ids, ok := groupOf(inputs, key, ms)
		if !ok || !accept(&g, ids) {
			continue
		}
		head, err := g.MarshalBinary()
		if err != nil {
			continue
		}
		if !copied {
			out, copied = slices.Clone(inputs), true
		}
		ref := GroupRef{Chain: key.chain, Height: key.height}.AppendBinary(nil)
		out[ms[0].at].Proof = head
		for _, m := range ms[1:] {
			out[m.at].Proof = ref
		}
	}
	return out
}

// groupOf merges the paths of the inputs of one source block, given in
// input order, into a GroupProof, and returns it with the messages' IDs.
// ok=false: the paths do not merge (different trees, a position twice).
func groupOf(inputs []exec.Input, key groupKey, ms []packed) (GroupProof, []types.Hash, bool) {
	g := GroupProof{Chain: key.chain, Height: key.height, Indices: make([]uint32, len(ms))}
	paths := make([]merkle.Proof, len(ms))
	ids := make([]types.Hash, len(ms))
	for k, m := range ms {
		p := m.path
		if p.LeafCount == 0 || p.LeafCount > MaxGroupLeaves || (k > 0 && uint64(g.LeafCount) != p.LeafCount) {
			return GroupProof{}, nil, false
		}
		g.LeafCount = uint32(p.LeafCount)
		g.Indices[k] = uint32(p.Index)
		paths[k] = p
		ids[k] = inputs[m.at].Message.ID()
	}
	slices.SortFunc(paths, func(x, y merkle.Proof) int { return cmp.Compare(x.Index, y.Index) })
	mp, err := merkle.MultiFromPaths(paths)
	if err != nil {
		return GroupProof{}, nil, false
	}
	g.Siblings = mp.Siblings
	return g, ids, true
}

// Unpack returns inputs with every packed proof turned back into a
// RefProof of its own, the paths taken from the multi-proofs checked
// against the recorded roots of anchors: the relays of a block made
// candidates again. Stand-alone proofs are kept.
func Unpack(inputs []exec.Input, anchors Anchors) ([]exec.Input, error) {
	return unpack(inputs, func(key groupKey, root types.Hash) error {
		an, ok := anchors.Recorded(key.chain, key.height)
		if !ok {
			return ErrNotConfirmed
		}
		if an.OuterRelayRoot != root {
			return invalid("the multi-proof leads to %v, the recorded relay root is %v", root, an.OuterRelayRoot)
		}
		return nil
	})
}

// unpack turns each group of inputs into RefProofs after check accepted
// the root its multi-proof leads to.
func unpack(inputs []exec.Input, check func(key groupKey, root types.Hash) error) ([]exec.Input, error) {
	_, groups, at, err := blockRelays(inputs)
	if err != nil {
		return nil, fmt.Errorf("unpack relays: input %d: %w", at, err)
	}
	out := slices.Clone(inputs)
	for _, g := range groups {
		mp, err := g.proof.multiProof()
		if err != nil {
			return nil, fmt.Errorf("unpack relays: %w: %w", ErrInvalid, err)
		}
		// mp's leaves are in index order; the members are in input order.
		byIndex := make(map[uint32]int, len(g.members))
		for k, i := range g.members {
			byIndex[g.proof.Indices[k]] = i
		}
		leaves := make([]hash.Digest, len(mp.Indices))
		for k, idx := range mp.Indices {
			leaves[k] = exec.RelayLeaf(inputs[byIndex[uint32(idx)]].Message.ID())
		}
		root, paths, err := mp.RootAndPaths(leaves)
		if err != nil {
			return nil, fmt.Errorf("unpack relays: %w: chain %d height %d: %w", ErrInvalid, g.key.chain, g.key.height, err)
		}
		if err := check(g.key, root); err != nil {
			return nil, fmt.Errorf("unpack relays: chain %d height %d: %w", g.key.chain, g.key.height, err)
		}
		for k, idx := range mp.Indices {
			ref := RefProof{Chain: g.key.chain, Height: g.key.height, Path: paths[k]}
			enc, err := ref.MarshalBinary()
			if err != nil {
				return nil, fmt.Errorf("unpack relays: %w", err)
			}
			out[byIndex[uint32(idx)]].Proof = enc
		}
	}
	return out, nil
}
