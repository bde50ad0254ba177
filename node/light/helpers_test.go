package light

import (
	"bytes"
	"slices"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/rootchain"
	"github.com/thinkey/thinkey/node/types"
)

type fatalReporter interface {
	Helper()
	Fatalf(format string, args ...any)
}

// rootCommittee is the size of the root committee of the tests: f = 1,
// quorum 3.
const rootCommittee = 4

// world is a small network seen from the root chain, with real BLS
// signatures of the root committee:
//
//	chain 0  root                          records chains 1 and 2
//	chain 1  transaction, prefix 0         block tx at height 5, EMPTY after it
//	chain 2  coordinator, prefix 1         block coord at height 9 records chain 3
//	chain 3  transaction, prefix 10        block sub at height 4
//	chain 4  transaction, prefix 11
type world struct {
	keys []*bls.SecretKey
	pubs []*bls.PublicKey
	topo *chains.Topology

	// accounts is chain 1's state after tx, in address order; the last
	// one's address belongs to chain 4 (a state no honest chain 1 has).
	accounts []actor.Account
	leaves   []exec.AccountLeaf
	// relays are tx's outer relays, in ID order: to chain 3, to chain 4,
	// and one to an account of chain 1 itself (no honest block has it).
	relays exec.Body

	tx, empty, sub, coord, root types.Header
	rootBody, coordBody         rootchain.Body
	// cert is the root committee's confirm certificate of root, by
	// members 0, 1 and 2.
	cert types.Certificate
}

func filled(b byte) types.Hash {
	var h types.Hash
	for i := range h {
		h[i] = b + byte(i)
	}
	return h
}

func address(first byte) types.Address {
	var a types.Address
	for i := range a {
		a[i] = first + byte(i)
	}
	return a
}

func rootKeys(tb fatalReporter, salt byte, n int) ([]*bls.SecretKey, []*bls.PublicKey) {
	tb.Helper()
	sks := make([]*bls.SecretKey, n)
	pks := make([]*bls.PublicKey, n)
	for i := range sks {
		ikm := bytes.Repeat([]byte{salt, byte(i)}, 16)
		sk, err := bls.GenerateKey(ikm)
		if err != nil {
			tb.Fatalf("key %d: %v", i, err)
		}
		sks[i], pks[i] = sk, sk.PublicKey()
	}
	return sks, pks
}

func header(chain types.ChainID, height types.Height, salt byte) types.Header {
	return types.Header{
		Version:         types.HeaderVersion,
		ChainID:         chain,
		Height:          height,
		Epoch:           1,
		Round:           types.Round(salt % 2),
		ParentHash:      filled(salt),
		TimestampMillis: 1_700_000_000_000 + uint64(salt)*1000,
		Proposer:        types.ValidatorIndex(salt % 4),
		InputRoot:       filled(salt + 1),
		InterRelayRoot:  filled(salt + 2),
		OuterRelayRoot:  filled(salt + 3),
		RecordRoot:      filled(salt + 4),
		StateRoot:       filled(salt + 5),
	}
}

// recorderBody returns the body recording headers (in canonical order)
// and its record root.
func recorderBody(headers ...types.Header) (rootchain.Body, types.Hash) {
	var b rootchain.Body
	leaves := make([]types.Hash, len(headers))
	for i, h := range headers {
		b.Records = append(b.Records, rootchain.Record{Header: h})
		leaves[i] = b.Records[i].Leaf()
	}
	return b, merkle.RootFromLeafHashes(leaves)
}

