package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/thinkey/thinkey/node/types"
)

// postMessages handles POST /v1/messages.
func (s *Server) postMessages(w http.ResponseWriter, r *http.Request) {
	if err := checkContentType(r); err != nil {
		writeError(w, err)
		return
	}
	req, rerr := decodeBody(w, r, s.cfg.MaxBodyBytes)
	if rerr != nil {
		writeError(w, rerr)
		return
	}
	msgs, batch, rerr := req.messages()
	if rerr != nil {
		writeError(w, rerr)
		return
	}
	results, err := s.node.SubmitMessages(r.Context(), msgs)
	if err != nil {
		s.nodeFailed(w, r, err)
		return
	}
	if len(results) != len(msgs) {
		s.nodeFailed(w, r, fmt.Errorf("node returned %d results for %d messages", len(results), len(msgs)))
		return
	}
	out := make([]submitResultJSON, len(msgs))
	accepted := 0
	for i := range msgs {
		out[i] = submitResultJSON{ID: msgs[i].ID().String(), Accepted: results[i].Err == nil, Chain: uint32(results[i].Chain)}
		if err := results[i].Err; err != nil {
			out[i].Error, out[i].Code = err.Error(), rejectionCode(err)
		} else {
			accepted++
		}
	}
	if batch {
		writeJSON(w, http.StatusOK, submitBatchJSON{Accepted: accepted, Rejected: len(msgs) - accepted, Results: out})
		return
	}
	status := http.StatusAccepted
	if err := results[0].Err; err != nil {
		status = rejectionStatus(err)
	}
	writeJSON(w, status, out[0])
}

// checkContentType accepts application/json (any parameters) or no
// Content-Type at all.
func checkContentType(r *http.Request) *requestError {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &requestError{status: http.StatusUnsupportedMediaType, code: CodeUnsupportedMediaType,
			msg: fmt.Sprintf("content type %q: want application/json", ct)}
	}
	return nil
}

// decodeBody reads one JSON submitRequest of at most limit bytes, refusing
// unknown fields and anything after the value.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64) (*submitRequest, *requestError) {
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req submitRequest
	if err := dec.Decode(&req); err != nil {
		return nil, jsonError(err, limit)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		if err == nil {
			return nil, badRequest(CodeBadJSON, "body: data after the JSON value")
		}
		return nil, jsonError(err, limit)
	}
	return &req, nil
}

// jsonError classifies a decoding error.
func jsonError(err error, limit int64) *requestError {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return &requestError{status: http.StatusRequestEntityTooLarge, code: CodeBodyTooLarge,
			msg: fmt.Sprintf("body over %d bytes", limit)}
	case errors.Is(err, io.EOF):
		return badRequest(CodeBadJSON, "body: empty")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return badRequest(CodeUnknownField, "body: %s", strings.TrimPrefix(err.Error(), "json: "))
	default:
		return badRequest(CodeBadJSON, "body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

// messages returns the submitted messages and whether they came as a
// batch.
func (req *submitRequest) messages() ([]types.Message, bool, *requestError) {
	if req.Messages == nil {
		m, err := req.messageInput.message("")
		if err != nil {
			return nil, false, err
		}
		return []types.Message{m}, false, nil
	}
	if req.Raw != nil || req.ID != nil || req.hasFields() {
		return nil, true, badRequest(CodeBadBatch, "a batch has only the field messages")
	}
	ins := *req.Messages
	switch {
	case len(ins) == 0:
		return nil, true, badRequest(CodeBadBatch, "messages: empty batch")
	case len(ins) > MaxBatchMessages:
		return nil, true, badRequest(CodeBadBatch, "messages: %d, maximum %d", len(ins), MaxBatchMessages)
	}
	msgs := make([]types.Message, len(ins))
	for i := range ins {
		m, err := ins[i].message(fmt.Sprintf("messages[%d].", i))
		if err != nil {
			return nil, true, err
		}
		msgs[i] = m
	}
	return msgs, true, nil
}

// getMessage handles GET /v1/messages/{id}.
func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	var id types.Hash
	if err := decodeFixed(r.PathValue("id"), id[:]); err != nil {
		writeError(w, badRequest(CodeBadID, "message id: %v", err))
		return
	}
	st, err := s.node.MessageStatus(r.Context(), id)
	if err != nil {
		s.nodeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMessageStatusJSON(id, st))
}

// getAccount handles GET /v1/accounts/{address}[?proof=1].
func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	var addr types.Address
	if err := decodeFixed(r.PathValue("address"), addr[:]); err != nil {
		writeError(w, badRequest(CodeBadAddress, "address: %v", err))
		return
	}
	withProof, rerr := proofParam(r)
	if rerr != nil {
		writeError(w, rerr)
		return
	}
	acct, err := s.node.Account(r.Context(), addr, withProof)
	if err != nil {
		s.nodeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAccountJSON(acct))
}

