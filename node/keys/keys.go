package keys

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/netq"
)

// FileType is the value of the "type" field of every key file this version
// writes and reads.
const FileType = "thinkey-node-key/v1"

// FileMode is the permission a key file is written with: owner read and write
// only.
const FileMode fs.FileMode = 0o600

// MaxFileSize bounds what Parse reads: a key file is under 1 KiB.
const MaxFileSize = 4 << 10

// Errors callers branch on; every error of this package wraps one of them.
var (
	// ErrMalformed: the file is not a key file of this version: bad JSON,
	// an unknown, missing or undecodable field.
	ErrMalformed = errors.New("malformed key file")
	// ErrMismatch: a public field does not derive from the secret it goes
	// with.
	ErrMismatch = errors.New("key file public field does not match its secret")
	// ErrExposed: the file's permissions let others than its owner read or
	// write it.
	ErrExposed = errors.New("key file is accessible to other users")
)

// Key is a validator's node key.
type Key struct {
	// BLS signs the member's votes, proposals and round changes.
	BLS *bls.SecretKey
	// Identity authenticates the node's netq connections.
	Identity netq.Identity
}

// Public is what others know of a Key: the entries of a genesis committee
// member.
type Public struct {
	BLSPublicKey *bls.PublicKey
	// ProofOfPossession proves knowledge of the BLS secret key, so that the
	// public key may enter aggregates (see crypto/bls).
	ProofOfPossession *bls.Signature
	PeerID            netq.PeerID
}

// Generate draws a new key from rnd (crypto/rand.Reader in the shell, a seeded
// reader in tests): 32 bytes of BLS key material, then a 32-byte identity
// seed.
func Generate(rnd io.Reader) (Key, error) {
	var ikm [bls.MinIKMSize]byte
	if _, err := io.ReadFull(rnd, ikm[:]); err != nil {
		return Key{}, fmt.Errorf("generate node key: read randomness: %w", err)
	}
	sk, err := bls.GenerateKey(ikm[:])
	if err != nil {
		return Key{}, fmt.Errorf("generate node key: %w", err)
	}
	id, err := netq.GenerateIdentity(rnd)
	if err != nil {
		return Key{}, fmt.Errorf("generate node key: %w", err)
	}
	return Key{BLS: sk, Identity: id}, nil
}

// Public returns the public half of k.
func (k Key) Public() Public {
	return Public{
		BLSPublicKey:      k.BLS.PublicKey(),
		ProofOfPossession: bls.ProvePossession(k.BLS),
		PeerID:            k.Identity.PeerID(),
	}
}

// Format prints the public half only, whatever the verb, so that a secret
// cannot leak into a log line.
func (k Key) Format(f fmt.State, _ rune) {
	if k.BLS == nil || k.Identity.IsZero() {
		fmt.Fprint(f, "keys.Key{}")
		return
	}
	fmt.Fprintf(f, "keys.Key{bls:%x peer:%s}", k.BLS.PublicKey().Bytes(), k.Identity.PeerID().Short())
}

// file is the JSON layout of a key file.
type file struct {
	Type                 string `json:"type"`
	BLSSecretKey         string `json:"bls_secret_key"`
	BLSPublicKey         string `json:"bls_public_key"`
	BLSProofOfPossession string `json:"bls_proof_of_possession"`
	NetqIdentitySeed     string `json:"netq_identity_seed"`
	NetqPeerID           string `json:"netq_peer_id"`
}

// Marshal returns the key file of k.
func (k Key) Marshal() ([]byte, error) {
	if k.BLS == nil || k.Identity.IsZero() {
		return nil, fmt.Errorf("marshal node key: %w: key is incomplete", ErrMalformed)
	}
	pub := k.Public()
	seed := k.Identity.Seed()
	out, err := json.MarshalIndent(file{
		Type:                 FileType,
		BLSSecretKey:         hex.EncodeToString(k.BLS.Bytes()),
		BLSPublicKey:         hex.EncodeToString(pub.BLSPublicKey.Bytes()),
		BLSProofOfPossession: hex.EncodeToString(pub.ProofOfPossession.Bytes()),
		NetqIdentitySeed:     hex.EncodeToString(seed[:]),
		NetqPeerID:           pub.PeerID.String(),
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal node key: %w", err)
	}
	return append(out, '\n'), nil
}

// Parse reads a key file. Every field must be present and decode, and the
// public fields must derive from the secret ones.
func Parse(data []byte) (Key, error) {
	if len(data) > MaxFileSize {
		return Key{}, fmt.Errorf("%w: %d bytes, a key file is at most %d", ErrMalformed, len(data), MaxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return Key{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return Key{}, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	if f.Type != FileType {
		return Key{}, fmt.Errorf("%w: type %q, want %q", ErrMalformed, f.Type, FileType)
	}
	skBytes, err := decodeHex("bls_secret_key", f.BLSSecretKey, bls.SecretKeySize)
	if err != nil {
		return Key{}, err
	}
	sk, err := bls.SecretKeyFromBytes(skBytes)
	if err != nil {
		return Key{}, fmt.Errorf("%w: bls_secret_key: %v", ErrMalformed, err)
	}
	seed, err := decodeHex("netq_identity_seed", f.NetqIdentitySeed, 32)
	if err != nil {
		return Key{}, err
	}
	id, err := netq.NewIdentity(seed)
	if err != nil {
		return Key{}, fmt.Errorf("%w: netq_identity_seed: %v", ErrMalformed, err)
	}
	k := Key{BLS: sk, Identity: id}
	pub := k.Public()
	for _, field := range []struct {
		name, got string
		size      int
		want      []byte
	}{
		{"bls_public_key", f.BLSPublicKey, bls.PublicKeySize, pub.BLSPublicKey.Bytes()},
		{"bls_proof_of_possession", f.BLSProofOfPossession, bls.SignatureSize, pub.ProofOfPossession.Bytes()},
		{"netq_peer_id", f.NetqPeerID, netq.PeerIDSize, pub.PeerID[:]},
	} {
		got, err := decodeHex(field.name, field.got, field.size)
		if err != nil {
			return Key{}, err
		}
		if !bytes.Equal(got, field.want) {
			return Key{}, fmt.Errorf("%w: %s is %x, the secret gives %x", ErrMismatch, field.name, got, field.want)
		}
	}
	return k, nil
}

func decodeHex(field, s string, size int) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: %s is missing", ErrMalformed, field)
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

// CheckFileMode refuses the permissions of a key file that others than its
// owner may read or write.
func CheckFileMode(mode fs.FileMode) error {
	if perm := mode.Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: mode %04o, want %04o (chmod 600 the file)", ErrExposed, perm, FileMode)
	}
	return nil
}