func newWorld(tb fatalReporter) *world {
	tb.Helper()
	w := &world{}
	w.keys, w.pubs = rootKeys(tb, 0x5a, rootCommittee)
	topo, err := chains.Uniform(2)
	if err == nil {
		topo, err = topo.WithSubChains(2, 1, 3)
	}
	if err != nil {
		tb.Fatalf("topology: %v", err)
	}
	w.topo = topo

	for i, first := range []byte{0x01, 0x22, 0x40, 0xc0} {
		a := actor.Account{Address: address(first), Balance: 1000 * uint64(i+1), Nonce: uint64(i)}
		if i == 1 {
			a.Code = []byte("def f():\n    pass\n")
			st, err := actor.NewStorage([]actor.StorageEntry{{Key: []byte("k"), Value: []byte("v")}})
			if err != nil {
				tb.Fatalf("storage: %v", err)
			}
			a.Storage = st
		}
		w.accounts = append(w.accounts, a)
		w.leaves = append(w.leaves, exec.AccountLeaf{Address: a.Address, Hash: a.LeafHash()})
	}
	stateLeaves := make([]types.Hash, len(w.leaves))
	for i := range w.leaves {
		stateLeaves[i] = w.leaves[i].Hash
	}

	for i, to := range []byte{0x90, 0xd0, 0x10} {
		w.relays.OuterRelay = append(w.relays.OuterRelay, types.Message{
			Kind: types.MessageOuterRelay, From: address(0x01), To: address(to), SourceChain: 1,
			Cause: filled(0x70 + byte(i)), Nonce: uint64(i), Value: 10 * uint64(i+1), Method: []byte("add"),
		})
	}
	slices.SortFunc(w.relays.OuterRelay, func(a, b types.Message) int {
		ia, ib := a.ID(), b.ID()
		return bytes.Compare(ia[:], ib[:])
	})
	relayLeaves := make([]types.Hash, len(w.relays.OuterRelay))
	for i := range w.relays.OuterRelay {
		relayLeaves[i] = exec.RelayLeaf(w.relays.OuterRelay[i].ID())
	}

	w.tx = header(1, 5, 0x10)
	w.tx.StateRoot = merkle.RootFromLeafHashes(stateLeaves)
	w.tx.OuterRelayRoot = merkle.RootFromLeafHashes(relayLeaves)
	w.empty = types.EmptyHeader(&w.tx)

	w.sub = header(3, 4, 0x30)
	w.coord = header(2, 9, 0x20)
	w.coordBody, w.coord.InputRoot = recorderBody(header(3, 3, 0x31), w.sub)

	w.root = header(0, 40, 0x40)
	w.root.InterRelayRoot, w.root.OuterRelayRoot, w.root.RecordRoot = types.Hash{}, types.Hash{}, types.Hash{}
	w.rootBody, w.root.InputRoot = recorderBody(w.tx, w.empty, w.coord)
	w.cert = w.certify(tb, &w.root, types.VoteConfirm, 0, 1, 2)
	return w
}

// certify returns a certificate of kind for h signed by the given members
// of the world's root committee.
func (w *world) certify(tb fatalReporter, h *types.Header, kind types.VoteKind, signers ...types.ValidatorIndex) types.Certificate {
	tb.Helper()
	cert := types.Certificate{ChainID: h.ChainID, Height: h.Height, Round: h.Round, Kind: kind, BlockHash: h.Hash()}
	return signCert(tb, cert, w.keys, len(w.keys), signers...)
}

// signCert signs cert's vote bytes with the keys of signers and sets its
// signer set, for a committee of n.
func signCert(tb fatalReporter, cert types.Certificate, keys []*bls.SecretKey, n int, signers ...types.ValidatorIndex) types.Certificate {
	tb.Helper()
	set, err := types.NewSignerSet(n)
	if err != nil {
		tb.Fatalf("signer set: %v", err)
	}
	msg := cert.VoteSigningBytes()
	sigs := make([][types.BLSSignatureSize]byte, len(signers))
	for i, s := range signers {
		if err := set.Add(s); err != nil {
			tb.Fatalf("signer set: %v", err)
		}
		sigs[i] = consensus.BLSSigner{Key: keys[s]}.Sign(msg)
	}
	cert.Signers = set
	if cert.AggregateSignature, err = (consensus.BLSAggregator{}).Aggregate(sigs); err != nil {
		tb.Fatalf("aggregate: %v", err)
	}
	return cert
}

