package driver

import (
	"fmt"

	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

// The first bytes of the driver's own encodings. Consensus messages use
// 0x10 to 0x19, node/types 0x01 to 0x04 and node/relay 0x23 and 0x24, so a
// payload (inside its chain envelope) is dispatched on its first byte
// alone.
const (
	// StoredBlockTag starts the record of a block in the block store.
	StoredBlockTag byte = 0x30
	// KindSyncRequest asks a peer for decided blocks.
	KindSyncRequest byte = 0x31
	// KindSyncResponse answers a SyncRequest.
	KindSyncResponse byte = 0x32
	// KindMessageBatch forwards external messages to the other members'
	// mempools.
	KindMessageBatch byte = 0x33
	// KindRecordBatch carries digest records (node/rootchain.Record) of a
	// transaction chain's decided heights to the root committee.
	KindRecordBatch byte = 0x36
)

// Limits of the driver's encodings.
const (
	// MaxSyncBlocks is the most decisions one SyncRequest asks for and one
	// SyncResponse carries.
	MaxSyncBlocks = 64
	// MaxSyncResponseSize bounds a SyncResponse encoding; a responder stops
	// adding decisions before its frame limit anyway.
	MaxSyncResponseSize = 64 << 20
	// MaxBatchMessages is the most messages one MessageBatch carries.
	MaxBatchMessages = 4096
	// SyncRequestSize is the length of every SyncRequest encoding.
	SyncRequestSize = 1 + 4 + 8 + 4
	// StoredBlockMaxSize is the length of the largest stored block record.
	StoredBlockMaxSize = 1 + types.HeaderSize + 1 + 4 + consensus.DecisionMaxSize
	// MessageBatchMaxSize is the length of the largest MessageBatch.
	MessageBatchMaxSize = 1 + 4 + MaxBatchMessages*(4+types.MessageMaxSize)
	// MaxBatchRecords is the most records one RecordBatch carries.
	MaxBatchRecords = 64
	// RecordBatchMaxSize is the length of the largest RecordBatch.
	RecordBatchMaxSize = 1 + 4 + MaxBatchRecords*(4+rootchain.RecordMaxSize)
)

// SyncRequest asks a peer for the decisions of heights From, From+1, ...,
// at most Count of them.
type SyncRequest struct {
	ChainID types.ChainID
	From    types.Height
	Count   uint32
}

// SyncResponse carries the decisions of consecutive heights starting at From
// (possibly none: the responder has not reached From), and the responder's
// committed head, so that the requester knows whether to ask again.
type SyncResponse struct {
	ChainID   types.ChainID
	Head      types.Height
	From      types.Height
	Decisions []consensus.Decision
}

// MessageBatch carries external messages a member admitted to its mempool
// to the other members, so that whoever leads the next round holds them.
type MessageBatch struct {
	Messages []types.Message
}

// RecordBatch carries digest records of decided heights of a transaction
// chain to a member of the root committee, which the root chain's leader
// records (paper 4.3: the digest of each block goes to the root chain with
// the committee's aggregated signature).
type RecordBatch struct {
	Records []rootchain.Record
}

// StoredBlock is the record of one height in the block store: the header
// the chain continues from, and the decision that proves it (absent at
// height 0, the genesis block). For an EMPTY decision the header is the
// synthetic empty header of the height (see emptyHeader).
type StoredBlock struct {
	Header   types.Header
	Decision *consensus.Decision
}

// AppendBinary appends the canonical encoding of r.
func (r *SyncRequest) AppendBinary(dst []byte) ([]byte, error) {
	if r.Count < 1 || r.Count > MaxSyncBlocks {
		return dst, fmt.Errorf("encode sync request: count %d: %w", r.Count, codec.ErrTooLarge)
	}
	e := codec.NewEncoder(dst, SyncRequestSize)
	e.AppendUint8(KindSyncRequest)
	e.AppendUint32(uint32(r.ChainID))
	e.AppendUint64(uint64(r.From))
	e.AppendUint32(r.Count)
	return e.Bytes(), nil
}

// DecodeSyncRequest decodes a canonical SyncRequest encoding.
func DecodeSyncRequest(b []byte) (SyncRequest, error) {
	d := codec.NewDecoder("sync request", b, SyncRequestSize)
	readKind(&d, KindSyncRequest)
	r := SyncRequest{
		ChainID: types.ChainID(d.Uint32("ChainID")),
		From:    types.Height(d.Uint64("From")),
		Count:   d.Uint32("Count"),
	}
	if d.Err() == nil && (r.Count < 1 || r.Count > MaxSyncBlocks) {
		d.Fail("Count", fmt.Errorf("%w: %d, want 1 to %d", codec.ErrTooLarge, r.Count, MaxSyncBlocks))
	}
	if err := d.Finish(); err != nil {
		return SyncRequest{}, err
	}
	return r, nil
}

// AppendBinary appends the canonical encoding of r.
func (r *SyncResponse) AppendBinary(dst []byte) ([]byte, error) {
	if len(r.Decisions) > MaxSyncBlocks {
		return dst, fmt.Errorf("encode sync response: %d decisions: %w", len(r.Decisions), codec.ErrTooLarge)
	}
	start := len(dst)
	e := codec.NewEncoder(dst, 1+4+8+8+4)
	e.AppendUint8(KindSyncResponse)
	e.AppendUint32(uint32(r.ChainID))
	e.AppendUint64(uint64(r.Head))
	e.AppendUint64(uint64(r.From))
	e.AppendUint32(uint32(len(r.Decisions)))
	out := e.Bytes()
	for i := range r.Decisions {
		lenAt := len(out)
		out = append(out, 0, 0, 0, 0)
		var err error
		if out, err = r.Decisions[i].AppendBinary(out); err != nil {
			return dst[:start], fmt.Errorf("encode sync response: decision %d: %w", i, err)
		}
		n := len(out) - lenAt - 4
		out[lenAt], out[lenAt+1], out[lenAt+2], out[lenAt+3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	}
	if len(out)-start > MaxSyncResponseSize {
		return dst[:start], fmt.Errorf("encode sync response: %d bytes: %w", len(out)-start, codec.ErrTooLarge)
	}
	return out, nil
}

// DecodeSyncResponse decodes a canonical SyncResponse encoding. The
// decisions' bodies are copied.
func DecodeSyncResponse(b []byte) (SyncResponse, error) {
	d := codec.NewDecoder("sync response", b, MaxSyncResponseSize)
	readKind(&d, KindSyncResponse)
	r := SyncResponse{
		ChainID: types.ChainID(d.Uint32("ChainID")),
		Head:    types.Height(d.Uint64("Head")),
		From:    types.Height(d.Uint64("From")),
	}
	n := d.Uint32("Count")
	if d.Err() == nil && n > MaxSyncBlocks {
		d.Fail("Count", fmt.Errorf("%w: %d decisions, at most %d", codec.ErrTooLarge, n, MaxSyncBlocks))
	}
	for i := 0; d.Err() == nil && i < int(n); i++ {
		raw := d.Bytes("Decision", consensus.DecisionMaxSize)
		if d.Err() != nil {
			break
		}
		dec, err := consensus.DecodeDecision(raw)
		if err != nil {
			d.Fail("Decision", err)
			break
		}
		r.Decisions = append(r.Decisions, *dec)
	}
	if err := d.Finish(); err != nil {
		return SyncResponse{}, err
	}
	return r, nil
}

// AppendBinary appends the canonical encoding of m.
func (m *MessageBatch) AppendBinary(dst []byte) ([]byte, error) {
	if len(m.Messages) > MaxBatchMessages {
		return dst, fmt.Errorf("encode message batch: %d messages: %w", len(m.Messages), codec.ErrTooLarge)
	}
	size := 1 + 4
	for i := range m.Messages {
		size += 4 + m.Messages[i].EncodedLen()
	}
	start := len(dst)
	e := codec.NewEncoder(dst, size)
	e.AppendUint8(KindMessageBatch)
	e.AppendUint32(uint32(len(m.Messages)))
	out := e.Bytes()
	for i := range m.Messages {
		n := m.Messages[i].EncodedLen()
		out = append(out, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		var err error
		if out, err = m.Messages[i].AppendBinary(out); err != nil {
			return dst[:start], fmt.Errorf("encode message batch: message %d: %w", i, err)
		}
	}
	return out, nil
}

// DecodeMessageBatch decodes a canonical MessageBatch encoding. The messages'
// Method and Args alias b.
func DecodeMessageBatch(b []byte) (MessageBatch, error) {
	d := codec.NewDecoder("message batch", b, MessageBatchMaxSize)
	readKind(&d, KindMessageBatch)
	n := d.Uint32("Count")
	if d.Err() == nil && n > MaxBatchMessages {
		d.Fail("Count", fmt.Errorf("%w: %d messages, at most %d", codec.ErrTooLarge, n, MaxBatchMessages))
	}
	var m MessageBatch
	if d.Err() == nil {
		m.Messages = make([]types.Message, 0, min(int(n), d.Remaining()/(4+1)))
	}
	for i := 0; d.Err() == nil && i < int(n); i++ {
		raw := d.Bytes("Message", types.MessageMaxSize)
		if d.Err() != nil {
			break
		}
		msg, err := types.DecodeMessage(raw)
		if err != nil {
			d.Fail("Message", err)
			break
		}
		m.Messages = append(m.Messages, msg)
	}
	if err := d.Finish(); err != nil {
		return MessageBatch{}, err
	}
	return m, nil
}

// AppendBinary appends the canonical encoding of s.
func (s *StoredBlock) AppendBinary(dst []byte) ([]byte, error) {
	start := len(dst)
	e := codec.NewEncoder(dst, 1+types.HeaderSize+1)
	e.AppendUint8(StoredBlockTag)
	out, err := s.Header.AppendBinary(e.Bytes())
	if err != nil {
		return dst[:start], fmt.Errorf("encode stored block: %w", err)
	}
	if s.Decision == nil {
		return append(out, 0), nil
	}
	out = append(out, 1, 0, 0, 0, 0)
	lenAt := len(out) - 4
	if out, err = s.Decision.AppendBinary(out); err != nil {
		return dst[:start], fmt.Errorf("encode stored block: %w", err)
	}
	n := len(out) - lenAt - 4
	out[lenAt], out[lenAt+1], out[lenAt+2], out[lenAt+3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return out, nil
}

// DecodeStoredBlock decodes a canonical stored block record. The decision's
// body is copied.
func DecodeStoredBlock(b []byte) (StoredBlock, error) {
	d := codec.NewDecoder("stored block", b, StoredBlockMaxSize)
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != StoredBlockTag {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x", codec.ErrWrongType, tag))
	}
	var s StoredBlock
	var raw [types.HeaderSize]byte
	d.Fixed("Header", raw[:])
	if d.Err() == nil {
		h, err := types.DecodeHeader(raw[:])
		if err != nil {
			d.Fail("Header", err)
		}
		s.Header = h
	}
	if d.Bool("HasDecision") {
		dec := d.Bytes("Decision", consensus.DecisionMaxSize)
		if d.Err() == nil {
			decision, err := consensus.DecodeDecision(dec)
			if err != nil {
				d.Fail("Decision", err)
			}
			s.Decision = decision
		}
	}
	if err := d.Finish(); err != nil {
		return StoredBlock{}, err
	}
	return s, nil
}

// AppendBinary appends the canonical encoding of b.
func (b *RecordBatch) AppendBinary(dst []byte) ([]byte, error) {
	if len(b.Records) > MaxBatchRecords {
		return dst, fmt.Errorf("encode record batch: %d records: %w", len(b.Records), codec.ErrTooLarge)
	}
	start := len(dst)
	e := codec.NewEncoder(dst, 1+4)
	e.AppendUint8(KindRecordBatch)
	e.AppendUint32(uint32(len(b.Records)))
	out := e.Bytes()
	for i := range b.Records {
		n := b.Records[i].EncodedLen()
		out = append(out, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		var err error
		if out, err = b.Records[i].AppendBinary(out); err != nil {
			return dst[:start], fmt.Errorf("encode record batch: record %d: %w", i, err)
		}
	}
	return out, nil
}

// DecodeRecordBatch decodes a canonical RecordBatch encoding. The records
// share no memory with b.
func DecodeRecordBatch(b []byte) (RecordBatch, error) {
	d := codec.NewDecoder("record batch", b, RecordBatchMaxSize)
	readKind(&d, KindRecordBatch)
	n := d.Uint32("Count")
	if d.Err() == nil && n > MaxBatchRecords {
		d.Fail("Count", fmt.Errorf("%w: %d records, at most %d", codec.ErrTooLarge, n, MaxBatchRecords))
	}
	var rb RecordBatch
	for i := 0; d.Err() == nil && i < int(n); i++ {
		raw := d.Bytes("Record", rootchain.RecordMaxSize)
		if d.Err() != nil {
			break
		}
		rec, err := rootchain.DecodeRecord(raw)
		if err != nil {
			d.Fail("Record", err)
			break
		}
		rb.Records = append(rb.Records, rec)
	}
	if err := d.Finish(); err != nil {
		return RecordBatch{}, err
	}
	return rb, nil
}

func readKind(d *codec.Decoder, want byte) {
	if k := d.Uint8("Kind"); d.Err() == nil && k != want {
		d.Fail("Kind", fmt.Errorf("%w: 0x%02x, want 0x%02x", codec.ErrWrongType, k, want))
	}
}
