package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shellPackages are the packages under node/ that may touch the outside world.
var shellPackages = map[string]bool{
	"node/driver": true, // goroutines, clocks, sockets, disks
	"node/config": true, // reads TOML files
	"node/api":    true, // the HTTP server
}

// extraCores are pure decision logic that lives outside node/.
var extraCores = []string{"netq/gossip", "netq/overlay"}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// TestPureCores is the architecture rule itself.
func TestPureCores(t *testing.T) {
	root := repoRoot(t)
	dirs, err := CorePackages(root, shellPackages, extraCores)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no core package found under node/: the rule would check nothing")
	}
	for _, dir := range dirs {
		vs, err := CheckDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, v := range vs {
			t.Errorf("pure core %s: %s", dir, v)
		}
	}
	t.Logf("checked %d core packages: %s", len(dirs), strings.Join(dirs, ", "))
}

// TestCheckerFindsPlantedViolations proves the checker is not vacuous.
func TestCheckerFindsPlantedViolations(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string // substrings of expected rules, in order
	}{
		{"clean", `package p
import ("time"; "math/rand")
type T struct{ d time.Duration; r *rand.Rand }
func f(now time.Time, seed int64) *rand.Rand { _ = now.Add(time.Second); return rand.New(rand.NewSource(seed)) }`, nil},
		{"net import", `package p
import _ "net"`, []string{"imports net"}},
		{"net/http import", `package p
import _ "net/http"`, []string{"imports net/http"}},
		{"os import", `package p
import "os"
var _ = os.Args`, []string{"imports os"}},
		{"pebble import", `package p
import _ "github.com/cockroachdb/pebble/v2"`, []string{"imports github.com/cockroachdb/pebble/v2"}},
		{"quic import", `package p
import _ "github.com/quic-go/quic-go"`, []string{"imports github.com/quic-go/quic-go"}},
		{"crypto/rand", `package p
import _ "crypto/rand"`, []string{"imports crypto/rand"}},
		{"time.Now", `package p
import "time"
func f() time.Time { return time.Now() }`, []string{"calls time.Now"}},
		{"renamed time", `package p
import clock "time"
func f() { clock.Sleep(1) }`, []string{"calls time.Sleep"}},
		{"timers", `package p
import "time"
func f() { _ = time.NewTimer(1); _ = time.After(1); _ = time.Since(time.Time{}) }`, []string{"time.NewTimer", "time.After", "time.Since"}},
		{"global rand", `package p
import "math/rand"
func f() int { return rand.Intn(3) }`, []string{"global math/rand.Intn"}},
		{"global rand v2", `package p
import "math/rand/v2"
func f() int { return rand.IntN(3) }`, []string{"global math/rand.IntN"}},
		{"go statement", `package p
func f() { go func(){}() }`, []string{"go statement"}},
		{"shadowed name is not the package", `package p
import "time"
var _ time.Duration
type clock struct{}
func (clock) Now() int { return 0 }
func f() int { time := clock{}; return time.Now() }`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", c.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			vs := CheckFile(fset, f)
			if len(vs) != len(c.want) {
				t.Fatalf("got %d violations %v, want %d %v", len(vs), vs, len(c.want), c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(vs[i].Rule, w) {
					t.Errorf("violation %d = %q, want it to mention %q", i, vs[i].Rule, w)
				}
			}
		})
	}
}

func TestCorePackagesSkipsShellAndFindsNew(t *testing.T) {
	root := t.TempDir()
	write := func(rel string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("package x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("node/consensus/a.go")
	write("node/driver/a.go")
	write("node/newcore/a.go")
	write("node/onlytests/a_test.go")
	write("netq/gossip/a.go")
	dirs, err := CorePackages(root, map[string]bool{"node/driver": true}, []string{"netq/gossip", "netq/overlay"})
	if err != nil {
		t.Fatal(err)
	}
	want := "netq/gossip,node/consensus,node/newcore"
	if got := strings.Join(dirs, ","); got != want {
		t.Fatalf("core packages = %s, want %s", got, want)
	}
}
