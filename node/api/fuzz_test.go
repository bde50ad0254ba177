package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/node/mempool"
	"github.com/thinkey/thinkey/node/types"
)

// FuzzHandler sends arbitrary requests to the API over a node that never
// fails. Whatever the method, path, content type and body: the handler
// does not panic (a recovered panic would show as a 500), answers below
// 500, and every 4xx or 5xx answer is a JSON error with a code.
func FuzzHandler(f *testing.F) {
	fx := newFixture()
	// Refuse some messages so that rejection paths run too.
	fx.node.verdict = func(m *types.Message) error {
		switch {
		case m.Nonce%2 == 1:
			return fmt.Errorf("%w: odd", mempool.ErrBadSignature)
		case m.Nonce%4 == 2:
			return &WrongChainError{Chain: 2, Err: errors.New("sender on chain 2")}
		}
		return nil
	}
	srv := NewServer(config.API{MaxBodyBytes: 4096}, fx.node, nil, nil)
	h := srv.Handler()

	for _, seed := range []struct{ method, path, contentType, body string }{
		{"POST", "/v1/messages", "application/json", rawJSON(fx.msg)},
		{"POST", "/v1/messages", "", fieldsJSON(fx.included)},
		{"POST", "/v1/messages", "application/json", `{"messages":[` + rawJSON(fx.msg) + `,` + fieldsJSON(fx.included) + `]}`},
		{"GET", "/v1/messages/" + fx.included.ID().String(), "", ""},
		{"GET", "/v1/accounts/" + fx.account.Address.String() + "?proof=1", "", ""},
		{"GET", "/v1/chains", "", ""},
		{"GET", "/v1/chains/1/blocks/7", "", ""},
		{"GET", "/v1/chains/2/blocks/1", "", ""},
		{"GET", "/v1/accounts/" + fx.elsewhere.String(), "", ""},
		{"GET", "/v1/light/chains/1/blocks/7", "", ""},
		{"GET", "/v1/light/accounts/" + fx.account.Address.String(), "", ""},
		{"GET", "/v1/light/relays/" + fx.outer.ID().String(), "", ""},
		{"GET", "/v1/status", "", ""},
		{"GET", "/healthz", "", ""},
		{"DELETE", "/v1/messages", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.contentType, []byte(seed.body))
	}

	f.Fuzz(func(t *testing.T, method, path, contentType string, body []byte) {
		if len(body) > 1<<16 {
			return
		}
		req, err := http.NewRequest(method, "http://node.test"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q (%q, %q): status %d: %s", method, path, contentType, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 {
			var e errorJSON
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Error == "" {
				t.Fatalf("%s %q: status %d with a body that is no JSON error: %q (%v)", method, path, rec.Code, rec.Body.String(), err)
			}
		}
	})
}

// TestFuzzHandlerSeesNodeFailures checks the fuzz target's oracle: with a
// failing node the same requests do reach 5xx, so a status below 500 in
// the fuzz run means something.
func TestFuzzHandlerSeesNodeFailures(t *testing.T) {
	fx := newFixture()
	fx.node.err = errors.New("broken")
	srv := NewServer(config.API{MaxBodyBytes: 4096}, fx.node, nil, nil)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/v1/chains/1/blocks/7", nil))
	if rec.Code != 500 {
		t.Fatalf("failing node: status %d, want 500", rec.Code)
	}
}
