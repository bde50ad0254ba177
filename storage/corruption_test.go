package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/thinkey/thinkey/crypto/hash"
)

// TestCorruptRecords plants records that do not decode and checks that every
// read touching them, and every commit that must read them, fails with
// ErrCorruption.
func TestCorruptRecords(t *testing.T) {
	goodBlock := []byte("block 0")
	goodHash := hash.Sum256(goodBlock)
	otherHash := hash.Sum256([]byte("other"))
	for _, tc := range []struct {
		name  string
		key   []byte
		value []byte
		read  func(db *DB) error
	}{
		{"short head", headKey(1), make([]byte, headRecordLen-1),
			func(db *DB) error { _, err := db.State().Head(1); return err }},
		{"long head", headKey(1), make([]byte, headRecordLen+1),
			func(db *DB) error { _, err := db.State().Head(1); return err }},
		{"apply over bad head", headKey(1), []byte("x"),
			func(db *DB) error {
				return db.State().ApplyBlock(1, 1, nil, []byte("b"), hash.Sum256([]byte("b")), hash.Digest{})
			}},
		{"block record without bytes", blockKey(1, 0), goodHash[:],
			func(db *DB) error { _, err := db.Blocks().ByHeight(1, 0); return err }},
		{"put over bad block record", blockKey(1, 3), []byte("short"),
			func(db *DB) error { return db.Blocks().PutBlock(1, 3, otherHash, []byte("b")) }},
		{"hash index of wrong length", blockHashKey(1, goodHash), []byte{1, 2, 3},
			func(db *DB) error { _, err := db.Blocks().ByHash(1, goodHash); return err }},
		{"hash index to missing block", blockHashKey(1, otherHash), encodeHeightRecord(9),
			func(db *DB) error { _, err := db.Blocks().ByHash(1, otherHash); return err }},
		{"hash index to another block", blockHashKey(1, otherHash), encodeHeightRecord(0),
			func(db *DB) error { _, err := db.Blocks().ByHash(1, otherHash); return err }},
		{"block key of wrong length", append(blockKey(1, 7), 0), encodeBlockRecord(otherHash, []byte("b")),
			func(db *DB) error { _, err := db.Blocks().LatestHeight(1); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open("db", Options{FS: vfs.NewMem()})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.State().ApplyBlock(1, 0, nil, goodBlock, goodHash, hash.Digest{}); err != nil {
				t.Fatal(err)
			}
			if err := db.pebble.Set(tc.key, tc.value, pebble.Sync); err != nil {
				t.Fatal(err)
			}
			err = tc.read(db)
			if !errors.Is(err, ErrCorruption) {
				t.Fatalf("got %v, want ErrCorruption", err)
			}
		})
	}
}

func TestOpenRejectsOtherFormat(t *testing.T) {
	for _, tc := range []struct {
		name   string
		record []byte
		want   error // nil: any error
	}{
		{"newer version", encodeFormatRecord(formatVersion + 1), nil},
		{"record of wrong length", []byte{0, 1}, ErrCorruption},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewMem()
			db, err := Open("db", Options{FS: fs})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.pebble.Set(formatKey(), tc.record, pebble.Sync); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			_, err = Open("db", Options{FS: fs})
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want an error (%v)", err, tc.want)
			}
		})
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to every record decoder. The first
// byte picks the decoder. A decoder must never panic, must fail only with
// ErrCorruption, and what it accepts must re-encode to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(append([]byte{0}, encodeHeadRecord(Head{Height: 5, BlockHash: hash.Sum256([]byte("b")), StateRoot: hash.Sum256([]byte("r"))})...))
	f.Add(append([]byte{1}, encodeBlockRecord(hash.Sum256([]byte("b")), []byte("b"))...))
	f.Add(append([]byte{2}, encodeHeightRecord(1<<40)...))
	f.Add(append([]byte{3}, encodeFormatRecord(formatVersion)...))
	f.Add(append([]byte{4}, blockKey(7, 9)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		rec := data[1:]
		var reencoded []byte
		var err error
		switch data[0] % 5 {
		case 0:
			var h Head
			if h, err = decodeHeadRecord(rec); err == nil {
				reencoded = encodeHeadRecord(h)
			}
		case 1:
			var blockHash hash.Digest
			var block []byte
			if blockHash, block, err = decodeBlockRecord(rec); err == nil {
				reencoded = encodeBlockRecord(blockHash, block)
			}
		case 2:
			var height uint64
			if height, err = decodeHeightRecord(rec); err == nil {
				reencoded = encodeHeightRecord(height)
			}
		case 3:
			var version uint32
			if version, err = decodeFormatRecord(rec); err == nil {
				reencoded = encodeFormatRecord(version)
			}
		case 4:
			var height uint64
			if height, err = heightFromBlockKey(rec); err == nil {
				reencoded = blockKey(binary.BigEndian.Uint32(rec[1:]), height)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrCorruption) {
				t.Fatalf("decoder %d: error %v is not ErrCorruption", data[0]%5, err)
			}
			return
		}
		if !bytes.Equal(reencoded, rec) {
			t.Fatalf("decoder %d: %x re-encodes to %x", data[0]%5, rec, reencoded)
		}
	})
}

func TestUpperBound(t *testing.T) {
	for _, tc := range []struct{ in, want []byte }{
		{[]byte{1, 2}, []byte{1, 3}},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, nil},
		{chainKey(prefixBlock, ^uint32(0)), []byte{prefixBlock + 1}},
	} {
		if got := upperBound(tc.in); !bytes.Equal(got, tc.want) {
			t.Errorf("upperBound(%x) = %x, want %x", tc.in, got, tc.want)
		}
	}
}
