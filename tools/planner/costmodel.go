package planner

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	"github.com/thinkey/thinkey/bench"
	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/types"
)

// ErrMissingCase is wrapped, once per absent case, when a bench report lacks
// a case the cost model needs.
var ErrMissingCase = errors.New("bench report lacks a case the cost model needs")

// HardwareCosts are the per-operation costs of one core, read from a
// `thinkey bench` report (see CostsFromReport for the case behind each).
type HardwareCosts struct {
	// Ed25519PerSignature is the cost per signature of batch verification,
	// against the batch size (ed25519/verify/batch/n=*).
	Ed25519PerSignature Curve
	// SHA256 is the cost of one hash against the input length in bytes,
	// the faster of the measured backends at each length (sha256/*/<size>),
	// which is the backend accel installs.
	SHA256 Curve
	// MerkleRootPerLeaf is the cost per leaf of a sequential Merkle root
	// over leaf hashes, against the leaf count (merkle/root/n=*/sequential).
	MerkleRootPerLeaf Curve
	// VoteBatch is the cost of decoding and checking the votes of a committee
	// on one block with one same-message batch, against the committee size
	// (bls/votes/n=*/batch).
	VoteBatch Curve
	// ApplyBlock is one synced Pebble commit of a block and its state writes,
	// against the write count (pebble/apply-block/writes=*).
	ApplyBlock Curve

	MessageEncode Nanos // codec/message/args=100/encode
	MessageDecode Nanos // codec/message/args=100/decode
	HeaderHash    Nanos // codec/header/hash
	VoteDecode    Nanos // codec/vote/decode
	BLSSign       Nanos // bls/sign
	StateRead     Nanos // pebble/get/hit
	// For the root chain, when its confirmation is asked for:
	BLSVerify         Nanos // bls/verify/single
	CertificateDecode Nanos // codec/certificate/n=400/decode

	// Notes says where the report is thin: a quick run, a sweep measured at
	// one size only.
	Notes []string
}

// requiredCase is a case (or family of cases) the model reads, with the
// filter that measures it.
type requiredCase struct {
	name   string // the case, or a pattern shown to the user
	filter string // the --filter of `thinkey bench` that measures it
}

func (r requiredCase) missing() error {
	return fmt.Errorf("%w: %s (measure it with: thinkey bench --filter '%s')", ErrMissingCase, r.name, r.filter)
}

// Families of sized cases, with the size in the first group.
var (
	ed25519BatchCase = regexp.MustCompile(`^ed25519/verify/batch/n=(\d+)$`)
	sha256SizeCase   = regexp.MustCompile(`^sha256/[^/]+/(\d+)(B|KiB|MiB)$`)
	merkleRootCase   = regexp.MustCompile(`^merkle/root/n=(\d+)/sequential$`)
	voteBatchCase    = regexp.MustCompile(`^bls/votes/n=(\d+)/batch$`)
	applyBlockCase   = regexp.MustCompile(`^pebble/apply-block/writes=(\d+)$`)
)

// The single cases the model reads.
const (
	caseMessageEncode     = "codec/message/args=100/encode"
	caseMessageDecode     = "codec/message/args=100/decode"
	caseHeaderHash        = "codec/header/hash"
	caseVoteDecode        = "codec/vote/decode"
	caseBLSSign           = "bls/sign"
	caseStateRead         = "pebble/get/hit"
	caseBLSVerify         = "bls/verify/single"
	caseCertificateDecode = "codec/certificate/n=400/decode"
)

