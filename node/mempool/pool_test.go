package mempool

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/types"
)

// smallOrderKey is the encoding of the identity point (y = 1): a public key
// of order 1, under which every signature verifies.
var smallOrderKey = [types.Ed25519PublicKeySize]byte{1}

func TestAddAdmissionRules(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	const aliceNonce = 5 // alice's committed nonce in every case

	tests := []struct {
		name string
		cfg  func(*Config)
		// before is admitted first (it must be accepted).
		before []types.Message
		// failNonce makes the nonce source fail for alice.
		failNonce bool
		msgs      []types.Message
		// want holds the sentinel each of msgs must be refused with; nil
		// means admitted.
		want []error
	}{
		{
			name: "valid message",
			msgs: []types.Message{transfer(alice, aliceNonce, 0)},
			want: []error{nil},
		},
		{
			name: "relay kind",
			msgs: []types.Message{func() types.Message {
				m := transfer(alice, aliceNonce, 0)
				m.Kind, m.Cause = types.MessageOuterRelay, types.Hash{1}
				return m
			}()},
			want: []error{ErrInvalid},
		},
		{
			name: "method not an identifier",
			msgs: []types.Message{func() types.Message {
				m := transfer(alice, aliceNonce, 0)
				m.Method = []byte("9lives")
				resign(&m, alice)
				return m
			}()},
			want: []error{ErrInvalid},
		},
		{
			name: "unencodable args",
			msgs: []types.Message{func() types.Message {
				m := transfer(alice, aliceNonce, 0)
				m.Args = make([]byte, types.MaxArgsLen+1)
				return m
			}()},
			want: []error{ErrInvalid},
		},
		{
			name: "external message carrying value",
			msgs: []types.Message{func() types.Message {
				m := transfer(alice, aliceNonce, 0)
				m.Value = 7
				resign(&m, alice)
				return m
			}()},
			want: []error{ErrInvalid},
		},
		{
			name: "external message to another account",
			msgs: []types.Message{func() types.Message {
				m := transfer(alice, aliceNonce, 0)
				m.To = addrOf(bob)
				resign(&m, alice)
				return m
			}()},
			want: []error{ErrInvalid},
		},
		{
			name: "small-order sender key",
			msgs: []types.Message{func() types.Message {
				m := transfer(alice, aliceNonce, 0)
				m.SenderKey = smallOrderKey
				m.From = actor.AddressFromPublicKey(smallOrderKey)
				m.To = m.From
				m.Signature = [types.Ed25519SignatureSize]byte{1} // R = identity, S = 0
				return m
			}()},
			want: []error{ErrSmallOrderKey},
		},
		{
			name: "sender address not derived from the key",
			msgs: []types.Message{func() types.Message {
				m := transfer(alice, aliceNonce, 0)
				m.From, m.To = addrOf(bob), addrOf(bob)
				resign(&m, alice)
				return m
			}()},
			want: []error{ErrSenderMismatch},
		},
		{
			name: "bad signature",
			msgs: []types.Message{func() types.Message {
				m := transfer(alice, aliceNonce, 0)
				m.Signature[10] ^= 0x40
				return m
			}()},
			want: []error{ErrBadSignature},
		},
		{
			name: "signature by another key",
			msgs: []types.Message{func() types.Message {
				m := transfer(alice, aliceNonce, 0)
				resign(&m, bob)
				return m
			}()},
			want: []error{ErrBadSignature},
		},
		{
			name:   "duplicate of a pending message",
			before: []types.Message{transfer(alice, aliceNonce, 0)},
			msgs:   []types.Message{transfer(alice, aliceNonce, 0)},
			want:   []error{ErrDuplicate},
		},
		{
			name: "duplicate within one call",
			msgs: []types.Message{transfer(alice, aliceNonce, 0), transfer(alice, aliceNonce, 0)},
			want: []error{nil, ErrDuplicate},
		},
		{
			name: "nonce below the committed nonce",
			msgs: []types.Message{transfer(alice, aliceNonce-1, 0)},
			want: []error{ErrNonceTooLow},
		},
		{
			name: "nonce at the end of the window",
			msgs: []types.Message{transfer(alice, aliceNonce+7, 0)},
			want: []error{nil},
		},
		{
			name: "nonce beyond the window",
			msgs: []types.Message{transfer(alice, aliceNonce+8, 0)},
			want: []error{ErrNonceGap},
		},
		{
			name: "nonce beyond an explicit window",
			cfg:  func(c *Config) { c.NonceWindow = 2 },
			msgs: []types.Message{transfer(alice, aliceNonce+1, 0), transfer(alice, aliceNonce+2, 0)},
			want: []error{nil, ErrNonceGap},
		},
		{
			name:   "nonce taken by another pending message",
			before: []types.Message{transfer(alice, aliceNonce, 0)},
			msgs:   []types.Message{transfer(alice, aliceNonce, 1)},
			want:   []error{ErrNonceConflict},
		},
		{
			name: "nonce taken within one call",
			msgs: []types.Message{transfer(alice, aliceNonce, 0), transfer(alice, aliceNonce, 1)},
			want: []error{nil, ErrNonceConflict},
		},
		{
			name:   "sender full",
			cfg:    func(c *Config) { c.MaxPerSender, c.NonceWindow = 2, 8 },
			before: []types.Message{transfer(alice, aliceNonce, 0), transfer(alice, aliceNonce+1, 0)},
			msgs:   []types.Message{transfer(alice, aliceNonce+2, 0), transfer(bob, 0, 0)},
			want:   []error{ErrSenderFull, nil},
		},
		{
			name: "sender full within one call",
			cfg:  func(c *Config) { c.MaxPerSender, c.NonceWindow = 2, 8 },
			msgs: []types.Message{transfer(alice, aliceNonce, 0), transfer(alice, aliceNonce+1, 0), transfer(alice, aliceNonce+2, 0)},
			want: []error{nil, nil, ErrSenderFull},
		},
		{
			name:   "pool full",
			cfg:    func(c *Config) { c.MaxMessages, c.MaxPerSender = 2, 2 },
			before: []types.Message{transfer(alice, aliceNonce, 0)},
			msgs:   []types.Message{transfer(bob, 0, 0), transfer(testKey(3), 0, 0)},
			want:   []error{nil, ErrPoolFull},
		},
		{
			name:      "nonce source fails",
			failNonce: true,
			msgs:      []types.Message{transfer(alice, aliceNonce, 0), transfer(bob, 0, 0)},
			want:      []error{ErrNonceUnavailable, nil},
		},
		{
			name: "one bad signature in a batch refuses only its message",
			msgs: func() []types.Message {
				var msgs []types.Message
				for i := range 6 {
					msgs = append(msgs, transfer(testKey(10+i), 0, 0))
				}
				msgs[3].Signature[0] ^= 1
				return msgs
			}(),
			want: []error{nil, nil, nil, ErrBadSignature, nil, nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			src := newNonceMap()
			src.set(addrOf(alice), aliceNonce)
			p := newTestPool(t, cfg, src)
			mustAdmit(t, p, tc.before...)
			if tc.failNonce {
				src.fail[addrOf(alice)] = errStorage
			}
			before := p.Len()
			results := p.Add(tc.msgs, seeded(7))
			if len(results) != len(tc.msgs) {
				t.Fatalf("%d results for %d messages", len(results), len(tc.msgs))
			}
			admitted := 0
			for i, r := range results {
				if tc.want[i] == nil {
					if r.Err != nil {
						t.Errorf("message %d: refused with %v, want admitted", i, r.Err)
					}
					admitted++
				} else if !errors.Is(r.Err, tc.want[i]) {
					t.Errorf("message %d: got %v, want %v", i, r.Err, tc.want[i])
				} else if Reason(r.Err) == ReasonOther || Reason(r.Err) == "" {
					t.Errorf("message %d: error %v has no reason name", i, r.Err)
				}
				if encodable(&tc.msgs[i]) && r.ID != tc.msgs[i].ID() {
					t.Errorf("message %d: result ID %v, want %v", i, r.ID, tc.msgs[i].ID())
				}
				// A duplicate's ID is pending: the first copy's.
				st := p.Status(r.ID)
				if (r.Err == nil || errors.Is(r.Err, ErrDuplicate)) != (st.State == StatePending) {
					t.Errorf("message %d: status %v after verdict %v", i, st.State, r.Err)
				}
			}
			if got := p.Len(); got != before+admitted {
				t.Errorf("Len %d, want %d", got, before+admitted)
			}
			checkInvariants(t, p)
		})
	}
}

