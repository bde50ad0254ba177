package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/driver/drivertest"
	"github.com/thinkey/thinkey/tools/txcmd"
)

func TestPercentileIsNearestRank(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, c := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.9, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
	} {
		if got := percentile(c.sorted, c.p); got != c.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", c.sorted, c.p, got, c.want)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := (&Config{Rate: -1, Batch: 0, Workers: 0}).Validate()
	if err == nil {
		t.Fatal("empty config accepted")
	}
	for _, s := range []string{"--api", "--accounts", "--rate", "--duration", "--batch", "--workers", "--amount"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
}

func TestCommandRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{nil, "--api is required"},
		{[]string{"--api", "http://127.0.0.1:1"}, "--accounts is required"},
		{[]string{"--api", "http://127.0.0.1:1", "--accounts", "/nonexistent/accounts.json"}, "no such file"},
		{[]string{"--rate", "fast"}, "invalid argument"},
	} {
		cmd := Command()
		cmd.SetArgs(c.args)
		cmd.SetOut(&strings.Builder{})
		cmd.SetErr(&strings.Builder{})
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("loadgen %v = %v, want an error mentioning %q", c.args, err, c.says)
		}
	}
}

// A short run against a real node: every transfer is confirmed and timed.
func TestRunConfirmsEveryTransfer(t *testing.T) {
	nw := drivertest.Start(t, 1, 20, 1_000_000, 5)
	var accounts []txcmd.Account
	for _, a := range nw.Accounts {
		accounts = append(accounts, txcmd.NewAccount(a.Key))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := Run(ctx, Config{
		APIs: nw.APIs, Accounts: accounts, Rate: 200, Duration: time.Second,
		Batch: 20, Workers: 2, Amount: 1, Drain: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Submitted < 150 || rep.Accepted != rep.Submitted || rep.Confirmed != rep.Accepted {
		t.Fatalf("report %+v: want about 200 submitted, all accepted and confirmed", rep)
	}
	if rep.P50 <= 0 || rep.P50 > rep.P99 || rep.P99 > rep.Max || rep.TPS <= 0 || rep.Blocks < 1 {
		t.Fatalf("implausible figures: %+v", rep)
	}
	var sb strings.Builder
	PrintReport(&sb, rep)
	if !strings.Contains(sb.String(), "p99") {
		t.Fatalf("report table:\n%s", sb.String())
	}
}
