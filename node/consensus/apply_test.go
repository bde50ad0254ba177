package consensus

import (
	"errors"
	"slices"
	"testing"

	"github.com/thinkey/thinkey/node/types"
)

// recordingEffects logs every call Apply makes.
type recordingEffects struct {
	calls      []string
	persistErr error
}

func (r *recordingEffects) Persist(state *PersistentState, commits []Decision) error {
	call := "persist"
	if state != nil {
		call += " state"
	}
	for range commits {
		call += " +commit"
	}
	r.calls = append(r.calls, call)
	return r.persistErr
}
func (r *recordingEffects) Send(Envelope)                   { r.calls = append(r.calls, "send") }
func (r *recordingEffects) Commit(Decision)                 { r.calls = append(r.calls, "commit") }
func (r *recordingEffects) Evidence(Evidence)               { r.calls = append(r.calls, "evidence") }
func (r *recordingEffects) Verify(VerifyRequest)            { r.calls = append(r.calls, "verify") }
func (r *recordingEffects) RequestProposal(ProposalRequest) { r.calls = append(r.calls, "propose") }
func (r *recordingEffects) SetTimer(TimerSetting)           { r.calls = append(r.calls, "timer") }

// Apply carries out a Ready in the order of the contract: durable state and
// committed blocks first, then sends, then commits, evidence, verification
// and block requests, then timers; a failed persist stops it before
// anything leaves.
func TestApplyOrdersTheReady(t *testing.T) {
	state := InitialState(testChain, 2)
	full := Ready{
		Persist:          &state,
		Send:             []Envelope{{To: Broadcast}, {To: 1}},
		Commits:          []Decision{{Certificate: types.Certificate{Height: 1}}},
		Evidence:         []Evidence{{Kind: EvidenceVotes}},
		Verify:           []VerifyRequest{{ID: 1}, {ID: 2}},
		ProposalRequests: []ProposalRequest{{Height: 2}},
		Timers:           []TimerSetting{{}, {}},
	}
	persistFailed := errors.New("disk full")
	tests := []struct {
		name       string
		ready      Ready
		persistErr error
		want       []string
	}{
		{"everything", full, nil, []string{
			"persist state +commit", "send", "send", "commit", "evidence", "verify", "verify", "propose", "timer", "timer"}},
		{"no state change: no persist", Ready{Send: full.Send, Timers: full.Timers[:1]}, nil, []string{"send", "send", "timer"}},
		{"commits alone are persisted", Ready{Commits: full.Commits}, nil, []string{"persist +commit", "commit"}},
		{"a failed persist stops everything", full, persistFailed, []string{"persist state +commit"}},
		{"empty", Ready{}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := &recordingEffects{persistErr: tc.persistErr}
			err := Apply(tc.ready, fx)
			if !errors.Is(err, tc.persistErr) || (tc.persistErr == nil) != (err == nil) {
				t.Fatalf("Apply: %v, want %v", err, tc.persistErr)
			}
			if !slices.Equal(fx.calls, tc.want) {
				t.Fatalf("calls %v, want %v", fx.calls, tc.want)
			}
		})
	}
}
