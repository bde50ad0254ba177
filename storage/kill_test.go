//go:build unix

package storage_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/thinkey/thinkey/storage"
)

// writerDirEnv, when set, turns TestCrashWriterChild into the writer process
// of TestCrashKillWriter, writing to the store in that directory.
const writerDirEnv = "THINKEY_STORAGE_CRASH_WRITER_DIR"

// killKeysPerBlock is the number of keys each batch of the kill test writes.
const killKeysPerBlock = 200

// TestCrashKillWriter runs a writer in a child process on a real on-disk
// store, SIGKILLs it at a random moment (after a random number of
// acknowledged commits, plus a random sub-millisecond delay so the kill lands
// inside a batch), reopens the store and checks that no acknowledged batch
// was lost and no partial batch is visible: the head is at or above the last
// batch the child reported, and the blocks and state are exactly those of
// batches 0..head. The next round's child resumes the same store, so recovery
// is also tested on a store that was itself recovered.
//
// A killed process loses no page cache, so this test proves atomicity and
// recovery of Pebble's log; the loss of unsynced data is covered by the
// CrashClone tests.
func TestCrashKillWriter(t *testing.T) {
	const rounds = 5
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5e1f))
	dir := t.TempDir()
	lastHead := int64(-1)
	for round := range rounds {
		killAfter := 1 + rng.IntN(20)
		delay := time.Duration(rng.IntN(1000)) * time.Microsecond
		reported := runAndKillWriter(t, dir, killAfter, delay)
		if reported < 0 {
			t.Fatalf("round %d: child reported no commit", round)
		}

		db, err := storage.Open(dir, storage.Options{FS: vfs.Default})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		h := checkGenerated(t, db, 1, max(reported, lastHead), killKeysPerBlock)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed after %d commits + %v; last reported %d, recovered head %d", round, killAfter, delay, reported, h)
		lastHead = h
	}
}

// runAndKillWriter starts the writer child on dir, waits until it has
// reported killAfter commits, sleeps delay, kills it with SIGKILL, and
// returns the highest height the child reported committed (every line it
// wrote before dying counts: the commit had returned when it was written).
func runAndKillWriter(t *testing.T, dir string, killAfter int, delay time.Duration) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriterChild$")
	cmd.Env = append(os.Environ(), writerDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	defer kill() // if the test fails before the planned kill

	out := bufio.NewReader(stdout)
	reported := int64(-1)
	seen := 0
	for {
		line, err := out.ReadString('\n')
		if err != nil {
			// Only a complete line is a report; EOF before the kill means
			// the child stopped on its own.
			if !killed {
				_ = cmd.Wait()
				t.Fatalf("writer exited before the kill (%v): stderr:\n%s", err, stderr.String())
			}
			if !errors.Is(err, io.EOF) {
				t.Fatalf("read writer output: %v", err)
			}
			break
		}
		if h, ok := parseCommitted(line); ok {
			reported = h
			seen++
		}
		if seen == killAfter && !killed {
			time.Sleep(delay)
			kill()
		}
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("writer did not die of SIGKILL: %v; stderr:\n%s", err, stderr.String())
	}
	return reported
}

func parseCommitted(line string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "committed ")
	if !ok {
		return 0, false
	}
	h, err := strconv.ParseInt(rest, 10, 64)
	return h, err == nil
}

// TestCrashWriterChild is not a test on its own: it is the writer process
// that TestCrashKillWriter starts and kills, and it skips unless started that
// way. It opens the store in $THINKEY_STORAGE_CRASH_WRITER_DIR, resumes after
// its head and applies generated batches of killKeysPerBlock keys until it is
// killed, printing "committed <height>" once each Commit has returned.
func TestCrashWriterChild(t *testing.T) {
	dir := os.Getenv(writerDirEnv)
	if dir == "" {
		t.Skip("writer process of TestCrashKillWriter; runs only as its child")
	}
	db, err := storage.Open(dir, storage.Options{FS: vfs.Default})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	next := uint64(0)
	if head, err := db.State().Head(1); err == nil {
		next = head.Height + 1
	} else if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("head: %v", err)
	}
	// Bounded so that a parent that died without killing us cannot leave
	// a writer running for long.
	for i := next; i < next+100_000; i++ {
		g := generateBlock(i, killKeysPerBlock)
		if err := db.State().ApplyBlock(1, i, g.writes, g.bytes, g.hash, g.stateRoot); err != nil {
			t.Fatalf("apply block %d: %v", i, err)
		}
		// os.Stdout is unbuffered: the line is in the pipe when this returns.
		if _, err := fmt.Fprintf(os.Stdout, "committed %d\n", i); err != nil {
			t.Fatalf("report commit: %v", err) // the parent is gone
		}
	}
	t.Fatal("writer was never killed")
}
