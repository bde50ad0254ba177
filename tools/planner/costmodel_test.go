package planner

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/thinkey/thinkey/bench"
	"github.com/thinkey/thinkey/node/types"
)

// syntheticReport is a bench report with round figures, so that the model's
// output can be computed by hand.
func syntheticReport() bench.Report {
	ns := map[string]float64{
		"ed25519/verify/batch/n=100":     2_000_000,  // 20 µs per signature
		"ed25519/verify/batch/n=1000":    10_000_000, // 10 µs per signature
		"sha256/stdlib/64B":              100,
		"sha256/sha256-simd/64B":         80, // the faster backend counts
		"sha256/stdlib/1KiB":             560,
		"sha256/sha256-simd/1KiB":        700,       // so 80 ns + 0.5 ns per byte above 64
		"sha256/select":                  1e6,       // not a size: ignored
		"merkle/root/n=1000/sequential":  100_000,   // 100 ns per leaf
		"merkle/root/n=16000/sequential": 1_280_000, // 80 ns per leaf
		"merkle/root/n=1000/parallel":    1,         // not sequential: ignored
		"bls/votes/n=4/batch":            1_000_000,
		"bls/votes/n=100/batch":          10_600_000, // 1 ms + 100 µs per vote above 4
		"bls/votes/n=100/one-by-one":     1,          // ignored
		"pebble/apply-block/writes=100":  1_000_000,
		"pebble/apply-block/writes=1000": 1_900_000, // 1 µs per write
		"codec/message/args=100/encode":  20,
		"codec/message/args=100/decode":  40,
		"codec/header/hash":              300,
		"codec/vote/decode":              30,
		"bls/sign":                       300_000,
		"pebble/get/hit":                 1000,
		"bls/verify/single":              1_000_000,
		"codec/certificate/n=400/decode": 50,
		"ed25519/verify/single-voi":      1, // ignored
	}
	var rep bench.Report
	for name, v := range ns {
		rep.Results = append(rep.Results, bench.Result{Case: name, NsPerOp: v})
	}
	return rep
}

func TestDefaultMessageSizeIsTheCodecBenchmarkMessage(t *testing.T) {
	m := types.Message{Kind: types.MessageExternal, Method: []byte("tran"), Args: make([]byte, 100)}
	if got := m.EncodedLen(); got != DefaultMessageSize {
		t.Fatalf("encoded size %d, DefaultMessageSize %d", got, DefaultMessageSize)
	}
}

