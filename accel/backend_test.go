package accel

import (
	stdsha256 "crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/thinkey/thinkey/crypto/hash"
)

func timing(name string, score float64) BackendTiming {
	return BackendTiming{Name: name, Rounds: 1, Score: score}
}

func TestChooseBackend(t *testing.T) {
	const std, simd = "stdlib", "sha256-simd"
	cases := []struct {
		name    string
		timings []BackendTiming
		want    string
	}{
		{"no timings", nil, std},
		{"simd clearly faster", []BackendTiming{timing(std, 100), timing(simd, 50)}, simd},
		{"stdlib faster", []BackendTiming{timing(std, 50), timing(simd, 100)}, std},
		{"exact tie", []BackendTiming{timing(std, 100), timing(simd, 100)}, std},
		{"tie, stdlib listed last", []BackendTiming{timing(simd, 100), timing(std, 100)}, std},
		{"within margin", []BackendTiming{timing(std, 100), timing(simd, 97.5)}, std},
		{"at margin", []BackendTiming{timing(std, 100), timing(simd, 97)}, std},
		{"just past margin", []BackendTiming{timing(std, 100), timing(simd, 96.9)}, simd},
		{"simd rejected", []BackendTiming{timing(std, 100), {Name: simd, Rounds: 1, Score: 10, Rejected: "digest differs"}}, std},
		{"simd never measured", []BackendTiming{timing(std, 100), {Name: simd, Score: 10}}, std},
		{"simd without score", []BackendTiming{timing(std, 100), timing(simd, 0)}, std},
		{"stdlib unusable", []BackendTiming{{Name: std, Rejected: "x"}, timing(simd, 100)}, simd},
		{"no stdlib, fastest wins", []BackendTiming{timing("a", 80), timing("b", 70)}, "b"},
		{"no stdlib, tie keeps first", []BackendTiming{timing("a", 70), timing("b", 70)}, "a"},
		{"three backends", []BackendTiming{timing(std, 100), timing("a", 90), timing("b", 60)}, "b"},
		{"nothing usable", []BackendTiming{{Name: simd, Rejected: "x"}}, std},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := chooseBackend(c.timings); got != c.want {
				t.Fatalf("chooseBackend = %q, want %q", got, c.want)
			}
		})
	}
}

// fakeClock advances only when a fake backend hashes, so measurements are
// exact and repeatable.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// fakeBackend costs nsPerBlock for every 64-byte SHA-256 block it hashes,
// plus spike(call) extra for its call-th call, and computes the real digest
// unless wrong is set.
type fakeBackend struct {
	name       string
	clock      *fakeClock
	nsPerBlock float64
	spike      func(call int) time.Duration
	wrong      bool
	calls      int
}

func (f *fakeBackend) backend() hash.Backend {
	return hash.Backend{Name: f.name, New: stdsha256.New, Sum: func(data []byte) [hash.Size]byte {
		f.calls++
		blocks := (len(data) + 8 + 64) / 64 // message, length and padding
		cost := time.Duration(f.nsPerBlock * float64(blocks))
		if f.spike != nil {
			cost += f.spike(f.calls)
		}
		f.clock.now = f.clock.now.Add(cost)
		d := stdsha256.Sum256(data)
		if f.wrong {
			d[0] ^= 1
		}
		return d
	}}
}

// keepActive restores the process-wide backend after a test that installs
// one.
func keepActive(t *testing.T) {
	prev := hash.Active()
	t.Cleanup(func() { hash.Use(prev) })
}

// wantScore is the score of a backend costing nsPerBlock per block: 2 × (2
// blocks) + 1 × (5 blocks) + 1/64 × (257 blocks).
func wantScore(nsPerBlock float64) float64 {
	return nsPerBlock * (2*2 + 5 + 257.0/64)
}

