package driver

import (
	"bytes"
	"errors"
	"testing"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/types"
	"github.com/thinkey/thinkey/storage"
)

func sampleAnchor() anchor {
	h := types.Header{
		Version: types.HeaderVersion, ChainID: 3, Height: 41, ParentHash: hash.Sum256([]byte("parent")),
		OuterRelayRoot: hash.Sum256([]byte("relays")), StateRoot: hash.Sum256([]byte("state")),
	}
	return anchorOf(&h, 17)
}

func TestAnchorRecord(t *testing.T) {
	an := sampleAnchor()
	enc := encodeAnchor(an)
	if len(enc) != anchorRecordLen || !bytes.Equal(enc[:32], an.hash[:]) || !bytes.Equal(enc[32:64], an.relayRoot[:]) ||
		!bytes.Equal(enc[64:], []byte{0, 0, 0, 0, 0, 0, 0, 17}) {
		t.Fatalf("anchor record %x does not follow the layout (hash | relay root | recorder height)", enc)
	}
	got, err := decodeAnchor(enc)
	if err != nil || got != an {
		t.Fatalf("anchor does not round-trip: %+v, %v", got, err)
	}
	for name, b := range map[string][]byte{
		"earlier layout (hash | recorder height)": append(an.hash[:], enc[64:]...),
		"truncated": enc[:len(enc)-1],
		"trailing":  append(bytes.Clone(enc), 0),
		"empty":     nil,
	} {
		if _, err := decodeAnchor(b); !errors.Is(err, storage.ErrCorruption) {
			t.Errorf("%s: %v, want ErrCorruption", name, err)
		}
	}
}

// FuzzDecodeAnchor checks that the anchor record decoder never panics and
// that what it accepts re-encodes to the same bytes.
func FuzzDecodeAnchor(f *testing.F) {
	f.Add(encodeAnchor(sampleAnchor()))
	f.Fuzz(func(t *testing.T, b []byte) {
		an, err := decodeAnchor(b)
		if err != nil {
			if !errors.Is(err, storage.ErrCorruption) {
				t.Fatalf("error %v is not ErrCorruption", err)
			}
			return
		}
		if again := encodeAnchor(an); !bytes.Equal(again, b) {
			t.Fatalf("anchor %x re-encodes to %x", b, again)
		}
	})
}
