package rootchain

import (
	"errors"
	"fmt"
	"strings"

	"github.com/thinkey/thinkey/node/types"
)

// ErrInvalid is wrapped by every error that says a record, a body or a
// recorder block breaks a rule. It is node/types.ErrInvalid, so the
// stateless errors of ValidateBasic and the stateful ones of Verify and
// Apply are caught by one errors.Is.
var ErrInvalid = types.ErrInvalid

// Reasons a record is refused by Verify and Apply, or left out of a body by
// Execute. Every such error is a *RecordError whose Reason is one of these;
// callers branch with errors.Is. All of them also wrap ErrInvalid.
var (
	// ErrMalformedRecord: the record breaks a stateless rule
	// (Record.ValidateBasic): a header or certificate that is not well
	// formed, a certificate for another chain, height or block, an EMPTY
	// record whose header does not have the shape of an empty header.
	ErrMalformedRecord = errors.New("malformed record")
	// ErrNotChild: the record's chain is not a child of this recorder.
	ErrNotChild = errors.New("chain is not a child of this recorder")
	// ErrStale: the record's height is at or below its chain's tip.
	ErrStale = errors.New("stale record")
	// ErrGap: the record's height is above its chain's tip plus one.
	ErrGap = errors.New("height gap")
	// ErrParentMismatch: the record's ParentHash is not the hash of its
	// chain's tip.
	ErrParentMismatch = errors.New("parent mismatch")
	// ErrEmptyMismatch: an EMPTY record's header is not
	// types.EmptyHeader of its chain's tip.
	ErrEmptyMismatch = errors.New("empty record does not match its parent")
	// ErrCertificate: the certificate does not have the shape of a
	// decision certificate of the chain's committee
	// (consensus.CheckDecisionCertificate), or no committee is known for
	// the chain.
	ErrCertificate = errors.New("bad decision certificate")
	// ErrBadSignature: the certificate's aggregate signature does not
	// verify against the chain's committee.
	ErrBadSignature = errors.New("bad certificate signature")
)

// Reasons a recorder block as a whole is refused by Verify and Apply.
var (
	// ErrMalformedBody: the body breaks a structural rule: records not in
	// strictly increasing (ChainID, Height) order (which includes a record
	// twice), more than MaxRecords records, records in an EMPTY block.
	ErrMalformedBody = errors.New("malformed recorder body")
	// ErrWrongChain: the recorder block's header names another chain than
	// the state's recorder.
	ErrWrongChain = errors.New("recorder block of another chain")
	// ErrRootMismatch: a root computed from the body and state differs
	// from the header's, or a root the recorder does not use is not zero.
	ErrRootMismatch = errors.New("root mismatch")
)

// RecordError says why a record, or a recorder block, is refused: the
// reason (one of the sentinels above), the record concerned when there is
// one, and the underlying error.
type RecordError struct {
	// Reason is the sentinel callers branch on.
	Reason error
	// Chain and Height name the record concerned; both zero for an error
	// about the block as a whole.
	Chain  types.ChainID
	Height types.Height
	// Index is the record's position in the body (Verify, Apply), or in
	// the pending list (Execute); -1 when there is none.
	Index int
	// Detail says what exactly was found.
	Detail string
	// Err is the underlying error (from node/types, node/consensus), or
	// nil.
	Err error
}

// Error renders "rootchain: <reason>: record <chain>/<height> (index i):
// <detail>: <err>", leaving out the parts that are empty.
func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString("rootchain: ")
	b.WriteString(e.Reason.Error())
	if e.Chain != 0 || e.Height != 0 {
		fmt.Fprintf(&b, ": record %d/%d", e.Chain, e.Height)
	}
	if e.Index >= 0 {
		fmt.Fprintf(&b, " (index %d)", e.Index)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As the reason, ErrInvalid and the
// underlying error.
func (e *RecordError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason, ErrInvalid}
	}
	return []error{e.Reason, ErrInvalid, e.Err}
}

func recordErr(reason error, r *Record, index int, err error, format string, args ...any) *RecordError {
	e := &RecordError{Reason: reason, Index: index, Err: err}
	if r != nil {
		e.Chain, e.Height = r.Header.ChainID, r.Header.Height
	}
	if format != "" {
		e.Detail = fmt.Sprintf(format, args...)
	}
	return e
}
