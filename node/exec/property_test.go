package exec

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// world is a random set of accounts spread over 2^bits chains, with a
// random list of payments between them.
type world struct {
	bits    uint8
	chains  []ChainSpec
	keys    []ed25519.PrivateKey
	addrs   []types.Address
	initial []actor.Account
	inputs  [][]Input // per chain, in generated order
	total   uint64
}

// genWorld draws accounts, balances and payments. maxBits bounds the
// number of chains (1, 2 or 4); corrupt allows payments with a bad nonce
// or signature, which every chain must leave out.
func genWorld(t *rapid.T, maxBits int, corrupt bool) *world {
	w := &world{bits: uint8(rapid.IntRange(0, maxBits).Draw(t, "bits"))}
	for id := range 1 << w.bits {
		w.chains = append(w.chains, specFor(types.ChainID(id), w.bits))
	}
	seeds := rapid.SliceOfNDistinct(rapid.IntRange(0, 63), 2, 8, rapid.ID[int]).Draw(t, "accounts")
	for _, s := range seeds {
		k := testKey(t, s)
		w.keys = append(w.keys, k)
		w.addrs = append(w.addrs, addressOf(k))
		a := actor.Account{Address: addressOf(k), Balance: rapid.Uint64Range(0, 100).Draw(t, "balance")}
		w.initial = append(w.initial, a)
		w.total += a.Balance
	}
	w.inputs = make([][]Input, len(w.chains))
	nonces := make([]uint64, len(w.keys))
	for range rapid.IntRange(1, 14).Draw(t, "payments") {
		from := rapid.IntRange(0, len(w.keys)-1).Draw(t, "from")
		to := rapid.IntRange(0, len(w.keys)-1).Draw(t, "to")
		bill := rapid.Uint64Range(0, 60).Draw(t, "bill")
		m := actor.NewTransfer(w.keys[from], nonces[from], w.addrs[to], bill)
		nonces[from]++
		if corrupt {
			switch rapid.IntRange(0, 9).Draw(t, "corruption") {
			case 0:
				m = actor.NewTransfer(w.keys[from], nonces[from]+5, w.addrs[to], bill)
			case 1:
				m.Signature[7] ^= 0x40
			}
		}
		c := chainOf(w.addrs[from], w.bits)
		w.inputs[c] = append(w.inputs[c], Input{Message: m})
	}
	return w
}

// states returns a fresh state per chain holding its accounts.
func (w *world) states(t *rapid.T) []*MemState {
	per := make([][]actor.Account, len(w.chains))
	for _, a := range w.initial {
		c := chainOf(a.Address, w.bits)
		per[c] = append(per[c], a)
	}
	out := make([]*MemState, len(w.chains))
	for c := range out {
		out[c] = mustState(t, per[c]...)
	}
	return out
}

func balances(states []*MemState) uint64 {
	var sum uint64
	for _, s := range states {
		for _, a := range s.Accounts() {
			sum += a.Balance
		}
	}
	return sum
}

// TestValueConserved: on random payments over 1 to 4 chains, the sum of
// all balances plus the values of the outer relays in flight never
// changes; once every outer relay is delivered the balances alone add up
// to the start. Every block also verifies, sequentially and in parallel.
func TestValueConserved(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t, 2, true)
		states := w.states(t)
		env := Env{Randomness: seededRandomness(rapid.Uint64().Draw(t, "seed"))}
		var inFlight uint64
		var round1 []Result
		for c, chain := range w.chains {
			res := executeAndVerify(t, states[c], chain, w.inputs[c], env)
			for _, m := range res.Body.OuterRelay {
				inFlight += m.Value
			}
			round1 = append(round1, res)
		}
		if got := balances(states) + inFlight; got != w.total {
			t.Fatalf("after the first blocks: balances + outer relays = %d, want %d", got, w.total)
		}
		roots := make([]types.Hash, len(round1))
		for c := range round1 {
			roots[c] = round1[c].Roots.OuterRelay
		}
		relayEnv := env
		relayEnv.Relays = acceptRelays{roots: roots}
		for c, chain := range w.chains {
			var inputs []Input
			for k := range round1 {
				inputs = append(inputs, relayInputs(t, &round1[k], chain)...)
			}
			res := executeAndVerify(t, states[c], chain, inputs, relayEnv)
			if len(res.Body.OuterRelay) != 0 {
				t.Fatalf("deposits produced %d outer relays", len(res.Body.OuterRelay))
			}
		}
		if got := balances(states); got != w.total {
			t.Fatalf("after delivery: balances = %d, want %d", got, w.total)
		}
	})
}

