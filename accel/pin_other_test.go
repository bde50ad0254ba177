//go:build !linux

package accel

import (
	"errors"
	"testing"
)

func TestPinToCoreUnsupported(t *testing.T) {
	unpin, err := PinToCore(0)
	if !errors.Is(err, ErrPinningUnsupported) || unpin == nil {
		t.Fatalf("PinToCore error %v, unpin nil = %v; want a no-op unpin and ErrPinningUnsupported", err, unpin == nil)
	}
	unpin()
	if _, err := AllowedCores(); !errors.Is(err, ErrPinningUnsupported) {
		t.Fatalf("AllowedCores error %v", err)
	}
}
