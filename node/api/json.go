package api

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// MaxBatchMessages bounds the messages of one POST /v1/messages.
const MaxBatchMessages = 4096

// The JSON bodies. Byte strings are lower-case hex without a prefix on
// output; on input a "0x" prefix and upper case are accepted. Integers are
// JSON numbers (uint64 values may exceed 2^53: parse them as such).

// errorJSON is every error body. Chain is set for wrong_chain when the
// node knows which chain to ask.
type errorJSON struct {
	Error string  `json:"error"`
	Code  string  `json:"code"`
	Chain *uint32 `json:"chain,omitempty"`
}

// messageJSON is a message as the API shows it.
type messageJSON struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	From        string `json:"from"`
	To          string `json:"to"`
	SourceChain uint32 `json:"source_chain"`
	Cause       string `json:"cause,omitempty"`
	Nonce       uint64 `json:"nonce"`
	Value       uint64 `json:"value"`
	Method      string `json:"method"`
	Args        string `json:"args"`
	SenderKey   string `json:"sender_key"`
	Signature   string `json:"signature"`
}

// messageInput is a submitted message: either Raw alone (with an optional
// ID), or the fields of messageJSON. Pointers tell absent from zero.
type messageInput struct {
	Raw         *string `json:"raw"`
	ID          *string `json:"id"`
	Kind        *string `json:"kind"`
	From        *string `json:"from"`
	To          *string `json:"to"`
	SourceChain *uint32 `json:"source_chain"`
	Cause       *string `json:"cause"`
	Nonce       *uint64 `json:"nonce"`
	Value       *uint64 `json:"value"`
	Method      *string `json:"method"`
	Args        *string `json:"args"`
	SenderKey   *string `json:"sender_key"`
	Signature   *string `json:"signature"`
}

// submitRequest is the body of POST /v1/messages: one messageInput, or
// Messages alone.
type submitRequest struct {
	messageInput
	Messages *[]messageInput `json:"messages"`
}

// hasFields reports whether any message field (not Raw, not ID) is set.
func (in *messageInput) hasFields() bool {
	return in.Kind != nil || in.From != nil || in.To != nil || in.SourceChain != nil || in.Cause != nil ||
		in.Nonce != nil || in.Value != nil || in.Method != nil || in.Args != nil || in.SenderKey != nil || in.Signature != nil
}

// message builds the message an input describes and checks that it has an
// encoding (and the given ID, if any). where prefixes errors ("",
// "messages[3].").
func (in *messageInput) message(where string) (types.Message, *requestError) {
	var m types.Message
	if in.Raw != nil {
		if in.hasFields() {
			return m, badRequest(CodeBadBatch, "%sraw: a raw message takes no other field than id", where)
		}
		b, err := decodeHex(*in.Raw)
		if err != nil {
			return m, badRequest(CodeBadHex, "%sraw: %v", where, err)
		}
		if m, err = types.DecodeMessage(b); err != nil {
			return m, badRequest(CodeBadMessage, "%sraw: %v", where, err)
		}
	} else {
		var rerr *requestError
		if m, rerr = in.fields(where); rerr != nil {
			return m, rerr
		}
		if _, err := m.AppendBinary(nil); err != nil {
			return m, badRequest(CodeBadMessage, "%smessage has no encoding: %v", where, err)
		}
	}
	if in.ID != nil {
		var want types.Hash
		if err := decodeFixed(*in.ID, want[:]); err != nil {
			return m, badRequest(CodeBadHex, "%sid: %v", where, err)
		}
		if got := m.ID(); got != want {
			return m, badRequest(CodeIDMismatch, "%sid: %v given, the message's ID is %v", where, want, got)
		}
	}
	return m, nil
}