// CostsFromReport extracts the model's costs from a bench report. It needs
// every case the chain model uses; with root true also the root-chain cases.
// Each absent case gives one error wrapping ErrMissingCase that names it and
// the `thinkey bench --filter` that measures it; they are all returned at
// once.
func CostsFromReport(rep bench.Report, root bool) (HardwareCosts, error) {
	var (
		costs HardwareCosts
		errs  []error
		ed    []Point
		sha   = map[float64]Nanos{}
		mr    []Point
		votes []Point
		apply []Point
	)
	for _, res := range rep.Results {
		if !(res.NsPerOp > 0) || math.IsInf(res.NsPerOp, 0) {
			continue // not measured; treated as absent
		}
		cost := Nanos(res.NsPerOp)
		if m := ed25519BatchCase.FindStringSubmatch(res.Case); m != nil {
			if n := atof(m[1]); n > 0 {
				ed = append(ed, Point{n, cost / Nanos(n)})
			}
		} else if m := sha256SizeCase.FindStringSubmatch(res.Case); m != nil {
			size := atof(m[1]) * map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20}[m[2]]
			if prev, ok := sha[size]; size > 0 && (!ok || cost < prev) {
				sha[size] = cost
			}
		} else if m := merkleRootCase.FindStringSubmatch(res.Case); m != nil {
			if n := atof(m[1]); n > 0 {
				mr = append(mr, Point{n, cost / Nanos(n)})
			}
		} else if m := voteBatchCase.FindStringSubmatch(res.Case); m != nil {
			votes = append(votes, Point{atof(m[1]), cost})
		} else if m := applyBlockCase.FindStringSubmatch(res.Case); m != nil {
			apply = append(apply, Point{atof(m[1]), cost})
		}
	}
	var shaPoints []Point
	for size, cost := range sha {
		shaPoints = append(shaPoints, Point{size, cost})
	}
	curves := []struct {
		dst    *Curve
		points []Point
		req    requiredCase
		unit   string
		flat   string // what a one-point curve means for the model
	}{
		{&costs.Ed25519PerSignature, ed, requiredCase{"ed25519/verify/batch/n=<size>", `^ed25519/verify/batch/`}, "batch size", "per-signature cost"},
		{&costs.SHA256, shaPoints, requiredCase{"sha256/<backend>/<size>", `^sha256/`}, "input length", "hash cost"},
		{&costs.MerkleRootPerLeaf, mr, requiredCase{"merkle/root/n=<leaves>/sequential", `^merkle/root/`}, "leaf count", "per-leaf cost"},
		{&costs.VoteBatch, votes, requiredCase{"bls/votes/n=<committee>/batch", `^bls/votes/n=[0-9]+/batch$`}, "committee size", "vote-batch cost"},
		{&costs.ApplyBlock, apply, requiredCase{"pebble/apply-block/writes=<count>", `^pebble/apply-block/`}, "write count", "commit cost"},
	}
	for _, c := range curves {
		*c.dst = newCurve(c.points)
		switch len(*c.dst) {
		case 0:
			errs = append(errs, c.req.missing())
		case 1:
			costs.Notes = append(costs.Notes, fmt.Sprintf("%s measured at one %s only (%g): the %s is taken as flat in it; a full run (no --quick) of `thinkey bench --filter '%s'` measures the sweep",
				c.req.name, c.unit, (*c.dst)[0].Size, c.flat, c.req.filter))
		}
	}
	singles := []struct {
		dst  *Nanos
		name string
		need bool
	}{
		{&costs.MessageEncode, caseMessageEncode, true},
		{&costs.MessageDecode, caseMessageDecode, true},
		{&costs.HeaderHash, caseHeaderHash, true},
		{&costs.VoteDecode, caseVoteDecode, true},
		{&costs.BLSSign, caseBLSSign, true},
		{&costs.StateRead, caseStateRead, true},
		{&costs.BLSVerify, caseBLSVerify, root},
		{&costs.CertificateDecode, caseCertificateDecode, root},
	}
	for _, s := range singles {
		res, ok := rep.Result(s.name)
		if ok && res.NsPerOp > 0 && !math.IsInf(res.NsPerOp, 0) {
			*s.dst = Nanos(res.NsPerOp)
		} else if s.need {
			errs = append(errs, requiredCase{s.name, "^" + regexp.QuoteMeta(s.name) + "$"}.missing())
		}
	}
	if rep.Quick {
		costs.Notes = append(costs.Notes, "the profile comes from a --quick run: short sweeps and short timings, a smoke test rather than a record")
	}
	if err := errors.Join(errs...); err != nil {
		return HardwareCosts{}, err
	}
	return costs, nil
}

