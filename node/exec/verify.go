package exec

import (
	"bytes"
	"errors"
	"slices"

	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// Verify checks a block proposed by a leader (a committee member's side,
// paper 5.3) against the roots its header carries, and returns the result
// to commit. It is Check followed by a comparison of every root.
func Verify(view StateView, chain ChainSpec, body *Body, header Roots, env Env) (Result, error) {
	res, err := Check(view, chain, body, env)
	if err != nil {
		return Result{}, err
	}
	if err := res.Roots.compare(header); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Check checks a block body against the state before it and returns its
// result: the roots, the write set and the gas. It checks, in this order,
// and returns the first failure as a *BlockError:
//
//  1. size and counts (ErrBodyTooLarge, ErrMalformedBody);
//  2. the stateless validity of each input (ErrInvalidInput);
//  3. the shape of the lists and records: relay lists in increasing ID
//     order, relays of the right kind, chain and recipient, records in
//     increasing address order and of this chain's accounts, no empty
//     record or entry, merged entries in increasing ID order and without
//     outputs (ErrMalformedBody, ErrBadMerge);
//  4. the records against the lists: no message ID twice; each processed
//     message is an input or inter-relay message of the account, processed
//     once, and merged only if a plain add relay; each output is a relay
//     from the account, produced once; every input and inter-relay message
//     is processed and every relay produced (ErrDuplicateMessage,
//     ErrUnknownMessage, ErrWrongRecipient, ErrBadMerge, ErrProcessedTwice,
//     ErrProducedTwice, ErrUnprocessedMessage, ErrUnproducedRelay);
//  5. the order graph G_sigma is acyclic (ErrOrderCycle, Theorem 1);
//  6. the external inputs' signatures, in batches (ErrBadSignature), then
//     the relay inputs' proofs (ErrBadRelayProof);
//  7. each account's record, re-executed alone from the account's state
//     before the block, in parallel through env.Runner: the same outputs,
//     in the same order (ErrRecordMismatch, ErrBadNonce, ErrUnknownAccount,
//     ErrBadMerge);
//  8. the gas of all records within the chain's block gas (ErrBlockGas).
//
// Steps 1 to 5 are cheap and come first, so a malformed block costs little
// to refuse. The signature batches of step 6 and the replays of step 7 are
// independent and run as one pass of tasks; their failures are still
// reported in step order. Within a step the failure reported is the first
// in list order, so the error does not depend on the Runner.
func Check(view StateView, chain ChainSpec, body *Body, env Env) (Result, error) {
	if err := chain.Validate(); err != nil {
		return Result{}, blockErr(ErrMalformedBody, types.Address{}, types.Hash{}, err, "chain spec")
	}
	runner := env.runner()
	limits := chain.Limits.withDefaults()
	if err := body.checkDomain(); err != nil {
		return Result{}, blockErr(ErrMalformedBody, types.Address{}, types.Hash{}, err, "")
	}
	if size := body.EncodedLen(); size > MaxBodySize {
		return Result{}, blockErr(ErrBodyTooLarge, types.Address{}, types.Hash{}, nil, "%d bytes, maximum %d", size, MaxBodySize)
	}
	ids := idsOf(runner, body)
	if err := checkStructure(runner, chain, body, ids); err != nil {
		return Result{}, err
	}
	g, err := linkRecords(body, ids)
	if err != nil {
		return Result{}, err
	}
	if err := g.checkAcyclic(body); err != nil {
		return Result{}, err
	}
	// Signature batches and record replays are independent: one pass of
	// tasks runs both, the longest records first so that a hot account's
	// record does not start last. Failures are still reported in the
	// order of the steps.
	var externals []int
	for i := range body.Inputs {
		if body.Inputs[i].Message.Kind == types.MessageExternal {
			externals = append(externals, i)
		}
	}
	sigs := newSigCheck(runner.Workers(), env.Randomness, len(externals), func(k int) *types.Message {
		return &body.Inputs[externals[k]].Message
	})
	order := make([]int, len(body.Records))
	for r := range order {
		order[r] = r
	}
	slices.SortStableFunc(order, func(x, y int) int { return len(body.Records[y].Entries) - len(body.Records[x].Entries) })
	replays := make([]replay, len(body.Records))
	runner.Run(sigs.tasks()+len(order), func(k int) {
		if k < sigs.tasks() {
			sigs.run(k)
			return
		}
		r := order[k-sigs.tasks()]
		replays[r] = replayRecord(view, chain, limits, &body.Records[r], g.resolved[r])
	})
	for k, i := range externals {
		if !sigs.valid[k] {
			return Result{}, blockErr(ErrBadSignature, body.Inputs[i].Message.From, ids.inputs[i], nil, "input %d", i)
		}
	}
	if err := verifyBlockRelays(env.Relays, body.Inputs, ids.inputs); err != nil {
		return Result{}, err
	}
	res := Result{Body: *body, WriteSet: make([]actor.Account, len(replays))}
	for r := range replays {
		if replays[r].err != nil {
			return Result{}, replays[r].err
		}
		res.WriteSet[r] = replays[r].account
		res.GasUsed += replays[r].gas
	}
	if res.GasUsed > limits.BlockGas {
		return Result{}, blockErr(ErrBlockGas, types.Address{}, types.Hash{}, nil, "%d gas, maximum %d", res.GasUsed, limits.BlockGas)
	}
	res.Roots = computeRoots(runner, view, body, ids, res.WriteSet)
	return res, nil
}

// checkStructure checks steps 2 and 3 of Check.
func checkStructure(runner Runner, chain ChainSpec, body *Body, ids bodyIDs) error {
	if err := checkInputs(runner, chain, body.Inputs, ids.inputs); err != nil {
		return err
	}
	relays := []struct {
		name string
		kind types.MessageKind
		msgs []types.Message
		ids  []types.Hash
		own  bool
	}{
		{"inter-relay", types.MessageInterRelay, body.InterRelay, ids.inter, true},
		{"outer-relay", types.MessageOuterRelay, body.OuterRelay, ids.outer, false},
	}
	// Per-message checks through the runner (ValidateBasic scans Method);
	// the first failure in list order is reported.
	nInter := len(body.InterRelay)
	relayErrs := make([]error, nInter+len(body.OuterRelay))
	forChunks(runner, len(relayErrs), 256, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			list := relays[0]
			k := i
			if i >= nInter {
				list, k = relays[1], i-nInter
			}
			relayErrs[i] = checkRelay(chain, &list.msgs[k], list.ids[k], list.kind, list.name, list.own)
		}
	})
	for l, list := range relays {
		if at := sortedByID(list.ids); at >= 0 {
			return blockErr(ErrMalformedBody, types.Address{}, list.ids[at], nil, "%s list not in increasing ID order at %d", list.name, at)
		}
		errs := relayErrs[:nInter]
		if l == 1 {
			errs = relayErrs[nInter:]
		}
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
	}
	for r := range body.Records {
		rec := &body.Records[r]
		if r > 0 && bytes.Compare(body.Records[r-1].Address[:], rec.Address[:]) >= 0 {
			return blockErr(ErrMalformedBody, rec.Address, types.Hash{}, nil, "records not in increasing address order at %d", r)
		}
		if !chain.Owns(rec.Address) {
			return blockErr(ErrMalformedBody, rec.Address, types.Hash{}, nil, "record of an account not on chain %d", chain.ID)
		}
		if len(rec.Entries) == 0 {
			return blockErr(ErrMalformedBody, rec.Address, types.Hash{}, nil, "empty record")
		}
		for k := range rec.Entries {
			e := &rec.Entries[k]
			if len(e.Processed) == 0 {
				return blockErr(ErrMalformedBody, rec.Address, types.Hash{}, nil, "entry %d processes nothing", k)
			}
			if len(e.Processed) > 1 {
				if at := sortedByID(e.Processed); at >= 0 {
					return blockErr(ErrBadMerge, rec.Address, e.Processed[at], nil, "entry %d: merged messages not in increasing ID order", k)
				}
				if len(e.Outputs) > 0 {
					return blockErr(ErrBadMerge, rec.Address, e.Processed[0], nil, "entry %d: merged entry produces messages", k)
				}
			}
		}
	}
	return nil
}