func TestAddKeepsClones(t *testing.T) {
	k := testKey(1)
	p := newTestPool(t, testConfig(), newNonceMap())
	m := transfer(k, 0, 0)
	id := m.ID()
	msgs := []types.Message{m}
	mustAdmit(t, p, msgs...)
	msgs[0].Args[0] ^= 0xff // the caller reuses its buffer
	got := p.Reap(1)
	if len(got) != 1 || got[0].ID() != id {
		t.Fatalf("pool's copy changed with the caller's buffer")
	}
}

func TestReapOrder(t *testing.T) {
	a, b, c := testKey(1), testKey(2), testKey(3)
	src := newNonceMap()
	src.set(addrOf(c), 3)
	p := newTestPool(t, testConfig(), src)
	// Arrival: a1, b0, a0, c4 (gap: c is at 3), a2, c3.
	for _, m := range []types.Message{
		transfer(a, 1, 0), transfer(b, 0, 0), transfer(a, 0, 0), transfer(c, 4, 0), transfer(a, 2, 0), transfer(c, 3, 0),
	} {
		mustAdmit(t, p, m)
	}
	type sn struct {
		who   string
		nonce uint64
	}
	names := map[types.Address]string{addrOf(a): "a", addrOf(b): "b", addrOf(c): "c"}
	got := p.Reap(100)
	var order []sn
	for _, m := range got {
		order = append(order, sn{names[m.From], m.Nonce})
	}
	// b0 is the earliest head; then a's head a0 (arrived before c3), then
	// a1 (arrived first of all), a2, then c3, c4.
	want := []sn{{"b", 0}, {"a", 0}, {"a", 1}, {"a", 2}, {"c", 3}, {"c", 4}}
	if !slices.Equal(order, want) {
		t.Fatalf("reap order %v, want %v", order, want)
	}
	checkReap(t, p, got)
	if p.Len() != 6 {
		t.Fatalf("Reap removed messages: Len %d", p.Len())
	}
	if again := p.Reap(100); !slices.EqualFunc(got, again, func(x, y types.Message) bool { return x.ID() == y.ID() }) {
		t.Fatalf("second Reap differs")
	}
	if short := p.Reap(3); len(short) != 3 || short[2].ID() != got[2].ID() {
		t.Fatalf("Reap(3) is not the prefix of Reap(100)")
	}
	if p.Reap(0) != nil || p.Reap(-1) != nil {
		t.Fatalf("Reap of no messages returned some")
	}
}