func TestSelectPicksFasterBackend(t *testing.T) {
	keepActive(t)
	clock := &fakeClock{now: time.Unix(0, 0)}
	std := &fakeBackend{name: "stdlib", clock: clock, nsPerBlock: 40}
	simd := &fakeBackend{name: "sha256-simd", clock: clock, nsPerBlock: 20}
	got, timings, err := SelectHashBackend(SelectOptions{
		Now: clock.Now, Budget: time.Hour, candidates: []hash.Backend{std.backend(), simd.backend()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "sha256-simd" || hash.Active().Name != "sha256-simd" {
		t.Fatalf("chose %q, active %q; want sha256-simd", got.Name, hash.Active().Name)
	}
	if len(timings) != 2 {
		t.Fatalf("%d timings, want 2", len(timings))
	}
	for i, want := range []float64{wantScore(40), wantScore(20)} {
		tm := timings[i]
		if tm.Rounds != DefaultRounds || tm.Rejected != "" {
			t.Errorf("%s: %d rounds, rejected %q; want %d, none", tm.Name, tm.Rounds, tm.Rejected, DefaultRounds)
		}
		if diff := tm.Score - want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s: score %v, want %v", tm.Name, tm.Score, want)
		}
		if tm.Workloads[0].NsPerHash != 2*[]float64{40, 20}[i] {
			t.Errorf("%s: 64-byte hash %v ns, want %v", tm.Name, tm.Workloads[0].NsPerHash, 2*[]float64{40, 20}[i])
		}
	}
}

func TestSelectKeepsStdlibOnTie(t *testing.T) {
	keepActive(t)
	hash.Use(hash.SIMD)
	clock := &fakeClock{now: time.Unix(0, 0)}
	std := &fakeBackend{name: "stdlib", clock: clock, nsPerBlock: 30}
	simd := &fakeBackend{name: "sha256-simd", clock: clock, nsPerBlock: 29.5} // 1.7% faster: inside the margin
	got, _, err := SelectHashBackend(SelectOptions{Now: clock.Now, candidates: []hash.Backend{std.backend(), simd.backend()}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "stdlib" || hash.Active().Name != "stdlib" {
		t.Fatalf("chose %q, active %q; want stdlib", got.Name, hash.Active().Name)
	}
}

// TestSelectIgnoresNoise: the faster backend suffers large spikes in its
// first rounds, which the minimum over rounds must discard.
func TestSelectIgnoresNoise(t *testing.T) {
	keepActive(t)
	clock := &fakeClock{now: time.Unix(0, 0)}
	std := &fakeBackend{name: "stdlib", clock: clock, nsPerBlock: 40}
	simd := &fakeBackend{name: "sha256-simd", clock: clock, nsPerBlock: 20, spike: func(call int) time.Duration {
		if call < 1500 { // the digest check and the first rounds
			return 5 * time.Microsecond
		}
		return 0
	}}
	got, timings, err := SelectHashBackend(SelectOptions{Now: clock.Now, Budget: time.Hour, candidates: []hash.Backend{std.backend(), simd.backend()}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "sha256-simd" {
		t.Fatalf("chose %q under noise, want sha256-simd", got.Name)
	}
	if s := timings[1].Score; s != wantScore(20) {
		t.Fatalf("noisy backend score %v, want the undisturbed %v", s, wantScore(20))
	}
}

func TestSelectRespectsBudget(t *testing.T) {
	keepActive(t)
	clock := &fakeClock{now: time.Unix(0, 0)}
	std := &fakeBackend{name: "stdlib", clock: clock, nsPerBlock: 100}
	simd := &fakeBackend{name: "sha256-simd", clock: clock, nsPerBlock: 100}
	// Checking the digests hashes each input once per backend: 2 × (2 + 5 +
	// 257 blocks) × 100 ns = 52.8 µs. One round hashes 256, 64 and 4 times:
	// 2 × (256×2 + 64×5 + 4×257 blocks) × 100 ns = 372 µs.
	const check = 52800 * time.Nanosecond
	const round = 372 * time.Microsecond
	cases := []struct {
		budget time.Duration
		rounds int
	}{
		{time.Nanosecond, 1}, // the first round always completes
		{check + round, 1},   // spent exactly after one round
		{check + round + time.Nanosecond, 2},
		{check + 3*round + round/2, 4},
		{time.Hour, DefaultRounds},
	}
	for _, c := range cases {
		start := clock.now
		_, timings, err := SelectHashBackend(SelectOptions{Now: clock.Now, Budget: c.budget, candidates: []hash.Backend{std.backend(), simd.backend()}})
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range timings {
			if tm.Rounds != c.rounds {
				t.Errorf("budget %v: %s ran %d rounds, want %d", c.budget, tm.Name, tm.Rounds, c.rounds)
			}
		}
		if spent := clock.now.Sub(start); c.budget < time.Hour && spent > max(c.budget, check)+round {
			t.Errorf("budget %v: spent %v, more than one round over", c.budget, spent)
		}
	}
	_, timings, err := SelectHashBackend(SelectOptions{Now: clock.Now, Rounds: 3, Budget: time.Hour, candidates: []hash.Backend{std.backend(), simd.backend()}})
	if err != nil || timings[0].Rounds != 3 {
		t.Fatalf("Rounds: 3 gave %d rounds, %v", timings[0].Rounds, err)
	}
}

// TestSelectInterleaves checks that each round starts with a different
// backend, so none always runs first.
func TestSelectInterleaves(t *testing.T) {
	keepActive(t)
	clock := &fakeClock{now: time.Unix(0, 0)}
	var order []string
	record := func(name string) hash.Backend {
		return hash.Backend{Name: name, New: stdsha256.New, Sum: func(data []byte) [hash.Size]byte {
			if len(data) == 64 && (len(order) == 0 || order[len(order)-1] != name) {
				order = append(order, name)
			}
			clock.now = clock.now.Add(time.Microsecond)
			return stdsha256.Sum256(data)
		}}
	}
	_, _, err := SelectHashBackend(SelectOptions{Now: clock.Now, Rounds: 4, Budget: time.Hour,
		candidates: []hash.Backend{record("stdlib"), record("b"), record("c")}})
	if err != nil {
		t.Fatal(err)
	}
	// The digest check hashes each once, then rounds rotate the start.
	want := []string{"stdlib", "b", "c", "stdlib", "b", "c", "b", "c", "stdlib", "c", "stdlib", "b", "stdlib", "b", "c"}
	if len(order) != len(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

func TestSelectRejectsWrongDigest(t *testing.T) {
	keepActive(t)
	clock := &fakeClock{now: time.Unix(0, 0)}
	std := &fakeBackend{name: "stdlib", clock: clock, nsPerBlock: 40}
	broken := &fakeBackend{name: "sha256-simd", clock: clock, nsPerBlock: 1, wrong: true}
	got, timings, err := SelectHashBackend(SelectOptions{Now: clock.Now, candidates: []hash.Backend{std.backend(), broken.backend()}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "stdlib" {
		t.Fatalf("chose %q, a backend with wrong digests", got.Name)
	}
	if timings[1].Rejected == "" || timings[1].Rounds != 0 {
		t.Fatalf("broken backend timing %+v, want rejected and not timed", timings[1])
	}
	if broken.calls != 3 {
		t.Fatalf("broken backend hashed %d times, want only the 3 digest checks", broken.calls)
	}
}

// TestSelectWithoutClockResolution: a clock that never advances yields no
// samples, and the choice falls back to the standard library.
func TestSelectWithoutClockResolution(t *testing.T) {
	keepActive(t)
	frozen := time.Unix(0, 0)
	hash.Use(hash.SIMD)
	got, timings, err := SelectHashBackend(SelectOptions{Now: func() time.Time { return frozen }, Rounds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "stdlib" || timings[0].Score != 0 {
		t.Fatalf("chose %q with score %v from a frozen clock; want stdlib, 0", got.Name, timings[0].Score)
	}
}

func TestSelectForced(t *testing.T) {
	keepActive(t)
	cases := []struct {
		choice string
		want   string
		err    error
	}{
		{"stdlib", "stdlib", nil},
		{"sha256-simd", "sha256-simd", nil},
		{"simd", "", ErrUnknownBackend},
		{"STDLIB", "", ErrUnknownBackend},
		{" stdlib", "", ErrUnknownBackend},
	}
	for _, c := range cases {
		hash.Use(hash.Stdlib)
		if c.want == "stdlib" {
			hash.Use(hash.SIMD)
		}
		before := hash.Active().Name
		got, timings, err := SelectHashBackend(SelectOptions{Backend: c.choice})
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%q: error %v, want %v", c.choice, err, c.err)
			continue
		}
		if err != nil {
			if hash.Active().Name != before {
				t.Errorf("%q: failed selection changed the backend to %s", c.choice, hash.Active().Name)
			}
			if vErr := ValidateBackendChoice(c.choice); !errors.Is(vErr, ErrUnknownBackend) {
				t.Errorf("ValidateBackendChoice(%q) = %v", c.choice, vErr)
			}
			continue
		}
		if got.Name != c.want || hash.Active().Name != c.want || timings != nil {
			t.Errorf("%q: chose %q, active %q, timings %v", c.choice, got.Name, hash.Active().Name, timings)
		}
	}
}

func TestSelectRejectsBadOptions(t *testing.T) {
	keepActive(t)
	for _, opts := range []SelectOptions{{Budget: -time.Second}, {Rounds: -1}} {
		if _, _, err := SelectHashBackend(opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
}

func TestBackendChoices(t *testing.T) {
	want := []string{"auto", "stdlib", "sha256-simd"}
	got := BackendChoices()
	if len(got) != len(want) {
		t.Fatalf("BackendChoices = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("BackendChoices = %v, want %v", got, want)
		}
		if err := ValidateBackendChoice(want[i]); err != nil {
			t.Errorf("ValidateBackendChoice(%q) = %v", want[i], err)
		}
	}
	if err := ValidateBackendChoice(""); err != nil {
		t.Errorf("ValidateBackendChoice(\"\") = %v", err)
	}
	if b, err := BackendByName("sha256-simd"); err != nil || b.Name != "sha256-simd" {
		t.Errorf("BackendByName(sha256-simd) = %q, %v", b.Name, err)
	}
}

// TestSelectOnThisMachine runs the real measurement. It asserts the
// contract, not the speed: the installed backend is the one chooseBackend
// names from the returned timings. Run with -v to see the figures.
func TestSelectOnThisMachine(t *testing.T) {
	keepActive(t)
	got, timings, err := SelectHashBackend(SelectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != chooseBackend(timings) || hash.Active().Name != got.Name {
		t.Fatalf("installed %q, active %q, timings name %q", got.Name, hash.Active().Name, chooseBackend(timings))
	}
	if len(timings) != len(hash.Backends()) {
		t.Fatalf("%d timings for %d backends", len(timings), len(hash.Backends()))
	}
	for _, tm := range timings {
		if tm.Rejected != "" || tm.Rounds < 1 {
			t.Errorf("%s: rejected %q after %d rounds", tm.Name, tm.Rejected, tm.Rounds)
		}
		t.Logf("%-12s score %7.1f ns/tx over %2d rounds: %s %.1f ns, %s %.1f ns, %s %.1f ns", tm.Name, tm.Score, tm.Rounds,
			tm.Workloads[0].Name, tm.Workloads[0].NsPerHash, tm.Workloads[1].Name, tm.Workloads[1].NsPerHash,
			tm.Workloads[2].Name, tm.Workloads[2].NsPerHash)
	}
	t.Logf("chosen: %s; CPU %s", got.Name, Features())
}
