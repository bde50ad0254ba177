// Package exec executes and verifies the blocks of one chain (paper 5.3):
// the leader's Execute turns candidate input messages into a block body
// and its roots, and a committee member's Verify checks a proposed body
// against the header's roots by re-executing each account's record on its
// own, in parallel. Both return a Result: the body, the five roots of the
// header, the write set the shell commits, and the gas used.
//
// Execution is a pure function of a read-only StateView, a ChainSpec, the
// inputs or the body, and an Env. The package starts no goroutines, reads
// no clock and no global randomness: parallelism comes in as a Runner (the
// shell's worker pool, or Sequential), the coefficients of batch signature
// verification as an io.Reader, relay proofs as a RelayVerifier (and,
// when it is also a RelayPacker, the packing of the included relays'
// proofs into shared ones, which the block and its input root carry). Every
// parallel task writes only its own slot and results are merged in address
// (or list) order, so no Runner, worker count, scheduling or map order can
// change a result or an error. Callers: the consensus core's proposal and
// vote path, the simulator, package bench.
//
// # Block body
//
// A Body has the three message lists of paper 5.3 and the processing
// records sigma:
//
//   - Inputs: external messages and outer relays of other chains (with
//     their proofs), in the leader's processing order;
//   - InterRelay: the messages produced in the block for accounts of this
//     chain, processed in the same block; in increasing ID order;
//   - OuterRelay: the messages produced for other chains, proved to them
//     against the OuterRelay root (paper 4.3); in increasing ID order;
//   - Records: per account that processed anything, its sigma_i, the list
//     of entries (m : outputs) in processing order; in address order.
//
// A message is named by its content ID (types.Message.ID). A relay's ID is
// unique because it carries its Cause (the ID of the processed message)
// and its index among that processing's outputs as Nonce.
//
// # Rejected versus processed with no effect
//
// Execute leaves an input out of the block, with a receipt naming the
// reason, when the input is not valid: it breaks a stateless rule
// (ErrInvalidInput: ValidateBasic, actor.CheckExternal, a kind other than
// external or another chain's outer relay, a recipient on another chain),
// its signature or relay proof fails (ErrBadSignature, ErrBadRelayProof),
// it repeats an input (ErrDuplicateMessage), its sender has no account
// (ErrUnknownAccount) or its nonce is not the account's (ErrBadNonce). It
// also leaves out an input that does not fit (ErrBlockFull, ErrInputGas),
// which may go in a later block. Nothing of a left-out input reaches the
// block. A block that holds such an input is invalid.
//
// Every other input is included and consumed: an external message's nonce
// advances even when its method has no effect (tran beyond the balance:
// the paper's (m : ∅)) or fails (see node/actor). That is what makes a
// signed message unrepeatable, and it is what a verifier re-executes.
//
// # Execution order and the gas bound
//
// Execute processes each input and then, first in first out, every
// inter-relay message its processing causes, before taking the next input.
// Gas bounds the work: Limits.BlockGas per block (a consensus rule that
// Check enforces) and Limits.InputGas per input cascade (the leader's
// policy). A cascade that exceeds either is undone from a journal, and only
// that input is left out; so a loop of messages between accounts costs the
// leader at most InputGas and the block nothing. Execute also keeps the
// body under MaxBodySize and every list under MaxBlockMessages.
//
// The verifier does not require this order: any order that some sequential
// execution produces is valid (Theorem 1 below), which is why both orders
// of m2 and m3 in the paper's Fig. 10 verify.
//
// # Verification
//
// Check (and Verify, which adds the root comparison) checks, in order, and
// returns the first failure as a *BlockError whose Reason is a sentinel of
// this package, with the account and message concerned:
//
//  1. size and counts;
//  2. each input's stateless validity;
//  3. the shape of the lists and records: canonical order, relay kinds,
//     chains and recipients, no empty record or entry;
//  4. the records against the lists: no ID twice; each processed ID is an
//     input or inter-relay message addressed to the record's account and
//     is processed exactly once; each output is a relay of the block sent
//     by the account and is produced exactly once; every input and
//     inter-relay message is processed, every relay is produced;
//  5. the order graph G_sigma (below) is acyclic;
//  6. the inputs' signatures (one Ed25519 batch per worker) and relay
//     proofs;
//  7. each record re-executed alone from its account's state before the
//     block: every entry must produce exactly its recorded outputs, and an
//     external message must meet its account's nonce; records run in
//     parallel through the Runner, because an actor's processing needs only
//     its own state and the messages it receives (paper 5.1);
//  8. the gas of all records within Limits.BlockGas;
//  9. (Verify) the five roots equal the header's.
//
// The cheap steps 1 to 5 come first, so a malformed block is refused
// before any signature is checked; steps 6 and 7 run as one pass of tasks.
//
// # The order graph (Theorem 1)
//
// G_sigma has a node per record entry and an edge from each entry to the
// next entry of its record (an actor processes its messages one at a time),
// and from the entry that produces an inter-relay message to the entry that
// processes it (a message is sent before it is received). Theorem 1: sigma
// is valid exactly when G_sigma has no cycle. With step 7 this is the whole
// argument: a topological order of G_sigma is a sequential execution, and
// because each actor's processing depends only on its own state and its
// received messages, that execution produces every record exactly as the
// independent re-executions did. Kahn's algorithm decides it in time linear
// in the entries and messages; on a cycle the error names an entry on it.
//
// # Merging (paper 5.6)
//
// An entry may process several messages when all are plain add relays
// (actor.IsPlainAdd), listed in increasing ID order, producing nothing.
// The leader merges each run of consecutive plain adds that one account
// processed between its other entries. The result is unchanged: plain adds
// commute with each other and produce nothing, no other message of the
// account is processed inside the run, and each add of the run was applied,
// so their sum does not overflow (actor.ProcessAdds refuses a merge that
// does). Gas is charged per message, merged or not. The verifier accepts a
// merged entry only under these rules and accepts unmerged records too.
//
// # Roots
//
// All roots are crypto/merkle roots (leaf and inner domains, odd node
// promoted):
//
//	Input       leaves LeafHash(ID || SHA-256(Proof)), 32 zero bytes for no
//	            proof, in body order: the header binds the proofs too
//	InterRelay  leaves LeafHash(ID), in body (ID) order
//	OuterRelay  leaves LeafHash(ID), in body (ID) order
//	Record      leaves LeafHash(record encoding), in address order
//	State       leaves actor.Account.LeafHash, over every account of the
//	            chain after the block, in address order
//
// The state root is a plain Merkle tree over all accounts sorted by address.
// It is simple, has the same proof format as relays, and parallelizes: the
// leaf hashes of unchanged accounts come from the view (StateLeaves, which
// the state store keeps), the changed ones are hashed through the Runner,
// and aligned power-of-two subtrees are reduced through the Runner. Its cost
// is linear in the number of accounts per block: N-1 inner hashes, about
// 3 ms for 10,000 accounts on one core of the reference machine (a sixth
// of verifying a block of 1,000 payments), and an insertion shifts the
// leaves after it. A sparse Merkle tree or a persistent tree with cached inner
// nodes would make it O(k log N) for k changed accounts; that belongs to
// the state store and can replace this root without changing its users.
//
// ProveAccount/VerifyAccountProof and ProveRelay/VerifyRelayProof give
// inclusion proofs. The leaves are content (an account's whole encoding,
// address included; a relay's content ID), so a proof's index says nothing
// and is not checked: crypto/merkle roots do not commit to the leaf count,
// and relabelling a proof to another tree shape with the same sibling path
// still proves the same message or account state, never another. Absence
// cannot be proved with these trees.
//
// # Invariants
//
// CheckExecution states what every block Execute builds satisfies, each
// computed a second way: value is conserved (balances before plus relay
// inputs equal balances after plus outer relays), and Check, the
// verifier's path, accepts the block and derives the same roots, write set
// and gas. Tests check it on every block; with the invariants build tag
// Execute checks it itself and returns an error wrapping ErrInvariant.
//
// # Encodings
//
// Bodies travel in proposals; their encoding is canonical over node/codec
// (integers big-endian). Each list is a uint32 count then its elements;
// nested encodings carry a uint32 length. Offsets in bytes:
//
//	Body (tag 0x12), at most 32 MiB (MaxBodySize):
//
//	  off  width  field
//	    0      1  Tag = 0x12
//	    1      4  i = number of inputs (at most 65536)
//	           i  inputs, each:
//	                4  n = length of the message encoding
//	                n  message (types.Message encoding)
//	                4  p = length of the proof (at most 4 MiB)
//	                p  proof (relay layer's encoding; empty for external)
//	           4  r = number of inter-relay messages (at most 65536)
//	           r  messages, each: 4 n, then n bytes of message encoding
//	           4  o = number of outer-relay messages (at most 65536)
//	           o  messages, each: 4 n, then n bytes of message encoding
//	           4  c = number of records (at most 65536)
//	           c  records, each: 4 n, then n bytes of record encoding
//
//	Record (tag 0x11):
//
//	  off  width  field
//	    0      1  Tag = 0x11
//	    1     20  Address
//	   21      4  e = number of entries (at most 65536)
//	   25         e entries, each:
//	                4     p = number of processed messages (at most 256)
//	                32*p  processed message IDs
//	                4     q = number of outputs (at most 64)
//	                32*q  output message IDs
//
// The decoders reject, with the node/codec sentinels: a wrong tag
// (ErrWrongType), input over the maximum and counts or lengths over their
// limits (ErrTooLarge), short input (ErrTruncated), trailing bytes
// (ErrTrailingBytes), and whatever types.DecodeMessage rejects in a nested
// message. They check only what the encoding expresses; the order of the
// lists, empty records and entries and every rule between elements are
// Check's. Every accepted input re-encodes to the same bytes. A decoded
// body aliases its input through its messages and proofs.
package exec
