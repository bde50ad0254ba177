package netq

import (
	"crypto"
	stded25519 "crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/crypto/hash"
)

// PeerIDSize is the length of a PeerID in bytes.
const PeerIDSize = hash.Size

// peerIDDomain separates PeerID hashes from every other SHA-256 use.
const peerIDDomain = "thinkey/netq/peer-id/v1\x00"

// PeerID names a node on the network: SHA-256(peerIDDomain || Ed25519 public
// key of its transport identity). A hash rather than the key itself so that
// IDs are uniform, which the Kademlia overlay's XOR distance relies on.
type PeerID [PeerIDSize]byte

// PeerIDFromPublicKey derives the PeerID of an Ed25519 public key. It fails,
// wrapping ErrInvalidPublicKey, for keys that are not 32 bytes or are of
// small order (such a key has no secret half: anyone could claim its ID).
func PeerIDFromPublicKey(pub []byte) (PeerID, error) {
	key, err := ed25519.PublicKeyFromBytes(pub)
	if err != nil {
		return PeerID{}, fmt.Errorf("%w: %w", ErrInvalidPublicKey, err)
	}
	if key.IsSmallOrder() {
		return PeerID{}, fmt.Errorf("%w: key %s is of small order", ErrInvalidPublicKey, key)
	}
	h := hash.New()
	h.Write([]byte(peerIDDomain))
	h.Write(key[:])
	var id PeerID
	h.Sum(id[:0])
	return id, nil
}

// ParsePeerID decodes the 64 hex digits String produces.
func ParsePeerID(s string) (PeerID, error) {
	var id PeerID
	if len(s) != 2*PeerIDSize {
		return id, fmt.Errorf("parse peer id %q: want %d hex digits, got %d", s, 2*PeerIDSize, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("parse peer id %q: %w", s, err)
	}
	return id, nil
}

// String returns the ID in lower-case hex.
func (id PeerID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 8 hex digits, for logs.
func (id PeerID) Short() string { return hex.EncodeToString(id[:4]) }

// IsZero reports whether id is the all-zero ID, which no key hashes to in
// practice and which marks "no peer".
func (id PeerID) IsZero() bool { return id == PeerID{} }

// MarshalText encodes the ID as String does, for TOML and JSON.
func (id PeerID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes what MarshalText produced.
func (id *PeerID) UnmarshalText(text []byte) error {
	parsed, err := ParsePeerID(string(text))
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}

// Identity is a node's transport key pair and the PeerID it hashes to. It
// is separate from the node's BLS consensus key: it only authenticates
// connections. Formatting an Identity prints its PeerID only.
type Identity struct {
	key ed25519.PrivateKey
	id  PeerID
}

// NewIdentity derives the identity whose Ed25519 seed is seed (32 bytes).
func NewIdentity(seed []byte) (Identity, error) {
	key, err := ed25519.NewKeyFromSeed(seed)
	if err != nil {
		return Identity{}, fmt.Errorf("transport identity: %w", err)
	}
	pub := key.Public()
	id, err := PeerIDFromPublicKey(pub[:])
	if err != nil {
		return Identity{}, fmt.Errorf("transport identity: %w", err) // unreachable for seed-derived keys
	}
	return Identity{key: key, id: id}, nil
}

// GenerateIdentity draws a seed from rnd (crypto/rand.Reader in production,
// a seeded reader in tests).
func GenerateIdentity(rnd io.Reader) (Identity, error) {
	if rnd == nil {
		return Identity{}, errors.New("generate transport identity: no random source")
	}
	var seed [ed25519.SeedSize]byte
	if _, err := io.ReadFull(rnd, seed[:]); err != nil {
		return Identity{}, fmt.Errorf("generate transport identity: %w", err)
	}
	return NewIdentity(seed[:])
}

// PeerID returns the ID this identity is known by.
func (i Identity) PeerID() PeerID { return i.id }

// PublicKey returns the Ed25519 public key.
func (i Identity) PublicKey() ed25519.PublicKey { return i.key.Public() }

// Seed returns the 32-byte seed, the form in which the identity is stored.
func (i Identity) Seed() [ed25519.SeedSize]byte { return i.key.Seed() }

// IsZero reports whether i is the zero Identity, which holds no key.
func (i Identity) IsZero() bool { return i.id.IsZero() }

// Signer returns the key as a crypto.Signer from the standard library, the
// form crypto/tls needs to sign its handshake. Both libraries derive the
// same RFC 8032 key from the seed.
func (i Identity) Signer() crypto.Signer {
	seed := i.key.Seed()
	return stded25519.NewKeyFromSeed(seed[:])
}

// Format prints the PeerID only, whatever the verb, so the seed cannot leak
// into a log line.
func (i Identity) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "netq.Identity{peer: %s}", i.id)
}
