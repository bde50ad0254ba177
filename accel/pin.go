package accel

import "errors"

// Errors of [PinToCore] and [AllowedCores].
var (
	// ErrPinningUnsupported: this OS offers no thread affinity we use.
	ErrPinningUnsupported = errors.New("accel: pinning to a core is not supported on this OS")
	// ErrInvalidCore: the core index is negative or not in the set of CPUs
	// the thread may run on.
	ErrInvalidCore = errors.New("accel: core is not in the allowed CPU set")
)

func noUnpin() {}
