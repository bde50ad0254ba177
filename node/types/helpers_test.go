package types

import (
	"bytes"
	"errors"
	"testing"

	"github.com/thinkey/thinkey/node/codec"
	"pgregory.net/rapid"
)

// filled returns a hash-sized value whose bytes count up from start, so that
// layout tests can tell fields apart.
func filled(start byte) Hash {
	var h Hash
	for i := range h {
		h[i] = start + byte(i)
	}
	return h
}

func sampleHeader() Header {
	return Header{
		Version:         HeaderVersion,
		ChainID:         7,
		Height:          1000,
		Epoch:           3,
		Round:           2,
		ParentHash:      filled(0x10),
		TimestampMillis: 1_700_000_000_123,
		Proposer:        42,
		InputRoot:       filled(0x20),
		InterRelayRoot:  filled(0x30),
		OuterRelayRoot:  filled(0x40),
		RecordRoot:      filled(0x50),
		StateRoot:       filled(0x60),
		Empty:           false,
	}
}

func sampleMessage() Message {
	m := Message{
		Kind:        MessageExternal,
		From:        Address{0xa1, 0xa2},
		To:          Address{0xb1, 0xb2},
		SourceChain: 0,
		Nonce:       5,
		Value:       10,
		Method:      []byte("tran"),
		Args:        bytes.Repeat([]byte{0xab}, 100),
	}
	for i := range m.SenderKey {
		m.SenderKey[i] = 0xc0 | byte(i&0x0f)
	}
	for i := range m.Signature {
		m.Signature[i] = 0xd0 | byte(i&0x0f)
	}
	return m
}

func sampleRelay() Message {
	return Message{
		Kind:        MessageOuterRelay,
		From:        Address{0xa1},
		To:          Address{0xb1},
		SourceChain: 3,
		Cause:       filled(0xe0),
		Nonce:       77,
		Value:       10,
		Method:      []byte("add"),
		Args:        []byte{1, 2, 3},
	}
}

func sampleVote() Vote {
	v := Vote{ChainID: 7, Height: 1000, Round: 2, Kind: VotePrepare, BlockHash: filled(0x70), Voter: 9}
	for i := range v.Signature {
		v.Signature[i] = 0x80 | byte(i&0x1f)
	}
	return v
}

