package driver

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// maxClockDrift is how far ahead of this node's clock a proposed block's
// timestamp may be. Timestamps inform people, not execution, so the bound
// only keeps a leader from writing nonsense into the chain.
const maxClockDrift = 10 * time.Second

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

// verifier answers the consensus core's verification requests: BLS against
// the committee's keys from the genesis (each carries a verified proof of
// possession, which same-message aggregation needs), blocks through
// node/exec against the committed state.
type verifier struct {
	pks   []*bls.PublicKey
	rnd   io.Reader
	state *chainState
	env   exec.Env
	cache *resultCache
	// wallNow is the wall clock, for the timestamp bound.
	wallNow func() time.Time
}

// verify runs one request and returns its answer (Now is the loop's to
// fill) and, for a refused block, why.
func (v *verifier) verify(req *consensus.VerifyRequest) (consensus.VerifyResult, error) {
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
		err = v.block(req.Block)
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

// block is the application's validity check of a proposed block: it extends
// the committed head, its timestamp is sane, and its body executes to the
// roots its header carries (node/exec.Verify). The result is cached for the
// commit.
func (v *verifier) block(b *consensus.Block) error {
	if b == nil {
		return errors.New("no block")
	}
	h := b.Header
	if _, ok := v.cache.get(b.Hash()); ok {
		return nil
	}
	body, err := exec.DecodeBody(b.Body)
	if err != nil {
		return fmt.Errorf("block %d: body: %w", h.Height, err)
	}
	return v.state.withView(func(view exec.StateView, head storage.Head, parent types.Header) error {
		switch {
		case h.Empty:
			return fmt.Errorf("block %d: a proposal cannot be the empty block", h.Height)
		case uint64(h.Height) != head.Height+1:
			return fmt.Errorf("block %d: the committed head is %d: %w", h.Height, head.Height, errStaleBuild)
		case h.ParentHash != head.BlockHash:
			return fmt.Errorf("block %d: parent %s, head is %s", h.Height, h.ParentHash, head.BlockHash)
		case h.Epoch != parent.Epoch:
			return fmt.Errorf("block %d: epoch %d, chain is in %d", h.Height, h.Epoch, parent.Epoch)
		case int(h.Proposer) >= len(v.pks):
			return fmt.Errorf("block %d: proposer %d is not a member", h.Height, h.Proposer)
		case h.TimestampMillis < parent.TimestampMillis:
			return fmt.Errorf("block %d: timestamp %d before the parent's %d", h.Height, h.TimestampMillis, parent.TimestampMillis)
		case h.TimestampMillis > uint64(v.wallNow().Add(maxClockDrift).UnixMilli()):
			return fmt.Errorf("block %d: timestamp %d is in the future", h.Height, h.TimestampMillis)
		}
		res, err := exec.Verify(view, v.state.spec, &body, exec.RootsOf(&h), v.env)
		if err != nil {
			return fmt.Errorf("block %d: %w", h.Height, err)
		}
		v.cache.put(b.Hash(), h.Height, &res)
		return nil
	})
}

func sortedInts(s []int) []int {
	slices.Sort(s)
	return s
}

// resultCache keeps the execution results of blocks this node built or
// verified, by block hash, until their height is committed, so a commit does
// not execute the block again.
type resultCache struct {
	mu      sync.Mutex
	results map[types.Hash]cachedResult
}

type cachedResult struct {
	height types.Height
	res    *exec.Result
}

func newResultCache() *resultCache {
	return &resultCache{results: map[types.Hash]cachedResult{}}
}

func (c *resultCache) put(h types.Hash, height types.Height, res *exec.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results[h] = cachedResult{height: height, res: res}
}

func (c *resultCache) get(h types.Hash) (*exec.Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.results[h]
	return r.res, ok
}

// prune forgets every result of a height at or below committed.
func (c *resultCache) prune(committed types.Height) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, r := range c.results {
		if r.height <= committed {
			delete(c.results, h)
		}
	}
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
