package netq_test

import (
	"strings"
	"testing"

	"github.com/thinkey/thinkey/netq"
)

func TestLimits(t *testing.T) {
	if err := netq.DefaultLimits().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if got := (netq.Limits{}).WithDefaults(); got != netq.DefaultLimits() {
		t.Fatalf("zero limits with defaults = %+v", got)
	}
	custom := netq.Limits{MaxFrameSize: 10}.WithDefaults()
	if custom.MaxFrameSize != 10 || custom.QueueMessages != netq.DefaultQueueMessages {
		t.Fatalf("WithDefaults overrode a set field or missed a zero one: %+v", custom)
	}
	for _, tc := range []struct {
		name   string
		limits netq.Limits
		want   []string
	}{
		{"zero frame size", netq.Limits{QueueMessages: 1, QueueBytes: 1}, []string{"max frame size"}},
		{"frame size over u32", netq.Limits{MaxFrameSize: 1 << 33, QueueMessages: 1, QueueBytes: 1}, []string{"max frame size"}},
		{"everything wrong", netq.Limits{MaxFrameSize: -1, QueueMessages: -1, QueueBytes: 0, InboundMessages: -1},
			[]string{"max frame size", "queue messages", "queue bytes", "inbound messages"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.limits.Validate()
			if err == nil {
				t.Fatal("Validate accepted invalid limits")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
