package light

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/types"
)

type encoding interface {
	MarshalBinary() ([]byte, error)
	AppendBinary([]byte) ([]byte, error)
	EncodedLen() int
}

func TestEncodingRoundTrip(t *testing.T) {
	w := newWorld(t)
	root, tx, sub := w.rootProof(), w.txProof(t), w.subProof(t)
	acct, rel := w.accountProof(t, 1), w.relayProof(t, 0)
	cases := []struct {
		name   string
		value  encoding
		decode func([]byte) (encoding, error)
	}{
		{"header proof, no lift", &root, decodeHeader},
		{"header proof, one lift", &tx, decodeHeader},
		{"header proof, two lifts", &sub, decodeHeader},
		{"account proof", &acct, decodeAccount},
		{"relay proof", &rel, decodeRelay},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc := mustEncode(t, c.value)
			if len(enc) != c.value.EncodedLen() {
				t.Fatalf("encoding of %d bytes, EncodedLen %d", len(enc), c.value.EncodedLen())
			}
			prefix := []byte{0xaa, 0xbb}
			appended, err := c.value.AppendBinary(bytes.Clone(prefix))
			if err != nil || !bytes.Equal(appended[:2], prefix) || !bytes.Equal(appended[2:], enc) {
				t.Fatalf("AppendBinary does not append the encoding (%v)", err)
			}
			in := bytes.Clone(enc)
			dec, err := c.decode(in)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			clear(in) // the decoded value shares no memory with its input
			if again := mustEncode(t, dec); !bytes.Equal(again, enc) {
				t.Fatal("decoded value re-encodes differently")
			}
		})
	}
}

func decodeHeader(b []byte) (encoding, error) {
	p, err := DecodeHeaderProof(b)
	return &p, err
}

func decodeAccount(b []byte) (encoding, error) {
	p, err := DecodeAccountProof(b)
	return &p, err
}

func decodeRelay(b []byte) (encoding, error) {
	p, err := DecodeRelayProof(b)
	return &p, err
}

// Offsets in a header proof with one lift (package documentation).
const (
	liftCountAt = 1 + types.HeaderSize
	liftPathAt  = liftCountAt + 1 + types.HeaderSize // the path length
)

func withByte(b []byte, at int, v byte) []byte {
	out := bytes.Clone(b)
	out[at] = v
	return out
}

func withUint32(b []byte, at int, v uint32) []byte {
	out := bytes.Clone(b)
	binary.BigEndian.PutUint32(out[at:], v)
	return out
}

// badSeeds are encodings each decoder must refuse, with the codec sentinel
// the refusal wraps.
func badSeeds(t fatalReporter, w *world) map[string]map[string]struct {
	in   []byte
	want error
} {
	tx := w.txProof(t)
	header := mustEncode(t, &tx)
	acct := w.accountProof(t, 0)
	account := mustEncode(t, &acct)
	rel := w.relayProof(t, 0)
	relayEnc := mustEncode(t, &rel)
	blockLen := len(header)
	type seed = struct {
		in   []byte
		want error
	}
	pathLen := int(binary.BigEndian.Uint32(header[liftPathAt:]))
	certLenAt := liftPathAt + 4 + pathLen
	accountLenAt := 1 + 4 + blockLen
	// A path of one leaf with a sibling it cannot have.
	badPath := withByte(header, liftPathAt+4+16, byte(pathLen))

	return map[string]map[string]seed{
		"FuzzDecodeHeaderProof": {
			"truncated":          {header[:len(header)-1], codec.ErrTruncated},
			"truncated-in-lift":  {header[:liftPathAt+2], codec.ErrTruncated},
			"trailing":           {append(bytes.Clone(header), 0), codec.ErrTrailingBytes},
			"wrong-tag":          {withByte(header, 0, AccountProofTag), codec.ErrWrongType},
			"too-many-lifts":     {withByte(header, liftCountAt, relay.MaxLifts+1), codec.ErrTooLarge},
			"bad-header-version": {withByte(header, 2, 9), codec.ErrUnsupportedVersion},
			"bad-path-shape":     {badPath, codec.ErrNonCanonical},
			"oversized-path":     {withUint32(header, liftPathAt, MaxPathSize+1), codec.ErrTooLarge},
			"oversized-cert":     {withUint32(header, certLenAt, types.CertificateMaxSize+1), codec.ErrTooLarge},
			"cert-short-length":  {withUint32(header, certLenAt, uint32(len(header)-certLenAt-4-1)), codec.ErrTruncated},
			"cert-unknown-kind":  {withByte(header, certLenAt+4+17, 0), codec.ErrUnknownKind},
		},
		"FuzzDecodeAccountProof": {
			"truncated":             {account[:len(account)-3], codec.ErrTruncated},
			"trailing":              {append(bytes.Clone(account), 1), codec.ErrTrailingBytes},
			"wrong-tag":             {withByte(account, 0, HeaderProofTag), codec.ErrWrongType},
			"block-wrong-tag":       {withByte(account, 5, RelayProofTag), codec.ErrWrongType},
			"block-length-too-long": {withUint32(account, 1, uint32(blockLen+1)), codec.ErrTrailingBytes},
			"block-oversized":       {withUint32(account, 1, HeaderProofMaxSize+1), codec.ErrTooLarge},
			"account-wrong-tag":     {withByte(account, accountLenAt+4, 0x11), codec.ErrWrongType},
			"account-empty":         {withUint32(account, accountLenAt, 0), codec.ErrTruncated},
		},
		"FuzzDecodeRelayProof": {
			"truncated":       {relayEnc[:len(relayEnc)-1], codec.ErrTruncated},
			"trailing":        {append(bytes.Clone(relayEnc), 1), codec.ErrTrailingBytes},
			"wrong-tag":       {withByte(relayEnc, 0, AccountProofTag), codec.ErrWrongType},
			"message-unknown": {withByte(relayEnc, accountLenAt+4+1, 7), codec.ErrUnknownKind},
			"message-long":    {withUint32(relayEnc, accountLenAt, types.MessageMaxSize+1), codec.ErrTooLarge},
		},
	}
}

