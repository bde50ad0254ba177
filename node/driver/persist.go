package driver

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// consensusRecordPrefix | chain u32: the member's PersistentState of the
// chain (node record).
const consensusRecordPrefix = "consensus/"

func consensusRecordKey(chain types.ChainID) []byte {
	return binary.BigEndian.AppendUint32([]byte(consensusRecordPrefix), uint32(chain))
}

// Tags of the driver's consensus records (node records, not the network).
const (
	// ConsensusRecordTag starts the record of a member's persistent state.
	ConsensusRecordTag byte = 0x34
	// KeptBlockRecordTag starts a kept-block slot record.
	KeptBlockRecordTag byte = 0x35
)

// consensusRecordMaxSize bounds a consensus record: the persistent state
// without blocks or decision, and the kept blocks' hashes.
const consensusRecordMaxSize = 1 + 4 + consensus.PersistentStateMaxSize + 1 + 1 + consensus.MaxKeptBlocks*32

// keptBlockRecordMaxSize bounds a kept-block slot record.
const keptBlockRecordMaxSize = 1 + types.HeaderSize + 4 + consensus.MaxBlockBodySize

// The member's PersistentState is written with every vote, several times
// per height; written whole it would carry up to MaxKeptBlocks blocks and the
// previous height's decision each time. The driver writes it slim (see
// "Storage" in doc.go for the layouts): the previous decision is the one of
// the stored block of height-1, read back at start, and each kept block is
// written once into one of MaxKeptBlocks slots, which the state names by
// hash. A slot is rewritten only with a block the new state does not name,
// in the same batch as that state, so the slots always hold every block the
// durable state names.

func keptSlotRecordKey(chain types.ChainID, slot int) []byte {
	return append(append(consensusRecordKey(chain), "/kept/"...), byte(slot))
}

// keptSlots tracks which block each kept-block slot holds on disk.
type keptSlots [consensus.MaxKeptBlocks]types.Hash

// encodeConsensusRecord returns the record of ps, and the kept-block slot
// records to write with it given the slots on disk; slots is updated to what
// the disk holds once they are written.
func encodeConsensusRecord(ps *consensus.PersistentState, slots *keptSlots) (record []byte, writes map[int][]byte, next keptSlots, err error) {
	slim := *ps
	slim.Blocks = nil
	slim.PreviousDecision = nil
	r := consensusRecord{state: slim, hasPrevDecision: ps.PreviousDecision != nil}
	wanted := map[types.Hash]bool{}
	for i := range ps.Blocks {
		h := ps.Blocks[i].Hash()
		r.kept = append(r.kept, h)
		wanted[h] = true
	}
	if record, err = r.encode(); err != nil {
		return nil, nil, *slots, err
	}
	next = *slots
	held := map[types.Hash]bool{}
	for _, h := range next {
		held[h] = true
	}
	writes = map[int][]byte{}
	for i := range ps.Blocks {
		h := ps.Blocks[i].Hash()
		if held[h] {
			continue
		}
		slot := -1
		for s, old := range next {
			if old.IsZero() || !wanted[old] {
				slot = s
				break
			}
		}
		if slot < 0 {
			return nil, nil, *slots, fmt.Errorf("no free kept-block slot for %s", h)
		}
		rec, err := encodeKeptBlock(&ps.Blocks[i])
		if err != nil {
			return nil, nil, *slots, err
		}
		writes[slot] = rec
		next[slot] = h
		held[h] = true
	}
	return record, writes, next, nil
}

// encode returns the record's canonical encoding.
func (r *consensusRecord) encode() ([]byte, error) {
	if len(r.kept) > consensus.MaxKeptBlocks {
		return nil, fmt.Errorf("encode consensus record: %d kept blocks: %w", len(r.kept), codec.ErrTooLarge)
	}
	state, err := consensus.EncodePersistentState(&r.state)
	if err != nil {
		return nil, err
	}
	e := codec.NewEncoder(nil, 1+4+len(state)+2+32*len(r.kept))
	e.AppendUint8(ConsensusRecordTag)
	e.AppendBytes(state)
	e.AppendBool(r.hasPrevDecision)
	e.AppendUint8(uint8(len(r.kept)))
	for _, h := range r.kept {
		e.AppendFixed(h[:])
	}
	return e.Bytes(), nil
}

func encodeKeptBlock(b *consensus.Block) ([]byte, error) {
	e := codec.NewEncoder(nil, 1+types.HeaderSize+4+len(b.Body))
	e.AppendUint8(KeptBlockRecordTag)
	out, err := b.Header.AppendBinary(e.Bytes())
	if err != nil {
		return nil, err
	}
	e = codec.NewEncoder(out, 4+len(b.Body))
	e.AppendBytes(b.Body)
	return e.Bytes(), nil
}

