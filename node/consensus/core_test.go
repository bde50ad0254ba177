package consensus

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// startedCore returns member self of a committee of n at height 1, started
// and with its first Ready drained.
func startedCore(t *testing.T, n, self int) *Core {
	t.Helper()
	c, err := New(defaultTestConfig(n, self), InitialState(testChain, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Step(Start{Now: time.Second}); err != nil {
		t.Fatal(err)
	}
	c.Ready()
	c.Advance()
	return c
}

func stateBytes(t *testing.T, c *Core) []byte {
	t.Helper()
	s := c.persistentState()
	b, err := EncodePersistentState(&s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Bad input returns a sentinel error and changes nothing: no output, the
// same status, the same durable state.
func TestStepRejectsBadInputAndChangesNothing(t *testing.T) {
	block := sampleBlock(1, "x")
	leaderProposal := func() *Proposal {
		p := &Proposal{ChainID: testChain, Height: 1, Round: 0, Proposer: 1, Block: block}
		p.Signature = standInSignature(memberSecret(1), p.SigningBytes())
		return p
	}
	prepare := func(member int, h types.Height) *Prepare {
		return &Prepare{Vote: signedVote(member, h, 0, types.VotePrepare, block.Hash())}
	}
	cases := []struct {
		name string
		ev   Event
		want error
	}{
		{"nil event", nil, ErrInvalid},
		{"second start", Start{}, ErrInvalid},
		{"unknown sender", MessageReceived{From: 9, Msg: prepare(2, 1)}, ErrUnknownMember},
		{"nil message", MessageReceived{From: 2}, ErrInvalid},
		{"another chain", MessageReceived{From: 2, Msg: func() Message {
			p := prepare(2, 1)
			p.Vote.ChainID++
			return p
		}()}, ErrInvalid},
		{"vote relayed by someone else", MessageReceived{From: 3, Msg: prepare(2, 1)}, ErrInvalid},
		{"stale height", MessageReceived{From: 2, Msg: prepare(2, 0)}, ErrStale},
		{"height beyond the next", MessageReceived{From: 2, Msg: prepare(2, 3)}, ErrFuture},
		{"unsigned vote", MessageReceived{From: 2, Msg: func() Message {
			p := prepare(2, 1)
			p.Vote.Signature = [96]byte{}
			return p
		}()}, ErrInvalid},
		{"proposal from a non-leader", MessageReceived{From: 2, Msg: func() Message {
			p := leaderProposal()
			p.Proposer = 2
			return p
		}()}, ErrInvalid},
		{"proposal sent by another", MessageReceived{From: 2, Msg: leaderProposal()}, ErrInvalid},
		{"justification too short", MessageReceived{From: 2, Msg: func() Message {
			p := &Proposal{ChainID: testChain, Height: 1, Round: 1, Proposer: 2, Justification: []RoundChange{*signedRoundChange(0, 1, 1, nil, nil)}}
			p.Signature = standInSignature(memberSecret(2), p.SigningBytes())
			return p
		}()}, ErrInvalid},
		{"confirm with a certificate of another committee", MessageReceived{From: 3, Msg: func() Message {
			v := block.Hash()
			return &Confirm{Vote: signedVote(3, 1, 0, types.VoteConfirm, v), PrepareCertificate: sampleCertificate(5, 4, 1, 0, types.VotePrepare, v)}
		}()}, ErrInvalid},
		{"confirm with a certificate below quorum", MessageReceived{From: 3, Msg: func() Message {
			v := block.Hash()
			return &Confirm{Vote: signedVote(3, 1, 0, types.VoteConfirm, v), PrepareCertificate: sampleCertificate(4, 2, 1, 0, types.VotePrepare, v)}
		}()}, ErrInvalid},
		{"round change from an unknown member", MessageReceived{From: 2, Msg: signedRoundChange(7, 1, 1, nil, nil)}, ErrInvalid},
		{"decision below quorum", MessageReceived{From: 2, Msg: &Decision{Block: block, Certificate: sampleCertificate(4, 2, 1, 0, types.VoteConfirm, block.Hash())}}, ErrInvalid},
		{"fast decision without every member", MessageReceived{From: 2, Msg: &Decision{Block: block, Certificate: sampleCertificate(4, 3, 1, 0, types.VotePrepare, block.Hash())}}, ErrInvalid},
		{"timer of another round", TimerFired{Timer: Timer{Kind: TimerRound, Height: 1, Round: 4}}, ErrStale},
		{"timer of another height", TimerFired{Timer: Timer{Kind: TimerProposal, Height: 0, Round: 0}}, ErrStale},
		{"timer of no kind", TimerFired{Timer: Timer{Kind: 9, Height: 1}}, ErrInvalid},
		{"block for a member that does not lead", ProposalReady{Height: 1, Round: 0, Block: *block}, ErrInvalid},
		{"block for a stale height", ProposalReady{Height: 0, Round: 0, Block: *block}, ErrStale},
		{"result of no request", VerifyResult{ID: 77}, ErrStale},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := startedCore(t, 4, 0)
			before, st := stateBytes(t, c), c.Status()
			err := c.Step(tc.ev)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if c.HasReady() {
				t.Fatalf("rejected event produced output: %+v", c.Ready())
			}
			if c.Status() != st || !bytes.Equal(stateBytes(t, c), before) {
				t.Fatal("rejected event changed the core")
			}
		})
	}
}

func TestStepBeforeStart(t *testing.T) {
	c, err := New(defaultTestConfig(4, 0), InitialState(testChain, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Step(TimerFired{Timer: Timer{Kind: TimerRound, Height: 1}}); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("got %v, want ErrNotStarted", err)
	}
	if c.HasReady() {
		t.Fatal("output before start")
	}
}

// A result that does not fit its request is refused and the request stays
// outstanding.
func TestVerifyResultMustMatchItsRequest(t *testing.T) {
	c := startedCore(t, 4, 0)
	p := &Proposal{ChainID: testChain, Height: 1, Round: 0, Proposer: 1, Block: sampleBlock(1, "x")}
	p.Signature = standInSignature(memberSecret(1), p.SigningBytes())
	if err := c.Step(MessageReceived{From: 1, Msg: p}); err != nil {
		t.Fatal(err)
	}
	rd := c.Ready()
	c.Advance()
	var sigReq VerifyRequest
	for _, r := range rd.Verify {
		if r.Kind == VerifySignatures {
			sigReq = r
		}
	}
	if sigReq.ID == 0 {
		t.Fatalf("no signature request in %+v", rd.Verify)
	}
	if err := c.Step(VerifyResult{ID: sigReq.ID, Valid: []bool{true, true}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("two verdicts for one signature: %v", err)
	}
	if err := c.Step(VerifyResult{ID: sigReq.ID, Valid: []bool{true}}); err != nil {
		t.Fatalf("the right answer after a wrong one: %v", err)
	}
	if err := c.Step(VerifyResult{ID: sigReq.ID, Valid: []bool{true}}); !errors.Is(err, ErrStale) {
		t.Fatalf("a second answer: %v", err)
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	cfg := Config{CommitteeSize: 0, ProposalTimeout: -1, RoundTimeout: -2, TimeoutIncrement: -1, MaxFutureMessagesPerMember: -1}
	err := cfg.Validate()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"CommitteeSize", "Signer", "Aggregator", "ProposalTimeout", "RoundTimeout", "TimeoutIncrement", "MaxFutureMessagesPerMember"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %s: %v", want, err)
		}
	}
	good := defaultTestConfig(4, 3)
	if err := good.Validate(); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"self outside":          func(c *Config) { c.Self = 4 },
		"committee too large":   func(c *Config) { c.CommitteeSize = types.MaxCommitteeSize + 1 },
		"round before proposal": func(c *Config) { c.RoundTimeout = c.ProposalTimeout },
	} {
		c := good
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	// Zero fields take their defaults.
	d := Config{}.WithDefaults()
	if d.ProposalTimeout != DefaultProposalTimeout || d.RoundTimeout != DefaultRoundTimeout ||
		d.TimeoutIncrement != DefaultTimeoutIncrement || d.MaxFutureMessagesPerMember != DefaultMaxFutureMessagesPerMember {
		t.Fatalf("defaults not applied: %+v", d)
	}
}

func TestThresholds(t *testing.T) {
	cases := []struct{ n, f, q, t int }{
		{1, 0, 1, 1}, {3, 0, 3, 2}, {4, 1, 3, 2}, {5, 1, 4, 3}, {6, 1, 5, 3}, {7, 2, 5, 3}, {10, 3, 7, 4}, {100, 33, 67, 34},
	}
	for _, tc := range cases {
		th := ThresholdsFor(tc.n)
		if th.F != tc.f || th.Quorum != tc.q || th.Report != tc.t || th.Skip != tc.f+1 {
			t.Errorf("n=%d: got %+v, want f=%d q=%d t=%d", tc.n, th, tc.f, tc.q, tc.t)
		}
		// The facts the safety argument rests on.
		if 2*th.Quorum-tc.n < th.F+1 || th.Report <= th.F || 2*th.Report <= th.Quorum || th.Quorum-th.F < th.Report {
			t.Errorf("n=%d: thresholds break the quorum facts: %+v", tc.n, th)
		}
	}
}

// Ready and Advance: what Step adds between them waits for the next Ready,
// and the durable state is handed out until acknowledged.
func TestReadyAdvanceContract(t *testing.T) {
	c, err := New(defaultTestConfig(4, 1), InitialState(testChain, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Step(Start{Now: 0}); err != nil {
		t.Fatal(err)
	}
	rd := c.Ready()
	if len(rd.Timers) != 2 || len(rd.ProposalRequests) != 1 || rd.Persist != nil {
		t.Fatalf("first Ready of the round-0 leader: %+v", rd)
	}
	// A step between Ready and Advance.
	if err := c.Step(ProposalReady{Now: 0, Height: 1, Round: 0, Block: *sampleBlock(1, "x")}); err != nil {
		t.Fatal(err)
	}
	c.Advance()
	rd = c.Ready()
	if rd.Persist == nil || rd.Persist.LastPrepare == nil {
		t.Fatalf("the prepare is not in the next Ready's Persist: %+v", rd.Persist)
	}
	if len(rd.Send) != 2 || rd.Send[0].Msg.Kind() != KindProposal || rd.Send[1].Msg.Kind() != KindPrepare {
		t.Fatalf("sends: %+v", rd.Send)
	}
	if len(rd.Timers) != 0 || len(rd.ProposalRequests) != 0 {
		t.Fatal("acknowledged actions handed out again")
	}
	// Not acknowledged: handed out again.
	if again := c.Ready(); again.Persist == nil || len(again.Send) != 2 {
		t.Fatal("an unacknowledged Ready was lost")
	}
	c.Advance()
	if c.HasReady() {
		t.Fatalf("left over after Advance: %+v", c.Ready())
	}
}

// A member's signature work per block on the happy path is a handful of
// aggregate checks: one proposal signature, one prepare batch (plus one
// for the rest of the prepares, for early consensus), one confirm batch.
func TestHappyPathVerificationBudget(t *testing.T) {
	for _, n := range []int{4, 7, 31} {
		cl := newCluster(t, n)
		cl.start()
		cl.settle()
		cl.requireCommitted(1, allMembers(n))
		for i := range n {
			counts := cl.requested[i]
			sig := counts[VerifySameMessageVotes] + counts[VerifySignatures] + counts[VerifyCertificate]
			if i == 0 {
				t.Logf("n=%d member 0: %v", n, counts)
			}
			if sig > 4 || counts[VerifyBlock] > 1 {
				t.Errorf("n=%d member %d: %d signature requests and %d block checks for one block: %v", n, i, sig, counts[VerifyBlock], counts)
			}
		}
	}
}
