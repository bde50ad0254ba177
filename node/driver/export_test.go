package driver

import (
	"time"

	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// SetRelayLimits lowers the relay loop's bounds (relayLimits): at most held
// packages in memory, reads heights read back per step, resendMax the
// longest wait between two sends of a package. Call it before any node
// starts and call the function it returns once every node has stopped.
func SetRelayLimits(held, reads int, resendMax time.Duration) (restore func()) {
	old := relayLimits
	relayLimits.held, relayLimits.reads, relayLimits.resendMax = held, reads, resendMax
	return func() { relayLimits = old }
}

// DeliveryMark returns the delivery mark stored for chain toward dest; ok
// is false when none was written.
func DeliveryMark(db *storage.DB, chain, dest types.ChainID) (mark types.Height, ok bool, err error) {
	marks, err := readDeliveryMarks(db, chain, []types.ChainID{dest})
	mark, ok = marks[dest]
	return mark, ok, err
}
