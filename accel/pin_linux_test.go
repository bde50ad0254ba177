//go:build linux

package accel

import (
	"errors"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func threadAffinity(t *testing.T) unix.CPUSet {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatalf("SchedGetaffinity: %v", err)
	}
	return set
}

// TestPinToCore pins to the lowest allowed core (core 0 unless the process
// is restricted), reads the affinity back, and checks unpin restores it.
func TestPinToCore(t *testing.T) {
	// Hold the thread for the whole test so that the reads before and after
	// unpin are of the same thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	cores, err := AllowedCores()
	if err != nil || len(cores) == 0 {
		t.Fatalf("AllowedCores = %v, %v", cores, err)
	}
	before := threadAffinity(t)
	if before.Count() != len(cores) {
		t.Fatalf("AllowedCores lists %d cores, affinity has %d", len(cores), before.Count())
	}
	core := cores[0]

	unpin, err := PinToCore(core)
	if err != nil {
		t.Fatalf("PinToCore(%d): %v", core, err)
	}
	pinned := threadAffinity(t)
	if pinned.Count() != 1 || !pinned.IsSet(core) {
		t.Fatalf("after PinToCore(%d) affinity has %d CPUs, core set = %v", core, pinned.Count(), pinned.IsSet(core))
	}
	if got, err := AllowedCores(); err != nil || len(got) != 1 || got[0] != core {
		t.Fatalf("AllowedCores while pinned = %v, %v", got, err)
	}

	unpin()
	if after := threadAffinity(t); after != before {
		t.Fatalf("unpin left affinity with %d CPUs, want the previous %d", after.Count(), before.Count())
	}
	unpin() // a second call does nothing
	if after := threadAffinity(t); after != before {
		t.Fatal("second unpin changed the affinity")
	}
}

func TestPinToCoreRejectsInvalidCore(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadAffinity(t)
	invalid := []int{-1, -64, maxCPUs, maxCPUs + 1, 1 << 30}
	for c := range maxCPUs {
		if !before.IsSet(c) {
			invalid = append(invalid, c) // the first core outside the allowed set
			break
		}
	}
	for _, core := range invalid {
		unpin, err := PinToCore(core)
		if !errors.Is(err, ErrInvalidCore) {
			t.Errorf("PinToCore(%d) error %v, want ErrInvalidCore", core, err)
		}
		if unpin == nil {
			t.Fatalf("PinToCore(%d) returned a nil unpin", core)
		}
		unpin()
		if after := threadAffinity(t); after != before {
			t.Errorf("PinToCore(%d) failed but changed the affinity", core)
		}
	}
}

// TestPinnedGoroutines pins several goroutines at once, each to its own
// allowed core, as the node does with its consensus and executor loops.
func TestPinnedGoroutines(t *testing.T) {
	cores, err := AllowedCores()
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, len(cores))
	for _, core := range cores {
		go func() {
			unpin, err := PinToCore(core)
			if err != nil {
				errs <- err
				return
			}
			defer unpin()
			var set unix.CPUSet
			if err := unix.SchedGetaffinity(0, &set); err != nil {
				errs <- err
				return
			}
			if set.Count() != 1 || !set.IsSet(core) {
				errs <- errors.New("goroutine not pinned to its core")
				return
			}
			errs <- nil
		}()
	}
	for range cores {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
