package main

import (
	"bytes"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := rootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestBenchListNamesEveryStage(t *testing.T) {
	out, err := runCLI(t, "bench", "--list")
	if err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"bls/", "ed25519/", "sha256/", "merkle/", "codec/", "pebble/"} {
		if !strings.Contains(out, "\n"+stage) && !strings.HasPrefix(out, stage) {
			t.Errorf("bench --list shows no %s case:\n%s", stage, out)
		}
	}
}

func TestBadCommandLineIsRejected(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--hash-backend", "md5", "version"}, "unknown hash backend"},
		{[]string{"bench", "--filter", "("}, "filter"},
		{[]string{"bench", "--benchtime", "-1s", "--filter", "x"}, "negative"},
		{[]string{"bench", "--filter", "^no-such-stage/"}, "no benchmark case"},
		{[]string{"version", "extra"}, "unknown command"},
	}
	for _, c := range cases {
		_, err := runCLI(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("thinkey %s: error %v, want one mentioning %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}

func TestVersion(t *testing.T) {
	out, err := runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "thinkey ") {
		t.Fatalf("version printed %q, %v", out, err)
	}
}
