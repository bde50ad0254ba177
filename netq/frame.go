package netq

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// FrameHeaderSize is the length of the frame header: the payload length as
// an unsigned 32-bit big-endian integer.
const FrameHeaderSize = 4

// initialPayloadAlloc bounds the first allocation of a payload. Larger
// payloads grow geometrically as their bytes arrive, so a peer that only
// announces a large frame commits little of the receiver's memory.
const initialPayloadAlloc = 64 << 10

// PutFrameHeader writes the header of a payload of n bytes into hdr. It
// fails, wrapping ErrFrameTooLarge, when n exceeds maxFrameSize or what the
// header can express.
func PutFrameHeader(hdr *[FrameHeaderSize]byte, n, maxFrameSize int) error {
	if n < 0 || n > maxFrameSize || uint64(n) > math.MaxUint32 {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, maxFrameSize)
	}
	binary.BigEndian.PutUint32(hdr[:], uint32(n))
	return nil
}

// AppendFrame appends the frame of payload (header, then payload) to dst.
func AppendFrame(dst, payload []byte, maxFrameSize int) ([]byte, error) {
	var hdr [FrameHeaderSize]byte
	if err := PutFrameHeader(&hdr, len(payload), maxFrameSize); err != nil {
		return dst, err
	}
	return append(append(dst, hdr[:]...), payload...), nil
}

// WriteFrame writes the frame of payload to w. Callers that write many small
// frames pass a bufio.Writer and flush when they have nothing more to send.
func WriteFrame(w io.Writer, payload []byte, maxFrameSize int) error {
	var hdr [FrameHeaderSize]byte
	if err := PutFrameHeader(&hdr, len(payload), maxFrameSize); err != nil {
		return err
	}
	if _, err := w.Write(hdr[:]); err != nil {
		return fmt.Errorf("write frame header: %w", err)
	}
	if _, err := w.Write(payload); err != nil {
		return fmt.Errorf("write frame payload: %w", err)
	}
	return nil
}

// ReadFrame reads one frame from r and returns its payload, which the
// caller owns. It returns io.EOF, unwrapped, when r ends cleanly before a
// header (the sender closed the stream between frames); a stream that ends
// inside a frame yields an error wrapping io.ErrUnexpectedEOF; a header
// announcing more than maxFrameSize bytes yields an error wrapping
// ErrFrameTooLarge, before any of the payload is read or allocated.
func ReadFrame(r io.Reader, maxFrameSize int) ([]byte, error) {
	var hdr [FrameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read frame header: %w", err)
	}
	n := uint64(binary.BigEndian.Uint32(hdr[:]))
	if maxFrameSize < 0 || n > uint64(maxFrameSize) {
		return nil, fmt.Errorf("%w: header announces %d bytes, limit %d", ErrFrameTooLarge, n, maxFrameSize)
	}
	payload, err := readPayload(r, int(n))
	if err != nil {
		return nil, fmt.Errorf("read frame payload of %d bytes: %w", n, err)
	}
	return payload, nil
}

// readPayload reads exactly n bytes, growing its buffer as data arrives.
func readPayload(r io.Reader, n int) ([]byte, error) {
	payload := make([]byte, 0, min(n, initialPayloadAlloc))
	for len(payload) < n {
		if len(payload) == cap(payload) {
			grown := make([]byte, len(payload), min(2*cap(payload), n))
			copy(grown, payload)
			payload = grown
		}
		start := len(payload)
		payload = payload[:cap(payload)]
		read, err := io.ReadFull(r, payload[start:])
		payload = payload[:start+read]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return payload, nil
}
