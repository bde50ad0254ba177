package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestEncoderLayout(t *testing.T) {
	var e Encoder
	e.AppendUint8(0x01)
	e.AppendUint16(0x0203)
	e.AppendUint32(0x04050607)
	e.AppendUint64(0x08090a0b0c0d0e0f)
	e.AppendBool(true)
	e.AppendBool(false)
	e.AppendFixed([]byte{0xaa, 0xbb})
	e.AppendBytes([]byte{0xcc})
	e.AppendBytes(nil)
	want := []byte{
		0x01,
		0x02, 0x03,
		0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0x01, 0x00,
		0xaa, 0xbb,
		0x00, 0x00, 0x00, 0x01, 0xcc,
		0x00, 0x00, 0x00, 0x00,
	}
	if !bytes.Equal(e.Bytes(), want) {
		t.Fatalf("encoding\n got %x\nwant %x", e.Bytes(), want)
	}
	if e.Len() != len(want) {
		t.Fatalf("Len() = %d, want %d", e.Len(), len(want))
	}
}

func TestNewEncoderGrowsOnceAndKeepsPrefix(t *testing.T) {
	e := NewEncoder([]byte("pre"), 8)
	if cap(e.Bytes()) < 3+8 {
		t.Fatalf("cap = %d, want at least 11", cap(e.Bytes()))
	}
	before := &e.Bytes()[:1][0]
	e.AppendUint64(1)
	if &e.Bytes()[0] != before {
		t.Fatal("appending within the reserved size reallocated")
	}
	if !bytes.HasPrefix(e.Bytes(), []byte("pre")) {
		t.Fatalf("prefix lost: %q", e.Bytes())
	}
}

func TestDecoderReadsWhatEncoderWrote(t *testing.T) {
	var e Encoder
	e.AppendUint8(7)
	e.AppendUint16(0xbeef)
	e.AppendUint32(0xdeadbeef)
	e.AppendUint64(1<<63 | 5)
	e.AppendBool(true)
	e.AppendFixed([]byte{1, 2, 3})
	e.AppendBytes([]byte("args"))
	e.AppendBytes(nil)
	in := e.Bytes()

	d := NewDecoder("sample", in, len(in))
	var fixed [3]byte
	u8, u16, u32, u64 := d.Uint8("a"), d.Uint16("b"), d.Uint32("c"), d.Uint64("d")
	b := d.Bool("e")
	d.Fixed("f", fixed[:])
	payload := d.Bytes("g", 4)
	empty := d.Bytes("h", 4)
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
	if u8 != 7 || u16 != 0xbeef || u32 != 0xdeadbeef || u64 != 1<<63|5 || !b || fixed != [3]byte{1, 2, 3} {
		t.Fatalf("decoded %d %x %x %x %v %v", u8, u16, u32, u64, b, fixed)
	}
	if string(payload) != "args" || empty != nil {
		t.Fatalf("bytes fields %q %v", payload, empty)
	}
	if d.Offset() != len(in) || d.Remaining() != 0 {
		t.Fatalf("offset %d remaining %d", d.Offset(), d.Remaining())
	}
}

func TestDecoderRejects(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		max     int
		read    func(d *Decoder)
		want    error
		message string
	}{
		{
			name: "truncated uint32", in: []byte{1, 2}, max: 8,
			read: func(d *Decoder) { d.Uint32("Round") }, want: ErrTruncated,
			message: "decode sample: field Round: truncated input: need 4 bytes at offset 0, have 2",
		},
		{
			name: "truncated uint16", in: []byte{1}, max: 8,
			read: func(d *Decoder) { d.Uint16("Version") }, want: ErrTruncated,
		},
		{
			name: "truncated uint64", in: make([]byte, 7), max: 8,
			read: func(d *Decoder) { d.Uint64("Height") }, want: ErrTruncated,
		},
		{
			name: "truncated fixed", in: make([]byte, 31), max: 64,
			read: func(d *Decoder) { d.Fixed("BlockHash", make([]byte, 32)) }, want: ErrTruncated,
		},
		{
			name: "empty uint8", in: nil, max: 8,
			read: func(d *Decoder) { d.Uint8("Tag") }, want: ErrTruncated,
		},
		{
			name: "bool 2", in: []byte{2}, max: 8,
			read: func(d *Decoder) { d.Bool("Empty") }, want: ErrNonCanonical,
			message: "decode sample: field Empty: non-canonical encoding: bool byte 0x02",
		},
		{
			name: "bool 0xff", in: []byte{0xff}, max: 8,
			read: func(d *Decoder) { d.Bool("Empty") }, want: ErrNonCanonical,
		},
		{
			name: "bytes over field maximum", in: []byte{0, 0, 0, 5, 1, 2, 3, 4, 5}, max: 16,
			read: func(d *Decoder) { d.Bytes("Method", 4) }, want: ErrTooLarge,
			message: "decode sample: field Method: too large: length 5, maximum 4",
		},
		{
			name: "bytes length checked against maximum before input", in: []byte{0xff, 0xff, 0xff, 0xff}, max: 16,
			read: func(d *Decoder) { d.Bytes("Args", 1<<14) }, want: ErrTooLarge,
		},
		{
			name: "bytes longer than input", in: []byte{0, 0, 0, 3, 1, 2}, max: 16,
			read: func(d *Decoder) { d.Bytes("Args", 8) }, want: ErrTruncated,
		},
		{
			name: "bytes length truncated", in: []byte{0, 0, 0}, max: 16,
			read: func(d *Decoder) { d.Bytes("Args", 8) }, want: ErrTruncated,
		},
		{
			name: "trailing byte", in: []byte{1, 2}, max: 8,
			read: func(d *Decoder) { d.Uint8("Tag") }, want: ErrTrailingBytes,
			message: "decode sample: trailing bytes: 1 left after the last field at offset 1",
		},
		{
			name: "input over type maximum", in: make([]byte, 9), max: 8,
			read: func(d *Decoder) { d.Uint64("Height") }, want: ErrTooLarge,
			message: "decode sample: input of 9 bytes: too large (maximum 8)",
		},
		{
			name: "type rule", in: []byte{9}, max: 8,
			read: func(d *Decoder) {
				if d.Uint8("Kind") == 9 {
					d.Fail("Kind", ErrUnknownKind)
				}
			},
			want:    ErrUnknownKind,
			message: "decode sample: field Kind: unknown kind",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder("sample", tt.in, tt.max)
			tt.read(&d)
			err := d.Finish()
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.message != "" && err.Error() != tt.message {
				t.Fatalf("message\n got %q\nwant %q", err.Error(), tt.message)
			}
		})
	}
}

