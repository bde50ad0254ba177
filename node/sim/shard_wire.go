package sim

import (
	"errors"
	"fmt"

	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// The payloads of a sharded network besides consensus messages (kinds
// 0x10..0x14) and the encodings of node/rootchain (a Record, 0x20) and
// node/relay (a Batch, 0x23; an Ack, 0x24), which travel as they are. Each
// is told apart by its first byte; integers are big-endian. The layouts are
// in the package documentation ("Sharded networks: wire payloads").
const (
	// shardSyncRequestTag and shardSyncResponseTag are the block sync of a
	// committee's own chain, laid out as the cluster's (0x30, 0x31).
	shardSyncRequestTag  = syncRequestTag
	shardSyncResponseTag = syncResponseTag
	// followDecisionsTag carries committed decisions of a recorder chain
	// to a node that follows it: pushed on commit, or in answer to a
	// followRequestTag.
	followDecisionsTag = 0x32
	followRequestTag   = 0x33
	// submitTag carries signed external messages from a client to a
	// member; noncesTag tells a client the next nonce of accounts.
	submitTag = 0x40
	noncesTag = 0x41
)

// Bounds of the payloads' decoders.
const (
	maxWireDecisions = 256
	maxSubmitBatch   = 1 << 14
	maxNonceNotices  = 1 << 16
	// maxFollowPayload bounds a follow payload: maxWireDecisions of the
	// largest decision.
	maxFollowPayload = 9 + maxWireDecisions*(4+consensus.DecisionMaxSize)
	maxSubmitPayload = 5 + maxSubmitBatch*(4+types.MessageMaxSize)
	nonceNoticeSize  = types.AddressSize + 8
)

// errWire marks a payload that does not decode.
var errWire = errors.New("malformed payload")

// appendDecisions appends count, then each decision with its length.
func appendDecisions(out []byte, ds []consensus.Decision) ([]byte, error) {
	e := codec.NewEncoder(out, len(out)+4)
	e.AppendUint32(uint32(len(ds)))
	out = e.Bytes()
	for i := range ds {
		start := len(out)
		out = append(out, 0, 0, 0, 0)
		var err error
		if out, err = ds[i].AppendBinary(out); err != nil {
			return nil, fmt.Errorf("encode decision %d: %w", ds[i].Height(), err)
		}
		n := len(out) - start - 4
		out[start], out[start+1], out[start+2], out[start+3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	}
	return out, nil
}

// readDecisions reads what appendDecisions wrote.
func readDecisions(d *codec.Decoder) []consensus.Decision {
	n := d.Uint32("Count")
	if d.Err() != nil {
		return nil
	}
	if n > maxWireDecisions {
		d.Fail("Count", fmt.Errorf("%w: %d decisions, maximum %d", codec.ErrTooLarge, n, maxWireDecisions))
		return nil
	}
	out := make([]consensus.Decision, 0, min(int(n), d.Remaining()/4))
	for range n {
		enc := d.Bytes("Decision", consensus.DecisionMaxSize)
		if d.Err() != nil {
			return nil
		}
		dec, err := consensus.DecodeDecision(enc)
		if err != nil {
			d.Fail("Decision", err)
			return nil
		}
		out = append(out, *dec)
	}
	return out
}

// encodeSyncResponse is 0x31 | count | (length | Decision)...
func encodeSyncResponse(ds []consensus.Decision) ([]byte, error) {
	return appendDecisions([]byte{shardSyncResponseTag}, ds)
}

// decodeSyncResponse reads a 0x31 payload.
func decodeSyncResponse(b []byte) ([]consensus.Decision, error) {
	d := codec.NewDecoder("sync response", b, maxFollowPayload)
	readTag(&d, shardSyncResponseTag)
	ds := readDecisions(&d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", errWire, err)
	}
	return ds, nil
}

// encodeSyncRequest is 0x30 | height, the first height the sender lacks.
func encodeSyncRequest(h types.Height) []byte {
	e := codec.NewEncoder(nil, 9)
	e.AppendUint8(shardSyncRequestTag)
	e.AppendUint64(uint64(h))
	return e.Bytes()
}

func decodeSyncRequest(b []byte) (types.Height, error) {
	d := codec.NewDecoder("sync request", b, 9)
	readTag(&d, shardSyncRequestTag)
	h := d.Uint64("Height")
	if err := d.Finish(); err != nil {
		return 0, fmt.Errorf("%w: %w", errWire, err)
	}
	return types.Height(h), nil
}

// encodeFollowDecisions is 0x32 | chain | count | (length | Decision)...
func encodeFollowDecisions(chain types.ChainID, ds []consensus.Decision) ([]byte, error) {
	e := codec.NewEncoder(nil, 5)
	e.AppendUint8(followDecisionsTag)
	e.AppendUint32(uint32(chain))
	return appendDecisions(e.Bytes(), ds)
}

func decodeFollowDecisions(b []byte) (types.ChainID, []consensus.Decision, error) {
	d := codec.NewDecoder("follow decisions", b, maxFollowPayload)
	readTag(&d, followDecisionsTag)
	chain := types.ChainID(d.Uint32("Chain"))
	ds := readDecisions(&d)
	if err := d.Finish(); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", errWire, err)
	}
	return chain, ds, nil
}

// encodeFollowRequest is 0x33 | chain | height: the first height of chain
// the sender lacks.
func encodeFollowRequest(chain types.ChainID, h types.Height) []byte {
	e := codec.NewEncoder(nil, 13)
	e.AppendUint8(followRequestTag)
	e.AppendUint32(uint32(chain))
	e.AppendUint64(uint64(h))
	return e.Bytes()
}

func decodeFollowRequest(b []byte) (types.ChainID, types.Height, error) {
	d := codec.NewDecoder("follow request", b, 13)
	readTag(&d, followRequestTag)
	chain := types.ChainID(d.Uint32("Chain"))
	h := d.Uint64("Height")
	if err := d.Finish(); err != nil {
		return 0, 0, fmt.Errorf("%w: %w", errWire, err)
	}
	return chain, types.Height(h), nil
}

// encodeSubmit is 0x40 | count | (length | Message)...
func encodeSubmit(msgs []types.Message) ([]byte, error) {
	size := 5
	for i := range msgs {
		size += 4 + msgs[i].EncodedLen()
	}
	e := codec.NewEncoder(nil, size)
	e.AppendUint8(submitTag)
	e.AppendUint32(uint32(len(msgs)))
	out := e.Bytes()
	for i := range msgs {
		n := msgs[i].EncodedLen()
		out = append(out, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		var err error
		if out, err = msgs[i].AppendBinary(out); err != nil {
			return nil, fmt.Errorf("encode submit: message %d: %w", i, err)
		}
	}
	return out, nil
}

func decodeSubmit(b []byte) ([]types.Message, error) {
	d := codec.NewDecoder("submit", b, maxSubmitPayload)
	readTag(&d, submitTag)
	n := d.Uint32("Count")
	if d.Err() == nil && n > maxSubmitBatch {
		d.Fail("Count", fmt.Errorf("%w: %d messages, maximum %d", codec.ErrTooLarge, n, maxSubmitBatch))
	}
	var out []types.Message
	if d.Err() == nil {
		out = make([]types.Message, 0, min(int(n), d.Remaining()/4))
	}
	for i := uint32(0); i < n && d.Err() == nil; i++ {
		enc := d.Bytes("Message", types.MessageMaxSize)
		if d.Err() != nil {
			break
		}
		var m types.Message
		if err := m.UnmarshalBinary(enc); err != nil {
			d.Fail("Message", err)
			break
		}
		out = append(out, m)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", errWire, err)
	}
	return out, nil
}

// nonceNotice says that account Address's next nonce is Next: every
// message of a lower nonce was consumed.
type nonceNotice struct {
	Address types.Address
	Next    uint64
}

// encodeNonces is 0x41 | count | (address | next nonce)...
func encodeNonces(ns []nonceNotice) []byte {
	e := codec.NewEncoder(nil, 5+len(ns)*nonceNoticeSize)
	e.AppendUint8(noncesTag)
	e.AppendUint32(uint32(len(ns)))
	for i := range ns {
		e.AppendFixed(ns[i].Address[:])
		e.AppendUint64(ns[i].Next)
	}
	return e.Bytes()
}

func decodeNonces(b []byte) ([]nonceNotice, error) {
	d := codec.NewDecoder("nonces", b, 5+maxNonceNotices*nonceNoticeSize)
	readTag(&d, noncesTag)
	n := d.Uint32("Count")
	if d.Err() == nil && (n > maxNonceNotices || int(n)*nonceNoticeSize > d.Remaining()) {
		d.Fail("Count", fmt.Errorf("%w: %d notices in %d bytes", codec.ErrTruncated, n, d.Remaining()))
	}
	var out []nonceNotice
	if d.Err() == nil {
		out = make([]nonceNotice, n)
		for i := range out {
			d.Fixed("Address", out[i].Address[:])
			out[i].Next = d.Uint64("Next")
		}
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", errWire, err)
	}
	return out, nil
}

// readTag reads the first byte and fails unless it is want.
func readTag(d *codec.Decoder, want byte) {
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != want {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x, want 0x%02x", codec.ErrWrongType, tag, want))
	}
}
