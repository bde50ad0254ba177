// Package driver is the node shell: the one package of the node that runs
// goroutines, reads clocks and touches sockets and disks (tools/archtest
// lists it as a shell). It feeds the pure cores (node/consensus, node/exec,
// node/mempool, node/rootchain, node/relay) with what arrives from the
// network, the timers and the API, and carries out what they decide. It
// also exports `thinkey node` (Command, RunNode) and the functions that read
// and write the key and genesis files.
//
// # One process, several chains
//
// The genesis (node/genesis) lists the chains (node/chains: the root
// chain, coordinator chains and transaction chains) and each chain's
// committee. A node is in the root committee, in at most one transaction
// chain's committee (paper 3.2: each node of C_j is also a node of C_R) and
// in at most one coordinator's, and runs one chain runner per committee it
// is in:
//
//   - the root runner records the digests of its children's decided
//     heights (rootchain: its blocks are lists of Records, header and
//     decision certificate of a child height) and keeps the committed index
//     of recorded headers, which is this node's view of what is confirmed;
//   - a coordinator runner (deeper sharding, paper Fig. 4) does the same
//     for its sub-chains, with the same code (rootApp), and sends the
//     records of its own heights to the root committee; every node of a
//     sub-chain is in its coordinator's committee, so it follows the
//     coordinator;
//   - the transaction runner executes its chain's accounts (node/exec),
//     with a mempool and a relay inbox, sends each committed height's
//     Record to its recorder's committee (the root, or its coordinator),
//     and the outer relays of each block its recorder has recorded to
//     their destination chains.
//
// A runner is the chain-independent consensus machinery (consensus loop,
// verification workers, builder, block sync) around an app (txApp,
// rootApp) that says what a block is. Runners share the Node's one
// transport, through a chain envelope (below), and its one store, whose
// keys all name their chain. node/genesis refuses a node outside the root
// committee (it would have to follow the root chain by block sync, which
// is not written yet) and coordinators below coordinators.
//
// # Who calls it
//
// `thinkey node --config FILE` (Command) opens the store on the data
// directory and a netq/quic transport on a UDP socket, serves node/api over
// HTTP and runs a Node until SIGINT or SIGTERM. Tests build Nodes over
// netq/memnet and in-memory Pebble (drivertest does so for the tools'
// tests). The simulator (node/sim) does not use this package; it drives the
// same cores through the same consensus.Apply.
//
// # Goroutines
//
// Run starts these and returns only after all have exited:
//
//	demux           reads the transport, opens each payload's chain
//	                envelope and hands it to that chain's runner (waiting
//	                while the runner's queue is full: back-pressure);
//	                anything from outside the genesis nodes, unframed, or
//	                for a chain this node does not run is dropped and
//	                counted (thinkey_driver_envelopes_dropped_total).
//
// and per runner:
//
//	consensus loop  owns the consensus core (the transaction chain's
//	                optionally pinned: accel.pin_consensus_core). Selects
//	                over inbound messages, verification answers, built
//	                blocks, the one consensus timer, the proposal timer and
//	                a housekeeping tick, and carries out every Ready.
//	receive         decodes the runner's payloads on their first byte, runs
//	                ValidateBasic (the network edge), routes by kind;
//	                consensus and sync traffic only from the committee, the
//	                app's own kinds from whom they may come; bad input is
//	                dropped, counted and logged at debug level.
//	verify (xN)     BLS through crypto/bls (VerifySameMessage,
//	                BatchVerifyFindInvalid, FastAggregateVerify) against the
//	                chain committee's genesis keys, blocks through the app:
//	                accel.verify_workers workers for the transaction chain,
//	                one for the root chain.
//	executor        builds proposed blocks (the app's build; the
//	                transaction chain's optionally pinned:
//	                accel.pin_executor_core).
//	sync-serve      answers other members' block-sync requests from the
//	                store.
//
// and for the transaction chain:
//
//	forward         batches messages admitted from the API to the next
//	                height's leader.
//	ingest          admits forwarded batches to the mempool.
//	relay           the chain's link to the others (relays.go): digest
//	                records to its recorder's committee, outer relays to
//	                their destination chains, acknowledgements.
//
// and for a coordinator chain:
//
//	records         the digest records of its own heights to the root
//	                committee (records.go).
//
// The loop never blocks on a worker: verification jobs wait in a queue it
// owns, and answers are fed back to the core in request order.
//
// # Carrying out a Ready
//
// consensus.Apply calls the loop's Effects in the contract's order:
//
//  1. Persist: every committed height is staged by the app (executed, or
//     its result taken from the cache filled when this node built or
//     verified the block) and applied to the app's in-memory state; its
//     stored block record, state writes, head, indexes, and the member's
//     PersistentState, go into ONE storage batch, synced before anything
//     else happens. The app's state lock is held until the batch is
//     durable, so no reader sees state the disk does not have.
//  2. Send: each envelope goes to its member (Broadcast: every other one)
//     with netq's reliable Send, waiting at most 50 ms for queue room. A
//     peer whose queue stayed full is skipped for a second; skipped and
//     failed sends are counted (thinkey_driver_messages_dropped_total) and
//     logged, never silently lost, and the protocol recovers them (round
//     changes, decisions, block sync). A Decision broadcast carries its
//     whole block, and members normally decide from the confirmations
//     themselves, so it is held for decisionDelay (500 ms) and then sent
//     only to members that have not sent a message of a later height.
//  3. Commit (the app's part: the mempool and inbox forget the block's
//     inputs, the relay loop gets the block; caches are pruned), Evidence
//     (logged: punishing needs stake on the root chain, not written yet),
//     Verify (queued), RequestProposal (built when due: at once in rounds
//     above 0 or when the app's backlog fills a block, else
//     consensus.block_interval after the last commit).
//  4. SetTimer: the latest deadline of each kind is kept and one time.Timer
//     is armed to the earliest.
//
// An error of Persist stops the node (Run returns it): the store could not
// write, or a decided block does not execute here, and going on could send
// votes the disk does not hold.
//
// # The recorder chains (rootApp)
//
// The root chain and the coordinators. A recorder's state is each child
// chain's last recorded header (rootchain.State), starting at the
// children's genesis headers. A recorder member keeps the Records it
// receives in a pending pool bounded by (chain, height): at most
// maxRecordsAhead (256) heights above a chain's recorded tip, two competing
// records per height; the leader builds with rootchain.Execute over the
// pool, at most maxRootBlockRecords (64) records a block (it checks each
// certificate with rootchain.BLSCommittees over the genesis committees'
// keys and leaves out what does not extend the tips), members check with
// rootchain.Verify, and a decided block is committed with rootchain.Apply
// (its certificates are vouched for by the recorder committee's own).
// Certificates that verified are remembered (verifiedCommittees), so a
// record costs each node one pairing check however many rounds propose
// it: a backlog after a stall drains instead of growing. A commit writes
// the block, the state and the anchor index in one synced batch.
//
// The anchor index, (chain, height) -> recorded header hash, its
// OuterRelayRoot and the recorder height that recorded it, is what the
// node's transaction chain checks relay proofs against (relay.Anchors: any
// recorder the node runs; a proof by reference is checked against the
// recorded relay root, so it need not carry the header)
// and what the API calls "confirmed": a message of a block its recorder
// recorded (for a sub-chain, its coordinator: paper 4.3, "just wait until
// the digest is recorded on its transaction chain"). The last
// anchorMemory (4096) heights per chain are kept in memory, older ones
// read from the store.
//
// # The transaction chain (txApp) and its relays
//
// Build: the leader takes the relay inbox's Ready packages (those whose
// source block its recorders have recorded and its chain has not consumed)
// and the mempool's selection, in that order, and runs exec.Execute with
// Env.Relays a relay.Verifier over the recorders' anchor indexes (Anchors)
// and the chain's committed consumed-relay set (Consumed). Verify:
// exec.Verify with the same Verifier; a block whose relay fails with
// relay.ErrNotConfirmed (this node's recorder view is behind the leader's)
// is not refused: its check is tried again each time a recorder commits,
// for at most the round timeout, and only then voted invalid. Commit: a decided block is
// executed with relay.Trusted, which looks up no header (a quorum of the
// committee checked them against their recorder views; what needs no view,
// full proofs' paths and the consumed set, is still checked), so block
// sync does not wait for this node's recorder view, and the IDs of
// the relays it consumed are written into the chain's state keyspace in the
// same synced batch as the block, so the set and the chain agree after any
// crash: a relay is executed at most once across restarts and view
// changes, since every block is built and checked against the set as of
// its parent. The set lives in the store; memory holds Bloom filters over
// it (consumed.go, 2 to 6 bytes a relay ever consumed, against about 52
// for a map of the IDs), which answer "not consumed" without a read, and
// the IDs of blocks whose batch is not durable yet. A filter hit is
// settled by a read of the store. The filters are
// github.com/bits-and-blooms/bloom/v3, a maintained Bloom filter made for
// the job; the index only stacks them in stages of growing capacity. The filters still grow with every
// relay: pruning the set needs relays to expire, which this version does
// not have.
//
// After a commit the relay loop (relays.go):
//
//   - sends the height's Record (header, or types.EmptyHeader of the
//     parent for an EMPTY height, with the decision certificate) to this
//     node's runner of the recorder and to the recorder's members of this
//     member's share (recorder member j when j mod n = this member's index,
//     n the chain's committee size); a record still unrecorded after
//     recordResend (2 s) goes to every recorder member; records lost in a
//     restart are read back from the store for the heights above the
//     recorder's tip (recordSender, records.go; a coordinator sends its own
//     records to the root the same way);
//   - delivers the block's outer relays (relay.Outbox: proved by
//     reference to the block's chain and height) once the recorder
//     records the block: each package goes into a relay.Pending, which
//     sends it to member (self mod n_dest) of its destination chain and
//     again with backoff (1 s doubling to 1 min) until that member
//     acknowledges it. A sub-chain's package for a chain outside its
//     coordinator is put in the full form and lifted first
//     (relay.LiftPackage: the block's header, and its path in the
//     coordinator block that recorded it) and waits until the
//     root recorded that coordinator block; between sub-chains of one
//     coordinator it needs no lift (the destination follows the
//     coordinator: the faster parent-digest path);
//   - acknowledges the relays the block consumed to the nodes that sent
//     them.
//
// A destination member files the packages of a relay batch in its inbox,
// acknowledging at once those its chain already consumed. Delivery is at
// least once, execution exactly once.
//
// What a source member still has to deliver is a backlog over the
// committed blocks (relayBacklog, backlog.go), of which only a bounded
// part is in memory: per destination chain a stream reads the outboxes of
// further heights (the last commit's from memory, older ones back from the
// store) only while it holds fewer than its share of relayLimits.held
// (relay.DefaultPendingSize, 65536) packages, and a package that does not
// fit in the relay.Pending waits in memory until it does. So a destination
// that stays unreachable (its members down, a partition) stops only its
// own stream, with its relays waiting in the store, not dropped; its
// acknowledgements, when it is back, free room and the stream reads on. An
// acknowledgement counts only from the destination member the package was
// sent to. A stream's delivery mark is the lowest height it may still
// have to send something of: below it every package to its destination was
// acknowledged. The loop writes the marks that moved (node records, below)
// at most every relayMarkEvery (5 s) and once more when it stops, so a
// stored mark may lag the truth, never pass it; after a restart every
// stream starts from its own mark, so a destination that stays silent
// holds back only its own relays, and the destinations acknowledge at once
// what they already consumed. A store without a mark (a new node) starts
// from height 1.
//
// A message's API state: "included" once a committed block holds it,
// "confirmed" once the chain's recorder, on this node, recorded that
// block. For a transfer to
// another chain the value is then certain to arrive (paper 5.4, Fig. 10:
// the transfer is confirmed at the first stage); the relay's arrival is
// the recipient chain's "included"/"confirmed" of the relay's ID.
//
// # Storage
//
// All in the node's one storage.DB; every key names its chain:
//
//	block keyspace  chain, height -> StoredBlock record (below), hash =
//	                header hash
//	state keyspace  transaction chain c:
//	                  account address (20 bytes) -> node/actor account
//	                  'r' | relay ID (33 bytes) -> height u64 of the block
//	                      that consumed it
//	                recorder chain (root, coordinator):
//	                  "tips" -> rootchain.State encoding
//	                  'a' | chain u32 | height u64 (13 bytes) -> header
//	                      hash (32) | OuterRelayRoot (32) | recorder
//	                      height u64 (72 bytes; a store of the earlier
//	                      40-byte layout is refused at start)
//	node records    "consensus/" | chain u32 -> ConsensusRecord (below)
//	                "consensus/" | chain u32 | "/kept/" | slot u8
//	                                         -> KeptBlockRecord (below)
//	                "msg/" | chain u32 | message ID -> height u64 | input
//	                      index u32 (external messages and consumed relays)
//	                "relay/" | chain u32 | relay ID -> height u64 | index
//	                      u32 of an outer relay the chain produced
//	                "outbox/" | chain u32 | dest u32 -> delivery mark u64
//	                      (8 bytes): the lowest height of the transaction
//	                      chain whose outer relays to dest this member may
//	                      still have to send (each package to dest of a
//	                      lower height was acknowledged by the destination
//	                      member it went to); written lazily, so it may
//	                      lag, never lead. "outbox/" | chain u32 alone is
//	                      the single mark of earlier versions, read for a
//	                      destination that has none of its own
//
// The member's PersistentState is written with every vote, several times per
// height, so it is written slim: without its previous decision (the one in
// the stored block of height-1, read back at start) and naming its kept
// blocks by hash; each kept block is written once into one of
// consensus.MaxKeptBlocks slots, rewritten only with a block the new state
// no longer names and in the same batch, so the slots always hold every
// block the durable state names.
//
// Height 0 of every chain is its genesis block (node/genesis.Headers),
// written into an empty store at start; a store whose block 0 is another
// genesis's is refused. At start a transaction chain's accounts and
// consumed set are loaded into memory (node/exec needs every state leaf for
// the state root) and the root checked against the head's, as is the root
// chain's state (storage.ErrCorruption otherwise); each consensus core
// resumes from the persisted state when it names head+1, and from a fresh
// state of head+1 otherwise (nothing of a height is sent before its state is
// durable, so nothing is lost). A SIGKILL at any point loses nothing
// committed.
//
// A height decided EMPTY has no block; the chain records the synthetic
// empty header of the height (types.EmptyHeader): the parent's chain,
// epoch, timestamp and state root, its hash as parent, Empty set, everything
// else zero. It depends on the parent only, so every member derives the
// same one whatever round decided it.
//
// # Block sync
//
// A member that receives a message more than one height ahead (the core
// answers ErrFuture), or keeps receiving next-height messages for a second
// while it stays behind, asks one member for decisions from its height on
// (SyncRequest, up to MaxSyncBlocks). The answer (SyncResponse) carries the
// decisions of consecutive heights, as stored, up to the responder's head
// and its frame budget, and the responder's head. The driver feeds them to
// the core one height at a time as ordinary Decision messages: the core
// verifies each certificate (VerifyCertificate) and commits it, and the
// commit executes the block against the state before it, so a synced block
// is checked like any other. A request unanswered for 2 s goes to the next
// member. Each runner syncs its own chain.
//
// # Wire formats
//
// Every netq payload is in a chain envelope:
//
//	off width field
//	  0     4 ChainID (u32 big-endian): the runner it is for
//	  4     . payload, dispatched on its first byte (the kind)
//
// The kinds: consensus messages 0x10..0x14 (node/consensus), relay batches
// 0x23 and acknowledgements 0x24 (node/relay; a batch goes in the
// destination chain's envelope, an acknowledgement in the source chain's),
// then the driver's own, in the canonical encoding of node/codec
// (big-endian integers, uint32 lengths; decoders refuse truncated, trailing,
// oversized and non-canonical input with the codec sentinels, and every
// accepted input re-encodes to itself; the fuzz target FuzzDecodeWire
// checks it):
//
//	SyncRequest (17 bytes)
//	  off width field
//	    0     1 Kind = 0x31
//	    1     4 ChainID
//	    5     8 From (first height asked for)
//	   13     4 Count (1 to MaxSyncBlocks = 64)
//
//	SyncResponse (at most 64 MiB, within the netq frame limit in practice)
//	    0     1 Kind = 0x32
//	    1     4 ChainID
//	    5     8 Head (responder's committed height)
//	   13     8 From (height of the first decision)
//	   21     4 n (at most MaxSyncBlocks)
//	   25       n times: u32 length, consensus Decision encoding
//
//	MessageBatch (at most MaxBatchMessages = 4096 messages)
//	    0     1 Kind = 0x33
//	    1     4 n
//	    5       n times: u32 length, node/types Message encoding
//
//	RecordBatch (the recorder's envelope; at most MaxBatchRecords = 64)
//	    0     1 Kind = 0x36
//	    1     4 n
//	    5       n times: u32 length, node/rootchain Record encoding (tag
//	            0x20: header and decision certificate)
//
// and the records of the store (not on the network; FuzzDecodeRecords):
//
//	StoredBlock
//	    0     1 Tag = 0x30
//	    1   232 Header (node/types)
//	  233     1 HasDecision (0x00 only for the genesis block)
//	  234     4 d = length of the Decision, if present
//	  238     d Decision (node/consensus encoding: block and certificate)
//
//	ConsensusRecord
//	    0     1 Tag = 0x34
//	    1     4 n = length of the PersistentState
//	    5     n PersistentState (node/consensus encoding), with no blocks and
//	            no previous decision
//	    .     1 HasPreviousDecision
//	    .     1 k = number of kept blocks (at most MaxKeptBlocks = 4)
//	    .  32*k their header hashes, in the state's order
//
//	KeptBlockRecord
//	    0     1 Tag = 0x35
//	    1   232 Header
//	  233     4 b = length of the Body
//	  237     b Body
//
// # The API
//
// Node.API serves node/api: accounts, messages and submissions of the
// node's transaction chain (an address of another chain, in a read, a
// light account proof or a submission, gets an api.WrongChainError, HTTP
// 421 wrong_chain, which also matches ErrOtherChain and api.ErrNotFound,
// naming the chain and its nodes), blocks of the chains it runs (a block of
// a known chain it does not run: the same error), every chain of the
// topology in Chains with its kind, parent, whether this node runs it and
// its confirmed height (for a chain it does not run, the last header its
// recorders recorded of it), and the light proofs (light.go): a header of
// any chain whose recorder the node runs, lifted through the recorder
// blocks that recorded it to a root block, with that block's certificate;
// an account as of the last recorded height of the node's chain
// (stateHistory keeps the leaves of the recent heights); an outer relay of
// the node's chain.
//
// # Metrics and logs
//
// Each Node registers its collectors with its own Prometheus registry
// (Registry); a runner's carry a chain label: consensus height and round,
// committed blocks and messages, commit latency (block timestamp to durable
// commit), persist, build and verification durations, messages in and out
// by kind, drops by reason, core refusals by class, synced decisions; on a
// transaction chain the relays (thinkey_relay_*: produced, sent,
// acknowledged and their latency, held, pending, unread and lag on the
// source side; received, arrived, refused by reason, inbox and consumed on
// the destination side, docs/API.md); then the mempool's gauges (labelled
// by chain) and the transport's per-peer counters. RunNode adds the Go and process collectors and node/api serves
// the registry at /metrics. Logs go to log/slog: one line per committed
// block holding messages at info level (empty ones at debug), refusals of
// network input at debug level.
package driver
