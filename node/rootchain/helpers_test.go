package rootchain

import (
	"bytes"
	"errors"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// testCommittee is the committee size of every child chain in the tests:
// f = 1, quorum 3.
const testCommittee = 4

type fatalReporter interface {
	Helper()
	Fatalf(format string, args ...any)
}

// fakeCommittees is a Committees with a stand-in signature: a certificate
// verifies when its AggregateSignature is fakeSignature of it. Chains in
// sizes have committees; the others are unknown.
type fakeCommittees struct {
	sizes map[types.ChainID]int
}

func (f fakeCommittees) Size(chain types.ChainID) int { return f.sizes[chain] }

func (f fakeCommittees) VerifyCertificate(chain types.ChainID, cert *types.Certificate) bool {
	return chain == cert.ChainID && cert.AggregateSignature == fakeSignature(cert)
}

// fakeSignature binds the signing bytes and the signer set.
func fakeSignature(cert *types.Certificate) [types.BLSSignatureSize]byte {
	var sig [types.BLSSignatureSize]byte
	d := hash.Sum256(append(cert.VoteSigningBytes(), cert.Signers.Bitmap()...))
	copy(sig[:], d[:])
	sig[types.BLSSignatureSize-1] = 1
	return sig
}

// committeesFor gives every child of recorder a committee of testCommittee.
func committeesFor(topo *chains.Topology, recorder types.ChainID) fakeCommittees {
	c := fakeCommittees{sizes: map[types.ChainID]int{}}
	for _, id := range topo.Children(recorder) {
		c.sizes[id] = testCommittee
	}
	return c
}

func filled(b byte) types.Hash {
	var h types.Hash
	for i := range h {
		h[i] = b + byte(i)
	}
	return h
}

func mustUniform(tb fatalReporter, n int) *chains.Topology {
	tb.Helper()
	topo, err := chains.Uniform(n)
	if err != nil {
		tb.Fatalf("topology: %v", err)
	}
	return topo
}

// genesisOf returns a genesis header for every chain of topo.
func genesisOf(topo *chains.Topology) map[types.ChainID]types.Header {
	g := map[types.ChainID]types.Header{}
	for _, c := range topo.Chains() {
		g[c.ID] = types.Header{
			Version:         types.HeaderVersion,
			ChainID:         c.ID,
			TimestampMillis: 1_700_000_000_000,
			StateRoot:       filled(byte(c.ID)),
		}
	}
	return g
}

func mustState(tb fatalReporter, topo *chains.Topology, recorder types.ChainID) *State {
	tb.Helper()
	st, err := NewState(recorder, topo, genesisOf(topo))
	if err != nil {
		tb.Fatalf("new state: %v", err)
	}
	return st
}

// blockAfter returns a non-empty header extending parent; salt varies its
// content.
func blockAfter(parent *types.Header, salt byte) types.Header {
	return types.Header{
		Version:         types.HeaderVersion,
		ChainID:         parent.ChainID,
		Height:          parent.Height + 1,
		Epoch:           parent.Epoch,
		Round:           types.Round(salt % 3),
		ParentHash:      parent.Hash(),
		TimestampMillis: parent.TimestampMillis + 1000,
		Proposer:        types.ValidatorIndex(salt % testCommittee),
		InputRoot:       filled(salt),
		InterRelayRoot:  filled(salt + 1),
		OuterRelayRoot:  filled(salt + 2),
		RecordRoot:      filled(salt + 3),
		StateRoot:       filled(salt + 4),
	}
}

// certify returns the record of h with a confirm certificate of the given
// signers of a committee of testCommittee, signed with fakeSignature.
func certify(tb fatalReporter, h types.Header, signers ...types.ValidatorIndex) Record {
	tb.Helper()
	if len(signers) == 0 {
		signers = []types.ValidatorIndex{0, 1, 2}
	}
	return certifyN(tb, h, testCommittee, signers...)
}

func certifyN(tb fatalReporter, h types.Header, n int, signers ...types.ValidatorIndex) Record {
	tb.Helper()
	set, err := types.NewSignerSet(n)
	if err != nil {
		tb.Fatalf("signer set: %v", err)
	}
	for _, s := range signers {
		if err := set.Add(s); err != nil {
			tb.Fatalf("signer set: %v", err)
		}
	}
	cert := types.Certificate{ChainID: h.ChainID, Height: h.Height, Round: h.Round, Kind: types.VoteConfirm, Signers: set}
	if !h.Empty {
		cert.BlockHash = h.Hash()
	}
	cert.AggregateSignature = fakeSignature(&cert)
	return Record{Header: h, Certificate: cert}
}

// resign recomputes a record's fake signature after a test changed it.
func resign(r *Record) { r.Certificate.AggregateSignature = fakeSignature(&r.Certificate) }

// history returns records of heights 1..n of chain extending genesis;
// heights in empty are decided EMPTY.
func history(tb fatalReporter, genesis types.Header, n int, empty map[int]bool, salt byte) []Record {
	tb.Helper()
	out := make([]Record, 0, n)
	parent := genesis
	for i := 1; i <= n; i++ {
		var h types.Header
		if empty[i] {
			h = types.EmptyHeader(&parent)
		} else {
			h = blockAfter(&parent, salt+byte(i))
		}
		out = append(out, certify(tb, h))
		parent = h
	}
	return out
}

// headerFor returns a recorder header for res, at height 1 of recorder.
func headerFor(st *State, res *Result) types.Header {
	h := types.Header{Version: types.HeaderVersion, ChainID: st.Recorder(), Height: 1, ParentHash: filled(0xee), TimestampMillis: 1}
	res.SetHeader(&h)
	return h
}

func encodeOf(tb fatalReporter, v interface{ MarshalBinary() ([]byte, error) }) []byte {
	tb.Helper()
	b, err := v.MarshalBinary()
	if err != nil {
		tb.Fatalf("encode: %v", err)
	}
	return b
}

var codecSentinels = []error{
	codec.ErrTruncated, codec.ErrTrailingBytes, codec.ErrNonCanonical, codec.ErrTooLarge,
	codec.ErrUnknownKind, codec.ErrWrongType, codec.ErrUnsupportedVersion,
}

func wrapsCodecSentinel(err error) bool {
	for _, s := range codecSentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func bodiesEqual(tb fatalReporter, a, b *Body) bool {
	tb.Helper()
	return bytes.Equal(encodeOf(tb, a), encodeOf(tb, b))
}

func mustEmptyRoot() types.Hash { return merkle.EmptyRoot() }
