package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/mempool"
	"github.com/thinkey/thinkey/node/types"
)

// TestErrorClasses checks every request error the API answers, with its
// status and code; the fake node would accept any message, so every
// refusal here is the API's own.
func TestErrorClasses(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	raw := rawJSON(f.msg)
	msgHex := strings.TrimSuffix(strings.TrimPrefix(raw, `{"raw":"`), `"}`)
	fields := fieldsJSON(f.msg)
	withField := func(obj, field, value string) string {
		return strings.TrimSuffix(obj, "}") + `,"` + field + `":` + value + "}"
	}
	withoutField := func(name string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(fields), &m)
		delete(m, name)
		b, _ := json.Marshal(m)
		return string(b)
	}
	replaceField := func(name string, value any) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(fields), &m)
		m[name] = value
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, method, target, contentType, body string
		status                                  int
		code                                    string
	}{
		{"malformed JSON", "POST", "/v1/messages", "application/json", `{"raw":`, 400, CodeBadJSON},
		{"not an object", "POST", "/v1/messages", "application/json", `[1,2]`, 400, CodeBadJSON},
		{"empty body", "POST", "/v1/messages", "", ``, 400, CodeBadJSON},
		{"trailing data", "POST", "/v1/messages", "", raw + ` {}`, 400, CodeBadJSON},
		{"wrong JSON type", "POST", "/v1/messages", "", replaceField("nonce", "5"), 400, CodeBadJSON},
		{"negative nonce", "POST", "/v1/messages", "", replaceField("nonce", -1), 400, CodeBadJSON},
		{"unknown field", "POST", "/v1/messages", "", withField(fields, "fee", "1"), 400, CodeUnknownField},
		{"unknown field in batch", "POST", "/v1/messages", "", `{"messages":[{"raw":"00","extra":1}]}`, 400, CodeUnknownField},
		{"raw not hex", "POST", "/v1/messages", "", `{"raw":"zz"}`, 400, CodeBadHex},
		{"raw odd length", "POST", "/v1/messages", "", `{"raw":"abc"}`, 400, CodeBadHex},
		{"raw not a message", "POST", "/v1/messages", "", `{"raw":"0102"}`, 400, CodeBadMessage},
		{"raw with trailing byte", "POST", "/v1/messages", "", `{"raw":"` + msgHex + `00"}`, 400, CodeBadMessage},
		{"raw with other fields", "POST", "/v1/messages", "", withField(raw, "nonce", "1"), 400, CodeBadBatch},
		{"from too short", "POST", "/v1/messages", "", replaceField("from", "abcd"), 400, CodeBadHex},
		{"signature not hex", "POST", "/v1/messages", "", replaceField("signature", strings.Repeat("g", 128)), 400, CodeBadHex},
		{"args not hex", "POST", "/v1/messages", "", replaceField("args", "xyz"), 400, CodeBadHex},
		{"missing from", "POST", "/v1/messages", "", withoutField("from"), 400, CodeMissingField},
		{"missing signature", "POST", "/v1/messages", "", withoutField("signature"), 400, CodeMissingField},
		{"unknown kind", "POST", "/v1/messages", "", replaceField("kind", "gift"), 400, CodeBadMessage},
		{"method too long", "POST", "/v1/messages", "", replaceField("method", strings.Repeat("m", 65)), 400, CodeBadMessage},
		{"args too long", "POST", "/v1/messages", "", replaceField("args", strings.Repeat("00", types.MaxArgsLen+1)), 400, CodeBadMessage},
		{"cause on an external message", "POST", "/v1/messages", "", replaceField("cause", strings.Repeat("11", 32)), 400, CodeBadMessage},
		{"id mismatch", "POST", "/v1/messages", "", replaceField("id", strings.Repeat("00", 32)), 400, CodeIDMismatch},
		{"raw id mismatch", "POST", "/v1/messages", "", withField(raw, "id", `"`+strings.Repeat("ab", 32)+`"`), 400, CodeIDMismatch},
		{"bad id", "POST", "/v1/messages", "", replaceField("id", "xx"), 400, CodeBadHex},
		{"empty batch", "POST", "/v1/messages", "", `{"messages":[]}`, 400, CodeBadBatch},
		{"batch with other fields", "POST", "/v1/messages", "", `{"messages":[` + raw + `],"nonce":1}`, 400, CodeBadBatch},
		{"bad message in a batch", "POST", "/v1/messages", "", `{"messages":[` + raw + `,{"raw":"02"}]}`, 400, CodeBadMessage},
		{"batch too large", "POST", "/v1/messages", "", `{"messages":[` + strings.Repeat(`{"raw":""},`, MaxBatchMessages) + `{"raw":""}]}`, 400, CodeBadBatch},
		{"body too large", "POST", "/v1/messages", "", `{"raw":"` + strings.Repeat("00", 64<<10) + `"}`, 413, CodeBodyTooLarge},
		{"form content type", "POST", "/v1/messages", "application/x-www-form-urlencoded", raw, 415, CodeUnsupportedMediaType},
		{"text content type", "POST", "/v1/messages", "text/plain", raw, 415, CodeUnsupportedMediaType},
		{"malformed content type", "POST", "/v1/messages", "application/", raw, 415, CodeUnsupportedMediaType},
		{"message id not hex", "GET", "/v1/messages/" + strings.Repeat("z", 64), "", "", 400, CodeBadID},
		{"message id short", "GET", "/v1/messages/abcd", "", "", 400, CodeBadID},
		{"message id with slash", "GET", "/v1/messages/ab%2Fcd", "", "", 400, CodeBadID},
		{"address short", "GET", "/v1/accounts/" + strings.Repeat("a", 38), "", "", 400, CodeBadAddress},
		{"address not hex", "GET", "/v1/accounts/" + strings.Repeat("q", 40), "", "", 400, CodeBadAddress},
		{"proof value", "GET", "/v1/accounts/" + f.account.Address.String() + "?proof=maybe", "", "", 400, CodeBadQuery},
		{"query escape", "GET", "/v1/accounts/" + f.account.Address.String() + "?proof=%zz", "", "", 400, CodeBadQuery},
		{"chain not a number", "GET", "/v1/chains/one/blocks/1", "", "", 400, CodeBadChain},
		{"chain negative", "GET", "/v1/chains/-1/blocks/1", "", "", 400, CodeBadChain},
		{"chain too large", "GET", "/v1/chains/4294967296/blocks/1", "", "", 400, CodeBadChain},
		{"block neither", "GET", "/v1/chains/1/blocks/latest", "", "", 400, CodeBadBlock},
		{"block hash not hex", "GET", "/v1/chains/1/blocks/" + strings.Repeat("x", 64), "", "", 400, CodeBadBlock},
		{"block height too large", "GET", "/v1/chains/1/blocks/18446744073709551616", "", "", 400, CodeBadBlock},
		{"unknown message", "GET", "/v1/messages/" + strings.Repeat("00", 32), "", "", 404, CodeNotFound},
		{"unknown account", "GET", "/v1/accounts/" + strings.Repeat("00", 20), "", "", 404, CodeNotFound},
		{"unknown block", "GET", "/v1/chains/1/blocks/8", "", "", 404, CodeNotFound},
		{"account of another chain", "GET", "/v1/accounts/" + f.elsewhere.String(), "", "", 421, CodeWrongChain},
		{"block of another chain", "GET", "/v1/chains/2/blocks/1", "", "", 421, CodeWrongChain},
		{"unknown path", "GET", "/v2/messages", "", "", 404, CodeNotFound},
		{"root path", "GET", "/", "", "", 404, CodeNotFound},
		{"trailing slash", "GET", "/v1/chains/", "", "", 404, CodeNotFound},
		{"GET on the submit route", "GET", "/v1/messages", "", "", 405, CodeMethodNotAllowed},
		{"DELETE a message", "DELETE", "/v1/messages/" + f.msg.ID().String(), "", "", 405, CodeMethodNotAllowed},
		{"POST to status", "POST", "/v1/status", "application/json", "{}", 405, CodeMethodNotAllowed},
		{"PUT metrics", "PUT", "/metrics", "", "", 405, CodeMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(h, tc.method, tc.target, tc.contentType, []byte(tc.body))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body.String())
			}
			body := decode(t, rec)
			if body["code"] != tc.code {
				t.Errorf("code %v, want %s (error %v)", body["code"], tc.code, body["error"])
			}
			if msg, _ := body["error"].(string); msg == "" {
				t.Errorf("no error message")
			}
			if tc.status == 405 && rec.Header().Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
		})
	}
	if n := len(f.node.submitted); n != 0 {
		t.Fatalf("%d messages reached the node from refused requests", n)
	}
}