func TestReapStopsAtGap(t *testing.T) {
	a := testKey(1)
	p := newTestPool(t, testConfig(), newNonceMap())
	mustAdmit(t, p, transfer(a, 0, 0), transfer(a, 1, 0), transfer(a, 3, 0))
	if got := p.Reap(10); len(got) != 2 || got[1].Nonce != 1 {
		t.Fatalf("reap over a gap: %d messages", len(got))
	}
	mustAdmit(t, p, transfer(a, 2, 0))
	if got := p.Reap(10); len(got) != 4 {
		t.Fatalf("gap filled: reap returned %d, want 4", len(got))
	}
}

func TestUpdate(t *testing.T) {
	a, b := testKey(1), testKey(2)
	src := newNonceMap()
	p := newTestPool(t, testConfig(), src)
	a0, a1, a2 := transfer(a, 0, 0), transfer(a, 1, 0), transfer(a, 2, 0)
	b0 := transfer(b, 0, 0)
	mustAdmit(t, p, a0, a1, a2, b0)

	// A block commits a0 and another message of a with nonce 1 (from another
	// node's pool): a1 is now stale.
	other1 := transfer(a, 1, 9)
	src.set(addrOf(a), 2)
	p.Update([]types.Message{a0, other1}, src)

	if st := p.Status(a0.ID()); st.State != StateUnknown {
		t.Errorf("included message: status %v, want unknown (the chain knows it)", st.State)
	}
	st := p.Status(a1.ID())
	if st.State != StateDropped || !errors.Is(st.Reason, ErrNonceTooLow) {
		t.Errorf("stale message: status %v %v, want dropped for nonce_too_low", st.State, st.Reason)
	}
	if st := p.Status(a2.ID()); st.State != StatePending {
		t.Errorf("a2: status %v, want pending", st.State)
	}
	got := p.Reap(10)
	if len(got) != 2 {
		t.Fatalf("reap after update: %d messages, want a2 and b0", len(got))
	}
	checkReap(t, p, got)
	checkInvariants(t, p)

	// Resubmitting a committed message is refused for its nonce.
	if r := p.Add([]types.Message{a0}, seeded(1)); !errors.Is(r[0].Err, ErrNonceTooLow) {
		t.Fatalf("replay of a committed message: %v, want ErrNonceTooLow", r[0].Err)
	}
}

