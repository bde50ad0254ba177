package exec

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// hotRecipient returns n payers, each paying bill to one hot account, on
// one chain.
func hotRecipient(t *testing.T, n int, bill uint64) (view *MemState, hot types.Address, inputs []Input) {
	hotKey := testKey(t, 1000)
	hot = addressOf(hotKey)
	accounts := []actor.Account{{Address: hot, Balance: 1}}
	for i := range n {
		k := testKey(t, 1001+i)
		accounts = append(accounts, actor.Account{Address: addressOf(k), Balance: 100})
		inputs = append(inputs, Input{Message: actor.NewTransfer(k, 0, hot, bill)})
	}
	return mustState(t, accounts...), hot, inputs
}

// TestMergeAdds is paper 5.6: the adds to a hot account arrive one per
// input and are merged into one entry; the merged and the unmerged record
// both verify and give the same state; merging anything but plain adds is
// rejected.
func TestMergeAdds(t *testing.T) {
	chain := specFor(0, 0)
	view, hot, inputs := hotRecipient(t, 10, 7)
	env := Env{Randomness: seededRandomness(11)}
	res, err := Execute(view, chain, inputs, env)
	if err != nil {
		t.Fatal(err)
	}
	rec := recordOf(&res.Body, hot)
	if len(rec.Entries) != 1 || len(rec.Entries[0].Processed) != 10 {
		t.Fatalf("hot record has %d entries, want 1 merged entry of 10", len(rec.Entries))
	}
	if at := sortedByID(rec.Entries[0].Processed); at >= 0 {
		t.Fatal("merged IDs not in increasing order")
	}
	merged, err := Verify(view, chain, &res.Body, res.Roots, env)
	if err != nil {
		t.Fatal(err)
	}
	if merged.WriteSet[slices.IndexFunc(merged.WriteSet, func(a actor.Account) bool { return a.Address == hot })].Balance != 71 {
		t.Fatal("hot balance is not 1 + 10*7")
	}

	unmerged := cloneBody(&res.Body)
	u := recordOf(&unmerged, hot)
	var singles []Entry
	for _, id := range u.Entries[0].Processed {
		singles = append(singles, Entry{Processed: []types.Hash{id}})
	}
	u.Entries = singles
	one, err := Check(view, chain, &unmerged, env)
	if err != nil {
		t.Fatalf("unmerged record: %v", err)
	}
	if one.Roots.State != merged.Roots.State || one.GasUsed != merged.GasUsed {
		t.Fatal("merging changed the state or the gas")
	}

	t.Run("unsorted merge", func(t *testing.T) {
		b := cloneBody(&res.Body)
		p := recordOf(&b, hot).Entries[0].Processed
		p[0], p[1] = p[1], p[0]
		_, err := Check(view, chain, &b, env)
		wantReason(t, err, ErrBadMerge)
	})
	t.Run("merge with an external message", func(t *testing.T) {
		// The hot account pays someone; its tran merged with the adds.
		payer := testKey(t, 1000)
		tran := actor.NewTransfer(payer, 0, addressOf(testKey(t, 1001)), 1)
		withTran := append(slices.Clone(inputs), Input{Message: tran})
		r2, err := Execute(view, chain, withTran, env)
		if err != nil {
			t.Fatal(err)
		}
		b := cloneBody(&r2.Body)
		h := recordOf(&b, hot)
		if len(h.Entries) != 2 {
			t.Fatalf("%d entries", len(h.Entries))
		}
		h.Entries = []Entry{{Processed: append(slices.Clone(h.Entries[0].Processed), h.Entries[1].Processed...)}}
		slices.SortFunc(h.Entries[0].Processed, compareHashes)
		_, err = Check(view, chain, &b, env)
		wantReason(t, err, ErrBadMerge)
	})
	t.Run("merge that overflows", func(t *testing.T) {
		big, hot2, in := hotRecipient(t, 2, 60)
		if err := big.Apply([]actor.Account{{Address: hot2, Balance: math.MaxUint64 - 100}}); err != nil {
			t.Fatal(err)
		}
		r, err := Execute(big, chain, in, env)
		if err != nil {
			t.Fatal(err)
		}
		// The second add overflows: the leader processes it alone, fails
		// it and bounces the 60 back, so it does not merge.
		h := recordOf(&r.Body, hot2)
		if len(h.Entries) != 2 || len(h.Entries[1].Outputs) != 1 {
			t.Fatalf("record %s", sigma(h, nil))
		}
		if _, err := Verify(big, chain, &r.Body, r.Roots, env); err != nil {
			t.Fatal(err)
		}
		b := cloneBody(&r.Body)
		h = recordOf(&b, hot2)
		h.Entries = []Entry{{Processed: append(h.Entries[0].Processed, h.Entries[1].Processed...)}}
		slices.SortFunc(h.Entries[0].Processed, compareHashes)
		_, err = Check(big, chain, &b, env)
		if err == nil {
			t.Fatal("a merge that overflows verifies")
		}
	})
}

