package actor

import (
	"encoding/binary"
	"fmt"

	"github.com/thinkey/thinkey/crypto/ed25519"
	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/types"
)

// AddressDomain prefixes the public key hashed into an address, so that an
// address is never the hash of anything else the node hashes.
const AddressDomain = "thinkey/address/v1"

// AddressFromPublicKey returns the address of the account controlled by
// pub: the first 20 bytes of SHA-256(AddressDomain || pub).
func AddressFromPublicKey(pub ed25519.PublicKey) types.Address {
	var in [len(AddressDomain) + ed25519.PublicKeySize]byte
	copy(in[copy(in[:], AddressDomain):], pub[:])
	sum := hash.Sum256(in[:])
	return types.Address(sum[:types.AddressSize])
}

// The system methods (paper 5.2, 5.4), identical for every account.
const (
	// MethodTran withdraws: {tran, address, bill} of Algorithm 1.
	MethodTran = "tran"
	// MethodAdd deposits: {add, bill} of Algorithm 1, the bill being the
	// message's Value.
	MethodAdd = "add"
)

// TranArgsSize is the length of the arguments of a tran message: the
// recipient address and the bill.
const TranArgsSize = types.AddressSize + 8

// TranArgs returns the arguments of a tran message: recipient, then bill as
// a big-endian uint64.
func TranArgs(recipient types.Address, bill uint64) []byte {
	b := make([]byte, 0, TranArgsSize)
	b = append(b, recipient[:]...)
	return binary.BigEndian.AppendUint64(b, bill)
}

// ParseTranArgs reads arguments written by TranArgs; any other length is
// ErrBadArgs.
func ParseTranArgs(args []byte) (recipient types.Address, bill uint64, err error) {
	if len(args) != TranArgsSize {
		return recipient, 0, fmt.Errorf("%w: tran arguments of %d bytes, want %d", ErrBadArgs, len(args), TranArgsSize)
	}
	copy(recipient[:], args)
	return recipient, binary.BigEndian.Uint64(args[types.AddressSize:]), nil
}

// SignExternal makes msg an external message of the holder of priv and signs
// it: it sets Kind, SenderKey, From and To (both the signer's own address,
// see CheckExternal), clears SourceChain and Cause, and fills Signature over
// the signing bytes. Method, Args and Nonce are the caller's.
func SignExternal(msg *types.Message, priv ed25519.PrivateKey) {
	pub := priv.Public()
	msg.Kind = types.MessageExternal
	msg.SenderKey = [types.Ed25519PublicKeySize]byte(pub)
	msg.From = AddressFromPublicKey(pub)
	msg.To = msg.From
	msg.SourceChain = 0
	msg.Cause = types.Hash{}
	msg.Signature = [types.Ed25519SignatureSize]byte(ed25519.Sign(priv, msg.SigningBytes()))
}

// NewTransfer returns the signed external message by which the holder of
// priv asks its own account to pay bill to recipient.
func NewTransfer(priv ed25519.PrivateKey, nonce uint64, recipient types.Address, bill uint64) types.Message {
	m := types.Message{Nonce: nonce, Method: []byte(MethodTran), Args: TranArgs(recipient, bill)}
	SignExternal(&m, priv)
	return m
}

// CheckExternal checks the rules of an external message that need no state
// and no signature verification, on top of ValidateBasic:
//
//   - From is the address of SenderKey (ErrSenderMismatch);
//   - SenderKey is not of small order (ErrSmallOrderKey): such a key has no
//     secret and every signature verifies under it;
//   - To is From (ErrNotOwnAccount): an external message is processed by
//     the sender's own account, the only actor that may change the sender's
//     nonce and balance; reaching another account takes a relay sent by it;
//   - Value is zero (ErrExternalValue): value moves only by relay messages,
//     debited by the account that sends them.
func CheckExternal(msg *types.Message) error {
	if msg.Kind != types.MessageExternal {
		return fmt.Errorf("external message: %w: kind %v", types.ErrInvalid, msg.Kind)
	}
	if err := msg.ValidateBasic(); err != nil {
		return fmt.Errorf("external message: %w", err)
	}
	pub := ed25519.PublicKey(msg.SenderKey)
	if pub.IsSmallOrder() {
		return fmt.Errorf("external message: %w", ErrSmallOrderKey)
	}
	if AddressFromPublicKey(pub) != msg.From {
		return fmt.Errorf("external message: %w: from %v, key's address %v", ErrSenderMismatch, msg.From, AddressFromPublicKey(pub))
	}
	if msg.To != msg.From {
		return fmt.Errorf("external message: %w: from %v to %v", ErrNotOwnAccount, msg.From, msg.To)
	}
	if msg.Value != 0 {
		return fmt.Errorf("external message: %w: value %d", ErrExternalValue, msg.Value)
	}
	return nil
}
