package exec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// fatalReporter is what *testing.T, *testing.B and *rapid.T share.
type fatalReporter interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// poolRunner is a Runner over goroutines, the shape of the shell's worker
// pool: tasks are handed out by an atomic counter, so their order varies
// from run to run.
type poolRunner struct{ workers int }

func (p poolRunner) Workers() int { return p.workers }

func (p poolRunner) Run(n int, task func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(p.workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				task(i)
			}
		}()
	}
	wg.Wait()
}

// seededRandomness is the batch-coefficient source of tests.
func seededRandomness(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

// keyCache keeps keys derived from small seeds; deriving is the slow part
// of building accounts.
var keyCache sync.Map

// testKey returns the key with seed n.
func testKey(tb fatalReporter, n int) ed25519.PrivateKey {
	tb.Helper()
	if k, ok := keyCache.Load(n); ok {
		return k.(ed25519.PrivateKey)
	}
	var seed [ed25519.SeedSize]byte
	binary.BigEndian.PutUint64(seed[:], uint64(n)+1)
	k, err := ed25519.NewKeyFromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	keyCache.Store(n, k)
	return k
}

func addressOf(k ed25519.PrivateKey) types.Address { return actor.AddressFromPublicKey(k.Public()) }

// keyOn returns the first key, from seed start on, whose account is on
// chain, and the seed after it.
func keyOn(tb fatalReporter, chain ChainSpec, start int) (ed25519.PrivateKey, int) {
	tb.Helper()
	for n := start; ; n++ {
		k := testKey(tb, n)
		if chain.Owns(addressOf(k)) {
			return k, n + 1
		}
	}
}

// chainOf returns which of the 2^bits chains owns addr.
func chainOf(addr types.Address, bits uint8) types.ChainID { return types.ChainID(addr.Prefix(bits)) }

func specFor(id types.ChainID, bits uint8) ChainSpec {
	return ChainSpec{ID: id, Prefix: uint64(id), PrefixBits: bits}
}

func mustState(tb fatalReporter, accounts ...actor.Account) *MemState {
	tb.Helper()
	s, err := NewMemState(accounts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// acceptRelays is the relay verifier of tests: it accepts a relay input
// whose proof proves it in one of the known outer-relay roots.
type acceptRelays struct {
	roots []types.Hash
}

func (a acceptRelays) VerifyRelay(msg *types.Message, proof []byte) error {
	p, err := merkle.UnmarshalProof(proof)
	if err != nil {
		return err
	}
	var last error
	for _, root := range a.roots {
		if last = VerifyRelayProof(root, msg, p); last == nil {
			return nil
		}
	}
	return fmt.Errorf("no known root proves the relay: %w", last)
}

func (a acceptRelays) VerifyRelays(inputs []Input) (int, error) {
	for i := range inputs {
		if inputs[i].Message.Kind == types.MessageExternal {
			continue
		}
		if err := a.VerifyRelay(&inputs[i].Message, inputs[i].Proof); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// packingRelays is acceptRelays with a packer: a packed proof is the
// stand-alone one behind a packedMark byte, which its VerifyRelays accepts
// as well as a stand-alone one and acceptRelays refuses, so a body shows
// whether Execute packed it.
type packingRelays struct {
	acceptRelays
	refuse bool // PackRelays answers ok=false
}

const packedMark = 0xff

func (p packingRelays) PackRelays(inputs []Input) ([]Input, bool) {
	if p.refuse {
		return nil, false
	}
	out := slices.Clone(inputs)
	for i := range out {
		if out[i].Message.Kind != types.MessageExternal {
			out[i].Proof = append([]byte{packedMark}, out[i].Proof...)
		}
	}
	return out, true
}

func (p packingRelays) VerifyRelays(inputs []Input) (int, error) {
	for i := range inputs {
		if inputs[i].Message.Kind == types.MessageExternal {
			continue
		}
		proof := inputs[i].Proof
		if len(proof) > 0 && proof[0] == packedMark {
			proof = proof[1:]
		}
		if err := p.VerifyRelay(&inputs[i].Message, proof); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// relayInputs turns the outer relays of a block addressed to chain into
// inputs with their proofs.
func relayInputs(tb fatalReporter, res *Result, chain ChainSpec) []Input {
	tb.Helper()
	var out []Input
	for i := range res.Body.OuterRelay {
		m := res.Body.OuterRelay[i]
		if !chain.Owns(m.To) {
			continue
		}
		p, err := ProveRelay(&res.Body, m.ID())
		if err != nil {
			tb.Fatal(err)
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, Input{Message: m, Proof: enc})
	}
	return out
}

func externalInputs(msgs ...types.Message) []Input {
	out := make([]Input, len(msgs))
	for i := range msgs {
		out[i] = Input{Message: msgs[i]}
	}
	return out
}

// wantReason fails unless err is a *BlockError with reason want.
func wantReason(tb fatalReporter, err, want error) {
	tb.Helper()
	var be *BlockError
	if !errors.As(err, &be) {
		tb.Fatalf("error %v (%T), want a *BlockError with reason %v", err, err, want)
	}
	if !errors.Is(err, want) {
		tb.Fatalf("error %v, want reason %v", err, want)
	}
}

// entriesOf returns the record of addr in body, or nil.
func recordOf(body *Body, addr types.Address) *Record {
	for i := range body.Records {
		if body.Records[i].Address == addr {
			return &body.Records[i]
		}
	}
	return nil
}

// sigma renders a record in the paper's notation with names for IDs:
// "(m1 : m2 | m3)".
func sigma(rec *Record, names map[types.Hash]string) string {
	if rec == nil {
		return "∅"
	}
	out := "("
	for k, e := range rec.Entries {
		if k > 0 {
			out += " | "
		}
		for i, id := range e.Processed {
			if i > 0 {
				out += "+"
			}
			out += nameOf(id, names)
		}
		if len(e.Outputs) > 0 {
			out += " :"
			for i, id := range e.Outputs {
				if i > 0 {
					out += ","
				}
				out += " " + nameOf(id, names)
			}
		}
	}
	return out + ")"
}

func nameOf(id types.Hash, names map[types.Hash]string) string {
	if n, ok := names[id]; ok {
		return n
	}
	return id.String()[:8]
}

func balanceOf(tb fatalReporter, s StateView, addr types.Address) uint64 {
	tb.Helper()
	a, ok := s.Account(addr)
	if !ok {
		return 0
	}
	return a.Balance
}

func asBlockError(err error, target **BlockError) bool { return errors.As(err, target) }

func asIs(err, target error) bool { return errors.Is(err, target) }

func sortIDMessages(list []idMessage) {
	slices.SortFunc(list, func(x, y idMessage) int { return compareHashes(x.id, y.id) })
}

func sortRecords(records []Record) {
	slices.SortFunc(records, func(x, y Record) int { return bytes.Compare(x.Address[:], y.Address[:]) })
}

// cloneBody copies the lists and records of b deeply enough that mutating
// the copy's lists, records and entries leaves b alone (messages share
// their Method and Args, which no test mutates).
func cloneBody(b *Body) Body {
	c := Body{
		Inputs:     slices.Clone(b.Inputs),
		InterRelay: slices.Clone(b.InterRelay),
		OuterRelay: slices.Clone(b.OuterRelay),
		Records:    make([]Record, len(b.Records)),
	}
	for r := range b.Records {
		c.Records[r].Address = b.Records[r].Address
		c.Records[r].Entries = make([]Entry, len(b.Records[r].Entries))
		for k, e := range b.Records[r].Entries {
			c.Records[r].Entries[k] = Entry{Processed: slices.Clone(e.Processed), Outputs: slices.Clone(e.Outputs)}
		}
	}
	return c
}