// pingPong is a program that answers every ping with a ping: two such
// accounts exchange messages forever.
func pingPong(peer types.Address) []byte {
	return []byte("def ping():\n    send(" + bytesLiteral(peer) + ", \"ping\", 0)\n")
}

func bytesLiteral(a types.Address) string {
	var b bytes.Buffer
	b.WriteString(`b"`)
	for _, c := range a {
		b.WriteString(`\x`)
		b.WriteByte("0123456789abcdef"[c>>4])
		b.WriteByte("0123456789abcdef"[c&15])
	}
	b.WriteString(`"`)
	return b.String()
}

// TestGasBounds: a message loop stops at the per-input gas and is left
// out; inputs beyond the block gas wait for a later block; a block over
// the gas limit is rejected.
func TestGasBounds(t *testing.T) {
	chain := specFor(0, 0)
	a, b := testKey(t, 2000), testKey(t, 2001)
	view := mustState(t,
		actor.Account{Address: addressOf(a), Balance: 10, Code: pingPong(addressOf(b))},
		actor.Account{Address: addressOf(b), Balance: 10, Code: pingPong(addressOf(a))},
	)
	ping := types.Message{Method: []byte("ping")}
	actor.SignExternal(&ping, a)
	pay := actor.NewTransfer(b, 0, addressOf(a), 1)
	env := Env{Randomness: seededRandomness(12)}
	res, err := Execute(view, chain, externalInputs(ping, pay), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Receipts[0].Included || !res.Receipts[1].Included {
		t.Fatalf("receipts %+v", res.Receipts)
	}
	wantReason(t, res.Receipts[0].Reason, ErrInputGas)
	if len(res.Body.Inputs) != 1 || len(res.Body.InterRelay) != 1 {
		t.Fatal("the undone loop left messages in the block")
	}
	if _, err := Verify(view, chain, &res.Body, res.Roots, env); err != nil {
		t.Fatal(err)
	}

	// A payment costs 3000 gas: its tran (1000, and 1000 for the add it
	// sends) and the add (1000). A block of 7000 takes two of three.
	small := chain
	small.Limits.BlockGas = 7000
	payers, _, inputs := hotRecipient(t, 3, 1)
	full, err := Execute(payers, small, inputs, env)
	if err != nil {
		t.Fatal(err)
	}
	if !full.Receipts[0].Included || !full.Receipts[1].Included || full.Receipts[2].Included || full.GasUsed != 6000 {
		t.Fatalf("receipts %+v, gas %d", full.Receipts, full.GasUsed)
	}
	wantReason(t, full.Receipts[2].Reason, ErrBlockFull)
	all, err := Execute(payers, chain, inputs, env)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Check(payers, small, &all.Body, env)
	wantReason(t, err, ErrBlockGas)
}

// TestExecuteRejects lists the inputs a leader leaves out, and checks that
// a block holding them anyway is rejected for the same reason.
func TestExecuteRejects(t *testing.T) {
	chain := specFor(0, 1)
	alice, next := keyOn(t, chain, 3000)
	stranger, next := keyOn(t, chain, next)
	foreign, _ := keyOn(t, specFor(1, 1), next)
	a := addressOf(alice)
	view := mustState(t, actor.Account{Address: a, Balance: 50, Nonce: 2})
	good := actor.NewTransfer(alice, 2, a, 1)
	badSig := good
	badSig.Signature[0] ^= 1
	inter := types.Message{Kind: types.MessageInterRelay, From: a, To: a, SourceChain: 0, Cause: hashOf(1), Method: []byte("add")}
	ownRelay := inter
	ownRelay.Kind = types.MessageOuterRelay
	tests := []struct {
		name string
		msg  types.Message
		want error
	}{
		{"bad signature", badSig, ErrBadSignature},
		{"nonce behind", actor.NewTransfer(alice, 1, a, 1), ErrBadNonce},
		{"nonce ahead", actor.NewTransfer(alice, 3, a, 1), ErrBadNonce},
		{"unknown sender", actor.NewTransfer(stranger, 0, a, 1), ErrUnknownAccount},
		{"sender on another chain", actor.NewTransfer(foreign, 0, a, 1), ErrInvalidInput},
		{"inter-relay as input", inter, ErrInvalidInput},
		{"outer relay from this chain", ownRelay, ErrInvalidInput},
	}
	env := Env{Randomness: seededRandomness(13), Relays: acceptRelays{}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Execute(view, chain, externalInputs(tt.msg), env)
			if err != nil {
				t.Fatal(err)
			}
			if res.Receipts[0].Included {
				t.Fatal("included")
			}
			wantReason(t, res.Receipts[0].Reason, tt.want)
			if len(res.Body.Records) != 0 || res.Roots.State != view.Root() {
				t.Fatal("a rejected input changed the state")
			}
			forced := Body{Inputs: externalInputs(tt.msg), Records: []Record{{Address: tt.msg.To, Entries: []Entry{{Processed: []types.Hash{tt.msg.ID()}}}}}}
			_, err = Check(view, chain, &forced, env)
			if err == nil {
				t.Fatal("a block holding the input verifies")
			}
		})
	}
	t.Run("duplicate", func(t *testing.T) {
		res, err := Execute(view, chain, externalInputs(good, good), env)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Receipts[0].Included || res.Receipts[1].Included {
			t.Fatalf("receipts %+v", res.Receipts)
		}
		wantReason(t, res.Receipts[1].Reason, ErrDuplicateMessage)
		dup := cloneBody(&res.Body)
		dup.Inputs = append(dup.Inputs, dup.Inputs[0])
		_, err = Check(view, chain, &dup, env)
		wantReason(t, err, ErrDuplicateMessage)
	})
}

