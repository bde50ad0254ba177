package exec

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// Tests named after the paper's section 5: the payment example of 5.4
// (Fig. 10) and the processing-order example of 5.3 (Fig. 8 and 9,
// Theorem 1).

// addRelay is the {add, bill} message account from sends when processing
// cause, as its index-th output.
func addRelay(chain ChainSpec, from types.Address, cause types.Hash, index int, to types.Address, bill uint64) types.Message {
	return relayMessage(chain, from, cause, index, &actor.Send{To: to, Method: []byte(actor.MethodAdd), Value: bill})
}

type figure10 struct {
	alice, bob, charlie ed25519.PrivateKey
	a, b, c             types.Address
	m1, m3              types.Message
}

// newFigure10 returns the accounts and messages of Fig. 10: Alice, Bob and
// Charlie with 20, 5 and 10; m1 from Alice to Bob for 10, m3 from Bob to
// Charlie for 10. chainA holds Alice, chainB Bob and Charlie (the same
// spec for the one-chain case).
func newFigure10(t *testing.T, chainA, chainB ChainSpec) figure10 {
	var f figure10
	next := 0
	f.alice, next = keyOn(t, chainA, next)
	f.bob, next = keyOn(t, chainB, next)
	f.charlie, _ = keyOn(t, chainB, next)
	f.a, f.b, f.c = addressOf(f.alice), addressOf(f.bob), addressOf(f.charlie)
	f.m1 = actor.NewTransfer(f.alice, 0, f.b, 10)
	f.m3 = actor.NewTransfer(f.bob, 0, f.c, 10)
	return f
}

func (f figure10) accounts(aliceBalance uint64) []actor.Account {
	return []actor.Account{
		{Address: f.a, Balance: aliceBalance},
		{Address: f.b, Balance: 5},
		{Address: f.c, Balance: 10},
	}
}

// TestPaperFigure10OneChain is section 5.4 with the three accounts on one
// chain. Processing m2 before m3 gives sigma = ((m1 : m2), (m2 | m3 : m4),
// (m4)); the reverse order for Bob gives sigma' = ((m1 : m2), (m3 | m2), ∅),
// in which Bob's tran of 10 finds a balance of 5 and has no effect. Both
// are valid blocks, with different final states.
func TestPaperFigure10OneChain(t *testing.T) {
	chain := specFor(0, 0)
	f := newFigure10(t, chain, chain)
	m2 := addRelay(chain, f.a, f.m1.ID(), 0, f.b, 10)
	m4 := addRelay(chain, f.b, f.m3.ID(), 0, f.c, 10)
	names := map[types.Hash]string{f.m1.ID(): "m1", m2.ID(): "m2", f.m3.ID(): "m3", m4.ID(): "m4"}

	tests := []struct {
		name             string
		inputs           []types.Message
		sigmaA, sigmaB   string
		sigmaC           string
		balances         [3]uint64
		bobStatus        actor.Status
		wantInterRelayed []types.Message
	}{
		{
			name:   "m2 before m3",
			inputs: []types.Message{f.m1, f.m3},
			sigmaA: "(m1 : m2)", sigmaB: "(m2 | m3 : m4)", sigmaC: "(m4)",
			balances:         [3]uint64{10, 5, 20},
			bobStatus:        actor.StatusApplied,
			wantInterRelayed: []types.Message{m2, m4},
		},
		{
			name:   "m3 before m2",
			inputs: []types.Message{f.m3, f.m1},
			sigmaA: "(m1 : m2)", sigmaB: "(m3 | m2)", sigmaC: "∅",
			balances:         [3]uint64{10, 15, 10},
			bobStatus:        actor.StatusNoEffect,
			wantInterRelayed: []types.Message{m2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view := mustState(t, f.accounts(20)...)
			env := Env{Randomness: seededRandomness(1)}
			res, err := Execute(view, chain, externalInputs(tt.inputs...), env)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Receipts {
				if !r.Included {
					t.Fatalf("input %v left out: %v", r.ID, r.Reason)
				}
			}
			if got := res.Receipts[len(res.Receipts)-1]; tt.inputs[1].ID() == f.m3.ID() && got.Status != tt.bobStatus {
				t.Fatalf("m3 status %v, want %v", got.Status, tt.bobStatus)
			}
			got := []string{sigma(recordOf(&res.Body, f.a), names), sigma(recordOf(&res.Body, f.b), names), sigma(recordOf(&res.Body, f.c), names)}
			want := []string{tt.sigmaA, tt.sigmaB, tt.sigmaC}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("sigma = %v, want %v", got, want)
			}
			if len(res.Body.OuterRelay) != 0 || len(res.Body.InterRelay) != len(tt.wantInterRelayed) {
				t.Fatalf("%d inter-relay and %d outer-relay messages", len(res.Body.InterRelay), len(res.Body.OuterRelay))
			}
			if _, err := Verify(view, chain, &res.Body, res.Roots, env); err != nil {
				t.Fatalf("the leader's own block does not verify: %v", err)
			}
			if err := view.Apply(res.WriteSet); err != nil {
				t.Fatal(err)
			}
			for i, addr := range []types.Address{f.a, f.b, f.c} {
				if b := balanceOf(t, view, addr); b != tt.balances[i] {
					t.Fatalf("balance of account %d is %d, want %d", i, b, tt.balances[i])
				}
			}
			if view.Root() != res.Roots.State {
				t.Fatal("state root of the committed state differs from the block's")
			}
		})
	}
}

