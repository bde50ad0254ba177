// Package chains is the topology of a network's chains (paper 3.2, Fig. 3
// and 4): the root chain, the transaction chains that hold the accounts,
// and the coordinator chains of deeper sharding, with the address prefix
// each owns and the chain that records each one's digests.
//
// # Model
//
// Chain 0 (types.RootChain) is the root chain. It holds no accounts and
// records the digests of its children's confirmed blocks. A transaction
// chain holds every account whose address starts with its prefix (the
// first PrefixBits bits, brief principle 6). A coordinator chain owns a
// prefix too but holds no accounts: it records the digests of its
// sub-chains, whose longer prefixes split its own, and its own digests are
// recorded by its parent. Root and coordinators run the same recorder core
// (node/rootchain). A chain's Parent is its recorder; the root is its own.
//
// # Invariants (New checks them; a Topology is immutable)
//
//   - Exactly one root, ID 0, prefix of 0 bits; every other chain has a
//     non-zero ID, a Parent that is the root or a coordinator, and a prefix
//     that extends its parent's (or equals it, for an only child: one
//     transaction chain under the root owns every address).
//   - The children of the root, and of each coordinator, partition their
//     parent's prefix: no two overlap and together they cover it. So the
//     transaction chains partition the address space, and every address
//     has exactly one owner (OwnerOf).
//   - Every coordinator has at least one child.
//
// # Who calls it
//
// node/genesis builds the network's topology from its file, node/rootchain
// asks it which chains a recorder records, node/relay which chain a relay
// is addressed to and which recorder a proof must climb to, node/driver
// and node/sim route accounts and messages with it.
package chains
