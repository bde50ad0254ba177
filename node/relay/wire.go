package relay

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// Package is an outer-relay message on its way to its destination chain,
// with the encoding of its Proof: what a block of the destination takes as
// an exec.Input.
type Package struct {
	Message types.Message
	Proof   []byte
}

// Input returns the block input that delivers the package.
func (p *Package) Input() exec.Input { return exec.Input{Message: p.Message, Proof: p.Proof} }

// Limits of the wire encodings.
const (
	// MaxBatchPackages is the most packages in one batch.
	MaxBatchPackages = 1024
	// MaxBatchSize is the longest batch encoding, in bytes: a quarter of
	// the transport's default frame, so a batch always fits one frame.
	MaxBatchSize = 1 << 20
	// MaxAckIDs is the most relay IDs in one acknowledgement.
	MaxAckIDs = 8192
	// MaxAckSize is the longest acknowledgement encoding, in bytes.
	MaxAckSize = ackFixedSize + MaxAckIDs*hash.Size
)

const (
	batchFixedSize = 1 + 4 + 4 + 4
	ackFixedSize   = 1 + 4 + 4
	// minPackageSize is the shortest package encoding: two empty length
	// prefixes. It bounds what a decoder preallocates.
	minPackageSize = 4 + 4
)

// Batch is the packages one source member sends to one member of a
// destination chain in one transport message.
type Batch struct {
	Source   types.ChainID
	Dest     types.ChainID
	Packages []Package
}

// packageLen returns the length of a package's encoding in a batch.
func packageLen(p *Package) int { return 4 + p.Message.EncodedLen() + 4 + len(p.Proof) }

// EncodedLen returns the length of b's encoding.
func (b *Batch) EncodedLen() int {
	n := batchFixedSize
	for i := range b.Packages {
		n += packageLen(&b.Packages[i])
	}
	return n
}

// AppendBinary appends the canonical encoding of b to dst. It fails,
// leaving dst as it was, on more than MaxBatchPackages packages, an
// encoding over MaxBatchSize, or a message that does not encode. A proof
// is bounded by the batch alone: a packed group proof (PackPackages) may
// be longer than a proof of one relay.
func (b *Batch) AppendBinary(dst []byte) ([]byte, error) {
	if len(b.Packages) > MaxBatchPackages {
		return dst, fmt.Errorf("encode relay batch: %w: %d packages, maximum %d", codec.ErrTooLarge, len(b.Packages), MaxBatchPackages)
	}
	n := b.EncodedLen()
	if n > MaxBatchSize {
		return dst, fmt.Errorf("encode relay batch: %w: %d bytes, maximum %d", codec.ErrTooLarge, n, MaxBatchSize)
	}
	e := codec.NewEncoder(dst, n)
	e.AppendUint8(BatchTag)
	e.AppendUint32(uint32(b.Source))
	e.AppendUint32(uint32(b.Dest))
	e.AppendUint32(uint32(len(b.Packages)))
	out := e.Bytes()
	for i := range b.Packages {
		p := &b.Packages[i]
		out = binary.BigEndian.AppendUint32(out, uint32(p.Message.EncodedLen()))
		var err error
		if out, err = p.Message.AppendBinary(out); err != nil {
			return dst, fmt.Errorf("encode relay batch: package %d: %w", i, err)
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(p.Proof)))
		out = append(out, p.Proof...)
	}
	return out, nil
}

// MarshalBinary returns the canonical encoding of b.
func (b *Batch) MarshalBinary() ([]byte, error) { return b.AppendBinary(nil) }

// DecodeBatch decodes a canonical batch encoding. It rejects, with the
// node/codec sentinels, input over MaxBatchSize, a wrong tag, a count over
// MaxBatchPackages, truncated input, trailing bytes and whatever
// types.DecodeMessage rejects. It checks nothing the encoding does not
// express (Unpacked and Inbox.Add do). The packages' messages and proofs
// alias b.
func DecodeBatch(b []byte) (Batch, error) {
	var out Batch
	d := codec.NewDecoder("relay batch", b, MaxBatchSize)
	readTag(&d, BatchTag)
	out.Source = types.ChainID(d.Uint32("Source"))
	out.Dest = types.ChainID(d.Uint32("Dest"))
	n := readCount(&d, "Packages", MaxBatchPackages)
	if n > 0 {
		out.Packages = make([]Package, 0, min(n, d.Remaining()/minPackageSize))
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		var p Package
		enc := d.Bytes("Message", types.MessageMaxSize)
		if d.Err() != nil {
			break
		}
		if err := p.Message.UnmarshalBinary(enc); err != nil {
			d.Fail("Message", err)
			break
		}
		p.Proof = d.Bytes("Proof", MaxBatchSize)
		out.Packages = append(out.Packages, p)
	}
	if err := d.Finish(); err != nil {
		return Batch{}, err
	}
	return out, nil
}

// SplitBatches packs pkgs, in order, into as few batches from source to
// dest as the limits allow, each at most maxSize bytes (MaxBatchSize when
// maxSize is not positive or larger) counting the packages' proofs as they
// are; then each batch's packages are packed (PackPackages), which only
// shortens it. A package too large for maxSize on its own gets a batch of
// its own.
func SplitBatches(source, dest types.ChainID, pkgs []Package, maxSize int) []Batch {
	if maxSize <= 0 || maxSize > MaxBatchSize {
		maxSize = MaxBatchSize
	}
	var out []Batch
	start, size := 0, batchFixedSize
	for i := range pkgs {
		n := packageLen(&pkgs[i])
		if i > start && (size+n > maxSize || i-start == MaxBatchPackages) {
			out = append(out, Batch{Source: source, Dest: dest, Packages: PackPackages(pkgs[start:i:i])})
			start, size = i, batchFixedSize
		}
		size += n
	}
	if start < len(pkgs) {
		out = append(out, Batch{Source: source, Dest: dest, Packages: PackPackages(pkgs[start:])})
	}
	return out
}

