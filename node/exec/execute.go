package exec

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/types"
)

// Receipt says what became of one input offered to Execute.
type Receipt struct {
	// ID is the input message's ID.
	ID types.Hash
	// Included is false when the input was left out of the block; Reason
	// (a *BlockError) then says why.
	Included bool
	// Status is the input's own processing status when included.
	Status actor.Status
	// Reason is why the input was left out, or why its processing had no
	// effect or failed; nil when applied.
	Reason error
}

// Result is what executing or checking a block gives.
type Result struct {
	// Body is the block body (for Check and Verify, the body checked).
	Body Body
	// Roots are the body's and the new state's roots, for the header.
	Roots Roots
	// WriteSet is the state after the block of every account with a
	// record, in increasing address order: what the shell commits.
	WriteSet []actor.Account
	// GasUsed is the gas of all records.
	GasUsed actor.Gas
	// Receipts has one receipt per input offered to Execute, in order; nil
	// from Check and Verify.
	Receipts []Receipt
}

// Execute builds a block (the leader's side, paper 5.3) from the candidate
// inputs, processed in the order given, against the state view.
//
// An input is left out of the block, with a receipt saying why, when it
// is not valid (ErrInvalidInput, ErrBadSignature, ErrBadRelayProof,
// ErrDuplicateMessage, ErrUnknownAccount, ErrBadNonce) or does not fit
// (ErrBlockFull, ErrInputGas). Every other input is included and consumed,
// whether its method applied, had no effect or failed (see actor.Process).
//
// Each included input is processed, then every inter-relay message its
// processing caused, first in first out, before the next input: so the
// gas of an input's whole cascade is known before the next one starts, and
// an input that does not fit is undone alone. Merging then folds runs of
// consecutive plain adds of one account into one entry.
//
// The error is non-nil only for an invalid chain spec, or, under the
// invariants build tag, a block that fails CheckExecution.
func Execute(view StateView, chain ChainSpec, inputs []Input, env Env) (Result, error) {
	if err := chain.Validate(); err != nil {
		return Result{}, fmt.Errorf("execute: %w", err)
	}
	runner := env.runner()
	ids := messageIDs(runner, len(inputs), func(i int) *types.Message { return &inputs[i].Message })
	rejected := inputErrors(runner, chain, inputs, ids)
	seen := make(map[types.Hash]bool, len(inputs))
	for i := range inputs {
		if rejected[i] != nil {
			continue
		}
		if seen[ids[i]] {
			rejected[i] = blockErr(ErrDuplicateMessage, types.Address{}, ids[i], nil, "input %d", i)
			continue
		}
		seen[ids[i]] = true
	}
	var externals []int
	for i := range inputs {
		if rejected[i] == nil && inputs[i].Message.Kind == types.MessageExternal {
			externals = append(externals, i)
		}
	}
	valid := verifySignatures(runner, env.Randomness, len(externals), func(k int) *types.Message { return &inputs[externals[k]].Message })
	for k, i := range externals {
		if !valid[k] {
			rejected[i] = blockErr(ErrBadSignature, inputs[i].Message.From, ids[i], nil, "")
		}
	}
	for i := range inputs {
		if rejected[i] == nil && inputs[i].Message.Kind != types.MessageExternal {
			rejected[i] = verifyRelay(env.Relays, &inputs[i], ids[i])
		}
	}

	b := newBuilder(view, chain)
	b.packer, _ = env.Relays.(RelayPacker)
	receipts := make([]Receipt, len(inputs))
	for i := range inputs {
		receipts[i].ID = ids[i]
		if rejected[i] != nil {
			receipts[i].Reason = rejected[i]
			continue
		}
		out, err := b.include(&inputs[i], ids[i])
		if err != nil {
			receipts[i].Reason = err
			continue
		}
		receipts[i].Included = true
		receipts[i].Status = out.Status
		receipts[i].Reason = out.Reason
	}
	res := b.finish(runner)
	res.Receipts = receipts
	if invariantsEnabled {
		if err := CheckExecution(view, chain, &res, env); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// inputErrors applies checkInput to every input through the runner (the
// small-order test of a sender key decompresses a curve point, some 3 µs a
// key) and returns each input's error.
func inputErrors(runner Runner, chain ChainSpec, inputs []Input, ids []types.Hash) []error {
	errs := make([]error, len(inputs))
	forChunks(runner, len(inputs), 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			errs[i] = checkInput(chain, &inputs[i].Message, ids[i])
		}
	})
	return errs
}

