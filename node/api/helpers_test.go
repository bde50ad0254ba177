package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/light"
	"github.com/thinkey/thinkey/node/relay"
	"github.com/thinkey/thinkey/node/types"
)

// fakeNode is a Node over fixed data. Submissions are judged by verdict
// (nil: admit everything).
type fakeNode struct {
	mu        sync.Mutex
	submitted []types.Message
	verdict   func(m *types.Message) error
	// err, when set, is returned by every method that returns an error.
	err error
	// shortResults makes SubmitMessages return one result too few.
	shortResults bool
	// panicMsg makes every method panic with it.
	panicMsg string

	statuses map[types.Hash]MessageStatus
	accounts map[types.Address]AccountView
	// elsewhere are accounts of chains the node does not run.
	elsewhere map[types.Address]types.ChainID
	chains    []ChainInfo
	blocks    map[types.ChainID][]BlockView
	status    StatusView
	health    error
	lastProof bool
	lastRef   BlockRef

	// Light proofs by chain and height, address and relay ID. A nil
	// entry makes the method return nil, nil (a broken node).
	lightHeaders  map[[2]uint64]*light.HeaderProof
	lightAccounts map[types.Address]*light.AccountProof
	lightRelays   map[types.Hash]*light.RelayProof
}

func (f *fakeNode) check() error {
	if f.panicMsg != "" {
		panic(f.panicMsg)
	}
	return f.err
}

func (f *fakeNode) SubmitMessages(_ context.Context, msgs []types.Message) ([]SubmitResult, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]SubmitResult, len(msgs))
	for i := range msgs {
		f.submitted = append(f.submitted, msgs[i].Clone())
		out[i].Chain = 1
		if f.verdict != nil {
			out[i].Err = f.verdict(&msgs[i])
		}
	}
	if f.shortResults {
		out = out[:len(out)-1]
	}
	return out, nil
}

func (f *fakeNode) MessageStatus(_ context.Context, id types.Hash) (MessageStatus, error) {
	if err := f.check(); err != nil {
		return MessageStatus{}, err
	}
	st, ok := f.statuses[id]
	if !ok {
		return st, fmt.Errorf("message %v: %w", id, ErrNotFound)
	}
	return st, nil
}

func (f *fakeNode) Account(_ context.Context, addr types.Address, withProof bool) (AccountView, error) {
	if err := f.check(); err != nil {
		return AccountView{}, err
	}
	f.mu.Lock()
	f.lastProof = withProof
	f.mu.Unlock()
	if c, ok := f.elsewhere[addr]; ok {
		return AccountView{}, &WrongChainError{Chain: c, Err: fmt.Errorf("account %v: it is on chain %d, run by the nodes at 10.0.0.3:7600", addr, c)}
	}
	a, ok := f.accounts[addr]
	if !ok {
		return a, fmt.Errorf("account %v: %w", addr, ErrNotFound)
	}
	if !withProof {
		a.Proof = nil
	}
	return a, nil
}

func (f *fakeNode) Chains() []ChainInfo {
	_ = f.check()
	return f.chains
}

func (f *fakeNode) Block(_ context.Context, chain types.ChainID, ref BlockRef) (BlockView, error) {
	if err := f.check(); err != nil {
		return BlockView{}, err
	}
	f.mu.Lock()
	f.lastRef = ref
	f.mu.Unlock()
	for _, c := range f.chains {
		if c.ID == chain && !c.Served {
			return BlockView{}, &WrongChainError{Chain: chain, Err: fmt.Errorf("chain %d is not run by this node", chain)}
		}
	}
	for _, b := range f.blocks[chain] {
		if (ref.ByHash && b.Hash == ref.Hash) || (!ref.ByHash && b.Header.Height == ref.Height) {
			return b, nil
		}
	}
	return BlockView{}, fmt.Errorf("block %d/%v: %w", chain, ref, ErrNotFound)
}

func (f *fakeNode) LightHeader(chain types.ChainID, height types.Height) (*light.HeaderProof, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	p, ok := f.lightHeaders[[2]uint64{uint64(chain), uint64(height)}]
	if !ok {
		return nil, fmt.Errorf("light header %d/%d: %w", chain, height, ErrNotFound)
	}
	return p, nil
}

func (f *fakeNode) LightAccount(addr types.Address) (*light.AccountProof, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	p, ok := f.lightAccounts[addr]
	if !ok {
		return nil, fmt.Errorf("light account %v: %w", addr, ErrNotFound)
	}
	return p, nil
}

func (f *fakeNode) LightRelay(id types.Hash) (*light.RelayProof, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	p, ok := f.lightRelays[id]
	if !ok {
		return nil, fmt.Errorf("light relay %v: %w", id, ErrNotFound)
	}
	return p, nil
}

func (f *fakeNode) Status() StatusView {
	_ = f.check()
	return f.status
}

func (f *fakeNode) Healthy() error {
	_ = f.check()
	return f.health
}

func testKey(i int) ed25519.PrivateKey {
	var seed [ed25519.SeedSize]byte
	seed[0], seed[31] = byte(i), 0xa1
	k, err := ed25519.NewKeyFromSeed(seed[:])
	if err != nil {
		panic(err)
	}
	return k
}

// fixture is the data the fake node serves in the tests.
type fixture struct {
	node     *fakeNode
	msg      types.Message // a signed transfer, pending
	included types.Message
	account  AccountView
	// elsewhere is an account of chain 2, which the node does not run.
	elsewhere types.Address
	block     BlockView
	blockHash types.Hash
	// Light proofs of block 7 of chain 1 (lifted to root block 40), of
	// the account and of an outer relay of the block. Their shape is
	// right; their roots and signature are made up.
	lightHeader  light.HeaderProof
	lightAccount light.AccountProof
	lightRelay   light.RelayProof
	outer        types.Message
}

