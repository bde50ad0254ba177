package sim

import "errors"

// Sentinel errors. Callers branch on them with errors.Is; the returned errors
// wrap them with the context of the failure.
var (
	// ErrInvalidConfig marks a WorldConfig, NetworkConfig or FaultBudget that
	// fails validation.
	ErrInvalidConfig = errors.New("invalid simulator config")
	// ErrUnknownNode marks a NodeID that AddNode never returned.
	ErrUnknownNode = errors.New("unknown node")
	// ErrNegativeCost marks a negative CPU charge.
	ErrNegativeCost = errors.New("negative CPU cost")
	// ErrReentrant marks a call to Run, RunUntil or Step from inside a
	// handler or a scheduled function: events are queued, never processed
	// recursively.
	ErrReentrant = errors.New("simulator run re-entered from an event")
	// ErrEventLimit marks a run stopped by WorldConfig.MaxEvents.
	ErrEventLimit = errors.New("event limit reached")
	// ErrTimeLimit marks a RunUntil whose predicate still did not hold at
	// its time limit.
	ErrTimeLimit = errors.New("time limit reached before the condition held")
	// ErrStalled marks a RunUntil whose predicate did not hold when no event
	// was left to process: nothing could ever make it hold.
	ErrStalled = errors.New("no event left before the condition held")
	// ErrTrace marks a failed write to WorldConfig.Trace.
	ErrTrace = errors.New("write simulator trace")
)