// executeAndVerify executes a block, checks that every included input is
// valid, verifies the block sequentially and on a pool, and commits it.
func executeAndVerify(t *rapid.T, view *MemState, chain ChainSpec, inputs []Input, env Env) Result {
	res, err := Execute(view, chain, inputs, env)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Receipts {
		if !r.Included && !errors.Is(r.Reason, ErrBadNonce) && !errors.Is(r.Reason, ErrBadSignature) {
			t.Fatalf("input %d left out for %v; only corrupted inputs may be", i, r.Reason)
		}
	}
	if err := CheckExecution(view, chain, &res, env); err != nil {
		t.Fatal(err)
	}
	seq, err := Verify(view, chain, &res.Body, res.Roots, env)
	if err != nil {
		t.Fatalf("the leader's block does not verify: %v", err)
	}
	parallel := env
	parallel.Runner = poolRunner{workers: 3}
	par, err := Verify(view, chain, &res.Body, res.Roots, parallel)
	if err != nil {
		t.Fatalf("the leader's block does not verify in parallel: %v", err)
	}
	if seq.Roots != par.Roots || seq.GasUsed != par.GasUsed || seq.GasUsed != res.GasUsed || !sameAccounts(seq.WriteSet, res.WriteSet) || !sameAccounts(par.WriteSet, res.WriteSet) {
		t.Fatal("verification results differ from the leader's")
	}
	if err := view.Apply(res.WriteSet); err != nil {
		t.Fatal(err)
	}
	if view.Root() != res.Roots.State {
		t.Fatal("committed state root differs from the block's")
	}
	return res
}

func sameAccounts(a, b []actor.Account) bool {
	return slices.EqualFunc(a, b, func(x, y actor.Account) bool { return x.Equal(&y) })
}

// mutation changes a valid block in one way that makes it invalid; want
// lists the reasons a verifier may give (the first failing check wins).
type mutation struct {
	name  string
	apply func(t *rapid.T, b *Body, roots *Roots)
	want  []error
}

