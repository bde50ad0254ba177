package txcmd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/driver/drivertest"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/tools/txcmd"
)

func newAccount(t *testing.T, seed uint64) txcmd.Account {
	t.Helper()
	var s [32]byte
	s[0] = byte(seed)
	key, err := ed25519.GenerateKey(rand.NewChaCha8(s))
	if err != nil {
		t.Fatal(err)
	}
	return txcmd.NewAccount(key)
}

func writeAccount(t *testing.T, dir string, a txcmd.Account, mode os.FileMode) string {
	t.Helper()
	data, err := txcmd.MarshalAccount(a)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a.key")
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAccountFilesRoundTrip(t *testing.T) {
	a, b := newAccount(t, 1), newAccount(t, 2)
	data, err := txcmd.MarshalAccount(a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := txcmd.ParseAccount(data)
	if err != nil || got.Address != a.Address || got.Key.Seed() != a.Key.Seed() {
		t.Fatalf("ParseAccount(MarshalAccount(a)) = %v, %v", got.Address, err)
	}
	list, err := txcmd.MarshalAccounts([]txcmd.Account{a, b})
	if err != nil {
		t.Fatal(err)
	}
	all, err := txcmd.ParseAccounts(list)
	if err != nil || len(all) != 2 || all[1].Address != b.Address {
		t.Fatalf("ParseAccounts = %d accounts, %v", len(all), err)
	}
}

func TestParseAccountRejects(t *testing.T) {
	a := newAccount(t, 3)
	good, _ := txcmd.MarshalAccount(a)
	other := newAccount(t, 4)
	cases := map[string][]byte{
		"not json":        []byte("seed=1"),
		"wrong type":      bytes.Replace(good, []byte(txcmd.AccountKeyType), []byte("ssh"), 1),
		"short seed":      bytes.Replace(good, []byte(`"seed": "`), []byte(`"seed": "00`), 1),
		"foreign address": bytes.Replace(good, []byte(a.Address.String()), []byte(other.Address.String()), 1),
		"unknown field":   bytes.Replace(good, []byte(`"type"`), []byte(`"x": 1, "type"`), 1),
		"trailing":        append(append([]byte{}, good...), '{', '}'),
	}
	for name, data := range cases {
		if _, err := txcmd.ParseAccount(data); !errors.Is(err, txcmd.ErrMalformedAccount) {
			t.Errorf("%s: ParseAccount = %v, want ErrMalformedAccount", name, err)
		}
	}
	dir := t.TempDir()
	path := writeAccount(t, dir, a, 0o644)
	if _, err := txcmd.LoadAccount(path); !errors.Is(err, keys.ErrExposed) {
		t.Errorf("LoadAccount of a 0644 file = %v, want ErrExposed", err)
	}
}

func TestParsers(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"0123456789abcdef0123456789abcdef01234567", true},
		{"0x0123456789abcdef0123456789abcdef01234567", true},
		{"0123", false},
		{"zz23456789abcdef0123456789abcdef01234567", false},
		{"", false},
	} {
		if _, err := txcmd.ParseAddress(c.in); (err == nil) != c.ok {
			t.Errorf("ParseAddress(%q) = %v, want ok=%v", c.in, err, c.ok)
		}
	}
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"1", 1, true}, {"18446744073709551615", 1<<64 - 1, true},
		{"0", 0, false}, {"-1", 0, false}, {"1.5", 0, false}, {"18446744073709551616", 0, false}, {"", 0, false}, {"ten", 0, false},
	} {
		got, err := txcmd.ParseAmount(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
	if _, err := txcmd.ParseID(strings.Repeat("ab", 32)); err != nil {
		t.Errorf("ParseID: %v", err)
	}
	if _, err := txcmd.ParseID("ab"); err == nil {
		t.Error("ParseID accepted 2 digits")
	}
}

func execute(args ...string) (string, error) {
	cmd := txcmd.Command()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestCommandRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeAccount(t, dir, newAccount(t, 5), 0o600)
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	to := newAccount(t, 6).Address.String()
	cases := []struct {
		name string
		args []string
		says string
	}{
		{"no key", []string{"send", "--to", to, "--amount", "1"}, "--from-key is required"},
		{"no recipient", []string{"send", "--from-key", keyFile, "--amount", "1"}, "--to is required"},
		{"bad recipient", []string{"send", "--from-key", keyFile, "--to", "zz", "--amount", "1"}, "--to"},
		{"negative amount", []string{"send", "--from-key", keyFile, "--to", to, "--amount", "-1"}, "--amount"},
		{"zero amount", []string{"send", "--from-key", keyFile, "--to", to, "--amount", "0"}, "must be positive"},
		{"missing amount", []string{"send", "--from-key", keyFile, "--to", to}, "--amount: required"},
		{"missing key file", []string{"send", "--from-key", filepath.Join(dir, "none"), "--to", to, "--amount", "1"}, "no such file"},
		{"malformed key file", []string{"send", "--from-key", bad, "--to", to, "--amount", "1"}, "malformed account key"},
		{"bad api", []string{"send", "--from-key", keyFile, "--to", to, "--amount", "1", "--api", "ftp://x"}, "--api"},
		{"bad id", []string{"get", "xyz"}, "message id"},
		{"get without id", []string{"get"}, "accepts 1 arg"},
		{"bad account", []string{"account", "12"}, "address"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := execute(c.args...)
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %v, want one mentioning %q", err, c.says)
			}
		})
	}
}

