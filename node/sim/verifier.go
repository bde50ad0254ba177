package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// SignatureScheme says how the simulated committee signs and how its
// signatures are checked.
type SignatureScheme uint8

const (
	// SchemeStandIn signs with SHA-256(secret || message), expanded to the
	// 96 bytes of a BLS signature, and aggregates by XOR. It is thousands of
	// times cheaper than BLS in real CPU, so hundreds of members fit in one
	// process; virtual CPU is still charged at BLS costs (CPUCosts).
	SchemeStandIn SignatureScheme = iota + 1
	// SchemeBLS signs and verifies with crypto/bls, as the node does.
	SchemeBLS
)

// String returns the name ParseSignatureScheme accepts.
func (s SignatureScheme) String() string {
	switch s {
	case SchemeStandIn:
		return "standin"
	case SchemeBLS:
		return "bls"
	}
	return fmt.Sprintf("SignatureScheme(%d)", uint8(s))
}

// ParseSignatureScheme parses "standin" or "bls".
func ParseSignatureScheme(name string) (SignatureScheme, error) {
	switch name {
	case "standin":
		return SchemeStandIn, nil
	case "bls":
		return SchemeBLS, nil
	}
	return 0, fmt.Errorf("%w: signature scheme %q (want standin or bls)", ErrInvalidConfig, name)
}

// CPUCosts is the virtual CPU a simulated member is charged (World.Charge)
// for its work, so that simulated block times include it. The defaults are
// the figures of docs/PERFORMANCE.md (machine profile "ci-2c"); a bench
// report can replace them (tools/simulate reads one).
type CPUCosts struct {
	// Sign is one BLS signature (bls/sign).
	Sign time.Duration
	// Verify is one signature checked alone (bls/verify/single); it is also
	// the price of every aggregate check beyond the first of a
	// distinct-message batch that bisects.
	Verify time.Duration
	// SameMessageBase and SameMessagePerVote price a same-message vote batch
	// of k votes: SameMessageBase per aggregate check (one when every vote
	// is valid, more when bisection runs) plus SameMessagePerVote per vote
	// (decoding it dominates): the fit of bls/votes/n=*/batch.
	SameMessageBase    time.Duration
	SameMessagePerVote time.Duration
	// DistinctPerSignature is what each signature beyond the first adds to a
	// distinct-message batch (bls/batch/n=*/distinct, about 0.4 of Verify).
	DistinctPerSignature time.Duration
	// CertificatePerSigner is what each signer adds to a certificate check
	// (adding its public key); the check itself costs Verify.
	CertificatePerSigner time.Duration
	// AggregatePerSignature is what each signature adds to forming a
	// certificate (adding decoded points).
	AggregatePerSignature time.Duration
	// BlockCheck is the application's validity check of a proposed block.
	BlockCheck time.Duration
	// Persist is one synced write of the member's consensus state and
	// committed blocks (pebble/apply-block/writes=10).
	Persist time.Duration
	// Message is handling one delivered message: decoding it and the core's
	// step, signatures aside.
	Message time.Duration
}

// DefaultCPUCosts returns the costs measured on the "ci-2c" profile of
// docs/PERFORMANCE.md: sign 0.33 ms, verify 0.9 ms, a same-message batch of
// k votes 1.1 ms + 0.1 ms·k, a distinct-message batch 0.36 ms per extra
// signature, a synced state write 0.25 ms.
func DefaultCPUCosts() CPUCosts {
	return CPUCosts{
		Sign:                  330 * time.Microsecond,
		Verify:                900 * time.Microsecond,
		SameMessageBase:       1100 * time.Microsecond,
		SameMessagePerVote:    100 * time.Microsecond,
		DistinctPerSignature:  360 * time.Microsecond,
		CertificatePerSigner:  time.Microsecond,
		AggregatePerSignature: 2 * time.Microsecond,
		BlockCheck:            50 * time.Microsecond,
		Persist:               250 * time.Microsecond,
		Message:               10 * time.Microsecond,
	}
}

// Validate reports every negative cost at once.
func (c CPUCosts) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"sign", c.Sign}, {"verify", c.Verify}, {"same-message base", c.SameMessageBase},
		{"same-message per vote", c.SameMessagePerVote}, {"distinct per signature", c.DistinctPerSignature},
		{"certificate per signer", c.CertificatePerSigner}, {"aggregate per signature", c.AggregatePerSignature},
		{"block check", c.BlockCheck}, {"persist", c.Persist}, {"message", c.Message},
	} {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("%w: cpu costs: %s %v is negative", ErrInvalidConfig, f.name, f.d))
		}
	}
	return errors.Join(errs...)
}

