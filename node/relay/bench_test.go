package relay

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/thinkey/thinkey/node/exec"
	"github.com/thinkey/thinkey/node/types"
)

// benchFixture is a relay in a block of 1000 relays, by reference (lifts
// < 0) or in the full form with lifts hops.
func benchFixture(b *testing.B, lifts int) (Verifier, types.Message, []byte) {
	b.Helper()
	topo := testTopology(b)
	source, dest := chainA, chainB
	if lifts > 0 {
		source, dest = chainB, chainA
	}
	msgs := make([]types.Message, 1000)
	for i := range msgs {
		msgs[i] = relayMsg(source, dest, uint64(i))
	}
	h, body := sourceBlock(source, 10, msgs)
	out := outbox(b, &h, &body, topo)
	pkg := out[len(out)/2].Package
	anc := anchors{}
	if lifts < 0 {
		anc.confirm(&h)
		return Verifier{Chain: dest, Topology: topo, Anchors: anc, Consumed: consumed{}}, pkg.Message, pkg.Proof
	}
	pkg = fullForm(b, pkg, &h)
	last := &h
	for i := range lifts {
		c, _ := topo.Chain(last.ChainID)
		// A recorder block of 64 records.
		others := make([]*types.Header, 63)
		for j := range others {
			others[j] = &types.Header{Version: types.HeaderVersion, ChainID: chainC, Height: types.Height(j + 1)}
		}
		rh, paths := recorderBlock(b, c.Parent, types.Height(7+i), append(others, last)...)
		var err error
		if pkg, err = LiftPackage(pkg, &h, &rh, paths[len(paths)-1]); err != nil {
			b.Fatal(err)
		}
		last = &rh
	}
	anc.confirm(last)
	v := Verifier{Chain: dest, Topology: topo, Anchors: anc, Consumed: consumed{}}
	return v, pkg.Message, pkg.Proof
}

func benchmarkVerify(b *testing.B, lifts int) {
	v, msg, proof := benchFixture(b, lifts)
	b.ReportAllocs()
	b.SetBytes(int64(len(proof)))
	for b.Loop() {
		if err := v.VerifyRelay(&msg, proof); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRelayRef(b *testing.B)     { benchmarkVerify(b, -1) }
func BenchmarkVerifyRelayNoLift(b *testing.B)  { benchmarkVerify(b, 0) }
func BenchmarkVerifyRelayOneLift(b *testing.B) { benchmarkVerify(b, 1) }

func BenchmarkOutbox1000(b *testing.B) {
	topo := testTopology(b)
	msgs := make([]types.Message, 1000)
	for i := range msgs {
		msgs[i] = relayMsg(chainA, chainB+types.ChainID(i%2), uint64(i))
	}
	h, body := sourceBlock(chainA, 10, msgs)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Outbox(&h, &body, topo); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInboxReady1000 is a leader taking 1000 checked relays from its
// inbox: the per-block cost once the proofs' paths were checked.
func BenchmarkInboxReady1000(b *testing.B) {
	topo := testTopology(b)
	msgs := make([]types.Message, 1000)
	for i := range msgs {
		msgs[i] = relayMsg(chainA, chainB, uint64(i))
	}
	h, body := sourceBlock(chainA, 10, msgs)
	in := NewInbox(chainB, topo, 2000)
	for _, a := range outbox(b, &h, &body, topo) {
		if err := in.Add(a.Package); err != nil {
			b.Fatal(err)
		}
	}
	anc := anchors{}
	anc.confirm(&h)
	v := Verifier{Chain: chainB, Topology: topo, Anchors: anc, Consumed: consumed{}}
	b.ReportAllocs()
	for b.Loop() {
		if got := in.Ready(&v, 1000); len(got) != 1000 {
			b.Fatalf("%d ready", len(got))
		}
	}
}

// groupFixture is a destination block's 700 relays of one source block of
// 2,000, at random positions, with stand-alone proofs, and the verifier of
// the destination.
func groupFixture(b *testing.B) (Verifier, []exec.Input) {
	b.Helper()
	topo := testTopology(b)
	msgs := make([]types.Message, 2000)
	for i := range msgs {
		msgs[i] = relayMsg(chainA, chainB, uint64(i))
	}
	h, body := sourceBlock(chainA, 10, msgs)
	var inputs []exec.Input
	for _, a := range outbox(b, &h, &body, topo) {
		inputs = append(inputs, a.Package.Input())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(inputs), func(i, j int) { inputs[i], inputs[j] = inputs[j], inputs[i] })
	anc := anchors{}
	anc.confirm(&h)
	return Verifier{Chain: chainB, Topology: topo, Anchors: anc, Consumed: consumed{}}, slices.Clip(inputs[:700])
}

func proofBytes(inputs []exec.Input) int {
	n := 0
	for i := range inputs {
		n += len(inputs[i].Proof)
	}
	return n
}

// BenchmarkVerifyRelaysGroup700 is a member checking a block's 700 relays
// of one source block of 2,000 under one packed group proof; it reports
// the time and the proof bytes per relay.
func BenchmarkVerifyRelaysGroup700(b *testing.B) {
	v, inputs := groupFixture(b)
	packed, _ := v.PackRelays(inputs)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyRelays(packed); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/700, "ns/relay")
	b.ReportMetric(float64(proofBytes(packed))/700, "proof-B/relay")
}

// BenchmarkVerifyRelaysStandAlone700 is the same block with the 700
// stand-alone reference proofs.
func BenchmarkVerifyRelaysStandAlone700(b *testing.B) {
	v, inputs := groupFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyRelays(inputs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/700, "ns/relay")
	b.ReportMetric(float64(proofBytes(inputs))/700, "proof-B/relay")
}

// BenchmarkPackRelays700 is the leader packing those 700 relays (merging
// the paths and checking the group).
func BenchmarkPackRelays700(b *testing.B) {
	v, inputs := groupFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := v.PackRelays(inputs); !ok {
			b.Fatal("declined")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/700, "ns/relay")
}
