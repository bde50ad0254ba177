package planner

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFormatProbability(t *testing.T) {
	cases := []struct {
		logP float64
		want string
	}{
		{math.Inf(-1), "0"},
		{0, "1"},
		{math.Log(0.25), "0.25"},
		{math.Log(1e-6), "1e-6"},
		{math.Log(7.1e-7), "7.1e-7"},
		{math.Log(9.999e-7), "1e-6"},
		{-1040.2093 * math.Ln10, "6.18e-1041"}, // 10^0.7907 = 6.177, below the float64 range
	}
	for _, c := range cases {
		if got := formatProbability(c.logP); got != c.want {
			t.Errorf("formatProbability(%v) = %q, want %q", c.logP, got, c.want)
		}
	}
	for d, want := range map[time.Duration]string{
		1500 * time.Millisecond: "1.5s", 355 * time.Millisecond: "355ms", 665 * time.Microsecond: "665µs", 12: "12ns",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// writeFiles writes all files or none, and removes a directory it created
// when it fails.
func TestWriteFilesAllOrNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	files := []outputFile{{"a.svg", []byte("<svg/>")}, {"sub/b.png", []byte("x")}} // sub/ does not exist
	if _, err := writeFiles(dir, files); err == nil {
		t.Fatal("writing into a missing subdirectory succeeded")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed write left %s behind (%v)", dir, err)
	}
	// An existing directory keeps what it had and gains nothing.
	existing := t.TempDir()
	if err := os.WriteFile(filepath.Join(existing, "keep"), []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := writeFiles(existing, files); err == nil {
		t.Fatal("writing into a missing subdirectory succeeded")
	}
	entries, err := os.ReadDir(existing)
	if err != nil || len(entries) != 1 || entries[0].Name() != "keep" {
		t.Errorf("directory after a failed write: %v, %v", entries, err)
	}
	paths, err := writeFiles(dir, files[:1])
	if err != nil || len(paths) != 1 {
		t.Fatalf("write: %v, %v", paths, err)
	}
	if fi, err := os.Stat(paths[0]); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("written file %v, %v; want mode 0644", fi, err)
	}
}

func TestFigureErrors(t *testing.T) {
	if _, err := SpeedupFigure(GainLog, []float64{0.5}, 1); !errors.Is(err, ErrDomain) {
		t.Errorf("k-max 1: %v, want ErrDomain", err)
	}
	if _, err := FailureFigure(100, []float64{0.2}, 1.0/3, TolerancePaper, 101, 0, 1); !errors.Is(err, ErrDomain) {
		t.Errorf("largest committee above N: %v, want ErrDomain", err)
	}
	if _, err := FailureFigure(100, []float64{1.2}, 1.0/3, TolerancePaper, 50, 0, 1); !errors.Is(err, ErrDomain) {
		t.Errorf("share 1.2: %v, want ErrDomain", err)
	}
	costs := syntheticCosts(t)
	if _, err := ThroughputFigure(costs, DefaultModelParams(), 1000, []int{10}, 0, 0); !errors.Is(err, ErrDomain) {
		t.Errorf("zero chains: %v, want ErrDomain", err)
	}
	if _, err := BlockTimeFigure(costs, DefaultModelParams(), []int{10}, []int{0}); !errors.Is(err, ErrDomain) {
		t.Errorf("block size 0: %v, want ErrDomain", err)
	}
}