// TestCheckStructure covers the structural rules of Check on a valid block
// of Fig. 10 changed one rule at a time.
func TestCheckStructure(t *testing.T) {
	chain := specFor(0, 0)
	f := newFigure10(t, chain, chain)
	view := mustState(t, f.accounts(20)...)
	env := Env{Randomness: seededRandomness(14)}
	res, err := Execute(view, chain, externalInputs(f.m1, f.m3), env)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(b *Body)
		want   error
	}{
		{"records out of order", func(b *Body) { b.Records[0], b.Records[1] = b.Records[1], b.Records[0] }, ErrMalformedBody},
		{"empty record", func(b *Body) {
			b.Records = append(b.Records, Record{Address: types.Address{0xff}})
			sortRecords(b.Records)
		}, ErrMalformedBody},
		{"empty entry", func(b *Body) { b.Records[0].Entries = append(b.Records[0].Entries, Entry{}) }, ErrMalformedBody},
		{"inter relay of the wrong chain", func(b *Body) { b.InterRelay[0].SourceChain = 9; sortInter(b) }, ErrMalformedBody},
		{"inter relay listed as outer", func(b *Body) { b.OuterRelay = append(b.OuterRelay, b.InterRelay[0]) }, ErrMalformedBody},
		{"processing an outer relay of the block", func(b *Body) {
			r := recordOf(b, f.a)
			r.Entries[0].Processed = append(r.Entries[0].Processed, r.Entries[0].Outputs[0])
		}, ErrBadMerge},
		{"another account's message", func(b *Body) {
			ra, rb := recordOf(b, f.a), recordOf(b, f.b)
			ra.Entries = append(ra.Entries, rb.Entries[len(rb.Entries)-1])
			rb.Entries = rb.Entries[:len(rb.Entries)-1]
		}, ErrWrongRecipient},
		{"unknown processed message", func(b *Body) { recordOf(b, f.c).Entries[0].Processed[0] = hashOf(9) }, ErrUnknownMessage},
		{"unknown output", func(b *Body) { recordOf(b, f.a).Entries[0].Outputs[0] = hashOf(9) }, ErrUnknownMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cloneBody(&res.Body)
			tt.mutate(&b)
			_, err := Check(view, chain, &b, env)
			wantReason(t, err, tt.want)
		})
	}
}

func sortInter(b *Body) {
	slices.SortFunc(b.InterRelay, func(x, y types.Message) int { return compareHashes(x.ID(), y.ID()) })
}

// TestExecuteDeterministic: the same inputs give byte-identical blocks and
// results, whatever the Runner.
func TestExecuteDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t, 1, true)
		states := w.states(t)
		c := rapid.IntRange(0, len(w.chains)-1).Draw(t, "chain")
		seq, err := Execute(states[c], w.chains[c], w.inputs[c], Env{Randomness: seededRandomness(1)})
		if err != nil {
			t.Fatal(err)
		}
		par, err := Execute(states[c], w.chains[c], w.inputs[c], Env{Runner: poolRunner{workers: 3}, Randomness: seededRandomness(2)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(encodeBody(t, &seq.Body), encodeBody(t, &par.Body)) || seq.Roots != par.Roots || !sameAccounts(seq.WriteSet, par.WriteSet) {
			t.Fatal("Execute depends on the Runner or the randomness")
		}
	})
}

