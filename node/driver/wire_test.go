package driver_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/driver"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// sampleDecision is a well-formed decision of height h: a block with body,
// or EMPTY, under a confirm certificate of 3 of 4 members. The signature is
// not a real aggregate: encodings do not check it.
func sampleDecision(h types.Height, empty bool, body []byte) consensus.Decision {
	set, _ := types.NewSignerSet(4)
	for i := range 3 {
		_ = set.Add(types.ValidatorIndex(i))
	}
	cert := types.Certificate{ChainID: 0, Height: h, Round: 1, Kind: types.VoteConfirm, Signers: set}
	cert.AggregateSignature[0] = 0xa0
	cert.AggregateSignature[95] = 1
	if empty {
		return consensus.Decision{Certificate: cert}
	}
	hd := types.Header{Version: types.HeaderVersion, Height: h, ParentHash: hash.Sum256([]byte{byte(h)}), TimestampMillis: 1_700_000_000_000}
	cert.BlockHash = hd.Hash()
	return consensus.Decision{Block: &consensus.Block{Header: hd, Body: body}, Certificate: cert}
}

func sampleMessages(n int) []types.Message {
	var seed [32]byte
	priv, _ := ed25519.NewKeyFromSeed(seed[:])
	out := make([]types.Message, n)
	for i := range out {
		out[i] = actor.NewTransfer(priv, uint64(i), types.Address{1, byte(i)}, uint64(10+i))
	}
	return out
}

func encode(t testing.TB, v interface{ AppendBinary([]byte) ([]byte, error) }) []byte {
	t.Helper()
	b, err := v.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validWireEncodings are one valid encoding of each driver type, the seeds of
// the fuzz corpus.
func validWireEncodings(t testing.TB) map[string][]byte {
	resp := driver.SyncResponse{ChainID: 0, Head: 9, From: 3, Decisions: []consensus.Decision{
		sampleDecision(3, false, []byte("body three")), sampleDecision(4, true, nil),
	}}
	d5 := sampleDecision(5, false, []byte("body five"))
	d6, d7 := sampleDecision(6, false, []byte("body six")), sampleDecision(7, true, nil)
	records := driver.RecordBatch{Records: []rootchain.Record{
		{Header: d6.Block.Header, Certificate: d6.Certificate},
		{Header: types.Header{Version: types.HeaderVersion, Height: 7, Empty: true}, Certificate: d7.Certificate},
	}}
	return map[string][]byte{
		"record-batch":        encode(t, &records),
		"record-batch-none":   encode(t, &driver.RecordBatch{}),
		"sync-request":        encode(t, &driver.SyncRequest{ChainID: 7, From: 12, Count: driver.MaxSyncBlocks}),
		"sync-response":       encode(t, &resp),
		"sync-response-empty": encode(t, &driver.SyncResponse{Head: 2, From: 5}),
		"message-batch":       encode(t, &driver.MessageBatch{Messages: sampleMessages(3)}),
		"stored-block":        encode(t, &driver.StoredBlock{Header: d5.Block.Header, Decision: &d5}),
		"stored-genesis":      encode(t, &driver.StoredBlock{Header: types.Header{Version: types.HeaderVersion}}),
	}
}

// decodeWire decodes b as the type its first byte names and re-encodes it.
func decodeWire(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, codec.ErrTruncated
	}
	switch b[0] {
	case driver.KindSyncRequest:
		v, err := driver.DecodeSyncRequest(b)
		if err != nil {
			return nil, err
		}
		return v.AppendBinary(nil)
	case driver.KindSyncResponse:
		v, err := driver.DecodeSyncResponse(b)
		if err != nil {
			return nil, err
		}
		return v.AppendBinary(nil)
	case driver.KindMessageBatch:
		v, err := driver.DecodeMessageBatch(b)
		if err != nil {
			return nil, err
		}
		return v.AppendBinary(nil)
	case driver.KindRecordBatch:
		v, err := driver.DecodeRecordBatch(b)
		if err != nil {
			return nil, err
		}
		return v.AppendBinary(nil)
	case driver.StoredBlockTag:
		v, err := driver.DecodeStoredBlock(b)
		if err != nil {
			return nil, err
		}
		return v.AppendBinary(nil)
	}
	return nil, codec.ErrWrongType
}

func TestWireRoundTrips(t *testing.T) {
	for name, b := range validWireEncodings(t) {
		again, err := decodeWire(b)
		if err != nil {
			t.Errorf("%s: decode: %v", name, err)
			continue
		}
		if !bytes.Equal(again, b) {
			t.Errorf("%s: re-encoding differs", name)
		}
	}
}

