// Package sim is the deterministic discrete-event simulator that runs many
// nodes' pure cores in one process on virtual time, over a simulated network
// with injected faults, reproducibly from a seed.
//
// The simulation tests of the cores (consensus first), the `thinkey sim`
// command (tools/simulate) and the consensus bench stage drive it. Its
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
// from the command line.
package sim
