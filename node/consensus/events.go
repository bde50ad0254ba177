package consensus

import (
	"fmt"
	"math"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// Event is an input of Step: Start, MessageReceived, TimerFired,
// ProposalReady or VerifyResult. The set is closed. Every event carries Now,
// the shell's monotonic time since it started (virtual time in the
// simulator); the core never reads a clock.
type Event interface {
	now() time.Duration
	isEvent()
}

// Start is the first event of a core: it arms the timers of the restored
// round, asks for a block if this member leads it, and re-sends the votes
// and round change of the restored round (identical bytes: signing is
// deterministic), which a crash may have kept from leaving.
type Start struct {
	Now time.Duration
}

// MessageReceived delivers a decoded message from member From. The
// consensus network is a clique of authenticated connections (paper 4.1),
// so a signed message (proposal, vote, round change) is accepted only from
// its signer; a Decision, proven by its certificate, from anyone.
type MessageReceived struct {
	Now  time.Duration
	From types.ValidatorIndex
	Msg  Message
}

// TimerFired reports that a deadline set by a TimerSetting has passed. A
// timer of a round the core has left is answered with ErrStale.
type TimerFired struct {
	Now   time.Duration
	Timer Timer
}

// ProposalReady hands the leader the block the shell built for a
// ProposalRequest.
type ProposalReady struct {
	Now    time.Duration
	Height types.Height
	Round  types.Round
	Block  Block
}

// VerifyResult answers the VerifyRequest with the same ID. Which field is
// read depends on the request's kind:
//
//   - VerifySameMessageVotes: Invalid lists, in increasing order, the
//     indices into the request's Votes whose signature does not verify.
//   - VerifySignatures: Valid has one verdict per request Signatures entry.
//   - VerifyCertificate, VerifyBlock: OK.
type VerifyResult struct {
	Now     time.Duration
	ID      RequestID
	Invalid []int
	Valid   []bool
	OK      bool
}

func (e Start) now() time.Duration           { return e.Now }
func (e MessageReceived) now() time.Duration { return e.Now }
func (e TimerFired) now() time.Duration      { return e.Now }
func (e ProposalReady) now() time.Duration   { return e.Now }
func (e VerifyResult) now() time.Duration    { return e.Now }
func (Start) isEvent()                       {}
func (MessageReceived) isEvent()             {}
func (TimerFired) isEvent()                  {}
func (ProposalReady) isEvent()               {}
func (VerifyResult) isEvent()                {}

// TimerKind names the timeouts of a round.
type TimerKind uint8

// The timers of a round (docs/CONSENSUS.md, steps 1, 2 and 5, and rule 6).
// In round 0 the proposal and round timers are armed on entering it; in a
// round r > 0 only once q members are known to be in it (q round changes
// for r or later held, the member's own included), and until then the
// resend timer runs.
const (
	// TimerProposal fires ProposalTimeout + r*TimeoutIncrement after the
	// round's timers were armed: in round 0 it prepares EMPTY if nothing
	// was prepared, later it moves to the next round.
	TimerProposal TimerKind = 1
	// TimerRound fires RoundTimeout + r*TimeoutIncrement after the round's
	// timers were armed: without a decision the member moves to round r+1.
	TimerRound TimerKind = 2
	// TimerResendRoundChange fires every RoundTimeout + r*TimeoutIncrement
	// while round r > 0 waits for a quorum of round changes: the member
	// sends its round change for r again, so that members that lost it,
	// or were down, learn that it waits.
	TimerResendRoundChange TimerKind = 3
)

// String returns the timer kind's name.
func (k TimerKind) String() string {
	switch k {
	case TimerProposal:
		return "proposal-timeout"
	case TimerRound:
		return "round-timeout"
	case TimerResendRoundChange:
		return "resend-round-change"
	}
	return fmt.Sprintf("timer-kind(%d)", uint8(k))
}

// Timer identifies one timeout of one round.
type Timer struct {
	Kind   TimerKind
	Height types.Height
	Round  types.Round
}

// TimerSetting asks the shell to fire Timer at Deadline (in the time base
// of the events' Now). Timers are never cancelled: one that fires after the
// core left its round is answered with ErrStale, so the shell may keep only
// the latest deadline per kind.
type TimerSetting struct {
	Timer    Timer
	Deadline time.Duration
}

// Broadcast as an Envelope's To sends the message to every other member.
const Broadcast = types.ValidatorIndex(math.MaxUint32)

// Envelope is a message to send to one member, or to all others when To is
// Broadcast. The core handles its own messages itself: the shell must not
// loop a broadcast back to the sender.
type Envelope struct {
	To  types.ValidatorIndex
	Msg Message
}

// RequestID identifies a VerifyRequest. IDs count up from 1 in each core's
// lifetime, so a replay of the same events yields the same IDs.
type RequestID uint64

// VerifyKind says what a VerifyRequest asks for.
type VerifyKind uint8

// The kinds of verification request.
const (
	// VerifySameMessageVotes: every entry of Votes is a vote on
	// SigningBytes; check each signature against its Voter's key, one
	// aggregate check and bisection on failure
	// (crypto/bls.VerifySameMessage). Answer with Invalid.
	VerifySameMessageVotes VerifyKind = 1
	// VerifySignatures: independent signatures over distinct messages
	// (proposals, round changes, a suspected double vote); batch them
	// (crypto/bls.BatchVerifyFindInvalid). Answer with Valid.
	VerifySignatures VerifyKind = 2
	// VerifyCertificate: check Certificate's aggregate signature over its
	// VoteSigningBytes against the aggregate of its signers' keys
	// (crypto/bls.FastAggregateVerify). The core has already checked the
	// committee size and the signer count. Answer with OK.
	VerifyCertificate VerifyKind = 3
	// VerifyBlock: the application's validity check of a proposed block
	// against the chain state (parent, roots, execution). Answer with OK.
	VerifyBlock VerifyKind = 4
)

// String returns the kind's name.
func (k VerifyKind) String() string {
	switch k {
	case VerifySameMessageVotes:
		return "same-message-votes"
	case VerifySignatures:
		return "signatures"
	case VerifyCertificate:
		return "certificate"
	case VerifyBlock:
		return "block"
	}
	return fmt.Sprintf("verify-kind(%d)", uint8(k))
}

// SignatureCheck is one signature to check: Signature by member Signer
// over Message.
type SignatureCheck struct {
	Signer    types.ValidatorIndex
	Message   []byte
	Signature [types.BLSSignatureSize]byte
}

// VerifyRequest asks the shell to check signatures or a block; the answer
// comes back as a VerifyResult event with the same ID. Every request must be
// answered exactly once, in any order; results of requests the core no
// longer needs are answered with ErrStale.
type VerifyRequest struct {
	ID   RequestID
	Kind VerifyKind
	// SigningBytes is the message every vote of Votes signed
	// (VerifySameMessageVotes).
	SigningBytes []byte
	// Votes are the votes to check (VerifySameMessageVotes).
	Votes []types.Vote
	// Signatures are the signatures to check (VerifySignatures).
	Signatures []SignatureCheck
	// Certificate is the certificate to check (VerifyCertificate).
	Certificate *types.Certificate
	// Block is the block to validate (VerifyBlock).
	Block *Block
}

// ProposalRequest asks the shell to build a block for the member to
// propose at (Height, Round); the shell answers with ProposalReady.
type ProposalRequest struct {
	Height types.Height
	Round  types.Round
}

// Ready is the batch of actions the core has accumulated. The shell carries
// them out with Apply, which keeps this order (see the package
// documentation):
//
//  1. Persist (when non-nil) and the blocks and certificates of Commits,
//     durably and in one synced write;
//  2. Send;
//  3. hand Commits to execution, Evidence to the root-chain client, Verify
//     to the verifier and ProposalRequests to the block builder;
//  4. arm Timers;
//
// and then calls Advance.
type Ready struct {
	// Persist is the member's new durable state, nil when unchanged.
	Persist *PersistentState
	// Send lists the messages to send, in order.
	Send []Envelope
	// Commits lists decided heights in increasing order.
	Commits []Decision
	// Evidence lists equivocations seen for the first time.
	Evidence []Evidence
	// Verify lists signature and block checks to run.
	Verify []VerifyRequest
	// ProposalRequests lists blocks to build.
	ProposalRequests []ProposalRequest
	// Timers lists deadlines to arm.
	Timers []TimerSetting
}

// IsEmpty reports whether the batch holds no action.
func (r *Ready) IsEmpty() bool {
	return r.Persist == nil && len(r.Send) == 0 && len(r.Commits) == 0 && len(r.Evidence) == 0 &&
		len(r.Verify) == 0 && len(r.ProposalRequests) == 0 && len(r.Timers) == 0
}
