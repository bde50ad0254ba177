// Package mempool holds the external messages (paper 5.2) that wait for a
// block of one chain: it admits them after checking everything that can be
// checked before execution, and hands the block leader a deterministic,
// nonce-respecting selection.
//
// # Who calls it
//
// The node driver (node/driver) creates one Pool per chain it serves, with
// a NonceSource over that chain's committed state, and routes each message
// to the pool of the chain that owns its sender's address (the pool does
// not check the route). The HTTP API (node/api) and the gossip receiver
// call Add from their goroutines; the consensus loop calls Reap to fill a
// proposal, then Update (or Remove) once a block commits, and Drop for
// messages that block execution refused. The API reads Status and Len.
//
// # Admission
//
// Add runs, per message, in this order, and refuses with the first failing
// rule (each refusal wraps one sentinel; Reason names it). The first four
// rows are actor.CheckExternal.
//
//	rule                                                sentinel             reason
//	--------------------------------------------------  -------------------  -----------------
//	kind external, ValidateBasic                        ErrInvalid           invalid
//	sender key not of small order                       ErrSmallOrderKey     small_order_key
//	From == address of SenderKey                        ErrSenderMismatch    sender_mismatch
//	To == From, Value == 0                              ErrInvalid           invalid
//	committed nonce readable                            ErrNonceUnavailable  nonce_unavailable
//	ID not pending (nor earlier in the same call)       ErrDuplicate         duplicate
//	Nonce >= committed nonce                            ErrNonceTooLow       nonce_too_low
//	Nonce - committed < NonceWindow                     ErrNonceGap          nonce_gap
//	no other pending message with this sender, nonce    ErrNonceConflict     nonce_conflict
//	sender has < MaxPerSender pending                   ErrSenderFull        sender_full
//	pool has < MaxMessages pending                      ErrPoolFull          pool_full
//	Ed25519 signature verifies                          ErrBadSignature      bad_signature
//
// The address rule (first 20 bytes of SHA-256("thinkey/address/v1" ||
// SenderKey)) and the other stateless rules belong to node/actor; the pool
// calls actor.CheckExternal so that what it admits is exactly what block
// execution accepts as well-formed. The committed nonce is the larger of
// the NonceSource's answer and the highest one the pool saw for the sender.
//
// The signatures of all messages of one Add call that pass the other rules
// are checked in one crypto/ed25519 Batch (ZIP-215, the same verdicts as
// one-by-one verification), with coefficients from the caller's random
// source. The batch reports a verdict per entry, so one bad signature
// refuses only its own message. The stateful rules are checked twice:
// before verification, counting what earlier messages of the call would
// take, so that no verification is spent on a message that cannot fit; and
// again under the lock at insertion, which is authoritative.
//
// A message whose nonce is ahead of the committed nonce (within the window)
// is admitted and waits: messages arrive out of order over gossip. Nothing
// evicts admitted messages to make room; a full pool refuses with
// ErrPoolFull until a block commits.
//
// # Selection
//
// Reap(limit) takes from each sender the run of consecutive nonces starting
// at its committed nonce, so it never returns a nonce gap, a nonce below
// the committed one, or a message twice. Across senders it merges the runs
// by arrival: the next message is always the earliest admitted among the
// senders' next messages. The result depends only on the sequence of calls
// that changed the pool (never on map iteration or timing), so a simulated
// node replays it exactly. Reap does not remove anything: the driver calls
// Update with the committed block's messages, which removes them and drops,
// as stale, every pending message whose nonce the block consumed.
//
// # Invariants
//
//   - Len() <= MaxMessages, and no sender has more than MaxPerSender
//     pending messages.
//   - At most one pending message per (sender, nonce), and each ID once.
//   - Every pending message passed every admission rule when admitted,
//     its signature included.
//   - Reap's output has, per sender, strictly consecutive nonces starting
//     at the sender's committed nonce, and no ID twice.
//   - The pool keeps clones of what it is given; callers may reuse their
//     buffers. What Reap returns shares Method and Args with the pool:
//     read-only.
//
// # Concurrency
//
// A Pool is safe for concurrent use. One RWMutex guards its maps; nonce
// reads (the NonceSource may read storage) and signature verification run
// outside it, so API goroutines admitting a large batch do not stall the
// consensus loop's Reap. An Update that lands while an Add is verifying
// bumps a generation counter; Add sees it and reads the nonces again
// before inserting, so it cannot insert a message that the block just made
// stale.
//
// # Status
//
// Status reports pending messages and remembers the last RecentDrops
// dropped IDs with their reason (a ring: memory is fixed). Included
// messages are not remembered here: the chain is the record of those.
//
// # Metrics
//
// Registered with the Registerer given to New, all labelled with the
// pool's chain:
//
//	thinkey_mempool_pending_messages            gauge
//	thinkey_mempool_admitted_total              counter
//	thinkey_mempool_rejected_total{reason}      counter, reason as in the table above, or "other"
//	thinkey_mempool_removed_total{reason}       counter, reason: included, stale, removed, dropped
//
// The package is a core in the sense of tools/archtest: no clock, no
// goroutines, no I/O; randomness comes in through Add's rnd argument.
// Prometheus (github.com/prometheus/client_golang) is used because it is
// how the node exports every metric, through a registry per node.
package mempool