// TestSendGetAccountAgainstANode runs the commands against a real node.
func TestSendGetAccountAgainstANode(t *testing.T) {
	nw := drivertest.Start(t, 1, 2, 1000, 11)
	dir := t.TempDir()
	from := txcmd.Account{Key: nw.Accounts[0].Key, Address: nw.Accounts[0].Address}
	keyFile := writeAccount(t, dir, from, 0o600)
	to := nw.Accounts[1].Address
	out, err := execute("send", "--from-key", keyFile, "--to", hexAddr(to), "--amount", "7", "--api", nw.APIs[0], "--wait", "20s")
	if err != nil {
		t.Fatalf("send: %v\n%s", err, out)
	}
	if !strings.Contains(out, "confirmed at height") {
		t.Fatalf("send output:\n%s", out)
	}
	id := strings.TrimSuffix(strings.Fields(out)[1], ":")
	out, err = execute("get", id, "--api", nw.APIs[0])
	if err != nil || !strings.Contains(out, `"state": "confirmed"`) {
		t.Fatalf("get: %v\n%s", err, out)
	}
	out, err = execute("account", hexAddr(to), "--api", nw.APIs[0])
	if err != nil || !strings.Contains(out, `"balance": 1007`) {
		t.Fatalf("account: %v\n%s", err, out)
	}
	// A second transfer reads the new nonce.
	if out, err := execute("send", "--from-key", keyFile, "--to", hexAddr(to), "--amount", "3", "--api", nw.APIs[0], "--wait", "20s"); err != nil {
		t.Fatalf("second send: %v\n%s", err, out)
	}
	c, err := txcmd.NewClient(nw.APIs[0])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.Account(ctx, from.Address)
	if err != nil || st.Nonce != 2 || st.Balance != 990 {
		t.Fatalf("sender after two transfers: %+v, %v", st, err)
	}
	if _, err := execute("get", strings.Repeat("00", 32), "--api", nw.APIs[0]); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Fatalf("get of an unknown message: %v", err)
	}
	unfunded := newAccount(t, 9)
	unfundedFile := filepath.Join(t.TempDir(), "u.key")
	data, _ := txcmd.MarshalAccount(unfunded)
	if err := os.WriteFile(unfundedFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := execute("send", "--from-key", unfundedFile, "--to", hexAddr(to), "--amount", "1", "--api", nw.APIs[0]); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Fatalf("send from an unfunded account: %v", err)
	}
}

func hexAddr(a [20]byte) string { return types.Address(a).String() }

