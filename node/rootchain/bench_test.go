package rootchain

import (
	"fmt"
	"testing"

	"github.com/thinkey/thinkey/node/types"
)

// BenchmarkVerify measures a member's check of a recorder block of 8 and
// 64 records (8 chains, 1 and 8 heights each) with the stand-in signature:
// what the recorder itself costs besides the child committees' BLS checks.
func BenchmarkVerify(b *testing.B) {
	for _, perChain := range []int{1, 8} {
		topo := mustUniform(b, 8)
		g := genesisOf(topo)
		st := mustState(b, topo, types.RootChain)
		c := committeesFor(topo, types.RootChain)
		var pending []Record
		for id := types.ChainID(1); id <= 8; id++ {
			pending = append(pending, history(b, g[id], perChain, map[int]bool{2: true}, byte(id))...)
		}
		res, err := Execute(st, pending, c, Limits{})
		if err != nil || len(res.Body.Records) != 8*perChain {
			b.Fatalf("execute: %v", err)
		}
		header := headerFor(st, &res)
		b.Run(fmt.Sprintf("records=%d", 8*perChain), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Verify(st, &header, &res.Body, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
