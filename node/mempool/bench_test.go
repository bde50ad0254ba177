package mempool

import (
	"fmt"
	"testing"

	"github.com/thinkey/thinkey/node/types"
)

// BenchmarkAdd admits batches of 256 signed messages into an empty pool:
// stateless checks, nonce reads, one batch verification, insertion. The
// "bad" case has one corrupt signature per batch, which makes the batch
// fall back to checking each entry. msgs/s is the admission rate.
func BenchmarkAdd(b *testing.B) {
	const batchSize = 256
	for _, bad := range []bool{false, true} {
		b.Run(fmt.Sprintf("batch=%d/bad=%v", batchSize, bad), func(b *testing.B) {
			msgs := make([]types.Message, batchSize)
			for i := range msgs {
				// 64 senders, 4 consecutive nonces each.
				msgs[i] = transfer(testKey(i%64), uint64(i/64), 0)
			}
			if bad {
				msgs[batchSize/2].Signature[7] ^= 1
			}
			ids := make([]types.Hash, batchSize)
			for i := range msgs {
				ids[i] = msgs[i].ID()
			}
			p := newTestPool(b, Config{MaxMessages: batchSize, MaxPerSender: 4}, newNonceMap())
			rnd := seeded(1)
			b.ReportAllocs()
			for b.Loop() {
				results := p.Add(msgs, rnd)
				if results[0].Err != nil {
					b.Fatal(results[0].Err)
				}
				b.StopTimer()
				p.Remove(ids) // the pool is reused, as in a node
				b.StartTimer()
			}
			b.ReportMetric(float64(batchSize*b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkReap selects a block of 4000 messages from a pool of 20000
// pending messages of 5000 senders.
func BenchmarkReap(b *testing.B) {
	const senders, perSender, block = 5000, 4, 4000
	p := newTestPool(b, Config{MaxMessages: senders * perSender, MaxPerSender: perSender}, newNonceMap())
	// Insert directly: signing 20000 messages would dominate the setup.
	for i := range senders * perSender {
		var m types.Message
		m.Kind = types.MessageExternal
		m.From[0], m.From[1] = byte(i%senders), byte(i%senders>>8)
		m.Nonce = uint64(i / senders)
		p.insert(&m, types.Hash{byte(i), byte(i >> 8), byte(i >> 16)}, 0)
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := p.Reap(block); len(got) != block {
			b.Fatalf("reaped %d", len(got))
		}
	}
}
