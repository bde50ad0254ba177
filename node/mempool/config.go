package mempool

import (
	"errors"
	"fmt"

	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/types"
)

// DefaultRecentDrops is the number of dropped message IDs a pool remembers
// for Status when Config.RecentDrops is zero.
const DefaultRecentDrops = 4096

// Config bounds a pool. The zero values of NonceWindow and RecentDrops take
// their defaults; MaxMessages and MaxPerSender must be set.
type Config struct {
	// Chain is the chain whose messages the pool holds. It labels the
	// metrics, so that the pools of several chains share a registry; the
	// pool does not check it against addresses (the caller routes).
	Chain types.ChainID
	// MaxMessages bounds the pending messages; Add refuses more with
	// ErrPoolFull.
	MaxMessages int
	// MaxPerSender bounds the pending messages of one sender; Add refuses
	// more with ErrSenderFull.
	MaxPerSender int
	// NonceWindow bounds how far ahead of the account's committed nonce a
	// pending nonce may be: nonce - committed < NonceWindow, else
	// ErrNonceGap. Zero means MaxPerSender, the most a sender can have
	// pending anyway.
	NonceWindow uint64
	// RecentDrops is the number of dropped message IDs kept, with their
	// reason, for Status. Zero means DefaultRecentDrops.
	RecentDrops int
}

// FromConfig returns the pool configuration of chain from the node's
// [mempool] section.
func FromConfig(c config.Mempool, chain types.ChainID) Config {
	return Config{Chain: chain, MaxMessages: c.MaxMessages, MaxPerSender: c.MaxPerSender}
}

// withDefaults fills the zero fields that have defaults.
func (c Config) withDefaults() Config {
	if c.NonceWindow == 0 && c.MaxPerSender > 0 {
		c.NonceWindow = uint64(c.MaxPerSender)
	}
	if c.RecentDrops == 0 {
		c.RecentDrops = DefaultRecentDrops
	}
	return c
}

// Validate reports every problem of c (after defaults) at once.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.MaxMessages < 1 {
		errs = append(errs, fmt.Errorf("max_messages %d: must be at least 1", c.MaxMessages))
	}
	if c.MaxPerSender < 1 || c.MaxPerSender > c.MaxMessages {
		errs = append(errs, fmt.Errorf("max_per_sender %d: want between 1 and max_messages (%d)", c.MaxPerSender, c.MaxMessages))
	}
	if c.RecentDrops < 0 {
		errs = append(errs, fmt.Errorf("recent_drops %d: must not be negative", c.RecentDrops))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mempool config: %w", err)
	}
	return nil
}
