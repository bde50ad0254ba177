package genesis

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/keys"
	"github.com/thinkey/thinkey/node/types"
)

// FileType is the value of the "type" field of the files this version reads
// and writes.
const FileType = "thinkey-genesis/v1"

// MaxFileSize bounds what Parse reads: about 10,000 accounts fit in 1 MiB.
const MaxFileSize = 64 << 20

// Errors callers branch on.
var (
	// ErrMalformed: the bytes are not a genesis file of this version (bad
	// JSON, unknown or mistyped field, trailing data, wrong type).
	ErrMalformed = errors.New("malformed genesis file")
	// ErrInvalid: the file decodes but breaks a rule of Validate.
	ErrInvalid = errors.New("invalid genesis")
)

// Genesis is a network's starting point.
type Genesis struct {
	// GenesisTimeMillis is the timestamp of block 0, in milliseconds since
	// the Unix epoch.
	GenesisTimeMillis uint64
	Chain             Chain
	// Committee lists the members of the chain's committee; member i is the
	// consensus ValidatorIndex i.
	Committee []Member
	// Accounts are the funded accounts of block 0, in strictly increasing
	// address order.
	Accounts []Account
}

// Chain is the chain the committee runs and its consensus limits.
type Chain struct {
	ID         types.ChainID
	Prefix     uint64
	PrefixBits uint8
	// BlockGas and StepLimit are consensus rules (node/exec.Limits); zero
	// means the default.
	BlockGas  actor.Gas
	StepLimit uint64
}

// Member is one committee member.
type Member struct {
	BLSPublicKey      *bls.PublicKey
	ProofOfPossession *bls.Signature
	PeerID            netq.PeerID
	// Address is the member's netq/quic UDP address, host:port.
	Address string
}

// Account is a funded account of block 0: a plain account with a balance,
// no code, no storage and nonce 0.
type Account struct {
	Address types.Address
	Balance uint64
}

// NewMember builds the committee entry of a node key reachable at address.
func NewMember(pub keys.Public, address string) Member {
	return Member{BLSPublicKey: pub.BLSPublicKey, ProofOfPossession: pub.ProofOfPossession, PeerID: pub.PeerID, Address: address}
}

// Spec returns the chain spec node/exec executes the chain's blocks with.
func (c Chain) Spec() exec.ChainSpec {
	return exec.ChainSpec{
		ID:         c.ID,
		Prefix:     c.Prefix,
		PrefixBits: c.PrefixBits,
		Limits:     exec.Limits{BlockGas: c.BlockGas, StepLimit: c.StepLimit},
	}
}

// Validate reports every rule g breaks, each wrapping ErrInvalid.
func (g *Genesis) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
	}
	if g.GenesisTimeMillis == 0 {
		bad("genesis_time_ms must be set")
	}
	if err := g.Chain.Spec().Validate(); err != nil {
		bad("chain: %v", err)
	}
	if n := len(g.Committee); n < 1 || n > types.MaxCommitteeSize {
		bad("committee of %d members, want 1 to %d", n, types.MaxCommitteeSize)
	}
	keysSeen := map[string]int{}
	peersSeen := map[netq.PeerID]int{}
	addrsSeen := map[string]int{}
	for i, m := range g.Committee {
		switch {
		case m.BLSPublicKey == nil:
			bad("committee[%d]: bls_public_key missing", i)
		case m.ProofOfPossession == nil:
			bad("committee[%d]: bls_proof_of_possession missing", i)
		case !bls.VerifyPossession(m.BLSPublicKey, m.ProofOfPossession):
			bad("committee[%d]: proof of possession does not verify for its key", i)
		}
		if m.BLSPublicKey != nil {
			k := string(m.BLSPublicKey.Bytes())
			if j, dup := keysSeen[k]; dup {
				bad("committee[%d]: same bls_public_key as committee[%d]", i, j)
			}
			keysSeen[k] = i
		}
		if m.PeerID.IsZero() {
			bad("committee[%d]: peer_id missing", i)
		} else if j, dup := peersSeen[m.PeerID]; dup {
			bad("committee[%d]: same peer_id as committee[%d]", i, j)
		} else {
			peersSeen[m.PeerID] = i
		}
		if err := checkHostPort(m.Address); err != nil {
			bad("committee[%d]: address %q: %v", i, m.Address, err)
		} else if j, dup := addrsSeen[m.Address]; dup {
			bad("committee[%d]: same address as committee[%d]", i, j)
		} else {
			addrsSeen[m.Address] = i
		}
	}
	spec := g.Chain.Spec()
	var supply uint64
	overflow := false
	for i, a := range g.Accounts {
		if i > 0 && bytes.Compare(g.Accounts[i-1].Address[:], a.Address[:]) >= 0 {
			bad("accounts[%d]: address %v not after accounts[%d] (%v): want strictly increasing addresses", i, a.Address, i-1, g.Accounts[i-1].Address)
		}
		if !spec.Owns(a.Address) {
			bad("accounts[%d]: address %v is not on chain %d", i, a.Address, g.Chain.ID)
		}
		var carry uint64
		supply, carry = bits.Add64(supply, a.Balance, 0)
		if carry != 0 && !overflow {
			overflow = true
			bad("accounts: balances sum past 2^64-1 at accounts[%d]", i)
		}
	}
	return errors.Join(errs...)
}

