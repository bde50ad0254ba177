package types

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/thinkey/thinkey/node/codec"
)

func TestMessageLayout(t *testing.T) {
	m := sampleMessage()
	b := mustEncode(t, &m)
	mLen, aLen := len(m.Method), len(m.Args)
	if len(b) != 166+mLen+aLen || m.EncodedLen() != len(b) {
		t.Fatalf("length %d, EncodedLen %d, want %d", len(b), m.EncodedLen(), 166+mLen+aLen)
	}
	be := binary.BigEndian
	argsAt := 70 + mLen
	if b[0] != 0x02 || b[1] != 1 || !bytes.Equal(b[2:22], m.From[:]) || !bytes.Equal(b[22:42], m.To[:]) ||
		be.Uint32(b[42:]) != 0 || be.Uint64(b[46:]) != 5 || be.Uint64(b[54:]) != 10 ||
		be.Uint32(b[62:]) != uint32(mLen) || !bytes.Equal(b[66:66+mLen], m.Method) ||
		be.Uint32(b[66+mLen:]) != uint32(aLen) || !bytes.Equal(b[argsAt:argsAt+aLen], m.Args) ||
		!bytes.Equal(b[argsAt+aLen:argsAt+aLen+32], m.SenderKey[:]) || !bytes.Equal(b[argsAt+aLen+32:], m.Signature[:]) {
		t.Fatalf("fields are not where doc.go puts them: % x", b)
	}
	want := append([]byte("thinkey/message/v1"), b[:len(b)-Ed25519SignatureSize]...)
	if sb := m.SigningBytes(); !bytes.Equal(sb, want) {
		t.Fatalf("signing bytes\n got % x\nwant % x", sb, want)
	}
	if MessageMaxSize != 16646 {
		t.Fatalf("MessageMaxSize = %d, doc.go says 16646", MessageMaxSize)
	}
}

// TestRelayMessageLayout pins the relay layout: Cause sits between
// SourceChain and Nonce, and shifts every later field by 32 bytes.
func TestRelayMessageLayout(t *testing.T) {
	m := sampleRelay()
	b := mustEncode(t, &m)
	mLen, aLen := len(m.Method), len(m.Args)
	if len(b) != 198+mLen+aLen || m.EncodedLen() != len(b) {
		t.Fatalf("length %d, EncodedLen %d, want %d", len(b), m.EncodedLen(), 198+mLen+aLen)
	}
	be := binary.BigEndian
	argsAt := 102 + mLen
	if b[1] != 3 || be.Uint32(b[42:]) != 3 || !bytes.Equal(b[46:78], m.Cause[:]) ||
		be.Uint64(b[78:]) != 77 || be.Uint64(b[86:]) != 10 ||
		be.Uint32(b[94:]) != uint32(mLen) || !bytes.Equal(b[98:98+mLen], m.Method) ||
		be.Uint32(b[98+mLen:]) != uint32(aLen) || !bytes.Equal(b[argsAt:argsAt+aLen], m.Args) ||
		!isZero(b[argsAt+aLen:]) || len(b[argsAt+aLen:]) != 96 {
		t.Fatalf("fields are not where doc.go puts them: % x", b)
	}
	largest := sampleRelay()
	largest.Method = bytes.Repeat([]byte("m"), MaxMethodLen)
	largest.Args = make([]byte, MaxArgsLen)
	if largest.EncodedLen() != MessageMaxSize {
		t.Fatalf("largest relay is %d bytes, MessageMaxSize %d", largest.EncodedLen(), MessageMaxSize)
	}
}

// TestRelayIDsDifferByCause is the reason Cause exists: two relays equal in
// sender, recipient, value and input are told apart by what produced them
// and by their output index.
func TestRelayIDsDifferByCause(t *testing.T) {
	a := sampleRelay()
	b := sampleRelay()
	b.Cause[0] ^= 1
	c := sampleRelay()
	c.Nonce++
	if a.ID() == b.ID() || a.ID() == c.ID() || b.ID() == c.ID() {
		t.Fatal("relays with different causes or indexes share an ID")
	}
}

func TestMessageRoundTripAndID(t *testing.T) {
	big := sampleMessage()
	big.Method = bytes.Repeat([]byte("m"), MaxMethodLen)
	big.Args = bytes.Repeat([]byte{7}, MaxArgsLen)
	bare := sampleRelay()
	bare.Method, bare.Args = nil, nil
	for name, m := range map[string]Message{
		"external": sampleMessage(), "relay": sampleRelay(), "largest": big, "no method or args": bare,
	} {
		t.Run(name, func(t *testing.T) {
			b := mustEncode(t, &m)
			got, err := DecodeMessage(b)
			if err != nil {
				t.Fatal(err)
			}
			if !messagesEqual(got, m) {
				t.Fatalf("decoded %+v, want %+v", got, m)
			}
			if m.ID() != Hash(sha256.Sum256(b)) {
				t.Fatal("ID is not SHA-256 of the encoding")
			}
		})
	}
}

func TestMessageDecodeAliasesAndCloneCopies(t *testing.T) {
	m := sampleMessage()
	b := mustEncode(t, &m)
	got, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	clone := got.Clone()
	b[66] = 'X' // first byte of Method
	if got.Method[0] != 'X' {
		t.Fatal("decoded Method does not alias the input, as documented")
	}
	if clone.Method[0] != 't' || !bytes.Equal(clone.Args, m.Args) {
		t.Fatal("Clone shares memory with the input")
	}
}

