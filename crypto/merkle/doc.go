// Package merkle is the binary Merkle tree of the node: the relay-message
// root inside each block digest, and the inclusion proofs that outer relay
// messages carry from one chain to another (paper 4.3). Block producers call
// [Root], [ParallelRoot] and [NewTree]; a receiving chain decodes a proof
// with [UnmarshalProof] and checks it with [Verify] against the root it read
// from the root chain.
//
// # Tree shape
//
// Leaves are hashed with a domain byte, then paired left to right, level by
// level. An odd node at the end of a level is promoted unchanged to the next
// level. Five leaves (I is an inner hash, L4 the leaf hash of the fifth):
//
//	level 3:              root = I(C, L4)
//	                     /               \
//	level 2:       C = I(A, B)            L4   promoted
//	              /           \           |
//	level 1:  A = I(L0,L1)  B = I(L2,L3)  L4   promoted
//	            /    \        /    \      |
//	level 0:  L0      L1    L2      L3    L4
//
// This is the shape of RFC 6962's Merkle tree hash (the left subtree is the
// largest power of two below n); the tests check the two definitions agree.
//
// # Domain separation
//
//	leaf  = SHA-256(0x00 || data)
//	inner = SHA-256(0x01 || left || right)
//	empty = SHA-256(0x02)              root of a tree with no leaves
//
// Without the prefixes, an inner node's 64-byte preimage is also a valid
// leaf, so a proof for an inner node could be presented as a proof for a
// forged 64-byte leaf (second-preimage attack on the tree).
//
// # Why the odd node is promoted, not duplicated
//
// Bitcoin pairs an odd last node with a copy of itself. Then the leaf lists
// [a b c] and [a b c c] have the same root (CVE-2012-2459): an attacker can
// append a duplicate of the tail to a valid list, get a "different" list with
// the root of the original, and have a receiver reject or cache it as
// invalid. Promotion gives each leaf count its own shape, and the leaf count
// is part of every proof, so no two distinct leaf lists share a root short of
// a SHA-256 collision.
//
// # The empty tree
//
// The root of zero leaves is SHA-256(0x02), a third domain, not the all-zero
// digest: crypto/hash uses the zero digest as "no digest", so an unset root
// field must not be mistaken for the commitment to an empty relay list; and
// no leaf or inner preimage starts with 0x02, so the empty root is not the
// hash of anything else. A single leaf's root is its leaf hash.
//
// # Proofs
//
// A [Proof] lists the siblings from the leaf up; a level at which the path
// node is promoted has no sibling. The number of siblings is a function of
// (Index, LeafCount) alone ([SiblingCount]); [Verify] and [UnmarshalProof]
// reject any other count, so a proof cannot be stretched or cut to fit a tree
// of another shape. Canonical encoding, all integers big-endian:
//
//	0               8              16    17                  17+32k
//	+---------------+---------------+-----+--------- ... --------+
//	| index (u64)   | leafCount(u64)|  k  | k sibling digests    |
//	+---------------+---------------+-----+--------- ... --------+
//
//	leafCount >= 1, index < leafCount, k = SiblingCount(index, leafCount) <= 64,
//	no trailing bytes.
//
// The root commits to the leaves, not to their count (the last leaf of five
// has the same path as leaf 1 of two). A verifier that gives meaning to a
// proof's Index must check its LeafCount against the count committed beside
// the root; [Verify] documents this contract.
//
// # Multi-proofs
//
// A [MultiProof] proves several leaves of one tree and carries each sibling
// they need once: 700 random leaves of 2,048 need about 800 siblings instead
// of 700*11 in single proofs, and verify in a fifth of the time. Its
// siblings are in one canonical order, level by level from the leaves up and
// left to right within a level: a known node that is promoted goes up
// unchanged, an even known node whose right neighbour is known pairs with
// it, and any other known node takes the next sibling as its missing
// neighbour. Leaves 0 and 3 of the five-leaf tree above need [L1 L2 L4]: A
// and B are then both known and pair into C, which takes L4.
//
// As for a single proof, the sibling count is a function of the shape
// ([MultiSiblingCount]), [VerifyMulti] rejects any other count before
// hashing, and the root does not commit to LeafCount. Everything costs
// O(len(Indices) * depth), whatever the leaf count. [MultiFromPaths] merges
// single proofs into a multi-proof and [MultiProof.Paths] splits a verified
// one back into the proofs [Tree.Prove] gives.
//
// # Invariants
//
//   - [ParallelRoot] equals [RootFromLeafHashes] for every input and worker
//     count; [Tree] roots and proofs equal [RootFromLeafHashes] and [Prove].
//   - A decoded proof re-encodes to the same bytes.
//   - [Tree.ProveMulti] equals [MultiFromPaths] of the leaves' single
//     proofs, and [MultiProof.Paths] gives back those single proofs.
//   - Nothing here panics on any input; bad proofs return errors wrapping
//     the exported sentinels.
//
// All hashing goes through crypto/hash, so the tree uses whichever SHA-256
// backend package accel installed. The tree is written here rather than taken
// from a library because it is small, and the node needs its own wire format
// with the exact sibling-count rule, the parallel root, and the hashing
// backend of crypto/hash.
package merkle
