package keycmd_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/tools/keycmd"
)

func execute(args ...string) (string, error) {
	cmd := keycmd.Command()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

func TestInitWritesKeyAndConfig(t *testing.T) {
	for _, profile := range config.Profiles() {
		t.Run(profile, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			out, err := execute("--dir", dir, "--profile", profile)
			if err != nil {
				t.Fatalf("init: %v\n%s", err, out)
			}
			keyPath := filepath.Join(dir, "node.key")
			info, err := os.Stat(keyPath)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
			}
			k, err := driver.LoadKeyFile(keyPath)
			if err != nil {
				t.Fatalf("load the written key: %v", err)
			}
			if !strings.Contains(out, k.Identity.PeerID().String()) {
				t.Fatalf("output does not show the peer id:\n%s", out)
			}
			cfg, err := config.Load(filepath.Join(dir, keycmd.ConfigFile))
			if err != nil {
				t.Fatalf("load the written config: %v", err)
			}
			if cfg.Profile != profile || cfg.Node.DataDir != "." {
				t.Fatalf("config profile %q data dir %q", cfg.Profile, cfg.Node.DataDir)
			}
		})
	}
}

func TestInitNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	if _, err := execute("--dir", dir); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = execute("--dir", dir)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second init = %v, want fs.ErrExist", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "node.key"))
	if !bytes.Equal(before, after) {
		t.Fatal("the key changed")
	}
}

func TestInitRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{nil, "--dir is required"},
		{[]string{"--dir", t.TempDir(), "--profile", "vps-64c"}, "unknown profile"},
		{[]string{"--dir", t.TempDir(), "extra"}, "unknown command"},
	} {
		if _, err := execute(c.args...); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("init %v = %v, want an error mentioning %q", c.args, err, c.says)
		}
	}
}
