package sim_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/thinkey/thinkey/node/consensus"
	"github.com/thinkey/thinkey/node/sim"
	"github.com/thinkey/thinkey/node/types"
	"pgregory.net/rapid"
)

// The stand-in scheme is only worth its speed if it says what BLS says.
// Each scenario below is built once per scheme, each with its own keys, and
// both verifiers must return the expected verdicts.

const verifierN = 4

func keyrings(t testing.TB) map[sim.SignatureScheme]*sim.Keyring {
	t.Helper()
	out := map[sim.SignatureScheme]*sim.Keyring{}
	for _, scheme := range []sim.SignatureScheme{sim.SchemeStandIn, sim.SchemeBLS} {
		k, err := sim.NewKeyring(scheme, verifierN)
		if err != nil {
			t.Fatal(err)
		}
		out[scheme] = k
	}
	return out
}

func newTestVerifier(k *sim.Keyring) *sim.Verifier {
	return sim.NewVerifier(k, sim.DefaultCPUCosts(), rand.NewChaCha8([32]byte{1}), func(*consensus.Block) bool { return true })
}

// tamper is how a test statement departs from a valid signature.
type tamper int

const (
	valid        tamper = iota
	forged              // signed with another member's key
	wrongMessage        // the signer's signature of another message
	garbage             // 96 bytes that are no signature
	tamperCount
)

func (tm tamper) String() string {
	return [...]string{"valid", "forged", "wrong-message", "garbage"}[tm]
}

// sign returns member i's signature of msg under tm.
func sign(k *sim.Keyring, i types.ValidatorIndex, msg []byte, tm tamper) [types.BLSSignatureSize]byte {
	switch tm {
	case forged:
		return k.Signer((i + 1) % verifierN).Sign(msg)
	case wrongMessage:
		return k.Signer(i).Sign(append(slices.Clone(msg), 'x'))
	case garbage:
		var sig [types.BLSSignatureSize]byte
		for j := range sig {
			sig[j] = byte(j*7 + int(i))
		}
		return sig
	}
	return k.Signer(i).Sign(msg)
}

func testVote(voter types.ValidatorIndex) types.Vote {
	return types.Vote{ChainID: 1, Height: 5, Round: 2, Kind: types.VotePrepare, BlockHash: types.Hash{9, 9, 9}, Voter: voter}
}

// Property: for any mix of valid, forged, wrong-message and garbage votes
// on one block, the same-message batch of both schemes names exactly the
// tampered votes; so does the distinct-message batch over the same
// signatures; and both count the same work.
func TestStandInAgreesWithBLSOnVoteBatches(t *testing.T) {
	rings := keyrings(t)
	rapid.Check(t, func(rt *rapid.T) {
		count := rapid.IntRange(1, verifierN).Draw(rt, "votes")
		tampers := make([]tamper, count)
		var want []int
		for i := range tampers {
			tampers[i] = tamper(rapid.IntRange(0, int(tamperCount)-1).Draw(rt, "tamper"))
			if tampers[i] != valid {
				want = append(want, i)
			}
		}
		var works []sim.SignatureWork
		for scheme, k := range rings {
			votes := make([]types.Vote, count)
			checks := make([]consensus.SignatureCheck, count)
			for i := range votes {
				votes[i] = testVote(types.ValidatorIndex(i))
				votes[i].Signature = sign(k, types.ValidatorIndex(i), votes[i].SigningBytes(), tampers[i])
				checks[i] = consensus.SignatureCheck{Signer: votes[i].Voter, Message: votes[i].SigningBytes(), Signature: votes[i].Signature}
			}
			v := newTestVerifier(k)
			res, _ := v.Answer(consensus.VerifyRequest{ID: 1, Kind: consensus.VerifySameMessageVotes, SigningBytes: votes[0].SigningBytes(), Votes: votes})
			if !slices.Equal(res.Invalid, want) {
				rt.Fatalf("%v: same-message batch %v names %v invalid, want %v", scheme, tampers, res.Invalid, want)
			}
			res, _ = v.Answer(consensus.VerifyRequest{ID: 2, Kind: consensus.VerifySignatures, Signatures: checks})
			for i, ok := range res.Valid {
				if ok != (tampers[i] == valid) {
					rt.Fatalf("%v: distinct batch says %v for a %v signature", scheme, ok, tampers[i])
				}
			}
			works = append(works, v.Work())
		}
		if works[0] != works[1] {
			rt.Fatalf("work differs between schemes: %+v and %+v", works[0], works[1])
		}
	})
}