func TestMessageDecodeRejects(t *testing.T) {
	m := sampleMessage()
	valid := func() []byte { return mustEncode(t, &m) }
	oversizedMethod := func() []byte {
		b := valid()
		binary.BigEndian.PutUint32(b[62:], MaxMethodLen+1)
		return b
	}
	oversizedArgs := func() []byte {
		b := valid()
		binary.BigEndian.PutUint32(b[66+len(m.Method):], MaxArgsLen+1)
		return b
	}
	hugeArgs := func() []byte {
		b := valid()
		binary.BigEndian.PutUint32(b[66+len(m.Method):], 0xffffffff)
		return b
	}
	longArgs := func() []byte {
		b := valid()
		binary.BigEndian.PutUint32(b[66+len(m.Method):], uint32(len(m.Args)+100))
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"trailing byte", append(valid(), 0), codec.ErrTrailingBytes},
		{"input over the maximum", make([]byte, MessageMaxSize+1), codec.ErrTooLarge},
		{"kind 0", withByte(valid(), 1, 0), codec.ErrUnknownKind},
		{"kind 4", withByte(valid(), 1, 4), codec.ErrUnknownKind},
		{"vote tag", withByte(valid(), 0, byte(TagVote)), codec.ErrWrongType},
		{"method length over 64", oversizedMethod(), codec.ErrTooLarge},
		{"args length over 16 KiB", oversizedArgs(), codec.ErrTooLarge},
		{"args length 2^32-1", hugeArgs(), codec.ErrTooLarge},
		{"args length past the end", longArgs(), codec.ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeMessage(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("every prefix", func(t *testing.T) {
		checkEveryPrefixTruncated(t, valid(), func(b []byte) error { _, err := DecodeMessage(b); return err })
	})
}

func TestMessageEncodeRefusesWhatDecodeRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m *Message)
		want   error
	}{
		{"unknown kind", func(m *Message) { m.Kind = 9 }, codec.ErrUnknownKind},
		{"external with a cause", func(m *Message) { m.Cause[5] = 1 }, codec.ErrNonCanonical},
		{"long method", func(m *Message) { m.Method = make([]byte, MaxMethodLen+1) }, codec.ErrTooLarge},
		{"long args", func(m *Message) { m.Args = make([]byte, MaxArgsLen+1) }, codec.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleMessage()
			tt.mutate(&m)
			out, err := m.AppendBinary(nil)
			if !errors.Is(err, tt.want) || out != nil {
				t.Fatalf("AppendBinary = %d bytes, %v; want nothing and %v", len(out), err, tt.want)
			}
		})
	}
}

func TestMessageValidateBasic(t *testing.T) {
	tests := []struct {
		name   string
		base   func() Message
		mutate func(m *Message)
		want   error
	}{
		{"external", sampleMessage, func(*Message) {}, nil},
		{"outer relay", sampleRelay, func(*Message) {}, nil},
		{"inter relay", sampleRelay, func(m *Message) { m.Kind = MessageInterRelay }, nil},
		{"empty method", sampleMessage, func(m *Message) { m.Method = nil }, nil},
		{"identifier method", sampleMessage, func(m *Message) { m.Method = []byte("_buy_Kitty2") }, nil},
		{"method starting with a digit", sampleMessage, func(m *Message) { m.Method = []byte("2buy") }, ErrInvalid},
		{"method with a space", sampleMessage, func(m *Message) { m.Method = []byte("buy kitty") }, ErrInvalid},
		{"method with a non-ASCII byte", sampleMessage, func(m *Message) { m.Method = []byte("caf\xc3\xa9") }, ErrInvalid},
		{"method too long", sampleMessage, func(m *Message) { m.Method = bytes.Repeat([]byte("a"), 65) }, codec.ErrTooLarge},
		{"args too long", sampleMessage, func(m *Message) { m.Args = make([]byte, MaxArgsLen+1) }, codec.ErrTooLarge},
		{"unknown kind", sampleMessage, func(m *Message) { m.Kind = 0 }, codec.ErrUnknownKind},
		{"external without key", sampleMessage, func(m *Message) { m.SenderKey = [32]byte{} }, ErrInvalid},
		{"external unsigned", sampleMessage, func(m *Message) { m.Signature = [64]byte{} }, ErrInvalid},
		{"external with source chain", sampleMessage, func(m *Message) { m.SourceChain = 1 }, ErrInvalid},
		{"relay with key", sampleRelay, func(m *Message) { m.SenderKey[0] = 1 }, ErrInvalid},
		{"relay without cause", sampleRelay, func(m *Message) { m.Cause = Hash{} }, ErrInvalid},
		{"inter relay without cause", sampleRelay, func(m *Message) { m.Kind, m.Cause = MessageInterRelay, Hash{} }, ErrInvalid},
		{"external with cause", sampleMessage, func(m *Message) { m.Cause[0] = 1 }, codec.ErrNonCanonical},
		{"relay with signature", sampleRelay, func(m *Message) { m.Signature[63] = 1 }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.base()
			tt.mutate(&m)
			err := m.ValidateBasic()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.want != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}
