package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValid(t *testing.T) {
	for _, p := range Profiles() {
		c, err := Defaults(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("profile %s defaults invalid: %v", p, err)
		}
	}
	if _, err := Defaults("mainframe"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("unknown profile: err %v", err)
	}
}

func TestVPSProfileIsSmaller(t *testing.T) {
	d, _ := Defaults("default")
	v, _ := Defaults("vps-1c2g")
	if v.Storage.CacheBytes >= d.Storage.CacheBytes || v.Mempool.MaxMessages >= d.Mempool.MaxMessages {
		t.Errorf("vps profile should shrink cache and mempool: %+v vs %+v", v.Storage, d.Storage)
	}
	if v.Accel.PinConsensusCore != 0 || v.Accel.VerifyWorkers != 1 {
		t.Errorf("vps profile pins to core 0 with one verify worker: %+v", v.Accel)
	}
}

// TestTemplateRoundTrips checks that the rendered template parses back to the
// same configuration, for every profile.
func TestTemplateRoundTrips(t *testing.T) {
	for _, p := range Profiles() {
		c, _ := Defaults(p)
		c.Network.Peers = []string{"ab12@127.0.0.1:7601"}
		data, err := Template(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(data, "template")
		if err != nil {
			t.Fatalf("profile %s: template does not parse: %v\n%s", p, err, data)
		}
		if back.Profile != c.Profile || back.Storage != c.Storage || back.Consensus != c.Consensus ||
			back.Accel != c.Accel || back.Network.Peers[0] != c.Network.Peers[0] {
			t.Errorf("profile %s: round trip changed the config:\n%+v\n%+v", p, c, back)
		}
	}
}

func TestParseOverridesProfileDefaults(t *testing.T) {
	c, err := Parse([]byte(`
profile = "vps-1c2g"
[consensus]
round_timeout = "5s"
[log]
level = "debug"
`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	if c.Consensus.RoundTimeout.Duration != 5*time.Second || c.Log.Level != "debug" {
		t.Errorf("overrides not applied: %+v %+v", c.Consensus, c.Log)
	}
	if c.Storage.CacheBytes != 64<<20 {
		t.Errorf("profile default lost: cache %d", c.Storage.CacheBytes)
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	cases := []struct {
		name, toml string
		want       []string // every problem must be reported
	}{
		{"unknown key", "[network]\nlisten_addr = \"x\"\n", []string{"unknown keys: network.listen_addr"}},
		{"syntax", "[network\n", []string{"config inline"}},
		{"bad duration", "[consensus]\nround_timeout = \"soon\"\n", []string{"duration \"soon\""}},
		{"unknown profile", "profile = \"mainframe\"\n", []string{"unknown profile"}},
		{"many problems at once", `
[network]
listen = "nowhere"
peers = ["noid", "x@bad"]
max_frame_bytes = 10
[consensus]
proposal_timeout = "2s"
round_timeout = "1s"
[accel]
hash_backend = "md5"
verify_workers = 0
[log]
level = "loud"
`, []string{"network.listen", "network.peers[0]", "network.peers[1]", "max_frame_bytes", "round_timeout",
			"hash_backend", "verify_workers", "log.level"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.toml), "inline")
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadAndPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "node.toml")
	if err := os.WriteFile(file, []byte("[node]\ndata_dir = \"/var/lib/thinkey\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Path(c.Node.KeyFile); got != "/var/lib/thinkey/node.key" {
		t.Errorf("Path = %s", got)
	}
	if got := c.Path("/etc/genesis.json"); got != "/etc/genesis.json" {
		t.Errorf("absolute Path = %s", got)
	}
	if _, err := Load(filepath.Join(dir, "missing.toml")); err == nil || !strings.Contains(err.Error(), "read config") {
		t.Errorf("missing file: %v", err)
	}
}
