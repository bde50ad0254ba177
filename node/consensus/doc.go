// Package consensus is the committee consensus core of one chain: the PBFT
// variant of paper section 4.2 (Fig. 5): proposal, preparation,
// confirmation, "leader faulty" on timeout, the empty block, early
// consensus and equivocation evidence, with the quorums, the lock and the
// round-change rule (SafeValue) that docs/CONSENSUS.md adds. That document
// is the specification; this package implements it and says below where it
// had to read between its lines.
//
// # Who calls it
//
// The node driver (node/driver) runs one Core per chain the node is a
// committee member of, over the real network, disk, clock and BLS; the
// simulator (node/sim) runs hundreds of them over a simulated network and
// virtual time. Both feed events in and carry the resulting actions out
// through the same Ready contract, so the two worlds cannot drift. The core
// itself is a deterministic state machine: no goroutine, clock, randomness,
// I/O or signature verification (tools/archtest enforces the first four).
// The same events in the same order give the same actions, byte for byte.
//
// # Using a Core
//
//	c, err := consensus.New(cfg, state) // state: the last PersistentState written, or InitialState
//	c.Step(consensus.Start{Now: now})
//	for each event (message, timer, block built, verification done):
//		err := c.Step(ev)           // errors: ErrStale, ErrFuture, ErrUnknownMember, ErrInvalid
//		if c.HasReady() {
//			if err := consensus.Apply(c.Ready(), effects); err != nil {
//				stop the member // its durable state is unknown; restart from storage
//			}
//			c.Advance()
//		}
//
// Apply is the one place the order below is written down: it carries a
// Ready out through the shell's Effects (Persist, Send, Commit, Evidence,
// Verify, RequestProposal, SetTimer). The production driver and the
// simulator (node/sim) both call it, so neither can reorder the duties.
//
// Ready's duties, in this order (as etcd raft's):
//
//  1. Persist, when non-nil, and the block and certificate of every entry
//     of Commits must be made durable in one synced write. Persist holds
//     the member's votes and lock: writing it before anything of the same
//     Ready is sent is what keeps a restarted member from signing two votes
//     in one round. After a commit Persist names the next height, so it must
//     never be durable without the committed block.
//  2. Send the envelopes (Broadcast: to every other member; never back to
//     the sender).
//  3. Hand Commits to execution, Evidence to the root-chain client, Verify
//     to the verifier and ProposalRequests to the block builder. Every
//     VerifyRequest is answered by exactly one VerifyResult event, in any
//     order; every ProposalRequest by a ProposalReady event.
//  4. Arm Timers: deliver TimerFired at each deadline. Timers are never
//     cancelled; one that fires after its round is answered with ErrStale.
//     A timer of a kind replaces the one of the same kind armed before,
//     so a shell may keep one deadline per kind.
//
// Then call Advance. Step may run between Ready and Advance; what it adds
// waits for the next Ready.
//
// # Verification as requests
//
// The core never checks a signature: it asks the shell, so that the shell's
// batcher can merge requests, run one aggregate check and bisect on failure
// (crypto/bls.VerifySameMessage, BatchVerifyFindInvalid). Votes are
// buffered per (round, stage, value) and sent for verification only when
// they, with the ones already verified, make a quorum (or all n prepares,
// for early consensus): one VerifySameMessageVotes request for all of them.
// On the happy path a member asks for one signature batch (the proposal),
// one or two same-message vote batches and one block check per block. A vote
// with a bad signature is dropped and its sender ignored for the rest of the
// stage (links are authenticated, so only a faulty member sends one); it is
// not evidence, since anyone can produce garbage under any index.
// Certificates (a confirm's prepare certificate, a justification's, a
// Decision's) go out as VerifyCertificate after the core checked their
// committee size and signer count; the application's check of a proposed
// block as VerifyBlock. Signing goes through the injected Signer and
// certificate aggregation through the injected Aggregator (BLS in
// production, a fast stand-in in the simulator).
//
// # Invariants
//
// Safety (agreement) is argued in docs/CONSENSUS.md, "Why it is safe": two
// quorums meet in an honest member; a value decided in round R is the only
// value of any prepare certificate of a round >= R, and SafeValue returns it
// for every justification of a later round. The argument needs, and the
// core keeps:
//
//   - A member votes only in its current round, at most once per stage
//     (preparation: one prepare or leader-faulty vote; confirmation: one
//     confirm), and only confirms the value of a prepare certificate of that
//     round. A round change for r reports the member's lock and last prepare
//     as they are when it leaves r-1, and it never votes in a lower round
//     afterwards. (docs/CONSENSUS.md does not say "current round" in so many
//     words; without it a member could confirm an old round after reporting
//     no certificate for it, which breaks the argument.)
//   - Nothing is signed after the core has decided, within the same event,
//     to leave the round or the height.
//   - The leader proposes at most once per round, and only while it has not
//     prepared in it: its prepare, persisted in the same Ready as the
//     proposal, keeps a restarted leader from proposing again.
//   - A justification holds exactly q round changes for its round from
//     distinct members, so at most one value reaches t (2t > q).
//   - Persist precedes Send (the Ready contract), and New refuses a state
//     that is not this member's or is internally inconsistent.
//
// The tests check agreement, the certificate of every commit, the lemma
// above against every honest certificate and proposal, the absence of
// honest double votes, and CheckInvariants after every event. Production
// builds run CheckInvariants inside Step with the invariants build tag.
//
// # Reading of the specification
//
//   - Preparation is one stage: a prepare on a block and a leader-faulty
//     vote (the prepare on EMPTY) in one round are two prepares, and signed
//     by one member they are evidence.
//   - A confirm on EMPTY is a VoteConfirm with the zero hash, as
//     docs/CONSENSUS.md says; node/types' ValidateBasic does not accept that
//     yet, so this package checks votes and certificates itself
//     (validateVote, validateCertificate).
//   - The proposal timeout of a round above 0 moves the member on only if it
//     has not prepared in the round; otherwise the round timeout governs.
//   - Round timers wait for a quorum (rule 6 of the round change): in a
//     round r > 0 the proposal and round timers are armed only once q
//     members are known to be in r: q round changes for r or a later round
//     held (the member's own included, those whose signature failed not
//     counted), or a prepare or lock of r (a justified proposal or a
//     prepare certificate of r preceded it). Until then the member arms
//     TimerResendRoundChange and re-sends the same round change every
//     roundTimeout(r). Without it, a member alone a round ahead of the
//     others (too few to pull them by the f+1 skip rule) left each round
//     before they reached it, and with one member silent the committee
//     met in a round only once timeouts had grown past the offset (hours
//     of virtual time; TestRule6MemberAheadWaitsForQuorumOfRoundChanges).
//     Counting round changes of later rounds keeps members at different
//     rounds from waiting on each other forever: the lowest of them always
//     holds q and moves up. Round 0 arms its timers at once, since every
//     member starts a height there.
//   - A member still working on the previous height is sent that height's
//     decision in answer to its round change when it reports a round not
//     answered yet, or when ProposalTimeout has passed since its last
//     answer: with rule 6 a laggard re-sends the same round change while
//     it waits, and a lost answer must be repeated
//     (TestLaggardIsAnsweredAgainWhenItResendsItsRoundChange).
//   - A member entering a round by the skip rule sends its own round change
//     for it, like any member entering a round. It keeps one round change
//     per member, the highest, and joins the highest round that f+1
//     members' round changes reach.
//   - A signed message (proposal, vote, round change) is accepted only from
//     its signer: the consensus network is a clique of authenticated links
//     (paper 4.1). A Decision is accepted from anyone; its certificate is the
//     proof.
//   - In a justification only the certificates of the highest round are
//     verified (SafeValue reads no other) and the last-prepare votes are not
//     verified separately: the round change's signature binds them, and a
//     member can sign any prepare anyway.
//   - Round 0 proposes a block; EMPTY is proposed only when SafeValue names
//     it in a later round.
//   - A member keeps, in its PersistentState, the blocks of the values it
//     prepared or locked (a later leader may have to propose one, and only
//     members that prepared a block are sure to hold it) and the previous
//     height's decision, which it sends to members whose round changes show
//     them still at that height. Gaps of more than one height are the
//     shell's block sync (ErrFuture tells it).
//   - Evidence is detected while the round's votes are kept: a double vote
//     that arrives after its height is decided is not seen.
//
// # Wire formats
//
// Consensus messages use the canonical encoding of node/codec (big-endian
// fixed-width integers, 0x00/0x01 bools, uint32-length-prefixed variable
// fields) and embed the node/types encodings of votes, certificates and
// headers unchanged, so decoding is as strict: input longer than the
// type's maximum is refused before any field is read (ErrTooLarge), then
// truncation (ErrTruncated), trailing bytes (ErrTrailingBytes), bad bools
// (ErrNonCanonical), wrong kind bytes (ErrWrongType, ErrUnknownKind) and a
// vote or certificate of the wrong kind for its field (ErrUnknownKind). The
// encoding is hand-written for the reason node/codec gives: it is part of
// the protocol. Every message starts with its kind byte, 0x10 and up, which
// never collides with a node/types tag (0x01..0x04). Offsets and widths are
// in bytes; "Vote" is the 150-byte node/types vote, "Certificate" the
// node/types certificate (150 + ceil(n/8) bytes), "Header" the 232-byte
// node/types header.
//
// Proposal (MaxBlockBodySize = 4 MiB, at most MaxJustification round
// changes):
//
//	off  width  field
//	  0      1  Kind = 0x10
//	  1      4  ChainID
//	  5      8  Height
//	 13      4  Round
//	 17      4  Proposer
//	 21      1  HasBlock (0x00: EMPTY is proposed)
//	            if HasBlock:
//	 22    232    Header
//	254      4    b = length of Body
//	258      b    Body
//	  .      4  j = number of round changes
//	  .      .  j RoundChange encodings, senders strictly increasing
//	  .     96  Signature over the proposal signing bytes
//
// Proposal signing bytes (71 bytes); evidence carries exactly these fields
// and the signature:
//
//	off  width  field
//	  0     19  "thinkey/proposal/v1"
//	 19      4  ChainID
//	 23      8  Height
//	 31      4  Round
//	 35      4  Proposer
//	 39     32  Value (the block's header hash; zero for EMPTY)
//
// Prepare (151 bytes):
//
//	off  width  field
//	  0      1  Kind = 0x11
//	  1    150  Vote (prepare or leader-faulty)
//
// Confirm (155 + c bytes):
//
//	off  width  field
//	  0      1  Kind = 0x12
//	  1    150  Vote (confirm; zero hash for EMPTY)
//	151      4  c = length of PrepareCertificate
//	155      c  PrepareCertificate (prepare or leader-faulty, same round
//	            and value as the vote)
//
// RoundChange (119 bytes, plus 4 + c with a certificate, plus 150 with a
// last prepare):
//
//	off  width  field
//	  0      1  Kind = 0x13
//	  1      4  ChainID
//	  5      8  Height
//	 13      4  Round (the round entered, at least 1)
//	 17      4  Sender
//	 21      1  HasHighestCertificate
//	            if set:
//	 22      4    c = length of HighestCertificate
//	 26      c    HighestCertificate (prepare or leader-faulty)
//	  .      1  HasLastPrepare
//	  .    150    LastPrepare (if set: the sender's prepare or
//	              leader-faulty vote)
//	  .     96  Signature over the round-change signing bytes
//
// RoundChange signing bytes (107 bytes):
//
//	off  width  field
//	  0     23  "thinkey/round-change/v1"
//	 23      4  ChainID
//	 27      8  Height
//	 35      4  Round
//	 39      4  Sender
//	 43     32  SHA-256 of the HighestCertificate encoding (zero if none)
//	 75     32  SHA-256 of the LastPrepare encoding (zero if none)
//
// Decision:
//
//	off  width  field
//	  0      1  Kind = 0x14
//	  1      1  HasBlock (0x00 exactly when EMPTY was decided)
//	            if HasBlock:
//	  2    232    Header
//	234      4    b = length of Body
//	238      b    Body
//	  .      4  c = length of Certificate
//	  .      c  Certificate (confirm with at least q signers, or prepare /
//	            leader-faulty with all n: early consensus)
//
// Evidence (302 bytes for votes, 298 for proposals):
//
//	off  width  field
//	  0      1  Tag = 0x18
//	  1      1  Kind (1 double vote, 2 double proposal)
//	            Kind 1:
//	  2    150    first Vote
//	152    150    second Vote
//	            Kind 2, twice (at 2 and 150), 148 bytes each:
//	  .      4    ChainID
//	  .      8    Height
//	  .      4    Round
//	  .      4    Proposer
//	  .     32    Value
//	  .     96    Signature
//
// PersistentState (local storage, not the network; same rules):
//
//	off  width  field
//	  0      1  Tag = 0x19
//	  1      4  ChainID
//	  5      8  Height
//	 13      4  Round
//	 17      1  HasLastPrepare, then the 150-byte Vote if set
//	  .      1  HasLastConfirm, then the 150-byte Vote if set
//	  .      1  HasLock, then 4-byte length c and the Certificate if set
//	  .      4  k = number of kept blocks (at most MaxKeptBlocks)
//	  .      .  k times: 232-byte Header, 4-byte length b, b bytes of Body
//	  .      1  HasPreviousDecision, then a Decision encoding if set
package consensus