// sampleCertificate returns a prepare certificate of a committee of n
// members signed by every member but every third one.
func sampleCertificate(tb testing.TB, n int) Certificate {
	tb.Helper()
	signers, err := NewSignerSet(n)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if i%3 != 2 {
			if err := signers.Add(ValidatorIndex(i)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	c := Certificate{ChainID: 7, Height: 1000, Round: 2, Kind: VotePrepare, BlockHash: filled(0x70), Signers: signers}
	for i := range c.AggregateSignature {
		c.AggregateSignature[i] = 0x90 | byte(i&0x0f)
	}
	return c
}

func messagesEqual(a, b Message) bool {
	return a.Kind == b.Kind && a.From == b.From && a.To == b.To && a.SourceChain == b.SourceChain &&
		a.Cause == b.Cause && a.Nonce == b.Nonce && a.Value == b.Value && bytes.Equal(a.Method, b.Method) &&
		bytes.Equal(a.Args, b.Args) && a.SenderKey == b.SenderKey && a.Signature == b.Signature
}

// fatalReporter is what *testing.T, *testing.B and *rapid.T share.
type fatalReporter interface {
	Helper()
	Fatal(args ...any)
}

func mustEncode(tb fatalReporter, v interface{ MarshalBinary() ([]byte, error) }) []byte {
	tb.Helper()
	b, err := v.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// codecSentinels are the errors every decode failure must wrap one of.
var codecSentinels = []error{
	codec.ErrTruncated, codec.ErrTrailingBytes, codec.ErrNonCanonical, codec.ErrTooLarge,
	codec.ErrUnknownKind, codec.ErrWrongType, codec.ErrUnsupportedVersion,
}

func wrapsCodecSentinel(err error) bool {
	for _, s := range codecSentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// checkEveryPrefixTruncated decodes every proper prefix of a valid encoding
// and expects codec.ErrTruncated each time.
func checkEveryPrefixTruncated(t *testing.T, enc []byte, decode func([]byte) error) {
	t.Helper()
	for n := range len(enc) {
		err := decode(enc[:n])
		if !errors.Is(err, codec.ErrTruncated) {
			t.Fatalf("prefix of %d of %d bytes: error %v, want ErrTruncated", n, len(enc), err)
		}
	}
}

// withByte returns a copy of b with b[i] set to v.
func withByte(b []byte, i int, v byte) []byte {
	out := bytes.Clone(b)
	out[i] = v
	return out
}

func genBytesArray(t *rapid.T, dst []byte, label string) {
	copy(dst, rapid.SliceOfN(rapid.Byte(), len(dst), len(dst)).Draw(t, label))
}

func genHash(t *rapid.T, label string) Hash {
	var h Hash
	if rapid.IntRange(0, 5).Draw(t, label+"Zero") == 0 {
		return h
	}
	genBytesArray(t, h[:], label)
	return h
}

// nilIfEmpty matches the decoder, which gives nil for empty variable fields.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

var genHeader = rapid.Custom(func(t *rapid.T) Header {
	return Header{
		Version:         HeaderVersion,
		ChainID:         ChainID(rapid.Uint32().Draw(t, "chain")),
		Height:          Height(rapid.Uint64().Draw(t, "height")),
		Epoch:           Epoch(rapid.Uint64().Draw(t, "epoch")),
		Round:           Round(rapid.Uint32().Draw(t, "round")),
		ParentHash:      genHash(t, "parent"),
		TimestampMillis: rapid.Uint64().Draw(t, "time"),
		Proposer:        ValidatorIndex(rapid.Uint32().Draw(t, "proposer")),
		InputRoot:       genHash(t, "input"),
		InterRelayRoot:  genHash(t, "inter"),
		OuterRelayRoot:  genHash(t, "outer"),
		RecordRoot:      genHash(t, "record"),
		StateRoot:       genHash(t, "state"),
		Empty:           rapid.Bool().Draw(t, "empty"),
	}
})

var genMessage = rapid.Custom(func(t *rapid.T) Message {
	m := Message{
		Kind:        MessageKind(rapid.IntRange(1, 3).Draw(t, "kind")),
		SourceChain: ChainID(rapid.Uint32().Draw(t, "source")),
		Nonce:       rapid.Uint64().Draw(t, "nonce"),
		Value:       rapid.Uint64().Draw(t, "value"),
		Method:      nilIfEmpty(rapid.SliceOfN(rapid.Byte(), 0, MaxMethodLen).Draw(t, "method")),
	}
	argsMax := 200
	if rapid.IntRange(0, 20).Draw(t, "bigArgs") == 0 {
		argsMax = MaxArgsLen
	}
	m.Args = nilIfEmpty(rapid.SliceOfN(rapid.Byte(), 0, argsMax).Draw(t, "args"))
	genBytesArray(t, m.From[:], "from")
	genBytesArray(t, m.To[:], "to")
	genBytesArray(t, m.SenderKey[:], "key")
	genBytesArray(t, m.Signature[:], "sig")
	if m.Kind.IsRelay() {
		m.Cause = genHash(t, "cause")
	}
	return m
})

var genVote = rapid.Custom(func(t *rapid.T) Vote {
	v := Vote{
		ChainID:   ChainID(rapid.Uint32().Draw(t, "chain")),
		Height:    Height(rapid.Uint64().Draw(t, "height")),
		Round:     Round(rapid.Uint32().Draw(t, "round")),
		Kind:      VoteKind(rapid.IntRange(1, 3).Draw(t, "kind")),
		BlockHash: genHash(t, "block"),
		Voter:     ValidatorIndex(rapid.Uint32().Draw(t, "voter")),
	}
	genBytesArray(t, v.Signature[:], "sig")
	return v
})

func genSignerSet(t *rapid.T) SignerSet {
	n := rapid.IntRange(0, MaxCommitteeSize).Draw(t, "committee")
	s, err := NewSignerSet(n)
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		for _, i := range rapid.SliceOfN(rapid.IntRange(0, n-1), 0, n).Draw(t, "signers") {
			if err := s.Add(ValidatorIndex(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

var genCertificate = rapid.Custom(func(t *rapid.T) Certificate {
	c := Certificate{
		ChainID:   ChainID(rapid.Uint32().Draw(t, "chain")),
		Height:    Height(rapid.Uint64().Draw(t, "height")),
		Round:     Round(rapid.Uint32().Draw(t, "round")),
		Kind:      VoteKind(rapid.IntRange(1, 3).Draw(t, "kind")),
		BlockHash: genHash(t, "block"),
		Signers:   genSignerSet(t),
	}
	genBytesArray(t, c.AggregateSignature[:], "sig")
	return c
})
