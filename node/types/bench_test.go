package types

import "testing"

// Benchmarks of the codec per type; the same bodies, with the committee and
// argument sizes of the report, run as the "codec" stage of package bench.

func BenchmarkHeaderEncode(b *testing.B) {
	h := sampleHeader()
	buf := make([]byte, 0, HeaderSize)
	b.ReportAllocs()
	b.SetBytes(HeaderSize)
	for b.Loop() {
		buf, _ = h.AppendBinary(buf[:0])
	}
}

func BenchmarkHeaderDecode(b *testing.B) {
	h := sampleHeader()
	enc := mustEncode(b, &h)
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodeHeader(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHeaderHash(b *testing.B) {
	h := sampleHeader()
	b.ReportAllocs()
	b.SetBytes(HeaderSize)
	for b.Loop() {
		_ = h.Hash()
	}
}

func BenchmarkMessageEncode(b *testing.B) {
	m := sampleMessage()
	buf := make([]byte, 0, m.EncodedLen())
	b.ReportAllocs()
	b.SetBytes(int64(m.EncodedLen()))
	for b.Loop() {
		buf, _ = m.AppendBinary(buf[:0])
	}
}

func BenchmarkMessageDecode(b *testing.B) {
	m := sampleMessage()
	enc := mustEncode(b, &m)
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodeMessage(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVoteEncode(b *testing.B) {
	v := sampleVote()
	buf := make([]byte, 0, VoteSize)
	b.ReportAllocs()
	b.SetBytes(VoteSize)
	for b.Loop() {
		buf, _ = v.AppendBinary(buf[:0])
	}
}

func BenchmarkVoteDecode(b *testing.B) {
	v := sampleVote()
	enc := mustEncode(b, &v)
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodeVote(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCertificateEncode(b *testing.B) {
	c := sampleCertificate(b, 400)
	buf := make([]byte, 0, c.EncodedLen())
	b.ReportAllocs()
	b.SetBytes(int64(c.EncodedLen()))
	for b.Loop() {
		buf, _ = c.AppendBinary(buf[:0])
	}
}

func BenchmarkCertificateDecode(b *testing.B) {
	c := sampleCertificate(b, 400)
	enc := mustEncode(b, &c)
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodeCertificate(enc); err != nil {
			b.Fatal(err)
		}
	}
}