func TestSubmitSingle(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	for _, tc := range []struct{ name, contentType, body string }{
		{"raw", "application/json", rawJSON(f.msg)},
		{"fields", "application/json; charset=utf-8", fieldsJSON(f.msg)},
		{"raw with 0x prefix and id", "", `{"raw":"0x` + hexOf(f.msg) + `","id":"` + f.msg.ID().String() + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.node.submitted = nil
			rec := do(h, "POST", "/v1/messages", tc.contentType, []byte(tc.body))
			if rec.Code != http.StatusAccepted {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			body := decode(t, rec)
			if body["id"] != f.msg.ID().String() || body["accepted"] != true || body["chain"] != json.Number("1") {
				t.Fatalf("response %v", body)
			}
			if len(f.node.submitted) != 1 || f.node.submitted[0].ID() != f.msg.ID() {
				t.Fatalf("node got %d messages, or another one", len(f.node.submitted))
			}
		})
	}
}

func hexOf(m types.Message) string {
	b, _ := m.MarshalBinary()
	return hex.EncodeToString(b)
}

func TestSubmitRejected(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("%w: message x", mempool.ErrBadSignature), 422, "bad_signature"},
		{fmt.Errorf("%w: nonce 0, account at 3", mempool.ErrNonceTooLow), 422, "nonce_too_low"},
		{fmt.Errorf("%w: 10 pending", mempool.ErrPoolFull), 429, "pool_full"},
		{mempool.ErrSenderFull, 429, "sender_full"},
		{fmt.Errorf("%w: storage", mempool.ErrNonceUnavailable), 503, "nonce_unavailable"},
		{errors.New("no chain owns this address"), 422, CodeRejected},
		{&WrongChainError{Chain: 2, Err: errors.New("sender x: it is on chain 2")}, 421, CodeWrongChain},
	} {
		t.Run(mempool.Reason(tc.err), func(t *testing.T) {
			f.node.verdict = func(*types.Message) error { return tc.err }
			rec := do(h, "POST", "/v1/messages", "", []byte(rawJSON(f.msg)))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			body := decode(t, rec)
			if body["code"] != tc.code || body["accepted"] != false || body["id"] != f.msg.ID().String() || body["error"] != tc.err.Error() {
				t.Fatalf("response %v", body)
			}
		})
	}
}

