package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadInputExitsNonZero runs the binary on bad input: each gets a clear
// error on stderr and a non-zero exit code, and nothing is started.
func TestBadInputExitsNonZero(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A node directory with a valid configuration and key but a malformed
	// key file next to another valid configuration.
	if out, code := thinkey(t, time.Minute, "init", "--dir", filepath.Join(dir, "n0")); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, out)
	}
	goodConfig := filepath.Join(dir, "n0", "config.toml")
	badKeyDir := filepath.Join(dir, "n1")
	if err := os.MkdirAll(badKeyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfgText, err := os.ReadFile(goodConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badKeyDir, "config.toml"), cfgText, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badKeyDir, "node.key"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	acct := write("acct.key", "not an account key", 0o600)
	addr := strings.Repeat("ab", 20)
	cases := []struct {
		name string
		args []string
		says string
	}{
		{"node without config", []string{"node"}, "--config is required"},
		{"missing config", []string{"node", "--config", filepath.Join(dir, "none.toml")}, "no such file"},
		{"bad toml", []string{"node", "--config", write("bad.toml", "[network\nlisten=", 0o644)}, "config"},
		{"unknown profile in config", []string{"node", "--config", write("p.toml", "profile = \"vps-64c\"\n", 0o644)}, "unknown profile"},
		{"malformed key file", []string{"node", "--config", filepath.Join(badKeyDir, "config.toml")}, "malformed key file"},
		{"no genesis", []string{"node", "--config", goodConfig}, "genesis file"},
		{"init unknown profile", []string{"init", "--dir", filepath.Join(dir, "n2"), "--profile", "vps-64c"}, "unknown profile"},
		{"init over a node", []string{"init", "--dir", filepath.Join(dir, "n0")}, "exists"},
		{"tx malformed key", []string{"tx", "send", "--from-key", acct, "--to", addr, "--amount", "1"}, "malformed account key"},
		{"tx bad address", []string{"tx", "send", "--from-key", acct, "--to", "abc", "--amount", "1"}, "--to"},
		{"tx bad amount", []string{"tx", "send", "--from-key", acct, "--to", addr, "--amount", "lots"}, "--amount"},
		{"tx bad id", []string{"tx", "get", "123"}, "message id"},
		{"testnet without dir", []string{"testnet", "up"}, "--dir is required"},
		{"testnet bad size", []string{"testnet", "up", "--dir", filepath.Join(dir, "tn"), "--members", "0"}, "--members"},
		{"testnet too many chains", []string{"testnet", "up", "--dir", filepath.Join(dir, "tn"), "--chains", "17"}, "--chains"},
		{"loadgen without api", []string{"loadgen", "--accounts", acct}, "--api is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := thinkey(t, time.Minute, c.args...)
			if code == 0 {
				t.Fatalf("exit code 0, want non-zero\n%s", out)
			}
			if !strings.Contains(out, c.says) {
				t.Fatalf("output does not mention %q:\n%s", c.says, out)
			}
		})
	}
}