func TestUpdateWithLaggingSource(t *testing.T) {
	a := testKey(1)
	src := newNonceMap()
	p := newTestPool(t, testConfig(), src)
	a0, a1 := transfer(a, 0, 0), transfer(a, 1, 0)
	mustAdmit(t, p, a0, a1)
	other0 := transfer(a, 0, 5)
	// The source still says 0 (it lags the block); the block itself proves
	// nonce 0 was consumed.
	p.Update([]types.Message{other0}, nil)
	if st := p.Status(a0.ID()); st.State != StateDropped {
		t.Fatalf("message whose nonce the block consumed: status %v, want dropped", st.State)
	}
	if got := p.Reap(10); len(got) != 1 || got[0].ID() != a1.ID() {
		t.Fatalf("reap after update: %v", got)
	}
}

// An Update that lands while Add reads nonces must not let Add insert a
// message the committed block made stale.
func TestUpdateDuringAdd(t *testing.T) {
	a := testKey(1)
	src := newNonceMap()
	p := newTestPool(t, testConfig(), src)
	mine := transfer(a, 0, 0)
	theirs := transfer(a, 0, 1)
	src.onRead = func() {
		src.set(addrOf(a), 1)
		p.Update([]types.Message{theirs}, src)
	}
	r := p.Add([]types.Message{mine}, seeded(1))
	if !errors.Is(r[0].Err, ErrNonceTooLow) {
		t.Fatalf("message made stale during Add: %v, want ErrNonceTooLow", r[0].Err)
	}
	if p.Len() != 0 {
		t.Fatalf("pool holds %d messages", p.Len())
	}
}

func TestRemoveAndDrop(t *testing.T) {
	a, b := testKey(1), testKey(2)
	p := newTestPool(t, testConfig(), newNonceMap())
	a0, a1, b0 := transfer(a, 0, 0), transfer(a, 1, 0), transfer(b, 0, 0)
	mustAdmit(t, p, a0, a1, b0)
	if n := p.Remove([]types.Hash{a0.ID(), {9}}); n != 1 {
		t.Fatalf("Remove: %d, want 1", n)
	}
	if st := p.Status(a0.ID()); st.State != StateUnknown {
		t.Fatalf("removed message: %v", st.State)
	}
	reason := errors.New("execution refused it")
	if n := p.Drop([]types.Hash{b0.ID(), b0.ID()}, reason); n != 1 {
		t.Fatalf("Drop: %d, want 1", n)
	}
	if st := p.Status(b0.ID()); st.State != StateDropped || !errors.Is(st.Reason, reason) {
		t.Fatalf("dropped message: %v %v", st.State, st.Reason)
	}
	// a1 is left with a gap below it (a0 removed, a's nonce still 0).
	if got := p.Reap(10); len(got) != 0 {
		t.Fatalf("reap over a removed nonce returned %d", len(got))
	}
	checkInvariants(t, p)
	// A dropped message can be submitted again.
	mustAdmit(t, p, b0)
	if st := p.Status(b0.ID()); st.State != StatePending {
		t.Fatalf("resubmitted message: %v", st.State)
	}
}

