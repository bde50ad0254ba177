package mempool

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// nonceMap is a NonceSource over a map, safe for concurrent use.
type nonceMap struct {
	mu     sync.Mutex
	nonces map[types.Address]uint64
	fail   map[types.Address]error
	// onRead, when set, runs (once) at the first read; tests use it to land
	// an Update in the middle of an Add.
	onRead func()
}

func newNonceMap() *nonceMap {
	return &nonceMap{nonces: map[types.Address]uint64{}, fail: map[types.Address]error{}}
}

func (s *nonceMap) Nonce(addr types.Address) (uint64, error) {
	s.mu.Lock()
	hook := s.onRead
	s.onRead = nil
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail[addr]; err != nil {
		return 0, err
	}
	return s.nonces[addr], nil
}

func (s *nonceMap) set(addr types.Address, n uint64) {
	s.mu.Lock()
	s.nonces[addr] = n
	s.mu.Unlock()
}

// testKey returns the deterministic key number i.
func testKey(i int) ed25519.PrivateKey {
	var seed [ed25519.SeedSize]byte
	seed[0], seed[1], seed[31] = byte(i), byte(i>>8), 0x5e
	k, err := ed25519.NewKeyFromSeed(seed[:])
	if err != nil {
		panic(err)
	}
	return k
}

func addrOf(k ed25519.PrivateKey) types.Address { return actor.AddressFromPublicKey(k.Public()) }

// transfer returns a signed tran of key k with the given nonce; variant
// changes the bill so that two messages with the same nonce differ.
func transfer(k ed25519.PrivateKey, nonce uint64, variant uint64) types.Message {
	return actor.NewTransfer(k, nonce, types.Address{0xee}, 1+variant)
}

// resign signs m again with k after the test changed a field.
func resign(m *types.Message, k ed25519.PrivateKey) {
	m.Signature = [types.Ed25519SignatureSize]byte(ed25519.Sign(k, m.SigningBytes()))
}

func testConfig() Config { return Config{Chain: 1, MaxMessages: 64, MaxPerSender: 8} }

func newTestPool(t testing.TB, cfg Config, src NonceSource) *Pool {
	t.Helper()
	p, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seeded returns a deterministic random source for batch coefficients.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

func mustAdmit(t testing.TB, p *Pool, msgs ...types.Message) {
	t.Helper()
	for i, r := range p.Add(msgs, seeded(1)) {
		if r.Err != nil {
			t.Fatalf("message %d refused: %v", i, r.Err)
		}
	}
}

// failer is what the checks need of *testing.T and *rapid.T.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// checkInvariants asserts the pool's structural invariants.
func checkInvariants(t failer, p *Pool) {
	t.Helper()
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.byID) > p.cfg.MaxMessages {
		t.Fatalf("pool holds %d messages, maximum %d", len(p.byID), p.cfg.MaxMessages)
	}
	count := 0
	for from, q := range p.senders {
		if len(q.byNonce) == 0 {
			t.Fatalf("sender %v kept with no message", from)
		}
		if len(q.byNonce) > p.cfg.MaxPerSender {
			t.Fatalf("sender %v has %d pending, maximum %d", from, len(q.byNonce), p.cfg.MaxPerSender)
		}
		for nonce, e := range q.byNonce {
			if e.msg.From != from || e.msg.Nonce != nonce {
				t.Fatalf("entry %v filed under %v/%d", e.id, from, nonce)
			}
			if p.byID[e.id] != e {
				t.Fatalf("entry %v missing from the ID index", e.id)
			}
			count++
		}
	}
	if count != len(p.byID) {
		t.Fatalf("ID index holds %d, sender queues %d", len(p.byID), count)
	}
}

// checkReap asserts that out is a valid selection from p: pending messages,
// no ID twice, and per sender consecutive nonces from the committed nonce.
func checkReap(t failer, p *Pool, out []types.Message) {
	t.Helper()
	seen := map[types.Hash]bool{}
	next := map[types.Address]uint64{}
	p.mu.RLock()
	defer p.mu.RUnlock()
	for i := range out {
		m := &out[i]
		id := m.ID()
		if seen[id] {
			t.Fatalf("reap returned %v twice", id)
		}
		seen[id] = true
		if p.byID[id] == nil {
			t.Fatalf("reap returned %v, which is not pending", id)
		}
		want, ok := next[m.From]
		if !ok {
			want = p.senders[m.From].committed
		}
		if m.Nonce != want {
			t.Fatalf("reap returned nonce %d of %v, want %d (gap or disorder)", m.Nonce, m.From, want)
		}
		next[m.From] = want + 1
	}
}

// metricValue returns the value of the counter or gauge name with the given
// labels in reg.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelsMatch(m, labels) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue()
				case m.Gauge != nil:
					return m.Gauge.GetValue()
				}
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

var errStorage = errors.New("storage offline")