// applicableMutations returns the mutations that apply to body.
func applicableMutations(body *Body) []mutation {
	var ms []mutation
	type at struct{ r, k int }
	var withOutputs, all []at
	for r := range body.Records {
		for k, e := range body.Records[r].Entries {
			all = append(all, at{r, k})
			if len(e.Outputs) > 0 {
				withOutputs = append(withOutputs, at{r, k})
			}
		}
	}
	pick := func(t *rapid.T, list []at, label string) at {
		return list[rapid.IntRange(0, len(list)-1).Draw(t, label)]
	}
	if len(withOutputs) > 0 {
		ms = append(ms,
			mutation{"drop an output", func(t *rapid.T, b *Body, _ *Roots) {
				p := pick(t, withOutputs, "entry")
				e := &b.Records[p.r].Entries[p.k]
				e.Outputs = e.Outputs[:len(e.Outputs)-1]
			}, []error{ErrUnproducedRelay}},
			mutation{"produce an output twice", func(t *rapid.T, b *Body, _ *Roots) {
				src := pick(t, withOutputs, "source")
				dst := pick(t, all, "entry")
				o := b.Records[src.r].Entries[src.k].Outputs[0]
				e := &b.Records[dst.r].Entries[dst.k]
				e.Outputs = append(e.Outputs, o)
			}, []error{ErrProducedTwice, ErrWrongRecipient, ErrBadMerge}},
			mutation{"change a relay's value and every reference to it", func(t *rapid.T, b *Body, _ *Roots) {
				p := pick(t, withOutputs, "entry")
				old := b.Records[p.r].Entries[p.k].Outputs[0]
				changeRelayValue(b, old)
			}, []error{ErrRecordMismatch}},
		)
	}
	ms = append(ms, mutation{"change a root", func(t *rapid.T, _ *Body, roots *Roots) {
		fields := []*types.Hash{&roots.Input, &roots.InterRelay, &roots.OuterRelay, &roots.Record, &roots.State}
		fields[rapid.IntRange(0, 4).Draw(t, "root")][rapid.IntRange(0, 31).Draw(t, "byte")] ^= 1
	}, []error{ErrRootMismatch}})
	if len(all) == 0 {
		return ms
	}
	ms = append(ms,
		mutation{"process an entry twice", func(t *rapid.T, b *Body, _ *Roots) {
			p := pick(t, all, "entry")
			rec := &b.Records[p.r]
			rec.Entries = slices.Insert(rec.Entries, p.k+1, rec.Entries[p.k])
		}, []error{ErrProcessedTwice}},
		mutation{"drop an entry", func(t *rapid.T, b *Body, _ *Roots) {
			p := pick(t, all, "entry")
			rec := &b.Records[p.r]
			rec.Entries = slices.Delete(rec.Entries, p.k, p.k+1)
			if len(rec.Entries) == 0 {
				b.Records = slices.Delete(b.Records, p.r, p.r+1)
			}
		}, []error{ErrUnprocessedMessage, ErrUnproducedRelay}},
	)
	if len(body.Inputs) > 0 {
		ms = append(ms, mutation{"forge a signature", func(t *rapid.T, b *Body, _ *Roots) {
			i := rapid.IntRange(0, len(b.Inputs)-1).Draw(t, "input")
			old := b.Inputs[i].Message.ID()
			b.Inputs[i].Message.Signature[rapid.IntRange(0, 63).Draw(t, "byte")] ^= 0x10
			renameProcessed(b, old, b.Inputs[i].Message.ID())
		}, []error{ErrBadSignature}})
	}
	if len(body.InterRelay) > 1 {
		ms = append(ms, mutation{"reorder the inter-relay list", func(t *rapid.T, b *Body, _ *Roots) {
			b.InterRelay[0], b.InterRelay[1] = b.InterRelay[1], b.InterRelay[0]
		}, []error{ErrMalformedBody}})
	}
	// Two external messages of one account swapped: their nonces are then
	// out of order.
	type pair struct{ r, k1, k2 int }
	var swaps []pair
	inputIDs := map[types.Hash]bool{}
	for i := range body.Inputs {
		inputIDs[body.Inputs[i].Message.ID()] = true
	}
	for r := range body.Records {
		var ext []int
		for k, e := range body.Records[r].Entries {
			if inputIDs[e.Processed[0]] {
				ext = append(ext, k)
			}
		}
		if len(ext) >= 2 {
			swaps = append(swaps, pair{r, ext[0], ext[len(ext)-1]})
		}
	}
	if len(swaps) > 0 {
		ms = append(ms, mutation{"swap two external entries of one account", func(t *rapid.T, b *Body, _ *Roots) {
			p := swaps[rapid.IntRange(0, len(swaps)-1).Draw(t, "account")]
			es := b.Records[p.r].Entries
			es[p.k1], es[p.k2] = es[p.k2], es[p.k1]
		}, []error{ErrBadNonce, ErrOrderCycle}})
	}
	return ms
}

// changeRelayValue adds 1 to the value of the relay with ID old and renames
// it everywhere, keeping every list in canonical order: only re-execution
// can tell.
func changeRelayValue(b *Body, old types.Hash) {
	for _, list := range []*[]types.Message{&b.InterRelay, &b.OuterRelay} {
		for i := range *list {
			m := &(*list)[i]
			if m.ID() != old {
				continue
			}
			m.Value++
			renameProcessed(b, old, m.ID())
			slices.SortFunc(*list, func(x, y types.Message) int { return compareHashes(x.ID(), y.ID()) })
			return
		}
	}
}

// renameProcessed replaces the ID old by new in every entry of b, keeping
// merged entries sorted.
func renameProcessed(b *Body, old, new types.Hash) {
	for r := range b.Records {
		for k := range b.Records[r].Entries {
			e := &b.Records[r].Entries[k]
			for _, ids := range [][]types.Hash{e.Processed, e.Outputs} {
				for i := range ids {
					if ids[i] == old {
						ids[i] = new
					}
				}
			}
			if len(e.Processed) > 1 {
				slices.SortFunc(e.Processed, compareHashes)
			}
		}
	}
}