func newFixture() *fixture {
	key := testKey(1)
	msg := actor.NewTransfer(key, 0, types.Address{0xee}, 10)
	included := actor.NewTransfer(key, 1, types.Address{0xee}, 20)
	addr := actor.AddressFromPublicKey(key.Public())
	inter := types.Message{Kind: types.MessageInterRelay, From: addr, To: types.Address{0xee}, Cause: included.ID(),
		Value: 20, Method: []byte("add")}
	cert := &types.Certificate{ChainID: 1, Height: 7, Kind: types.VoteConfirm, BlockHash: types.Hash{0xbb}}
	cert.Signers, _ = types.NewSignerSet(4)
	_ = cert.Signers.Add(0)
	_ = cert.Signers.Add(2)
	block := BlockView{
		Hash: types.Hash{0xbb},
		Header: types.Header{Version: types.HeaderVersion, ChainID: 1, Height: 7, Epoch: 2, TimestampMillis: 1_700_000_000_000,
			StateRoot: types.Hash{0x51}},
		Confirmed:   true,
		Certificate: cert,
		Inputs:      []types.Message{included},
		InterRelay:  []types.Message{inter},
	}
	account := AccountView{
		Address: addr, Chain: 1, Height: 7, StateRoot: types.Hash{0x51}, Balance: 980, Nonce: 2,
		Proof: &AccountProof{Scheme: "merkle-sha256/v1", Leaf: []byte{0x10, 1, 2}, LeafIndex: 3, LeafCount: 5,
			Siblings: []types.Hash{{1}, {2}, {3}}},
	}
	outer := types.Message{Kind: types.MessageOuterRelay, From: addr, To: types.Address{0xcc}, SourceChain: 1,
		Cause: included.ID(), Value: 5, Method: []byte("add")}
	root := types.Header{Version: types.HeaderVersion, ChainID: 0, Height: 40, ParentHash: types.Hash{0x39},
		InputRoot: types.Hash{0x44}, StateRoot: types.Hash{0x55}}
	rootCert := types.Certificate{ChainID: 0, Height: 40, Kind: types.VoteConfirm, BlockHash: root.Hash(),
		AggregateSignature: [types.BLSSignatureSize]byte{0xa0}}
	rootCert.Signers, _ = types.NewSignerSet(4)
	for i := range types.ValidatorIndex(3) {
		_ = rootCert.Signers.Add(i)
	}
	lightHeader := light.HeaderProof{
		Header:          block.Header,
		Lifts:           []relay.Lift{{Recorder: root, Path: merkle.Proof{Index: 1, LeafCount: 2, Siblings: []types.Hash{{0x01}}}}},
		RootCertificate: rootCert,
	}
	acct := actor.Account{Address: addr, Balance: 980, Nonce: 2}
	acctEnc, _ := acct.MarshalBinary()
	lightAccount := light.AccountProof{Block: lightHeader, Account: acctEnc, Path: merkle.Proof{Index: 0, LeafCount: 1}}
	lightRelay := light.RelayProof{Block: lightHeader, Message: outer, Path: merkle.Proof{Index: 0, LeafCount: 1}}
	return &fixture{
		lightHeader:  lightHeader,
		lightAccount: lightAccount,
		lightRelay:   lightRelay,
		outer:        outer,
		node: &fakeNode{
			lightHeaders:  map[[2]uint64]*light.HeaderProof{{1, 7}: &lightHeader, {1, 8}: nil},
			lightAccounts: map[types.Address]*light.AccountProof{addr: &lightAccount},
			lightRelays:   map[types.Hash]*light.RelayProof{outer.ID(): &lightRelay},
			statuses: map[types.Hash]MessageStatus{
				msg.ID():      {State: StatePending},
				included.ID(): {State: StateConfirmed, Chain: 1, Height: 7, BlockHash: block.Hash},
			},
			accounts:  map[types.Address]AccountView{addr: account},
			elsewhere: map[types.Address]types.ChainID{{0xc0}: 2},
			chains: []ChainInfo{
				{ID: 0, Root: true, Kind: chains.Root, Served: true, Height: 40, Confirmed: 40, Epoch: 2},
				{ID: 1, Kind: chains.Transaction, Served: true, Prefix: 0b01, PrefixBits: 2, Height: 7, HeadHash: block.Hash,
					Confirmed: 6, Epoch: 2, Pending: 1},
				{ID: 2, Kind: chains.Transaction, Prefix: 0b11, PrefixBits: 2, Height: 3, Confirmed: 3, Epoch: 2},
			},
			blocks: map[types.ChainID][]BlockView{1: {block}},
			status: StatusView{Version: "test", NodeID: "n1", Genesis: types.Hash{0x9e}, Peers: 3,
				StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Chains: []types.ChainID{0, 1}, Pending: 1},
		},
		msg:       msg,
		included:  included,
		account:   account,
		elsewhere: types.Address{0xc0},
		block:     block,
		blockHash: block.Hash,
	}
}

func testServer(node Node) (*Server, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	return NewServer(config.API{Listen: "127.0.0.1:0", MaxBodyBytes: 64 << 10}, node, reg, nil), reg
}

// do serves one request and returns the recorder.
func do(h http.Handler, method, target, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// decode parses a JSON response body into a generic map.
func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q, want application/json (body %q)", ct, rec.Body.String())
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("response is not a JSON object: %v: %q", err, rec.Body.String())
	}
	return out
}

func rawJSON(m types.Message) string {
	b, err := m.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf(`{"raw":%q}`, hex.EncodeToString(b))
}

// fieldsJSON writes m in the JSON field form.
func fieldsJSON(m types.Message) string {
	b, err := json.Marshal(toMessageJSON(&m))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// logBuffer collects log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
