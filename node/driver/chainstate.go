package driver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

// Keys of the node records (storage.Batch.PutRecord) the driver writes.
const (
	// consensusRecordPrefix | chain u32: the member's PersistentState.
	consensusRecordPrefix = "consensus/"
	// messageRecordPrefix | message ID: height u64 | input index u32 of
	// the block that confirmed the message.
	messageRecordPrefix = "msg/"
)

func consensusRecordKey(chain types.ChainID) []byte {
	return binary.BigEndian.AppendUint32([]byte(consensusRecordPrefix), uint32(chain))
}

func messageRecordKey(id types.Hash) []byte {
	return append([]byte(messageRecordPrefix), id[:]...)
}

// MessageLocation is where a confirmed message sits: the height of its block
// and its index among the block's inputs.
type MessageLocation struct {
	Height types.Height
	Index  uint32
}

func encodeMessageLocation(l MessageLocation) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 12), uint64(l.Height))
	return binary.BigEndian.AppendUint32(b, l.Index)
}

func decodeMessageLocation(b []byte) (MessageLocation, error) {
	if len(b) != 12 {
		return MessageLocation{}, fmt.Errorf("message record of %d bytes, want 12: %w", len(b), storage.ErrCorruption)
	}
	return MessageLocation{Height: types.Height(binary.BigEndian.Uint64(b)), Index: binary.BigEndian.Uint32(b[8:])}, nil
}

// chainState is the committed state of the chain the node runs: the head
// block and every account, in memory (exec needs every state leaf for the
// state root), backed by the store. The consensus loop is its only writer;
// the verifiers, the block builder, the mempool's nonce reads and the API
// read it under the read lock. It holds the write lock from the moment a
// commit changes memory until its batch is durable, so no reader sees state
// the disk does not have.
type chainState struct {
	db   *storage.DB
	spec exec.ChainSpec

	mu     sync.RWMutex
	mem    *exec.MemState
	head   storage.Head
	header types.Header
}

