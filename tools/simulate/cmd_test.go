package simulate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/bench"
	"github.com/thinkey/thinkey/node/sim"
)

func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := Command()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), errb.String(), err
}

// One seed prints its summary, the same twice over.
func TestSimOneSeed(t *testing.T) {
	args := []string{"--seed", "7", "--members", "7", "--heights", "8", "--faults", "swarm", "--heal-by", "10s",
		"--byzantine", "equivocating-leader,delay"}
	out, _, err := execute(t, args...)
	if err != nil {
		t.Fatalf("sim %v: %v\n%s", args, err, out)
	}
	for _, want := range []string{"members", "7 (f = 2, q = 5)", "heights decided", "empty blocks", "rounds", "messages",
		"virtual time", "evidence", "trace hash", "equivocating-leader", "result", "ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	again, _, err := execute(t, args...)
	if err != nil || again != out {
		t.Fatalf("a second run printed something else (%v):\n%s\n---\n%s", err, out, again)
	}
}

// A range prints one row per seed and a count.
func TestSimSeedRange(t *testing.T) {
	out, errOut, err := execute(t, "--seeds", "3..5", "--members", "4", "--heights", "5", "--faults", "swarm", "--heal-by", "5s", "--byzantine", "random")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "3 seeds, 0 failed") || strings.Count(out, " ok\n") != 3 {
		t.Fatalf("range output:\n%s", out)
	}
	if errOut != "" {
		t.Fatalf("progress written to a non-terminal: %q", errOut)
	}
}

// A seed that misses its liveness bound fails the command, which prints
// the command replaying it.
func TestSimFailingSeedExitsWithReplay(t *testing.T) {
	out, _, err := execute(t, "--seed", "4", "--heights", "50", "--liveness-window", "1s")
	if !errors.Is(err, ErrSeedsFailed) || !errors.Is(err, sim.ErrNoLiveness) {
		t.Fatalf("got %v, want a liveness failure", err)
	}
	if !strings.Contains(err.Error(), "replay: thinkey sim --seed 4 --members 4 --heights 50") || !strings.Contains(out, "FAIL") {
		t.Fatalf("no replay command or FAIL row:\n%v\n%s", err, out)
	}
	_, _, err = execute(t, "--seeds", "1..2", "--heights", "50", "--liveness-window", "1s")
	if !errors.Is(err, ErrSeedsFailed) || !strings.Contains(err.Error(), "2 of 2") {
		t.Fatalf("range with failing seeds: %v", err)
	}
}

// --trace writes the simulator's events.
func TestSimTraceFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.txt")
	if _, _, err := execute(t, "--seed", "2", "--heights", "3", "--trace", path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(data, []byte("deliver")) {
		t.Fatalf("trace file: %v, %d bytes", err, len(data))
	}
}

// Bad flags are refused before anything runs, each named.
func TestSimRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--members", "0"}, "--members: 0 not in 1..1024"},
		{[]string{"--heights", "0"}, "--heights"},
		{[]string{"--faults", "storm"}, `--faults: "storm"`},
		{[]string{"--signer", "rsa"}, `--signer: "rsa"`},
		{[]string{"--byzantine", "lazy"}, "--byzantine"},
		{[]string{"--byzantine", "silent,delay", "--members", "4"}, "tolerates f = 1"},
		{[]string{"--seed", "3", "--seeds", "1..3"}, "not both"},
		{[]string{"--seeds", "5..1"}, "empty"},
		{[]string{"--seeds", "x"}, "not a range"},
		{[]string{"--seeds", "1..y"}, "range end"},
		{[]string{"--trace", "t.txt", "--seeds", "1..2"}, "one seed only"},
		{[]string{"--heal-by", "0s"}, "--heal-by"},
		{[]string{"--block-interval", "5s"}, "block interval"},
		{[]string{"--liveness-window", "-1s"}, "--liveness-window"},
		{[]string{"--profile", "/nonexistent/bench.json"}, "--profile"},
		{[]string{"extra"}, "unknown command"},
	}
	for _, tc := range tests {
		_, _, err := execute(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sim %v: %v, want an error about %q", tc.args, err, tc.want)
		}
	}
	// Every problem at once.
	_, _, err := execute(t, "--members", "0", "--faults", "storm", "--signer", "rsa")
	for _, want := range []string{"--members", "--faults", "--signer"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("combined bad flags: %v lacks %s", err, want)
		}
	}
}

// A bench report's BLS and storage figures replace the defaults; what it
// lacks keeps the default and is named.
func TestCostsFromReport(t *testing.T) {
	rep := bench.Report{Results: []bench.Result{
		{Case: "bls/sign", NsPerOp: 400_000},
		{Case: "bls/verify/single", NsPerOp: 1_000_000},
		{Case: "bls/votes/n=4/batch", NsPerOp: 1_400_000},    // 1.0 ms + 0.1 ms per vote
		{Case: "bls/votes/n=100/batch", NsPerOp: 11_000_000}, //
		{Case: "bls/votes/n=100/one-by-one", NsPerOp: 1},     // not a batch: ignored
	}}
	costs, notes := CostsFromReport(rep)
	def := sim.DefaultCPUCosts()
	if costs.Sign != 400*time.Microsecond || costs.Verify != time.Millisecond {
		t.Errorf("sign %v, verify %v", costs.Sign, costs.Verify)
	}
	if costs.SameMessageBase != time.Millisecond || costs.SameMessagePerVote != 100*time.Microsecond {
		t.Errorf("vote batch fit: base %v, per vote %v", costs.SameMessageBase, costs.SameMessagePerVote)
	}
	if costs.Persist != def.Persist || costs.DistinctPerSignature != def.DistinctPerSignature {
		t.Errorf("missing cases did not keep their defaults: %+v", costs)
	}
	joined := strings.Join(notes, "\n")
	if !strings.Contains(joined, "pebble/apply-block/writes=10") || !strings.Contains(joined, "bls/batch/") {
		t.Errorf("notes do not name the missing cases:\n%s", joined)
	}
	if err := costs.Validate(); err != nil {
		t.Error(err)
	}
}