// One chain block with B = 1000 messages and n = 50 members, computed by hand
// from the synthetic figures and the default parameters:
//
//	per message: decode 40 + Ed25519 10000 (batch of 1000) + SHA-256 of 270 B
//	  (80 + 0.5*(270-64) = 183) + execution 2000 + 2 reads * 1000 = 14223 ns
//	Merkle: 2 roots * 1000 leaves * (leaf hash of 33 B: 80 - 0.5*31 = 64.5,
//	  plus 100 per leaf) = 329000 ns
//	validate = 1000*14223 + 329000 + header hash 300 = 14552300 ns
//	build = validate + 1000 encodes * 20 = 14572300 ns
//	votes = 2 * (batch of 50: 1000000 + 46*100000 = 5600000, + 50 decodes * 30)
//	  = 11203000 ns
//	sign = 2 * 300000 = 600000 ns
//	commit = 2000 writes: 1900000 + 1000*1000 = 2900000 ns (extends 100..1000)
//	network = 3 * 50 ms + 8*(1000*270 + 232 header + 2*50*150 votes) bits
//	  / 100 Mbit/s = 150 ms + 22818560 ns = 172818560 ns
//	block time = 216646160 ns
func TestChainBlockByHand(t *testing.T) {
	costs, err := CostsFromReport(syntheticReport(), true)
	if err != nil {
		t.Fatal(err)
	}
	block, err := costs.ChainBlock(DefaultModelParams(), 50, 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := BlockCost{
		Committee: 50,
		BlockSize: 1000,
		Build:     14_572_300,
		Validate:  14_552_300,
		Votes:     11_203_000,
		Sign:      600_000,
		Commit:    2_900_000,
		Network:   172_818_560,
	}
	if block != want {
		t.Fatalf("block cost\n got %+v\nwant %+v", block, want)
	}
	if got := block.BlockTime(); got != 216_646_160 {
		t.Errorf("block time %v, want 216.64616ms", got)
	}
	if got, want := block.Throughput(), 1000/0.21664616; math.Abs(got-want) > 1e-9*want {
		t.Errorf("throughput %v, want %v", got, want)
	}
	if got := block.Confirmation(); got != 324_969_240 {
		t.Errorf("confirmation %v, want 1.5 block times = 324.96924ms", got)
	}
}

// One root block confirming 10 digests with a root committee of 50:
//
//	per digest: certificate decode 50 + BLS verify 1000000 + SHA-256 of the
//	  232-byte header (80 + 0.5*168 = 164) = 1000214 ns
//	validate = build = 10*1000214 + 300 = 10002440 ns
//	votes 11203000, sign 600000 as for a chain
//	commit = 10 writes: 1000000 - 90*1000 = 910000 ns (extends 100..1000 down)
//	network = 150 ms + 8*(10*(232 + 278) + 232 + 2*50*150) bits / 100 Mbit/s
//	  = 150 ms + 1626560 ns
func TestRootBlockByHand(t *testing.T) {
	costs, err := CostsFromReport(syntheticReport(), true)
	if err != nil {
		t.Fatal(err)
	}
	block, err := costs.RootBlock(DefaultModelParams(), 50, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := BlockCost{
		Committee: 50,
		BlockSize: 10,
		Build:     10_002_440,
		Validate:  10_002_440,
		Votes:     11_203_000,
		Sign:      600_000,
		Commit:    910_000,
		Network:   151_626_560,
	}
	if block != want {
		t.Fatalf("root block cost\n got %+v\nwant %+v", block, want)
	}
}

// Batch sizes outside the measured range use the nearest end's
// per-signature cost; the model's parameters change it as stated.
func TestChainBlockParameters(t *testing.T) {
	costs, err := CostsFromReport(syntheticReport(), false)
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultModelParams()
	small, err := costs.ChainBlock(p, 4, 10)
	if err != nil {
		t.Fatal(err)
	}
	// B = 10 is below the smallest batch (100): 20 µs per signature.
	// per message 40 + 20000 + 183 + 2000 + 2000 = 24223; Merkle 2*10*(64.5+100) = 3290.
	if want := time.Duration(10*24223 + 3290 + 300); small.Validate != want {
		t.Errorf("B = 10: validate %v, want %v", small.Validate, want)
	}
	p.ExecutionPerMessage = 0
	p.StateReadsPerMessage = 0
	p.MerkleRootsPerBlock = 0
	p.OneWayLatency = 0
	p.BandwidthBitsPerSecond = 8e9 // 1 GB/s
	bare, err := costs.ChainBlock(p, 4, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Duration(10*(40+20000+183) + 300); bare.Validate != want {
		t.Errorf("no execution, reads, roots: validate %v, want %v", bare.Validate, want)
	}
	// 10*270 + 232 + 2*4*150 bytes at 1 byte per ns.
	if want := time.Duration(10*270 + 232 + 2*4*150); bare.Network != want {
		t.Errorf("no latency: network %v, want %v", bare.Network, want)
	}
	for _, bad := range []struct {
		committee, block int
		p                ModelParams
	}{
		{0, 10, DefaultModelParams()},
		{types.MaxCommitteeSize + 1, 10, DefaultModelParams()},
		{4, 0, DefaultModelParams()},
		{4, MaxBlockSize + 1, DefaultModelParams()},
		{4, 10, ModelParams{}},
	} {
		if _, err := costs.ChainBlock(bad.p, bad.committee, bad.block); !errors.Is(err, ErrDomain) {
			t.Errorf("n %d, B %d, %+v: error %v, want ErrDomain", bad.committee, bad.block, bad.p, err)
		}
	}
}

func TestCostsFromReportNamesEveryMissingCase(t *testing.T) {
	rep := syntheticReport()
	var kept []bench.Result
	for _, r := range rep.Results {
		if !strings.HasPrefix(r.Case, "bls/") && !strings.HasPrefix(r.Case, "pebble/apply-block/") {
			kept = append(kept, r)
		}
	}
	rep.Results = kept
	_, err := CostsFromReport(rep, true)
	if !errors.Is(err, ErrMissingCase) {
		t.Fatalf("error %v, want ErrMissingCase", err)
	}
	for _, want := range []string{
		"bls/votes/n=<committee>/batch", "thinkey bench --filter '^bls/votes/n=[0-9]+/batch$'",
		"bls/sign", "thinkey bench --filter '^bls/sign$'",
		"bls/verify/single",
		"pebble/apply-block/writes=<count>", "thinkey bench --filter '^pebble/apply-block/'",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	// Without root confirmation the root-chain cases are not needed.
	rep = syntheticReport()
	kept = nil
	for _, r := range rep.Results {
		if r.Case != "bls/verify/single" && r.Case != "codec/certificate/n=400/decode" {
			kept = append(kept, r)
		}
	}
	rep.Results = kept
	if _, err := CostsFromReport(rep, false); err != nil {
		t.Errorf("chain-only model: %v", err)
	}
	if _, err := CostsFromReport(rep, true); !errors.Is(err, ErrMissingCase) {
		t.Errorf("root model without root cases: %v, want ErrMissingCase", err)
	}
	// A case that ran but measured nothing counts as missing.
	rep = syntheticReport()
	for i := range rep.Results {
		if rep.Results[i].Case == "codec/vote/decode" {
			rep.Results[i].NsPerOp = 0
		}
	}
	if _, err := CostsFromReport(rep, false); !errors.Is(err, ErrMissingCase) || !strings.Contains(err.Error(), "codec/vote/decode") {
		t.Errorf("unmeasured case: %v, want ErrMissingCase naming it", err)
	}
}

func TestCostsFromReportNotesThinSweeps(t *testing.T) {
	rep := syntheticReport()
	rep.Quick = true
	var kept []bench.Result
	for _, r := range rep.Results {
		if r.Case != "pebble/apply-block/writes=1000" {
			kept = append(kept, r)
		}
	}
	rep.Results = kept
	costs, err := CostsFromReport(rep, false)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(costs.Notes, "\n")
	if !strings.Contains(notes, "pebble/apply-block") || !strings.Contains(notes, "--quick") {
		t.Errorf("notes do not flag the one-point commit curve and the quick run:\n%s", notes)
	}
	if got := costs.ApplyBlock.Linear(5000); got != 1_000_000 {
		t.Errorf("one-point curve at 5000 writes = %v, want flat 1000000", got)
	}
}

func TestCurve(t *testing.T) {
	c := newCurve([]Point{{100, 300}, {10, 100}, {1000, 1200}, {100, 999}})
	cases := []struct {
		x              float64
		linear, clampd Nanos
	}{
		{10, 100, 100},
		{55, 200, 200},              // halfway between 10 and 100
		{100, 300, 300},             // the first point of a duplicated size is kept
		{550, 750, 750},             // halfway between 100 and 1000
		{2000, 2200, 1200},          // extends the last slope (1 per unit), or clamps
		{0, 100 - 200.0/90*10, 100}, // extends the first slope (200/90) down
	}
	for _, c2 := range cases {
		if got := c.Linear(c2.x); math.Abs(float64(got-c2.linear)) > 1e-9 {
			t.Errorf("Linear(%v) = %v, want %v", c2.x, got, c2.linear)
		}
		if got := c.Clamped(c2.x); math.Abs(float64(got-c2.clampd)) > 1e-9 {
			t.Errorf("Clamped(%v) = %v, want %v", c2.x, got, c2.clampd)
		}
	}
	// A falling measured segment (noise) is not extended downward past the
	// measured range, and costs never go below zero.
	falling := newCurve([]Point{{10, 500}, {100, 400}})
	if got := falling.Linear(1000); got != 400 {
		t.Errorf("falling curve past its end = %v, want flat 400", got)
	}
	steep := newCurve([]Point{{10, 10}, {20, 1000}})
	if got := steep.Linear(1); got != 0 {
		t.Errorf("steep curve far below its start = %v, want 0", got)
	}
	if got := (Curve{}).Linear(5); got != 0 {
		t.Errorf("empty curve = %v, want 0", got)
	}
}