func TestSubmitBatch(t *testing.T) {
	f := newFixture()
	f.node.verdict = func(m *types.Message) error {
		if m.Nonce == 1 {
			return fmt.Errorf("%w: x", mempool.ErrBadSignature)
		}
		return nil
	}
	srv, _ := testServer(f.node)
	body := `{"messages":[` + rawJSON(f.msg) + `,` + fieldsJSON(f.included) + `]}`
	rec := do(srv.Handler(), "POST", "/v1/messages", "application/json", []byte(body))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	var got submitBatchJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := submitBatchJSON{Accepted: 1, Rejected: 1, Results: []submitResultJSON{
		{ID: f.msg.ID().String(), Accepted: true, Chain: 1},
		{ID: f.included.ID().String(), Accepted: false, Chain: 1, Error: "bad signature: x", Code: "bad_signature"},
	}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("batch response\n got %+v\nwant %+v", got, want)
	}
	if len(f.node.submitted) != 2 {
		t.Fatalf("node got %d messages, want 2 in one call", len(f.node.submitted))
	}
}

func TestNodeErrors(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	requests := []struct{ method, target, body string }{
		{"POST", "/v1/messages", rawJSON(f.msg)},
		{"GET", "/v1/messages/" + f.msg.ID().String(), ""},
		{"GET", "/v1/accounts/" + f.account.Address.String(), ""},
		{"GET", "/v1/chains/1/blocks/7", ""},
	}
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("syncing: %w", ErrUnavailable), 503, CodeUnavailable},
		{fmt.Errorf("nothing: %w", ErrNotFound), 404, CodeNotFound},
		{fmt.Errorf("this node runs no transaction chain: %w", ErrWrongChain), 421, CodeWrongChain},
		{fmt.Errorf("both: %w: %w", ErrNotFound, ErrWrongChain), 421, CodeWrongChain},
		{errors.New("disk on fire"), 500, CodeInternal},
	} {
		f.node.err = tc.err
		for _, r := range requests {
			rec := do(h, r.method, r.target, "", []byte(r.body))
			if rec.Code != tc.status {
				t.Errorf("%s %s with node error %v: status %d, want %d", r.method, r.target, tc.err, rec.Code, tc.status)
				continue
			}
			if body := decode(t, rec); body["code"] != tc.code {
				t.Errorf("%s %s: code %v, want %s", r.method, r.target, body["code"], tc.code)
			}
		}
	}
	f.node.err = nil
	f.node.shortResults = true
	if rec := do(h, "POST", "/v1/messages", "", []byte(rawJSON(f.msg))); rec.Code != 500 {
		t.Errorf("node returning too few results: status %d, want 500", rec.Code)
	}
}