// checkRelay checks one message of a relay list of the block.
func checkRelay(chain ChainSpec, m *types.Message, id types.Hash, kind types.MessageKind, name string, own bool) error {
	switch {
	case m.Kind != kind:
		return blockErr(ErrMalformedBody, m.From, id, nil, "%v message in the %s list", m.Kind, name)
	case m.SourceChain != chain.ID:
		return blockErr(ErrMalformedBody, m.From, id, nil, "%s from chain %d, not %d", name, m.SourceChain, chain.ID)
	case chain.Owns(m.To) != own:
		return blockErr(ErrMalformedBody, m.From, id, nil, "%s to %v, which chain %d owns: %t", name, m.To, chain.ID, !own)
	}
	if err := m.ValidateBasic(); err != nil {
		return blockErr(ErrMalformedBody, m.From, id, err, "")
	}
	return nil
}

// Where a message of the body is.
type listKind uint8

const (
	inInputs listKind = iota
	inInter
	inOuter
)

type msgRef struct {
	list  listKind
	index int
}

// orderGraph is G_sigma: a node per record entry, numbered record by
// record; an edge from each entry to the next of its record, and from the
// entry that produces an inter-relay message to the entry that processes
// it.
type orderGraph struct {
	// first[r] is the node of record r's first entry; first[len] the count.
	first []int
	// producer and consumer of each inter-relay message, by index.
	producer, consumer []int
	// resolved[r][k] are the messages entry k of record r processes.
	resolved [][][]*types.Message
}

