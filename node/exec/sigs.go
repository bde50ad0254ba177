package exec

import (
	"bytes"
	"io"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/types"
)

// minSignatureChunk is the smallest batch worth a worker of its own: below
// it, batching saves little and the split costs more.
const minSignatureChunk = 32

// sigCheck verifies the signatures of n external messages with Ed25519
// batch verification, one batch per worker, as tasks a Runner runs; each
// message's verdict equals single verification's (crypto/ed25519).
//
// The coefficients of every batch are read from rnd when the check is
// prepared, in chunk order, so the reads do not depend on scheduling; rnd
// nil (or failing) verifies one by one.
type sigCheck struct {
	bounds []int
	seeds  [][]byte
	msg    func(i int) *types.Message
	valid  []bool
}

func newSigCheck(workers int, rnd io.Reader, n int, msg func(i int) *types.Message) *sigCheck {
	s := &sigCheck{msg: msg, valid: make([]bool, n)}
	if n == 0 {
		return s
	}
	s.bounds = chunkRanges(n, workers, minSignatureChunk)
	s.seeds = make([][]byte, len(s.bounds)-1)
	if rnd != nil {
		for c := range s.seeds {
			seed := make([]byte, ed25519.BatchRandomnessSize)
			if _, err := io.ReadFull(rnd, seed); err == nil {
				s.seeds[c] = seed
			}
		}
	}
	return s
}

// tasks is the number of batches.
func (s *sigCheck) tasks() int { return len(s.seeds) }

// run verifies batch c.
func (s *sigCheck) run(c int) {
	lo, hi := s.bounds[c], s.bounds[c+1]
	batch := ed25519.NewBatch(hi - lo)
	// One buffer holds every signed payload of the batch; it is sized
	// exactly, so it does not move and the batch may keep sub-slices.
	size := 0
	for i := lo; i < hi; i++ {
		size += len(types.MessageSigningDomain) + s.msg(i).EncodedLen() - types.Ed25519SignatureSize
	}
	payloads := make([]byte, 0, size)
	for i := lo; i < hi; i++ {
		m := s.msg(i)
		start := len(payloads)
		payloads = m.AppendSigningBytes(payloads)
		batch.Add(ed25519.PublicKey(m.SenderKey), payloads[start:len(payloads):len(payloads)], ed25519.Signature(m.Signature))
	}
	var source io.Reader
	if s.seeds[c] != nil {
		source = bytes.NewReader(s.seeds[c])
	}
	_, verdicts := batch.Verify(source)
	copy(s.valid[lo:hi], verdicts)
}

// verifySignatures runs a sigCheck on its own and returns the verdicts.
func verifySignatures(runner Runner, rnd io.Reader, n int, msg func(i int) *types.Message) []bool {
	s := newSigCheck(runner.Workers(), rnd, n, msg)
	runner.Run(s.tasks(), s.run)
	return s.valid
}