// TestPaperFigure10RecordOrderNotInputOrder checks that the verifier
// follows the records, not the input list: the inputs of the first order
// with the records of the second still verify, and a record claiming that
// Bob's tran succeeded before m2 arrived does not.
func TestPaperFigure10RecordOrderNotInputOrder(t *testing.T) {
	chain := specFor(0, 0)
	f := newFigure10(t, chain, chain)
	env := Env{Randomness: seededRandomness(2)}
	first, err := Execute(mustState(t, f.accounts(20)...), chain, externalInputs(f.m1, f.m3), env)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Execute(mustState(t, f.accounts(20)...), chain, externalInputs(f.m3, f.m1), env)
	if err != nil {
		t.Fatal(err)
	}
	mixed := second.Body
	mixed.Inputs = first.Body.Inputs
	if _, err := Check(mustState(t, f.accounts(20)...), chain, &mixed, env); err != nil {
		t.Fatalf("records of the second order under the inputs of the first: %v", err)
	}

	// Bob's record of the first order, with m3 moved in front of m2: the
	// tran of 10 now meets a balance of 5 and cannot produce m4.
	lying := cloneBody(&first.Body)
	bob := recordOf(&lying, f.b)
	bob.Entries[0], bob.Entries[1] = bob.Entries[1], bob.Entries[0]
	_, err = Check(mustState(t, f.accounts(20)...), chain, &lying, env)
	wantReason(t, err, ErrRecordMismatch)
	var be *BlockError
	if !asBlockError(err, &be) || be.Account != f.b || be.Message != f.m3.ID() {
		t.Fatalf("error names account %v message %v, want Bob and m3", be.Account, be.Message)
	}
}

// TestPaperFigure10InsufficientBalance is step 4 of 5.4: with Alice's
// balance below the bill, sigma'_a = (m1 : ∅) is recorded, and no balance
// changes; the message is consumed (the nonce advances), not rejected.
func TestPaperFigure10InsufficientBalance(t *testing.T) {
	chain := specFor(0, 0)
	f := newFigure10(t, chain, chain)
	view := mustState(t, f.accounts(5)...)
	env := Env{Randomness: seededRandomness(3)}
	res, err := Execute(view, chain, externalInputs(f.m1), env)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Receipts[0]
	if !r.Included || r.Status != actor.StatusNoEffect || !asIs(r.Reason, actor.ErrInsufficientBalance) {
		t.Fatalf("receipt %+v, want included with no effect for insufficient balance", r)
	}
	names := map[types.Hash]string{f.m1.ID(): "m1"}
	if got := sigma(recordOf(&res.Body, f.a), names); got != "(m1)" {
		t.Fatalf("sigma_a = %s, want (m1) (the paper's (m1 : ∅))", got)
	}
	if len(res.Body.InterRelay)+len(res.Body.OuterRelay) != 0 || len(res.WriteSet) != 1 {
		t.Fatal("a tran without funds produced messages or touched other accounts")
	}
	if w := res.WriteSet[0]; w.Balance != 5 || w.Nonce != 1 {
		t.Fatalf("Alice after: balance %d nonce %d, want 5 and 1", w.Balance, w.Nonce)
	}
	if _, err := Verify(view, chain, &res.Body, res.Roots, env); err != nil {
		t.Fatal(err)
	}
	// The same message again is a replay: its nonce is used.
	if err := view.Apply(res.WriteSet); err != nil {
		t.Fatal(err)
	}
	again, err := Execute(view, chain, externalInputs(f.m1), env)
	if err != nil {
		t.Fatal(err)
	}
	if again.Receipts[0].Included {
		t.Fatal("a replayed message was included")
	}
	wantReason(t, again.Receipts[0].Reason, ErrBadNonce)
}