// fields builds a message from the JSON fields.
func (in *messageInput) fields(where string) (types.Message, *requestError) {
	var m types.Message
	for _, f := range []struct {
		name string
		v    *string
	}{{"from", in.From}, {"to", in.To}, {"sender_key", in.SenderKey}, {"signature", in.Signature}} {
		if f.v == nil {
			return m, badRequest(CodeMissingField, "%s%s: required", where, f.name)
		}
	}
	m.Kind = types.MessageExternal
	if in.Kind != nil {
		k, ok := parseKind(*in.Kind)
		if !ok {
			return m, badRequest(CodeBadMessage, "%skind: %q is not external, inter-relay or outer-relay", where, *in.Kind)
		}
		m.Kind = k
	}
	fixed := []struct {
		name string
		v    *string
		dst  []byte
	}{
		{"from", in.From, m.From[:]},
		{"to", in.To, m.To[:]},
		{"cause", in.Cause, m.Cause[:]},
		{"sender_key", in.SenderKey, m.SenderKey[:]},
		{"signature", in.Signature, m.Signature[:]},
	}
	for _, f := range fixed {
		if f.v == nil {
			continue
		}
		if err := decodeFixed(*f.v, f.dst); err != nil {
			return m, badRequest(CodeBadHex, "%s%s: %v", where, f.name, err)
		}
	}
	if in.SourceChain != nil {
		m.SourceChain = types.ChainID(*in.SourceChain)
	}
	if in.Nonce != nil {
		m.Nonce = *in.Nonce
	}
	if in.Value != nil {
		m.Value = *in.Value
	}
	if in.Method != nil {
		if len(*in.Method) > types.MaxMethodLen {
			return m, badRequest(CodeBadMessage, "%smethod: %d bytes, maximum %d", where, len(*in.Method), types.MaxMethodLen)
		}
		m.Method = []byte(*in.Method)
	}
	if in.Args != nil {
		if len(*in.Args) > 2*types.MaxArgsLen+2 {
			return m, badRequest(CodeBadMessage, "%sargs: more than %d bytes", where, types.MaxArgsLen)
		}
		b, err := decodeHex(*in.Args)
		if err != nil {
			return m, badRequest(CodeBadHex, "%sargs: %v", where, err)
		}
		m.Args = b
	}
	return m, nil
}

func parseKind(s string) (types.MessageKind, bool) {
	for _, k := range []types.MessageKind{types.MessageExternal, types.MessageInterRelay, types.MessageOuterRelay} {
		if s == k.String() {
			return k, true
		}
	}
	return 0, false
}

// decodeHex decodes hex with an optional 0x prefix.
func decodeHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	return hex.DecodeString(s)
}

// hexError says what a fixed-size hex field should have been.
type hexError struct {
	want int
	got  string
}

func (e hexError) Error() string {
	const show = 80
	got := e.got
	if len(got) > show {
		got = got[:show] + "..."
	}
	return "want " + strconv.Itoa(2*e.want) + " hex digits, got " + strconv.Quote(got)
}

// decodeFixed decodes hex (optional 0x prefix) of exactly len(dst) bytes
// into dst.
func decodeFixed(s string, dst []byte) error {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(t) != 2*len(dst) {
		return hexError{want: len(dst), got: s}
	}
	if _, err := hex.Decode(dst, []byte(t)); err != nil {
		return hexError{want: len(dst), got: s}
	}
	return nil
}

func toMessageJSON(m *types.Message) messageJSON {
	out := messageJSON{
		ID:          m.ID().String(),
		Kind:        m.Kind.String(),
		From:        m.From.String(),
		To:          m.To.String(),
		SourceChain: uint32(m.SourceChain),
		Nonce:       m.Nonce,
		Value:       m.Value,
		Method:      string(m.Method),
		Args:        hex.EncodeToString(m.Args),
		SenderKey:   hex.EncodeToString(m.SenderKey[:]),
		Signature:   hex.EncodeToString(m.Signature[:]),
	}
	if m.Kind.IsRelay() {
		out.Cause = m.Cause.String()
	}
	return out
}

func toMessagesJSON(ms []types.Message) []messageJSON {
	out := make([]messageJSON, len(ms))
	for i := range ms {
		out[i] = toMessageJSON(&ms[i])
	}
	return out
}

// submitResultJSON is one verdict of POST /v1/messages.
type submitResultJSON struct {
	ID       string `json:"id"`
	Accepted bool   `json:"accepted"`
	Chain    uint32 `json:"chain"`
	Error    string `json:"error,omitempty"`
	Code     string `json:"code,omitempty"`
}

// submitBatchJSON answers a batch submission.
type submitBatchJSON struct {
	Accepted int                `json:"accepted"`
	Rejected int                `json:"rejected"`
	Results  []submitResultJSON `json:"results"`
}

