package driver

import (
	"errors"
	"log/slog"

	"github.com/bits-and-blooms/bloom/v3"

	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// consumedIndex is the set of relay IDs a transaction chain's committed
// blocks consumed (relay.Consumed). The store holds the set: the consumed
// keys of the chain's state, written in the synced batch of the block
// that consumed them. In memory there are only Bloom filters over it, so
// the common question, a relay this chain has not consumed, is answered
// without a read; a filter hit is settled by reading the store. The set
// grows with every relay the chain ever consumed: a Go map of it costs
// about 52 bytes a relay (measured at 200,000), the filters 2 to 6 (the
// last stage is allocated whole; 3.75 at 200,000, TestConsumedIndexMemory).
//
// The filters grow in stages: stage i holds consumedFilterBase<<i IDs at a
// false-positive rate of consumedFilterFP/2^(i+1), so that the rate over
// all stages stays below consumedFilterFP however many relays the chain
// consumed. IDs added since the last durable commit (pending) are answered
// from memory, since the store does not hold them yet.
//
// Reads may run concurrently; add and settle run under the txApp's write
// lock, as the map they replace did.
type consumedIndex struct {
	db    *storage.DB
	chain uint32
	log   *slog.Logger
	// base and fp are consumedFilterBase and consumedFilterFP, smaller in
	// tests to force stages and false positives.
	base uint
	fp   float64

	stages  []*bloom.BloomFilter
	inLast  uint // IDs in the last stage
	pending map[types.Hash]struct{}
	size    uint // IDs added
}

// Sizing of the consumed index's filters.
const (
	consumedFilterBase = 1 << 16
	consumedFilterFP   = 0.01
)

func newConsumedIndex(db *storage.DB, chain types.ChainID, log *slog.Logger) *consumedIndex {
	return &consumedIndex{
		db: db, chain: uint32(chain), log: log,
		base: consumedFilterBase, fp: consumedFilterFP,
		pending: make(map[types.Hash]struct{}),
	}
}

// load adds an ID found in the store at startup: it is durable already.
func (x *consumedIndex) load(id types.Hash) { x.filter(id) }

// add adds an ID a block being committed consumed; it is pending until
// settle, once the block's batch is durable.
func (x *consumedIndex) add(id types.Hash) {
	x.filter(id)
	x.pending[id] = struct{}{}
}

func (x *consumedIndex) filter(id types.Hash) {
	if len(x.stages) == 0 || x.inLast >= x.base<<(len(x.stages)-1) {
		i := len(x.stages)
		x.stages = append(x.stages, bloom.NewWithEstimates(x.base<<i, x.fp/float64(uint(2)<<i)))
		x.inLast = 0
	}
	x.stages[len(x.stages)-1].Add(id[:])
	x.inLast++
	x.size++
}

// settle forgets the pending IDs: the store now holds them.
func (x *consumedIndex) settle() { clear(x.pending) }

// Consumed implements relay.Consumed. A store error other than a missing
// key answers true: refusing a relay only delays it, consuming it twice
// would break exactly-once.
func (x *consumedIndex) Consumed(id types.Hash) bool {
	if _, ok := x.pending[id]; ok {
		return true
	}
	if !x.maybe(id) {
		return false
	}
	_, err := x.db.State().Get(x.chain, consumedStoreKey(id))
	switch {
	case err == nil:
		return true
	case errors.Is(err, storage.ErrNotFound):
		return false
	default:
		x.log.Error("read the consumed relay set; the relay counts as consumed", "relay", id, "err", err)
		return true
	}
}

// maybe reports whether a filter holds id: false is certain.
func (x *consumedIndex) maybe(id types.Hash) bool {
	for _, s := range x.stages {
		if s.Test(id[:]) {
			return true
		}
	}
	return false
}

// memoryBytes returns the filters' size.
func (x *consumedIndex) memoryBytes() uint {
	var bits uint
	for _, s := range x.stages {
		bits += s.Cap()
	}
	return bits / 8
}
