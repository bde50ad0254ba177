package driver

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/types"
)

// verifyJob is one VerifyRequest handed to the worker pool; seq orders the
// answers back into request order.
type verifyJob struct {
	seq uint64
	req consensus.VerifyRequest
}

// verifyDone is a worker's answer to a verifyJob.
type verifyDone struct {
	seq uint64
	res consensus.VerifyResult
}

// verifier answers the consensus core's signature requests: BLS against
// the chain committee's keys from the genesis (each carries a verified
// proof of possession, which same-message aggregation needs).
type verifier struct {
	pks []*bls.PublicKey
	rnd io.Reader
}

// verify runs one request and returns its answer (Now is the loop's to
// fill) and, for a refused block, why. Blocks go to the chain's app.
func (r *runner) verify(ctx context.Context, req *consensus.VerifyRequest) (consensus.VerifyResult, error) {
	v := r.ver
	res := consensus.VerifyResult{ID: req.ID}
	var err error
	switch req.Kind {
	case consensus.VerifySameMessageVotes:
		res.Invalid = v.sameMessage(req)
	case consensus.VerifySignatures:
		res.Valid = v.signatures(req)
	case consensus.VerifyCertificate:
		res.OK = v.certificate(req.Certificate)
	case consensus.VerifyBlock:
		if req.Block == nil {
			err = errors.New("no block")
		} else {
			err = r.app.verifyBlock(ctx, req.Block)
		}
		res.OK = err == nil
	}
	return res, err
}

func (v *verifier) key(i types.ValidatorIndex) *bls.PublicKey {
	if int(i) >= len(v.pks) {
		return nil
	}
	return v.pks[i]
}

// sameMessage checks a committee's votes on one message with one aggregate
// check, bisecting on failure (crypto/bls.VerifySameMessage). A signature
// that does not decode, or a voter outside the committee, is invalid without
// entering the batch.
func (v *verifier) sameMessage(req *consensus.VerifyRequest) []int {
	var invalid []int
	pks := make([]*bls.PublicKey, 0, len(req.Votes))
	sigs := make([]*bls.Signature, 0, len(req.Votes))
	at := make([]int, 0, len(req.Votes))
	for i := range req.Votes {
		pk := v.key(req.Votes[i].Voter)
		sig, err := bls.SignatureFromBytes(req.Votes[i].Signature[:])
		if pk == nil || err != nil {
			invalid = append(invalid, i)
			continue
		}
		pks, sigs, at = append(pks, pk), append(sigs, sig), append(at, i)
	}
	if len(at) > 0 {
		for _, j := range bls.VerifySameMessage(req.SigningBytes, pks, sigs, v.rnd) {
			invalid = append(invalid, at[j])
		}
	}
	return sortedInts(invalid)
}

// signatures checks independent signatures in one randomized batch
// (crypto/bls.BatchVerifyFindInvalid).
func (v *verifier) signatures(req *consensus.VerifyRequest) []bool {
	valid := make([]bool, len(req.Signatures))
	sets := make([]bls.SignatureSet, 0, len(req.Signatures))
	at := make([]int, 0, len(req.Signatures))
	for i, s := range req.Signatures {
		pk := v.key(s.Signer)
		sig, err := bls.SignatureFromBytes(s.Signature[:])
		if pk == nil || err != nil {
			continue
		}
		sets = append(sets, bls.SignatureSet{PublicKey: pk, Message: s.Message, Signature: sig})
		at = append(at, i)
		valid[i] = true
	}
	if len(sets) > 0 {
		for _, j := range bls.BatchVerifyFindInvalid(sets, v.rnd) {
			valid[at[j]] = false
		}
	}
	return valid
}

// certificate checks an aggregate signature against the aggregate of its
// signers' keys (crypto/bls.FastAggregateVerify).
func (v *verifier) certificate(c *types.Certificate) bool {
	if c == nil || c.Signers.CommitteeSize() != len(v.pks) {
		return false
	}
	signers := c.SignerIndices(nil)
	pks := make([]*bls.PublicKey, 0, len(signers))
	for _, i := range signers {
		pk := v.key(i)
		if pk == nil {
			return false
		}
		pks = append(pks, pk)
	}
	sig, err := bls.SignatureFromBytes(c.AggregateSignature[:])
	if err != nil {
		return false
	}
	return bls.FastAggregateVerify(pks, c.VoteSigningBytes(), sig)
}

func sortedInts(s []int) []int {
	slices.Sort(s)
	return s
}

// workerRunner is the exec.Runner of the driver: it spreads a Run over up to
// workers goroutines. Results never depend on it (node/exec merges in a
// fixed order), only the wall time does.
type workerRunner struct{ workers int }

func (r workerRunner) Workers() int { return max(r.workers, 1) }

func (r workerRunner) Run(n int, task func(i int)) {
	w := min(r.Workers(), n)
	if w <= 1 {
		for i := range n {
			task(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				task(i)
			}
		}()
	}
	wg.Wait()
}
