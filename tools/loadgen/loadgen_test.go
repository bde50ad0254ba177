package loadgen

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

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
	err := (&Config{Rate: -1, Batch: 0, Workers: 0, Cross: 1.5}).Validate()
	if err == nil {
		t.Fatal("empty config accepted")
	}
	for _, s := range []string{"--api", "--accounts", "--rate", "--duration", "--batch", "--workers", "--amount", "--cross"} {
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
		{[]string{"--cross", "half"}, "invalid argument"},
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
		Batch: 20, Workers: 2, Amount: 1, Drain: 30 * time.Second, Cross: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Submitted < 150 || rep.Accepted != rep.Submitted || rep.Confirmed != rep.Accepted || rep.Recorded != rep.Confirmed {
		t.Fatalf("report %+v: want about 200 submitted, all accepted, confirmed and recorded", rep)
	}
	if rep.P50 <= 0 || rep.P50 > rep.P99 || rep.P99 > rep.Max || rep.TPS <= 0 || rep.Blocks < 1 ||
		rep.RecordedP50 < rep.P50 || rep.RecordedMax < rep.Max {
		t.Fatalf("implausible figures: %+v", rep)
	}
	if len(rep.Chains) != 1 || rep.Chains[0].Chain != 1 || rep.Chains[0].Figures != rep.Figures || rep.Cross != 0 || rep.Unserved != 0 {
		t.Fatalf("one chain: %+v", rep)
	}
	var sb strings.Builder
	PrintReport(&sb, rep)
	if !strings.Contains(sb.String(), "p99") || strings.Contains(sb.String(), "cross-chain") {
		t.Fatalf("report table:\n%s", sb.String())
	}
}

// Two chains of one node each: given the node of chain 2 alone, the run
// loads chain 2 and leaves chain 1's accounts out; given both, each
// account's transfers go to its own chain's node, about half of them to
// the other chain, every one is confirmed and recorded on its chain, and
// the value sent across arrives: the balances add up to the genesis
// supply again.
func TestRunAcrossTwoChains(t *testing.T) {
	const accounts, balance = 20, 1_000_000
	nw := drivertest.StartChains(t, 2, 1, accounts, balance, 6)
	var accts []txcmd.Account
	for _, a := range nw.Accounts {
		accts = append(accts, txcmd.NewAccount(a.Key))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cfg := Config{APIs: nw.APIs[1:], Accounts: accts, Rate: 100, Duration: 500 * time.Millisecond,
		Batch: 10, Workers: 2, Amount: 1, Drain: 30 * time.Second, Cross: -1}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Chains) != 1 || rep.Chains[0].Chain != 2 || rep.Chains[0].Senders != accounts/2 || rep.Unserved != accounts/2 ||
		rep.Cross != 0 || rep.Confirmed == 0 || rep.Confirmed != rep.Accepted {
		t.Fatalf("run on the node of chain 2 alone: %+v", rep)
	}

	cfg.APIs, cfg.Cross, cfg.Rate, cfg.Duration = nw.APIs, 0.5, 200, time.Second
	rep, err = Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Chains) != 2 || rep.Unserved != 0 || rep.Rejected != 0 || rep.Failed != 0 {
		t.Fatalf("run on both chains: %+v", rep)
	}
	sum := Figures{}
	for i, c := range rep.Chains {
		if c.Chain != uint32(i+1) || c.Senders != accounts/2 || c.Submitted == 0 || c.Confirmed != c.Accepted ||
			c.Recorded != c.Confirmed || c.TPS <= 0 || c.P50 <= 0 || c.P99 > c.Max {
			t.Fatalf("chain %d: %+v", c.Chain, c)
		}
		sum.Submitted += c.Submitted
		sum.Confirmed += c.Confirmed
		sum.Recorded += c.Recorded
		sum.Cross += c.Cross
	}
	if sum.Submitted != rep.Submitted || sum.Confirmed != rep.Confirmed || sum.Recorded != rep.Recorded || sum.Cross != rep.Cross {
		t.Fatalf("chains %+v do not add up to the total %+v", rep.Chains, rep.Figures)
	}
	if share := float64(rep.Cross) / float64(rep.Submitted); share < 0.3 || share > 0.7 {
		t.Fatalf("cross-chain share %.2f (%d of %d), want about 0.5", share, rep.Cross, rep.Submitted)
	}
	var sb strings.Builder
	PrintReport(&sb, rep)
	for _, want := range []string{"cross-chain", "chain 1 ", "chain 2 ", "recorded"} {
		if !strings.Contains(sb.String(), want) {
			t.Fatalf("report table lacks %q:\n%s", want, sb.String())
		}
	}

	clients := map[uint32]*txcmd.Client{}
	for i, u := range nw.APIs {
		c, err := txcmd.NewClient(u)
		if err != nil {
			t.Fatal(err)
		}
		clients[uint32(nw.Chain[i])] = c
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		total := uint64(0)
		for _, a := range nw.Accounts {
			st, err := clients[uint32(a.Chain)].Account(ctx, a.Address)
			if err != nil {
				t.Fatal(err)
			}
			total += st.Balance
		}
		if total == accounts*balance {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("balances add up to %d, want %d: cross-chain value not delivered", total, accounts*balance)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recipient's draw: with Cross 0 a transfer stays on its sender's chain
// (to another account when the chain has one), with Cross 1 it leaves
// when another chain has an account, and negative Cross pays the next
// sender.
func TestRecipientDraw(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nChains := rapid.IntRange(1, 4).Draw(t, "chains")
		chains := make([]*chainRun, nChains)
		for i := range chains {
			chains[i] = &chainRun{id: uint32(i + 1)}
		}
		of := rapid.SliceOfN(rapid.IntRange(0, nChains-1), 2, 30).Draw(t, "chain of each sender")
		cross := rapid.SampledFrom([]float64{-1, 0, 1, 0.5}).Draw(t, "cross")
		r := &run{cfg: Config{Cross: cross}, chains: chains, rnd: rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 0))}
		for _, c := range of {
			r.senders = append(r.senders, &sender{chain: chains[c]})
		}
		r.indexSenders()
		for _, ch := range r.chains {
			for _, i := range r.order[ch.first:ch.end] {
				if r.senders[i].chain != ch {
					t.Fatalf("order: sender %d of chain %d in chain %d's range", i, r.senders[i].chain.id, ch.id)
				}
			}
		}
		for i, s := range r.senders {
			to := r.recipient(i)
			same := s.chain.end - s.chain.first
			switch {
			case cross < 0:
				if to != r.senders[(i+1)%len(r.senders)] {
					t.Fatalf("sender %d: not the next sender", i)
				}
			case cross == 0:
				if to.chain != s.chain || (same > 1 && to == s) {
					t.Fatalf("sender %d of chain %d: recipient of chain %d (itself %v)", i, s.chain.id, to.chain.id, to == s)
				}
			case cross == 1:
				if same < len(r.senders) && to.chain == s.chain {
					t.Fatalf("sender %d of chain %d: recipient on its own chain", i, s.chain.id)
				}
			}
		}
	})
}
