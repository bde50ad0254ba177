package consensus

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/node/types"
)

// The production signature scheme, wired the way the shell wires it: the
// core signs through Signer, aggregates through Aggregator, and the
// verifier answers its requests with crypto/bls's batch routines.

type blsVerifier struct {
	pks []*bls.PublicKey
	rnd *rand.ChaCha8
}

func (v *blsVerifier) signature(sig [types.BLSSignatureSize]byte) *bls.Signature {
	s, err := bls.SignatureFromBytes(sig[:])
	if err != nil {
		return nil
	}
	return s
}

func (v *blsVerifier) verify(signer types.ValidatorIndex, msg []byte, sig [types.BLSSignatureSize]byte) bool {
	s := v.signature(sig)
	return int(signer) < len(v.pks) && s != nil && bls.Verify(v.pks[signer], msg, s)
}

func (v *blsVerifier) verifyCertificate(c *types.Certificate) bool {
	s := v.signature(c.AggregateSignature)
	if s == nil || c.Signers.CommitteeSize() != len(v.pks) {
		return false
	}
	var pks []*bls.PublicKey
	for _, i := range c.SignerIndices(nil) {
		pks = append(pks, v.pks[i])
	}
	return bls.FastAggregateVerify(pks, c.VoteSigningBytes(), s)
}

func (v *blsVerifier) answer(req VerifyRequest, blockValid func(*Block) bool) VerifyResult {
	res := VerifyResult{ID: req.ID}
	switch req.Kind {
	case VerifySameMessageVotes:
		pks := make([]*bls.PublicKey, len(req.Votes))
		sigs := make([]*bls.Signature, len(req.Votes))
		for i, vote := range req.Votes {
			if int(vote.Voter) < len(v.pks) {
				pks[i] = v.pks[vote.Voter]
			}
			sigs[i] = v.signature(vote.Signature)
		}
		res.Invalid = bls.VerifySameMessage(req.SigningBytes, pks, sigs, v.rnd)
	case VerifySignatures:
		sets := make([]bls.SignatureSet, len(req.Signatures))
		for i, s := range req.Signatures {
			sets[i] = bls.SignatureSet{Message: s.Message, Signature: v.signature(s.Signature)}
			if int(s.Signer) < len(v.pks) {
				sets[i].PublicKey = v.pks[s.Signer]
			}
		}
		invalid := bls.BatchVerifyFindInvalid(sets, v.rnd)
		res.Valid = make([]bool, len(sets))
		for i := range res.Valid {
			res.Valid[i] = true
		}
		for _, i := range invalid {
			res.Valid[i] = false
		}
	case VerifyCertificate:
		res.OK = v.verifyCertificate(req.Certificate)
	case VerifyBlock:
		res.OK = blockValid(req.Block)
	}
	return res
}

func newBLSCluster(t *testing.T, n int) *cluster {
	t.Helper()
	sks := make([]*bls.SecretKey, n)
	v := &blsVerifier{rnd: rand.NewChaCha8(sha256.Sum256([]byte("verifier coefficients")))}
	for i := range n {
		ikm := sha256.Sum256([]byte(fmt.Sprintf("bls member %d", i)))
		sk, err := bls.GenerateKey(ikm[:])
		if err != nil {
			t.Fatal(err)
		}
		sks[i] = sk
		v.pks = append(v.pks, sk.PublicKey())
	}
	return newClusterWith(t, n, func(i int) Signer { return BLSSigner{Key: sks[i]} }, BLSAggregator{}, v)
}

// With real BLS signatures: a block decided in round 0, and EMPTY decided
// with a leader-faulty certificate when the leader is down. Every commit's
// certificate is checked with FastAggregateVerify by the harness.
func TestFig5WithBLSSignatures(t *testing.T) {
	cl := newBLSCluster(t, 4)
	cl.start()
	cl.settle()
	if v := cl.requireCommitted(1, allMembers(4)); IsEmptyValue(v) {
		t.Fatal("decided EMPTY on the happy path")
	}

	cl = newBLSCluster(t, 4)
	cl.crash(int(Leader(1, 0, 4)))
	cl.start()
	cl.advance(1500 * time.Millisecond)
	if v := cl.requireCommitted(1, without(allMembers(4), int(Leader(1, 0, 4)))); !IsEmptyValue(v) {
		t.Fatalf("decided %v without a leader", v)
	}
}

// A vote with a bad BLS signature is dropped, not counted and not evidence:
// bisection names it and the others still decide.
func TestBLSBadVoteSignatureIsDropped(t *testing.T) {
	cl := newBLSCluster(t, 4)
	cl.byzantine[3] = true
	cl.rewrite = func(p packet) []packet {
		if prep, ok := p.msg.(*Prepare); ok && p.from == 3 {
			bad := *prep
			copy(bad.Vote.Signature[:], bls.Sign(mustKey(t, 99), bad.Vote.SigningBytes()).Bytes())
			return []packet{{from: p.from, to: p.to, msg: &bad}}
		}
		return []packet{p}
	}
	cl.start()
	cl.settle()
	cl.requireCommitted(1, allMembers(4))
	if cl.invalidVotes == 0 {
		t.Fatal("the forged prepares were never verified")
	}
	for i := range 3 {
		if len(cl.evidence[i]) != 0 {
			t.Fatalf("member %d took a bad signature for evidence", i)
		}
		if d := cl.commits[i][0]; d.Certificate.HasSigner(3) && d.Certificate.Kind != types.VoteConfirm {
			t.Fatalf("member %d counted the forged prepare", i)
		}
	}
}

func mustKey(t *testing.T, seed int) *bls.SecretKey {
	t.Helper()
	ikm := sha256.Sum256([]byte(fmt.Sprintf("other key %d", seed)))
	sk, err := bls.GenerateKey(ikm[:])
	if err != nil {
		t.Fatal(err)
	}
	return sk
}