func TestPanicBecomes500(t *testing.T) {
	f := newFixture()
	f.node.panicMsg = "boom"
	logs := &logBuffer{}
	srv := NewServer(config.API{MaxBodyBytes: 4096}, f.node, nil, debugLogger(logs))
	rec := do(srv.Handler(), "GET", "/v1/status", "", nil)
	if rec.Code != 500 {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if body := decode(t, rec); body["code"] != CodeInternal {
		t.Fatalf("body %v", body)
	}
	if !strings.Contains(logs.String(), "api handler panic") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

func TestGetMessage(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	rec := do(h, "GET", "/v1/messages/"+f.msg.ID().String(), "", nil)
	body := decode(t, rec)
	if rec.Code != 200 || body["state"] != "pending" || body["id"] != f.msg.ID().String() {
		t.Fatalf("pending message: %d %v", rec.Code, body)
	}
	if _, ok := body["height"]; ok {
		t.Fatalf("pending message shows a height: %v", body)
	}
	// Upper case and a 0x prefix are accepted.
	rec = do(h, "GET", "/v1/messages/0x"+strings.ToUpper(f.included.ID().String()), "", nil)
	body = decode(t, rec)
	if rec.Code != 200 || body["state"] != "confirmed" || body["chain"] != json.Number("1") ||
		body["height"] != json.Number("7") || body["block_hash"] != f.blockHash.String() {
		t.Fatalf("confirmed message: %d %v", rec.Code, body)
	}
}

func TestGetAccount(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	target := "/v1/accounts/" + f.account.Address.String()
	rec := do(h, "GET", target, "", nil)
	body := decode(t, rec)
	if rec.Code != 200 || body["balance"] != json.Number("980") || body["nonce"] != json.Number("2") ||
		body["address"] != f.account.Address.String() || body["state_root"] != f.account.StateRoot.String() {
		t.Fatalf("account: %d %v", rec.Code, body)
	}
	if _, ok := body["proof"]; ok || f.node.lastProof {
		t.Fatalf("proof given without ?proof")
	}
	for _, q := range []string{"?proof=1", "?proof=true"} {
		rec = do(h, "GET", target+q, "", nil)
		var got accountJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
			t.Fatalf("%s: %d %v", q, rec.Code, err)
		}
		if !f.node.lastProof || got.Proof == nil || got.Proof.Scheme != "merkle-sha256/v1" || got.Proof.Leaf != "100102" ||
			got.Proof.LeafIndex != 3 || got.Proof.LeafCount != 5 || len(got.Proof.Siblings) != 3 ||
			got.Proof.Siblings[0] != (types.Hash{1}).String() {
			t.Fatalf("%s: proof %+v", q, got.Proof)
		}
	}
	do(h, "GET", target+"?proof=0", "", nil)
	if f.node.lastProof {
		t.Fatalf("?proof=0 asked for a proof")
	}
}

func TestGetChainsAndStatus(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	rec := do(h, "GET", "/v1/chains", "", nil)
	var chains chainsJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &chains); err != nil || rec.Code != 200 {
		t.Fatalf("chains: %d %v", rec.Code, err)
	}
	want := []chainJSON{
		{ID: 0, Kind: "root", Parent: 0, Served: true, Root: true, Prefix: "", Height: 40, ConfirmedHeight: 40, Epoch: 2},
		{ID: 1, Kind: "transaction", Parent: 0, Served: true, Prefix: "01", Height: 7, HeadHash: f.blockHash.String(),
			ConfirmedHeight: 6, Epoch: 2, Pending: 1},
		{ID: 2, Kind: "transaction", Parent: 0, Served: false, Prefix: "11", Height: 3, ConfirmedHeight: 3, Epoch: 2},
	}
	for i := range want {
		want[i].StateRoot = (types.Hash{}).String()
		if want[i].HeadHash == "" {
			want[i].HeadHash = (types.Hash{}).String()
		}
	}
	if fmt.Sprint(chains.Chains) != fmt.Sprint(want) {
		t.Fatalf("chains\n got %+v\nwant %+v", chains.Chains, want)
	}
	// The fields a client reads are present even when false or zero.
	for _, field := range []string{`"kind":"transaction"`, `"parent":0`, `"served":false`, `"confirmed_height":3`} {
		if !strings.Contains(rec.Body.String(), field) {
			t.Errorf("chains body lacks %s: %s", field, rec.Body.String())
		}
	}
	var st statusJSON
	rec = do(h, "GET", "/v1/status", "", nil)
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != 200 {
		t.Fatalf("status: %d %v", rec.Code, err)
	}
	wantStatus := statusJSON{Version: "test", NodeID: "n1", Genesis: (types.Hash{0x9e}).String(), Peers: 3,
		StartedAt: "2026-01-02T03:04:05Z", Chains: []uint32{0, 1}, Pending: 1}
	if fmt.Sprint(st) != fmt.Sprint(wantStatus) {
		t.Fatalf("status\n got %+v\nwant %+v", st, wantStatus)
	}
}

