package consensus

import "fmt"

// Effects carries out the actions of a Ready for one member: the shell's
// side of the Ready contract. The production driver implements it over
// Pebble, QUIC, the accel batcher and real timers; the simulator over
// in-memory state, the simulated network and virtual timers. Apply calls
// its methods in the order the contract requires, so that neither shell
// can get the order wrong.
type Effects interface {
	// Persist makes state (nil when unchanged) and the block and
	// certificate of every decision of commits durable in one synced
	// write. An error means the write may not have happened: Apply stops,
	// and the member must not go on (see Apply).
	Persist(state *PersistentState, commits []Decision) error
	// Send hands one envelope to the network (Broadcast: every other
	// member).
	Send(env Envelope)
	// Commit hands one decided height to execution; the decisions of a
	// Ready come in increasing height.
	Commit(d Decision)
	// Evidence hands one equivocation to the root-chain client.
	Evidence(ev Evidence)
	// Verify hands one request to the verifier, whose answer comes back as
	// a VerifyResult event.
	Verify(req VerifyRequest)
	// RequestProposal asks the block builder for a block, which comes back
	// as a ProposalReady event.
	RequestProposal(req ProposalRequest)
	// SetTimer arms one deadline, delivered as a TimerFired event.
	SetTimer(t TimerSetting)
}

// Apply carries out r through fx in the order of the Ready contract (see
// the package documentation):
//
//  1. Persist, when r.Persist is set or r.Commits is not empty: the state
//     and the committed blocks, durably, in one write;
//  2. Send, every envelope in order;
//  3. Commit, then Evidence, then Verify, then RequestProposal, each in
//     order;
//  4. SetTimer, every deadline in order.
//
// If Persist fails, nothing else of r is carried out and Apply returns the
// error wrapped: the votes of r must not leave unless they are durable. The
// shell must then not call Advance and must stop the member, which restarts
// from whatever state its storage holds. Otherwise Apply returns nil and
// the shell calls Advance.
func Apply(r Ready, fx Effects) error {
	if r.Persist != nil || len(r.Commits) > 0 {
		if err := fx.Persist(r.Persist, r.Commits); err != nil {
			return fmt.Errorf("consensus: apply ready: persist: %w", err)
		}
	}
	for _, env := range r.Send {
		fx.Send(env)
	}
	for _, d := range r.Commits {
		fx.Commit(d)
	}
	for _, ev := range r.Evidence {
		fx.Evidence(ev)
	}
	for _, req := range r.Verify {
		fx.Verify(req)
	}
	for _, req := range r.ProposalRequests {
		fx.RequestProposal(req)
	}
	for _, t := range r.Timers {
		fx.SetTimer(t)
	}
	return nil
}
