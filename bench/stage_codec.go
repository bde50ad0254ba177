package bench

import (
	"fmt"
	"testing"

	"github.com/thinkey/thinkey/node/types"
)

// Sizes of the codec stage: the committee of the paper's experiments
// (400 nodes, paper 6.2) and a small call's arguments.
const (
	codecCommitteeSize = 400
	codecArgsLen       = 100
)

// codecCases measures the canonical codec of node/types: encoding into a
// reused buffer and decoding, per consensus type, with bytes per second over
// the encoding. Both must report zero allocations; the header hash is listed
// beside them because every block costs one.
func codecCases(cfg Config) []Case {
	header, vote, msg := codecHeader(), codecVote(), codecMessage()
	certName := fmt.Sprintf("certificate/n=%d", codecCommitteeSize)
	msgName := fmt.Sprintf("message/args=%d", codecArgsLen)
	return []Case{
		{Stage: "codec", Name: "header/encode", Unit: "header", Run: benchEncode(&header)},
		{Stage: "codec", Name: "header/decode", Unit: "header", Run: benchDecode(&header, types.DecodeHeader)},
		{Stage: "codec", Name: "header/hash", Unit: "header", Run: func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(types.HeaderSize)
			for b.Loop() {
				_ = header.Hash()
			}
		}},
		{Stage: "codec", Name: "vote/encode", Unit: "vote", Run: benchEncode(&vote)},
		{Stage: "codec", Name: "vote/decode", Unit: "vote", Run: benchDecode(&vote, types.DecodeVote)},
		{Stage: "codec", Name: certName + "/encode", Unit: "certificate", Run: func(b *testing.B) {
			cert := codecCertificate(b)
			benchEncode(&cert)(b)
		}},
		{Stage: "codec", Name: certName + "/decode", Unit: "certificate", Run: func(b *testing.B) {
			cert := codecCertificate(b)
			benchDecode(&cert, types.DecodeCertificate)(b)
		}},
		{Stage: "codec", Name: msgName + "/encode", Unit: "message", Run: benchEncode(&msg)},
		{Stage: "codec", Name: msgName + "/decode", Unit: "message", Run: benchDecode(&msg, types.DecodeMessage)},
	}
}

type binaryAppender interface {
	AppendBinary(dst []byte) ([]byte, error)
	MarshalBinary() ([]byte, error)
}

// benchEncode encodes v into one reused buffer, the way the node encodes
// outgoing messages.
func benchEncode(v binaryAppender) func(b *testing.B) {
	return func(b *testing.B) {
		enc, err := v.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 0, len(enc))
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if buf, err = v.AppendBinary(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchDecode decodes the encoding of v over and over.
func benchDecode[T any](v binaryAppender, decode func([]byte) (T, error)) func(b *testing.B) {
	return func(b *testing.B) {
		enc, err := v.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := decode(enc); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// codecBytes returns n bytes counting up from start, so that no field is
// all zero.
func codecBytes(n int, start byte) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = start + byte(i)
	}
	return out
}

func codecHash(start byte) types.Hash { return types.Hash(codecBytes(32, start)) }

func codecHeader() types.Header {
	return types.Header{
		Version: types.HeaderVersion, ChainID: 7, Height: 1000, Epoch: 3, Round: 0,
		ParentHash: codecHash(0x10), TimestampMillis: 1_700_000_000_000, Proposer: 17,
		InputRoot: codecHash(0x20), InterRelayRoot: codecHash(0x30), OuterRelayRoot: codecHash(0x40),
		RecordRoot: codecHash(0x50), StateRoot: codecHash(0x60),
	}
}

func codecVote() types.Vote {
	return types.Vote{
		ChainID: 7, Height: 1000, Round: 0, Kind: types.VotePrepare, BlockHash: codecHash(0x70), Voter: 17,
		Signature: [types.BLSSignatureSize]byte(codecBytes(types.BLSSignatureSize, 0x80)),
	}
}

// codecCertificate is a prepare certificate signed by two thirds of the
// committee plus one, the quorum of a PBFT committee.
func codecCertificate(b *testing.B) types.Certificate {
	signers, err := types.NewSignerSet(codecCommitteeSize)
	if err != nil {
		b.Fatal(err)
	}
	for i := range codecCommitteeSize*2/3 + 1 {
		if err := signers.Add(types.ValidatorIndex(i)); err != nil {
			b.Fatal(err)
		}
	}
	return types.Certificate{
		ChainID: 7, Height: 1000, Round: 0, Kind: types.VotePrepare, BlockHash: codecHash(0x70), Signers: signers,
		AggregateSignature: [types.BLSSignatureSize]byte(codecBytes(types.BLSSignatureSize, 0x90)),
	}
}

func codecMessage() types.Message {
	return types.Message{
		Kind: types.MessageExternal, From: types.Address(codecBytes(types.AddressSize, 0xa0)),
		To: types.Address(codecBytes(types.AddressSize, 0xb0)), Nonce: 5, Value: 10,
		Method: []byte("tran"), Args: codecBytes(codecArgsLen, 0),
		SenderKey: [types.Ed25519PublicKeySize]byte(codecBytes(types.Ed25519PublicKeySize, 0xc0)),
		Signature: [types.Ed25519SignatureSize]byte(codecBytes(types.Ed25519SignatureSize, 0xd0)),
	}
}
