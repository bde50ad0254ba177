package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/tools/testnet"
	"github.com/thinkey/thinkey/tools/txcmd"
)

// binary is the thinkey binary under test.
var binary string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	if b := os.Getenv("THINKEY_BIN"); b != "" {
		binary = b
		if err := checkCommands(context.Background()); err != nil {
			return 0, err
		}
		return m.Run(), nil
	}
	dir, err := os.MkdirTemp("", "thinkey-e2e-bin-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	root, err := repoRoot()
	if err != nil {
		return 0, err
	}
	binary = filepath.Join(dir, "thinkey")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, "./tools/thinkey")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build ./tools/thinkey: %v\n%s", err, out)
	}
	if err := checkCommands(ctx); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// checkCommands fails early, with a message saying what is missing, when the
// binary lacks a command the tests drive.
func checkCommands(ctx context.Context) error {
	for _, c := range []string{"node", "init", "testnet", "tx", "loadgen"} {
		out, err := exec.CommandContext(ctx, binary, c, "--help").CombinedOutput()
		if err != nil {
			return fmt.Errorf("the thinkey binary has no %q command (tools/thinkey must add it): %v\n%s", c, err, out)
		}
	}
	return nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}

// thinkey runs the binary with args and returns its combined output and
// exit code.
func thinkey(t *testing.T, timeout time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	default:
		t.Fatalf("thinkey %s: %v\n%s", strings.Join(args, " "), err, out.String())
		return "", -1
	}
}

// freeBasePort finds a base port P such that UDP P..P+n-1 and TCP
// P+80..P+80+n-1 are free on 127.0.0.1 right now.
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		base := 20000 + (os.Getpid()*7+try*211)%30000
		ok := true
		var closers []func()
		for i := 0; i < n && ok; i++ {
			u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			closers = append(closers, func() { u.Close() })
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+80+i))
			if err != nil {
				ok = false
				break
			}
			closers = append(closers, func() { l.Close() })
		}
		for _, c := range closers {
			c()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range on 127.0.0.1")
	return 0
}

// net is a running testnet under test.
type network struct {
	t        *testing.T
	dir      string
	manifest *testnet.Manifest
	clients  []*txcmd.Client
	accounts []txcmd.Account
	nonces   map[types.Address]uint64
}