// TestPaperFigure10AcrossChains is 5.4 step 3: Alice on one chain, Bob and
// Charlie on another. Alice's chain records sigma_a = (m1 : m2) with m2 an
// outer relay; Bob's chain takes m2 as an input with its Merkle proof, in
// either order with m3.
func TestPaperFigure10AcrossChains(t *testing.T) {
	chainA, chainB := specFor(0, 1), specFor(1, 1)
	f := newFigure10(t, chainA, chainB)
	env := Env{Randomness: seededRandomness(4)}
	viewA := mustState(t, actor.Account{Address: f.a, Balance: 20})
	resA, err := Execute(viewA, chainA, externalInputs(f.m1), env)
	if err != nil {
		t.Fatal(err)
	}
	m2 := addRelay(chainA, f.a, f.m1.ID(), 0, f.b, 10)
	if len(resA.Body.OuterRelay) != 1 || resA.Body.OuterRelay[0].ID() != m2.ID() || len(resA.Body.InterRelay) != 0 {
		t.Fatalf("chain A relays: inter %d, outer %v; want outer m2", len(resA.Body.InterRelay), resA.Body.OuterRelay)
	}
	names := map[types.Hash]string{f.m1.ID(): "m1", m2.ID(): "m2", f.m3.ID(): "m3"}
	if got := sigma(recordOf(&resA.Body, f.a), names); got != "(m1 : m2)" {
		t.Fatalf("sigma_a = %s", got)
	}
	if _, err := Verify(viewA, chainA, &resA.Body, resA.Roots, env); err != nil {
		t.Fatal(err)
	}
	relayed := relayInputs(t, &resA, chainB)
	m4 := addRelay(chainB, f.b, f.m3.ID(), 0, f.c, 10)
	names[m4.ID()] = "m4"

	envB := Env{Randomness: seededRandomness(5), Relays: acceptRelays{roots: []types.Hash{resA.Roots.OuterRelay}}}
	for _, tt := range []struct {
		name           string
		inputs         []Input
		sigmaB, sigmaC string
		bob, charlie   uint64
	}{
		{"m2 before m3", []Input{relayed[0], {Message: f.m3}}, "(m2 | m3 : m4)", "(m4)", 5, 20},
		{"m3 before m2", []Input{{Message: f.m3}, relayed[0]}, "(m3 | m2)", "∅", 15, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			viewB := mustState(t, actor.Account{Address: f.b, Balance: 5}, actor.Account{Address: f.c, Balance: 10})
			res, err := Execute(viewB, chainB, tt.inputs, envB)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Receipts {
				if !r.Included {
					t.Fatalf("input left out: %v", r.Reason)
				}
			}
			if got := sigma(recordOf(&res.Body, f.b), names) + " " + sigma(recordOf(&res.Body, f.c), names); got != tt.sigmaB+" "+tt.sigmaC {
				t.Fatalf("sigma_b sigma_c = %s, want %s %s", got, tt.sigmaB, tt.sigmaC)
			}
			if _, err := Verify(viewB, chainB, &res.Body, res.Roots, envB); err != nil {
				t.Fatal(err)
			}
			if err := viewB.Apply(res.WriteSet); err != nil {
				t.Fatal(err)
			}
			if b, c := balanceOf(t, viewB, f.b), balanceOf(t, viewB, f.c); b != tt.bob || c != tt.charlie {
				t.Fatalf("Bob %d Charlie %d, want %d %d", b, c, tt.bob, tt.charlie)
			}
		})
	}

	t.Run("relay without a valid proof", func(t *testing.T) {
		viewB := mustState(t, actor.Account{Address: f.b, Balance: 5})
		bad := relayed[0]
		bad.Message.Value = 1000 // not what chain A committed
		res, err := Execute(viewB, chainB, []Input{bad}, envB)
		if err != nil {
			t.Fatal(err)
		}
		if res.Receipts[0].Included {
			t.Fatal("a forged relay was included")
		}
		wantReason(t, res.Receipts[0].Reason, ErrBadRelayProof)
		forged := Body{Inputs: []Input{bad}, Records: []Record{{Address: f.b, Entries: []Entry{{Processed: []types.Hash{bad.Message.ID()}}}}}}
		_, err = Check(viewB, chainB, &forged, envB)
		wantReason(t, err, ErrBadRelayProof)
	})
}