func TestDropRingForgetsOldest(t *testing.T) {
	p := newTestPool(t, Config{MaxMessages: 64, MaxPerSender: 8, RecentDrops: 2}, newNonceMap())
	var ids []types.Hash
	for i := range 3 {
		m := transfer(testKey(i), 0, 0)
		mustAdmit(t, p, m)
		ids = append(ids, m.ID())
		p.Drop([]types.Hash{m.ID()}, fmt.Errorf("drop %d", i))
	}
	if st := p.Status(ids[0]); st.State != StateUnknown {
		t.Fatalf("oldest drop still remembered: %v", st.State)
	}
	for _, id := range ids[1:] {
		if st := p.Status(id); st.State != StateDropped {
			t.Fatalf("recent drop forgotten: %v", st.State)
		}
	}
}

func TestConfig(t *testing.T) {
	c := FromConfig(config.Mempool{MaxMessages: 100, MaxPerSender: 10}, 3)
	if c.Chain != 3 || c.MaxMessages != 100 || c.MaxPerSender != 10 {
		t.Fatalf("FromConfig: %+v", c)
	}
	p := newTestPool(t, c, newNonceMap())
	if got := p.Config(); got.NonceWindow != 10 || got.RecentDrops != DefaultRecentDrops {
		t.Fatalf("defaults: %+v", got)
	}
	err := Config{MaxMessages: 0, MaxPerSender: 5, RecentDrops: -1}.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, field := range []string{"max_messages", "max_per_sender", "recent_drops"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("Validate does not report %s: %v", field, err)
		}
	}
	if _, err := New(testConfig(), nil, nil); err == nil {
		t.Fatal("nil NonceSource accepted")
	}
}

func TestReason(t *testing.T) {
	if Reason(nil) != "" {
		t.Fatal("Reason(nil) is not empty")
	}
	if Reason(errors.New("x")) != ReasonOther {
		t.Fatal("foreign error not named other")
	}
	seen := map[string]bool{}
	for _, r := range reasons {
		if got := Reason(fmt.Errorf("ctx: %w", r.err)); got != r.name {
			t.Errorf("Reason(%v) = %q, want %q", r.err, got, r.name)
		}
		if seen[r.name] {
			t.Errorf("reason %q named twice", r.name)
		}
		seen[r.name] = true
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	src := newNonceMap()
	p1, err := New(Config{Chain: 1, MaxMessages: 10, MaxPerSender: 4}, src, reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Chain: 2, MaxMessages: 10, MaxPerSender: 4}, src, reg); err != nil {
		t.Fatalf("second chain's pool on the same registry: %v", err)
	}
	if _, err := New(Config{Chain: 1, MaxMessages: 10, MaxPerSender: 4}, src, reg); err == nil {
		t.Fatal("two pools of one chain registered on one registry")
	}
	a := testKey(1)
	bad := transfer(a, 1, 0)
	bad.Signature[3] ^= 1
	p1.Add([]types.Message{transfer(a, 0, 0), bad, transfer(a, 0, 0)}, seeded(1))
	chain1 := map[string]string{"chain": "1"}
	if v := metricValue(t, reg, "thinkey_mempool_pending_messages", chain1); v != 1 {
		t.Errorf("pending gauge %v, want 1", v)
	}
	if v := metricValue(t, reg, "thinkey_mempool_admitted_total", chain1); v != 1 {
		t.Errorf("admitted %v, want 1", v)
	}
	for reason, want := range map[string]float64{"bad_signature": 1, "duplicate": 1, "pool_full": 0} {
		if v := metricValue(t, reg, "thinkey_mempool_rejected_total", map[string]string{"chain": "1", "reason": reason}); v != want {
			t.Errorf("rejected{%s} %v, want %v", reason, v, want)
		}
	}
	p1.Update([]types.Message{transfer(a, 0, 0)}, nil)
	if v := metricValue(t, reg, "thinkey_mempool_removed_total", map[string]string{"chain": "1", "reason": "included"}); v != 1 {
		t.Errorf("removed{included} %v, want 1", v)
	}
	if v := metricValue(t, reg, "thinkey_mempool_pending_messages", chain1); v != 0 {
		t.Errorf("pending gauge after update %v, want 0", v)
	}
}