// checkInputs returns the error of the first input that breaks a stateless
// rule.
func checkInputs(runner Runner, chain ChainSpec, inputs []Input, ids []types.Hash) error {
	for _, err := range inputErrors(runner, chain, inputs, ids) {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkInput applies the stateless rules of an input.
func checkInput(chain ChainSpec, m *types.Message, id types.Hash) error {
	switch m.Kind {
	case types.MessageExternal:
		if err := actor.CheckExternal(m); err != nil {
			return blockErr(ErrInvalidInput, m.From, id, err, "")
		}
	case types.MessageOuterRelay:
		if err := m.ValidateBasic(); err != nil {
			return blockErr(ErrInvalidInput, m.To, id, err, "")
		}
		if m.SourceChain == chain.ID {
			return blockErr(ErrInvalidInput, m.To, id, nil, "relay input from this chain %d", chain.ID)
		}
	default:
		return blockErr(ErrInvalidInput, m.To, id, nil, "%v message as input", m.Kind)
	}
	if !chain.Owns(m.To) {
		return blockErr(ErrInvalidInput, m.To, id, nil, "recipient not on chain %d", chain.ID)
	}
	return nil
}

// verifyBlockRelays checks the relay inputs of a block body together.
func verifyBlockRelays(relays RelayVerifier, inputs []Input, ids []types.Hash) error {
	if relays == nil {
		for i := range inputs {
			if inputs[i].Message.Kind != types.MessageExternal {
				return blockErr(ErrBadRelayProof, inputs[i].Message.To, ids[i], nil, "no relay verifier")
			}
		}
		return nil
	}
	at, err := relays.VerifyRelays(inputs)
	if err == nil {
		return nil
	}
	if at < 0 || at >= len(inputs) {
		return blockErr(ErrBadRelayProof, types.Address{}, types.Hash{}, err, "")
	}
	return blockErr(ErrBadRelayProof, inputs[at].Message.To, ids[at], err, "input %d", at)
}

func verifyRelay(relays RelayVerifier, in *Input, id types.Hash) error {
	if relays == nil {
		return blockErr(ErrBadRelayProof, in.Message.To, id, nil, "no relay verifier")
	}
	if err := relays.VerifyRelay(&in.Message, in.Proof); err != nil {
		return blockErr(ErrBadRelayProof, in.Message.To, id, err, "")
	}
	return nil
}

// relayMessage turns a produced message into the relay message it is: an
// inter-relay message if the recipient is on this chain, else an outer
// relay; caused by the processed message, numbered by its index.
func relayMessage(chain ChainSpec, from types.Address, cause types.Hash, index int, s *actor.Send) types.Message {
	kind := types.MessageOuterRelay
	if chain.Owns(s.To) {
		kind = types.MessageInterRelay
	}
	return types.Message{
		Kind: kind, From: from, To: s.To, SourceChain: chain.ID, Cause: cause,
		Nonce: uint64(index), Value: s.Value, Method: s.Method, Args: s.Args,
	}
}

// builder is the leader's working state while it executes a block.
type builder struct {
	view   StateView
	chain  ChainSpec
	limits Limits

	accounts map[types.Address]*working
	inputs   []Input
	inputIDs []types.Hash
	inter    []idMessage
	outer    []idMessage
	gas      actor.Gas
	// size is the body's encoded size so far, merging aside (merging only
	// shrinks it).
	size int

	// journal holds the state to restore if the current input is undone;
	// cascade numbers the current input so an account is saved once.
	journal []saved
	cascade int

	// packer, when the relay verifier is one, shortens the proofs of the
	// included relay inputs before the roots are computed.
	packer RelayPacker
}

type idMessage struct {
	id  types.Hash
	msg types.Message
}

// working is one account during the block.
type working struct {
	account actor.Account
	// exists says the account is in the view or was created in this
	// block; an external message needs an existing account.
	exists  bool
	entries []builtEntry
	// savedIn is the cascade that last saved this account to the journal.
	savedIn int
}

type builtEntry struct {
	processed types.Hash
	outputs   []types.Hash
	// plainAdd marks an applied plain add relay, which merging may fold.
	plainAdd bool
}

// saved is an account's state before the current input touched it.
type saved struct {
	addr    types.Address
	w       *working // nil: the account was not loaded before
	account actor.Account
	exists  bool
	entries int
}

func newBuilder(view StateView, chain ChainSpec) *builder {
	return &builder{
		view: view, chain: chain, limits: chain.Limits.withDefaults(),
		accounts: make(map[types.Address]*working),
		size:     bodyFixedSize,
	}
}

// load returns the working account at addr, saving its state to the
// journal the first time the current input touches it.
func (b *builder) load(addr types.Address) *working {
	w, ok := b.accounts[addr]
	if !ok {
		b.journal = append(b.journal, saved{addr: addr})
		acct, exists := b.view.Account(addr)
		if !exists {
			acct = actor.Account{Address: addr}
		}
		w = &working{account: acct, exists: exists, savedIn: b.cascade}
		b.accounts[addr] = w
		return w
	}
	if w.savedIn != b.cascade {
		b.journal = append(b.journal, saved{addr: addr, w: w, account: w.account, exists: w.exists, entries: len(w.entries)})
		w.savedIn = b.cascade
	}
	return w
}

// include processes one input and its cascade. On error everything the
// input did is undone and the input is left out.
func (b *builder) include(in *Input, id types.Hash) (actor.Outcome, error) {
	b.cascade++
	b.journal = b.journal[:0]
	mark := struct {
		inter, outer, size int
		gas                actor.Gas
	}{len(b.inter), len(b.outer), b.size, b.gas}

	first, err := b.cascadeOf(in, id)
	if err != nil {
		for k := len(b.journal) - 1; k >= 0; k-- {
			s := b.journal[k]
			if s.w == nil {
				delete(b.accounts, s.addr)
				continue
			}
			s.w.account, s.w.exists, s.w.entries = s.account, s.exists, s.w.entries[:s.entries]
		}
		clear(b.inter[mark.inter:])
		clear(b.outer[mark.outer:])
		b.inter, b.outer, b.size, b.gas = b.inter[:mark.inter], b.outer[:mark.outer], mark.size, mark.gas
		return actor.Outcome{}, err
	}
	b.inputs = append(b.inputs, *in)
	b.inputIDs = append(b.inputIDs, id)
	return first, nil
}

type queued struct {
	msg types.Message
	id  types.Hash
}

// cascadeOf processes the input, then the inter-relay messages it causes,
// first in first out. It returns the input's own outcome.
func (b *builder) cascadeOf(in *Input, id types.Hash) (actor.Outcome, error) {
	var first actor.Outcome
	var used actor.Gas
	b.size += 8 + in.Message.EncodedLen() + len(in.Proof)
	if len(b.inputs) >= MaxBlockMessages {
		return first, blockErr(ErrBlockFull, in.Message.To, id, nil, "%d inputs", len(b.inputs))
	}
	queue := []queued{{msg: in.Message, id: id}}
	for head := 0; head < len(queue); head++ {
		q := queue[head]
		w := b.load(q.msg.To)
		if q.msg.Kind == types.MessageExternal && !w.exists {
			return first, blockErr(ErrUnknownAccount, q.msg.From, q.id, nil, "")
		}
		out, err := actor.Process(w.account, &q.msg, b.limits.actorLimits())
		if err != nil {
			reason := ErrInvalidInput
			if q.msg.Kind == types.MessageExternal && errors.Is(err, actor.ErrBadNonce) {
				reason = ErrBadNonce
			}
			return first, blockErr(reason, q.msg.To, q.id, err, "")
		}
		if head == 0 {
			first = out
		}
		used += out.Gas
		if used > b.limits.InputGas {
			return first, blockErr(ErrInputGas, in.Message.To, id, nil, "more than %d gas", b.limits.InputGas)
		}
		if b.gas+used > b.limits.BlockGas {
			return first, blockErr(ErrBlockFull, in.Message.To, id, nil, "gas %d of %d used", b.gas, b.limits.BlockGas)
		}
		if len(w.entries) == 0 {
			b.size += 4 + recordFixedSize
		}
		if len(w.entries) >= MaxBlockMessages {
			return first, blockErr(ErrBlockFull, w.account.Address, id, nil, "record of %d entries", len(w.entries))
		}
		entry := builtEntry{
			processed: q.id,
			plainAdd:  q.msg.Kind != types.MessageExternal && actor.IsPlainAdd(&q.msg) && out.Status == actor.StatusApplied && len(out.Sends) == 0,
		}
		for k := range out.Sends {
			m := relayMessage(b.chain, w.account.Address, q.id, k, &out.Sends[k])
			mid := m.ID()
			entry.outputs = append(entry.outputs, mid)
			b.size += 4 + m.EncodedLen()
			if m.Kind == types.MessageInterRelay {
				b.inter = append(b.inter, idMessage{id: mid, msg: m})
				queue = append(queue, queued{msg: m, id: mid})
			} else {
				b.outer = append(b.outer, idMessage{id: mid, msg: m})
			}
		}
		if len(b.inter) > MaxBlockMessages || len(b.outer) > MaxBlockMessages {
			return first, blockErr(ErrBlockFull, in.Message.To, id, nil, "relay lists full")
		}
		b.size += 8 + hash.Size*(1+len(entry.outputs))
		if b.size > MaxBodySize {
			return first, blockErr(ErrBlockFull, in.Message.To, id, nil, "body of %d bytes", b.size)
		}
		w.account = out.Account
		w.exists = true
		w.entries = append(w.entries, entry)
	}
	b.gas += used
	return first, nil
}

// finish merges adds, puts the lists in canonical order and computes the
// roots.
func (b *builder) finish(runner Runner) Result {
	addrs := make([]types.Address, 0, len(b.accounts))
	for addr, w := range b.accounts {
		if len(w.entries) > 0 {
			addrs = append(addrs, addr)
		}
	}
	// Map order decides nothing: the addresses are sorted here.
	slices.SortFunc(addrs, func(x, y types.Address) int { return bytes.Compare(x[:], y[:]) })

	res := Result{GasUsed: b.gas}
	body := &res.Body
	body.Inputs = b.inputs
	if b.packer != nil {
		if packed, ok := b.packer.PackRelays(b.inputs); ok && len(packed) == len(b.inputs) {
			body.Inputs = packed
		}
	}
	body.Records = make([]Record, len(addrs))
	res.WriteSet = make([]actor.Account, len(addrs))
	for i, addr := range addrs {
		w := b.accounts[addr]
		body.Records[i] = Record{Address: addr, Entries: mergeEntries(w.entries)}
		res.WriteSet[i] = w.account
	}
	sortByID := func(x, y idMessage) int { return compareHashes(x.id, y.id) }
	slices.SortFunc(b.inter, sortByID)
	slices.SortFunc(b.outer, sortByID)
	ids := bodyIDs{inputs: b.inputIDs}
	body.InterRelay, ids.inter = split(b.inter)
	body.OuterRelay, ids.outer = split(b.outer)
	res.Roots = computeRoots(runner, b.view, body, ids, res.WriteSet)
	return res
}

func split(list []idMessage) ([]types.Message, []types.Hash) {
	msgs := make([]types.Message, len(list))
	ids := make([]types.Hash, len(list))
	for i := range list {
		msgs[i], ids[i] = list[i].msg, list[i].id
	}
	return msgs, ids
}

// mergeEntries folds every run of consecutive plain-add entries into one
// entry (paper 5.6), at most MaxMergedAdds messages each, their IDs in
// increasing order. The result is unchanged: plain adds commute with each
// other, produce nothing, and within a run no other message of the account
// is processed between them; each of them applied, so their sum did not
// overflow.
func mergeEntries(entries []builtEntry) []Entry {
	out := make([]Entry, 0, len(entries))
	for i := 0; i < len(entries); {
		j := i + 1
		if entries[i].plainAdd {
			for j < len(entries) && j-i < MaxMergedAdds && entries[j].plainAdd {
				j++
			}
		}
		e := Entry{Processed: make([]types.Hash, 0, j-i), Outputs: entries[i].outputs}
		for k := i; k < j; k++ {
			e.Processed = append(e.Processed, entries[k].processed)
		}
		slices.SortFunc(e.Processed, compareHashes)
		out = append(out, e)
		i = j
	}
	return out
}
