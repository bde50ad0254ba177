package actor

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/thinkey/thinkey/crypto/merkle"
	"github.com/thinkey/thinkey/node/codec"
	"github.com/thinkey/thinkey/node/types"
)

// AccountTag is the first byte of an account encoding. node/types owns the
// tags 0x01 to 0x04; the execution layer uses 0x10 and up (see node/exec),
// so no two encodings of the node share a first byte.
const AccountTag byte = 0x10

// Limits of an account's variable fields.
const (
	// MaxCodeLen is the largest program, in bytes.
	MaxCodeLen = 16 << 10
	// MaxStorageEntries is the most keys an account's storage holds.
	MaxStorageEntries = 256
	// MaxStorageKeyLen is the longest storage key, in bytes.
	MaxStorageKeyLen = 64
	// MaxStorageValueLen is the longest storage value, in bytes.
	MaxStorageValueLen = 1024
)

// accountFixedSize is the size of an account encoding with no code and no
// storage: tag, address, balance, nonce, code length, entry count.
const accountFixedSize = 1 + types.AddressSize + 8 + 8 + 4 + 4

// storageEntryMaxSize is the largest encoded storage entry.
const storageEntryMaxSize = 4 + MaxStorageKeyLen + 4 + MaxStorageValueLen

// AccountMaxSize is the length of the largest account encoding.
const AccountMaxSize = accountFixedSize + MaxCodeLen + MaxStorageEntries*storageEntryMaxSize

// Account is the state of one account (paper 5.2).
//
// Values of this type are treated as immutable once built: Process returns
// a new Account and never writes to the Code or Storage of the one it was
// given, so a state view can hand out accounts that share memory with it.
type Account struct {
	Address types.Address
	// Balance is the account's funds, in the chain's smallest unit.
	Balance uint64
	// Nonce is the number of external messages the account has sent: the
	// Nonce the next one must carry.
	Nonce uint64
	// Code is the account's program, Starlark source; empty means the
	// account has only the system methods tran and add.
	Code []byte
	// Storage is the account's private key/value state.
	Storage Storage
}

// StorageEntry is one key and its value.
type StorageEntry struct {
	Key, Value []byte
}

// Storage is an account's key/value state: entries in strictly increasing
// byte order of key, no empty key, no empty value (storing an empty value
// deletes the key), at most MaxStorageEntries. The zero Storage is empty.
// Every constructor keeps these rules, so a Storage always encodes.
type Storage struct {
	entries []StorageEntry
}

// NewStorage returns the storage holding entries, which it copies and sorts.
// It fails on a duplicate key, an empty key or value, or a limit exceeded.
func NewStorage(entries []StorageEntry) (Storage, error) {
	if len(entries) > MaxStorageEntries {
		return Storage{}, fmt.Errorf("storage: %w: %d entries, maximum %d", ErrStorageLimit, len(entries), MaxStorageEntries)
	}
	out := make([]StorageEntry, len(entries))
	for i, e := range entries {
		if err := checkStorageEntry(e.Key, e.Value); err != nil {
			return Storage{}, err
		}
		out[i] = StorageEntry{Key: bytes.Clone(e.Key), Value: bytes.Clone(e.Value)}
	}
	slices.SortFunc(out, func(a, b StorageEntry) int { return bytes.Compare(a.Key, b.Key) })
	for i := 1; i < len(out); i++ {
		if bytes.Equal(out[i-1].Key, out[i].Key) {
			return Storage{}, fmt.Errorf("storage: duplicate key %x", out[i].Key)
		}
	}
	return Storage{entries: out}, nil
}

func checkStorageEntry(key, value []byte) error {
	switch {
	case len(key) == 0:
		return fmt.Errorf("storage: %w: empty key", ErrStorageLimit)
	case len(key) > MaxStorageKeyLen:
		return fmt.Errorf("storage: %w: key of %d bytes, maximum %d", ErrStorageLimit, len(key), MaxStorageKeyLen)
	case len(value) == 0:
		return fmt.Errorf("storage: %w: empty value for key %x", ErrStorageLimit, key)
	case len(value) > MaxStorageValueLen:
		return fmt.Errorf("storage: %w: value of %d bytes, maximum %d", ErrStorageLimit, len(value), MaxStorageValueLen)
	}
	return nil
}

// Len returns the number of keys.
func (s Storage) Len() int { return len(s.entries) }

// Entries returns the entries in key order. The slice and the bytes it
// holds belong to s and must not be modified.
func (s Storage) Entries() []StorageEntry { return s.entries }

// Get returns the value stored under key.
func (s Storage) Get(key []byte) ([]byte, bool) {
	i, found := s.search(key)
	if !found {
		return nil, false
	}
	return s.entries[i].Value, true
}

func (s Storage) search(key []byte) (int, bool) {
	return slices.BinarySearchFunc(s.entries, key, func(e StorageEntry, k []byte) int { return bytes.Compare(e.Key, k) })
}

// With returns a copy of s with key set to value, or deleted when value is
// empty; s itself is not changed. It fails on an empty or oversized key, an
// oversized value, or a new key beyond MaxStorageEntries.
func (s Storage) With(key, value []byte) (Storage, error) {
	i, found := s.search(key)
	if len(value) == 0 {
		if !found {
			return s, nil
		}
		out := make([]StorageEntry, 0, len(s.entries)-1)
		out = append(out, s.entries[:i]...)
		return Storage{entries: append(out, s.entries[i+1:]...)}, nil
	}
	if err := checkStorageEntry(key, value); err != nil {
		return s, err
	}
	entry := StorageEntry{Key: bytes.Clone(key), Value: bytes.Clone(value)}
	if found {
		out := slices.Clone(s.entries)
		out[i] = entry
		return Storage{entries: out}, nil
	}
	if len(s.entries) >= MaxStorageEntries {
		return s, fmt.Errorf("storage: %w: already %d entries", ErrStorageLimit, len(s.entries))
	}
	out := make([]StorageEntry, 0, len(s.entries)+1)
	out = append(out, s.entries[:i]...)
	out = append(out, entry)
	return Storage{entries: append(out, s.entries[i:]...)}, nil
}

