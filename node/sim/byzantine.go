package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// ByzantineKind is one way a simulated member departs from the protocol.
// Every kind is a wrapper around an honest core: it rewrites what the core
// sends, or what the member's application hands it, and never reaches into
// the core. A safety run has at most f Byzantine members.
type ByzantineKind uint8

const (
	// ByzantineSilent stops for good at ByzantineMember.From (from the
	// start when zero): it receives, sends and persists nothing more, and a
	// restart does not bring it back (crash-stop).
	ByzantineSilent ByzantineKind = iota + 1
	// ByzantineEquivocatingLeader, whenever its core proposes, signs a
	// second proposal for the same round with another block and sends the
	// first to the lower half of the other members, the second to the
	// upper half, and both to one member drawn at random (so that an honest
	// member may see both and prove the equivocation).
	ByzantineEquivocatingLeader
	// ByzantineEquivocatingVoter, whenever its core prepares, signs a
	// second prepare-stage vote for the same round on another value (EMPTY
	// for a block, a made-up block hash for EMPTY), split between the
	// halves as the equivocating leader's proposals are. It equivocates in
	// the preparation stage only: a confirm on another value would need a
	// prepare certificate for it, which it cannot forge.
	ByzantineEquivocatingVoter
	// ByzantineInvalidProposal builds blocks that fail the application's
	// validity check (their InputRoot does not match the body), which its
	// core proposes as any block.
	ByzantineInvalidProposal
	// ByzantineDelay holds each message its core sends for a delay drawn
	// uniformly in [0, ByzantineMember.MaxDelay] before sending it, so its
	// messages arrive late and out of order.
	ByzantineDelay

	byzantineKindEnd
)

var byzantineKindNames = [...]string{
	ByzantineSilent:             "silent",
	ByzantineEquivocatingLeader: "equivocating-leader",
	ByzantineEquivocatingVoter:  "equivocating-voter",
	ByzantineInvalidProposal:    "invalid-proposal",
	ByzantineDelay:              "delay",
}

// String returns the name ParseByzantineKind accepts.
func (k ByzantineKind) String() string {
	if k >= ByzantineSilent && k < byzantineKindEnd {
		return byzantineKindNames[k]
	}
	return fmt.Sprintf("ByzantineKind(%d)", uint8(k))
}

// AllByzantineKinds lists every kind, in order.
func AllByzantineKinds() []ByzantineKind {
	out := make([]ByzantineKind, 0, byzantineKindEnd-ByzantineSilent)
	for k := ByzantineSilent; k < byzantineKindEnd; k++ {
		out = append(out, k)
	}
	return out
}

// ParseByzantineKind parses one kind's name.
func ParseByzantineKind(name string) (ByzantineKind, error) {
	for _, k := range AllByzantineKinds() {
		if k.String() == name {
			return k, nil
		}
	}
	names := make([]string, 0, len(byzantineKindNames))
	for _, k := range AllByzantineKinds() {
		names = append(names, k.String())
	}
	return 0, fmt.Errorf("%w: byzantine kind %q (want one of %s)", ErrInvalidConfig, name, strings.Join(names, ", "))
}

// ByzantineMember makes one member Byzantine.
type ByzantineMember struct {
	Member types.ValidatorIndex
	Kind   ByzantineKind
	// From is when a silent member stops; zero: it never starts.
	From time.Duration
	// MaxDelay bounds a delaying member's hold on each message; zero takes
	// the round timeout of round 0.
	MaxDelay time.Duration
}

// String renders the member as "3:equivocating-leader".
func (b ByzantineMember) String() string { return fmt.Sprintf("%d:%v", b.Member, b.Kind) }

