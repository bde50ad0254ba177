package netq

import (
	"errors"
	"fmt"
	"math"
)

// Defaults of Limits, sized for the 1-core / 2 GB profile: a peer's two
// queues hold at most 2 x 8 MiB, and the largest message (a block with its
// relay messages) fits a frame.
const (
	DefaultMaxFrameSize    = 4 << 20
	DefaultQueueMessages   = 1024
	DefaultQueueBytes      = 8 << 20
	DefaultInboundMessages = 1024
)

// Limits bounds what a transport buffers. Both twins read the same struct,
// so a test over memnet exercises the limits production runs with.
type Limits struct {
	// MaxFrameSize is the largest message, in bytes, sent or accepted.
	MaxFrameSize int
	// QueueMessages bounds each of a peer's two send queues (reliable and
	// best-effort), in messages.
	QueueMessages int
	// QueueBytes bounds each of a peer's two send queues, in payload bytes.
	// A message larger than this is still accepted into an empty queue.
	QueueBytes int
	// InboundMessages is the capacity of the Receive channel.
	InboundMessages int
}

// DefaultLimits returns the production defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxFrameSize:    DefaultMaxFrameSize,
		QueueMessages:   DefaultQueueMessages,
		QueueBytes:      DefaultQueueBytes,
		InboundMessages: DefaultInboundMessages,
	}
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFrameSize == 0 {
		l.MaxFrameSize = d.MaxFrameSize
	}
	if l.QueueMessages == 0 {
		l.QueueMessages = d.QueueMessages
	}
	if l.QueueBytes == 0 {
		l.QueueBytes = d.QueueBytes
	}
	if l.InboundMessages == 0 {
		l.InboundMessages = d.InboundMessages
	}
	return l
}

// Validate reports every problem of l at once. Zero fields are problems:
// call WithDefaults first.
func (l Limits) Validate() error {
	var errs []error
	if l.MaxFrameSize <= 0 || uint64(l.MaxFrameSize) > math.MaxUint32 {
		errs = append(errs, fmt.Errorf("max frame size %d: must be in [1, %d]", l.MaxFrameSize, uint64(math.MaxUint32)))
	}
	if l.QueueMessages <= 0 {
		errs = append(errs, fmt.Errorf("queue messages %d: must be positive", l.QueueMessages))
	}
	if l.QueueBytes <= 0 {
		errs = append(errs, fmt.Errorf("queue bytes %d: must be positive", l.QueueBytes))
	}
	if l.InboundMessages < 0 {
		errs = append(errs, fmt.Errorf("inbound messages %d: must not be negative", l.InboundMessages))
	}
	return errors.Join(errs...)
}