// TestMutatedBlocksRejected: a valid block changed in any one of the ways
// of applicableMutations is rejected, with one of the reasons the mutation
// names, by sequential and parallel verification alike, with the same
// error.
func TestMutatedBlocksRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t, 0, false)
		view := w.states(t)[0]
		env := Env{Randomness: seededRandomness(rapid.Uint64().Draw(t, "seed"))}
		res, err := Execute(view, w.chains[0], w.inputs[0], env)
		if err != nil {
			t.Fatal(err)
		}
		ms := applicableMutations(&res.Body)
		m := ms[rapid.IntRange(0, len(ms)-1).Draw(t, "mutation")]
		body := cloneBody(&res.Body)
		roots := res.Roots
		m.apply(t, &body, &roots)

		_, seqErr := Verify(view, w.chains[0], &body, roots, env)
		_, parErr := Verify(view, w.chains[0], &body, roots, Env{Runner: poolRunner{workers: 4}, Randomness: env.Randomness})
		if seqErr == nil {
			t.Fatalf("%s: the mutated block verifies", m.name)
		}
		if parErr == nil || parErr.Error() != seqErr.Error() {
			t.Fatalf("%s: sequential error %v, parallel %v", m.name, seqErr, parErr)
		}
		var be *BlockError
		if !errors.As(seqErr, &be) {
			t.Fatalf("%s: error %v is not a *BlockError", m.name, seqErr)
		}
		for _, want := range m.want {
			if errors.Is(seqErr, want) {
				return
			}
		}
		t.Fatalf("%s: error %v, want one of %v", m.name, seqErr, m.want)
	})
}

// TestPlantedCycleRejected builds a ring of payments A1 -> A2 -> ... ->
// Ak -> A1 with ample balances, then reorders each account's record so it
// processes its incoming payment before its own tran. Every record still
// re-executes correctly alone (each tran succeeds either way), but each
// account now waits for the previous one: G_sigma is a cycle (a self-loop
// for k = 1), which Theorem 1 forbids.
func TestPlantedCycleRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		chain := specFor(0, 0)
		seeds := rapid.SliceOfNDistinct(rapid.IntRange(0, 63), 1, 6, rapid.ID[int]).Draw(t, "ring")
		var accounts []actor.Account
		var inputs []Input
		for i, s := range seeds {
			next := testKey(t, seeds[(i+1)%len(seeds)])
			accounts = append(accounts, actor.Account{Address: addressOf(testKey(t, s)), Balance: 1000})
			bill := rapid.Uint64Range(1, 100).Draw(t, "bill")
			inputs = append(inputs, Input{Message: actor.NewTransfer(testKey(t, s), 0, addressOf(next), bill)})
		}
		view := mustState(t, accounts...)
		env := Env{Randomness: seededRandomness(7)}
		res, err := Execute(view, chain, inputs, env)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(view, chain, &res.Body, res.Roots, env); err != nil {
			t.Fatal(err)
		}
		body := cloneBody(&res.Body)
		for r := range body.Records {
			es := body.Records[r].Entries
			if len(es) != 2 {
				t.Fatalf("record %d has %d entries, want a tran and an add", r, len(es))
			}
			if len(es[0].Outputs) == 1 { // tran first: put the add in front
				es[0], es[1] = es[1], es[0]
			}
		}
		_, err = Check(view, chain, &body, env)
		wantReason(t, err, ErrOrderCycle)
		_, parErr := Check(view, chain, &body, Env{Runner: poolRunner{workers: 2}, Randomness: env.Randomness})
		if parErr == nil || parErr.Error() != err.Error() {
			t.Fatalf("parallel error %v, sequential %v", parErr, err)
		}
	})
}

// TestParallelCheckEqualsSequential: for random blocks over random
// accounts, valid or mutated, Check on pools of 2 to 4 workers gives
// exactly Sequential's verdict: the same error, or the same result.
func TestParallelCheckEqualsSequential(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t, 1, true)
		states := w.states(t)
		c := rapid.IntRange(0, len(w.chains)-1).Draw(t, "chain")
		env := Env{Randomness: seededRandomness(rapid.Uint64().Draw(t, "seed"))}
		res, err := Execute(states[c], w.chains[c], w.inputs[c], env)
		if err != nil {
			t.Fatal(err)
		}
		body := cloneBody(&res.Body)
		if rapid.Bool().Draw(t, "mutate") {
			ms := applicableMutations(&body)
			roots := res.Roots
			ms[rapid.IntRange(0, len(ms)-1).Draw(t, "mutation")].apply(t, &body, &roots)
		}
		seq, seqErr := Check(states[c], w.chains[c], &body, env)
		workers := rapid.IntRange(2, 4).Draw(t, "workers")
		par, parErr := Check(states[c], w.chains[c], &body, Env{Runner: poolRunner{workers: workers}, Randomness: env.Randomness})
		if fmt.Sprint(seqErr) != fmt.Sprint(parErr) {
			t.Fatalf("sequential %v, parallel %v", seqErr, parErr)
		}
		if seqErr == nil && (seq.Roots != par.Roots || seq.GasUsed != par.GasUsed || !sameAccounts(seq.WriteSet, par.WriteSet)) {
			t.Fatal("sequential and parallel results differ")
		}
	})
}
