package relay

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// The test topology (paper Fig. 4): the root records coordinator 1 and
// transaction chain 2; coordinator 1 records its sub-chains 3 and 4.
//
//	0 root
//	├── 1 coordinator, prefix 0
//	│   ├── 3 transaction, prefix 00
//	│   └── 4 transaction, prefix 01
//	└── 2 transaction, prefix 1
const (
	coord  types.ChainID = 1
	chainA types.ChainID = 2 // top level
	chainB types.ChainID = 3 // sub-chain of coord
	chainC types.ChainID = 4 // sibling of chainB
)

// fatalReporter is what helpers need of a *testing.T, *testing.B or
// *rapid.T.
type fatalReporter interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func testTopology(tb fatalReporter) *chains.Topology {
	tb.Helper()
	topo, err := chains.New([]chains.Chain{
		{ID: types.RootChain, Kind: chains.Root},
		{ID: coord, Kind: chains.Coordinator, Parent: types.RootChain, Prefix: 0, PrefixBits: 1},
		{ID: chainA, Kind: chains.Transaction, Parent: types.RootChain, Prefix: 1, PrefixBits: 1},
		{ID: chainB, Kind: chains.Transaction, Parent: coord, Prefix: 0, PrefixBits: 2},
		{ID: chainC, Kind: chains.Transaction, Parent: coord, Prefix: 1, PrefixBits: 2},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return topo
}

// addrOn returns an address of chain c of the test topology, distinct per n.
func addrOn(c types.ChainID, n uint64) types.Address {
	var a types.Address
	switch c {
	case chainA:
		a[0] = 0x80
	case chainB:
		a[0] = 0x00
	case chainC:
		a[0] = 0x40
	}
	binary.BigEndian.PutUint64(a[12:], n)
	return a
}

// relayMsg returns an outer relay of source to an account of dest.
func relayMsg(source, dest types.ChainID, n uint64) types.Message {
	cause := hash.Sum256(binary.BigEndian.AppendUint64(nil, n))
	return types.Message{
		Kind: types.MessageOuterRelay, From: addrOn(source, n), To: addrOn(dest, n),
		SourceChain: source, Cause: cause, Nonce: n % 3, Value: 10 + n, Method: []byte("add"),
	}
}

// sourceBlock returns the header and body of a block of chain at height
// whose outer relays are msgs (sorted by ID, as exec orders them).
func sourceBlock(chain types.ChainID, height types.Height, msgs []types.Message) (types.Header, exec.Body) {
	msgs = slices.Clone(msgs)
	slices.SortFunc(msgs, func(a, b types.Message) int {
		ia, ib := a.ID(), b.ID()
		return bytes.Compare(ia[:], ib[:])
	})
	leaves := make([]types.Hash, len(msgs))
	for i := range msgs {
		leaves[i] = exec.RelayLeaf(msgs[i].ID())
	}
	h := types.Header{
		Version: types.HeaderVersion, ChainID: chain, Height: height, Round: 1,
		ParentHash: hash.Sum256([]byte{byte(chain), byte(height)}), TimestampMillis: 1_700_000_000_000 + uint64(height),
		OuterRelayRoot: merkle.RootFromLeafHashes(leaves),
		StateRoot:      hash.Sum256([]byte("state")),
	}
	return h, exec.Body{OuterRelay: msgs}
}

// recorderBlock returns a block of chain recording the given headers (and
// two unrelated ones, so that paths have siblings) and the path of each
// recorded header.
func recorderBlock(tb fatalReporter, chain types.ChainID, height types.Height, recorded ...*types.Header) (types.Header, []merkle.Proof) {
	tb.Helper()
	var leaves []types.Hash
	for i := range 2 {
		leaves = append(leaves, merkle.LeafHash([]byte{byte(chain), byte(height), byte(i)}))
	}
	for _, h := range recorded {
		hh := h.Hash()
		leaves = append(leaves, merkle.LeafHash(hh[:]))
	}
	rh := types.Header{
		Version: types.HeaderVersion, ChainID: chain, Height: height,
		ParentHash: hash.Sum256([]byte{0xee, byte(chain), byte(height)}), TimestampMillis: 1_700_000_000_000,
		InputRoot: merkle.RootFromLeafHashes(leaves), StateRoot: hash.Sum256([]byte("recorder state")),
	}
	paths := make([]merkle.Proof, len(recorded))
	for i := range recorded {
		p, err := merkle.Prove(leaves, uint64(2+i))
		if err != nil {
			tb.Fatal(err)
		}
		paths[i] = p
	}
	return rh, paths
}

// lift adds to p a hop to a new block of chain recording p.Last(), and
// returns that block's header.
func lift(tb fatalReporter, p *Proof, chain types.ChainID, height types.Height) types.Header {
	tb.Helper()
	rh, paths := recorderBlock(tb, chain, height, p.Last())
	if err := AddLift(p, &rh, paths[0]); err != nil {
		tb.Fatal(err)
	}
	return rh
}

type chainHeight struct {
	chain  types.ChainID
	height types.Height
}

// anchors is a set of recorded headers.
type anchors map[chainHeight]Anchor

func (a anchors) Confirmed(c types.ChainID, height types.Height, h types.Hash) bool {
	an, ok := a[chainHeight{c, height}]
	return ok && an.Hash == h
}

func (a anchors) Recorded(c types.ChainID, height types.Height) (Anchor, bool) {
	an, ok := a[chainHeight{c, height}]
	return an, ok
}

func (a anchors) confirm(h *types.Header) {
	a[chainHeight{h.ChainID, h.Height}] = Anchor{Hash: h.Hash(), OuterRelayRoot: h.OuterRelayRoot}
}

func (a anchors) forget(h *types.Header) { delete(a, chainHeight{h.ChainID, h.Height}) }

// consumed is a set of consumed relay IDs.
type consumed map[types.Hash]bool

func (c consumed) Consumed(id types.Hash) bool { return c[id] }

func encodeProof(tb fatalReporter, p interface{ MarshalBinary() ([]byte, error) }) []byte {
	tb.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func decodeRef(tb fatalReporter, proof []byte) RefProof {
	tb.Helper()
	r, err := DecodeRefProof(proof)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// fullForm returns the full form, with no lift, of a package proved by
// reference: what a source node that has the header could send.
func fullForm(tb fatalReporter, pkg Package, source *types.Header) Package {
	tb.Helper()
	r := decodeRef(tb, pkg.Proof)
	if r.Chain != source.ChainID || r.Height != source.Height {
		tb.Fatalf("reference to chain %d height %d, header of chain %d height %d", r.Chain, r.Height, source.ChainID, source.Height)
	}
	return Package{Message: pkg.Message, Proof: encodeProof(tb, &Proof{Source: *source, Path: r.Path})}
}

// outbox returns the packages of a source block, failing the test on error.
func outbox(tb fatalReporter, h *types.Header, body *exec.Body, topo *chains.Topology) []Addressed {
	tb.Helper()
	out, err := Outbox(h, body, topo)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