// SignatureWork counts a member's signature work, in the units BLS would
// spend it: an aggregate check is one pairing equation (a same-message
// batch, a distinct-message batch, a certificate, or one step of
// bisection), whatever the scheme really ran.
type SignatureWork struct {
	// Requests counts the verification requests answered, by kind.
	SameMessageBatches, DistinctBatches, Certificates, Blocks uint64
	// SignaturesVerified counts the individual signatures inside batches
	// (a certificate counts as one aggregate check, not its signers).
	SignaturesVerified uint64
	// AggregateChecks counts pairing equations, bisection included.
	AggregateChecks uint64
	// Signed counts signatures made; Aggregated certificates formed.
	Signed, Aggregated uint64
	// Invalid counts signatures found invalid.
	Invalid uint64
}

// Add adds o to w.
func (w *SignatureWork) Add(o SignatureWork) {
	w.SameMessageBatches += o.SameMessageBatches
	w.DistinctBatches += o.DistinctBatches
	w.Certificates += o.Certificates
	w.Blocks += o.Blocks
	w.SignaturesVerified += o.SignaturesVerified
	w.AggregateChecks += o.AggregateChecks
	w.Signed += o.Signed
	w.Aggregated += o.Aggregated
	w.Invalid += o.Invalid
}

// Keyring holds the keys of a committee of simulated members under one
// scheme. Every member's key is derived from its index alone, so two
// clusters of one size share keys, and a simulation replays the same
// signatures from the same seed. The simulator knows every secret; only
// the members' own signers and the Byzantine wrappers of a member sign
// with a member's key.
type Keyring struct {
	scheme     SignatureScheme
	standIn    [][32]byte
	blsSecrets []*bls.SecretKey
	blsKeys    []*bls.PublicKey
}

// Domain labels of the derived keys and of the stand-in signature.
const (
	standInKeyLabel       = "thinkey/sim/stand-in-key/v1"
	standInSignatureLabel = "thinkey/sim/stand-in-signature/v1"
	blsKeyLabel           = "thinkey/sim/bls-key/v1"
)

// NewKeyring derives the keys of a committee of n members.
func NewKeyring(scheme SignatureScheme, n int) (*Keyring, error) {
	if n < 1 || n > types.MaxCommitteeSize {
		return nil, fmt.Errorf("%w: keyring of %d members (1..%d)", ErrInvalidConfig, n, types.MaxCommitteeSize)
	}
	k := &Keyring{scheme: scheme}
	for i := range n {
		var buf [64]byte
		switch scheme {
		case SchemeStandIn:
			ikm := binary.BigEndian.AppendUint32(append(buf[:0], standInKeyLabel...), uint32(i))
			k.standIn = append(k.standIn, hash.Sum256(ikm))
		case SchemeBLS:
			ikm := hash.Sum256(binary.BigEndian.AppendUint32(append(buf[:0], blsKeyLabel...), uint32(i)))
			sk, err := bls.GenerateKey(ikm[:])
			if err != nil {
				return nil, fmt.Errorf("keyring: member %d: %w", i, err)
			}
			k.blsSecrets = append(k.blsSecrets, sk)
			k.blsKeys = append(k.blsKeys, sk.PublicKey())
		default:
			return nil, fmt.Errorf("%w: signature scheme %v", ErrInvalidConfig, scheme)
		}
	}
	return k, nil
}

// Scheme returns the keyring's scheme.
func (k *Keyring) Scheme() SignatureScheme { return k.scheme }

// Size returns the committee size.
func (k *Keyring) Size() int { return max(len(k.standIn), len(k.blsKeys)) }

// Signer returns member i's signer (nil for a non-member).
func (k *Keyring) Signer(i types.ValidatorIndex) consensus.Signer {
	if int64(i) >= int64(k.Size()) {
		return nil
	}
	if k.scheme == SchemeBLS {
		return consensus.BLSSigner{Key: k.blsSecrets[i]}
	}
	return standInSigner{k.standIn[i]}
}

// Aggregator returns the scheme's certificate aggregator.
func (k *Keyring) Aggregator() consensus.Aggregator {
	if k.scheme == SchemeBLS {
		return consensus.BLSAggregator{}
	}
	return xorAggregator{}
}