func proveRecord(tb fatalReporter, body *rootchain.Body, h *types.Header) merkle.Proof {
	tb.Helper()
	p, err := rootchain.ProveRecord(body, h.ChainID, h.Height)
	if err != nil {
		tb.Fatalf("prove record: %v", err)
	}
	return p
}

// rootProof proves the root header itself: no lift.
func (w *world) rootProof() HeaderProof {
	return HeaderProof{Header: w.root, RootCertificate: w.cert}
}

// txProof proves chain 1's block tx with one lift to the root.
func (w *world) txProof(tb fatalReporter) HeaderProof {
	tb.Helper()
	return HeaderProof{
		Header:          w.tx,
		Lifts:           []relay.Lift{{Recorder: w.root, Path: proveRecord(tb, &w.rootBody, &w.tx)}},
		RootCertificate: w.cert,
	}
}

// emptyProof proves chain 1's EMPTY block after tx.
func (w *world) emptyProof(tb fatalReporter) HeaderProof {
	tb.Helper()
	return HeaderProof{
		Header:          w.empty,
		Lifts:           []relay.Lift{{Recorder: w.root, Path: proveRecord(tb, &w.rootBody, &w.empty)}},
		RootCertificate: w.cert,
	}
}

// subProof proves chain 3's block sub with two lifts: to its coordinator,
// chain 2, then to the root.
func (w *world) subProof(tb fatalReporter) HeaderProof {
	tb.Helper()
	return HeaderProof{
		Header: w.sub,
		Lifts: []relay.Lift{
			{Recorder: w.coord, Path: proveRecord(tb, &w.coordBody, &w.sub)},
			{Recorder: w.root, Path: proveRecord(tb, &w.rootBody, &w.coord)},
		},
		RootCertificate: w.cert,
	}
}

// accountProof proves chain 1's account i after tx.
func (w *world) accountProof(tb fatalReporter, i int) AccountProof {
	tb.Helper()
	enc, err := w.accounts[i].MarshalBinary()
	if err != nil {
		tb.Fatalf("encode account: %v", err)
	}
	path, err := exec.ProveAccount(w.leaves, w.accounts[i].Address)
	if err != nil {
		tb.Fatalf("prove account: %v", err)
	}
	return AccountProof{Block: w.txProof(tb), Account: enc, Path: path}
}

// relayTo returns the index in w.relays.OuterRelay of the relay to the
// address starting with first.
func (w *world) relayTo(tb fatalReporter, first byte) int {
	tb.Helper()
	i := slices.IndexFunc(w.relays.OuterRelay, func(m types.Message) bool { return m.To == address(first) })
	if i < 0 {
		tb.Fatalf("no relay to %x", first)
	}
	return i
}

// relayProof proves tx's outer relay i.
func (w *world) relayProof(tb fatalReporter, i int) RelayProof {
	tb.Helper()
	m := w.relays.OuterRelay[i]
	path, err := exec.ProveRelay(&w.relays, m.ID())
	if err != nil {
		tb.Fatalf("prove relay: %v", err)
	}
	return RelayProof{Block: w.txProof(tb), Message: m.Clone(), Path: path}
}

func mustEncode(tb fatalReporter, v interface{ MarshalBinary() ([]byte, error) }) []byte {
	tb.Helper()
	b, err := v.MarshalBinary()
	if err != nil {
		tb.Fatalf("encode %T: %v", v, err)
	}
	return b
}

// clone returns a deep copy of p, so that cases can tamper with it.
func (p HeaderProof) clone() HeaderProof {
	c := p
	c.Lifts = slices.Clone(p.Lifts)
	for i := range c.Lifts {
		c.Lifts[i].Path.Siblings = slices.Clone(p.Lifts[i].Path.Siblings)
	}
	return c
}