// figure8 builds the block of Fig. 8: accounts 1, 2, 3 on the chain,
// accounts 4, 5, 6 on other chains, inputs m1, m2, m3 received by 1, 2, 3.
// The accounts' programs produce exactly the paper's messages: each method
// is named after the message it handles and sends the messages the paper
// shows it produce.
type figure8 struct {
	chain    ChainSpec
	keys     [3]ed25519.PrivateKey
	addrs    [7]types.Address // 1-based
	msgs     map[string]types.Message
	names    map[types.Hash]string
	accounts []actor.Account
}

func newFigure8(t *testing.T) figure8 {
	f := figure8{chain: specFor(0, 1), msgs: map[string]types.Message{}, names: map[types.Hash]string{}}
	other := specFor(1, 1)
	next := 0
	for i := range 3 {
		f.keys[i], next = keyOn(t, f.chain, next)
		f.addrs[i+1] = addressOf(f.keys[i])
	}
	for i := 4; i <= 6; i++ {
		var k ed25519.PrivateKey
		k, next = keyOn(t, other, next)
		f.addrs[i] = addressOf(k)
	}
	lit := func(i int) string {
		var b strings.Builder
		b.WriteString(`b"`)
		for _, c := range f.addrs[i] {
			fmt.Fprintf(&b, `\x%02x`, c)
		}
		return b.String() + `"`
	}
	code := [3]string{
		fmt.Sprintf("def m1():\n    send(%s, \"m4\", 0)\ndef m8():\n    pass\ndef m6():\n    send(%s, \"m9\", 0)\n", lit(2), lit(4)),
		fmt.Sprintf("def m2():\n    send(%s, \"m5\", 0)\n    send(%s, \"m6\", 0)\ndef m4():\n    send(%s, \"m7\", 0)\n    send(%s, \"m10\", 0)\n", lit(3), lit(1), lit(3), lit(5)),
		fmt.Sprintf("def m5():\n    send(%s, \"m11\", 0)\ndef m3():\n    send(%s, \"m8\", 0)\ndef m7():\n    pass\n", lit(6), lit(1)),
	}
	for i := range 3 {
		f.accounts = append(f.accounts, actor.Account{Address: f.addrs[i+1], Balance: 100, Code: []byte(code[i])})
		m := types.Message{Method: []byte(fmt.Sprintf("m%d", i+1))}
		actor.SignExternal(&m, f.keys[i])
		f.add(fmt.Sprintf("m%d", i+1), m)
	}
	relay := func(name string, from int, cause string, index, to int) {
		s := actor.Send{To: f.addrs[to], Method: []byte(name)}
		c := f.msgs[cause]
		f.add(name, relayMessage(f.chain, f.addrs[from], c.ID(), index, &s))
	}
	relay("m4", 1, "m1", 0, 2)
	relay("m5", 2, "m2", 0, 3)
	relay("m6", 2, "m2", 1, 1)
	relay("m7", 2, "m4", 0, 3)
	relay("m10", 2, "m4", 1, 5)
	relay("m8", 3, "m3", 0, 1)
	relay("m11", 3, "m5", 0, 6)
	relay("m9", 1, "m6", 0, 4)
	return f
}

