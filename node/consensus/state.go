package consensus

import (
	"slices"

	"github.com/thinkey/thinkey/node/types"
)

// stage is a vote stage: preparation (prepare and leader-faulty votes, one
// value per member per round) or confirmation.
type stage uint8

const (
	stagePrepare stage = 0
	stageConfirm stage = 1
)

func stageOf(k types.VoteKind) stage {
	if k == types.VoteConfirm {
		return stageConfirm
	}
	return stagePrepare
}

// maxPendingValues bounds the distinct values one voter may have waiting
// for verification in one stage of one round: an honest voter has one, an
// equivocating one needs two to be caught, more is noise.
const maxPendingValues = 2

// heightState is what the core knows about the current height across its
// rounds. It is dropped when the height is committed.
type heightState struct {
	// blocks holds the blocks of proposals whose signature verified, of
	// verified decisions, and the member's own.
	blocks map[types.Hash]*Block
	// blockVerdicts caches the application's validity checks.
	blockVerdicts map[types.Hash]verdict
	// certVerdicts caches certificate checks, by Certificate.Hash.
	certVerdicts map[types.Hash]verdict
	// roundChanges holds each member's round change of highest round.
	roundChanges []*roundChangeEntry
	// rcVerdicts caches round-change signature checks, by roundChangeKey.
	rcVerdicts map[types.Hash]verdict
	// ownBlocks holds the blocks the shell built for rounds this member
	// leads.
	ownBlocks map[types.Round]*Block
	// decisionCheck is a Decision whose certificate is being checked.
	decisionCheck *decisionCandidate
	// decided is a certificate of a decision whose block has not arrived.
	decided *types.Certificate
	// committed is set once the height's decision is emitted; commit is it.
	committed bool
	commit    *Decision
}

type roundChangeEntry struct {
	msg *RoundChange
	key types.Hash
}

type decisionCandidate struct {
	decision *Decision
	hash     types.Hash
}

func newHeightState(n int) *heightState {
	return &heightState{
		blocks:        make(map[types.Hash]*Block),
		blockVerdicts: make(map[types.Hash]verdict),
		certVerdicts:  make(map[types.Hash]verdict),
		roundChanges:  make([]*roundChangeEntry, n),
		rcVerdicts:    make(map[types.Hash]verdict),
		ownBlocks:     make(map[types.Round]*Block),
	}
}

// pruneBelow forgets what only rounds below r could use: the member's own
// blocks built for them stay, as blocks it holds (SafeValue may name them).
func (h *heightState) pruneBelow(r types.Round) {
	for round := range h.ownBlocks {
		if round < r {
			b := h.ownBlocks[round]
			h.blocks[b.Hash()] = b
			delete(h.ownBlocks, round)
		}
	}
}

// roundState is what the core knows about its current round. It is dropped
// when the core leaves the round.
type roundState struct {
	round  types.Round
	stages [2]stageState
	// prepareCert is the first prepare certificate of this round, formed
	// from verified prepares or taken from a confirm after checking it.
	prepareCert *types.Certificate
	// certCheck is a confirm's prepare certificate being checked.
	certCheck *certCandidate
	// badCertFrom marks members that sent a certificate that failed.
	badCertFrom []bool

	// accepted is the first proposal of the round's leader whose
	// signature verified.
	accepted *Proposal
	// checking is the proposal being verified; queued one more, kept
	// until checking's signature is known.
	checking *proposalCheck
	queued   *Proposal
	// proposed is set once this member, as leader, proposed.
	proposed bool
	// timersArmed is set once the round's proposal and round timers are
	// armed; until then the resend timer runs (rule 6).
	timersArmed bool
	// proposalEvidence is set once the leader's equivocation is proven;
	// proposalEquivocationCheck while a second proposal is being checked.
	proposalEvidence          bool
	proposalEquivocationCheck bool
}

type certCandidate struct {
	cert types.Certificate
	hash types.Hash
	from types.ValidatorIndex
}

// proposalCheck tracks the verifications a received proposal waits for.
type proposalCheck struct {
	proposal *Proposal
	value    types.Hash
	// signature is the verdict on the proposer's signature.
	signature verdict
	// roundChanges are the keys of the justification's round changes.
	roundChanges []types.Hash
	// certificates are the hashes of the justification's certificates of
	// the highest round, the only ones SafeValue reads.
	certificates []types.Hash
}

// stageState tallies the votes of one stage of the current round.
type stageState struct {
	buckets map[types.Hash]*bucket
	voters  []voterState
}

// bucket holds the votes of one stage of one round on one value.
type bucket struct {
	value types.Hash
	// signers and sigs are the verified votes.
	signers types.SignerSet
	sigs    map[types.ValidatorIndex][types.BLSSignatureSize]byte
	// pending are votes not verified yet and not in flight.
	pending  []types.Vote
	inFlight bool
	// certified is set once the bucket's quorum was used (confirm stage);
	// fast once its all-member certificate was (prepare stage).
	certified bool
	fast      bool
}

// voterState is what one stage of one round knows of one voter.
type voterState struct {
	// first is the voter's first verified vote in the stage; only it
	// counts.
	first *types.Vote
	// pendingValues are the values of the voter's votes waiting for, or
	// in, a batch verification.
	pendingValues []types.Hash
	// banned is set after a vote with a bad signature: the voter's link
	// is authenticated, so only a faulty member sends one, and further
	// votes would only cost verifications.
	banned bool
	// checking is set while a suspected double vote is verified alone;
	// evidence once it was proven.
	checking bool
	evidence bool
}

func (v *voterState) removePending(value types.Hash) {
	if i := slices.Index(v.pendingValues, value); i >= 0 {
		v.pendingValues = slices.Delete(v.pendingValues, i, i+1)
	}
}

func newRoundState(r types.Round, n int) *roundState {
	rs := &roundState{round: r, badCertFrom: make([]bool, n)}
	for i := range rs.stages {
		rs.stages[i] = stageState{buckets: make(map[types.Hash]*bucket), voters: make([]voterState, n)}
	}
	return rs
}

// bucket returns the bucket of value, creating it.
func (s *stageState) bucket(value types.Hash, n int) *bucket {
	b := s.buckets[value]
	if b == nil {
		signers, _ := types.NewSignerSet(n) // n validated by New
		b = &bucket{value: value, signers: signers, sigs: make(map[types.ValidatorIndex][types.BLSSignatureSize]byte)}
		s.buckets[value] = b
	}
	return b
}
