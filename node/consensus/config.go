package consensus

import (
	"errors"
	"fmt"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// Signer signs with this member's BLS key. It is injected so the core holds
// no key material and imports no curve code: production passes
// crypto/bls.Sign over the member's secret key, the simulator a fast
// stand-in. Sign must be deterministic (BLS is), so that a member restarted
// from its PersistentState re-signs byte-identical messages.
type Signer interface {
	Sign(msg []byte) [types.BLSSignatureSize]byte
}

// Aggregator combines signatures over one message into the aggregate a
// certificate carries (crypto/bls.AggregateSignatures in production). The
// core calls it only on signatures that verified, once per certificate it
// forms; an error means the shell's scheme and the verifier disagree and the
// certificate is not formed.
type Aggregator interface {
	Aggregate(sigs [][types.BLSSignatureSize]byte) ([types.BLSSignatureSize]byte, error)
}

// Defaults applied by WithDefaults to zero fields.
const (
	DefaultProposalTimeout            = 2 * time.Second
	DefaultRoundTimeout               = 4 * time.Second
	DefaultTimeoutIncrement           = time.Second
	DefaultMaxFutureMessagesPerMember = 32
)

// Config is the static configuration of one member's consensus core for one
// committee.
type Config struct {
	// Chain is the chain whose committee this is; messages of other chains
	// are rejected.
	Chain types.ChainID
	// Self is this member's index in the committee.
	Self types.ValidatorIndex
	// CommitteeSize is n, the number of members, 1 to
	// types.MaxCommitteeSize.
	CommitteeSize int
	// Signer signs this member's votes, proposals and round changes.
	Signer Signer
	// Aggregator builds certificates from verified votes.
	Aggregator Aggregator
	// ProposalTimeout is how long a member waits in round 0 for a valid
	// proposal before preparing EMPTY ("leader faulty"), and in later rounds
	// before moving on. Round r waits ProposalTimeout + r*TimeoutIncrement.
	ProposalTimeout time.Duration
	// RoundTimeout is how long a round may last before the member sends a
	// round change; round r lasts RoundTimeout + r*TimeoutIncrement. It
	// must exceed ProposalTimeout.
	RoundTimeout time.Duration
	// TimeoutIncrement makes timeouts grow linearly with the round, so that
	// after the network heals they eventually exceed the message delay.
	TimeoutIncrement time.Duration
	// MaxFutureMessagesPerMember bounds how many messages of rounds or
	// heights the core has not reached yet it keeps per sender; beyond it
	// the sender's oldest is dropped. A per-sender bound keeps a faulty
	// member from crowding out the honest ones.
	MaxFutureMessagesPerMember int
}

// WithDefaults returns c with every zero duration and bound replaced by its
// default.
func (c Config) WithDefaults() Config {
	if c.ProposalTimeout == 0 {
		c.ProposalTimeout = DefaultProposalTimeout
	}
	if c.RoundTimeout == 0 {
		c.RoundTimeout = DefaultRoundTimeout
	}
	if c.TimeoutIncrement == 0 {
		c.TimeoutIncrement = DefaultTimeoutIncrement
	}
	if c.MaxFutureMessagesPerMember == 0 {
		c.MaxFutureMessagesPerMember = DefaultMaxFutureMessagesPerMember
	}
	return c
}

// Validate reports every problem of c at once, each wrapping ErrInvalid.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("consensus config: %w: "+format, append([]any{ErrInvalid}, args...)...))
	}
	if c.CommitteeSize < 1 || c.CommitteeSize > types.MaxCommitteeSize {
		bad("CommitteeSize %d outside 1..%d", c.CommitteeSize, types.MaxCommitteeSize)
	} else if int64(c.Self) >= int64(c.CommitteeSize) {
		bad("Self %d is not a member of a committee of %d", c.Self, c.CommitteeSize)
	}
	if c.Signer == nil {
		bad("Signer is nil")
	}
	if c.Aggregator == nil {
		bad("Aggregator is nil")
	}
	if c.ProposalTimeout <= 0 {
		bad("ProposalTimeout %v is not positive", c.ProposalTimeout)
	}
	if c.RoundTimeout <= c.ProposalTimeout {
		bad("RoundTimeout %v does not exceed ProposalTimeout %v", c.RoundTimeout, c.ProposalTimeout)
	}
	if c.TimeoutIncrement < 0 {
		bad("TimeoutIncrement %v is negative", c.TimeoutIncrement)
	}
	if c.MaxFutureMessagesPerMember < 1 {
		bad("MaxFutureMessagesPerMember %d is below 1", c.MaxFutureMessagesPerMember)
	}
	return errors.Join(errs...)
}

// Thresholds are the committee sizes of docs/CONSENSUS.md for a committee of
// N members.
type Thresholds struct {
	// N is the committee size.
	N int
	// F = floor((N-1)/3) is the number of Byzantine members tolerated.
	F int
	// Quorum q = N - F: prepare and confirm certificates, round-change
	// justifications.
	Quorum int
	// Report t = floor(q/2) + 1: a value reported as last prepared by t
	// round-change messages of a justification is the safe value.
	Report int
	// Skip = F + 1: round-change messages for a higher round that make a
	// member join it.
	Skip int
}

// ThresholdsFor returns the thresholds of a committee of n members.
func ThresholdsFor(n int) Thresholds {
	f := (n - 1) / 3
	q := n - f
	return Thresholds{N: n, F: f, Quorum: q, Report: q/2 + 1, Skip: f + 1}
}

// Leader returns the leader of a round: (height + round) mod n
// (docs/CONSENSUS.md, "One height"). n must be positive.
func Leader(height types.Height, round types.Round, n int) types.ValidatorIndex {
	return types.ValidatorIndex((uint64(height)%uint64(n) + uint64(round)%uint64(n)) % uint64(n))
}
