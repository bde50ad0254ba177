package netq_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/netq"
)

func TestReadFrame(t *testing.T) {
	const limit = 16
	frame := func(hdr []byte, payload string) []byte { return append(append([]byte{}, hdr...), payload...) }
	for _, tc := range []struct {
		name    string
		input   []byte
		want    []byte
		wantErr error
	}{
		{"clean end", nil, nil, io.EOF},
		{"empty payload", frame([]byte{0, 0, 0, 0}, ""), []byte{}, nil},
		{"payload", frame([]byte{0, 0, 0, 3}, "abc"), []byte("abc"), nil},
		{"at the limit", frame([]byte{0, 0, 0, 16}, "0123456789abcdef"), []byte("0123456789abcdef"), nil},
		{"one over the limit", frame([]byte{0, 0, 0, 17}, "0123456789abcdefg"), nil, netq.ErrFrameTooLarge},
		{"largest header", frame([]byte{0xff, 0xff, 0xff, 0xff}, "x"), nil, netq.ErrFrameTooLarge},
		{"truncated header", []byte{0, 0}, nil, io.ErrUnexpectedEOF},
		{"truncated payload", frame([]byte{0, 0, 0, 5}, "abc"), nil, io.ErrUnexpectedEOF},
		{"header only", []byte{0, 0, 0, 1}, nil, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bytes.NewReader(tc.input)
			got, err := netq.ReadFrame(r, limit)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %q, %v; want error %v", got, err, tc.wantErr)
				}
				if errors.Is(tc.wantErr, netq.ErrFrameTooLarge) && r.Len() != len(tc.input)-netq.FrameHeaderSize {
					t.Fatalf("read %d payload bytes of a refused frame", len(tc.input)-netq.FrameHeaderSize-r.Len())
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) || got == nil {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := netq.ReadFrame(bytes.NewReader([]byte{0, 0, 0, 0}), -1); !errors.Is(err, netq.ErrFrameTooLarge) {
		t.Fatalf("negative limit: got %v, want ErrFrameTooLarge", err)
	}
}

func TestWriteFrameRefusesOversized(t *testing.T) {
	var buf bytes.Buffer
	if err := netq.WriteFrame(&buf, make([]byte, 17), 16); !errors.Is(err, netq.ErrFrameTooLarge) {
		t.Fatalf("got %v, want ErrFrameTooLarge", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %d bytes of a refused frame", buf.Len())
	}
	if _, err := netq.AppendFrame(nil, make([]byte, 17), 16); !errors.Is(err, netq.ErrFrameTooLarge) {
		t.Fatalf("AppendFrame: got %v, want ErrFrameTooLarge", err)
	}
	if err := netq.WriteFrame(errWriter{}, []byte("x"), 16); err == nil {
		t.Fatal("WriteFrame hid a write error")
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestFramesRoundTrip: any sequence of payloads within the limit, framed
// by AppendFrame or WriteFrame, reads back the same, even one byte at a
// time and across the reader's buffer growth.
func TestFramesRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const limit = 200 << 10
		sizes := rapid.SliceOfN(rapid.SampledFrom([]int{0, 1, 3, 64 << 10, 64<<10 + 1, 150 << 10}), 0, 6).Draw(t, "sizes")
		var payloads [][]byte
		var appended []byte
		var written bytes.Buffer
		for i, size := range sizes {
			p := bytes.Repeat([]byte{byte(i + 1)}, size)
			payloads = append(payloads, p)
			var err error
			if appended, err = netq.AppendFrame(appended, p, limit); err != nil {
				t.Fatal(err)
			}
			if err := netq.WriteFrame(&written, p, limit); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(appended, written.Bytes()) {
			t.Fatal("AppendFrame and WriteFrame disagree")
		}
		var r io.Reader = bytes.NewReader(appended)
		if rapid.Bool().Draw(t, "one byte at a time") {
			r = iotest.OneByteReader(r)
		}
		for i, want := range payloads {
			got, err := netq.ReadFrame(r, limit)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("frame %d: got %d bytes, %v; want %d bytes", i, len(got), err, len(want))
			}
		}
		if _, err := netq.ReadFrame(r, limit); err != io.EOF {
			t.Fatalf("after the last frame: got %v, want io.EOF", err)
		}
	})
}

// FuzzReadFrame reads frames from arbitrary bytes: it must never panic,
// and every payload it accepts must re-encode to the bytes it consumed.
func FuzzReadFrame(f *testing.F) {
	const limit = 1 << 10
	f.Add([]byte{0, 0, 0, 3, 'a', 'b', 'c'})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			start := len(data) - r.Len()
			payload, err := netq.ReadFrame(r, limit)
			if err != nil {
				if len(payload) != 0 {
					t.Fatalf("error %v with a %d-byte payload", err, len(payload))
				}
				return
			}
			if len(payload) > limit {
				t.Fatalf("accepted %d bytes over the %d limit", len(payload), limit)
			}
			again, err := netq.AppendFrame(nil, payload, limit)
			if err != nil {
				t.Fatal(err)
			}
			if consumed := data[start : len(data)-r.Len()]; !bytes.Equal(again, consumed) {
				t.Fatalf("re-encoding differs from the consumed bytes")
			}
		}
	})
}