func decodeKeptBlock(rec []byte) (consensus.Block, error) {
	d := codec.NewDecoder("kept block", rec, keptBlockRecordMaxSize)
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != KeptBlockRecordTag {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x", codec.ErrWrongType, tag))
	}
	var raw [types.HeaderSize]byte
	d.Fixed("Header", raw[:])
	body := d.Bytes("Body", consensus.MaxBlockBodySize)
	if err := d.Finish(); err != nil {
		return consensus.Block{}, err
	}
	h, err := types.DecodeHeader(raw[:])
	if err != nil {
		return consensus.Block{}, err
	}
	return consensus.Block{Header: h, Body: append([]byte(nil), body...)}, nil
}

// consensusRecord is a decoded consensus record, before its blocks and
// decision are looked up.
type consensusRecord struct {
	state           consensus.PersistentState
	hasPrevDecision bool
	kept            []types.Hash
}

func decodeConsensusRecord(rec []byte) (consensusRecord, error) {
	d := codec.NewDecoder("consensus record", rec, consensusRecordMaxSize)
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != ConsensusRecordTag {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x", codec.ErrWrongType, tag))
	}
	state := d.Bytes("PersistentState", consensus.PersistentStateMaxSize)
	var r consensusRecord
	r.hasPrevDecision = d.Bool("HasPreviousDecision")
	k := d.Uint8("KeptBlocks")
	if d.Err() == nil && int(k) > consensus.MaxKeptBlocks {
		d.Fail("KeptBlocks", fmt.Errorf("%w: %d, at most %d", codec.ErrTooLarge, k, consensus.MaxKeptBlocks))
	}
	for i := 0; d.Err() == nil && i < int(k); i++ {
		var h types.Hash
		d.Fixed("KeptBlock", h[:])
		r.kept = append(r.kept, h)
	}
	if err := d.Finish(); err != nil {
		return consensusRecord{}, err
	}
	ps, err := consensus.DecodePersistentState(state)
	if err != nil {
		return consensusRecord{}, err
	}
	if len(ps.Blocks) != 0 || ps.PreviousDecision != nil {
		return consensusRecord{}, fmt.Errorf("consensus record: %w: the state carries blocks or a decision", codec.ErrNonCanonical)
	}
	r.state = ps
	return r, nil
}

// loadConsensusState reads the member's persisted state of chain, its kept
// blocks from their slots and the previous decision from the block store. It
// returns ok false when nothing was ever persisted.
func loadConsensusState(db *storage.DB, chain types.ChainID) (consensus.PersistentState, keptSlots, bool, error) {
	var slots keptSlots
	blocks := map[types.Hash]consensus.Block{}
	for s := range slots {
		rec, err := db.Record(keptSlotRecordKey(chain, s))
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return consensus.PersistentState{}, slots, false, err
		}
		b, err := decodeKeptBlock(rec)
		if err != nil {
			return consensus.PersistentState{}, slots, false, fmt.Errorf("kept block slot %d: %w: %w", s, storage.ErrCorruption, err)
		}
		slots[s] = b.Hash()
		blocks[slots[s]] = b
	}
	rec, err := db.Record(consensusRecordKey(chain))
	if errors.Is(err, storage.ErrNotFound) {
		return consensus.PersistentState{}, slots, false, nil
	}
	if err != nil {
		return consensus.PersistentState{}, slots, false, err
	}
	r, err := decodeConsensusRecord(rec)
	if err != nil {
		return consensus.PersistentState{}, slots, false, fmt.Errorf("consensus state: %w: %w", storage.ErrCorruption, err)
	}
	ps := r.state
	for _, h := range r.kept {
		b, ok := blocks[h]
		if !ok {
			return consensus.PersistentState{}, slots, false, fmt.Errorf("consensus state names kept block %s, no slot holds it: %w", h, storage.ErrCorruption)
		}
		ps.Blocks = append(ps.Blocks, b)
	}
	if r.hasPrevDecision && ps.Height > 0 {
		sb, err := readStoredBlock(db, chain, ps.Height-1)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			// The state is older than the chain (see newCore): the
			// caller discards it.
		case err != nil:
			return consensus.PersistentState{}, slots, false, err
		case sb.Decision == nil:
			return consensus.PersistentState{}, slots, false, fmt.Errorf("block %d holds no decision: %w", ps.Height-1, storage.ErrCorruption)
		default:
			ps.PreviousDecision = sb.Decision
		}
	}
	return ps, slots, true, nil
}
