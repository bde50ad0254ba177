package bls

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"

	"github.com/thinkey/thinkey/crypto/hash"
)

// groupOrderHex is r, the order of G1, G2 and of the scalar field.
const groupOrderHex = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001"

// testKey derives a deterministic key from a label.
func testKey(t testing.TB, label string) *SecretKey {
	t.Helper()
	ikm := hash.Sum256([]byte(label))
	sk, err := GenerateKey(ikm[:])
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func withByte(b []byte, at int, value byte) []byte {
	out := bytes.Clone(b)
	out[at] = value
	return out
}

func TestGenerateKey(t *testing.T) {
	ikm := bytes.Repeat([]byte{7}, MinIKMSize)
	for _, tc := range []struct {
		name string
		ikm  []byte
		err  error
	}{
		{"nil", nil, ErrShortIKM},
		{"31 bytes", ikm[:31], ErrShortIKM},
		{"32 bytes", ikm, nil},
		{"64 bytes", append(bytes.Clone(ikm), ikm...), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sk, err := GenerateKey(tc.ikm)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err != nil {
				if sk != nil {
					t.Fatal("key returned with an error")
				}
				return
			}
			again, _ := GenerateKey(tc.ikm)
			if !bytes.Equal(sk.Bytes(), again.Bytes()) {
				t.Fatal("key generation is not deterministic")
			}
			decoded, err := SecretKeyFromBytes(sk.Bytes())
			if err != nil || !bytes.Equal(decoded.Bytes(), sk.Bytes()) {
				t.Fatalf("secret key round trip: %v", err)
			}
		})
	}
	if bytes.Equal(testKey(t, "a").Bytes(), testKey(t, "b").Bytes()) {
		t.Fatal("different key material gave the same key")
	}
}

func TestSecretKeyFromBytes(t *testing.T) {
	order, _ := new(big.Int).SetString(groupOrderHex, 16)
	scalar := func(v *big.Int) []byte { return v.FillBytes(make([]byte, SecretKeySize)) }
	for _, tc := range []struct {
		name  string
		input []byte
		ok    bool
	}{
		{"nil", nil, false},
		{"31 bytes", make([]byte, 31), false},
		{"33 bytes", make([]byte, 33), false},
		{"zero", make([]byte, 32), false},
		{"one", scalar(big.NewInt(1)), true},
		{"order minus one", scalar(new(big.Int).Sub(order, big.NewInt(1))), true},
		{"order", scalar(order), false},
		{"order plus one", scalar(new(big.Int).Add(order, big.NewInt(1))), false},
		{"all ones", bytes.Repeat([]byte{0xff}, 32), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sk, err := SecretKeyFromBytes(tc.input)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(sk.Bytes(), tc.input) {
					t.Fatalf("re-encoded %x, want %x", sk.Bytes(), tc.input)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSecretKey) || sk != nil {
				t.Fatalf("got key %v, error %v; want ErrInvalidSecretKey", sk, err)
			}
		})
	}
}

// Encodings from the deserialization vectors and hand-made variants.
const (
	notInG1Hex      = "8123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	notOnCurveG1Hex = "8123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde0"
	modulusG1Hex    = "9a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab"
	notInG2Hex      = "8123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestPublicKeyFromBytes(t *testing.T) {
	valid := testKey(t, "decode").PublicKey().Bytes()
	identity := append([]byte{0xc0}, make([]byte, PublicKeySize-1)...)
	for _, tc := range []struct {
		name  string
		input []byte
		ok    bool
	}{
		{"valid", valid, true},
		{"nil", nil, false},
		{"empty", []byte{}, false},
		{"one byte short", valid[:PublicKeySize-1], false},
		{"one byte long", append(bytes.Clone(valid), 0), false},
		{"uncompressed length", append(bytes.Clone(valid), valid...), false},
		{"identity", identity, false},
		{"identity without infinity flag", withByte(identity, 0, 0x80), false},
		{"infinity flag with nonzero x", withByte(identity, PublicKeySize-1, 1), false},
		{"infinity and sign flags", withByte(identity, 0, 0xe0), false},
		{"compression flag cleared", withByte(valid, 0, valid[0]&0x7f), false},
		{"sign flag flipped is the negated key", withByte(valid, 0, valid[0]^0x20), true},
		{"x equal to the modulus", mustHex(t, modulusG1Hex), false},
		{"not on the curve", mustHex(t, notOnCurveG1Hex), false},
		{"not in the subgroup", mustHex(t, notInG1Hex), false},
		{"all zero", make([]byte, PublicKeySize), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pk, err := PublicKeyFromBytes(tc.input)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(pk.Bytes(), tc.input) {
					t.Fatalf("re-encoded %x, want %x", pk.Bytes(), tc.input)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPublicKey) || pk != nil {
				t.Fatalf("got key %v, error %v; want ErrInvalidPublicKey", pk, err)
			}
		})
	}
}

