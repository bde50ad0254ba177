package storage_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/storage"
)

func TestRecordsPutGetAndSurviveReopen(t *testing.T) {
	fs := vfs.NewMem()
	db := openStore(t, fs, "db")
	if _, err := db.Record([]byte("missing")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Record(missing) = %v, want ErrNotFound", err)
	}
	b := db.NewBatch()
	defer b.Close()
	for _, kv := range [][2]string{{"a", "1"}, {"b", ""}, {"a", "2"}} {
		if err := b.PutRecord([]byte(kv[0]), []byte(kv[1])); err != nil {
			t.Fatalf("PutRecord(%q): %v", kv[0], err)
		}
	}
	if _, err := db.Record([]byte("a")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("record visible before Commit: %v", err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openStore(t, fs, "db")
	for key, want := range map[string]string{"a": "2", "b": ""} {
		got, err := db.Record([]byte(key))
		if err != nil || !bytes.Equal(got, []byte(want)) {
			t.Errorf("Record(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
}

// A record staged with a block lands with it or not at all: a batch whose
// block fails the commit-time head check writes no record either.
func TestRecordIsAtomicWithApplyBlock(t *testing.T) {
	db := openStore(t, vfs.NewMem(), "db")
	b := db.NewBatch()
	defer b.Close()
	if err := b.ApplyBlock(7, 3, nil, []byte("block"), hash.Sum256([]byte("b3")), hash.Digest{}); err != nil {
		t.Fatal(err)
	}
	if err := b.PutRecord([]byte("votes"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); !errors.Is(err, storage.ErrNotNextHeight) {
		t.Fatalf("Commit = %v, want ErrNotNextHeight", err)
	}
	if _, err := db.Record([]byte("votes")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("record of a failed batch is visible: %v", err)
	}

	b = db.NewBatch()
	defer b.Close()
	if err := b.ApplyBlock(7, 0, nil, []byte("block"), hash.Sum256([]byte("b0")), hash.Digest{}); err != nil {
		t.Fatal(err)
	}
	if err := b.PutRecord([]byte("votes"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Record([]byte("votes")); err != nil || string(got) != "v" {
		t.Fatalf("Record = %q, %v", got, err)
	}
}

func TestPutRecordRejectsBadInput(t *testing.T) {
	db := openStore(t, vfs.NewMem(), "db")
	cases := []struct {
		name       string
		key, value []byte
		want       error
	}{
		{"empty key", nil, []byte("v"), storage.ErrEmptyKey},
		{"key too large", make([]byte, storage.MaxKeySize+1), nil, storage.ErrTooLarge},
		{"value too large", []byte("k"), make([]byte, storage.MaxValueSize+1), storage.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := db.NewBatch()
			defer b.Close()
			if err := b.PutRecord(c.key, c.value); !errors.Is(err, c.want) {
				t.Fatalf("PutRecord = %v, want %v", err, c.want)
			}
			// The batch is still usable and empty.
			if err := b.Commit(); err != nil {
				t.Fatalf("Commit after a refused record: %v", err)
			}
		})
	}
	b := db.NewBatch()
	b.Close()
	if err := b.PutRecord([]byte("k"), nil); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("PutRecord on a closed batch = %v, want ErrClosed", err)
	}
}