func (f *figure8) id(name string) types.Hash {
	m := f.msgs[name]
	return m.ID()
}

func (f *figure8) add(name string, m types.Message) {
	f.msgs[name] = m
	f.names[m.ID()] = name
}

// body returns the block whose records are sigma, written in the paper's
// notation, one string per account: "m1 : m4 | m8 | m6 : m9".
func (f *figure8) body(t *testing.T, sigmas [3]string) Body {
	b := Body{Inputs: externalInputs(f.msgs["m1"], f.msgs["m2"], f.msgs["m3"])}
	var inter, outer []idMessage
	for _, name := range []string{"m4", "m5", "m6", "m7", "m8"} {
		m := f.msgs[name]
		inter = append(inter, idMessage{id: m.ID(), msg: m})
	}
	for _, name := range []string{"m9", "m10", "m11"} {
		m := f.msgs[name]
		outer = append(outer, idMessage{id: m.ID(), msg: m})
	}
	sortIDMessages(inter)
	sortIDMessages(outer)
	b.InterRelay, _ = split(inter)
	b.OuterRelay, _ = split(outer)
	for i, s := range sigmas {
		rec := Record{Address: f.addrs[i+1]}
		for _, step := range strings.Split(s, "|") {
			processed, outputs, _ := strings.Cut(step, ":")
			e := Entry{Processed: []types.Hash{f.id(strings.TrimSpace(processed))}}
			for _, o := range strings.Split(outputs, ",") {
				if o = strings.TrimSpace(o); o != "" {
					e.Outputs = append(e.Outputs, f.id(o))
				}
			}
			rec.Entries = append(rec.Entries, e)
		}
		b.Records = append(b.Records, rec)
	}
	sortRecords(b.Records)
	return b
}

// TestPaperFigure8And9 checks the order sigma of Fig. 8: it verifies, its
// graph G_sigma (Fig. 9) has the paper's edges and no cycle, and it ends in
// the same state as the leader's own execution of m1, m2, m3.
func TestPaperFigure8And9(t *testing.T) {
	f := newFigure8(t)
	body := f.body(t, [3]string{
		"m1 : m4 | m8 | m6 : m9",
		"m2 : m5, m6 | m4 : m7, m10",
		"m5 : m11 | m3 : m8 | m7",
	})
	view := mustState(t, f.accounts...)
	env := Env{Randomness: seededRandomness(8)}
	res, err := Check(view, f.chain, &body, env)
	if err != nil {
		t.Fatal(err)
	}

	ids := idsOf(Sequential{}, &body)
	g, err := linkRecords(&body, ids)
	if err != nil {
		t.Fatal(err)
	}
	// Fig. 9: an edge per inter-relay message from the entry sending it to
	// the entry receiving it.
	entryName := func(node int) string {
		for r := range body.Records {
			if node < g.first[r+1] {
				return f.names[body.Records[r].Entries[node-g.first[r]].Processed[0]]
			}
		}
		return "?"
	}
	var edges []string
	for i := range body.InterRelay {
		edges = append(edges, fmt.Sprintf("%s-%s->%s", entryName(g.producer[i]), f.names[ids.inter[i]], entryName(g.consumer[i])))
	}
	want := map[string]bool{"m1-m4->m4": true, "m2-m5->m5": true, "m2-m6->m6": true, "m4-m7->m7": true, "m3-m8->m8": true}
	for _, e := range edges {
		if !want[e] {
			t.Fatalf("G_sigma edges %v, want those of %v", edges, want)
		}
	}
	if len(edges) != len(want) {
		t.Fatalf("G_sigma edges %v", edges)
	}

	leader, err := Execute(view, f.chain, body.Inputs, env)
	if err != nil {
		t.Fatal(err)
	}
	if leader.Roots.State != res.Roots.State {
		t.Fatal("the paper's order and the leader's order end in different states")
	}
	if leader.Roots.OuterRelay != res.Roots.OuterRelay {
		t.Fatal("the paper's order and the leader's order produce different outer relays")
	}
	if _, err := Verify(view, f.chain, &body, res.Roots, env); err != nil {
		t.Fatal(err)
	}
}