// PackPackages returns pkgs with the RefProofs of each source block that
// has two or more packages merged into one GroupProof, carried by the
// first of them, the others a GroupRef: the packing of a block body
// (Verifier.PackRelays), without a check against the source block's root,
// which the receiver makes when it checks the RefProofs Unpacked gives
// back. Other packages are kept as they are; pkgs is not modified.
func PackPackages(pkgs []Package) []Package {
	inputs := make([]exec.Input, len(pkgs))
	for i := range pkgs {
		inputs[i] = pkgs[i].Input()
	}
	inputs = pack(inputs, func(*GroupProof, []types.Hash) bool { return true })
	out := make([]Package, len(inputs))
	for i := range inputs {
		out[i] = Package{Message: inputs[i].Message, Proof: inputs[i].Proof}
	}
	return out
}

// Unpacked returns the batch's packages with each packed group turned
// back into one RefProof a package, the paths taken from the root the
// group's multi-proof leads to (merkle.MultiProof.RootAndPaths): whether
// that root is the recorded one is the Verifier's question when the
// packages are checked, as for any RefProof. On a packing that does not
// unpack (a malformed group proof, a GroupRef without its group proof,
// counts that differ) it returns the batch's stand-alone packages only,
// with the error.
func (b *Batch) Unpacked() ([]Package, error) {
	inputs := make([]exec.Input, len(b.Packages))
	for i := range b.Packages {
		inputs[i] = b.Packages[i].Input()
	}
	unpacked, err := unpack(inputs, func(groupKey, types.Hash) error { return nil })
	if err != nil {
		var alone []Package
		for _, p := range b.Packages {
			if t := tagOf(p.Proof); t != GroupProofTag && t != GroupRefTag {
				alone = append(alone, p)
			}
		}
		return alone, fmt.Errorf("relay batch from chain %d: %w", b.Source, err)
	}
	out := make([]Package, len(unpacked))
	for i := range unpacked {
		out[i] = Package{Message: unpacked[i].Message, Proof: unpacked[i].Proof}
	}
	return out, nil
}

// Ack tells a source chain's member which of its relays chain Chain has
// consumed (or already had), so it stops re-sending them.
type Ack struct {
	Chain types.ChainID
	IDs   []types.Hash
}

// EncodedLen returns the length of a's encoding.
func (a *Ack) EncodedLen() int { return ackFixedSize + len(a.IDs)*hash.Size }

// AppendBinary appends the canonical encoding of a to dst. It fails,
// leaving dst as it was, on more than MaxAckIDs IDs.
func (a *Ack) AppendBinary(dst []byte) ([]byte, error) {
	if len(a.IDs) > MaxAckIDs {
		return dst, fmt.Errorf("encode relay ack: %w: %d IDs, maximum %d", codec.ErrTooLarge, len(a.IDs), MaxAckIDs)
	}
	e := codec.NewEncoder(dst, a.EncodedLen())
	e.AppendUint8(AckTag)
	e.AppendUint32(uint32(a.Chain))
	e.AppendUint32(uint32(len(a.IDs)))
	for i := range a.IDs {
		e.AppendFixed(a.IDs[i][:])
	}
	return e.Bytes(), nil
}

// MarshalBinary returns the canonical encoding of a.
func (a *Ack) MarshalBinary() ([]byte, error) { return a.AppendBinary(nil) }

// DecodeAck decodes a canonical acknowledgement encoding. It rejects, with
// the node/codec sentinels, input over MaxAckSize, a wrong tag, a count
// over MaxAckIDs, truncated input and trailing bytes.
func DecodeAck(b []byte) (Ack, error) {
	var out Ack
	d := codec.NewDecoder("relay ack", b, MaxAckSize)
	readTag(&d, AckTag)
	out.Chain = types.ChainID(d.Uint32("Chain"))
	n := readCount(&d, "IDs", MaxAckIDs)
	if n > 0 && n*hash.Size > d.Remaining() {
		d.Fail("IDs", fmt.Errorf("%w: %d IDs need %d bytes, have %d", codec.ErrTruncated, n, n*hash.Size, d.Remaining()))
	}
	if n > 0 && d.Err() == nil {
		out.IDs = make([]types.Hash, n)
		for i := range out.IDs {
			d.Fixed("IDs", out.IDs[i][:])
		}
	}
	if err := d.Finish(); err != nil {
		return Ack{}, err
	}
	return out, nil
}

// SplitAcks returns the acknowledgements of ids by chain, at most MaxAckIDs
// each, in order.
func SplitAcks(chain types.ChainID, ids []types.Hash) []Ack {
	var out []Ack
	for ids := range slices.Chunk(ids, MaxAckIDs) {
		out = append(out, Ack{Chain: chain, IDs: ids})
	}
	return out
}

// readTag reads the type tag and fails with codec.ErrWrongType unless it is
// want.
func readTag(d *codec.Decoder, want byte) {
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != want {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x, want 0x%02x", codec.ErrWrongType, tag, want))
	}
}

// readCount reads a uint32 count and fails with codec.ErrTooLarge above
// limit.
func readCount(d *codec.Decoder, field string, limit int) int {
	n := d.Uint32(field)
	if d.Err() != nil {
		return 0
	}
	if uint64(n) > uint64(limit) {
		d.Fail(field, fmt.Errorf("%w: count %d, maximum %d", codec.ErrTooLarge, n, limit))
		return 0
	}
	return int(n)
}
