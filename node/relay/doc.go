// Package relay carries outer-relay messages from the block of one
// transaction chain that produced them to the chain that holds their
// recipient, and proves them there with Merkle paths (paper 4.3, 5.3, 5.4).
// It is pure: no clock, no goroutines, no I/O; time comes in as values.
//
// # The pieces
//
//   - Outbox (source side) turns a block's outer relays into Packages, one
//     per message in body order, each addressed to the chain of its
//     recipient (chains.Topology.OwnerOf) with a proof by reference
//     (RefProof: the block's chain and height and the path of the message
//     in the header's OuterRelayRoot). It hashes the relay tree once for
//     all of them. LiftPackage turns a package into the full form (Proof:
//     the source header, the path, and hops up the recorder tree) for a
//     destination that does not follow the source chain's recorder;
//     AddLift adds a hop to a Proof.
//   - Verifier (destination side) is the exec.RelayVerifier a chain's
//     blocks are built and verified with; Trusted is the one a decided
//     block is executed with at commit, which needs no recorder view.
//     Verifier is also the exec.RelayPacker: a leader's block carries the
//     relays of one source block under one GroupProof (a multi-proof),
//     see "Packed proofs". Unpack turns a block's packed proofs back into
//     stand-alone ones.
//   - Inbox (destination side) holds arriving packages, deduplicated by
//     message ID, and gives the leader's Execute those that verify now, in
//     (source chain, source height, message ID) order. It keeps up to
//     MaxAlternatives distinct proofs per message, so that a proof of a
//     header that will never be confirmed, which anyone who saw the relay
//     can forge, does not block the relay.
//   - Pending (source side) remembers sent packages until they are
//     acknowledged and says when to send each again, with exponential
//     backoff.
//   - Batch and Ack are what nodes of different chains exchange: packages
//     from one source chain to one destination chain, and the IDs of the
//     relays a destination consumed.
//
// # Who calls it
//
// node/driver and node/sim, the two shells that run chains. After a block
// of a transaction chain commits, they keep its Outbox; once the block is
// confirmed on the sender's own recorder view they lift the packages that
// need it (LiftPackage), put them in Pending and send them in packed
// Batches (SplitBatches; member i of the source committee to member i mod
// n of the destination's). A destination member adds the packages of a
// Batch (Batch.Unpacked) to its Inbox (acknowledging at once those
// already consumed), its leader
// takes Inbox.Ready as relay inputs of the next block, every proposed
// block is built and verified with a Verifier over the node's recorder
// view (Anchors) and the chain's consumed set as of the block's parent
// (Consumed), a decided block is executed at commit with Trusted, and
// after a commit the shell calls Inbox.Forget and acknowledges the
// consumed IDs with an Ack, on which the sender calls Pending.Ack.
//
// # Two forms of proof
//
// Every destination node already holds the header of a source block its
// recorder view recorded: the recorder chain's block carries it whole in
// its Record, and the node's anchor index maps (chain, height) to the
// recorded header's hash and OuterRelayRoot (Anchors.Recorded). So a
// relay whose destination follows the recorder of the source chain
// travels by reference (RefProof, tag 0x29): the source chain and height
// and the path, 386 bytes for a block of 2,000 relays instead of the 607
// of the full form. Every node follows the recorder of its top-level
// chain (the root) and, in a sub-chain, its coordinator: so a relay from
// a top-level chain to any chain, and one between sibling sub-chains,
// travels by reference. Only a sub-chain's relay to a chain outside its
// coordinator travels in the full form (Proof, tag 0x22), the source
// header with lifts up to a recorder block its destination's view
// records. The full form with no lift stays valid; the shells do not
// send it.
//
// # Verification
//
// A package of message msg with a full Proof p verifies at chain D when
//
//  1. msg is an outer relay (and passes ValidateBasic) whose SourceChain is
//     p.Source.ChainID, a transaction chain other than D, and msg.To is an
//     account of D;
//  2. p.Source is not an EMPTY header, and p.Path leads from
//     exec.RelayLeaf(msg.ID()) to p.Source.OuterRelayRoot
//     (exec.VerifyRelayProof);
//  3. each Lift's Recorder is a non-EMPTY block of the recorder (the
//     topology Parent) of the chain of the header before it, and its Path
//     leads from merkle.LeafHash of that header's hash to
//     Recorder.InputRoot, the record root (rootchain.VerifyRecordProof);
//  4. Anchors knows the last header of (Source, Lifts...) as confirmed,
//     under that header's own chain, height and hash;
//  5. Consumed does not hold msg.ID().
//
// A package with a RefProof r verifies at chain D when
//
//  1. as above, with r.Chain for the proof's source chain;
//  2. Anchors.Recorded knows the header of r.Chain at r.Height (else
//     ErrNotConfirmed), its OuterRelayRoot is not zero (the root of an
//     EMPTY header, which holds no relay) and r.Path leads from
//     exec.RelayLeaf(msg.ID()) to it;
//  3. Consumed does not hold msg.ID().
//
// A failure of the stateless rules (1 to 3 of the full form, 1 of the
// reference) or of a reference's path against the recorded root wraps
// ErrInvalid: the package will never verify, since a recorded header does
// not change. A header not known to the anchors is ErrNotConfirmed, which
// is not a verdict on the relay: the node's view of the recorder chains
// may be behind, so shells retry later (the Inbox keeps such packages)
// instead of rejecting. A consumed message is ErrConsumed. exec wraps the
// error in its BlockError, through which errors.Is still finds these
// sentinels.
//
// The stateless rules hash the message and the full proof's paths and
// headers; the Inbox runs them once per package and topology, and a
// reference's path once per recorded root, and afterwards only the
// lookups, which allocate nothing.
//
// Trusted, the verifier of a decided block, applies the stateless rules
// and, when given a Consumed, rule 5 (3 of the reference); it looks up no
// header, so a node whose recorder view is behind (block sync, a restart)
// executes a block a quorum of its committee certified. Those members
// verified its relays against their own views before voting.
//
// # Packed proofs
//
// The Inbox holds packages with stand-alone proofs and hands them to the
// leader's Execute as they are. In the block the leader builds, the
// relays of one source block (a group) share one proof instead: their
// paths end in the same tree, so their upper siblings are the same
// nodes, and a path of 11 siblings per relay repeats most of them. After
// Execute chose the inputs, PackRelays merges the RefProofs of each
// source block with two or more relays in the block into a GroupProof:
// the source chain and height, the position of each relay of the group
// in the source block's OuterRelay list (in the block order of the
// group's inputs), and the siblings of the crypto/merkle multi-proof of
// those positions. The first input of the group carries it, each other
// input a 13-byte GroupRef naming the same source block. For 700 relays
// of a block of 2,000 this is about 55 bytes of proof per relay against
// 390; exec's input root commits to the packed proofs, so the block's
// digest binds them as it binds stand-alone ones. PackRelays checks each
// group it builds against the recorded root and leaves a group that does
// not verify in the stand-alone form; full-form proofs (a sub-chain's
// relay with lifts) are never packed.
//
// A block's relay inputs verify together (VerifyRelays) when
//
//  1. every stand-alone proof verifies as a package's would;
//  2. each GroupProof names a source block no other GroupProof of the
//     block names, each GroupRef follows the GroupProof of its source
//     block, and that proof lists exactly as many positions as the block
//     has inputs in its group;
//  3. every message of a group passes rule 1 of a reference with the
//     group's source chain;
//  4. Anchors.Recorded knows the group's source block (else
//     ErrNotConfirmed) with a non-zero OuterRelayRoot, and the
//     multi-proof leads from exec.RelayLeaf of each message, at the
//     position listed for its input, to that root;
//  5. Consumed holds no message of a group.
//
// A proof in a packed form never verifies standing alone (VerifyRelay,
// Inbox): it covers a group of a block's inputs, not one relay. Trusted
// applies rules 1 to 3 and, given a Consumed, 5.
//
// Batches are packed the same way: SplitBatches packs the packages of
// each batch (PackPackages), so a source member's uplink carries each
// shared sibling once, and the receiver turns a batch back into
// stand-alone packages with Batch.Unpacked before the Inbox sees them.
// Unpacked computes the paths from the root the multi-proof leads to
// without knowing whether it is the recorded one: the Verifier finds out
// when it checks the reference proofs, as for packages that came
// stand-alone. A batch whose packing is malformed gives its stand-alone
// packages only.
//
// # Why proofs and not signatures (paper 4.3)
//
// A relay could be accepted on the signatures of the source committee.
// It is not, because a committee may not be fully reliable: a relay takes
// effect only once its block is confirmed, that is recorded by the
// recorder chains every node follows. So the destination checks the
// message against the block's own commitment (the OuterRelayRoot of its
// header) and the header against a recorder block it already committed
// itself; no signature of the source committee is involved, and the proof
// works for every node that follows the recorder, whatever committee
// produced the block.
//
// # The faster parent-digest path
//
// Every node follows the recorders of its own chain up to the root. Between
// sibling sub-chains of one coordinator the destination follows that
// coordinator, so a proof by reference verifies as soon as the coordinator
// records the source block: Anchors.Recorded(source chain, height) answers
// from the coordinator's committed blocks, without waiting for the root
// (paper 4.3: "just wait until the digest is recorded on its transaction
// chain"). A top-level source chain is recorded by the root directly, also
// by reference. Across branches of the tree the destination does not
// follow the source's coordinator, so the proof is in the full form and
// carries lifts up the source's branch until a header the destination's
// anchors know: for a sub-chain of a top-level coordinator, one lift to the
// coordinator block, which the root records (the contract's "one lift to
// the root"). A lift further, to the root block itself, verifies as well.
// MaxLifts bounds the depth.
//
// # Exactly once
//
// Delivery is at least once: Pending re-sends until acknowledged, several
// source members send the same relay, and an Inbox may hold several
// proofs of it. Execution is at most once:
//
//   - exec rejects a block that holds a message twice (ErrDuplicateMessage),
//     so no block consumes a relay twice;
//   - the destination chain's committed state holds the set of consumed
//     relay IDs, written atomically with the block that consumed them (in
//     the driver's synced batch, in the simulator's persisted commit), so
//     after any crash the set and the chain agree;
//   - every block is built and verified with Consumed being the set as of
//     its parent, so a relay consumed by any ancestor is refused
//     (ErrConsumed). Two conflicting blocks at one height cannot both
//     commit, so the consumed set of the committed chain grows without
//     repeats.
//
// Together with the Outbox producing each relay of a committed block, a
// relay whose block is confirmed is consumed exactly once, as soon as a
// package reaches an honest leader of the destination.
//
// # Encodings
//
// Canonical over node/codec, integers big-endian; headers are the 232-byte
// node/types encoding, paths the crypto/merkle proof encoding (index u64,
// leaf count u64, sibling count u8, the siblings; 17 to 2065 bytes).
// A proof is one of four forms, told apart by its first byte; one strict
// decoder per form (DecodeRefProof, DecodeProof, DecodeGroupProof,
// DecodeGroupRef), each refusing the others' tags.
// Offsets in bytes:
//
//	RefProof (tag 0x29), 17+p bytes, at most 2082 (MaxRefProofLen):
//
//	  off  width  field
//	    0      1  Tag = 0x29
//	    1      4  Chain: the source chain
//	    5      8  Height: the source block's height
//	   13      4  p = length of Path
//	   17      p  Path of RelayLeaf(msg ID) in the OuterRelayRoot of the
//	              header recorded at (Chain, Height)
//
//	Proof (tag 0x22), the full form, at most 8192 bytes (MaxProofLen):
//
//	  off    width  field
//	    0        1  Tag = 0x22
//	    1      232  Source (types.Header, tag 0x01)
//	  233        4  p = length of Path
//	  237        p  Path of RelayLeaf(msg ID) in Source.OuterRelayRoot
//	  237+p      1  l = number of lifts (at most 8, MaxLifts)
//	  238+p         l lifts, each:
//	                  232  Recorder (types.Header)
//	                    4  q = length of Path
//	                    q  Path of LeafHash(previous header hash) in
//	                       Recorder.InputRoot
//
//	GroupProof (tag 0x2a), only in block bodies, 25+4k+32s bytes, at
//	most 2,359,289 (MaxGroupProofLen):
//
//	  off     width  field
//	    0         1  Tag = 0x2a
//	    1         4  Chain: the source chain
//	    5         8  Height: the source block's height
//	   13         4  LeafCount: outer relays of the source block (1 to
//	                 65536, MaxGroupLeaves)
//	   17         4  k = number of positions (1 to LeafCount)
//	   21       4*k  positions in the source block's OuterRelay list,
//	                 distinct, below LeafCount, in the block order of the
//	                 group's inputs
//	   21+4k      4  s = number of siblings, exactly
//	                 merkle.MultiSiblingCount(sorted positions, LeafCount)
//	   25+4k   32*s  siblings of the multi-proof, in crypto/merkle's
//	                 canonical order
//
//	GroupRef (tag 0x2b), only in block bodies, 13 bytes:
//
//	  off  width  field
//	    0      1  Tag = 0x2b
//	    1      4  Chain
//	    5      8  Height: the source block whose GroupProof covers the input
//
//	Batch (tag 0x23), at most 1 MiB (MaxBatchSize), its packages packed
//	as a block body's relay inputs are (a GroupProof on the first package
//	of each source block with two or more, a GroupRef on the others):
//
//	  off  width  field
//	    0      1  Tag = 0x23
//	    1      4  Source chain
//	    5      4  Dest chain
//	    9      4  n = number of packages (at most 1024, MaxBatchPackages)
//	   13         n packages, each:
//	                4  m = length of the message (at most types.MessageMaxSize)
//	                m  Message (types.Message, tag 0x02)
//	                4  p = length of the proof (bounded by the batch)
//	                p  proof (any form, undecoded)
//
//	Ack (tag 0x24), at most 9+8192*32 bytes (MaxAckSize):
//
//	  off  width  field
//	    0      1  Tag = 0x24
//	    1      4  Chain (the destination that consumed the relays)
//	    5      4  n = number of IDs (at most 8192, MaxAckIDs)
//	    9   32*n  relay message IDs
//
// For a message of 201 bytes in a block of 2,000 relays (a path of 11
// siblings, 369 bytes), a stand-alone package costs 8 + 201 + 386 = 595
// bytes by reference and 8 + 201 + 607 = 816 in the full form with no
// lift; a lift to a recorder block of 64 records adds 445. Packed, in a
// batch or a block body, a relay of a group costs its message, its 8
// bytes of lengths, 4 bytes of position, a 13-byte GroupRef and its share
// of the siblings.
//
// The decoders reject, with the node/codec sentinels: a wrong tag
// (ErrWrongType), input over the maximum and counts or lengths over their
// limits (ErrTooLarge), short input (ErrTruncated), trailing bytes
// (ErrTrailingBytes), and whatever the node/types and crypto/merkle
// decoders reject in a nested header, message or path. They check nothing
// the encoding does not express, but for a GroupProof's shape (positions
// in range and distinct, the sibling count they need: ErrNonCanonical): a
// batch's proofs are decoded by Inbox.Add, and the rules between fields
// are the Verifier's. Every
// accepted input re-encodes to the same bytes. A decoded Proof or RefProof
// shares no memory with its input; a decoded Batch aliases it.
package relay