func TestGetBlock(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	for _, ref := range []string{"7", f.blockHash.String(), "0x" + f.blockHash.String()} {
		rec := do(h, "GET", "/v1/chains/1/blocks/"+ref, "", nil)
		if rec.Code != 200 {
			t.Fatalf("block %s: status %d %s", ref, rec.Code, rec.Body.String())
		}
		var b blockJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
			t.Fatal(err)
		}
		if b.Hash != f.blockHash.String() || !b.Confirmed || b.Header.Height != 7 || b.Header.Chain != 1 ||
			b.Header.Time != "2023-11-14T22:13:20Z" || len(b.Inputs) != 1 || b.Inputs[0].ID != f.included.ID().String() ||
			len(b.InterRelay) != 1 || b.InterRelay[0].Kind != "inter-relay" || b.InterRelay[0].Cause != f.included.ID().String() ||
			b.OuterRelay == nil || len(b.OuterRelay) != 0 {
			t.Fatalf("block %s: %+v", ref, b)
		}
		if c := b.Certificate; c == nil || c.Kind != "confirm" || c.CommitteeSize != 4 || fmt.Sprint(c.Signers) != "[0 2]" {
			t.Fatalf("certificate %+v", b.Certificate)
		}
	}
	if !f.node.lastRef.ByHash || f.node.lastRef.Hash != f.blockHash {
		t.Fatalf("last lookup %+v, want by hash", f.node.lastRef)
	}
	do(h, "GET", "/v1/chains/1/blocks/007", "", nil)
	if f.node.lastRef.ByHash || f.node.lastRef.Height != 7 {
		t.Fatalf("lookup %+v, want height 7", f.node.lastRef)
	}
}

