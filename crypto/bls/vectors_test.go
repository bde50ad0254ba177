package bls

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The Ethereum consensus BLS test suite (ethereum/bls12-381-tests), kept
// beside the repository at ../shared/testvectors/bls12-381.

// hashToG2DST is the tag of the RFC 9380 hash_to_curve vectors that the
// suite's hash_to_G2 cases reproduce.
const hashToG2DST = "QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_"

type vectorFile struct {
	Input  json.RawMessage `json:"input"`
	Output json.RawMessage `json:"output"`
}

var vectorHandlers = map[string]func(t *testing.T, v vectorFile){
	"sign":                  runSignVector,
	"verify":                runVerifyVector,
	"aggregate":             runAggregateVector,
	"aggregate_verify":      runAggregateVerifyVector,
	"fast_aggregate_verify": runFastAggregateVerifyVector,
	"batch_verify":          runBatchVerifyVector,
	"hash_to_G2":            runHashToG2Vector,
	"deserialization_G1":    runDeserializationG1Vector,
	"deserialization_G2":    runDeserializationG2Vector,
}

func TestVectors(t *testing.T) {
	dir := vectorDir(t)
	found, ran := 0, 0
	handlerNames := make([]string, 0, len(vectorHandlers))
	for name := range vectorHandlers {
		handlerNames = append(handlerNames, name)
	}
	slices.Sort(handlerNames)
	for _, handler := range handlerNames {
		files, err := filepath.Glob(filepath.Join(dir, handler, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("handler %s: no vector files in %s", handler, filepath.Join(dir, handler))
		}
		for _, file := range files {
			found++
			t.Run(handler+"/"+strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
				raw, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				var v vectorFile
				if err := json.Unmarshal(raw, &v); err != nil {
					t.Fatalf("parse %s: %v", file, err)
				}
				ran++
				vectorHandlers[handler](t, v)
			})
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := vectorHandlers[e.Name()]; e.IsDir() && !ok {
			t.Errorf("vector folder %s has no handler", e.Name())
		}
	}
	if ran != found || found == 0 {
		t.Fatalf("ran %d vector files of %d found", ran, found)
	}
	t.Logf("ran %d vector files", ran)
}

// vectorDir finds the repository root (the directory holding go.mod) above
// the working directory and returns the suite's folder beside it. A missing
// folder fails the test: the suite is a requirement, not an option.
func vectorDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	vectors := filepath.Join(dir, "..", "shared", "testvectors", "bls12-381")
	if info, err := os.Stat(vectors); err != nil || !info.IsDir() {
		t.Fatalf("BLS test vectors missing at %s: %v", vectors, err)
	}
	return vectors
}

func decodeHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

func decodeHexList(t *testing.T, list []string) [][]byte {
	t.Helper()
	out := make([][]byte, len(list))
	for i, s := range list {
		out[i] = decodeHex(t, s)
	}
	return out
}

func unmarshal(t *testing.T, raw json.RawMessage, into any) {
	t.Helper()
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
}

// expectedBool reads an output that is true, false or null (null = fail).
func expectedBool(t *testing.T, raw json.RawMessage) bool {
	t.Helper()
	var want *bool
	unmarshal(t, raw, &want)
	return want != nil && *want
}

// expectedBytes reads a hex output, or nil when it is null.
func expectedBytes(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var want *string
	unmarshal(t, raw, &want)
	if want == nil {
		return nil
	}
	return decodeHex(t, *want)
}

// decodeKeys decodes every key, or reports false when one does not decode
// (the verification must then fail).
func decodeKeys(t *testing.T, list []string) ([]*PublicKey, bool) {
	t.Helper()
	pks := make([]*PublicKey, len(list))
	for i, b := range decodeHexList(t, list) {
		pk, err := PublicKeyFromBytes(b)
		if err != nil {
			return nil, false
		}
		pks[i] = pk
	}
	return pks, true
}

func runSignVector(t *testing.T, v vectorFile) {
	var in struct{ Privkey, Message string }
	unmarshal(t, v.Input, &in)
	want := expectedBytes(t, v.Output)
	sk, err := SecretKeyFromBytes(decodeHex(t, in.Privkey))
	if want == nil {
		if err == nil {
			t.Fatal("secret key decoded, want failure")
		}
		if Sign(&SecretKey{}, decodeHex(t, in.Message)) != nil {
			t.Fatal("the zero key signed")
		}
		return
	}
	if err != nil {
		t.Fatalf("secret key: %v", err)
	}
	msg := decodeHex(t, in.Message)
	sig := Sign(sk, msg)
	if got := sig.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("signature %x, want %x", got, want)
	}
	if !Verify(sk.PublicKey(), msg, sig) {
		t.Fatal("own signature does not verify")
	}
}

func runVerifyVector(t *testing.T, v vectorFile) {
	var in struct{ Pubkey, Message, Signature string }
	unmarshal(t, v.Input, &in)
	want := expectedBool(t, v.Output)
	got := false
	pk, pkErr := PublicKeyFromBytes(decodeHex(t, in.Pubkey))
	sig, sigErr := SignatureFromBytes(decodeHex(t, in.Signature))
	if pkErr == nil && sigErr == nil {
		got = Verify(pk, decodeHex(t, in.Message), sig)
	}
	if got != want {
		t.Fatalf("verify = %v, want %v (key error %v, signature error %v)", got, want, pkErr, sigErr)
	}
}

