package light

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error that refuses a proof: the proof is
// wrong and will never verify against these root keys.
var ErrInvalid = errors.New("invalid light proof")

// Reasons a proof is refused. Every refusal wraps ErrInvalid and exactly
// one of these; callers and tests branch with errors.Is.
var (
	// ErrMalformed: a header of the proof breaks a stateless rule
	// (types.Header.ValidateBasic), or the proof has more than
	// relay.MaxLifts lifts.
	ErrMalformed = errors.New("malformed proof")
	// ErrLift: a lift's path does not lead from the header before it to
	// the recorder header's record root (rootchain.VerifyRecordProof), or
	// the recorder is not that header's recorder chain (the topology, when
	// one is given, or a root header below the last hop).
	ErrLift = errors.New("bad lift")
	// ErrNotRoot: the last header of the proof (the last lift's recorder,
	// or the proven header when there is no lift) is not a root-chain
	// header.
	ErrNotRoot = errors.New("proof does not end at the root chain")
	// ErrCertificate: the root certificate is not a decision certificate
	// of the root committee (consensus.CheckDecisionCertificate) for the
	// root header: another chain, height or block.
	ErrCertificate = errors.New("bad root certificate")
	// ErrSignature: the root certificate's aggregate signature does not
	// verify against the root committee's keys.
	ErrSignature = errors.New("bad root certificate signature")
	// ErrAccount: the account does not decode, or its path does not lead
	// to the block's state root, or the block is not a transaction
	// chain's.
	ErrAccount = errors.New("bad account proof")
	// ErrRelay: the message is not an outer relay produced by the block's
	// chain, the block is EMPTY, or the path does not lead to the block's
	// outer-relay root.
	ErrRelay = errors.New("bad relay proof")
)

// ErrNoRootKeys: the verifier was given no root committee keys, or a nil
// key. A fault of the caller's configuration, not of the proof: it does
// not wrap ErrInvalid.
var ErrNoRootKeys = errors.New("no root committee keys")

// refuse builds a refusal wrapping ErrInvalid and reason.
func refuse(reason error, format string, args ...any) error {
	return fmt.Errorf("light: %w: %w: %s", ErrInvalid, reason, fmt.Sprintf(format, args...))
}

// refuseErr builds a refusal wrapping ErrInvalid, reason and err.
func refuseErr(reason error, err error, format string, args ...any) error {
	return fmt.Errorf("light: %w: %w: %s: %w", ErrInvalid, reason, fmt.Sprintf(format, args...), err)
}