// A message in JSON field form round-trips: what a block shows can be
// submitted as is.
func TestMessageJSONRoundTrip(t *testing.T) {
	f := newFixture()
	for _, m := range []types.Message{f.msg, f.block.InterRelay[0]} {
		var in messageInput
		if err := json.Unmarshal([]byte(fieldsJSON(m)), &in); err != nil {
			t.Fatal(err)
		}
		got, err := in.message("")
		if err != nil {
			t.Fatalf("%v: %v", m.Kind, err)
		}
		if got.ID() != m.ID() {
			t.Fatalf("%v: round trip changed the message", m.Kind)
		}
	}
}

// What a node does not run is answered 421 wrong_chain, with the chain to
// ask when the node knows it: an account read, a block of another chain, a
// submission whose sender is elsewhere (alone or in a batch).
func TestWrongChain(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	for _, target := range []string{"/v1/accounts/" + f.elsewhere.String(), "/v1/accounts/" + f.elsewhere.String() + "?proof=1", "/v1/chains/2/blocks/1"} {
		rec := do(h, "GET", target, "", nil)
		body := decode(t, rec)
		if rec.Code != http.StatusMisdirectedRequest || body["code"] != CodeWrongChain || body["chain"] != json.Number("2") ||
			!strings.Contains(body["error"].(string), "chain 2") {
			t.Errorf("GET %s: %d %v", target, rec.Code, body)
		}
	}
	elsewhere := &WrongChainError{Chain: 2, Err: errors.New("sender x: it is on chain 2, run by the nodes at 10.0.0.3:7600")}
	f.node.verdict = func(m *types.Message) error {
		if m.Nonce == 1 {
			return elsewhere
		}
		return nil
	}
	rec := do(h, "POST", "/v1/messages", "", []byte(rawJSON(f.included)))
	body := decode(t, rec)
	if rec.Code != http.StatusMisdirectedRequest || body["code"] != CodeWrongChain || body["accepted"] != false ||
		body["error"] != elsewhere.Error() {
		t.Fatalf("single submission of a sender elsewhere: %d %v", rec.Code, body)
	}
	rec = do(h, "POST", "/v1/messages", "", []byte(`{"messages":[`+rawJSON(f.msg)+`,`+rawJSON(f.included)+`]}`))
	var batch submitBatchJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &batch); err != nil || rec.Code != 200 || batch.Accepted != 1 ||
		batch.Results[1].Code != CodeWrongChain || batch.Results[0].Code != "" {
		t.Fatalf("batch: %d %+v %v", rec.Code, batch, err)
	}
	// A bare ErrWrongChain names no chain.
	f.node.err = fmt.Errorf("this node runs no transaction chain: %w", ErrWrongChain)
	rec = do(h, "GET", "/v1/messages/"+f.msg.ID().String(), "", nil)
	body = decode(t, rec)
	if _, ok := body["chain"]; rec.Code != http.StatusMisdirectedRequest || ok {
		t.Fatalf("message status on a node without a transaction chain: %d %v", rec.Code, body)
	}
}