func runAggregateVector(t *testing.T, v vectorFile) {
	var in []string
	unmarshal(t, v.Input, &in)
	want := expectedBytes(t, v.Output)
	sigs := make([]*Signature, len(in))
	for i, b := range decodeHexList(t, in) {
		sig, err := SignatureFromBytes(b)
		if err != nil {
			if want != nil {
				t.Fatalf("signature %d: %v", i, err)
			}
			return
		}
		sigs[i] = sig
	}
	agg, err := AggregateSignatures(sigs)
	if want == nil {
		if err == nil {
			t.Fatal("aggregate succeeded, want failure")
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := agg.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("aggregate %x, want %x", got, want)
	}
}

func runAggregateVerifyVector(t *testing.T, v vectorFile) {
	var in struct {
		Pubkeys   []string
		Messages  []string
		Signature string
	}
	unmarshal(t, v.Input, &in)
	want := expectedBool(t, v.Output)
	got := false
	pks, ok := decodeKeys(t, in.Pubkeys)
	sig, err := SignatureFromBytes(decodeHex(t, in.Signature))
	if ok && err == nil {
		got = AggregateVerify(pks, decodeHexList(t, in.Messages), sig)
	}
	if got != want {
		t.Fatalf("aggregate verify = %v, want %v", got, want)
	}
}

func runFastAggregateVerifyVector(t *testing.T, v vectorFile) {
	var in struct {
		Pubkeys   []string
		Message   string
		Signature string
	}
	unmarshal(t, v.Input, &in)
	want := expectedBool(t, v.Output)
	got := false
	pks, ok := decodeKeys(t, in.Pubkeys)
	sig, err := SignatureFromBytes(decodeHex(t, in.Signature))
	if ok && err == nil {
		got = FastAggregateVerify(pks, decodeHex(t, in.Message), sig)
	}
	if got != want {
		t.Fatalf("fast aggregate verify = %v, want %v", got, want)
	}
}

func runBatchVerifyVector(t *testing.T, v vectorFile) {
	var in struct {
		Pubkeys    []string
		Messages   []string
		Signatures []string
	}
	unmarshal(t, v.Input, &in)
	want := expectedBool(t, v.Output)
	pks, ok := decodeKeys(t, in.Pubkeys)
	if !ok || len(in.Messages) != len(pks) || len(in.Signatures) != len(pks) {
		if want {
			t.Fatal("malformed input in a valid batch")
		}
		return
	}
	msgs := decodeHexList(t, in.Messages)
	sets := make([]SignatureSet, len(pks))
	var oneByOne []int
	for i := range sets {
		sig, err := SignatureFromBytes(decodeHex(t, in.Signatures[i]))
		if err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		sets[i] = SignatureSet{PublicKey: pks[i], Message: msgs[i], Signature: sig}
		if !Verify(pks[i], msgs[i], sig) {
			oneByOne = append(oneByOne, i)
		}
	}
	rnd := rand.NewChaCha8([32]byte{1})
	if got := BatchVerify(sets, rnd); got != want {
		t.Fatalf("batch verify = %v, want %v", got, want)
	}
	bad := BatchVerifyFindInvalid(sets, rnd)
	if !slices.Equal(bad, oneByOne) || (bad == nil) != want {
		t.Fatalf("invalid sets %v, one by one %v, batch valid %v", bad, oneByOne, want)
	}
}

func runHashToG2Vector(t *testing.T, v vectorFile) {
	var in struct{ Msg string }
	var out struct{ X, Y string }
	unmarshal(t, v.Input, &in)
	unmarshal(t, v.Output, &out)
	// The vector writes each Fp2 coordinate as "c0,c1"; blst serialises an
	// affine G2 point as x.c1 || x.c0 || y.c1 || y.c0.
	var want []byte
	for _, coordinate := range []string{out.X, out.Y} {
		parts := strings.Split(coordinate, ",")
		if len(parts) != 2 {
			t.Fatalf("coordinate %q: want c0,c1", coordinate)
		}
		want = append(want, decodeHex(t, parts[1])...)
		want = append(want, decodeHex(t, parts[0])...)
	}
	got := hashToG2([]byte(in.Msg), []byte(hashToG2DST)).Serialize()
	if !bytes.Equal(got, want) {
		t.Fatalf("hash_to_G2(%q) = %x, want %x", in.Msg, got, want)
	}
}

func runDeserializationG1Vector(t *testing.T, v vectorFile) {
	var in struct{ Pubkey string }
	unmarshal(t, v.Input, &in)
	want := expectedBool(t, v.Output)
	b := decodeHex(t, in.Pubkey)
	point, err := decodeG1(b)
	if (err == nil) != want {
		t.Fatalf("decode point: error %v, want success %v", err, want)
	}
	// A public key is a decodable point that is not the identity (KeyValidate).
	wantKey := want && !isIdentityG1(point)
	pk, err := PublicKeyFromBytes(b)
	if (err == nil) != wantKey {
		t.Fatalf("decode public key: error %v, want success %v", err, wantKey)
	}
	if wantKey && !bytes.Equal(pk.Bytes(), b) {
		t.Fatalf("re-encoded %x, want %x", pk.Bytes(), b)
	}
}

func runDeserializationG2Vector(t *testing.T, v vectorFile) {
	var in struct{ Signature string }
	unmarshal(t, v.Input, &in)
	want := expectedBool(t, v.Output)
	b := decodeHex(t, in.Signature)
	sig, err := SignatureFromBytes(b)
	if (err == nil) != want {
		t.Fatalf("decode signature: error %v, want success %v", err, want)
	}
	if want && !bytes.Equal(sig.Bytes(), b) {
		t.Fatalf("re-encoded %x, want %x", sig.Bytes(), b)
	}
}
