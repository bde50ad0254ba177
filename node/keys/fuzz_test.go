package keys_test

import (
	"bytes"
	"testing"

	"github.com/thinkey/thinkey/node/keys"
)

// FuzzParse checks that Parse never panics on any file and that a key it
// accepts writes back to a file it reads as the same key.
func FuzzParse(f *testing.F) {
	k, err := keys.Generate(seeded(9))
	if err != nil {
		f.Fatal(err)
	}
	good, err := k.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := keys.Parse(data)
		if err != nil {
			return
		}
		out, err := k.Marshal()
		if err != nil {
			t.Fatalf("accepted key does not marshal: %v", err)
		}
		again, err := keys.Parse(out)
		if err != nil || !bytes.Equal(again.BLS.Bytes(), k.BLS.Bytes()) || again.Identity.Seed() != k.Identity.Seed() {
			t.Fatalf("re-parsed key differs: %v", err)
		}
	})
}
