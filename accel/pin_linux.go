//go:build linux

package accel

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// maxCPUs is the number of CPUs a unix.CPUSet can describe.
const maxCPUs = 1024

// PinToCore locks the calling goroutine to its OS thread and restricts that
// thread to CPU core. The returned unpin, which must be called from the
// same goroutine, restores the thread's previous CPU set and unlocks it;
// further calls do nothing. unpin is never nil, so `defer unpin()` is safe
// even after an error.
//
// core must be in the thread's allowed set ([AllowedCores]); otherwise the
// error wraps [ErrInvalidCore] and nothing changes.
func PinToCore(core int) (unpin func(), err error) {
	runtime.LockOSThread()
	var previous unix.CPUSet
	if err := unix.SchedGetaffinity(0, &previous); err != nil {
		runtime.UnlockOSThread()
		return noUnpin, fmt.Errorf("pin to core %d: read affinity: %w", core, err)
	}
	// CPUSet.IsSet maps a negative index onto a real bit, so range-check
	// first.
	if core < 0 || core >= maxCPUs || !previous.IsSet(core) {
		runtime.UnlockOSThread()
		return noUnpin, fmt.Errorf("pin to core %d: allowed cores are %v: %w", core, cpuList(&previous), ErrInvalidCore)
	}
	var only unix.CPUSet
	only.Set(core)
	if err := unix.SchedSetaffinity(0, &only); err != nil {
		runtime.UnlockOSThread()
		return noUnpin, fmt.Errorf("pin to core %d: set affinity: %w", core, err)
	}
	done := false
	return func() {
		if done {
			return
		}
		done = true
		if err := unix.SchedSetaffinity(0, &previous); err != nil {
			// Leave the goroutine locked: when it exits, the runtime ends
			// the thread instead of returning it, still pinned, to the
			// pool where any goroutine could inherit the restriction.
			return
		}
		runtime.UnlockOSThread()
	}, nil
}

// AllowedCores lists the CPUs the calling thread may run on, ascending: the
// cores PinToCore accepts. Unless the caller has pinned its thread, this is
// the process's CPU set (taskset, cgroup cpuset).
func AllowedCores() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("allowed cores: read affinity: %w", err)
	}
	return cpuList(&set), nil
}

func cpuList(set *unix.CPUSet) []int {
	var cores []int
	for c := range maxCPUs {
		if set.IsSet(c) {
			cores = append(cores, c)
		}
	}
	return cores
}