// validateByzantine checks a Byzantine set for a committee of n members:
// known kinds, distinct members, at most f of them.
func validateByzantine(byz []ByzantineMember, n int) error {
	var errs []error
	f := consensus.ThresholdsFor(n).F
	if len(byz) > f {
		errs = append(errs, fmt.Errorf("%w: %d Byzantine members, a committee of %d tolerates f = %d", ErrInvalidConfig, len(byz), n, f))
	}
	seen := make(map[types.ValidatorIndex]bool)
	for _, b := range byz {
		if int64(b.Member) >= int64(n) {
			errs = append(errs, fmt.Errorf("%w: Byzantine member %d outside a committee of %d", ErrInvalidConfig, b.Member, n))
		}
		if seen[b.Member] {
			errs = append(errs, fmt.Errorf("%w: member %d made Byzantine twice", ErrInvalidConfig, b.Member))
		}
		seen[b.Member] = true
		if b.Kind < ByzantineSilent || b.Kind >= byzantineKindEnd {
			errs = append(errs, fmt.Errorf("%w: member %d: unknown Byzantine kind %d", ErrInvalidConfig, b.Member, b.Kind))
		}
		if b.From < 0 || b.MaxDelay < 0 {
			errs = append(errs, fmt.Errorf("%w: member %d: negative time", ErrInvalidConfig, b.Member))
		}
	}
	return errors.Join(errs...)
}

// streamScenario is the random stream of a seed that draws its scenario
// (which members are Byzantine, and how); world streams are untouched.
const streamScenario streamKind = 4

// AssignByzantine makes one member Byzantine per kind in kinds, drawing the
// members from seed. It fails when kinds holds more than f entries.
func AssignByzantine(seed uint64, n int, kinds []ByzantineKind) ([]ByzantineMember, error) {
	rng := newStream(seed, streamScenario, 1)
	perm := rng.Perm(n)
	out := make([]ByzantineMember, 0, len(kinds))
	for i, k := range kinds {
		if i >= n {
			break
		}
		out = append(out, ByzantineMember{Member: types.ValidatorIndex(perm[i]), Kind: k})
	}
	if len(kinds) > len(out) {
		return nil, fmt.Errorf("assign Byzantine members: %w: %d kinds for %d members", ErrInvalidConfig, len(kinds), n)
	}
	if err := validateByzantine(out, n); err != nil {
		return nil, fmt.Errorf("assign Byzantine members: %w", err)
	}
	slices.SortFunc(out, func(a, b ByzantineMember) int { return int(a.Member) - int(b.Member) })
	return out, nil
}

// RandomByzantine draws from seed how many members are Byzantine (0 to f,
// uniformly), which ones and of which kind, with silent members stopping at
// a time drawn in [0, stopBy).
func RandomByzantine(seed uint64, n int, stopBy time.Duration) []ByzantineMember {
	rng := newStream(seed, streamScenario, 2)
	f := consensus.ThresholdsFor(n).F
	count := rng.IntN(f + 1)
	kinds := AllByzantineKinds()
	perm := rng.Perm(n)
	out := make([]ByzantineMember, 0, count)
	for i := range count {
		b := ByzantineMember{Member: types.ValidatorIndex(perm[i]), Kind: kinds[rng.IntN(len(kinds))]}
		if b.Kind == ByzantineSilent && stopBy > 0 && rng.IntN(2) == 1 {
			b.From = time.Duration(rng.Int64N(int64(stopBy)))
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b ByzantineMember) int { return int(a.Member) - int(b.Member) })
	return out
}

// ---------------------------------------------------------------- wrappers

// byzantineSend rewrites one envelope of a Byzantine member's honest core;
// it reports false when the envelope goes out unchanged.
func (m *member) byzantineSend(env consensus.Envelope) bool {
	switch m.byz.Kind {
	case ByzantineEquivocatingLeader:
		if p, ok := env.Msg.(*consensus.Proposal); ok && env.To == consensus.Broadcast {
			m.equivocateProposal(p)
			return true
		}
	case ByzantineEquivocatingVoter:
		if p, ok := env.Msg.(*consensus.Prepare); ok && env.To == consensus.Broadcast {
			m.equivocateVote(p)
			return true
		}
	case ByzantineDelay:
		m.hold(env)
		return true
	}
	return false
}

