package accel

import (
	stdsha256 "crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
)

// Auto is the backend choice that measures every backend and keeps the
// fastest. The empty string means the same.
const Auto = "auto"

// Defaults of [SelectOptions].
const (
	// DefaultBudget bounds the measurement. One round of both backends takes
	// about 0.15 ms on a 2-core SHA-NI Xeon, so the round limit, not the
	// budget, usually ends it; the budget guards slow or loaded machines.
	DefaultBudget = 20 * time.Millisecond
	// DefaultRounds is how many interleaved rounds are taken at most. Over
	// 16 rounds, on a machine shared with other load, the scores varied by
	// under 3% from run to run and their ratio by under 0.2%.
	DefaultRounds = 16
)

// tieMargin is how much faster than the standard library another backend
// must score to replace it. Closer than that, the difference is within the
// noise of a few-millisecond measurement, and the standard library needs no
// extra code path, so it wins ties.
const tieMargin = 0.03

// ErrUnknownBackend: the backend name is neither "auto" nor the name of a
// backend of crypto/hash.
var ErrUnknownBackend = errors.New("accel: unknown hash backend")

// SelectOptions configures [SelectHashBackend]. The zero value measures with
// the real clock and the default budget.
type SelectOptions struct {
	// Backend forces a backend by name ("stdlib", "sha256-simd"); "" or
	// "auto" measures them. It comes from the node config or a flag.
	Backend string
	// Budget bounds the time spent measuring (0: DefaultBudget). A round
	// that has started is finished, so every backend has the same number of
	// samples; the overrun is at most one round.
	Budget time.Duration
	// Rounds is the most interleaved rounds taken (0: DefaultRounds).
	Rounds int
	// Now is the clock (nil: time.Now). Tests inject a fake one.
	Now func() time.Time

	// candidates replaces hash.Backends() in tests.
	candidates []hash.Backend
}

// WorkloadTiming is the cost of one backend on one representative input.
type WorkloadTiming struct {
	Name   string  `json:"name"`
	Bytes  int     `json:"bytes"`
	Weight float64 `json:"weight"`
	// NsPerHash is the minimum over rounds of the mean time of one hash in a
	// batch: the least disturbed sample, since noise only ever adds time.
	NsPerHash float64 `json:"ns_per_hash"`
}

// BackendTiming is what the selection measured for one backend.
type BackendTiming struct {
	Name      string           `json:"name"`
	Rounds    int              `json:"rounds"`
	Workloads []WorkloadTiming `json:"workloads"`
	// Score is Σ Weight × NsPerHash: the hashing cost of one transaction of
	// a block, the quantity the choice minimises.
	Score float64 `json:"score_ns"`
	// Rejected says why the backend was not considered (its digest differed
	// from crypto/sha256's); empty if it was.
	Rejected string `json:"rejected,omitempty"`
}

// usable reports whether t can take part in the choice.
func (t BackendTiming) usable() bool { return t.Rejected == "" && t.Rounds > 0 && t.Score > 0 }

// workload is one representative input of the measurement.
type workload struct {
	name   string
	bytes  int
	weight float64
	// batch is how many hashes one sample times: enough for a sample of
	// 10-30 µs, far above clock resolution, short enough to dodge most
	// preemptions.
	batch int
}

// representativeWorkloads are the inputs measured, weighted per transaction
// of a block: its Merkle leaf and about one inner node (two 64-byte
// preimages), its message id (a signed message of about 256 bytes), and its
// share of the block body hashed in 16 KiB chunks (64 such messages fill
// one).
func representativeWorkloads() []workload {
	return []workload{
		{name: "inner-64B", bytes: 64, weight: 2, batch: 256},
		{name: "message-256B", bytes: 256, weight: 1, batch: 64},
		{name: "block-16KiB", bytes: 16 << 10, weight: 1.0 / 64, batch: 4},
	}
}

// BackendChoices lists the accepted values of SelectOptions.Backend, for
// flag help and config validation.
func BackendChoices() []string {
	choices := []string{Auto}
	for _, b := range hash.Backends() {
		choices = append(choices, b.Name)
	}
	return choices
}

// ValidateBackendChoice returns an error wrapping [ErrUnknownBackend] unless
// name is "", "auto" or the name of a backend.
func ValidateBackendChoice(name string) error {
	if name == "" || name == Auto {
		return nil
	}
	_, err := BackendByName(name)
	return err
}

// BackendByName returns the backend of crypto/hash called name.
func BackendByName(name string) (hash.Backend, error) {
	return lookup(hash.Backends(), name)
}

func lookup(candidates []hash.Backend, name string) (hash.Backend, error) {
	for _, b := range candidates {
		if b.Name == name {
			return b, nil
		}
	}
	names := []string{Auto}
	for _, b := range candidates {
		names = append(names, b.Name)
	}
	return hash.Backend{}, fmt.Errorf("hash backend %q (want one of %s): %w", name, strings.Join(names, ", "), ErrUnknownBackend)
}