// A WrongChainError is a miss too, for callers that know only ErrNotFound.
func TestWrongChainErrorMatches(t *testing.T) {
	cause := errors.New("account x: it is on chain 3")
	err := fmt.Errorf("read: %w", &WrongChainError{Chain: 3, Err: cause})
	if !errors.Is(err, ErrWrongChain) || !errors.Is(err, ErrNotFound) || !errors.Is(err, cause) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("%v matches the wrong errors", err)
	}
	if err.Error() != "read: account x: it is on chain 3" {
		t.Fatalf("text %q", err.Error())
	}
	if got := (&WrongChainError{Chain: 3}).Error(); !strings.Contains(got, "chain 3") {
		t.Fatalf("text without a cause %q", got)
	}
}

func TestHealthz(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	rec := do(h, "GET", "/healthz", "", nil)
	if body := decode(t, rec); rec.Code != 200 || body["status"] != "ok" {
		t.Fatalf("healthy: %d %v", rec.Code, body)
	}
	f.node.health = errors.New("consensus loop stalled for 30s")
	rec = do(h, "GET", "/healthz", "", nil)
	body := decode(t, rec)
	if rec.Code != 503 || body["status"] != "unhealthy" || body["code"] != CodeUnhealthy || body["error"] != "consensus loop stalled for 30s" {
		t.Fatalf("unhealthy: %d %v", rec.Code, body)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	f := newFixture()
	srv, reg := testServer(f.node)
	h := srv.Handler()
	do(h, "POST", "/v1/messages", "", []byte(rawJSON(f.msg)))
	do(h, "GET", "/v1/messages/zz", "", nil)
	do(h, "GET", "/nowhere", "", nil)
	// Another collector on the same registry shows up too.
	extra := prometheus.NewCounter(prometheus.CounterOpts{Name: "thinkey_test_marker_total", Help: "x"})
	reg.MustRegister(extra)
	extra.Inc()

	rec := do(h, "GET", "/metrics", "", nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	text := rec.Body.String()
	for _, want := range []string{
		`thinkey_api_requests_total{code="202",route="POST /v1/messages"} 1`,
		`thinkey_api_requests_total{code="400",route="GET /v1/messages/{id}"} 1`,
		`thinkey_api_requests_total{code="404",route="unmatched"} 1`,
		`thinkey_api_request_duration_seconds_count{route="POST /v1/messages"} 1`,
		`thinkey_test_marker_total 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// A second server on the same registry reuses the metrics.
	srv2 := NewServer(config.API{MaxBodyBytes: 4096}, f.node, reg, nil)
	do(srv2.Handler(), "GET", "/v1/status", "", nil)
	rec = do(h, "GET", "/metrics", "", nil)
	if !strings.Contains(rec.Body.String(), `thinkey_api_requests_total{code="200",route="GET /v1/status"} 1`) {
		t.Errorf("second server's request not counted in the shared metrics")
	}
}

func TestRequestLogging(t *testing.T) {
	f := newFixture()
	logs := &logBuffer{}
	srv := NewServer(config.API{MaxBodyBytes: 4096}, f.node, nil, debugLogger(logs))
	do(srv.Handler(), "GET", "/v1/chains", "", nil)
	line := logs.String()
	for _, want := range []string{"level=DEBUG", `msg="api request"`, "method=GET", `route="GET /v1/chains"`, "status=200"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %q", line, want)
		}
	}
}

func TestHTTPServer(t *testing.T) {
	srv := NewServer(config.API{Listen: "127.0.0.1:7680", MaxBodyBytes: 1}, newFixture().node, nil, nil)
	hs := srv.HTTPServer()
	if hs.Addr != "127.0.0.1:7680" || hs.ReadHeaderTimeout != ReadHeaderTimeout || hs.WriteTimeout != WriteTimeout ||
		hs.MaxHeaderBytes != MaxHeaderBytes || hs.Handler == nil {
		t.Fatalf("http.Server %+v", hs)
	}
	if srv.cfg.MaxBodyBytes != 1<<10 {
		t.Fatalf("body limit %d, want the 1 KiB floor", srv.cfg.MaxBodyBytes)
	}
}

// TestDocExamples checks that the submission examples of the package
// documentation (and docs/API.md) are valid and have the ID they claim.
func TestDocExamples(t *testing.T) {
	const (
		raw    = `{"raw": "02019e1521a0d04c3cae1258cc05b12a2a01cd89fce49e1521a0d04c3cae1258cc05b12a2a01cd89fce40000000000000000000000000000000000000000000000047472616e0000001c1574cf0b9c8942171e4c1e1a5e7712d70d19c59500000000000000fa03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8e2a24f90ee31d72b413d206972b9e965de4fafe9b79a2d23899f9f4cd18d3c6ae8a874bb279d85d7b12e73b14cfdf1a912a86ee3d704a253948443ffb7c07609"}`
		fields = `{
	  "kind": "external",
	  "from": "9e1521a0d04c3cae1258cc05b12a2a01cd89fce4",
	  "to": "9e1521a0d04c3cae1258cc05b12a2a01cd89fce4",
	  "nonce": 0,
	  "value": 0,
	  "method": "tran",
	  "args": "1574cf0b9c8942171e4c1e1a5e7712d70d19c59500000000000000fa",
	  "sender_key": "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
	  "signature": "e2a24f90ee31d72b413d206972b9e965de4fafe9b79a2d23899f9f4cd18d3c6ae8a874bb279d85d7b12e73b14cfdf1a912a86ee3d704a253948443ffb7c07609"
	}`
		id = "dbba0f46c4b2c94ea45ba87b39f77514c8e5d35b4f38eb7d26de67d93e818cda"
	)
	node := &fakeNode{verdict: func(m *types.Message) error { return actor.CheckExternal(m) }}
	srv, _ := testServer(node)
	for name, body := range map[string]string{"raw": raw, "fields": fields} {
		rec := do(srv.Handler(), "POST", "/v1/messages", "application/json", []byte(body))
		if got := decode(t, rec); rec.Code != http.StatusAccepted || got["id"] != id {
			t.Errorf("%s example: %d %v", name, rec.Code, got)
		}
	}
	if len(node.submitted) != 2 || !ed25519.Verify(ed25519.PublicKey(node.submitted[0].SenderKey), node.submitted[0].SigningBytes(), ed25519.Signature(node.submitted[0].Signature)) {
		t.Fatalf("example signature does not verify")
	}
}

// TestReferenceInStep checks that the reference (this package's doc.go and
// its copy docs/API.md) names every route, every error code and every
// mempool refusal code.
func TestReferenceInStep(t *testing.T) {
	codes := []string{CodeBadJSON, CodeUnknownField, CodeMissingField, CodeBadHex, CodeBadMessage, CodeIDMismatch,
		CodeBadBatch, CodeBadID, CodeBadAddress, CodeBadChain, CodeBadBlock, CodeBadQuery, CodeNotFound,
		CodeWrongChain, CodeMethodNotAllowed, CodeBodyTooLarge, CodeUnsupportedMediaType, CodeInternal, CodeUnavailable,
		CodeUnhealthy, CodeRejected}
	codes = append(codes, mempool.Reasons()...)
	routes := []string{"POST /v1/messages", "GET /v1/messages/{id}", "GET /v1/accounts/{address}", "GET /v1/chains",
		"GET /v1/chains/{chain}/blocks/{block}", "GET /v1/light/chains/{chain}/blocks/{height}",
		"GET /v1/light/accounts/{address}", "GET /v1/light/relays/{id}", "GET /v1/status", "GET /healthz", "GET /metrics"}
	for _, file := range []string{"doc.go", "../../docs/API.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, c := range codes {
			if c == mempool.ReasonOther {
				continue // reported as CodeRejected
			}
			if !strings.Contains(text, c) {
				t.Errorf("%s does not mention code %q", file, c)
			}
		}
		for _, r := range routes {
			if !strings.Contains(text, "# "+r) {
				t.Errorf("%s has no section for %q", file, r)
			}
		}
	}
}