func TestWireRejectsBadInput(t *testing.T) {
	valid := validWireEncodings(t)
	req := valid["sync-request"]
	zeroCount := bytes.Clone(req)
	zeroCount[len(zeroCount)-1] = 0
	bigCount := bytes.Clone(req)
	bigCount[len(bigCount)-1] = driver.MaxSyncBlocks + 1
	stored := valid["stored-block"]
	badBool := bytes.Clone(valid["stored-genesis"])
	badBool[len(badBool)-1] = 2
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, codec.ErrTruncated},
		{"request truncated", req[:len(req)-1], codec.ErrTruncated},
		{"request trailing", append(bytes.Clone(req), 0), codec.ErrTooLarge},
		{"request zero count", zeroCount, codec.ErrTooLarge},
		{"request count over limit", bigCount, codec.ErrTooLarge},
		{"response trailing", append(bytes.Clone(valid["sync-response"]), 0), codec.ErrTrailingBytes},
		{"response truncated", valid["sync-response"][:40], codec.ErrTruncated},
		{"batch truncated", valid["message-batch"][:100], codec.ErrTruncated},
		{"stored block wrong tag", append([]byte{0x99}, stored[1:]...), codec.ErrWrongType},
		{"stored block bad bool", badBool, codec.ErrNonCanonical},
		{"record batch truncated", valid["record-batch"][:300], codec.ErrTruncated},
		{"record batch trailing", append(bytes.Clone(valid["record-batch"]), 0), codec.ErrTrailingBytes},
		{"record batch count over limit", []byte{driver.KindRecordBatch, 0, 0, 0, driver.MaxBatchRecords + 1}, codec.ErrTooLarge},
		{"record batch bad record", badRecord(valid["record-batch"]), codec.ErrWrongType},
		{"unknown kind", []byte{0x3f, 1, 2}, codec.ErrWrongType},
	}
	for _, c := range cases {
		if _, err := decodeWire(c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := (&driver.SyncRequest{Count: 0}).AppendBinary(nil); !errors.Is(err, codec.ErrTooLarge) {
		t.Errorf("encoding a request of 0 blocks: %v", err)
	}
	if _, err := (&driver.MessageBatch{Messages: make([]types.Message, driver.MaxBatchMessages+1)}).AppendBinary(nil); !errors.Is(err, codec.ErrTooLarge) {
		t.Errorf("encoding an oversized batch: %v", err)
	}
	if _, err := (&driver.RecordBatch{Records: make([]rootchain.Record, driver.MaxBatchRecords+1)}).AppendBinary(nil); !errors.Is(err, codec.ErrTooLarge) {
		t.Errorf("encoding an oversized record batch: %v", err)
	}
}

// badRecord returns a record batch whose first record has a wrong tag.
func badRecord(batch []byte) []byte {
	b := bytes.Clone(batch)
	b[1+4+4] = 0x99
	return b
}

// TestFuzzCorpus checks that every valid encoding is a seed of the
// committed FuzzDecodeWire corpus; THINKEY_UPDATE_CORPUS=1 writes them.
func TestFuzzCorpus(t *testing.T) {
	for name, b := range validWireEncodings(t) {
		path := filepath.Join("testdata", "fuzz", "FuzzDecodeWire", name)
		entry := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
		if os.Getenv("THINKEY_UPDATE_CORPUS") != "" {
			if err := os.WriteFile(path, entry, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("corpus entry %s is missing (%v): run with THINKEY_UPDATE_CORPUS=1", path, err)
		}
	}
}

// Any batch of transfers round-trips through the batch encoding.
func TestMessageBatchRoundTripProperty(t *testing.T) {
	all := sampleMessages(64)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, len(all)).Draw(t, "n")
		b := driver.MessageBatch{Messages: all[:n]}
		enc, err := b.AppendBinary([]byte("prefix"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := driver.DecodeMessageBatch(enc[len("prefix"):])
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Messages) != n {
			t.Fatalf("%d messages back, want %d", len(got.Messages), n)
		}
		for i := range got.Messages {
			if got.Messages[i].ID() != all[i].ID() {
				t.Fatalf("message %d changed", i)
			}
		}
	})
}

// FuzzDecodeWire checks that no input makes a driver decoder panic and that
// whatever one accepts re-encodes to the same bytes.
func FuzzDecodeWire(f *testing.F) {
	for _, b := range validWireEncodings(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		again, err := decodeWire(b)
		if err != nil {
			return
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted input re-encodes differently:\n in %x\nout %x", b, again)
		}
	})
}
