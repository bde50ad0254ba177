package api

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/thinkey/thinkey/node/light"
)

func TestGetLightHeader(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	rec := do(srv.Handler(), "GET", "/v1/light/chains/1/blocks/7", "", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	var got lightHeaderJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want, _ := f.lightHeader.MarshalBinary()
	if got.Proof != hex.EncodeToString(want) {
		t.Fatalf("proof %s, want the canonical encoding %x", got.Proof, want)
	}
	root := f.lightHeader.Root()
	if got.Chain != 1 || got.Height != 7 || got.Hash != f.lightHeader.Header.Hash().String() ||
		got.StateRoot != f.lightHeader.Header.StateRoot.String() || got.Empty ||
		len(got.Lifts) != 1 || got.Lifts[0].Chain != 0 || got.Lifts[0].Height != 40 || got.Lifts[0].Hash != root.Hash().String() ||
		got.RootHeight != 40 || got.RootHash != root.Hash().String() ||
		got.Certificate == nil || got.Certificate.Kind != "confirm" || len(got.Certificate.Signers) != 3 {
		t.Fatalf("readable fields %+v", got)
	}
	p, err := light.DecodeHeaderProof(want)
	if err != nil || p.Header != f.lightHeader.Header {
		t.Fatalf("served proof does not decode to the node's: %v", err)
	}
}

func TestGetLightAccount(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	addr := f.account.Address.String()
	rec := do(srv.Handler(), "GET", "/v1/light/accounts/0x"+addr, "", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	var got lightAccountJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want, _ := f.lightAccount.MarshalBinary()
	if got.Proof != hex.EncodeToString(want) || got.Address != addr || got.Balance != 980 || got.Nonce != 2 ||
		got.CodeHash != (f.account.CodeHash).String() || got.Block.Chain != 1 || got.Block.Height != 7 || got.Block.RootHeight != 40 {
		t.Fatalf("answer %+v", got)
	}
}

func TestGetLightRelay(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	id := f.outer.ID().String()
	rec := do(srv.Handler(), "GET", "/v1/light/relays/"+id, "", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	var got lightRelayJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want, _ := f.lightRelay.MarshalBinary()
	if got.Proof != hex.EncodeToString(want) || got.ID != id || got.Message.ID != id || got.Message.Kind != "outer-relay" ||
		got.Message.Value != 5 || got.Message.SourceChain != 1 || got.Block.Hash != f.lightHeader.Header.Hash().String() {
		t.Fatalf("answer %+v", got)
	}
}

func TestLightErrors(t *testing.T) {
	f := newFixture()
	srv, _ := testServer(f.node)
	h := srv.Handler()
	cases := []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/light/chains/1/blocks/9", 404, CodeNotFound},
		{"/v1/light/chains/2/blocks/7", 404, CodeNotFound},
		{"/v1/light/chains/1/blocks/8", 500, CodeInternal}, // the node answers nothing
		{"/v1/light/chains/x/blocks/7", 400, CodeBadChain},
		{"/v1/light/chains/4294967296/blocks/7", 400, CodeBadChain},
		{"/v1/light/chains/1/blocks/" + f.blockHash.String(), 400, CodeBadBlock},
		{"/v1/light/chains/1/blocks/-1", 400, CodeBadBlock},
		{"/v1/light/chains/1/blocks/18446744073709551616", 400, CodeBadBlock},
		{"/v1/light/accounts/" + (f.account.Address.String())[:38], 400, CodeBadAddress},
		{"/v1/light/accounts/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", 404, CodeNotFound},
		{"/v1/light/relays/zz", 400, CodeBadID},
		{"/v1/light/relays/" + f.included.ID().String(), 404, CodeNotFound},
	}
	for _, c := range cases {
		rec := do(h, "GET", c.path, "", nil)
		if got := decode(t, rec); rec.Code != c.status || got["code"] != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.path, rec.Code, got, c.status, c.code)
		}
	}
	if rec := do(h, "POST", "/v1/light/relays/"+f.outer.ID().String(), "", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", rec.Code)
	}

	// A proof that does not encode is the node's fault: 500.
	bad := f.lightHeader
	bad.RootCertificate.Kind = 0
	f.node.lightHeaders[[2]uint64{1, 7}] = &bad
	if rec := do(h, "GET", "/v1/light/chains/1/blocks/7", "", nil); rec.Code != http.StatusInternalServerError {
		t.Errorf("unencodable proof: status %d, want 500", rec.Code)
	}
	// Node failures map as for the other routes.
	f.node.err = ErrUnavailable
	for _, p := range []string{"/v1/light/chains/1/blocks/7", "/v1/light/accounts/" + f.account.Address.String(), "/v1/light/relays/" + f.outer.ID().String()} {
		if rec := do(h, "GET", p, "", nil); rec.Code != http.StatusServiceUnavailable || !bytes.Contains(rec.Body.Bytes(), []byte(CodeUnavailable)) {
			t.Errorf("%s with an unavailable node: %d %s", p, rec.Code, rec.Body.String())
		}
	}
}