type messageStatusJSON struct {
	ID        string  `json:"id"`
	State     string  `json:"state"`
	Chain     *uint32 `json:"chain,omitempty"`
	Height    *uint64 `json:"height,omitempty"`
	BlockHash string  `json:"block_hash,omitempty"`
	Reason    string  `json:"reason,omitempty"`
}

func toMessageStatusJSON(id types.Hash, s MessageStatus) messageStatusJSON {
	out := messageStatusJSON{ID: id.String(), State: string(s.State), Reason: s.Reason}
	if s.State == StateIncluded || s.State == StateConfirmed {
		chain, height := uint32(s.Chain), uint64(s.Height)
		out.Chain, out.Height, out.BlockHash = &chain, &height, s.BlockHash.String()
	}
	return out
}

type accountProofJSON struct {
	Scheme    string   `json:"scheme"`
	Leaf      string   `json:"leaf"`
	LeafIndex uint64   `json:"leaf_index"`
	LeafCount uint64   `json:"leaf_count"`
	Siblings  []string `json:"siblings"`
}

type accountJSON struct {
	Address   string            `json:"address"`
	Chain     uint32            `json:"chain"`
	Height    uint64            `json:"height"`
	StateRoot string            `json:"state_root"`
	Balance   uint64            `json:"balance"`
	Nonce     uint64            `json:"nonce"`
	CodeHash  string            `json:"code_hash"`
	Proof     *accountProofJSON `json:"proof,omitempty"`
}

func toAccountJSON(a AccountView) accountJSON {
	out := accountJSON{
		Address:   a.Address.String(),
		Chain:     uint32(a.Chain),
		Height:    uint64(a.Height),
		StateRoot: a.StateRoot.String(),
		Balance:   a.Balance,
		Nonce:     a.Nonce,
		CodeHash:  a.CodeHash.String(),
	}
	if p := a.Proof; p != nil {
		out.Proof = &accountProofJSON{
			Scheme:    p.Scheme,
			Leaf:      hex.EncodeToString(p.Leaf),
			LeafIndex: p.LeafIndex,
			LeafCount: p.LeafCount,
			Siblings:  hashStrings(p.Siblings),
		}
	}
	return out
}

func hashStrings(hs []types.Hash) []string {
	out := make([]string, len(hs))
	for i := range hs {
		out[i] = hs[i].String()
	}
	return out
}

type chainJSON struct {
	ID              uint32 `json:"id"`
	Kind            string `json:"kind"`
	Parent          uint32 `json:"parent"`
	Served          bool   `json:"served"`
	Root            bool   `json:"root"`
	Prefix          string `json:"prefix"`
	Height          uint64 `json:"height"`
	HeadHash        string `json:"head_hash"`
	StateRoot       string `json:"state_root"`
	ConfirmedHeight uint64 `json:"confirmed_height"`
	Epoch           uint64 `json:"epoch"`
	Pending         int    `json:"pending"`
}

type chainsJSON struct {
	Chains []chainJSON `json:"chains"`
}

func toChainJSON(c ChainInfo) chainJSON {
	return chainJSON{
		ID:              uint32(c.ID),
		Kind:            c.Kind.String(),
		Parent:          uint32(c.Parent),
		Served:          c.Served,
		Root:            c.Root,
		Prefix:          prefixBits(c.Prefix, c.PrefixBits),
		Height:          uint64(c.Height),
		HeadHash:        c.HeadHash.String(),
		StateRoot:       c.StateRoot.String(),
		ConfirmedHeight: uint64(c.Confirmed),
		Epoch:           uint64(c.Epoch),
		Pending:         c.Pending,
	}
}

// prefixBits writes the low bits bits of prefix as binary digits, most
// significant first: "" for the root chain, "01" for a chain owning the
// addresses that start with bits 0, 1.
func prefixBits(prefix uint64, bits uint8) string {
	bits = min(bits, 64)
	var b strings.Builder
	for i := int(bits) - 1; i >= 0; i-- {
		b.WriteByte('0' + byte(prefix>>uint(i)&1))
	}
	return b.String()
}

