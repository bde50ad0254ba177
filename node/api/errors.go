package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/thinkey/thinkey/node/mempool"
)

// Error codes: the "code" of every error body. They are stable; clients
// branch on them, not on the message text.
const (
	CodeBadJSON              = "bad_json"               // 400: not JSON, wrong JSON type, trailing data, empty body
	CodeUnknownField         = "unknown_field"          // 400: a field the request type does not have
	CodeMissingField         = "missing_field"          // 400: a required field is absent
	CodeBadHex               = "bad_hex"                // 400: a field is not hex of the right length
	CodeBadMessage           = "bad_message"            // 400: raw bytes do not decode, or fields have no encoding
	CodeIDMismatch           = "id_mismatch"            // 400: the "id" given is not the message's ID
	CodeBadBatch             = "bad_batch"              // 400: empty or oversized batch, or mixed forms
	CodeBadID                = "bad_id"                 // 400: path message ID is not 64 hex digits
	CodeBadAddress           = "bad_address"            // 400: path address is not 40 hex digits
	CodeBadChain             = "bad_chain"              // 400: path chain is not a decimal uint32
	CodeBadBlock             = "bad_block"              // 400: path block is neither a height nor a hash
	CodeBadQuery             = "bad_query"              // 400: malformed query string or parameter value
	CodeNotFound             = "not_found"              // 404: no such route or object
	CodeWrongChain           = "wrong_chain"            // 421: the object is on a chain this node does not run
	CodeMethodNotAllowed     = "method_not_allowed"     // 405: the route exists for other methods (see Allow)
	CodeBodyTooLarge         = "body_too_large"         // 413: body over api.max_body_bytes
	CodeUnsupportedMediaType = "unsupported_media_type" // 415: Content-Type other than application/json
	CodeInternal             = "internal"               // 500: the node failed
	CodeUnavailable          = "unavailable"            // 503: the node cannot answer now; retry
	CodeUnhealthy            = "unhealthy"              // 503: /healthz only
	// CodeRejected names a refusal that wraps no node/mempool sentinel;
	// refusals that do carry mempool.Reason's name ("bad_signature",
	// "nonce_too_low", "pool_full", ...).
	CodeRejected = "rejected"
)

// requestError is a failure with its HTTP status and code.
type requestError struct {
	status int
	code   string
	msg    string
	// chain is the chain to ask instead, for wrong_chain.
	chain *uint32
}

func (e *requestError) Error() string { return e.msg }

func badRequest(code, format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
}

// nodeError maps an error returned by the Node.
func nodeError(err error) *requestError {
	switch {
	case errors.Is(err, ErrWrongChain):
		return &requestError{status: http.StatusMisdirectedRequest, code: CodeWrongChain, msg: err.Error(), chain: wrongChain(err)}
	case errors.Is(err, ErrNotFound):
		return &requestError{status: http.StatusNotFound, code: CodeNotFound, msg: err.Error()}
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &requestError{status: http.StatusServiceUnavailable, code: CodeUnavailable, msg: err.Error()}
	default:
		return &requestError{status: http.StatusInternalServerError, code: CodeInternal, msg: err.Error()}
	}
}

// wrongChain returns the chain a WrongChainError names, nil for a bare
// ErrWrongChain.
func wrongChain(err error) *uint32 {
	var wc *WrongChainError
	if !errors.As(err, &wc) {
		return nil
	}
	c := uint32(wc.Chain)
	return &c
}

// rejectionCode names a refused submission.
func rejectionCode(err error) string {
	if r := mempool.Reason(err); r != mempool.ReasonOther {
		return r
	}
	if errors.Is(err, ErrWrongChain) {
		return CodeWrongChain
	}
	return CodeRejected
}

// rejectionStatus is the HTTP status of a refused single submission: 421
// when the sender's chain is not this node's, 429 when retrying later can
// succeed because the pool is full, 503 when the node could not check the
// message, 422 when the message itself is at fault.
func rejectionStatus(err error) int {
	switch {
	case errors.Is(err, ErrWrongChain):
		return http.StatusMisdirectedRequest
	case errors.Is(err, mempool.ErrPoolFull), errors.Is(err, mempool.ErrSenderFull):
		return http.StatusTooManyRequests
	case errors.Is(err, mempool.ErrNonceUnavailable), errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusUnprocessableEntity
	}
}