// Equal reports whether s and t hold the same entries.
func (s Storage) Equal(t Storage) bool {
	return slices.EqualFunc(s.entries, t.entries, func(a, b StorageEntry) bool {
		return bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value)
	})
}

// Equal reports whether a and b are the same state.
func (a *Account) Equal(b *Account) bool {
	return a.Address == b.Address && a.Balance == b.Balance && a.Nonce == b.Nonce &&
		bytes.Equal(a.Code, b.Code) && a.Storage.Equal(b.Storage)
}

// Clone returns a copy of a that shares no memory with it.
func (a *Account) Clone() Account {
	c := *a
	c.Code = bytes.Clone(a.Code)
	if a.Storage.entries != nil {
		entries := make([]StorageEntry, len(a.Storage.entries))
		for i, e := range a.Storage.entries {
			entries[i] = StorageEntry{Key: bytes.Clone(e.Key), Value: bytes.Clone(e.Value)}
		}
		c.Storage = Storage{entries: entries}
	}
	return c
}

// EncodedLen returns the length of a's encoding.
func (a *Account) EncodedLen() int {
	n := accountFixedSize + len(a.Code)
	for _, e := range a.Storage.entries {
		n += 8 + len(e.Key) + len(e.Value)
	}
	return n
}

// AppendBinary appends the canonical encoding of a to dst. It fails, leaving
// dst as it was, when Code is longer than MaxCodeLen.
func (a *Account) AppendBinary(dst []byte) ([]byte, error) {
	if len(a.Code) > MaxCodeLen {
		return dst, fmt.Errorf("encode account: field Code: %w: length %d, maximum %d", codec.ErrTooLarge, len(a.Code), MaxCodeLen)
	}
	return a.appendTo(dst), nil
}

// MarshalBinary returns the canonical encoding of a.
func (a *Account) MarshalBinary() ([]byte, error) {
	return a.AppendBinary(make([]byte, 0, a.EncodedLen()))
}

func (a *Account) appendTo(dst []byte) []byte {
	e := codec.NewEncoder(dst, a.EncodedLen())
	e.AppendUint8(AccountTag)
	e.AppendFixed(a.Address[:])
	e.AppendUint64(a.Balance)
	e.AppendUint64(a.Nonce)
	e.AppendBytes(a.Code)
	e.AppendUint32(uint32(len(a.Storage.entries)))
	for _, entry := range a.Storage.entries {
		e.AppendBytes(entry.Key)
		e.AppendBytes(entry.Value)
	}
	return e.Bytes()
}

// DecodeAccount decodes a canonical account encoding. Code and the storage
// keys and values of the result alias b; Clone copies them.
func DecodeAccount(b []byte) (Account, error) {
	var a Account
	err := a.UnmarshalBinary(b)
	return a, err
}

// UnmarshalBinary decodes a canonical account encoding into a, aliasing b.
// On failure a is left in an unspecified state.
func (a *Account) UnmarshalBinary(b []byte) error {
	d := codec.NewDecoder("account", b, AccountMaxSize)
	if tag := d.Uint8("Tag"); d.Err() == nil && tag != AccountTag {
		d.Fail("Tag", fmt.Errorf("%w: 0x%02x, want 0x%02x", codec.ErrWrongType, tag, AccountTag))
	}
	d.Fixed("Address", a.Address[:])
	a.Balance = d.Uint64("Balance")
	a.Nonce = d.Uint64("Nonce")
	a.Code = d.Bytes("Code", MaxCodeLen)
	n := d.Uint32("StorageCount")
	if d.Err() == nil && n > MaxStorageEntries {
		d.Fail("StorageCount", fmt.Errorf("%w: %d entries, maximum %d", codec.ErrTooLarge, n, MaxStorageEntries))
	}
	a.Storage = Storage{}
	if d.Err() == nil && n > 0 {
		entries := make([]StorageEntry, 0, min(int(n), d.Remaining()/8))
		for i := uint32(0); i < n && d.Err() == nil; i++ {
			key := d.Bytes("StorageKey", MaxStorageKeyLen)
			value := d.Bytes("StorageValue", MaxStorageValueLen)
			if d.Err() != nil {
				break
			}
			switch {
			case len(key) == 0:
				d.Fail("StorageKey", fmt.Errorf("%w: empty key", codec.ErrNonCanonical))
			case len(value) == 0:
				d.Fail("StorageValue", fmt.Errorf("%w: empty value (an empty value is no entry)", codec.ErrNonCanonical))
			case len(entries) > 0 && bytes.Compare(entries[len(entries)-1].Key, key) >= 0:
				d.Fail("StorageKey", fmt.Errorf("%w: keys not in strictly increasing order", codec.ErrNonCanonical))
			}
			entries = append(entries, StorageEntry{Key: key, Value: value})
		}
		a.Storage = Storage{entries: entries}
	}
	return d.Finish()
}

// LeafHash returns the account's leaf in the state tree: the Merkle leaf
// hash of its encoding (see node/exec for the tree). The encoding starts
// with the address, so the leaf binds the state to the account.
func (a *Account) LeafHash() types.Hash {
	return merkle.LeafHash(a.appendTo(make([]byte, 0, a.EncodedLen())))
}