type headerJSON struct {
	Version        uint16 `json:"version"`
	Chain          uint32 `json:"chain"`
	Height         uint64 `json:"height"`
	Epoch          uint64 `json:"epoch"`
	Round          uint32 `json:"round"`
	ParentHash     string `json:"parent_hash"`
	TimestampMs    uint64 `json:"timestamp_ms"`
	Time           string `json:"time"`
	Proposer       uint32 `json:"proposer"`
	InputRoot      string `json:"input_root"`
	InterRelayRoot string `json:"inter_relay_root"`
	OuterRelayRoot string `json:"outer_relay_root"`
	RecordRoot     string `json:"record_root"`
	StateRoot      string `json:"state_root"`
	Empty          bool   `json:"empty"`
}

type certificateJSON struct {
	Kind               string   `json:"kind"`
	Round              uint32   `json:"round"`
	BlockHash          string   `json:"block_hash"`
	CommitteeSize      int      `json:"committee_size"`
	Signers            []uint32 `json:"signers"`
	AggregateSignature string   `json:"aggregate_signature"`
}

type blockJSON struct {
	Hash        string           `json:"hash"`
	Confirmed   bool             `json:"confirmed"`
	Header      headerJSON       `json:"header"`
	Certificate *certificateJSON `json:"certificate,omitempty"`
	Inputs      []messageJSON    `json:"inputs"`
	InterRelay  []messageJSON    `json:"inter_relay"`
	OuterRelay  []messageJSON    `json:"outer_relay"`
}

func toBlockJSON(b BlockView) blockJSON {
	h := &b.Header
	out := blockJSON{
		Hash:      b.Hash.String(),
		Confirmed: b.Confirmed,
		Header: headerJSON{
			Version:        h.Version,
			Chain:          uint32(h.ChainID),
			Height:         uint64(h.Height),
			Epoch:          uint64(h.Epoch),
			Round:          uint32(h.Round),
			ParentHash:     h.ParentHash.String(),
			TimestampMs:    h.TimestampMillis,
			Time:           h.Time().Format(time.RFC3339Nano),
			Proposer:       uint32(h.Proposer),
			InputRoot:      h.InputRoot.String(),
			InterRelayRoot: h.InterRelayRoot.String(),
			OuterRelayRoot: h.OuterRelayRoot.String(),
			RecordRoot:     h.RecordRoot.String(),
			StateRoot:      h.StateRoot.String(),
			Empty:          h.Empty,
		},
		Inputs:     toMessagesJSON(b.Inputs),
		InterRelay: toMessagesJSON(b.InterRelay),
		OuterRelay: toMessagesJSON(b.OuterRelay),
	}
	if c := b.Certificate; c != nil {
		out.Certificate = toCertificateJSON(c)
	}
	return out
}

func toCertificateJSON(c *types.Certificate) *certificateJSON {
	signers := c.SignerIndices(nil)
	cj := &certificateJSON{
		Kind:               c.Kind.String(),
		Round:              uint32(c.Round),
		BlockHash:          c.BlockHash.String(),
		CommitteeSize:      c.Signers.CommitteeSize(),
		Signers:            make([]uint32, len(signers)),
		AggregateSignature: hex.EncodeToString(c.AggregateSignature[:]),
	}
	for i, s := range signers {
		cj.Signers[i] = uint32(s)
	}
	return cj
}

type statusJSON struct {
	Version   string   `json:"version"`
	NodeID    string   `json:"node_id"`
	Genesis   string   `json:"genesis"`
	Syncing   bool     `json:"syncing"`
	Peers     int      `json:"peers"`
	StartedAt string   `json:"started_at"`
	Chains    []uint32 `json:"chains"`
	Pending   int      `json:"pending"`
}

func toStatusJSON(s StatusView) statusJSON {
	out := statusJSON{
		Version:   s.Version,
		NodeID:    s.NodeID,
		Genesis:   s.Genesis.String(),
		Syncing:   s.Syncing,
		Peers:     s.Peers,
		StartedAt: s.StartedAt.UTC().Format(time.RFC3339),
		Chains:    make([]uint32, len(s.Chains)),
		Pending:   s.Pending,
	}
	for i, c := range s.Chains {
		out.Chains[i] = uint32(c)
	}
	return out
}

type healthJSON struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	Code   string `json:"code,omitempty"`
}