// VerifySignature reports whether sig is member signer's signature of msg;
// it has the shape of consensus.SignatureVerifier.
func (k *Keyring) VerifySignature(signer types.ValidatorIndex, msg []byte, sig [types.BLSSignatureSize]byte) bool {
	if int64(signer) >= int64(k.Size()) {
		return false
	}
	if k.scheme == SchemeBLS {
		s, err := bls.SignatureFromBytes(sig[:])
		return err == nil && bls.Verify(k.blsKeys[signer], msg, s)
	}
	return standInSignature(k.standIn[signer], msg) == sig
}

// VerifyCertificate checks a certificate's aggregate signature against its
// signer set (FastAggregateVerify for BLS; for the stand-in, the XOR of
// the signers' signatures).
func (k *Keyring) VerifyCertificate(c *types.Certificate) bool {
	if c.Signers.CommitteeSize() != k.Size() || c.SignerCount() == 0 {
		return false
	}
	msg := c.VoteSigningBytes()
	signers := c.SignerIndices(nil)
	if k.scheme == SchemeBLS {
		s, err := bls.SignatureFromBytes(c.AggregateSignature[:])
		if err != nil {
			return false
		}
		pks := make([]*bls.PublicKey, len(signers))
		for i, m := range signers {
			pks[i] = k.blsKeys[m]
		}
		return bls.FastAggregateVerify(pks, msg, s)
	}
	var want [types.BLSSignatureSize]byte
	for _, m := range signers {
		xorInto(&want, standInSignature(k.standIn[m], msg))
	}
	return want == c.AggregateSignature
}

// verifySameMessage returns the indices of the votes whose signature of msg
// does not verify, in increasing order.
func (k *Keyring) verifySameMessage(msg []byte, votes []types.Vote, rnd io.Reader) []int {
	if k.scheme == SchemeBLS {
		pks := make([]*bls.PublicKey, len(votes))
		sigs := make([]*bls.Signature, len(votes))
		for i := range votes {
			if int64(votes[i].Voter) < int64(len(k.blsKeys)) {
				pks[i] = k.blsKeys[votes[i].Voter]
			}
			if s, err := bls.SignatureFromBytes(votes[i].Signature[:]); err == nil {
				sigs[i] = s
			}
		}
		return bls.VerifySameMessage(msg, pks, sigs, rnd)
	}
	var invalid []int
	for i := range votes {
		if !k.VerifySignature(votes[i].Voter, msg, votes[i].Signature) {
			invalid = append(invalid, i)
		}
	}
	return invalid
}

// verifyBatch returns one verdict per check.
func (k *Keyring) verifyBatch(checks []consensus.SignatureCheck, rnd io.Reader) []bool {
	valid := make([]bool, len(checks))
	if k.scheme == SchemeBLS {
		sets := make([]bls.SignatureSet, len(checks))
		for i, c := range checks {
			sets[i].Message = c.Message
			if int64(c.Signer) < int64(len(k.blsKeys)) {
				sets[i].PublicKey = k.blsKeys[c.Signer]
			}
			if s, err := bls.SignatureFromBytes(c.Signature[:]); err == nil {
				sets[i].Signature = s
			}
		}
		for i := range valid {
			valid[i] = true
		}
		for _, i := range bls.BatchVerifyFindInvalid(sets, rnd) {
			valid[i] = false
		}
		return valid
	}
	for i, c := range checks {
		valid[i] = k.VerifySignature(c.Signer, c.Message, c.Signature)
	}
	return valid
}

// standInSignature is SHA-256(label || secret || msg) followed by two
// more hashes of it, 96 bytes in all: unforgeable without the secret, which
// is all the simulation needs of a signature.
func standInSignature(secret [32]byte, msg []byte) [types.BLSSignatureSize]byte {
	h := hash.New()
	h.Write([]byte(standInSignatureLabel))
	h.Write(secret[:])
	h.Write(msg)
	var sig [types.BLSSignatureSize]byte
	first := h.Sum(sig[:0])
	for i := byte(1); i < types.BLSSignatureSize/hash.Size; i++ {
		var buf [hash.Size + 1]byte
		copy(buf[:], first[:hash.Size])
		buf[hash.Size] = i
		d := hash.Sum256(buf[:])
		copy(sig[int(i)*hash.Size:], d[:])
	}
	return sig
}

func xorInto(dst *[types.BLSSignatureSize]byte, sig [types.BLSSignatureSize]byte) {
	for i := range dst {
		dst[i] ^= sig[i]
	}
}

type standInSigner struct{ secret [32]byte }

func (s standInSigner) Sign(msg []byte) [types.BLSSignatureSize]byte {
	return standInSignature(s.secret, msg)
}

// xorAggregator aggregates stand-in signatures by XOR, so that a
// certificate is checked by recomputing its signers' signatures.
type xorAggregator struct{}

