package rootchain

import (
	"fmt"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// Committees gives the recorder what it needs of the child chains'
// committees to accept their decision certificates. The shell implements
// it with BLS over the committee keys of the genesis (BLSCommittees); the
// simulator with its stand-in signature scheme.
type Committees interface {
	// Size returns the number of members of chain's committee; 0 for a
	// chain it does not know.
	Size(chain types.ChainID) int
	// VerifyCertificate reports whether cert's aggregate signature is the
	// aggregate of its signers' signatures over cert.VoteSigningBytes(),
	// the signers being members of chain's committee. The certificate's
	// shape has been checked (consensus.CheckDecisionCertificate with
	// Size(chain)) before.
	VerifyCertificate(chain types.ChainID, cert *types.Certificate) bool
}

// Result is a recorder block's body, roots and the state after it.
type Result struct {
	// Body is the block body (for Verify and Apply, the body checked).
	Body Body
	// InputRoot is the record root: the Merkle root over the records'
	// leaves (Record.Leaf) in body order.
	InputRoot types.Hash
	// StateRoot is State.Root().
	StateRoot types.Hash
	// State is the state after the block. The state given to Execute,
	// Verify or Apply is unchanged.
	State *State
	// Rejected lists, from Execute only, the pending records found invalid
	// (stale ones included): the shell may drop them. A pending record
	// that is neither in Body nor in Rejected may fit a later block.
	Rejected []*RecordError
}

// SetHeader writes the result's roots into the header of a recorder
// block, and zeroes the roots a recorder does not use.
func (r *Result) SetHeader(h *types.Header) {
	h.InputRoot, h.StateRoot = r.InputRoot, r.StateRoot
	h.InterRelayRoot, h.OuterRelayRoot, h.RecordRoot = types.Hash{}, types.Hash{}, types.Hash{}
}

// Verify checks a proposed recorder block in full, as a member of the
// recorder's committee does before voting for it: the header's chain, the
// body's structure, every record against its chain's tip and its
// certificate against the chain's committee, and the header's roots. It
// returns the body's result, or the first failure as a *RecordError.
//
// The checks run in this order, so a malformed block is refused before
// any signature is verified:
//  1. the header names the state's recorder chain (ErrWrongChain);
//  2. at most MaxRecords records, in strictly increasing (ChainID,
//     Height) order (ErrMalformedBody); none in an EMPTY block;
//  3. per record: Record.ValidateBasic (ErrMalformedRecord); its chain is
//     a child (ErrNotChild); its height is the tip's plus one (ErrStale,
//     ErrGap); its parent is the tip (ErrParentMismatch); an EMPTY record
//     is types.EmptyHeader of the tip (ErrEmptyMismatch); its certificate
//     has the shape of a decision certificate of the chain's committee
//     (ErrCertificate);
//  4. every certificate's aggregate signature (ErrBadSignature);
//  5. the header's InputRoot and StateRoot are the result's, its other
//     roots zero (ErrRootMismatch).
//
// An EMPTY recorder header (decided on timeout) must come with an empty
// body; it leaves the state as it is and its roots, derived from its
// parent by types.EmptyHeader, are not compared (the result's InputRoot is
// zero, as the empty header's).
func Verify(st *State, header *types.Header, body *Body, c Committees) (Result, error) {
	if c == nil {
		return Result{}, fmt.Errorf("rootchain verify: no committees")
	}
	return transition(st, header, body, c)
}

// Apply applies a recorder block whose own decision certificate the
// caller has checked: what every node following the recorder chain
// without being in its committee does. It makes every check of Verify
// except the certificates' shape and signature, which the recorder's
// committee vouched for: the records' stateless rules, their linkage to
// their chains' tips and the header's roots. A
// failure means the recorder's committee certified an invalid block, or
// this node's state is not the block's parent state.
func Apply(st *State, header *types.Header, body *Body) (Result, error) {
	return transition(st, header, body, nil)
}

// transition is Verify (c not nil) and Apply (c nil).
func transition(st *State, header *types.Header, body *Body, c Committees) (Result, error) {
	if st == nil || header == nil || body == nil {
		return Result{}, fmt.Errorf("rootchain: missing state, header or body")
	}
	if header.ChainID != st.recorder {
		return Result{}, &RecordError{Reason: ErrWrongChain, Index: -1,
			Detail: fmt.Sprintf("header of chain %d, state of chain %d", header.ChainID, st.recorder)}
	}
	if err := checkBodyShape(body); err != nil {
		return Result{}, err
	}
	if header.Empty {
		if len(body.Records) > 0 {
			return Result{}, &RecordError{Reason: ErrMalformedBody, Index: -1,
				Detail: fmt.Sprintf("EMPTY recorder block with %d records", len(body.Records))}
		}
		return Result{Body: *body, StateRoot: st.root, State: st}, nil
	}

	leaves := make([]types.Hash, len(body.Records))
	updates := make(map[int]*tip)
	for i := range body.Records {
		r := &body.Records[i]
		h := r.Header.Hash()
		leaves[i] = headerLeaf(&h)
		pos, err := st.linkTip(r, &h, i, updates)
		if err != nil {
			return Result{}, err
		}
		if c != nil {
			if err := checkCertificateShape(r, i, c); err != nil {
				return Result{}, err
			}
		}
		updates[pos] = tipOf(&r.Header, &h)
	}
	if c != nil {
		for i := range body.Records {
			r := &body.Records[i]
			if !c.VerifyCertificate(r.Header.ChainID, &r.Certificate) {
				return Result{}, recordErr(ErrBadSignature, r, i, nil, "")
			}
		}
	}
	next := st.next(updates)
	res := Result{Body: *body, InputRoot: merkle.RootFromLeafHashes(leaves), StateRoot: next.root, State: next}
	if err := compareRoots(header, &res); err != nil {
		return Result{}, err
	}
	return res, nil
}

// checkBodyShape checks the record count and the canonical order.
func checkBodyShape(body *Body) error {
	if len(body.Records) > MaxRecords {
		return &RecordError{Reason: ErrMalformedBody, Index: -1,
			Detail: fmt.Sprintf("%d records, maximum %d", len(body.Records), MaxRecords)}
	}
	for i := 1; i < len(body.Records); i++ {
		prev, cur := &body.Records[i-1].Header, &body.Records[i].Header
		if compareKeys(key{prev.ChainID, prev.Height}, key{cur.ChainID, cur.Height}) >= 0 {
			return recordErr(ErrMalformedBody, &body.Records[i], i, nil,
				"not after record %d/%d: records must be in strictly increasing (chain, height) order", prev.ChainID, prev.Height)
		}
	}
	return nil
}

// linkTip checks record r (at position i, header hash h) against its
// chain's current tip: the state's, or the one an earlier record of the
// same block set (in updates). It returns the chain's position.
func (s *State) linkTip(r *Record, h *types.Hash, i int, updates map[int]*tip) (int, error) {
	if err := r.validateBasic(h); err != nil {
		return 0, recordErr(ErrMalformedRecord, r, i, err, "")
	}
	pos, ok := s.index[r.Header.ChainID]
	if !ok {
		return 0, recordErr(ErrNotChild, r, i, nil, "recorder chain %d", s.recorder)
	}
	cur := s.tips[pos]
	if t, ok := updates[pos]; ok {
		cur = t
	}
	if err := cur.extendedBy(r, h, i); err != nil {
		return 0, err
	}
	return pos, nil
}

// extendedBy checks that r (header hash h, a record that passed
// validateBasic) is the next record after t.
func (t *tip) extendedBy(r *Record, h *types.Hash, i int) *RecordError {
	want := t.header.Height + 1
	switch {
	case r.Header.Height < want:
		return recordErr(ErrStale, r, i, nil, "tip is at height %d", t.header.Height)
	case r.Header.Height > want:
		return recordErr(ErrGap, r, i, nil, "tip is at height %d", t.header.Height)
	case r.Header.ParentHash != t.hash:
		return recordErr(ErrParentMismatch, r, i, nil, "parent %v, tip %v", r.Header.ParentHash, t.hash)
	}
	if r.Header.Empty {
		if e := types.EmptyHeader(&t.header); e != r.Header {
			return recordErr(ErrEmptyMismatch, r, i, nil, "")
		}
	}
	return nil
}

// checkCertificateShape checks r's certificate against its chain's
// committee size.
func checkCertificateShape(r *Record, i int, c Committees) *RecordError {
	size := c.Size(r.Header.ChainID)
	if size <= 0 {
		return recordErr(ErrCertificate, r, i, nil, "no committee known for chain %d", r.Header.ChainID)
	}
	if err := consensus.CheckDecisionCertificate(&r.Certificate, size); err != nil {
		return recordErr(ErrCertificate, r, i, err, "")
	}
	return nil
}

// compareRoots checks the header's roots against the result's.
func compareRoots(header *types.Header, res *Result) error {
	for _, c := range []struct {
		name      string
		got, want types.Hash
	}{
		{"input", header.InputRoot, res.InputRoot},
		{"state", header.StateRoot, res.StateRoot},
		{"inter-relay", header.InterRelayRoot, types.Hash{}},
		{"outer-relay", header.OuterRelayRoot, types.Hash{}},
		{"record", header.RecordRoot, types.Hash{}},
	} {
		if c.got != c.want {
			return &RecordError{Reason: ErrRootMismatch, Index: -1,
				Detail: fmt.Sprintf("%s root: header %v, want %v", c.name, c.got, c.want)}
		}
	}
	return nil
}