func atof(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return v
}

// DefaultMessageSize is the encoded size in bytes of the message the codec
// benchmark measures, a "tran" call with 100 bytes of arguments (node/types:
// 166 bytes of fixed fields, 4 of method, 100 of arguments).
const DefaultMessageSize = 270

// leafHashInput is what a Merkle leaf hashes: the domain byte and a message
// id.
const leafHashInput = 1 + hash.Size

// ModelParams are the costs the bench report does not measure, and the
// shape of the work. DefaultModelParams documents each default.
type ModelParams struct {
	// ExecutionPerMessage is the CPU time to execute one message, state
	// reads and writes apart (not yet benchmarked by the node).
	ExecutionPerMessage time.Duration
	// StateReadsPerMessage is how many state reads (pebble/get/hit) one
	// message's execution makes.
	StateReadsPerMessage float64
	// StateWritesPerMessage is how many state writes one message adds to the
	// block's synced commit.
	StateWritesPerMessage float64
	// MessageSize is the encoded size of one message in bytes.
	MessageSize int
	// MerkleRootsPerBlock is how many Merkle roots over the block's B
	// messages the leader builds and each member rebuilds.
	MerkleRootsPerBlock int
	// OneWayLatency is the network delay of one consensus round.
	OneWayLatency time.Duration
	// BandwidthBitsPerSecond is the bandwidth of a node's link.
	BandwidthBitsPerSecond float64
}

// Defaults of the parameters the bench report does not give.
const (
	DefaultExecutionPerMessage   = 2 * time.Microsecond
	DefaultStateReadsPerMessage  = 2 // a transfer reads its sender and its receiver
	DefaultStateWritesPerMessage = 2 // and writes both
	DefaultMerkleRootsPerBlock   = 2 // the input-message root and the processing-record root
	DefaultOneWayLatency         = 50 * time.Millisecond
	DefaultBandwidth             = 100e6 // 100 Mbit/s
)

// DefaultModelParams returns the parameters with their documented defaults.
func DefaultModelParams() ModelParams {
	return ModelParams{
		ExecutionPerMessage:    DefaultExecutionPerMessage,
		StateReadsPerMessage:   DefaultStateReadsPerMessage,
		StateWritesPerMessage:  DefaultStateWritesPerMessage,
		MessageSize:            DefaultMessageSize,
		MerkleRootsPerBlock:    DefaultMerkleRootsPerBlock,
		OneWayLatency:          DefaultOneWayLatency,
		BandwidthBitsPerSecond: DefaultBandwidth,
	}
}

// Validate reports every problem at once, each wrapping ErrDomain.
func (p ModelParams) Validate() error {
	var errs []error
	if p.ExecutionPerMessage < 0 {
		errs = append(errs, fmt.Errorf("%w: execution cost per message %v must not be negative", ErrDomain, p.ExecutionPerMessage))
	}
	if !(p.StateReadsPerMessage >= 0) || math.IsInf(p.StateReadsPerMessage, 0) {
		errs = append(errs, fmt.Errorf("%w: state reads per message %v must be finite and not negative", ErrDomain, p.StateReadsPerMessage))
	}
	if !(p.StateWritesPerMessage >= 0) || math.IsInf(p.StateWritesPerMessage, 0) {
		errs = append(errs, fmt.Errorf("%w: state writes per message %v must be finite and not negative", ErrDomain, p.StateWritesPerMessage))
	}
	if p.MessageSize < 1 || p.MessageSize > types.MessageMaxSize {
		errs = append(errs, fmt.Errorf("%w: message size %d bytes must be in [1, %d]", ErrDomain, p.MessageSize, types.MessageMaxSize))
	}
	if p.MerkleRootsPerBlock < 0 {
		errs = append(errs, fmt.Errorf("%w: Merkle roots per block %d must not be negative", ErrDomain, p.MerkleRootsPerBlock))
	}
	if p.OneWayLatency < 0 || p.OneWayLatency > time.Hour {
		errs = append(errs, fmt.Errorf("%w: one-way latency %v must be in [0, 1h]", ErrDomain, p.OneWayLatency))
	}
	if !(p.BandwidthBitsPerSecond >= minBandwidth) || math.IsInf(p.BandwidthBitsPerSecond, 0) {
		errs = append(errs, fmt.Errorf("%w: bandwidth %v bit/s must be finite and at least %v", ErrDomain, p.BandwidthBitsPerSecond, float64(minBandwidth)))
	}
	return errors.Join(errs...)
}

