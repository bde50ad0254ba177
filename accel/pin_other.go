//go:build !linux

package accel

// PinToCore is not supported on this OS: it returns a no-op unpin and
// [ErrPinningUnsupported], so callers can log the error and run unpinned.
func PinToCore(core int) (unpin func(), err error) {
	return noUnpin, ErrPinningUnsupported
}

// AllowedCores is not supported on this OS; it returns
// [ErrPinningUnsupported].
func AllowedCores() ([]int, error) {
	return nil, ErrPinningUnsupported
}