// checkHostPort checks a host:port address without the net package, which
// a pure core may not import: a non-empty host (brackets around an IPv6
// literal) and a port from 1 to 65535.
func checkHostPort(addr string) error {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return errors.New("want host:port")
	}
	host, port := addr[:i], addr[i+1:]
	if strings.HasPrefix(host, "[") != strings.HasSuffix(host, "]") {
		return errors.New("unbalanced brackets around the host")
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return errors.New("empty host")
	}
	if strings.ContainsAny(host, "[] \t/") || (strings.Contains(host, ":") && !strings.HasPrefix(addr, "[")) {
		return errors.New("malformed host")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return fmt.Errorf("port %q: want 1 to 65535", port)
	}
	return nil
}

// MemberOf returns the index of the member whose BLS key is pub.
func (g *Genesis) MemberOf(pub *bls.PublicKey) (types.ValidatorIndex, bool) {
	for i, m := range g.Committee {
		if m.BLSPublicKey.Equal(pub) {
			return types.ValidatorIndex(i), true
		}
	}
	return 0, false
}

// PublicKeys returns the members' BLS keys, by index.
func (g *Genesis) PublicKeys() []*bls.PublicKey {
	out := make([]*bls.PublicKey, len(g.Committee))
	for i, m := range g.Committee {
		out[i] = m.BLSPublicKey
	}
	return out
}

// GenesisAccounts returns the accounts of block 0 as node/actor accounts.
func (g *Genesis) GenesisAccounts() []actor.Account {
	out := make([]actor.Account, len(g.Accounts))
	for i, a := range g.Accounts {
		out[i] = actor.Account{Address: a.Address, Balance: a.Balance}
	}
	return out
}

// Block returns the header of block 0: the roots of an empty body over the
// genesis accounts, no parent, the genesis time.
func (g *Genesis) Block() (types.Header, error) {
	if err := g.Validate(); err != nil {
		return types.Header{}, err
	}
	state, err := exec.NewMemState(g.GenesisAccounts())
	if err != nil {
		return types.Header{}, fmt.Errorf("genesis state: %w", err)
	}
	res, err := exec.Execute(state, g.Chain.Spec(), nil, exec.Env{})
	if err != nil {
		return types.Header{}, fmt.Errorf("genesis roots: %w", err)
	}
	h := types.Header{
		Version:         types.HeaderVersion,
		ChainID:         g.Chain.ID,
		Height:          0,
		TimestampMillis: g.GenesisTimeMillis,
	}
	res.Roots.SetHeader(&h)
	return h, nil
}

// Hash returns SHA-256 of the canonical text: the network's name.
func (g *Genesis) Hash() (types.Hash, error) {
	text, err := g.Marshal()
	if err != nil {
		return types.Hash{}, err
	}
	return hash.Sum256(text), nil
}

// The JSON layout; field order is the canonical order.
type fileJSON struct {
	Type              string        `json:"type"`
	GenesisTimeMillis uint64        `json:"genesis_time_ms"`
	Chain             chainJSON     `json:"chain"`
	Committee         []memberJSON  `json:"committee"`
	Accounts          []accountJSON `json:"accounts"`
}

type chainJSON struct {
	ID         uint32 `json:"id"`
	Prefix     uint64 `json:"prefix"`
	PrefixBits uint8  `json:"prefix_bits"`
	BlockGas   uint64 `json:"block_gas"`
	StepLimit  uint64 `json:"step_limit"`
}

type memberJSON struct {
	BLSPublicKey         string `json:"bls_public_key"`
	BLSProofOfPossession string `json:"bls_proof_of_possession"`
	PeerID               string `json:"peer_id"`
	Address              string `json:"address"`
}

