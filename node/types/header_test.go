package types

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/codec"
)

// TestHeaderLayout pins every field to the offset doc.go gives it.
func TestHeaderLayout(t *testing.T) {
	h := sampleHeader()
	h.Empty = true
	b := mustEncode(t, &h)
	if len(b) != HeaderSize || HeaderSize != 232 {
		t.Fatalf("length %d, HeaderSize %d, want 232", len(b), HeaderSize)
	}
	be := binary.BigEndian
	checks := []struct {
		field string
		ok    bool
	}{
		{"Tag", b[0] == 0x01},
		{"Version", be.Uint16(b[1:]) == 1},
		{"ChainID", be.Uint32(b[3:]) == 7},
		{"Height", be.Uint64(b[7:]) == 1000},
		{"Epoch", be.Uint64(b[15:]) == 3},
		{"Round", be.Uint32(b[23:]) == 2},
		{"ParentHash", bytes.Equal(b[27:59], h.ParentHash[:])},
		{"TimestampMillis", be.Uint64(b[59:]) == 1_700_000_000_123},
		{"Proposer", be.Uint32(b[67:]) == 42},
		{"InputRoot", bytes.Equal(b[71:103], h.InputRoot[:])},
		{"InterRelayRoot", bytes.Equal(b[103:135], h.InterRelayRoot[:])},
		{"OuterRelayRoot", bytes.Equal(b[135:167], h.OuterRelayRoot[:])},
		{"RecordRoot", bytes.Equal(b[167:199], h.RecordRoot[:])},
		{"StateRoot", bytes.Equal(b[199:231], h.StateRoot[:])},
		{"Empty", b[231] == 0x01},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("field %s is not where doc.go puts it: % x", c.field, b)
		}
	}
}

func TestHeaderRoundTripAndHash(t *testing.T) {
	for _, empty := range []bool{false, true} {
		h := sampleHeader()
		h.Empty = empty
		b := mustEncode(t, &h)
		got, err := DecodeHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		if got != h {
			t.Fatalf("decoded %+v, want %+v", got, h)
		}
		if h.Hash() != Hash(sha256.Sum256(b)) {
			t.Fatal("Hash is not SHA-256 of the encoding")
		}
		appended, err := h.AppendBinary([]byte("prefix"))
		if err != nil || !bytes.Equal(appended, append([]byte("prefix"), b...)) {
			t.Fatalf("AppendBinary did not append the encoding: %v", err)
		}
	}
	h := sampleHeader()
	if got := h.Time(); !got.Equal(time.UnixMilli(1_700_000_000_123)) || got.Location() != time.UTC {
		t.Fatalf("Time() = %v", got)
	}
}

func TestHeaderDecodeRejects(t *testing.T) {
	valid := func() []byte { h := sampleHeader(); return mustEncode(t, &h) }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"trailing byte (over the fixed size)", append(valid(), 0), codec.ErrTooLarge},
		{"empty bool byte 2", withByte(valid(), 231, 2), codec.ErrNonCanonical},
		{"version 0", withByte(valid(), 2, 0), codec.ErrUnsupportedVersion},
		{"version 2", withByte(valid(), 2, 2), codec.ErrUnsupportedVersion},
		{"version 0x0101", withByte(valid(), 1, 1), codec.ErrUnsupportedVersion},
		{"vote tag", withByte(valid(), 0, byte(TagVote)), codec.ErrWrongType},
		{"zero tag", withByte(valid(), 0, 0), codec.ErrWrongType},
		{"far oversized", make([]byte, 1<<20), codec.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeHeader(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("every prefix", func(t *testing.T) {
		checkEveryPrefixTruncated(t, valid(), func(b []byte) error { _, err := DecodeHeader(b); return err })
	})
}

func TestHeaderEncodeRefusesUnknownVersion(t *testing.T) {
	h := sampleHeader()
	h.Version = 2
	out, err := h.AppendBinary([]byte("keep"))
	if !errors.Is(err, codec.ErrUnsupportedVersion) || string(out) != "keep" {
		t.Fatalf("AppendBinary = %q, %v; want the input back and ErrUnsupportedVersion", out, err)
	}
}

func TestHeaderValidateBasic(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(h *Header)
		want   error
	}{
		{"valid", func(*Header) {}, nil},
		{"valid genesis", func(h *Header) { h.Height = 0; h.ParentHash = Hash{} }, nil},
		{"genesis with parent", func(h *Header) { h.Height = 0 }, ErrInvalid},
		{"no parent above genesis", func(h *Header) { h.ParentHash = Hash{} }, ErrInvalid},
		{"unknown version", func(h *Header) { h.Version = 9 }, codec.ErrUnsupportedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := sampleHeader()
			tt.mutate(&h)
			err := h.ValidateBasic()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.want != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestEmptyHeaderDependsOnlyOnParent(t *testing.T) {
	parent := Header{Version: HeaderVersion, ChainID: 3, Height: 9, Epoch: 2, Round: 4, ParentHash: Hash{1},
		TimestampMillis: 1234, Proposer: 2, InputRoot: Hash{5}, StateRoot: Hash{6}}
	e := EmptyHeader(&parent)
	want := Header{Version: HeaderVersion, ChainID: 3, Height: 10, Epoch: 2, ParentHash: parent.Hash(),
		TimestampMillis: 1234, StateRoot: Hash{6}, Empty: true}
	if e != want {
		t.Fatalf("EmptyHeader = %+v, want %+v", e, want)
	}
	if err := e.ValidateBasic(); err != nil {
		t.Fatalf("empty header invalid: %v", err)
	}
}
