package mempool

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/types"
)

// messageCache signs each (sender, nonce, variant) once for the whole test:
// signing dominates the cost of the property otherwise.
type messageCache struct {
	keys []ed25519.PrivateKey
	msgs map[[3]uint64]types.Message
}

func newMessageCache(senders int) *messageCache {
	c := &messageCache{msgs: map[[3]uint64]types.Message{}}
	for i := range senders {
		c.keys = append(c.keys, testKey(100+i))
	}
	return c
}

func (c *messageCache) get(sender int, nonce, variant uint64) types.Message {
	k := [3]uint64{uint64(sender), nonce, variant}
	m, ok := c.msgs[k]
	if !ok {
		m = transfer(c.keys[sender], nonce, variant)
		c.msgs[k] = m
	}
	return m.Clone()
}

// poolModel is what the test knows independently of the pool.
type poolModel struct {
	committed map[types.Address]uint64
	pending   map[types.Hash]types.Message
}

func (m *poolModel) pendingOf(from types.Address) int {
	n := 0
	for _, msg := range m.pending {
		if msg.From == from {
			n++
		}
	}
	return n
}

// TestPropertyPool drives a pool with random submissions (valid, corrupt,
// duplicate, stale, gapped, conflicting), block commits and removals, and
// checks after every step that the bounds hold, that Reap never returns a
// gap, a stale nonce or a duplicate, and that every verdict is justified.
func TestPropertyPool(t *testing.T) {
	const senders = 5
	cache := newMessageCache(senders)
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{
			MaxMessages:  rapid.IntRange(1, 24).Draw(rt, "maxMessages"),
			MaxPerSender: 1,
			NonceWindow:  uint64(rapid.IntRange(0, 6).Draw(rt, "window")),
		}
		cfg.MaxPerSender = rapid.IntRange(1, cfg.MaxMessages).Draw(rt, "maxPerSender")
		src := newNonceMap()
		p, err := New(cfg, src, prometheus.NewRegistry())
		if err != nil {
			rt.Fatal(err)
		}
		window := p.Config().NonceWindow
		model := &poolModel{committed: map[types.Address]uint64{}, pending: map[types.Hash]types.Message{}}
		var submitted []types.Message // for resubmissions

		rt.Repeat(map[string]func(*rapid.T){
			"add": func(rt *rapid.T) {
				n := rapid.IntRange(1, 8).Draw(rt, "n")
				msgs := make([]types.Message, 0, n)
				corrupt := map[int]bool{}
				for i := range n {
					if len(submitted) > 0 && rapid.IntRange(0, 4).Draw(rt, "resubmit") == 0 {
						msgs = append(msgs, submitted[rapid.IntRange(0, len(submitted)-1).Draw(rt, "which")].Clone())
						continue
					}
					s := rapid.IntRange(0, senders-1).Draw(rt, "sender")
					base := model.committed[addrOf(cache.keys[s])]
					offset := rapid.IntRange(-1, int(window)+1).Draw(rt, "offset")
					if offset < 0 && base == 0 {
						offset = 0
					}
					m := cache.get(s, uint64(int(base)+offset), uint64(rapid.IntRange(0, 1).Draw(rt, "variant")))
					if rapid.IntRange(0, 5).Draw(rt, "corrupt") == 0 {
						m.Signature[5] ^= 0x10
						corrupt[i] = true
					}
					msgs = append(msgs, m)
				}
				results := p.Add(msgs, seeded(uint64(len(submitted))))
				callIDs := map[types.Hash]bool{}
				callPerSender := map[types.Address]int{}
				callTotal := 0
				for i, r := range results {
					m := &msgs[i]
					committed := model.committed[m.From]
					_, wasPending := model.pending[r.ID]
					justified := true
					switch {
					case r.Err == nil:
						justified = !corrupt[i] && !wasPending && !callIDs[r.ID] &&
							m.Nonce >= committed && m.Nonce-committed < window
					case errors.Is(r.Err, ErrBadSignature):
						justified = corrupt[i]
					case errors.Is(r.Err, ErrDuplicate):
						justified = wasPending || callIDs[r.ID]
					case errors.Is(r.Err, ErrNonceTooLow):
						justified = m.Nonce < committed
					case errors.Is(r.Err, ErrNonceGap):
						justified = m.Nonce >= committed && m.Nonce-committed >= window
					case errors.Is(r.Err, ErrSenderFull):
						justified = model.pendingOf(m.From)+callPerSender[m.From] >= cfg.MaxPerSender
					case errors.Is(r.Err, ErrPoolFull):
						justified = len(model.pending)+callTotal >= cfg.MaxMessages
					case errors.Is(r.Err, ErrNonceConflict):
						justified = true // checked by the invariant: one message per nonce
					default:
						rt.Fatalf("message %d: unexpected error %v", i, r.Err)
					}
					if !justified {
						rt.Fatalf("message %d (nonce %d, account at %d, corrupt %v): verdict %v not justified", i, m.Nonce, committed, corrupt[i], r.Err)
					}
					if r.Err == nil || errors.Is(r.Err, ErrBadSignature) || errors.Is(r.Err, ErrNonceConflict) {
						// These took a reservation before verification.
						callIDs[r.ID] = true
						callPerSender[m.From]++
						callTotal++
					}
				}
				for i, r := range results {
					if r.Err == nil {
						model.pending[r.ID] = msgs[i]
						submitted = append(submitted, msgs[i])
					}
				}
			},
			"commit": func(rt *rapid.T) {
				// Commit a prefix of what Reap offers, as a block would.
				out := p.Reap(rapid.IntRange(0, 10).Draw(rt, "reap"))
				block := out[:rapid.IntRange(0, len(out)).Draw(rt, "commit")]
				for _, m := range block {
					model.committed[m.From] = m.Nonce + 1
					src.set(m.From, m.Nonce+1)
					delete(model.pending, m.ID())
				}
				p.Update(block, src)
				for id, m := range model.pending {
					if m.Nonce < model.committed[m.From] {
						delete(model.pending, id)
					}
				}
			},
			"remove": func(rt *rapid.T) {
				for id := range model.pending {
					if p.Remove([]types.Hash{id}) != 1 {
						rt.Fatalf("Remove of pending %v removed nothing", id)
					}
					delete(model.pending, id)
					return
				}
			},
			"": func(rt *rapid.T) {
				checkInvariants(rt, p)
				if p.Len() != len(model.pending) {
					rt.Fatalf("pool holds %d, model %d", p.Len(), len(model.pending))
				}
				for id := range model.pending {
					if p.Status(id).State != StatePending {
						rt.Fatalf("%v admitted but not pending", id)
					}
				}
				checkReap(rt, p, p.Reap(cfg.MaxMessages))
			},
		})
	})
}