// startNetwork starts a testnet of chains transaction chains of members
// nodes each.
func startNetwork(t *testing.T, chains, members, accounts int) *network {
	t.Helper()
	dir := t.TempDir()
	base := freeBasePort(t, chains*members)
	nw := &network{t: t, dir: dir, nonces: map[types.Address]uint64{}}
	t.Cleanup(nw.cleanup)
	out, code := thinkey(t, 2*time.Minute, "testnet", "up", "--chains", fmt.Sprint(chains), "--members", fmt.Sprint(members),
		"--dir", dir, "--accounts", fmt.Sprint(accounts), "--base-port", fmt.Sprint(base))
	if code != 0 {
		nw.dumpLogs()
		t.Fatalf("testnet up: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "thinkey tx send") {
		t.Errorf("testnet up does not say how to send a transfer:\n%s", out)
	}
	m, err := testnet.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	nw.manifest = m
	for _, n := range m.Nodes {
		c, err := txcmd.NewClient(n.APIURL())
		if err != nil {
			t.Fatal(err)
		}
		nw.clients = append(nw.clients, c)
	}
	if nw.accounts, err = txcmd.LoadAccounts(filepath.Join(dir, testnet.AccountsFile)); err != nil {
		t.Fatal(err)
	}
	return nw
}

// cleanup stops every node, whatever state the test left them in.
func (nw *network) cleanup() {
	if nw.t.Failed() {
		nw.dumpLogs()
	}
	if _, code := thinkey(nw.t, time.Minute, "testnet", "down", "--dir", nw.dir); code != 0 {
		nw.t.Errorf("testnet down failed")
	}
	if nw.manifest == nil {
		return
	}
	for _, n := range nw.manifest.Nodes {
		if pid := testnet.Running(nw.dir, n); pid != 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func (nw *network) dumpLogs() {
	entries, _ := filepath.Glob(filepath.Join(nw.dir, "node-*", testnet.LogFile))
	for _, path := range entries {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		nw.t.Logf("==== %s (last %d lines)\n%s", path, len(lines), strings.Join(lines, "\n"))
	}
}

// waitFor polls cond every 100 ms until it holds, failing after timeout.
func (nw *network) waitFor(timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	nw.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			nw.t.Fatalf("timed out after %v waiting for %s (last error: %v)", timeout, what, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// send submits a transfer from account from to account to through node via
// the HTTP API and returns its ID.
func (nw *network) send(via, from, to int, amount uint64) types.Hash {
	nw.t.Helper()
	a := nw.accounts[from]
	msg := actor.NewTransfer(a.Key, nw.nonces[a.Address], nw.accounts[to].Address, amount)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := nw.clients[via].Submit(ctx, &msg)
	if err != nil || !res.Accepted {
		nw.t.Fatalf("submit via node %d: %v %+v", via, err, res)
	}
	nw.nonces[a.Address]++
	return msg.ID()
}

// confirmed waits until every message is confirmed on each node of nodes.
func (nw *network) confirmed(timeout time.Duration, nodes []int, ids ...types.Hash) {
	nw.t.Helper()
	nw.waitFor(timeout, fmt.Sprintf("%d transfers confirmed on nodes %v", len(ids), nodes), func(ctx context.Context) (bool, error) {
		for _, i := range nodes {
			for _, id := range ids {
				st, err := nw.clients[i].Message(ctx, id)
				if err != nil {
					return false, fmt.Errorf("node %d: %w", i, err)
				}
				if st.State == "rejected" {
					nw.t.Fatalf("node %d: message %s rejected: %s", i, id, st.Reason)
				}
				if st.State != "confirmed" {
					return false, nil
				}
			}
		}
		return true, nil
	})
}

// height returns node i's committed height of its transaction chain.
func (nw *network) height(ctx context.Context, i int) (uint64, error) {
	chains, err := nw.clients[i].Chains(ctx)
	if err != nil {
		return 0, err
	}
	want := nw.manifest.Nodes[i].Chain
	for _, c := range chains {
		if c.ID == want {
			return c.Height, nil
		}
	}
	return 0, fmt.Errorf("node %d lists no chain %d", i, want)
}

// sameState checks that the given nodes, of one transaction chain, hold the
// same block at height h (hash and state root).
func (nw *network) sameState(nodes []int, h uint64) {
	nw.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var want txcmd.Block
	for k, i := range nodes {
		b, err := nw.clients[i].Block(ctx, nw.manifest.Nodes[i].Chain, h)
		if err != nil {
			nw.t.Fatalf("node %d block %d: %v", i, h, err)
		}
		if k == 0 {
			want = b
		} else if b.Hash != want.Hash || b.Header.StateRoot != want.Header.StateRoot {
			nw.t.Fatalf("height %d: node %d holds %s (state %s), node %d holds %s (state %s)",
				h, i, b.Hash, b.Header.StateRoot, nodes[0], want.Hash, want.Header.StateRoot)
		}
	}
}

// balances reads every account's balance on node i.
func (nw *network) balances(i int) []uint64 {
	nw.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := make([]uint64, len(nw.accounts))
	for k, a := range nw.accounts {
		st, err := nw.clients[i].Account(ctx, a.Address)
		if err != nil {
			nw.t.Fatalf("node %d account %s: %v", i, a.Address, err)
		}
		out[k] = st.Balance
	}
	return out
}

// settled waits until the nodes report the same height at least min, then
// returns it.
func (nw *network) commonHeight(nodes []int, atLeast uint64, timeout time.Duration) uint64 {
	nw.t.Helper()
	var h uint64
	nw.waitFor(timeout, fmt.Sprintf("nodes %v past height %d", nodes, atLeast), func(ctx context.Context) (bool, error) {
		low := ^uint64(0)
		for _, i := range nodes {
			hi, err := nw.height(ctx, i)
			if err != nil {
				return false, err
			}
			low = min(low, hi)
		}
		h = low
		return low >= atLeast, nil
	})
	return h
}

func equalBalances(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTestnetTransfersKillRestart is issue item 5: transfers through the
// API, equal balances everywhere, a node killed with SIGKILL that catches up
// after a restart, and the whole network restarted from disk.
func TestTestnetTransfersKillRestart(t *testing.T) {
	const nodes, accounts = 4, 8
	nw := startNetwork(t, 1, nodes, accounts)
	all := []int{0, 1, 2, 3}

	// Transfers through every node's API.
	var ids []types.Hash
	for k := range accounts {
		ids = append(ids, nw.send(k%nodes, k, (k+1)%accounts, uint64(10+k)))
	}
	nw.confirmed(60*time.Second, all, ids...)
	want := nw.balances(0)
	for _, i := range all[1:] {
		if got := nw.balances(i); !equalBalances(got, want) {
			t.Fatalf("node %d balances %v, node 0 %v", i, got, want)
		}
	}
	h := nw.commonHeight(all, 1, 30*time.Second)
	nw.sameState(all, h)

	// SIGKILL node 3 and carry on without it.
	victim := nw.manifest.Nodes[3]
	pid := testnet.Running(nw.dir, victim)
	if pid == 0 {
		t.Fatal("node 3 is not running")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	nw.waitFor(10*time.Second, "node 3 to die", func(context.Context) (bool, error) {
		return testnet.Running(nw.dir, victim) == 0, nil
	})
	ids = ids[:0]
	for k := range accounts {
		ids = append(ids, nw.send(k%3, k, (k+3)%accounts, 5))
	}
	live := []int{0, 1, 2}
	nw.confirmed(60*time.Second, live, ids...)
	ahead, err := nw.height(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}

	// Restart it: testnet up starts only the stopped node.
	out, code := thinkey(t, 2*time.Minute, "testnet", "up", "--dir", nw.dir)
	if code != 0 || !strings.Contains(out, "node 3 started") || !strings.Contains(out, "node 0 already running") {
		t.Fatalf("testnet up to restart node 3: exit %d\n%s", code, out)
	}
	h = nw.commonHeight(all, ahead+1, 90*time.Second)
	nw.sameState(all, h)
	nw.confirmed(30*time.Second, []int{3}, ids...)
	want = nw.balances(0)
	if got := nw.balances(3); !equalBalances(got, want) {
		t.Fatalf("restarted node 3 balances %v, node 0 %v", got, want)
	}

	// Stop everything and start again from disk.
	if out, code := thinkey(t, time.Minute, "testnet", "down", "--dir", nw.dir); code != 0 {
		t.Fatalf("testnet down: exit %d\n%s", code, out)
	}
	for _, n := range nw.manifest.Nodes {
		if testnet.Running(nw.dir, n) != 0 {
			t.Fatalf("node %d still running after testnet down", n.Index)
		}
	}
	if out, code := thinkey(t, 2*time.Minute, "testnet", "up", "--dir", nw.dir); code != 0 {
		t.Fatalf("testnet up after down: exit %d\n%s", code, out)
	}
	for _, i := range all {
		if got := nw.balances(i); !equalBalances(got, want) {
			t.Fatalf("after the restart node %d balances %v, before %v", i, got, want)
		}
	}
	last := nw.send(1, 0, 1, 1)
	nw.confirmed(60*time.Second, all, last)
	h = nw.commonHeight(all, h+1, 30*time.Second)
	nw.sameState(all, h)
}
