// Package sim is the deterministic discrete-event simulator that runs many
// nodes' pure cores in one process on virtual time, over a simulated network
// with injected faults, reproducibly from a seed.
//
// The simulation tests of the cores (consensus first, then whole sharded
// networks), the `thinkey sim` command (tools/simulate) and the consensus
// and shard bench stages drive it. Its
// engine knows nothing of consensus: a node is a NodeHandler that
// receives opaque payloads, timer firings,
// crashes and restarts, and answers by calling back into the World (Send,
// Broadcast, SetTimer, CancelTimer, Charge). It is the simulation twin of
// the production driver: the driver owns goroutines, clocks and sockets;
// here one loop owns a priority queue.
//
// # Determinism contract
//
// A run is a function of its seed, its configuration and the code of its
// handlers: the same inputs give the same events, in the same order, at the
// same virtual times, on every machine built with the same Go release (the
// derived methods of math/rand/v2, such as IntN, are not promised stable
// across releases). TraceHash (a running SHA-256 over
// every processed event and every dropped or duplicated copy, records laid
// out in trace.go) checks it. What makes it hold:
//
//   - One goroutine. Nothing here starts one or reads a clock; a handler may
//     not either (tools/archtest enforces it for this package and the cores).
//   - Virtual time is a time.Duration since the start. Events are ordered by
//     (time, sequence number); the sequence number is the order of queueing,
//     unique per world, so events due at the same time run first-in
//     first-out and no tie is ever broken by chance.
//   - Randomness comes only from math/rand/v2 PCG streams seeded by SHA-256
//     over (seed, stream kind, index): one stream per node for its handler
//     (World.Rand), one per sending node for the fate of its messages, one
//     per fault kind for plan generation, and one for a consensus run's
//     scenario (which members are Byzantine). Adding a node or a fault
//     kind adds a stream and leaves the others alone. Each message a
//     running node sends to another takes exactly eight draws from the
//     sender's network stream whatever the loss, duplication and
//     reordering settings (one more when a partition releases it), so
//     turning one on does not shift the delays of other messages.
//   - No map iteration decides an order: maps are only looked up; nodes are
//     visited in ID order, held messages in the order they were held.
//   - Floating point is limited to exactly rounded operations; the one
//     logarithm (exponential jitter) is computed without math.Log, whose
//     last bit differs between architectures.
//   - Handlers are never entered recursively: every call back into the
//     world queues an event, and Run refuses to be re-entered.
//
// # Network model
//
// After TigerBeetle's packet simulator. A message from a node to another
// (NetworkConfig):
//
//  1. waits for the sender's uplink, which sends one message at a time in
//     order; it is dropped if that wait would exceed UplinkQueueMax;
//  2. occupies the uplink for size*8/UplinkBandwidth (serialization);
//  3. is dropped or held if a partition separates the two nodes or the link
//     is cut, then lost with LossProbability;
//  4. travels for Latency + jitter (uniform in [0, Jitter], or exponential
//     of mean Jitter capped at JitterMax), plus, with ReorderProbability, an
//     extra delay uniform in [0, ReorderDelay]; a clogged link multiplies
//     this delay by its factor;
//  5. with DuplicateProbability, arrives a second time with its own delay;
//  6. on arrival, is dropped if the receiver is down or crashed since the
//     send, if the sender crashed before the message left its uplink, or
//     if a partition or cut now separates them; otherwise it waits for the
//     receiver's CPU (below) and is delivered.
//
// Per-link FIFO is not promised: jitter reorders messages. A node's message
// to itself is a loopback, delivered as the next event at that time without
// crossing the network. Broadcast is one copy per other node, in ID order.
//
// # CPU model
//
// A node is one core. A handler reports the virtual cost of its work with
// World.Charge. Messages and timers that come due for a node whose charged
// time has not elapsed are postponed to the instant it is free, in the order
// they came due (after events queued earlier for that instant), and
// messages sent after a charge in the same handler enter the uplink after
// it. Without charges, processing is instantaneous.
//
// # Fault atlas
//
// Faults are scheduled actions (World.Schedule, or a FaultPlan); a plan is
// drawn from a seed within a FaultBudget by GenerateFaultPlan. With Swarm,
// each seed enables a random subset of the kinds.
//
//	kind         effect                                       bound in a plan
//	crash        node down: receives nothing, timers dropped,  at most MaxCrashed down at once;
//	             messages to it in flight lost; OnCrash, then  restarted by HealBy
//	             OnRestart from persisted state
//	partition    groups; cross-group copies dropped or held    one at a time; healed by HealBy
//	link cut     one direction of a link drops everything      restored by HealBy
//	clog         a link's delay multiplied by a factor         factor <= MaxClogFactor; over by HealBy
//	loss         each copy lost with a probability             < MaxLossProbability, whole run
//	duplication  a copy delivered twice                        < MaxDuplicateProbability, whole run
//	reorder      extra delay on some copies                    < MaxReorderProbability, whole run
//
// Every episodic fault is over by HealBy, so a test checks safety throughout
// and liveness after HealBy. Byzantine behaviour is not a network fault: it
// belongs in handlers that wrap an honest core.
//
// # Consensus runs
//
// ConsensusCluster runs a committee of node/consensus cores on a World: the
// simulation twin of the node driver. Each member is a NodeHandler around
// one consensus.Core, whose every Ready is carried out by consensus.Apply
// (persist, then send, then commit, evidence, verification and block
// requests, then timers), as the production driver does. What a member
// persists is the encoding of its PersistentState and its committed
// decisions; a crash drops the core and everything volatile, and a restart
// decodes the persisted bytes and builds a new core from them. Its
// verification requests are answered in order within the same handler, the
// virtual CPU they cost charged first (CPUCosts: BLS figures of
// docs/PERFORMANCE.md by default), so messages the member sends afterwards
// leave after that time. Signatures are real BLS (crypto/bls: batch
// verification of same-message votes, BatchVerify with bisection,
// FastAggregateVerify for certificates, coefficients from the member's
// seeded stream) or, for large committees, a stand-in (SHA-256 of a secret
// and the message; certificates aggregate by XOR), charged at BLS costs and
// held to BLS's verdicts by TestStandInAgreesWithBLSOnVoteBatches and
// TestConsensusStandInAndBLSTakeTheSamePath. The application (blocks with
// random bodies committing to their parent) and a block sync for members
// more than one height behind complete the member.
//
// Byzantine members (ByzantineKind: silent, equivocating leader,
// equivocating voter, invalid proposal, delay) are wrappers that rewrite
// what an honest core sends, or what its application hands it; at most f
// per committee. The checkers run on every seed:
//
//   - agreement: one value per height among all members' commits, with the
//     same block bytes;
//   - validity: a decided block was proposed by the round's leader and
//     passes the application's check on the chain it extends (or the
//     height is EMPTY), and every decision certificate verifies with
//     enough signers;
//   - evidence: every Evidence an honest member emits verifies
//     (consensus.VerifyEvidence) and names a Byzantine member; and every
//     equivocation an honest member witnessed in a way the core is bound
//     to notice (both statements received in their round within one
//     incarnation, and for votes one of them verified while still in the
//     round) is reported by some honest member;
//   - no honest member signs two different votes in one stage of one
//     round, across its restarts;
//   - the core's CheckInvariants after every event;
//   - liveness: RunConsensus lets the faults of its plan heal (random
//     loss ends at HealBy too: from then on every message arrives, as the
//     production transport's retransmissions ensure, duplicated or late
//     perhaps), then every honest member must commit
//     ConsensusTargets.LivenessHeights more heights within LivenessWindow
//     (a bound of a few round timeouts per height, stated there).
//
// SwarmConsensusConfig draws a seed's scenario: 0 to f Byzantine members
// of random kinds, and a swarm fault plan with at most f minus that many
// members down at once. TestConsensusSwarm runs a few hundred seeds over
// n in {4, 7, 16, 31}; TestConsensusSoak (go test -run
// '^TestConsensusSoak$' -soak ./node/sim, or THINKEY_SOAK=1) runs
// thousands; `thinkey sim` runs one seed or a range from the command line.
//
// Block sync messages share the network with consensus messages, told apart
// by their first byte (consensus kinds are 0x10..0x14); lengths and
// heights are big-endian:
//
//	sync request, 9 bytes:
//	+------+--------------+
//	| 0x30 | height (8 B) |   the first height the sender lacks
//	+------+--------------+
//
//	sync response:
//	+------+-------------+--------------+--------------------+-----
//	| 0x31 | count (4 B) | length (4 B) | Decision encoding  | ...
//	+------+-------------+--------------+--------------------+-----
//	                      `-- count times, consecutive heights --'
//
// # Sharded networks
//
// ShardedNetwork runs a whole multi-chain network (paper 3.2, 4.3) on one
// World: a root committee (RootMembers) deciding recorder blocks
// (node/rootchain) that record the decisions of the chains below it, one
// committee (Members) per transaction chain deciding blocks of real
// Ed25519-signed payments (node/exec, node/actor), one committee per
// coordinator chain recording its sub-chains (chains.Topology
// WithSubChains), and one load client per transaction chain. Nodes are
// numbered committee by committee in chain ID order, the root first, then
// the clients in chain order; ShardFaultPlan relies on that layout.
//
// Every member is a NodeHandler around a consensus.Core driven through
// consensus.Apply exactly as a ConsensusCluster member is (persist, then
// send, then commit, verification and block requests, then timers; block
// sync 0x30/0x31 for members more than a height behind; the stand-in
// signature scheme charged at BLS costs; CheckInvariants after every event
// when asked). Two habits of the node driver are copied because real
// blocks are large: a Decision broadcast (it carries the whole block) is
// deferred 500 ms and then sent only to members that have not shown a later
// height, and a leader whose mempool holds a full block builds at once
// instead of waiting for BlockInterval.
//
// A transaction-chain member keeps a mempool of client messages
// (node/mempool), a relay Inbox and Pending (node/relay), and a view of
// every recorder chain above its own. Its leader builds with exec.Execute
// over Inbox.Ready's relay inputs, then the mempool's messages; members
// check with exec.Verify whose Env.Relays is a relay.Verifier over the
// member's recorder views (Anchors) and its chain's committed consumed set
// (Consumed). When a relay's source is not confirmed on the member's view
// yet (relay.ErrNotConfirmed), the check is parked, not refused: it is
// retried each time a view advances (and the member asks the recorder for
// decisions at once) and refused only after a round timeout. Persist
// applies a committed block's write set and adds its relay inputs to the
// consumed set in the same write as the decision, so a restart keeps both
// (a block the member did not check, committed by sync or after a
// restart, is re-executed with relay.Trusted, the certificate vouching for
// its relays: no recorder view is needed). Commit then updates the
// mempool, forgets the consumed relays from the inbox and acknowledges
// them to the members that sent them, sends the Record {header,
// certificate} of the height to a member of the recorder's committee
// (again, to another member, while the recorder has not recorded it a
// second after the commit), and tells the chain's client the next nonce
// of the senders (two members a height).
// Once the member's recorder view records a block with outer relays, its
// packages (relay.Outbox, proved by reference to the block; in the full
// form lifted with relay.LiftPackage for a destination that does not
// follow that recorder) go to Pending, which re-sends unacknowledged ones
// after 2 s, doubling to 8 s; member i sends to member i mod n of the
// destination, in batches paced to RelayBandwidth (a quarter of the
// uplink by default) so that relay floods do not queue consensus messages
// behind them. A destination member adds packages to
// its inbox, and acknowledges at once those its chain already consumed.
// After a restart every relay of the member's history is pending again.
//
// A recorder member (root or coordinator) keeps the records children send
// it; its leader builds with rootchain.Execute, members check with
// rootchain.Verify, both over a rootchain.Committees of the stand-in keys;
// every commit is pushed to the nodes that follow the chain (follower j by
// member j mod n). A follower checks a pushed decision's certificate
// (consensus.CheckDecisionCertificate and the aggregate), applies its block
// with rootchain.Apply and indexes the recorded headers: that index is its
// relay.Anchors. A gap, or half a second without progress, makes it ask a
// recorder member for the decisions it lacks.
//
// Between sibling sub-chains of a coordinator the destination follows the
// coordinator, so a relay by reference verifies as soon as the
// coordinator records its block (the faster parent-digest path); a relay
// across branches travels in the full form with one lift to the root. The
// recorder view keeps each recorded header's hash and OuterRelayRoot,
// which a proof by reference is checked against.
//
// A client holds its chain's funded accounts and signs transfers (real
// Ed25519): Load.Rate a second, each to an account of its chain or, with
// probability Load.Cross, of another chain drawn uniformly. An account has
// at most Load.Window transfers in flight with consecutive nonces; a nonce
// notice confirms them, and one still unconfirmed after
// Load.ResubmitAfter is sent again with the account's others to the next
// member, so a lost message never wedges an account. Submit hands a
// scripted message to the client of its sender's chain.
//
// # Sharded networks: wire payloads
//
// Besides consensus messages (0x10..0x14), block sync (0x30, 0x31) and the
// encodings of node/rootchain (Record, 0x20) and node/relay (Batch, 0x23;
// Ack, 0x24), which travel as they are, members and clients exchange
// these payloads, told apart by their first byte; integers big-endian:
//
//	follow decisions, recorder member -> follower (push, or answer):
//	+------+-------------+-------------+--------------+--------------------+-----
//	| 0x32 | chain (4 B) | count (4 B) | length (4 B) | Decision encoding  | ...
//	+------+-------------+-------------+--------------+--------------------+-----
//	                                    `-- count times (at most 256), heights in order
//
//	follow request, follower -> recorder member, 13 bytes:
//	+------+-------------+--------------+
//	| 0x33 | chain (4 B) | height (8 B) |   the first height the sender lacks
//	+------+-------------+--------------+
//
//	submit, client -> member:
//	+------+-------------+--------------+--------------------+-----
//	| 0x40 | count (4 B) | length (4 B) | Message encoding   | ...
//	+------+-------------+--------------+--------------------+-----
//	                      `-- count times (at most 16384)
//
//	nonces, member -> client:
//	+------+-------------+------------------+--------------------+-----
//	| 0x41 | count (4 B) | address (20 B)   | next nonce (8 B)   | ...
//	+------+-------------+------------------+--------------------+-----
//
// The decoders refuse, with node/codec's sentinels, a wrong tag, counts or
// lengths over their bounds, truncation and trailing bytes; what decodes
// encodes back to the same bytes (FuzzShardWire).
//
// # Sharded networks: checkers
//
// The observer sees every member's commits and keeps every chain's
// canonical history (the first commit of each height). On every seed:
//
//   - agreement: per chain, root and coordinators included, every member
//     commits the first value of each height with the same block body,
//     under a decision certificate of the chain's committee that verifies;
//     and every follower's view of a recorder chain holds the headers that
//     chain decided;
//   - records: every record of a root or coordinator block is the header
//     its chain decided at that height;
//   - value conservation, after every root block and at the end: the sum
//     of all balances over all chains plus the value of the relays
//     produced by decided blocks and not yet consumed by a decided block of
//     their destination equals the genesis total;
//   - exactly-once: no decided block consumes a relay that no decided block
//     produced, or one already consumed by any block of its destination;
//     no member's durable consumed set ever takes an ID twice, across its
//     restarts; a sibling relay is never consumed before the coordinator
//     recorded its block;
//   - liveness (RunShard): once the faults heal (and the load stops), every
//     chain must commit ShardTargets.LivenessHeights more heights, every
//     relay produced must be consumed and every client transfer confirmed
//     within ShardLivenessWindow.
//
// TestShardSwarm runs swarm seeds of 2, 4 and 8 chains, with half of the
// transfers cross-chain and crashes (at most f per committee), partitions,
// link cuts, clogs, loss, duplication and reordering, all healed by
// HealBy; TestShardSoak (-soak or THINKEY_SOAK=1) runs some 1,500 seeds.
//
// # Sharded networks: cost model
//
// Throughput is measured in virtual time, so a seed's figures are the same
// on every machine. Besides consensus (CPUCosts), a member is charged
// (ShardCosts, defaults from docs/PERFORMANCE.md, profile "ci-2c"):
//
//	work                                  charge
//	a message admitted to the mempool     Ed25519PerSignature 14 µs (ed25519, batch of 256)
//	building a block (leader)             14 µs per external input offered, 3.2 µs per
//	                                      message processed (input or inter-relay; exec:
//	                                      21.97 ms per 1,000 payments less signatures and
//	                                      root), 0.3 µs per account for the state root
//	checking a block (member)             BlockCheck, then the same with 1.8 µs per message
//	                                      (exec: 19.08 ms per 1,000 payments)
//	a relay proof (input, inbox, outbox)  RelayProof 2 µs (header hash, or the anchor
//	                                      lookup of a proof by reference, and a 1.5 µs
//	                                      Merkle path), RelayLift 1.5 µs per lift
//	a packed group of k relays (block)    RelayProof + k x RelayGroupPerRelay 1 µs to check
//	                                      it; the leader also pays k x RelayPackPerRelay
//	                                      1.25 µs to pack it (relay benchmarks)
//	a commit                              Persist 0.25 ms plus PersistPerWrite 2 µs per
//	                                      account or record written (pebble)
//	a record (recorder)                   RecordCheck 2 µs, and its certificate as a BLS
//	                                      certificate check: Verify 0.9 ms + 1 µs per signer
//	a followed recorder decision          its certificate (as above) + 2 µs per record
//
// A parked block check retried after the view advanced is charged its
// relay proofs only. Clients are outside the model: they are never
// crashed and charge nothing.
//
// # Replaying a seed
//
// A simulation test takes a -seed flag that runs only that seed; every
// failure is reported with FailureReport, which prints the command, for
// example
//
//	go test ./node/sim -run '^TestFloodSwarm$' -seed 42
//
// Setting WorldConfig.Trace to a writer prints every event of the replay
// (-simtrace in the tests). `thinkey sim --seed N` runs a consensus seed
// from the command line, and `thinkey sim --chains C --seed N --faults
// swarm --heal-by 6s --liveness-heights 2` a seed of TestShardSwarm (the
// sweep prints that command with every failure).
package sim