func TestSignatureFromBytes(t *testing.T) {
	valid := Sign(testKey(t, "decode"), []byte("m")).Bytes()
	identity := append([]byte{0xc0}, make([]byte, SignatureSize-1)...)
	for _, tc := range []struct {
		name  string
		input []byte
		ok    bool
	}{
		{"valid", valid, true},
		{"identity", identity, true},
		{"nil", nil, false},
		{"empty", []byte{}, false},
		{"one byte short", valid[:SignatureSize-1], false},
		{"one byte long", append(bytes.Clone(valid), 0), false},
		{"identity without infinity flag", withByte(identity, 0, 0x80), false},
		{"infinity flag with nonzero x", withByte(identity, SignatureSize-1, 1), false},
		{"infinity and sign flags", withByte(identity, 0, 0xe0), false},
		{"compression flag cleared", withByte(valid, 0, valid[0]&0x7f), false},
		{"x.c1 equal to the modulus", append(mustHex(t, modulusG1Hex), make([]byte, 48)...), false},
		{"not in the subgroup", mustHex(t, notInG2Hex), false},
		{"all zero", make([]byte, SignatureSize), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := SignatureFromBytes(tc.input)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(sig.Bytes(), tc.input) {
					t.Fatalf("re-encoded %x, want %x", sig.Bytes(), tc.input)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSignature) || sig != nil {
				t.Fatalf("got signature %v, error %v; want ErrInvalidSignature", sig, err)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	sk, other := testKey(t, "signer"), testKey(t, "other")
	pk := sk.PublicKey()
	msg := []byte("block 1")
	sig := Sign(sk, msg)
	identity := &Signature{}
	for _, tc := range []struct {
		name string
		pk   *PublicKey
		msg  []byte
		sig  *Signature
		want bool
	}{
		{"valid", pk, msg, sig, true},
		{"empty message", pk, nil, Sign(sk, nil), true},
		{"other message", pk, []byte("block 2"), sig, false},
		{"other key", other.PublicKey(), msg, sig, false},
		{"other signer", pk, msg, Sign(other, msg), false},
		{"identity signature", pk, msg, identity, false},
		{"identity key", &PublicKey{}, msg, sig, false},
		{"nil key", nil, msg, sig, false},
		{"nil signature", pk, msg, nil, false},
		{"proof of possession as a signature of the key", pk, pk.Bytes(), ProvePossession(sk), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Verify(tc.pk, tc.msg, tc.sig); got != tc.want {
				t.Fatalf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNilReceivers(t *testing.T) {
	var sk *SecretKey
	var pk *PublicKey
	var sig *Signature
	if sk.Bytes() != nil || pk.Bytes() != nil || sig.Bytes() != nil {
		t.Fatal("nil values encode to bytes")
	}
	if sk.PublicKey() != nil || (&SecretKey{}).PublicKey() != nil {
		t.Fatal("a nil or zero secret key has a public key")
	}
	if Sign(sk, []byte("m")) != nil || Sign(&SecretKey{}, []byte("m")) != nil {
		t.Fatal("a nil or zero secret key signed")
	}
	if ProvePossession(sk) != nil || ProvePossession(&SecretKey{}) != nil {
		t.Fatal("a nil or zero secret key proved possession")
	}
	if !pk.Equal(nil) || pk.Equal(&PublicKey{}) || !sig.Equal(nil) || sig.Equal(&Signature{}) {
		t.Fatal("Equal mishandles nil")
	}
}

func TestPossession(t *testing.T) {
	sk, other := testKey(t, "pop"), testKey(t, "pop-other")
	pk := sk.PublicKey()
	proof := ProvePossession(sk)
	for _, tc := range []struct {
		name  string
		pk    *PublicKey
		proof *Signature
		want  bool
	}{
		{"valid", pk, proof, true},
		{"other key's proof", pk, ProvePossession(other), false},
		{"signature of the key bytes", pk, Sign(sk, pk.Bytes()), false},
		{"identity proof", pk, &Signature{}, false},
		{"identity key", &PublicKey{}, proof, false},
		{"nil key", nil, proof, false},
		{"nil proof", pk, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := VerifyPossession(tc.pk, tc.proof); got != tc.want {
				t.Fatalf("VerifyPossession = %v, want %v", got, tc.want)
			}
		})
	}
}

// negatedKey returns the key whose public key is -sk.PublicKey().
func negatedKey(t *testing.T, sk *SecretKey) *SecretKey {
	t.Helper()
	order, _ := new(big.Int).SetString(groupOrderHex, 16)
	neg := new(big.Int).Sub(order, new(big.Int).SetBytes(sk.Bytes()))
	out, err := SecretKeyFromBytes(neg.FillBytes(make([]byte, SecretKeySize)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAggregate(t *testing.T) {
	msg := []byte("vote")
	sks := []*SecretKey{testKey(t, "a1"), testKey(t, "a2"), testKey(t, "a3")}
	pks := make([]*PublicKey, len(sks))
	sigs := make([]*Signature, len(sks))
	for i, sk := range sks {
		pks[i], sigs[i] = sk.PublicKey(), Sign(sk, msg)
	}
	aggSig, err := AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	aggPk, err := AggregatePublicKeys(pks)
	if err != nil {
		t.Fatal(err)
	}
	if !Verify(aggPk, msg, aggSig) || !FastAggregateVerify(pks, msg, aggSig) {
		t.Fatal("aggregate of valid votes does not verify")
	}
	if !AggregateVerify(pks, [][]byte{msg, msg, msg}, aggSig) {
		t.Fatal("AggregateVerify rejects repeated messages, which the POP suite allows")
	}
	if one, _ := AggregateSignatures(sigs[:1]); !one.Equal(sigs[0]) {
		t.Fatal("aggregate of one signature differs from it")
	}
	withIdentity, err := AggregateSignatures([]*Signature{sigs[0], {}})
	if err != nil || !withIdentity.Equal(sigs[0]) {
		t.Fatalf("adding the identity changed the signature: %v", err)
	}

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			err  error
			want error
		}{
			{"no signatures", second(AggregateSignatures(nil)), ErrNothingToAggregate},
			{"nil signature", second(AggregateSignatures([]*Signature{sigs[0], nil})), ErrInvalidSignature},
			{"no keys", second(AggregatePublicKeys(nil)), ErrNothingToAggregate},
			{"nil key", second(AggregatePublicKeys([]*PublicKey{pks[0], nil})), ErrInvalidPublicKey},
			{"identity key", second(AggregatePublicKeys([]*PublicKey{pks[0], {}})), ErrInvalidPublicKey},
			{"keys summing to the identity", second(AggregatePublicKeys([]*PublicKey{pks[0], negatedKey(t, sks[0]).PublicKey()})), ErrInvalidPublicKey},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if !errors.Is(tc.err, tc.want) {
					t.Fatalf("error %v, want %v", tc.err, tc.want)
				}
			})
		}
	})

	t.Run("verify", func(t *testing.T) {
		msgs := [][]byte{[]byte("x"), []byte("y"), []byte("z")}
		distinct := make([]*Signature, len(sks))
		for i, sk := range sks {
			distinct[i] = Sign(sk, msgs[i])
		}
		aggDistinct, _ := AggregateSignatures(distinct)
		for _, tc := range []struct {
			name string
			got  bool
			want bool
		}{
			{"aggregate verify", AggregateVerify(pks, msgs, aggDistinct), true},
			{"aggregate verify, messages swapped", AggregateVerify(pks, [][]byte{msgs[1], msgs[0], msgs[2]}, aggDistinct), false},
			{"aggregate verify, key missing", AggregateVerify(pks[:2], msgs[:2], aggDistinct), false},
			{"aggregate verify, no keys", AggregateVerify(nil, nil, aggDistinct), false},
			{"aggregate verify, lengths differ", AggregateVerify(pks, msgs[:2], aggDistinct), false},
			{"aggregate verify, nil signature", AggregateVerify(pks, msgs, nil), false},
			{"aggregate verify, nil key", AggregateVerify([]*PublicKey{pks[0], nil, pks[2]}, msgs, aggDistinct), false},
			{"aggregate verify, identity key", AggregateVerify([]*PublicKey{pks[0], {}, pks[2]}, msgs, aggDistinct), false},
			{"fast aggregate verify, key missing", FastAggregateVerify(pks[:2], msg, aggSig), false},
			{"fast aggregate verify, extra key", FastAggregateVerify(append(slices.Clone(pks), testKey(t, "x").PublicKey()), msg, aggSig), false},
			{"fast aggregate verify, no keys", FastAggregateVerify(nil, msg, &Signature{}), false},
			{"fast aggregate verify, nil signature", FastAggregateVerify(pks, msg, nil), false},
			{"fast aggregate verify, identity key", FastAggregateVerify([]*PublicKey{pks[0], pks[1], pks[2], {}}, msg, aggSig), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.got != tc.want {
					t.Fatalf("got %v, want %v", tc.got, tc.want)
				}
			})
		}
	})
}

func second[T any](_ T, err error) error { return err }

func ExampleVerifySameMessage() {
	msg := []byte("block hash")
	var pks []*PublicKey
	var sigs []*Signature
	for i := range 4 {
		ikm := hash.Sum256(fmt.Appendf(nil, "member %d", i))
		sk, _ := GenerateKey(ikm[:])
		pks = append(pks, sk.PublicKey())
		sigs = append(sigs, Sign(sk, msg))
	}
	sigs[2] = Sign(mustKey("intruder"), msg)
	fmt.Println(VerifySameMessage(msg, pks, sigs, fixedReader(1)))
	// Output: [2]
}

func mustKey(label string) *SecretKey {
	ikm := hash.Sum256([]byte(label))
	sk, err := GenerateKey(ikm[:])
	if err != nil {
		panic(err)
	}
	return sk
}