// proofParam reads the proof query parameter: 1 or true asks for a proof;
// absent, empty, 0 or false does not.
func proofParam(r *http.Request) (bool, *requestError) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return false, badRequest(CodeBadQuery, "query: %v", err)
	}
	switch v := q.Get("proof"); v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		return false, badRequest(CodeBadQuery, "proof: %q, want 1, true, 0 or false", v)
	}
}

// getChains handles GET /v1/chains.
func (s *Server) getChains(w http.ResponseWriter, _ *http.Request) {
	chains := s.node.Chains()
	out := chainsJSON{Chains: make([]chainJSON, len(chains))}
	for i, c := range chains {
		out.Chains[i] = toChainJSON(c)
	}
	writeJSON(w, http.StatusOK, out)
}

// getBlock handles GET /v1/chains/{chain}/blocks/{block}.
func (s *Server) getBlock(w http.ResponseWriter, r *http.Request) {
	chain, err := parseChain(r.PathValue("chain"))
	if err != nil {
		writeError(w, badRequest(CodeBadChain, "chain: %v", err))
		return
	}
	ref, err := parseBlockRef(r.PathValue("block"))
	if err != nil {
		writeError(w, badRequest(CodeBadBlock, "block: %v", err))
		return
	}
	b, err := s.node.Block(r.Context(), chain, ref)
	if err != nil {
		s.nodeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBlockJSON(b))
}

// parseChain reads a decimal chain ID.
func parseChain(s string) (types.ChainID, error) {
	if !isDecimal(s) {
		return 0, fmt.Errorf("%q: want a decimal chain number", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q: want a chain number below 2^32", s)
	}
	return types.ChainID(n), nil
}

// parseBlockRef reads a decimal height or a 64-hex-digit block hash. No
// height has 64 digits (2^64 has 20), so the two cannot be confused.
func parseBlockRef(s string) (BlockRef, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(t) == 2*len(types.Hash{}) {
		var ref BlockRef
		if err := decodeFixed(s, ref.Hash[:]); err != nil {
			return ref, fmt.Errorf("block hash: %v", err)
		}
		ref.ByHash = true
		return ref, nil
	}
	if !isDecimal(s) {
		return BlockRef{}, fmt.Errorf("%q: want a decimal height or a 64-hex-digit block hash", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return BlockRef{}, fmt.Errorf("%q: height above 2^64-1", s)
	}
	return BlockRef{Height: types.Height(n)}, nil
}

func isDecimal(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// getStatus handles GET /v1/status.
func (s *Server) getStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, toStatusJSON(s.node.Status()))
}

// getHealth handles GET /healthz.
func (s *Server) getHealth(w http.ResponseWriter, _ *http.Request) {
	if err := s.node.Healthy(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, healthJSON{Status: "unhealthy", Error: err.Error(), Code: CodeUnhealthy})
		return
	}
	writeJSON(w, http.StatusOK, healthJSON{Status: "ok"})
}

// nodeFailed answers an error of the Node and logs the server-side ones.
func (s *Server) nodeFailed(w http.ResponseWriter, r *http.Request, err error) {
	e := nodeError(err)
	if e.status >= 500 {
		s.logger.Warn("api node error", "path", r.URL.Path, "status", e.status, "err", err)
	}
	writeError(w, e)
}