// openChainState loads the chain's state from db, first writing the genesis
// block into an empty store.
func openChainState(db *storage.DB, gen *genesis.Genesis) (*chainState, error) {
	spec := gen.Chain.Spec()
	chain := uint32(spec.ID)
	genesisHeader, err := gen.Block()
	if err != nil {
		return nil, err
	}
	if _, err := db.State().Head(chain); errors.Is(err, storage.ErrNotFound) {
		if err := writeGenesis(db, gen, genesisHeader); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("read head: %w", err)
	}
	stored0, err := readStoredBlock(db, spec.ID, 0)
	if err != nil {
		return nil, err
	}
	if stored0.Header.Hash() != genesisHeader.Hash() {
		return nil, fmt.Errorf("the store holds the chain of another genesis (block 0 %s, genesis file gives %s)",
			stored0.Header.Hash(), genesisHeader.Hash())
	}
	head, err := db.State().Head(chain)
	if err != nil {
		return nil, fmt.Errorf("read head: %w", err)
	}
	headBlock, err := readStoredBlock(db, spec.ID, types.Height(head.Height))
	if err != nil {
		return nil, err
	}
	var accounts []actor.Account
	err = db.State().Scan(chain, nil, func(key, value []byte) error {
		acct, err := actor.DecodeAccount(value)
		if err != nil {
			return fmt.Errorf("account %x: %w: %w", key, storage.ErrCorruption, err)
		}
		if len(key) != types.AddressSize || types.Address(key) != acct.Address {
			return fmt.Errorf("account stored under key %x holds address %v: %w", key, acct.Address, storage.ErrCorruption)
		}
		accounts = append(accounts, acct.Clone())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	mem, err := exec.NewMemState(accounts)
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	if root := mem.Root(); root != head.StateRoot {
		return nil, fmt.Errorf("load state: root of the stored accounts %s differs from the head's %s: %w", root, head.StateRoot, storage.ErrCorruption)
	}
	return &chainState{db: db, spec: spec, mem: mem, head: head, header: headBlock.Header}, nil
}

func writeGenesis(db *storage.DB, gen *genesis.Genesis, header types.Header) error {
	accounts := gen.GenesisAccounts()
	writes := make([]storage.Write, len(accounts))
	for i := range accounts {
		enc, err := accounts[i].MarshalBinary()
		if err != nil {
			return fmt.Errorf("genesis account %v: %w", accounts[i].Address, err)
		}
		writes[i] = storage.Write{Key: accounts[i].Address[:], Value: enc}
	}
	rec, err := (&StoredBlock{Header: header}).AppendBinary(nil)
	if err != nil {
		return err
	}
	if err := db.State().ApplyBlock(uint32(gen.Chain.ID), 0, writes, rec, header.Hash(), header.StateRoot); err != nil {
		return fmt.Errorf("write genesis block: %w", err)
	}
	return nil
}

func readStoredBlock(db *storage.DB, chain types.ChainID, height types.Height) (StoredBlock, error) {
	blk, err := db.Blocks().ByHeight(uint32(chain), uint64(height))
	if err != nil {
		return StoredBlock{}, fmt.Errorf("read block %d: %w", height, err)
	}
	sb, err := DecodeStoredBlock(blk.Bytes)
	if err != nil {
		return StoredBlock{}, fmt.Errorf("block %d: %w: %w", height, storage.ErrCorruption, err)
	}
	if sb.Header.Hash() != blk.Hash || sb.Header.Height != height {
		return StoredBlock{}, fmt.Errorf("block %d: record does not match its key: %w", height, storage.ErrCorruption)
	}
	return sb, nil
}

// Head returns the committed head and its header.
func (s *chainState) Head() (storage.Head, types.Header) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.head, s.header
}

// Account returns the committed state of an account.
func (s *chainState) Account(addr types.Address) (actor.Account, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mem.Account(addr)
}

// AccountAt returns the committed state of an account with the height and
// state root it was read at.
func (s *chainState) AccountAt(addr types.Address) (actor.Account, types.Height, types.Hash, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.mem.Account(addr)
	return a.Clone(), types.Height(s.head.Height), s.head.StateRoot, ok
}

// Nonce implements mempool.NonceSource: the committed nonce, 0 for an
// account that does not exist.
func (s *chainState) Nonce(addr types.Address) (uint64, error) {
	a, _ := s.Account(addr)
	return a.Nonce, nil
}

// withView runs fn with the committed state and head under the read lock.
func (s *chainState) withView(fn func(view exec.StateView, head storage.Head, header types.Header) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(s.mem, s.head, s.header)
}

// ProveAccount returns an account with its proof against the committed
// state root, and the head the proof is for.
func (s *chainState) ProveAccount(addr types.Address) (actor.Account, merkle.Proof, storage.Head, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	acct, ok := s.mem.Account(addr)
	if !ok {
		return actor.Account{}, merkle.Proof{}, s.head, false, nil
	}
	proof, err := exec.ProveAccount(s.mem.StateLeaves(), addr)
	if err != nil {
		return actor.Account{}, merkle.Proof{}, s.head, false, err
	}
	return acct.Clone(), proof, s.head, true, nil
}

// commitPlan is one decided height, ready to be staged.
type commitPlan struct {
	decision consensus.Decision
	header   types.Header
	// result is the execution of a non-EMPTY block; nil for EMPTY.
	result *exec.Result
	// inputs are the IDs of the block's input messages, in body order.
	inputs []types.Hash
	// external are the block's external input messages, for the mempool.
	external []types.Message
}

// errDecidedInvalid means the committee decided a block this node finds
// invalid: more than the tolerated share of members is faulty, or this
// node's state is wrong. Neither can be repaired by carrying on.
var errDecidedInvalid = errors.New("decided block does not verify")