// SelectHashBackend installs a SHA-256 backend with hash.Use and returns it.
// With opts.Backend forced, it installs that one without measuring (timings
// is nil). Otherwise it measures every backend on the representative
// workloads, interleaving them round by round, keeps each one's minimum per
// workload, and installs the best score (see chooseBackend); timings are
// returned for the start-up log and the bench report.
//
// Call it once at start-up, before the node hashes anything that matters;
// the choice never changes a digest, only its cost. On error nothing is
// installed.
func SelectHashBackend(opts SelectOptions) (hash.Backend, []BackendTiming, error) {
	if opts.Budget < 0 {
		return hash.Backend{}, nil, fmt.Errorf("select hash backend: budget %v is negative", opts.Budget)
	}
	if opts.Rounds < 0 {
		return hash.Backend{}, nil, fmt.Errorf("select hash backend: %d rounds is negative", opts.Rounds)
	}
	candidates := opts.candidates
	if candidates == nil {
		candidates = hash.Backends()
	}
	if opts.Backend != "" && opts.Backend != Auto {
		b, err := lookup(candidates, opts.Backend)
		if err != nil {
			return hash.Backend{}, nil, fmt.Errorf("select %w", err)
		}
		hash.Use(b)
		return b, nil, nil
	}
	timings := measureBackends(candidates, opts)
	chosen, err := lookup(candidates, chooseBackend(timings))
	if err != nil {
		// chooseBackend names a candidate or the standard library; this is
		// reached only if the candidates omit the standard library and none
		// was usable.
		chosen = hash.Stdlib
	}
	hash.Use(chosen)
	return chosen, timings, nil
}

// measureBackends times every candidate on every workload. Each round runs
// all candidates, starting with a different one each round so that none is
// always first after a pause; rounds stop at opts.Rounds or once the budget
// is spent, but never before one round is complete.
func measureBackends(candidates []hash.Backend, opts SelectOptions) []BackendTiming {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	budget := opts.Budget
	if budget == 0 {
		budget = DefaultBudget
	}
	rounds := opts.Rounds
	if rounds == 0 {
		rounds = DefaultRounds
	}
	loads := representativeWorkloads()
	inputs := make([][]byte, len(loads))
	for i, w := range loads {
		inputs[i] = make([]byte, w.bytes)
		for j := range inputs[i] {
			inputs[i][j] = byte(j*7 + i)
		}
	}

	start := now()
	timings := make([]BackendTiming, len(candidates))
	for k, b := range candidates {
		t := BackendTiming{Name: b.Name, Workloads: make([]WorkloadTiming, len(loads))}
		for i, w := range loads {
			t.Workloads[i] = WorkloadTiming{Name: w.name, Bytes: w.bytes, Weight: w.weight}
			if b.Sum(inputs[i]) != stdsha256.Sum256(inputs[i]) {
				t.Rejected = fmt.Sprintf("digest of %s differs from crypto/sha256", w.name)
			}
		}
		timings[k] = t
	}

	for round := 0; round < rounds; round++ {
		if round > 0 && now().Sub(start) >= budget {
			break
		}
		for offset := range candidates {
			k := (round + offset) % len(candidates)
			if timings[k].Rejected != "" {
				continue
			}
			sum := candidates[k].Sum
			for i, w := range loads {
				t0 := now()
				for range w.batch {
					sum(inputs[i])
				}
				elapsed := now().Sub(t0)
				if elapsed <= 0 {
					continue // below clock resolution: no information
				}
				ns := float64(elapsed.Nanoseconds()) / float64(w.batch)
				wt := &timings[k].Workloads[i]
				if wt.NsPerHash == 0 || ns < wt.NsPerHash {
					wt.NsPerHash = ns
				}
			}
			timings[k].Rounds++
		}
	}

	for k := range timings {
		t := &timings[k]
		for _, wt := range t.Workloads {
			if wt.NsPerHash == 0 {
				t.Score = 0 // a workload never measured: leave the backend out
				break
			}
			t.Score += wt.Weight * wt.NsPerHash
		}
	}
	return timings
}

// chooseBackend returns the name of the backend to install: the lowest
// score among usable timings, unless it is within tieMargin of the standard
// library's, in which case the standard library. Among equal scores the
// earlier timing wins. With no usable timing it is the standard library.
func chooseBackend(timings []BackendTiming) string {
	best := -1
	stdlib := -1
	for i, t := range timings {
		if !t.usable() {
			continue
		}
		if t.Name == hash.Stdlib.Name {
			stdlib = i
		}
		if best < 0 || t.Score < timings[best].Score {
			best = i
		}
	}
	if best < 0 {
		return hash.Stdlib.Name
	}
	if stdlib >= 0 && timings[best].Score >= timings[stdlib].Score*(1-tieMargin) {
		return hash.Stdlib.Name
	}
	return timings[best].Name
}