// minBandwidth is the slowest link the model accepts, 1 kbit/s, so that the
// largest block's transfer time still fits a time.Duration.
const minBandwidth = 1e3

// MaxBlockSize bounds the block size the model accepts (messages per block).
const MaxBlockSize = 10_000_000

// BlockCost is the time one block of one chain takes, term by term, on
// nodes of one core. The terms run one after the other (see BlockTime).
type BlockCost struct {
	Committee int // n
	BlockSize int // B, messages per block

	// Build is the leader's CPU time to make the block: per message decode,
	// batch signature check, id hash, execution with its state reads, and
	// encode; the Merkle roots over the B messages; the header hash.
	Build time.Duration
	// Validate is a member's CPU time to check the proposal: Build without
	// the encoding.
	Validate time.Duration
	// Votes is the CPU time of the preparation and confirmation rounds at a
	// member: twice the decode and batch check of the n votes.
	Votes time.Duration
	// Sign is a member's two BLS signatures (prepare and confirm votes).
	Sign time.Duration
	// Commit is the synced Pebble commit of the block with its state writes.
	Commit time.Duration
	// Network is three one-way latencies (proposal, preparation,
	// confirmation), the transfer of the block, and of n votes in each of the
	// two voting rounds.
	Network time.Duration
}

// CPU is the sum of the CPU terms.
func (b BlockCost) CPU() time.Duration { return b.Build + b.Validate + b.Votes + b.Sign + b.Commit }

// BlockTime is the time from the start of a block to its commit: the CPU
// terms and the network term added, with no overlap (a member does not
// validate block h+1 while voting on block h, and no transfer overlaps
// computing). Pipelining would shorten it; the model is the unpipelined
// upper bound.
func (b BlockCost) BlockTime() time.Duration { return b.CPU() + b.Network }

// Throughput is the chain's messages per second, B / BlockTime.
func (b BlockCost) Throughput() float64 {
	return float64(b.BlockSize) / b.BlockTime().Seconds()
}

// Confirmation is the mean time from a message's submission to its chain's
// decision: half a block waiting for the next block to start, then one
// block.
func (b BlockCost) Confirmation() time.Duration { return b.BlockTime() * 3 / 2 }

