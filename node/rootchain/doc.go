// Package rootchain is the deterministic core of a recorder chain: the root
// chain, which records the digests of the confirmed blocks of its child
// chains (paper 3.2, 4.3), and the coordinator chains of deeper sharding
// (paper Fig. 4), which do the same for their sub-chains and are in turn
// recorded by their parent. One core runs both; node/chains says which
// chain records which.
//
// A child chain's decided height reaches its recorder as a Record: the
// block header (or types.EmptyHeader of the parent for a height decided
// EMPTY) with the decision certificate of the child's committee, the
// message m_i of paper 4.3 "with the committee's aggregated signature". A
// recorder block's body is a list of records; its header's InputRoot (the
// record root) commits to the recorded headers, so a node that follows
// the recorder can prove any recorded header, and through its roots any
// outer relay or account of the child, with a Merkle path
// (ProveRecord/VerifyRecordProof).
//
// # Who calls it
//
//   - node/driver runs it for the recorder chains a node is in or follows:
//     the leader's Execute over the records gathered from child chains,
//     members' Verify before voting, Apply for blocks certified by the
//     recorder's committee (followers), BLSCommittees over the genesis
//     committee keys, and the State encoding for persistence;
//   - node/sim runs the same calls with its stand-in signature scheme as
//     Committees;
//   - node/relay and node/light use VerifyRecordProof to lift a header to
//     its recorder's block.
//
// # The state and its root
//
// A State holds per child chain its tip: the last recorded header, at
// first the child's genesis header (height 0). It is immutable: every
// transition returns a new State sharing the unchanged tips. The state
// root, the recorder header's StateRoot, is the crypto/merkle root over
// the tips in chain ID order, each leaf
//
//	LeafHash(chainID u32 || height u64 || tip header hash)   (big-endian)
//
// The record root, the recorder header's InputRoot, is the root over
// LeafHash(record header hash) in body order. The recorder header's
// InterRelayRoot, OuterRelayRoot and RecordRoot are zero.
//
// # The rules (Verify)
//
// A recorder block is valid when its header names the recorder's chain,
// its body holds at most MaxRecords records in strictly increasing
// (ChainID, Height) order, each record
//
//   - passes Record.ValidateBasic: well-formed header and certificate, not
//     a genesis header, certificate for the header's chain and height,
//     BlockHash = header hash (zero for EMPTY), an EMPTY header of the
//     shape of an empty header;
//   - belongs to a child chain of the recorder;
//   - extends its chain's tip (the state's, or the previous record of the
//     same chain in the block): Height = tip + 1, ParentHash = tip hash,
//     and an EMPTY record's header equals types.EmptyHeader(tip);
//   - carries a decision certificate of the chain's committee
//     (consensus.CheckDecisionCertificate with Committees.Size) whose
//     aggregate signature verifies (Committees.VerifyCertificate);
//
// and the header's roots are the ones the body and the state give. Every
// refusal is a *RecordError wrapping ErrInvalid and a reason sentinel.
// Signatures are checked last, once every cheap check passed.
//
// Apply is Verify without the certificate checks, for a block whose own
// certificate the caller checked: the recorder's committee vouches for the
// child certificates. An EMPTY recorder block has no records and leaves
// the state unchanged.
//
// # The leader (Execute)
//
// Execute takes pending records in any order, duplicates included, and
// picks per chain the longest run that extends the tip and passes the
// rules, one height per chain per round in chain order until the limit,
// so that no chain starves another. Of competing valid records for one
// height it takes the smallest (header hash, certificate hash). The block
// depends only on the state, the set of pending records and the limits.
// Execute never calls crypto/bls: signatures go through Committees only,
// which lets the simulator substitute its own scheme.
//
// # Invariants
//
//   - A body Execute builds passes Verify against the same state with the
//     header roots Execute returned, and Apply gives the same state.
//   - A child's tip only moves through records that extend it one height
//     at a time, so the recorder's history of each child is a single chain
//     from its genesis header, without gaps or forks.
//   - Every accepted encoding re-encodes to the same bytes.
//
// # Encodings
//
// Canonical over node/codec, integers big-endian; the nested header and
// certificate are the node/types encodings. Offsets in bytes:
//
//	Record (tag 0x20), 150+ceil(n/8)+233 bytes for a committee of n, at
//	most 511 (RecordMaxSize):
//
//	  off  width  field
//	    0      1  Tag = 0x20
//	    1    232  Header (types.Header, tag 0x01)
//	  233      c  Certificate (types.Certificate, tag 0x04) to the end:
//	              c = 150 + ceil(n/8)
//
//	Body (tag 0x21), at most 5+4096*515 bytes (MaxBodySize):
//
//	  off  width  field
//	    0      1  Tag = 0x21
//	    1      4  r = number of records (at most 4096, MaxRecords)
//	    5         r records, each:
//	                4  n = length of the record encoding (at most 511)
//	                n  record
//
//	State (tag 0x28), for persistence, at most 9+4096*232 bytes:
//
//	  off  width  field
//	    0      1  Tag = 0x28
//	    1      4  Recorder (chain ID)
//	    5      4  t = number of child tips (at most 4096, MaxChildren)
//	    9  232*t  tips: types.Header encodings, in strictly increasing
//	              chain ID order, none of the recorder's chain
//
// The decoders reject, with the node/codec sentinels: a wrong tag
// (ErrWrongType), input over the maximum and counts or lengths over their
// limits (ErrTooLarge), short input (ErrTruncated), trailing bytes
// (ErrTrailingBytes), whatever the node/types decoders reject in a nested
// header or certificate, and (State only) tips out of order or malformed
// (ErrNonCanonical). The body decoder does not check the order of the
// records: Verify does. Decoded values share no memory with the input.
package rootchain
