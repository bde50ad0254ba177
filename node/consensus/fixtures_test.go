package consensus

import (
	"crypto/sha256"
	"fmt"

	"github.com/thinkey/thinkey/node/types"
)

// Fixtures for codec and validation tests: well-formed values signed with
// the stand-in signer of the harness.

func sampleBlock(h types.Height, tag string) *Block {
	hd := types.Header{Version: types.HeaderVersion, ChainID: testChain, Height: h, Round: 0, Proposer: 1, TimestampMillis: 1_700_000_000_000}
	hd.ParentHash = sha256.Sum256([]byte(fmt.Sprintf("parent %d", h)))
	hd.StateRoot = sha256.Sum256([]byte(tag))
	return &Block{Header: hd, Body: []byte("body of " + tag)}
}

// sampleCertificate aggregates stand-in votes of the first signers members
// of a committee of n.
func sampleCertificate(n, signers int, h types.Height, r types.Round, kind types.VoteKind, value types.Hash) types.Certificate {
	set, err := types.NewSignerSet(n)
	if err != nil {
		panic(err)
	}
	c := types.Certificate{ChainID: testChain, Height: h, Round: r, Kind: kind, BlockHash: value}
	var sigs [][types.BLSSignatureSize]byte
	for i := range signers {
		_ = set.Add(types.ValidatorIndex(i))
		v := signedVote(i, h, r, kind, value)
		sigs = append(sigs, v.Signature)
	}
	c.Signers = set
	c.AggregateSignature, _ = xorAggregator{}.Aggregate(sigs)
	return c
}

func sampleProposalRound0() *Proposal {
	p := &Proposal{ChainID: testChain, Height: 5, Round: 0, Proposer: Leader(5, 0, 4), Block: sampleBlock(5, "a")}
	p.Signature = standInSignature(memberSecret(int(p.Proposer)), p.SigningBytes())
	return p
}

// sampleProposalJustified is a round-2 proposal of the locked value, with a
// justification of three round changes (n = 4).
func sampleProposalJustified() *Proposal {
	b := sampleBlock(5, "a")
	v := b.Hash()
	cert := sampleCertificate(4, 3, 5, 1, types.VotePrepare, v)
	last0 := signedVote(0, 5, 1, types.VotePrepare, v)
	last2 := signedVote(2, 5, 0, types.VoteLeaderFaulty, types.Hash{})
	just := []RoundChange{
		*signedRoundChange(0, 5, 2, &cert, &last0),
		*signedRoundChange(1, 5, 2, nil, nil),
		*signedRoundChange(2, 5, 2, nil, &last2),
	}
	for i := range just {
		just[i].ChainID = testChain
	}
	p := &Proposal{ChainID: testChain, Height: 5, Round: 2, Proposer: Leader(5, 2, 4), Block: b, Justification: just}
	p.Signature = standInSignature(memberSecret(int(p.Proposer)), p.SigningBytes())
	return p
}

func sampleProposalEmpty() *Proposal {
	p := sampleProposalJustified()
	p.Block = nil
	p.Signature = standInSignature(memberSecret(int(p.Proposer)), p.SigningBytes())
	return p
}

func samplePrepare() *Prepare {
	return &Prepare{Vote: signedVote(2, 5, 0, types.VotePrepare, sampleBlock(5, "a").Hash())}
}

func sampleLeaderFaulty() *Prepare {
	return &Prepare{Vote: signedVote(2, 5, 0, types.VoteLeaderFaulty, types.Hash{})}
}

func sampleConfirm() *Confirm {
	v := sampleBlock(5, "a").Hash()
	return &Confirm{Vote: signedVote(3, 5, 1, types.VoteConfirm, v), PrepareCertificate: sampleCertificate(4, 3, 5, 1, types.VotePrepare, v)}
}

func sampleConfirmEmpty() *Confirm {
	return &Confirm{Vote: signedVote(3, 5, 0, types.VoteConfirm, types.Hash{}), PrepareCertificate: sampleCertificate(4, 3, 5, 0, types.VoteLeaderFaulty, types.Hash{})}
}

func sampleRoundChange() *RoundChange {
	v := sampleBlock(5, "a").Hash()
	cert := sampleCertificate(4, 3, 5, 1, types.VotePrepare, v)
	last := signedVote(1, 5, 1, types.VotePrepare, v)
	return signedRoundChange(1, 5, 2, &cert, &last)
}

func sampleDecision() *Decision {
	b := sampleBlock(5, "a")
	return &Decision{Block: b, Certificate: sampleCertificate(4, 3, 5, 0, types.VoteConfirm, b.Hash())}
}

func sampleDecisionFast() *Decision {
	b := sampleBlock(5, "a")
	return &Decision{Block: b, Certificate: sampleCertificate(4, 4, 5, 0, types.VotePrepare, b.Hash())}
}

func sampleDecisionEmpty() *Decision {
	return &Decision{Certificate: sampleCertificate(4, 3, 5, 0, types.VoteConfirm, types.Hash{})}
}

func sampleVoteEvidence() Evidence {
	return Evidence{Kind: EvidenceVotes, Votes: [2]types.Vote{
		signedVote(3, 5, 0, types.VotePrepare, sampleBlock(5, "a").Hash()),
		signedVote(3, 5, 0, types.VoteLeaderFaulty, types.Hash{}),
	}}
}

func sampleProposalEvidence() Evidence {
	a := sampleProposalRound0()
	b := *a
	b.Block = sampleBlock(5, "b")
	b.Signature = standInSignature(memberSecret(int(b.Proposer)), b.SigningBytes())
	return Evidence{Kind: EvidenceProposals, Proposals: [2]SignedProposal{a.Statement(), b.Statement()}}
}

func samplePersistentState() PersistentState {
	b := sampleBlock(5, "a")
	v := b.Hash()
	cert := sampleCertificate(4, 3, 5, 1, types.VotePrepare, v)
	last := signedVote(0, 5, 1, types.VotePrepare, v)
	conf := signedVote(0, 5, 1, types.VoteConfirm, v)
	prev := &Decision{Block: sampleBlock(4, "prev"), Certificate: sampleCertificate(4, 3, 4, 0, types.VoteConfirm, sampleBlock(4, "prev").Hash())}
	return PersistentState{ChainID: testChain, Height: 5, Round: 1, LastPrepare: &last, LastConfirm: &conf, Lock: &cert, Blocks: []Block{*b}, PreviousDecision: prev}
}