// TestPaperTheorem1PlantedCycle makes account 1 process m6 before m1 and
// account 2 process m4 before m2. Each record still re-executes correctly
// on its own, but m6 needs m2, which comes after m4, which needs m1, which
// comes after m6: G_sigma has a cycle, so no execution gives this sigma.
func TestPaperTheorem1PlantedCycle(t *testing.T) {
	f := newFigure8(t)
	body := f.body(t, [3]string{
		"m6 : m9 | m1 : m4 | m8",
		"m4 : m7, m10 | m2 : m5, m6",
		"m5 : m11 | m3 : m8 | m7",
	})
	view := mustState(t, f.accounts...)
	ids := idsOf(Sequential{}, &body)
	g, err := linkRecords(&body, ids)
	if err != nil {
		t.Fatal(err)
	}
	limits := f.chain.Limits.withDefaults()
	for r := range body.Records {
		if rp := replayRecord(view, f.chain, limits, &body.Records[r], g.resolved[r]); rp.err != nil {
			t.Fatalf("record %d alone: %v (the cycle must be what is wrong)", r, rp.err)
		}
	}
	_, err = Check(view, f.chain, &body, Env{Randomness: seededRandomness(9)})
	wantReason(t, err, ErrOrderCycle)
	var be *BlockError
	asBlockError(err, &be)
	if name := f.names[be.Message]; name != "m6" && name != "m1" && name != "m4" && name != "m2" {
		t.Fatalf("the error names %s, which is not on the cycle m6 -> m1 -> m4 -> m2 -> m6", name)
	}
}

// TestExecutePacksRelayProofs checks the RelayPacker contract: Execute
// checks the stand-alone proofs of its candidates, and the block carries,
// and its roots commit to, the proofs the packer returns; without a
// packer, or when it declines, the proofs stay as they were.
func TestExecutePacksRelayProofs(t *testing.T) {
	chainA, chainB := specFor(0, 1), specFor(1, 1)
	f := newFigure10(t, chainA, chainB)
	viewA := mustState(t, actor.Account{Address: f.a, Balance: 20})
	resA, err := Execute(viewA, chainA, externalInputs(f.m1), Env{Randomness: seededRandomness(4)})
	if err != nil {
		t.Fatal(err)
	}
	relayed := relayInputs(t, &resA, chainB)
	plain := acceptRelays{roots: []types.Hash{resA.Roots.OuterRelay}}
	inputs := []Input{relayed[0], {Message: f.m3}}
	newView := func() *MemState {
		return mustState(t, actor.Account{Address: f.b, Balance: 5}, actor.Account{Address: f.c, Balance: 10})
	}

	packer := packingRelays{acceptRelays: plain}
	res, err := Execute(newView(), chainB, inputs, Env{Relays: packer})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Receipts[0].Included || !bytes.Equal(res.Body.Inputs[0].Proof, append([]byte{packedMark}, relayed[0].Proof...)) {
		t.Fatalf("the block does not carry the packed proof: receipt %+v", res.Receipts[0])
	}
	if len(res.Body.Inputs[1].Proof) != 0 {
		t.Fatal("an external input got a proof")
	}
	if !bytes.Equal(inputs[0].Proof, relayed[0].Proof) {
		t.Fatal("Execute changed its candidates")
	}
	if _, err := Verify(newView(), chainB, &res.Body, res.Roots, Env{Relays: packer}); err != nil {
		t.Fatalf("packed block: %v", err)
	}
	_, err = Verify(newView(), chainB, &res.Body, res.Roots, Env{Relays: plain})
	wantReason(t, err, ErrBadRelayProof)

	unpacked, err := Execute(newView(), chainB, inputs, Env{Relays: packingRelays{acceptRelays: plain, refuse: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unpacked.Body.Inputs[0].Proof, relayed[0].Proof) {
		t.Fatal("a declined packing changed the proof")
	}
	if unpacked.Roots.Input == res.Roots.Input {
		t.Fatal("the input root does not commit to the proofs")
	}
	if _, err := Verify(newView(), chainB, &unpacked.Body, unpacked.Roots, Env{Relays: plain}); err != nil {
		t.Fatal(err)
	}
}
