package genesis_test

import (
	"bytes"
	"testing"

	"github.com/thinkey/thinkey/node/genesis"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// marshals to a text it accepts again, with the same hash, and yields the
// genesis headers of every chain.
func FuzzParse(f *testing.F) {
	text, err := validGenesis(f).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(text)
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := genesis.Parse(data)
		if err != nil {
			return
		}
		canonical, err := g.Marshal()
		if err != nil {
			t.Fatalf("accepted genesis does not marshal: %v", err)
		}
		again, err := genesis.Parse(canonical)
		if err != nil {
			t.Fatalf("canonical text refused: %v", err)
		}
		text2, err := again.Marshal()
		if err != nil || !bytes.Equal(canonical, text2) {
			t.Fatalf("canonical text is not stable: %v", err)
		}
		if _, err := g.Headers(); err != nil {
			t.Fatalf("accepted genesis has no headers: %v", err)
		}
	})
}