// split sends first to the lower half of the other members and second to
// the upper half, and both, first then second, to one member drawn from the
// member's stream.
func (m *member) split(first, second consensus.Message) {
	var others []types.ValidatorIndex
	for i := range m.cl.cfg.Members {
		if types.ValidatorIndex(i) != m.index {
			others = append(others, types.ValidatorIndex(i))
		}
	}
	if len(others) == 0 {
		return
	}
	witness := others[m.rng.IntN(len(others))]
	for k, to := range others {
		switch {
		case to == witness:
			m.transmit(to, first)
			m.transmit(to, second)
		case k < len(others)/2:
			m.transmit(to, first)
		default:
			m.transmit(to, second)
		}
	}
}

// equivocateProposal proposes a second block for the round of p.
func (m *member) equivocateProposal(p *consensus.Proposal) {
	parent, ok := m.linkAt(p.Height - 1)
	if !ok {
		m.transmit(consensus.Broadcast, p)
		return
	}
	block := buildBlock(m.cl.cfg.Chain, p.Height, p.Round, m.index, parent, m.eventTime(), m.cl.cfg.BlockBodySize, m.appRand, false)
	other := *p
	other.Block = &block
	other.Signature = m.signer.Sign(other.SigningBytes())
	m.split(p, &other)
}

// equivocateVote signs a second prepare-stage vote for the round of p.
func (m *member) equivocateVote(p *consensus.Prepare) {
	other := p.Vote
	if consensus.IsEmptyValue(other.BlockHash) {
		other.Kind = types.VotePrepare
		for i := 0; i < len(other.BlockHash); i += 8 {
			v := m.rng.Uint64()
			for j := range 8 {
				other.BlockHash[i+j] = byte(v >> (8 * j))
			}
		}
	} else {
		other.Kind = types.VoteLeaderFaulty
		other.BlockHash = types.Hash{}
	}
	other.Signature = m.signer.Sign(other.SigningBytes())
	m.split(p, &consensus.Prepare{Vote: other})
}

// delayTimerBase is the first timer ID of held messages; consensus timers
// use their kind as ID, below it.
const delayTimerBase = 1 << 32

// heldMessage is a message a delaying member holds back.
type heldMessage struct {
	timerID uint64
	env     consensus.Envelope
}

// hold keeps env until a delay drawn from the member's stream has passed.
func (m *member) hold(env consensus.Envelope) {
	maxDelay := m.byz.MaxDelay
	if maxDelay == 0 {
		maxDelay = m.cl.cfg.RoundTimeout
	}
	delay := time.Duration(m.rng.Int64N(int64(maxDelay) + 1))
	m.nextHeld++
	id := delayTimerBase + m.nextHeld
	m.held = append(m.held, heldMessage{timerID: id, env: env})
	m.cl.world.SetTimer(m.id, m.eventTime()+delay, id)
}

// release sends the held message of timer id.
func (m *member) release(id uint64) {
	i := slices.IndexFunc(m.held, func(h heldMessage) bool { return h.timerID == id })
	if i < 0 {
		return
	}
	env := m.held[i].env
	m.held = slices.Delete(m.held, i, i+1)
	m.transmit(env.To, env.Msg)
}

// invalidBlocks reports whether the member's application builds invalid
// blocks.
func (m *member) invalidBlocks() bool { return m.byz.Kind == ByzantineInvalidProposal }

// silentAt reports whether the member is silent at now; the first time it
// is, it drops everything volatile for good.
func (m *member) silentAt(now time.Duration) bool {
	if m.byz.Kind != ByzantineSilent || now < m.byz.From {
		return false
	}
	if !m.stopped {
		m.stopped = true
		m.dropVolatile()
	}
	return true
}

// subStream derives an independent stream from a member's stream, so that
// what one part of a member draws does not shift another's draws.
func subStream(rng *rand.Rand) *rand.Rand {
	return rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
}