// Certificates: the right signer set verifies; a wrong set, a missing
// signature, another message, another committee size or a tampered vote
// inside the aggregate does not, under both schemes.
func TestStandInAgreesWithBLSOnCertificates(t *testing.T) {
	tests := []struct {
		name    string
		signed  []types.ValidatorIndex // whose signatures are aggregated
		claimed []types.ValidatorIndex // the certificate's signer set
		tamper  tamper                 // of the last aggregated signature
		size    int
		want    bool
	}{
		{"valid", []types.ValidatorIndex{0, 1, 2}, []types.ValidatorIndex{0, 1, 2}, valid, verifierN, true},
		{"all members", []types.ValidatorIndex{0, 1, 2, 3}, []types.ValidatorIndex{0, 1, 2, 3}, valid, verifierN, true},
		{"wrong signer set", []types.ValidatorIndex{0, 1, 2}, []types.ValidatorIndex{0, 1, 3}, valid, verifierN, false},
		{"a signature missing", []types.ValidatorIndex{0, 1}, []types.ValidatorIndex{0, 1, 2}, valid, verifierN, false},
		{"a forged signature", []types.ValidatorIndex{0, 1, 2}, []types.ValidatorIndex{0, 1, 2}, forged, verifierN, false},
		{"another message", []types.ValidatorIndex{0, 1, 2}, []types.ValidatorIndex{0, 1, 2}, wrongMessage, verifierN, false},
		{"another committee", []types.ValidatorIndex{0, 1, 2}, []types.ValidatorIndex{0, 1, 2}, valid, verifierN + 1, false},
	}
	rings := keyrings(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for scheme, k := range rings {
				signers, err := types.NewSignerSet(tc.size)
				if err != nil {
					t.Fatal(err)
				}
				for _, i := range tc.claimed {
					if err := signers.Add(i); err != nil {
						t.Fatal(err)
					}
				}
				cert := types.Certificate{ChainID: 1, Height: 5, Round: 2, Kind: types.VotePrepare, BlockHash: types.Hash{9, 9, 9}, Signers: signers}
				msg := cert.VoteSigningBytes()
				var sigs [][types.BLSSignatureSize]byte
				for j, i := range tc.signed {
					tm := valid
					if j == len(tc.signed)-1 {
						tm = tc.tamper
					}
					sigs = append(sigs, sign(k, i, msg, tm))
				}
				agg, err := k.Aggregator().Aggregate(sigs)
				if err != nil {
					t.Fatalf("%v: aggregate: %v", scheme, err)
				}
				cert.AggregateSignature = agg
				v := newTestVerifier(k)
				res, cost := v.Answer(consensus.VerifyRequest{ID: 1, Kind: consensus.VerifyCertificate, Certificate: &cert})
				if res.OK != tc.want || k.VerifyCertificate(&cert) != tc.want {
					t.Fatalf("%v: certificate verdict %v, want %v", scheme, res.OK, tc.want)
				}
				if cost < sim.DefaultCPUCosts().Verify {
					t.Fatalf("%v: a certificate check charged %v, less than one verification", scheme, cost)
				}
			}
		})
	}
}

// Costs follow the model: a same-message batch of k valid votes is one
// aggregate check plus k decodings; a bad vote adds bisection checks.
func TestVerifierChargesTheCostModel(t *testing.T) {
	k, err := sim.NewKeyring(sim.SchemeStandIn, verifierN)
	if err != nil {
		t.Fatal(err)
	}
	costs := sim.DefaultCPUCosts()
	v := sim.NewVerifier(k, costs, nil, func(*consensus.Block) bool { return false })
	votes := make([]types.Vote, verifierN)
	for i := range votes {
		votes[i] = testVote(types.ValidatorIndex(i))
		votes[i].Signature = sign(k, types.ValidatorIndex(i), votes[i].SigningBytes(), valid)
	}
	req := consensus.VerifyRequest{ID: 1, Kind: consensus.VerifySameMessageVotes, SigningBytes: votes[0].SigningBytes(), Votes: votes}
	if _, cost := v.Answer(req); cost != costs.SameMessageBase+verifierN*costs.SameMessagePerVote {
		t.Fatalf("valid batch of %d cost %v", verifierN, cost)
	}
	votes[3].Signature = sign(k, 3, votes[3].SigningBytes(), garbage)
	if _, cost := v.Answer(req); cost != 3*costs.SameMessageBase+verifierN*costs.SameMessagePerVote {
		t.Fatalf("batch with its last vote bad cost %v, want three aggregate checks", cost)
	}
	res, cost := v.Answer(consensus.VerifyRequest{ID: 3, Kind: consensus.VerifyBlock, Block: &consensus.Block{}})
	if res.OK || cost != costs.BlockCheck {
		t.Fatalf("block check: %+v, cost %v", res, cost)
	}
	w := v.Work()
	if w.SameMessageBatches != 2 || w.AggregateChecks != 4 || w.SignaturesVerified != 2*verifierN || w.Invalid != 1 || w.Blocks != 1 {
		t.Fatalf("work %+v", w)
	}
}

func TestKeyringAndCostValidation(t *testing.T) {
	if _, err := sim.NewKeyring(sim.SchemeStandIn, 0); !errors.Is(err, sim.ErrInvalidConfig) {
		t.Errorf("keyring of 0: %v", err)
	}
	if _, err := sim.NewKeyring(sim.SignatureScheme(9), 4); !errors.Is(err, sim.ErrInvalidConfig) {
		t.Errorf("keyring of an unknown scheme: %v", err)
	}
	for _, name := range []string{"standin", "bls"} {
		s, err := sim.ParseSignatureScheme(name)
		if err != nil || s.String() != name {
			t.Errorf("ParseSignatureScheme(%q) = %v, %v", name, s, err)
		}
	}
	if _, err := sim.ParseSignatureScheme("ed25519"); !errors.Is(err, sim.ErrInvalidConfig) {
		t.Errorf("ParseSignatureScheme(ed25519): %v", err)
	}
	costs := sim.DefaultCPUCosts()
	costs.Sign, costs.Persist = -time.Millisecond, -1
	if err := costs.Validate(); !errors.Is(err, sim.ErrInvalidConfig) || len(err.(interface{ Unwrap() []error }).Unwrap()) != 2 {
		t.Errorf("Validate of two negative costs: %v", err)
	}
	k, err := sim.NewKeyring(sim.SchemeStandIn, verifierN)
	if err != nil {
		t.Fatal(err)
	}
	if k.Signer(verifierN) != nil || k.VerifySignature(verifierN, []byte("m"), [types.BLSSignatureSize]byte{}) {
		t.Error("a non-member signs or verifies")
	}
}
