// Package driver is the node shell: the one package of the node that runs
// goroutines, reads clocks and touches sockets and disks (tools/archtest
// lists it as a shell). It feeds the pure cores (node/consensus, node/exec,
// node/mempool) with what arrives from the network, the timers and the API,
// and carries out what they decide. It also exports `thinkey node`
// (Command, RunNode) and the functions that read and write the key and
// genesis files.
//
// One chain for now: the node is a member of the genesis committee of chain
// 0, which it runs alone (the root chain and many chains come later).
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
//	consensus loop  owns the consensus core; optionally pinned
//	                (accel.pin_consensus_core). Selects over inbound
//	                messages, verification answers, built blocks, the one
//	                consensus timer, the proposal timer and a housekeeping
//	                tick, and carries out every Ready.
//	receive         reads the transport, decodes on the first byte, runs
//	                ValidateBasic (the network edge), routes by kind; bad
//	                input is dropped, counted and logged at debug level.
//	verify (xN)     accel.verify_workers workers answering VerifyRequests:
//	                BLS through crypto/bls (VerifySameMessage,
//	                BatchVerifyFindInvalid, FastAggregateVerify) against the
//	                genesis committee's keys, blocks through exec.Verify.
//	executor        builds proposed blocks (mempool.Reap, exec.Execute);
//	                optionally pinned (accel.pin_executor_core).
//	forward         batches messages admitted from the API to the next
//	                height's leader.
//	ingest          admits forwarded batches to the mempool.
//	sync-serve      answers other members' block-sync requests from the store.
//
// The loop never blocks on a worker: verification jobs wait in a queue it
// owns, and answers are fed back to the core in request order.
//
// # Carrying out a Ready
//
// consensus.Apply calls the loop's Effects in the contract's order:
//
//  1. Persist: every committed block is executed (or its result taken from
//     the cache filled when this node built or verified it) and applied to
//     the in-memory state; its stored block record, account writes, head and
//     message index, and the member's PersistentState, go into ONE
//     storage batch, synced before anything else happens. The state's write
//     lock is held until the batch is durable, so no reader sees state the
//     disk does not have.
//  2. Send: each envelope goes to its member (Broadcast: every other one)
//     with netq's reliable Send, waiting at most 50 ms for queue room. A
//     peer whose queue stayed full is skipped for a second; skipped and
//     failed sends are counted (thinkey_driver_messages_dropped_total) and
//     logged, never silently lost, and the protocol recovers them (round
//     changes, decisions, block sync). A Decision broadcast carries its
//     whole block, and members normally decide from the confirmations
//     themselves, so it is held for decisionDelay (500 ms) and then sent
//     only to members that have not sent a message of a later height.
//  3. Commit (the mempool forgets the block's messages, caches are pruned),
//     Evidence (logged: no root-chain client yet), Verify (queued),
//     RequestProposal (built when due: at once in rounds above 0 or when
//     the mempool holds a full block, else consensus.block_interval after
//     the last commit).
//  4. SetTimer: the latest deadline of each kind is kept and one time.Timer
//     is armed to the earliest.
//
// An error of Persist stops the node (Run returns it): the store could not
// write, or a decided block does not execute here, and going on could send
// votes the disk does not hold.
//
// # Storage
//
// All in the node's one storage.DB, chain 0:
//
//	block keyspace  height -> StoredBlock record (below), hash = header hash
//	state keyspace  account address (20 bytes) -> node/actor account encoding
//	node records    "consensus/" | chain u32 -> ConsensusRecord (below)
//	                "consensus/" | chain u32 | "/kept/" | slot u8
//	                                         -> KeptBlockRecord (below)
//	                "msg/" | message ID (32) -> height u64 | input index u32
//
// The member's PersistentState is written with every vote, several times per
// height, so it is written slim: without its previous decision (the one in
// the stored block of height-1, read back at start) and naming its kept
// blocks by hash; each kept block is written once into one of
// consensus.MaxKeptBlocks slots, rewritten only with a block the new state
// no longer names and in the same batch, so the slots always hold every
// block the durable state names.
//
// Height 0 is the genesis block (node/genesis.Block), written into an empty
// store at start; a store whose block 0 is another genesis's is refused. At
// start the state is loaded into memory (node/exec needs every state leaf
// for the state root) and its root checked against the head's
// (storage.ErrCorruption otherwise); the consensus core resumes from the
// persisted state when it names head+1, and from a fresh state of head+1
// otherwise (nothing of a height is sent before its state is durable, so
// nothing is lost). A SIGKILL at any point loses nothing committed.
//
// A height decided EMPTY has no block; the chain records the synthetic
// empty header of the height: the parent's chain, epoch, timestamp and state
// root, its hash as parent, Empty set, everything else zero. It depends on
// the parent only, so every member derives the same one whatever round
// decided it.
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
// member.
//
// # Wire formats
//
// netq payloads are dispatched on their first byte: consensus messages
// 0x10..0x14 (node/consensus), then the driver's own, in the canonical
// encoding of node/codec (big-endian integers, uint32 lengths; decoders
// refuse truncated, trailing, oversized and non-canonical input with the
// codec sentinels, and every accepted input re-encodes to itself; the fuzz
// target FuzzDecodeWire checks it):
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
// # Metrics and logs
//
// Each Node registers its collectors with its own Prometheus registry
// (Registry): consensus height and round, committed blocks and messages,
// commit latency (block timestamp to durable commit), persist, build and
// verification durations, messages in and out by kind, drops by reason,
// core refusals by class, synced decisions, the mempool's gauges and the
// transport's per-peer counters. RunNode adds the Go and process collectors
// and node/api serves the registry at /metrics. Logs go to log/slog:
// one line per committed height at info level, refusals of network input at
// debug level.
package driver