// TestSendAcrossChains sends from an account of chain 1 to one of chain 2:
// the sender's node reports it confirmed and irrevocable, and with
// --wait-delivery the command waits until chain 2 executed the relay.
// Reading or sending through a node of the wrong chain says which chain to
// ask.
func TestSendAcrossChains(t *testing.T) {
	nw := drivertest.StartChains(t, 2, 1, 2, 1000, 12)
	dir := t.TempDir()
	from := txcmd.Account{Key: nw.Accounts[0].Key, Address: nw.Accounts[0].Address}
	keyFile := writeAccount(t, dir, from, 0o600)
	to := nw.Accounts[1].Address // on chain 2, which node 1 runs
	out, err := execute("send", "--from-key", keyFile, "--to", hexAddr(to), "--amount", "7", "--api", nw.APIs[0],
		"--wait", "30s", "--wait-delivery", "--to-api", nw.APIs[1])
	if err != nil {
		t.Fatalf("send: %v\n%s", err, out)
	}
	for _, want := range []string{"(chain 1) to", "(chain 2)", "confirmed at height", "on chain 1", "irrevocable", "delivered", "on chain 2"} {
		if !strings.Contains(out, want) {
			t.Fatalf("send output lacks %q:\n%s", want, out)
		}
	}
	out, err = execute("account", hexAddr(to), "--api", nw.APIs[1])
	if err != nil || !strings.Contains(out, `"balance": 1007`) || !strings.Contains(out, `"chain": 2`) {
		t.Fatalf("account: %v\n%s", err, out)
	}
	if _, err := execute("account", hexAddr(to), "--api", nw.APIs[0]); err == nil || !strings.Contains(err.Error(), "is on chain 2") {
		t.Fatalf("account of chain 2 read on a node of chain 1: %v", err)
	}
	c0, err := txcmd.NewClient(nw.APIs[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = c0.Account(context.Background(), to)
	var apiErr *txcmd.APIError
	if !errors.Is(err, txcmd.ErrWrongChain) || !errors.As(err, &apiErr) || apiErr.Status != 421 || apiErr.Chain == nil || *apiErr.Chain != 2 {
		t.Fatalf("client read of an account of chain 2 on a node of chain 1: %v", err)
	}
	chains, err := c0.Chains(context.Background())
	if err != nil || fmt.Sprint(txcmd.Served(chains)) != "[1]" || len(chains) != 3 || chains[2].Kind != txcmd.KindTransaction || chains[2].Served {
		t.Fatalf("chains of a node of chain 1: %v %+v", err, chains)
	}
	if _, err := execute("send", "--from-key", keyFile, "--to", hexAddr(to), "--amount", "1", "--api", nw.APIs[1]); err == nil ||
		!strings.Contains(err.Error(), "send through a node of chain 1") {
		t.Fatalf("send through a node of the wrong chain: %v", err)
	}
	if _, err := execute("send", "--from-key", keyFile, "--to", hexAddr(to), "--amount", "1", "--api", nw.APIs[0],
		"--wait", "30s", "--wait-delivery"); err == nil || !strings.Contains(err.Error(), "--to-api") {
		t.Fatalf("--wait-delivery without a node of the recipient's chain: %v", err)
	}
}

func TestOwnerOf(t *testing.T) {
	tx := func(id uint32, prefix string) txcmd.Chain {
		return txcmd.Chain{ID: id, Kind: txcmd.KindTransaction, Prefix: prefix}
	}
	root := txcmd.Chain{ID: 0, Kind: txcmd.KindRoot, Root: true}
	chains := []txcmd.Chain{root, tx(1, "0"), tx(2, "10"), tx(3, "11")}
	for _, c := range []struct {
		first byte
		want  uint32
	}{{0x00, 1}, {0x7f, 1}, {0x80, 2}, {0xbf, 2}, {0xc0, 3}, {0xff, 3}} {
		var a types.Address
		a[0] = c.first
		if got, ok := txcmd.OwnerOf(chains, a); !ok || got != c.want {
			t.Errorf("OwnerOf(%02x...) = %d, %v; want %d", c.first, got, ok, c.want)
		}
	}
	if got, ok := txcmd.OwnerOf([]txcmd.Chain{root, tx(1, "")}, types.Address{9}); !ok || got != 1 {
		t.Errorf("a single chain owns every address: %d, %v", got, ok)
	}
	// Chain 2 coordinates sub-chains 3 and 4: it holds no account, though
	// its prefix starts theirs.
	coord := txcmd.Chain{ID: 2, Kind: txcmd.KindCoordinator, Prefix: "1"}
	sub := []txcmd.Chain{root, tx(1, "0"), coord, tx(3, "10"), tx(4, "11")}
	for first, want := range map[byte]uint32{0x10: 1, 0x90: 3, 0xd0: 4} {
		if got, ok := txcmd.OwnerOf(sub, types.Address{first}); !ok || got != want {
			t.Errorf("with sub-chains, OwnerOf(%02x...) = %d, %v; want %d", first, got, ok, want)
		}
	}
	if _, ok := txcmd.OwnerOf([]txcmd.Chain{root, coord}, types.Address{0x80}); ok {
		t.Error("a coordinator owns an address")
	}
	sub[3].Served = true
	if got := txcmd.Served(sub); len(got) != 1 || got[0] != 3 {
		t.Errorf("Served = %v, want [3]", got)
	}
}

func TestAPIErrorMatches(t *testing.T) {
	for _, c := range []struct {
		err             *txcmd.APIError
		notFound, wrong bool
	}{
		{&txcmd.APIError{Status: 404, Code: "not_found"}, true, false},
		{&txcmd.APIError{Status: 421, Code: txcmd.CodeWrongChain}, false, true},
		{&txcmd.APIError{Status: 422, Code: "bad_signature"}, false, false},
	} {
		if errors.Is(c.err, txcmd.ErrNotFound) != c.notFound || errors.Is(c.err, txcmd.ErrWrongChain) != c.wrong {
			t.Errorf("%v: matches ErrNotFound %v, ErrWrongChain %v", c.err, errors.Is(c.err, txcmd.ErrNotFound), errors.Is(c.err, txcmd.ErrWrongChain))
		}
	}
}