func TestDecodersReject(t *testing.T) {
	w := newWorld(t)
	decoders := map[string]func([]byte) error{
		"FuzzDecodeHeaderProof":  func(b []byte) error { _, err := DecodeHeaderProof(b); return err },
		"FuzzDecodeAccountProof": func(b []byte) error { _, err := DecodeAccountProof(b); return err },
		"FuzzDecodeRelayProof":   func(b []byte) error { _, err := DecodeRelayProof(b); return err },
	}
	for target, seeds := range badSeeds(t, w) {
		for name, s := range seeds {
			if err := decoders[target](s.in); !errors.Is(err, s.want) {
				t.Errorf("%s %s: error %v, want %v", target, name, err, s.want)
			}
		}
	}
	for target, decode := range decoders {
		if err := decode(nil); !errors.Is(err, codec.ErrTruncated) {
			t.Errorf("%s of nothing: error %v, want ErrTruncated", target, err)
		}
		if err := decode(make([]byte, RelayProofMaxSize+AccountProofMaxSize)); !errors.Is(err, codec.ErrTooLarge) {
			t.Errorf("%s of too much: error %v, want ErrTooLarge", target, err)
		}
	}
}

func TestEncodersRefuse(t *testing.T) {
	w := newWorld(t)
	tooMany := w.txProof(t)
	for len(tooMany.Lifts) <= relay.MaxLifts {
		tooMany.Lifts = append(tooMany.Lifts, tooMany.Lifts[0])
	}
	badKind := w.rootProof()
	badKind.RootCertificate.Kind = 0
	badPath := w.txProof(t)
	badPath.Lifts[0].Path = merkle.Proof{Index: 3, LeafCount: 2}
	badVersion := w.rootProof()
	badVersion.Header.Version = 0
	badAccount := w.accountProof(t, 0)
	badAccount.Account = badAccount.Account[1:]
	badAccountPath := w.accountProof(t, 0)
	badAccountPath.Path.Siblings = nil
	badMessage := w.relayProof(t, 0)
	badMessage.Message.Method = bytes.Repeat([]byte("m"), types.MaxMethodLen+1)
	badBlock := w.relayProof(t, 0)
	badBlock.Block = tooMany

	for name, v := range map[string]encoding{
		"too many lifts":         &tooMany,
		"unknown cert kind":      &badKind,
		"path of no tree":        &badPath,
		"header version":         &badVersion,
		"account not canonical":  &badAccount,
		"account path shape":     &badAccountPath,
		"message with no coding": &badMessage,
		"relay block":            &badBlock,
	} {
		dst := []byte{1, 2, 3}
		out, err := v.AppendBinary(dst)
		if err == nil {
			t.Errorf("%s: encoded", name)
			continue
		}
		if !bytes.Equal(out, dst) || len(out) != len(dst) {
			t.Errorf("%s: dst changed on failure", name)
		}
	}
}
