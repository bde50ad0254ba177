package simulate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/sim"
)

// A sharded seed prints per-chain figures and the checks, and with the
// defaults and --faults swarm it is the seed of the simulation tests: the
// same trace hash.
func TestSimShardOneSeed(t *testing.T) {
	args := []string{"--chains", "2", "--seed", "3", "--faults", "swarm", "--heal-by", "6s", "--liveness-heights", "2"}
	out, _, err := execute(t, args...)
	if err != nil {
		t.Fatalf("sim %v: %v\n%s", args, err, out)
	}
	for _, want := range []string{"transaction", "root", "relays out", "TPS", "relay latency (root)", "value conserved", "result"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	cfg, err := sim.SwarmShardConfig(3, 2, 6*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.RunShard(cfg, sim.ShardTargets{LivenessHeights: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, rep.TraceHash.String()) {
		t.Fatalf("the command's trace hash is not the test seed's %v:\n%s", rep.TraceHash, out)
	}
}

// A range of sharded seeds prints one row per seed.
func TestSimShardSeedRange(t *testing.T) {
	out, _, err := execute(t, "--chains", "2", "--seeds", "1..2", "--duration", "2s", "--cross", "1", "--tx-rate", "20")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "2 seeds, 0 failed") || strings.Count(out, " ok\n") != 2 {
		t.Fatalf("range output:\n%s", out)
	}
}

// A sharded seed that misses its liveness bound prints its replay.
func TestSimShardFailingSeedExitsWithReplay(t *testing.T) {
	_, _, err := execute(t, "--chains", "2", "--seed", "1", "--duration", "2s", "--liveness-window", "1ms")
	if !errors.Is(err, ErrSeedsFailed) || !errors.Is(err, sim.ErrNoLiveness) {
		t.Fatalf("got %v, want a liveness failure", err)
	}
	if !strings.Contains(err.Error(), "replay: thinkey sim --chains 2 --seed 1") {
		t.Fatalf("no replay command: %v", err)
	}
}

func TestSimShardRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--cross", "0.5"}, "--cross: needs --chains"},
		{[]string{"--tx-rate", "5"}, "--tx-rate: needs --chains"},
		{[]string{"--chains", "2", "--cross", "2"}, "--cross: 2 not in [0, 1]"},
		{[]string{"--chains", "2", "--tx-rate", "-1"}, "--tx-rate"},
		{[]string{"--chains", "2", "--accounts", "1"}, "--accounts"},
		{[]string{"--chains", "2", "--byzantine", "silent"}, "--byzantine: is for one committee"},
		{[]string{"--chains", "-1"}, "--chains"},
	}
	for _, tc := range tests {
		_, _, err := execute(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sim %v: %v, want an error about %q", tc.args, err, tc.want)
		}
	}
}
