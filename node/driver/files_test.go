package driver_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/keys"
)

func TestKeyFileWriteLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "node.key")
	k, err := keys.Generate(seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := driver.WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != keys.FileMode {
		t.Fatalf("key file mode %v, %v; want %v", info.Mode().Perm(), err, keys.FileMode)
	}
	got, err := driver.LoadKeyFile(path)
	if err != nil || got.Identity.PeerID() != k.Identity.PeerID() {
		t.Fatalf("LoadKeyFile: %v", err)
	}
	other, _ := keys.Generate(seeded(2))
	if err := driver.WriteKeyFile(path, other); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("overwriting a key file: %v, want fs.ErrExist", err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := driver.LoadKeyFile(path); !errors.Is(err, keys.ErrExposed) || !strings.Contains(err.Error(), path) {
		t.Fatalf("group-readable key file: %v, want ErrExposed naming the file", err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte(`{"type":"thinkey-node-key/v1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := driver.LoadKeyFile(bad); !errors.Is(err, keys.ErrMalformed) {
		t.Fatalf("malformed key file: %v", err)
	}
	if _, err := driver.LoadKeyFile(dir); err == nil {
		t.Fatal("a directory loaded as a key file")
	}
	if _, err := driver.LoadKeyFile(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing key file: %v", err)
	}
}

func TestGenesisFileLoad(t *testing.T) {
	dir := t.TempDir()
	c := newCluster(t, 2, 1)
	text, err := c.gen.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "genesis.json")
	if err := driver.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := driver.LoadGenesisFile(path)
	if err != nil || len(g.Nodes) != 2 {
		t.Fatalf("LoadGenesisFile: %v", err)
	}
	if err := driver.WriteFile(path, bytes.Replace(text, []byte("genesis_time_ms"), []byte("genesis_time"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := driver.LoadGenesisFile(path); !errors.Is(err, genesis.ErrMalformed) {
		t.Fatalf("genesis with an unknown field: %v", err)
	}
}

// runNode runs `thinkey node` with args in-process and returns its error.
func runNode(t *testing.T, args ...string) error {
	t.Helper()
	cmd := driver.Command()
	cmd.SetArgs(args)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a node that got this far stops at once
	return cmd.ExecuteContext(ctx)
}

func TestNodeCommandRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Defaults("default")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Node.DataDir = "."
	tmpl, err := config.Template(cfg)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.toml", tmpl, 0o644)
	write("node.key", []byte("not a key"), 0o600)
	cases := []struct {
		name string
		args []string
		says string
	}{
		{"no config", nil, "--config is required"},
		{"missing config", []string{"--config", filepath.Join(dir, "none.toml")}, "no such file"},
		{"bad toml", []string{"--config", write("bad.toml", []byte("[node\nx="), 0o644)}, "config"},
		{"unknown key", []string{"--config", write("unknown.toml", []byte("[node]\ncolour = \"red\"\n"), 0o644)}, "unknown keys: node.colour"},
		{"unknown profile", []string{"--config", write("profile.toml", []byte("profile = \"vps-64c\"\n"), 0o644)}, "unknown profile"},
		{"bad flag value", []string{"--config", good, "--log-level", "loud"}, "log.level"},
		{"bad listen flag", []string{"--config", good, "--listen", "nowhere"}, "network.listen"},
		{"malformed key file", []string{"--config", good}, "malformed key file"},
		{"extra argument", []string{"--config", good, "now"}, "unknown command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := runNode(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %v, want one mentioning %q", err, c.says)
			}
		})
	}
	// A valid key and no genesis: the error names the genesis file.
	if err := os.Remove(filepath.Join(dir, "node.key")); err != nil {
		t.Fatal(err)
	}
	k, _ := keys.Generate(seeded(3))
	if err := driver.WriteKeyFile(filepath.Join(dir, "node.key"), k); err != nil {
		t.Fatal(err)
	}
	if err := runNode(t, "--config", good); err == nil || !strings.Contains(err.Error(), "genesis file") {
		t.Fatalf("no genesis: %v", err)
	}
}