type accountJSON struct {
	Address string `json:"address"`
	Balance uint64 `json:"balance"`
}

// Marshal returns the canonical text of g (see the package documentation).
// It sorts the accounts of the text, not of g, and refuses a member without
// keys.
func (g *Genesis) Marshal() ([]byte, error) {
	f := fileJSON{
		Type:              FileType,
		GenesisTimeMillis: g.GenesisTimeMillis,
		Chain: chainJSON{
			ID: uint32(g.Chain.ID), Prefix: g.Chain.Prefix, PrefixBits: g.Chain.PrefixBits,
			BlockGas: uint64(g.Chain.BlockGas), StepLimit: g.Chain.StepLimit,
		},
		Committee: make([]memberJSON, len(g.Committee)),
		Accounts:  make([]accountJSON, len(g.Accounts)),
	}
	for i, m := range g.Committee {
		if m.BLSPublicKey == nil || m.ProofOfPossession == nil {
			return nil, fmt.Errorf("marshal genesis: %w: committee[%d] has no keys", ErrInvalid, i)
		}
		f.Committee[i] = memberJSON{
			BLSPublicKey:         hex.EncodeToString(m.BLSPublicKey.Bytes()),
			BLSProofOfPossession: hex.EncodeToString(m.ProofOfPossession.Bytes()),
			PeerID:               m.PeerID.String(),
			Address:              m.Address,
		}
	}
	accounts := slices.Clone(g.Accounts)
	slices.SortFunc(accounts, func(a, b Account) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	for i, a := range accounts {
		f.Accounts[i] = accountJSON{Address: hex.EncodeToString(a.Address[:]), Balance: a.Balance}
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal genesis: %w", err)
	}
	return append(out, '\n'), nil
}

// Parse decodes a genesis file and validates it.
func Parse(data []byte) (*Genesis, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(data), MaxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileJSON
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	if f.Type != FileType {
		return nil, fmt.Errorf("%w: type %q, want %q", ErrMalformed, f.Type, FileType)
	}
	if f.Chain.BlockGas > math.MaxInt64 {
		return nil, fmt.Errorf("%w: chain.block_gas %d is too large", ErrMalformed, f.Chain.BlockGas)
	}
	g := &Genesis{
		GenesisTimeMillis: f.GenesisTimeMillis,
		Chain: Chain{
			ID: types.ChainID(f.Chain.ID), Prefix: f.Chain.Prefix, PrefixBits: f.Chain.PrefixBits,
			BlockGas: actor.Gas(f.Chain.BlockGas), StepLimit: f.Chain.StepLimit,
		},
		Committee: make([]Member, len(f.Committee)),
		Accounts:  make([]Account, len(f.Accounts)),
	}
	var errs []error
	for i, m := range f.Committee {
		field := func(name string) string { return fmt.Sprintf("committee[%d].%s", i, name) }
		if b, err := decodeHex(field("bls_public_key"), m.BLSPublicKey, bls.PublicKeySize); err != nil {
			errs = append(errs, err)
		} else if pk, err := bls.PublicKeyFromBytes(b); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrMalformed, field("bls_public_key"), err))
		} else {
			g.Committee[i].BLSPublicKey = pk
		}
		if b, err := decodeHex(field("bls_proof_of_possession"), m.BLSProofOfPossession, bls.SignatureSize); err != nil {
			errs = append(errs, err)
		} else if sig, err := bls.SignatureFromBytes(b); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrMalformed, field("bls_proof_of_possession"), err))
		} else {
			g.Committee[i].ProofOfPossession = sig
		}
		if b, err := decodeHex(field("peer_id"), m.PeerID, netq.PeerIDSize); err != nil {
			errs = append(errs, err)
		} else {
			g.Committee[i].PeerID = netq.PeerID(b)
		}
		g.Committee[i].Address = m.Address
	}
	for i, a := range f.Accounts {
		if b, err := decodeHex(fmt.Sprintf("accounts[%d].address", i), a.Address, types.AddressSize); err != nil {
			errs = append(errs, err)
		} else {
			g.Accounts[i] = Account{Address: types.Address(b), Balance: a.Balance}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

func decodeHex(field, s string, size int) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: %s is missing", ErrMalformed, field)
	}
	if strings.ToLower(s) != s {
		return nil, fmt.Errorf("%w: %s: hex must be lower case", ErrMalformed, field)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, field, err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformed, field, len(b), size)
	}
	return b, nil
}