// TestRelayAndAccountProofs: an outer relay is proved against the block's
// OuterRelay root and an account against the state root, and nothing else
// is.
func TestRelayAndAccountProofs(t *testing.T) {
	chain := specFor(0, 1)
	other := specFor(1, 1)
	var inputs []Input
	var accounts []actor.Account
	next := 4000
	for range 5 {
		var payer, payee = testKey(t, 0), testKey(t, 0)
		payer, next = keyOn(t, chain, next)
		payee, next = keyOn(t, other, next)
		accounts = append(accounts, actor.Account{Address: addressOf(payer), Balance: 10})
		inputs = append(inputs, Input{Message: actor.NewTransfer(payer, 0, addressOf(payee), 3)})
	}
	view := mustState(t, accounts...)
	res, err := Execute(view, chain, inputs, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Body.OuterRelay) != 5 {
		t.Fatalf("%d outer relays", len(res.Body.OuterRelay))
	}
	for i := range res.Body.OuterRelay {
		m := res.Body.OuterRelay[i]
		p, err := ProveRelay(&res.Body, m.ID())
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyRelayProof(res.Roots.OuterRelay, &m, p); err != nil {
			t.Fatal(err)
		}
		if err := VerifyRelayProof(res.Roots.InterRelay, &m, p); err == nil {
			t.Fatal("proof verifies against another root")
		}
		forged := m
		forged.Value++
		if err := VerifyRelayProof(res.Roots.OuterRelay, &forged, p); err == nil {
			t.Fatal("proof verifies for a changed message")
		}
	}
	if _, err := ProveRelay(&res.Body, hashOf(1)); err == nil {
		t.Fatal("proved a message that is not in the block")
	}

	if err := view.Apply(res.WriteSet); err != nil {
		t.Fatal(err)
	}
	for _, acct := range res.WriteSet {
		p, err := ProveAccount(view.StateLeaves(), acct.Address)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyAccountProof(res.Roots.State, &acct, p); err != nil {
			t.Fatal(err)
		}
		stale := acct
		stale.Balance += 3
		if err := VerifyAccountProof(res.Roots.State, &stale, p); err == nil {
			t.Fatal("proof verifies for another state of the account")
		}
	}
	if _, err := ProveAccount(view.StateLeaves(), types.Address{0xff}); err == nil {
		t.Fatal("proved an account that does not exist")
	}
}

// TestParallelRootEqualsSequential checks the chunked roots against
// crypto/merkle's for sizes around the chunk boundaries.
func TestParallelRootEqualsSequential(t *testing.T) {
	for _, n := range []int{0, 1, 2, 255, 256, 257, 1023, 1024, 1025, 4095, 4096, 4097, 5000, 8192, 12345} {
		leaves := make([]types.Hash, n)
		for i := range leaves {
			leaves[i] = merkle.LeafHash([]byte{byte(i), byte(i >> 8)})
		}
		want := merkle.RootFromLeafHashes(leaves)
		for _, w := range []int{1, 2, 3, 8} {
			got := treeRoots(poolRunner{workers: w}, leaves[:n/3], leaves, nil)
			if got[1] != want || got[0] != merkle.RootFromLeafHashes(leaves[:n/3]) || got[2] != merkle.EmptyRoot() {
				t.Fatalf("n=%d workers=%d: root differs", n, w)
			}
		}
	}
}

// TestCheckExecutionCatchesBrokenResults: the invariant check notices a
// result whose value does not add up or whose roots Check does not derive.
func TestCheckExecutionCatchesBrokenResults(t *testing.T) {
	chain := specFor(0, 0)
	f := newFigure10(t, chain, chain)
	view := mustState(t, f.accounts(20)...)
	res, err := Execute(view, chain, externalInputs(f.m1, f.m3), Env{})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckExecution(view, chain, &res, Env{}); err != nil {
		t.Fatal(err)
	}
	minted := res
	minted.WriteSet = slices.Clone(res.WriteSet)
	minted.WriteSet[0].Balance++
	if err := CheckExecution(view, chain, &minted, Env{}); !asIs(err, ErrInvariant) {
		t.Fatalf("extra value: %v", err)
	}
	wrongRoot := res
	wrongRoot.Roots.Record[0] ^= 1
	if err := CheckExecution(view, chain, &wrongRoot, Env{}); !asIs(err, ErrInvariant) {
		t.Fatalf("wrong root: %v", err)
	}
}