// linkRecords resolves every ID the records name (step 4 of Check) and
// builds the order graph.
func linkRecords(body *Body, ids bodyIDs) (*orderGraph, error) {
	index := make(map[types.Hash]msgRef, len(ids.inputs)+len(ids.inter)+len(ids.outer))
	for _, list := range []struct {
		kind listKind
		ids  []types.Hash
	}{{inInputs, ids.inputs}, {inInter, ids.inter}, {inOuter, ids.outer}} {
		for i, id := range list.ids {
			if _, dup := index[id]; dup {
				return nil, blockErr(ErrDuplicateMessage, types.Address{}, id, nil, "")
			}
			index[id] = msgRef{list: list.kind, index: i}
		}
	}
	message := func(ref msgRef) *types.Message {
		switch ref.list {
		case inInputs:
			return &body.Inputs[ref.index].Message
		case inInter:
			return &body.InterRelay[ref.index]
		}
		return &body.OuterRelay[ref.index]
	}

	g := &orderGraph{
		first:    make([]int, len(body.Records)+1),
		producer: filled(len(body.InterRelay), -1),
		consumer: filled(len(body.InterRelay), -1),
		resolved: make([][][]*types.Message, len(body.Records)),
	}
	inputConsumed := make([]bool, len(body.Inputs))
	outerProduced := make([]bool, len(body.OuterRelay))
	node := 0
	for r := range body.Records {
		rec := &body.Records[r]
		g.first[r] = node
		g.resolved[r] = make([][]*types.Message, len(rec.Entries))
		for k := range rec.Entries {
			e := &rec.Entries[k]
			msgs := make([]*types.Message, len(e.Processed))
			for p, id := range e.Processed {
				ref, ok := index[id]
				if !ok || ref.list == inOuter {
					return nil, blockErr(ErrUnknownMessage, rec.Address, id, nil, "entry %d processes a message that is neither an input nor an inter-relay message", k)
				}
				m := message(ref)
				if m.To != rec.Address {
					return nil, blockErr(ErrWrongRecipient, rec.Address, id, nil, "entry %d processes a message to %v", k, m.To)
				}
				if len(e.Processed) > 1 && (m.Kind == types.MessageExternal || !actor.IsPlainAdd(m)) {
					return nil, blockErr(ErrBadMerge, rec.Address, id, nil, "entry %d merges a %v message %q that is not a plain add relay", k, m.Kind, m.Method)
				}
				if ref.list == inInputs {
					if inputConsumed[ref.index] {
						return nil, blockErr(ErrProcessedTwice, rec.Address, id, nil, "entry %d", k)
					}
					inputConsumed[ref.index] = true
				} else {
					if g.consumer[ref.index] >= 0 {
						return nil, blockErr(ErrProcessedTwice, rec.Address, id, nil, "entry %d", k)
					}
					g.consumer[ref.index] = node
				}
				msgs[p] = m
			}
			g.resolved[r][k] = msgs
			for _, id := range e.Outputs {
				ref, ok := index[id]
				if !ok || ref.list == inInputs {
					return nil, blockErr(ErrUnknownMessage, rec.Address, id, nil, "entry %d produces a message that is not a relay of the block", k)
				}
				if m := message(ref); m.From != rec.Address {
					return nil, blockErr(ErrWrongRecipient, rec.Address, id, nil, "entry %d produces a message from %v", k, m.From)
				}
				if ref.list == inInter {
					if g.producer[ref.index] >= 0 {
						return nil, blockErr(ErrProducedTwice, rec.Address, id, nil, "entry %d", k)
					}
					g.producer[ref.index] = node
					continue
				}
				if outerProduced[ref.index] {
					return nil, blockErr(ErrProducedTwice, rec.Address, id, nil, "entry %d", k)
				}
				outerProduced[ref.index] = true
			}
			node++
		}
	}
	g.first[len(body.Records)] = node
	for i, done := range inputConsumed {
		if !done {
			return nil, blockErr(ErrUnprocessedMessage, body.Inputs[i].Message.To, ids.inputs[i], nil, "input %d", i)
		}
	}
	for i := range body.InterRelay {
		if g.consumer[i] < 0 {
			return nil, blockErr(ErrUnprocessedMessage, body.InterRelay[i].To, ids.inter[i], nil, "inter-relay message")
		}
		if g.producer[i] < 0 {
			return nil, blockErr(ErrUnproducedRelay, body.InterRelay[i].From, ids.inter[i], nil, "inter-relay message")
		}
	}
	for i, done := range outerProduced {
		if !done {
			return nil, blockErr(ErrUnproducedRelay, body.OuterRelay[i].From, ids.outer[i], nil, "outer-relay message")
		}
	}
	return g, nil
}

