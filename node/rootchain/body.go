package rootchain

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// MaxRecords is the most records one recorder block holds. With the
// largest records, a full body stays within consensus.MaxBlockBodySize.
const MaxRecords = 4096

// MaxBodySize is the longest body encoding: MaxRecords records of the
// largest size, each with its length in front.
const MaxBodySize = bodyFixedSize + MaxRecords*(4+RecordMaxSize)

// bodyFixedSize is the tag and the record count.
const bodyFixedSize = 1 + 4

// minRecordSize is the shortest record encoding (a certificate of an empty
// committee), which bounds how many records the rest of an input can hold.
const minRecordSize = 1 + types.HeaderSize + types.CertificateMaxSize - types.MaxCommitteeSize/8

// Body is the body of a recorder chain's block: the records of child
// chains, in strictly increasing (ChainID, Height) order.
type Body struct {
	Records []Record
}

// Find returns the position of the record of chain at height, by binary
// search; the body must be in canonical order (as every body Verify or
// Apply accepted is).
func (b *Body) Find(chain types.ChainID, height types.Height) (int, bool) {
	return slices.BinarySearchFunc(b.Records, key{chain, height}, func(r Record, k key) int {
		return compareKeys(key{r.Header.ChainID, r.Header.Height}, k)
	})
}

// key is the canonical order of records in a body.
type key struct {
	chain  types.ChainID
	height types.Height
}

func compareKeys(a, b key) int {
	if c := cmp.Compare(a.chain, b.chain); c != 0 {
		return c
	}
	return cmp.Compare(a.height, b.height)
}

// EncodedLen returns the length of b's encoding.
func (b *Body) EncodedLen() int {
	n := bodyFixedSize
	for i := range b.Records {
		n += 4 + b.Records[i].EncodedLen()
	}
	return n
}

// AppendBinary appends the canonical encoding of b to dst. It fails,
// leaving dst as it was, with more than MaxRecords records or a record
// that does not encode. It does not check the order of the records.
func (b *Body) AppendBinary(dst []byte) ([]byte, error) {
	if len(b.Records) > MaxRecords {
		return dst, fmt.Errorf("encode recorder body: field Records: %w: count %d, maximum %d", codec.ErrTooLarge, len(b.Records), MaxRecords)
	}
	e := codec.NewEncoder(dst, b.EncodedLen())
	e.AppendUint8(BodyTag)
	e.AppendUint32(uint32(len(b.Records)))
	out := e.Bytes()
	for i := range b.Records {
		r := &b.Records[i]
		e = codec.NewEncoder(out, 0)
		e.AppendUint32(uint32(r.EncodedLen()))
		var err error
		if out, err = r.AppendBinary(e.Bytes()); err != nil {
			return dst, fmt.Errorf("encode recorder body: record %d: %w", i, err)
		}
	}
	return out, nil
}

// MarshalBinary returns the canonical encoding of b.
func (b *Body) MarshalBinary() ([]byte, error) {
	return b.AppendBinary(make([]byte, 0, b.EncodedLen()))
}

// DecodeBody decodes a canonical body encoding. The result shares no
// memory with in.
func DecodeBody(in []byte) (Body, error) {
	var b Body
	err := b.UnmarshalBinary(in)
	return b, err
}

// UnmarshalBinary decodes a canonical body encoding into b. It checks
// what the encoding expresses, not the order of the records (Verify's
// job). On failure b is left in an unspecified state.
func (b *Body) UnmarshalBinary(in []byte) error {
	d := codec.NewDecoder("recorder body", in, MaxBodySize)
	readTag(&d, BodyTag)
	n := d.Uint32("Records")
	if d.Err() == nil && n > MaxRecords {
		d.Fail("Records", fmt.Errorf("%w: count %d, maximum %d", codec.ErrTooLarge, n, MaxRecords))
	}
	b.Records = nil
	if d.Err() == nil && n > 0 {
		b.Records = make([]Record, 0, min(int(n), d.Remaining()/(4+minRecordSize)))
	}
	for i := 0; i < int(n) && d.Err() == nil; i++ {
		enc := d.Bytes("Records", RecordMaxSize)
		if d.Err() != nil {
			break
		}
		var r Record
		if err := r.UnmarshalBinary(enc); err != nil {
			d.Fail("Records", fmt.Errorf("record %d: %w", i, err))
			break
		}
		b.Records = append(b.Records, r)
	}
	return d.Finish()
}
