package exec

import (
	"bytes"
	"fmt"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// Roots are the five commitments of a block body and its result that the
// header carries (types.Header).
type Roots struct {
	// Input is the root over the inputs in body order; the leaf of an
	// input is LeafHash(ID || SHA-256(Proof)), with 32 zero bytes for an
	// input without proof, so the header also binds the proofs.
	Input types.Hash
	// InterRelay and OuterRelay are the roots over the relay lists in body
	// (increasing ID) order; a leaf is LeafHash(ID). Relay proofs are
	// proofs in the OuterRelay tree (paper 4.3).
	InterRelay types.Hash
	OuterRelay types.Hash
	// Record is the root over the records in address order; a leaf is the
	// LeafHash of the record's encoding.
	Record types.Hash
	// State is the root over every account of the chain after the block,
	// in address order; a leaf is actor.Account.LeafHash.
	State types.Hash
}

// RootsOf returns the roots a header carries.
func RootsOf(h *types.Header) Roots {
	return Roots{Input: h.InputRoot, InterRelay: h.InterRelayRoot, OuterRelay: h.OuterRelayRoot, Record: h.RecordRoot, State: h.StateRoot}
}

// SetHeader writes r into the root fields of h.
func (r Roots) SetHeader(h *types.Header) {
	h.InputRoot, h.InterRelayRoot, h.OuterRelayRoot, h.RecordRoot, h.StateRoot = r.Input, r.InterRelay, r.OuterRelay, r.Record, r.State
}

// compare returns an ErrRootMismatch naming the first root of r that
// differs from want's.
func (r Roots) compare(want Roots) error {
	for _, c := range []struct {
		name      string
		got, want types.Hash
	}{
		{"input", r.Input, want.Input},
		{"inter-relay", r.InterRelay, want.InterRelay},
		{"outer-relay", r.OuterRelay, want.OuterRelay},
		{"record", r.Record, want.Record},
		{"state", r.State, want.State},
	} {
		if c.got != c.want {
			return blockErr(ErrRootMismatch, types.Address{}, types.Hash{}, nil, "%s root: header %v, body gives %v", c.name, c.want, c.got)
		}
	}
	return nil
}

// RelayLeaf returns the leaf hash of a relay message ID.
func RelayLeaf(id types.Hash) types.Hash { return merkle.LeafHash(id[:]) }

// inputLeaf returns the leaf hash of an input.
func inputLeaf(id types.Hash, proof []byte) types.Hash {
	var data [2 * hash.Size]byte
	copy(data[:], id[:])
	if len(proof) > 0 {
		d := hash.Sum256(proof)
		copy(data[hash.Size:], d[:])
	}
	return merkle.LeafHash(data[:])
}

// ProveRelay returns the proof of the outer-relay message id of body in its
// OuterRelay root: what the receiving chain checks with VerifyRelayProof.
func ProveRelay(body *Body, id types.Hash) (merkle.Proof, error) {
	leaves := make([]types.Hash, len(body.OuterRelay))
	at := -1
	for i := range body.OuterRelay {
		mid := body.OuterRelay[i].ID()
		if mid == id {
			at = i
		}
		leaves[i] = RelayLeaf(mid)
	}
	if at < 0 {
		return merkle.Proof{}, fmt.Errorf("prove relay %v: not an outer-relay message of the body", id)
	}
	return merkle.Prove(leaves, uint64(at))
}

// VerifyRelayProof checks that msg is an outer-relay message committed by
// the OuterRelay root root. The leaf is the message's content ID, so the
// proof's index says nothing and is not checked: relabelling it to another
// tree shape with the same sibling path (crypto/merkle roots do not commit
// to the leaf count) still proves the same message, and no other.
func VerifyRelayProof(root types.Hash, msg *types.Message, proof merkle.Proof) error {
	if msg.Kind != types.MessageOuterRelay {
		return fmt.Errorf("verify relay proof: %v message", msg.Kind)
	}
	if err := msg.ValidateBasic(); err != nil {
		return fmt.Errorf("verify relay proof: %w", err)
	}
	if err := merkle.Verify(root, RelayLeaf(msg.ID()), proof); err != nil {
		return fmt.Errorf("verify relay proof: %w", err)
	}
	return nil
}

// chunkRanges splits [0, n) into at most parts contiguous ranges of at
// least minSize (but the only one), returned as start offsets with n last.
func chunkRanges(n, parts, minSize int) []int {
	if parts < 1 {
		parts = 1
	}
	if minSize < 1 {
		minSize = 1
	}
	parts = max(1, min(parts, n/minSize))
	bounds := make([]int, parts+1)
	for i := range bounds {
		bounds[i] = n * i / parts
	}
	return bounds
}

// forChunks calls fn over contiguous ranges of [0, n) through the runner,
// about four per worker, each of at least minSize.
func forChunks(runner Runner, n, minSize int, fn func(lo, hi int)) {
	if n == 0 {
		return
	}
	parts := 1
	if w := runner.Workers(); w > 1 {
		parts = 4 * w
	}
	b := chunkRanges(n, parts, minSize)
	runner.Run(len(b)-1, func(i int) { fn(b[i], b[i+1]) })
}

// minRootChunk is the fewest leaves worth a task of their own when roots
// are split over workers.
const minRootChunk = 256

// treeRoots returns merkle.RootFromLeafHashes of each tree, computed in
// one pass of tasks through the runner: small trees whole, large ones in
// aligned power-of-two chunks. In the tree of crypto/merkle (odd node
// promoted) the node covering leaves [k*2^j, (k+1)*2^j) is the root of
// those leaves alone, so the chunk roots are one level of the tree and
// reduce to its root.
func treeRoots(runner Runner, trees ...[]types.Hash) []types.Hash {
	total := 0
	for _, t := range trees {
		total += len(t)
	}
	chunk := max(total, 1)
	if w := runner.Workers(); w > 1 {
		chunk = minRootChunk
		for chunk*4*w < total {
			chunk *= 2
		}
	}
	type task struct{ tree, lo, hi int }
	var tasks []task
	first := make([]int, len(trees)+1)
	for i, t := range trees {
		first[i] = len(tasks)
		if len(t) <= chunk {
			tasks = append(tasks, task{i, 0, len(t)})
			continue
		}
		for lo := 0; lo < len(t); lo += chunk {
			tasks = append(tasks, task{i, lo, min(lo+chunk, len(t))})
		}
	}
	first[len(trees)] = len(tasks)
	roots := make([]types.Hash, len(tasks))
	runner.Run(len(tasks), func(k int) {
		t := tasks[k]
		roots[k] = merkle.RootFromLeafHashes(trees[t.tree][t.lo:t.hi])
	})
	out := make([]types.Hash, len(trees))
	for i := range trees {
		if parts := roots[first[i]:first[i+1]]; len(parts) == 1 {
			out[i] = parts[0]
		} else {
			out[i] = merkle.RootFromLeafHashes(parts)
		}
	}
	return out
}

// messageIDs returns the IDs of n messages, hashed through the runner,
// each chunk encoding into one scratch buffer.
func messageIDs(runner Runner, n int, msg func(i int) *types.Message) []types.Hash {
	ids := make([]types.Hash, n)
	forChunks(runner, n, 64, func(lo, hi int) {
		var buf []byte
		for i := lo; i < hi; i++ {
			m := msg(i)
			enc, err := m.AppendBinary(buf[:0])
			if err != nil {
				ids[i] = m.ID() // a message that does not encode; rejected later
				continue
			}
			buf = enc
			ids[i] = hash.Sum256(enc)
		}
	})
	return ids
}

// bodyIDs are the IDs of every message of a body, by list.
type bodyIDs struct {
	inputs, inter, outer []types.Hash
}

func idsOf(runner Runner, body *Body) bodyIDs {
	total := len(body.Inputs) + len(body.InterRelay) + len(body.OuterRelay)
	all := messageIDs(runner, total, func(i int) *types.Message {
		switch {
		case i < len(body.Inputs):
			return &body.Inputs[i].Message
		case i < len(body.Inputs)+len(body.InterRelay):
			return &body.InterRelay[i-len(body.Inputs)]
		}
		return &body.OuterRelay[i-len(body.Inputs)-len(body.InterRelay)]
	})
	a, b := len(body.Inputs), len(body.Inputs)+len(body.InterRelay)
	return bodyIDs{inputs: all[:a:a], inter: all[a:b:b], outer: all[b:]}
}

// computeRoots returns the roots of a body whose message IDs are ids, with
// writeSet (the changed accounts, in address order) applied to the view's
// state. All leaves are hashed in one pass through the runner, and all
// trees reduced in another.
func computeRoots(runner Runner, view StateView, body *Body, ids bodyIDs, writeSet []actor.Account) Roots {
	inputLeaves := make([]types.Hash, len(ids.inputs))
	interLeaves := make([]types.Hash, len(ids.inter))
	outerLeaves := make([]types.Hash, len(ids.outer))
	recordLeaves := make([]types.Hash, len(body.Records))
	changed := make([]AccountLeaf, len(writeSet))
	a := len(inputLeaves)
	b := a + len(interLeaves)
	c := b + len(outerLeaves)
	d := c + len(recordLeaves)
	forChunks(runner, d+len(changed), 64, func(lo, hi int) {
		var buf []byte
		for i := lo; i < hi; i++ {
			switch {
			case i < a:
				inputLeaves[i] = inputLeaf(ids.inputs[i], body.Inputs[i].Proof)
			case i < b:
				interLeaves[i-a] = RelayLeaf(ids.inter[i-a])
			case i < c:
				outerLeaves[i-b] = RelayLeaf(ids.outer[i-b])
			case i < d:
				buf = body.Records[i-c].appendTo(buf[:0])
				recordLeaves[i-c] = merkle.LeafHash(buf)
			default:
				acct := &writeSet[i-d]
				leaf := AccountLeaf{Address: acct.Address}
				if enc, err := acct.AppendBinary(buf[:0]); err == nil {
					buf, leaf.Hash = enc, merkle.LeafHash(enc)
				} else {
					leaf.Hash = acct.LeafHash() // code over the limit: never from Process
				}
				changed[i-d] = leaf
			}
		}
	})
	r := treeRoots(runner, inputLeaves, interLeaves, outerLeaves, recordLeaves, mergeLeafHashes(view.StateLeaves(), changed))
	return Roots{Input: r[0], InterRelay: r[1], OuterRelay: r[2], Record: r[3], State: r[4]}
}

// sortedByID reports whether ids strictly increase.
func sortedByID(ids []types.Hash) int {
	for i := 1; i < len(ids); i++ {
		if bytes.Compare(ids[i-1][:], ids[i][:]) >= 0 {
			return i
		}
	}
	return -1
}

func compareHashes(a, b types.Hash) int { return bytes.Compare(a[:], b[:]) }