// ChainBlock models one block of a transaction chain with committee size n
// and B messages.
func (c HardwareCosts) ChainBlock(p ModelParams, committee, blockSize int) (BlockCost, error) {
	if err := checkBlockShape(p, committee, blockSize); err != nil {
		return BlockCost{}, err
	}
	B := float64(blockSize)
	n := float64(committee)
	s := float64(p.MessageSize)

	perMessage := c.MessageDecode + c.Ed25519PerSignature.Clamped(B) + c.SHA256.Linear(s) +
		Nanos(p.ExecutionPerMessage) + Nanos(p.StateReadsPerMessage)*c.StateRead
	merkle := Nanos(float64(p.MerkleRootsPerBlock)*B) * (c.SHA256.Linear(float64(leafHashInput)) + c.MerkleRootPerLeaf.Clamped(B))
	validate := Nanos(B)*perMessage + merkle + c.HeaderHash
	build := validate + Nanos(B)*c.MessageEncode
	votes := 2 * (c.VoteBatch.Linear(n) + Nanos(n)*c.VoteDecode)
	commit := c.ApplyBlock.Linear(math.Ceil(p.StateWritesPerMessage * B))

	blockBits := 8 * (B*s + types.HeaderSize)
	voteBits := 8 * n * types.VoteSize
	network := 3*p.OneWayLatency + transfer(blockBits+2*voteBits, p.BandwidthBitsPerSecond)

	if err := checkCosts(build, validate, votes, c.BLSSign, commit); err != nil {
		return BlockCost{}, err
	}
	return BlockCost{
		Committee: committee,
		BlockSize: blockSize,
		Build:     build.Duration(),
		Validate:  validate.Duration(),
		Votes:     votes.Duration(),
		Sign:      (2 * c.BLSSign).Duration(),
		Commit:    commit.Duration(),
		Network:   network,
	}, nil
}

// RootBlock models one block of the root chain confirming one digest from
// each of chains transaction chains: per digest the leader and each member
// decode the certificate and check its aggregate signature (one BLS
// verification), then the root committee of n votes as a chain's does and
// commits one write per digest.
func (c HardwareCosts) RootBlock(p ModelParams, committee, chains int) (BlockCost, error) {
	if err := checkBlockShape(p, committee, chains); err != nil {
		return BlockCost{}, err
	}
	m := float64(chains)
	n := float64(committee)
	perDigest := c.CertificateDecode + c.BLSVerify + c.SHA256.Linear(types.HeaderSize)
	validate := Nanos(m)*perDigest + c.HeaderHash
	votes := 2 * (c.VoteBatch.Linear(n) + Nanos(n)*c.VoteDecode)
	commit := c.ApplyBlock.Linear(m)
	if err := checkCosts(validate, votes, c.BLSSign, commit); err != nil {
		return BlockCost{}, err
	}
	digestBits := 8 * m * (types.HeaderSize + types.CertificateMaxSize)
	voteBits := 8 * n * types.VoteSize
	return BlockCost{
		Committee: committee,
		BlockSize: chains,
		Build:     validate.Duration(),
		Validate:  validate.Duration(),
		Votes:     votes.Duration(),
		Sign:      (2 * c.BLSSign).Duration(),
		Commit:    commit.Duration(),
		Network:   3*p.OneWayLatency + transfer(digestBits+8*types.HeaderSize+2*voteBits, p.BandwidthBitsPerSecond),
	}, nil
}

// maxTermCost bounds each CPU term of a block (about 11 days): a profile
// with absurd figures gives an error rather than a time.Duration overflow.
const maxTermCost Nanos = 1e15

func checkCosts(terms ...Nanos) error {
	for _, t := range terms {
		if !(t >= 0 && t <= maxTermCost) {
			return fmt.Errorf("%w: a block term costs %v ns, outside [0, %v]: check the profile's figures", ErrDomain, float64(t), float64(maxTermCost))
		}
	}
	return nil
}

func transfer(bits, bitsPerSecond float64) time.Duration {
	return time.Duration(math.Round(bits / bitsPerSecond * 1e9))
}

func checkBlockShape(p ModelParams, committee, blockSize int) error {
	var errs []error
	if err := p.Validate(); err != nil {
		errs = append(errs, err)
	}
	if committee < 1 || committee > types.MaxCommitteeSize {
		errs = append(errs, fmt.Errorf("%w: committee size %d must be in [1, %d] (the certificate format's limit)", ErrDomain, committee, types.MaxCommitteeSize))
	}
	if blockSize < 1 || blockSize > MaxBlockSize {
		errs = append(errs, fmt.Errorf("%w: block size %d must be in [1, %d] messages", ErrDomain, blockSize, MaxBlockSize))
	}
	return errors.Join(errs...)
}