func (xorAggregator) Aggregate(sigs [][types.BLSSignatureSize]byte) ([types.BLSSignatureSize]byte, error) {
	var out [types.BLSSignatureSize]byte
	if len(sigs) == 0 {
		return out, errors.New("aggregate: no signature")
	}
	for _, s := range sigs {
		xorInto(&out, s)
	}
	return out, nil
}

// Verifier answers one member's verification requests with a keyring,
// counts the work in BLS units and prices it in virtual CPU. It is the
// simulation twin of the node's accel batcher: one request is one batch.
type Verifier struct {
	keys  *Keyring
	costs CPUCosts
	// rnd feeds the BLS batch coefficients; a seeded stream of the member,
	// so that a replay draws the same coefficients.
	rnd io.Reader
	// blockValid is the application's check of a proposed block.
	blockValid func(*consensus.Block) bool
	work       SignatureWork
}

// NewVerifier returns a verifier over keys. rnd is the source of the batch
// coefficients (unused by the stand-in); blockValid answers VerifyBlock.
func NewVerifier(keys *Keyring, costs CPUCosts, rnd io.Reader, blockValid func(*consensus.Block) bool) *Verifier {
	return &Verifier{keys: keys, costs: costs, rnd: rnd, blockValid: blockValid}
}

// Work returns the work counted so far.
func (v *Verifier) Work() SignatureWork { return v.work }

// Answer answers req and returns the virtual CPU it costs.
func (v *Verifier) Answer(req consensus.VerifyRequest) (consensus.VerifyResult, time.Duration) {
	res := consensus.VerifyResult{ID: req.ID}
	c := &v.costs
	switch req.Kind {
	case consensus.VerifySameMessageVotes:
		res.Invalid = v.keys.verifySameMessage(req.SigningBytes, req.Votes, v.rnd)
		checks := bisectionChecks(len(req.Votes), res.Invalid)
		v.work.SameMessageBatches++
		v.work.SignaturesVerified += uint64(len(req.Votes))
		v.work.AggregateChecks += uint64(checks)
		v.work.Invalid += uint64(len(res.Invalid))
		return res, time.Duration(checks)*c.SameMessageBase + time.Duration(len(req.Votes))*c.SameMessagePerVote
	case consensus.VerifySignatures:
		res.Valid = v.keys.verifyBatch(req.Signatures, v.rnd)
		var invalid []int
		for i, ok := range res.Valid {
			if !ok {
				invalid = append(invalid, i)
			}
		}
		checks := bisectionChecks(len(req.Signatures), invalid)
		v.work.DistinctBatches++
		v.work.SignaturesVerified += uint64(len(req.Signatures))
		v.work.AggregateChecks += uint64(checks)
		v.work.Invalid += uint64(len(invalid))
		extra := time.Duration(max(len(req.Signatures)-1, 0))
		return res, c.Verify + extra*c.DistinctPerSignature + time.Duration(checks-1)*c.Verify
	case consensus.VerifyCertificate:
		if req.Certificate != nil {
			res.OK = v.keys.VerifyCertificate(req.Certificate)
		}
		v.work.Certificates++
		v.work.AggregateChecks++
		signers := 0
		if req.Certificate != nil {
			signers = req.Certificate.SignerCount()
		}
		if !res.OK {
			v.work.Invalid++
		}
		return res, c.Verify + time.Duration(signers)*c.CertificatePerSigner
	case consensus.VerifyBlock:
		res.OK = req.Block != nil && v.blockValid(req.Block)
		v.work.Blocks++
		return res, c.BlockCheck
	}
	return res, 0
}

// bisectionChecks counts the pairing checks crypto/bls makes on a batch of
// k signatures of which those at invalid (increasing) are bad: one for the
// whole batch; on failure each half is checked, except that a failing
// range whose left half passed has a failing right half, which is not
// checked again, and a single signature known to fail needs no check.
func bisectionChecks(k int, invalid []int) int {
	if k == 0 {
		return 0
	}
	bad := func(lo, hi int) bool {
		for _, i := range invalid {
			if i >= lo && i < hi {
				return true
			}
		}
		return false
	}
	var count func(lo, hi int, knownBad bool) int
	count = func(lo, hi int, knownBad bool) int {
		n := 0
		if !knownBad {
			n++
			if !bad(lo, hi) {
				return n
			}
		}
		if hi-lo == 1 {
			return n
		}
		mid := (lo + hi) / 2
		n += count(lo, mid, false)
		return n + count(mid, hi, !bad(lo, mid))
	}
	return count(0, k, false)
}
