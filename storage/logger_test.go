package storage

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestPebbleLoggerRoutesToSlogAndFatalPanics(t *testing.T) {
	var out bytes.Buffer
	l := pebbleLogger{log: slog.New(slog.NewTextHandler(&out, nil))}
	l.Infof("opened %d files", 3)
	l.Errorf("background error: %s", "disk full")
	for _, want := range []string{"level=INFO msg=\"opened 3 files\"", "level=ERROR msg=\"background error: disk full\""} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log output lacks %q:\n%s", want, out.String())
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "WAL sync failed") {
			t.Errorf("Fatalf returned or panicked with %v; it must not return", r)
		}
		if !strings.Contains(out.String(), "fatal=true") {
			t.Errorf("Fatalf did not log before stopping:\n%s", out.String())
		}
	}()
	l.Fatalf("WAL sync failed: %v", "EIO")
}
