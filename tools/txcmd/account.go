package txcmd

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/types"
)

// AccountKeyType is the "type" of an account key file.
const AccountKeyType = "thinkey-account-key/v1"

// ErrMalformedAccount: an account key file or accounts file is not one of
// this version, or its address does not match its seed.
var ErrMalformedAccount = errors.New("malformed account key")

// Account is an account's key and address.
type Account struct {
	Key     ed25519.PrivateKey
	Address types.Address
}

// NewAccount returns the account of a key.
func NewAccount(key ed25519.PrivateKey) Account {
	return Account{Key: key, Address: actor.AddressFromPublicKey(key.Public())}
}

type accountJSON struct {
	Type    string `json:"type"`
	Seed    string `json:"seed"`
	Address string `json:"address"`
}

func (a Account) toJSON() accountJSON {
	seed := a.Key.Seed()
	return accountJSON{Type: AccountKeyType, Seed: hex.EncodeToString(seed[:]), Address: a.Address.String()}
}

func (j accountJSON) account() (Account, error) {
	if j.Type != AccountKeyType {
		return Account{}, fmt.Errorf("%w: type %q, want %q", ErrMalformedAccount, j.Type, AccountKeyType)
	}
	seed, err := hex.DecodeString(j.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return Account{}, fmt.Errorf("%w: seed: want %d hex digits", ErrMalformedAccount, 2*ed25519.SeedSize)
	}
	key, err := ed25519.NewKeyFromSeed(seed)
	if err != nil {
		return Account{}, fmt.Errorf("%w: %v", ErrMalformedAccount, err)
	}
	a := NewAccount(key)
	if j.Address != a.Address.String() {
		return Account{}, fmt.Errorf("%w: address %q, the seed gives %s", ErrMalformedAccount, j.Address, a.Address)
	}
	return a, nil
}

// MarshalAccount returns the key file of a.
func MarshalAccount(a Account) ([]byte, error) {
	out, err := json.MarshalIndent(a.toJSON(), "", "  ")
	return append(out, '\n'), err
}

// ParseAccount reads an account key file.
func ParseAccount(data []byte) (Account, error) {
	var j accountJSON
	if err := strictJSON(data, &j); err != nil {
		return Account{}, err
	}
	return j.account()
}

// MarshalAccounts returns an accounts file.
func MarshalAccounts(as []Account) ([]byte, error) {
	js := make([]accountJSON, len(as))
	for i := range as {
		js[i] = as[i].toJSON()
	}
	out, err := json.MarshalIndent(js, "", "  ")
	return append(out, '\n'), err
}

// ParseAccounts reads an accounts file.
func ParseAccounts(data []byte) ([]Account, error) {
	var js []accountJSON
	if err := strictJSON(data, &js); err != nil {
		return nil, err
	}
	out := make([]Account, len(js))
	for i := range js {
		a, err := js[i].account()
		if err != nil {
			return nil, fmt.Errorf("account %d: %w", i, err)
		}
		out[i] = a
	}
	return out, nil
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedAccount, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON value", ErrMalformedAccount)
	}
	return nil
}

// LoadAccount reads an account key file, refusing one others may read.
func LoadAccount(path string) (Account, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Account{}, fmt.Errorf("account key %s: %w", path, err)
	}
	if err := keys.CheckFileMode(info.Mode()); err != nil {
		return Account{}, fmt.Errorf("account key %s: %w", path, err)
	}
	if info.Size() > 4<<10 {
		return Account{}, fmt.Errorf("account key %s: %w: %d bytes", path, ErrMalformedAccount, info.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Account{}, fmt.Errorf("account key %s: %w", path, err)
	}
	a, err := ParseAccount(data)
	if err != nil {
		return Account{}, fmt.Errorf("account key %s: %w", path, err)
	}
	return a, nil
}

// LoadAccounts reads an accounts file.
func LoadAccounts(path string) ([]Account, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("accounts %s: %w", path, err)
	}
	as, err := ParseAccounts(data)
	if err != nil {
		return nil, fmt.Errorf("accounts %s: %w", path, err)
	}
	return as, nil
}