func filled(n, v int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// checkAcyclic runs Kahn's algorithm on the order graph (paper Theorem 1:
// the order sigma is valid if and only if G_sigma has no cycle). On a cycle
// it reports an entry on it.
func (g *orderGraph) checkAcyclic(body *Body) error {
	n := g.first[len(g.first)-1]
	recordOf := make([]int, n)
	var edges [][2]int
	for r := 0; r+1 < len(g.first); r++ {
		for v := g.first[r]; v < g.first[r+1]; v++ {
			recordOf[v] = r
			if v+1 < g.first[r+1] {
				edges = append(edges, [2]int{v, v + 1})
			}
		}
	}
	for i := range g.producer {
		edges = append(edges, [2]int{g.producer[i], g.consumer[i]})
	}
	succ := newAdjacency(n, edges, false)
	indegree := make([]int, n)
	for _, e := range edges {
		indegree[e[1]]++
	}
	ready := make([]int, 0, n)
	for v := range n {
		if indegree[v] == 0 {
			ready = append(ready, v)
		}
	}
	for head := 0; head < len(ready); head++ {
		for _, s := range succ.of(ready[head]) {
			indegree[s]--
			if indegree[s] == 0 {
				ready = append(ready, s)
			}
		}
	}
	if len(ready) == n {
		return nil
	}
	// Every node left has a predecessor left. Walking from the first node
	// left to a predecessor left, again and again, must come back to a node
	// already seen, which is on a cycle.
	pred := newAdjacency(n, edges, true)
	v := 0
	for indegree[v] == 0 {
		v++
	}
	seen := make([]bool, n)
	for !seen[v] {
		seen[v] = true
		for _, p := range pred.of(v) {
			if indegree[p] > 0 {
				v = p
				break
			}
		}
	}
	r := recordOf[v]
	rec := &body.Records[r]
	k := v - g.first[r]
	return blockErr(ErrOrderCycle, rec.Address, rec.Entries[k].Processed[0], nil,
		"entry %d is on a cycle of G_sigma (%d of %d entries cannot be ordered)", k, n-len(ready), n)
}

// adjacency lists the neighbours of each node in compressed rows, in the
// order of the edges.
type adjacency struct {
	start, to []int
}

func newAdjacency(n int, edges [][2]int, reverse bool) adjacency {
	from, to := 0, 1
	if reverse {
		from, to = 1, 0
	}
	a := adjacency{start: make([]int, n+1), to: make([]int, len(edges))}
	for _, e := range edges {
		a.start[e[from]+1]++
	}
	for v := range n {
		a.start[v+1] += a.start[v]
	}
	fill := append([]int(nil), a.start[:n]...)
	for _, e := range edges {
		a.to[fill[e[from]]] = e[to]
		fill[e[from]]++
	}
	return a
}

func (a adjacency) of(v int) []int { return a.to[a.start[v]:a.start[v+1]] }

// replay is the outcome of re-executing one record.
type replay struct {
	account actor.Account
	gas     actor.Gas
	err     error
}

// replayRecord re-executes one account's record from the account's state
// before the block. It needs nothing but that state and the messages the
// record processes: actors share no state (paper 5.1), which is what lets
// records be checked independently and in parallel.
func replayRecord(view StateView, chain ChainSpec, limits Limits, rec *Record, resolved [][]*types.Message) replay {
	acct, exists := view.Account(rec.Address)
	if !exists {
		acct = actor.Account{Address: rec.Address}
	}
	var gas actor.Gas
	for k := range rec.Entries {
		e := &rec.Entries[k]
		msgs := resolved[k]
		if len(msgs) > 1 {
			out, err := actor.ProcessAdds(acct, msgs)
			if err != nil {
				return replay{err: blockErr(ErrBadMerge, rec.Address, e.Processed[0], err, "entry %d", k)}
			}
			acct, exists, gas = out.Account, true, gas+out.Gas
			continue
		}
		msg, id := msgs[0], e.Processed[0]
		if msg.Kind == types.MessageExternal && !exists {
			return replay{err: blockErr(ErrUnknownAccount, rec.Address, id, nil, "entry %d", k)}
		}
		out, err := actor.Process(acct, msg, limits.actorLimits())
		if err != nil {
			reason := ErrRecordMismatch
			if errors.Is(err, actor.ErrBadNonce) {
				reason = ErrBadNonce
			}
			return replay{err: blockErr(reason, rec.Address, id, err, "entry %d", k)}
		}
		if len(out.Sends) != len(e.Outputs) {
			return replay{err: blockErr(ErrRecordMismatch, rec.Address, id, nil,
				"entry %d: execution produces %d messages, the record %d", k, len(out.Sends), len(e.Outputs))}
		}
		for i := range out.Sends {
			m := relayMessage(chain, rec.Address, id, i, &out.Sends[i])
			if got := m.ID(); got != e.Outputs[i] {
				return replay{err: blockErr(ErrRecordMismatch, rec.Address, id, nil,
					"entry %d: output %d is %v, the record says %v", k, i, got, e.Outputs[i])}
			}
		}
		acct, exists, gas = out.Account, true, gas+out.Gas
	}
	return replay{account: acct, gas: gas}
}