func TestDecoderKeepsFirstError(t *testing.T) {
	d := NewDecoder("sample", []byte{1, 2, 3}, 8)
	if got := d.Uint64("First"); got != 0 {
		t.Fatalf("failed read returned %d", got)
	}
	if got := d.Uint8("Second"); got != 0 {
		t.Fatalf("read after failure returned %d", got)
	}
	d.Fail("Third", ErrUnknownKind)
	if b := d.Bytes("Fourth", 8); b != nil {
		t.Fatalf("read after failure returned %v", b)
	}
	err := d.Finish()
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "field First") {
		t.Fatalf("error %v, want the truncation of field First", err)
	}
	if errors.Is(err, ErrUnknownKind) || errors.Is(err, ErrTrailingBytes) {
		t.Fatalf("later failures leaked into %v", err)
	}
	if d.Offset() != 0 {
		t.Fatalf("offset moved to %d after failure", d.Offset())
	}
}

func TestDecoderFixedLeavesDestinationOnFailure(t *testing.T) {
	dst := []byte{9, 9, 9}
	d := NewDecoder("sample", []byte{1, 2}, 8)
	d.Fixed("Key", dst)
	if !bytes.Equal(dst, []byte{9, 9, 9}) || d.Err() == nil {
		t.Fatalf("dst %v err %v", dst, d.Err())
	}
}

func TestDecoderBytesAliasesInputWithClippedCapacity(t *testing.T) {
	in := []byte{0, 0, 0, 2, 'a', 'b', 'c'}
	d := NewDecoder("sample", in, len(in))
	got := d.Bytes("Method", 8)
	if &got[0] != &in[4] {
		t.Fatal("Bytes copied instead of aliasing the input")
	}
	if cap(got) != 2 {
		t.Fatalf("cap = %d, want 2: appending would overwrite the input", cap(got))
	}
	_ = append(got, 'X')
	if in[6] != 'c' {
		t.Fatal("appending to a decoded field overwrote the input")
	}
}

// TestPrimitivesRoundTrip checks with random sequences of fields that the
// decoder reads back exactly what the encoder wrote and consumes all of it.
func TestPrimitivesRoundTrip(t *testing.T) {
	type field struct {
		kind  int
		value uint64
		bytes []byte
	}
	rapid.Check(t, func(t *rapid.T) {
		fields := rapid.SliceOf(rapid.Custom(func(t *rapid.T) field {
			return field{
				kind:  rapid.IntRange(0, 6).Draw(t, "kind"),
				value: rapid.Uint64().Draw(t, "value"),
				bytes: rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "bytes"),
			}
		})).Draw(t, "fields")
		var e Encoder
		for _, f := range fields {
			switch f.kind {
			case 0:
				e.AppendUint8(uint8(f.value))
			case 1:
				e.AppendUint16(uint16(f.value))
			case 2:
				e.AppendUint32(uint32(f.value))
			case 3:
				e.AppendUint64(f.value)
			case 4:
				e.AppendBool(f.value&1 == 1)
			case 5:
				e.AppendFixed(f.bytes)
			case 6:
				e.AppendBytes(f.bytes)
			}
		}
		in := e.Bytes()
		d := NewDecoder("sample", in, len(in))
		for i, f := range fields {
			var ok bool
			switch f.kind {
			case 0:
				ok = d.Uint8("f") == uint8(f.value)
			case 1:
				ok = d.Uint16("f") == uint16(f.value)
			case 2:
				ok = d.Uint32("f") == uint32(f.value)
			case 3:
				ok = d.Uint64("f") == f.value
			case 4:
				ok = d.Bool("f") == (f.value&1 == 1)
			case 5:
				got := make([]byte, len(f.bytes))
				d.Fixed("f", got)
				ok = bytes.Equal(got, f.bytes)
			case 6:
				ok = bytes.Equal(d.Bytes("f", 40), f.bytes)
			}
			if !ok {
				t.Fatalf("field %d (kind %d) read back differently", i, f.kind)
			}
		}
		if err := d.Finish(); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkDecoderFields(b *testing.B) {
	var e Encoder
	e.AppendUint32(1)
	e.AppendUint64(2)
	e.AppendBool(true)
	e.AppendBytes(make([]byte, 100))
	in := e.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		d := NewDecoder("sample", in, len(in))
		d.Uint32("a")
		d.Uint64("b")
		d.Bool("c")
		d.Bytes("d", 100)
		if err := d.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncoderFields(b *testing.B) {
	payload := make([]byte, 100)
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		e := NewEncoder(buf[:0], 117)
		e.AppendUint32(1)
		e.AppendUint64(2)
		e.AppendBool(true)
		e.AppendBytes(payload)
		buf = e.Bytes()
	}
}
