package types

import "testing"

// TestCodecDoesNotAllocate pins the allocation budget of the hot path: zero
// for encoding into a buffer with room and for decoding (a decoded message
// aliases its input instead of copying Method and Args).
func TestCodecDoesNotAllocate(t *testing.T) {
	h, m, v, c := sampleHeader(), sampleMessage(), sampleVote(), sampleCertificate(t, 400)
	hb, mb, vb, cb := mustEncode(t, &h), mustEncode(t, &m), mustEncode(t, &v), mustEncode(t, &c)
	buf := make([]byte, 0, MessageMaxSize)
	var sink error
	cases := map[string]func(){
		"header encode":      func() { buf, sink = h.AppendBinary(buf[:0]) },
		"message encode":     func() { buf, sink = m.AppendBinary(buf[:0]) },
		"vote encode":        func() { buf, sink = v.AppendBinary(buf[:0]) },
		"certificate encode": func() { buf, sink = c.AppendBinary(buf[:0]) },
		"vote signing bytes": func() { buf = v.AppendSigningBytes(buf[:0]) },
		"certificate signing bytes": func() {
			buf = c.AppendVoteSigningBytes(buf[:0])
		},
		"message signing bytes": func() { buf = m.AppendSigningBytes(buf[:0]) },
		"header decode":         func() { _, sink = DecodeHeader(hb) },
		"message decode":        func() { _, sink = DecodeMessage(mb) },
		"vote decode":           func() { _, sink = DecodeVote(vb) },
		"certificate decode":    func() { _, sink = DecodeCertificate(cb) },
	}
	for name, f := range cases {
		if allocs := testing.AllocsPerRun(50, f); allocs != 0 {
			t.Errorf("%s: %.1f allocations, want 0", name, allocs)
		}
		if sink != nil {
			t.Fatalf("%s: %v", name, sink)
		}
	}
}
