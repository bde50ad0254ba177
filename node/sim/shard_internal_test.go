package sim

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// TestShardCheckerCatchesDoubleConsumption makes every member of chain 2
// lose its consumed-relay set while a Byzantine leader replays consumed
// relays: the members then accept a replay, and the observer must report
// the broken exactly-once rule (and the value it creates).
func TestShardCheckerCatchesDoubleConsumption(t *testing.T) {
	cfg := DefaultShardConfig(2)
	cfg.Seed = 2
	cfg.Load.Cross = 1
	cfg.ReplayLeader = &ShardMemberID{Chain: 2, Member: 1}
	n, err := NewShardedNetwork(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for at := 3 * time.Second; at < 8*time.Second; at += 100 * time.Millisecond {
		n.world.Schedule(at, func() {
			for _, m := range n.byChain[2].members {
				clear(m.consumed)
			}
		})
	}
	err = n.Run(8 * time.Second)
	if !errors.Is(err, ErrCheckFailed) || !strings.Contains(err.Error(), "exactly-once violated") {
		t.Fatalf("a relay consumed twice went unreported: %v", err)
	}
}

// TestShardCheckerCatchesLostValue: the conservation check compares the
// balances plus the relays in flight with the genesis total.
func TestShardCheckerCatchesLostValue(t *testing.T) {
	n, err := NewShardedNetwork(DefaultShardConfig(2))
	if err != nil {
		t.Fatal(err)
	}
	n.obs.checkConservation("genesis")
	if err := n.Violations(); err != nil {
		t.Fatalf("genesis does not conserve value: %v", err)
	}
	n.obs.inFlight.add(1)
	n.obs.checkConservation("a relay out of nowhere")
	if err := n.Violations(); !errors.Is(err, ErrCheckFailed) || !strings.Contains(err.Error(), "value not conserved") {
		t.Fatalf("created value went unreported: %v", err)
	}
}

// TestShardCheckerCatchesForeignRecord: a root block recording a header
// its chain never decided is reported.
func TestShardCheckerCatchesForeignRecord(t *testing.T) {
	n, err := NewShardedNetwork(DefaultShardConfig(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Run(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	l := n.obs.ledgers[types.RootChain]
	h := n.obs.ledgers[1].headers[1]
	h.StateRoot[0] ^= 1
	n.obs.onRecorderBlock(l, types.Height(len(l.decided)+1), &rootchain.Body{Records: []rootchain.Record{{Header: h}}})
	if err := n.Violations(); !errors.Is(err, ErrCheckFailed) || !strings.Contains(err.Error(), "not the decided one") {
		t.Fatalf("a forged record went unreported: %v", err)
	}
}

func TestShardWireRoundTrip(t *testing.T) {
	n, err := NewShardedNetwork(DefaultShardConfig(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Run(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	ds := n.Committed(0, 0)[:3]
	key := n.byChain[1].loadKeys[0]
	msgs := []types.Message{actor.NewTransfer(key, 0, n.byChain[2].accounts[0].Address, 5), actor.NewTransfer(key, 1, n.byChain[2].accounts[1].Address, 6)}
	follow, err := encodeFollowDecisions(0, ds)
	if err != nil {
		t.Fatal(err)
	}
	syncResp, err := encodeSyncResponse(ds)
	if err != nil {
		t.Fatal(err)
	}
	submit, err := encodeSubmit(msgs)
	if err != nil {
		t.Fatal(err)
	}
	nonces := encodeNonces([]nonceNotice{{Address: msgs[0].From, Next: 7}})
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"sync request", encodeSyncRequest(9)},
		{"sync response", syncResp},
		{"follow decisions", follow},
		{"follow request", encodeFollowRequest(3, 4)},
		{"submit", submit},
		{"nonces", nonces},
	} {
		t.Run(tc.name, func(t *testing.T) {
			again, ok := reencodeShardWire(tc.payload)
			if !ok {
				t.Fatalf("%x does not decode", tc.payload)
			}
			if !bytes.Equal(again, tc.payload) {
				t.Fatalf("re-encoding differs:\n%x\n%x", again, tc.payload)
			}
			for cut := range tc.payload {
				if _, ok := reencodeShardWire(tc.payload[:cut]); ok {
					t.Fatalf("a prefix of %d bytes decodes", cut)
				}
			}
			if _, ok := reencodeShardWire(append(bytes.Clone(tc.payload), 0)); ok {
				t.Fatal("trailing bytes decode")
			}
		})
	}
}

// reencodeShardWire decodes a payload by its first byte and encodes the
// result again; false when it does not decode.
func reencodeShardWire(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	var out []byte
	var err error
	switch b[0] {
	case shardSyncRequestTag:
		var h types.Height
		if h, err = decodeSyncRequest(b); err == nil {
			out = encodeSyncRequest(h)
		}
	case shardSyncResponseTag:
		var ds []consensus.Decision
		if ds, err = decodeSyncResponse(b); err == nil {
			out, err = encodeSyncResponse(ds)
		}
	case followDecisionsTag:
		var ds []consensus.Decision
		var chain types.ChainID
		if chain, ds, err = decodeFollowDecisions(b); err == nil {
			out, err = encodeFollowDecisions(chain, ds)
		}
	case followRequestTag:
		var chain types.ChainID
		var h types.Height
		if chain, h, err = decodeFollowRequest(b); err == nil {
			out = encodeFollowRequest(chain, h)
		}
	case submitTag:
		var msgs []types.Message
		if msgs, err = decodeSubmit(b); err == nil {
			out, err = encodeSubmit(msgs)
		}
	case noncesTag:
		var ns []nonceNotice
		if ns, err = decodeNonces(b); err == nil {
			out = encodeNonces(ns)
		}
	default:
		return nil, false
	}
	return out, err == nil
}

// FuzzShardWire feeds arbitrary payloads to the decoders of the sharded
// network's payloads: none may panic, and whatever decodes must encode back
// to the same bytes (one encoding per value).
func FuzzShardWire(f *testing.F) {
	f.Add(encodeSyncRequest(1))
	f.Add(encodeFollowRequest(0, 1))
	f.Add(encodeNonces([]nonceNotice{{Next: 1}}))
	f.Add([]byte{submitTag, 0, 0, 0, 0})
	f.Add([]byte{followDecisionsTag, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, payload []byte) {
		again, ok := reencodeShardWire(payload)
		if ok && !bytes.Equal(again, payload) {
			t.Fatalf("%x decodes and encodes back as %x", payload, again)
		}
	})
}
