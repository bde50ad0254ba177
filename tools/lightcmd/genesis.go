package lightcmd

import (
	"errors"
	"fmt"
	"os"

	"github.com/thinkey/thinkey/crypto/bls"
	"github.com/thinkey/thinkey/node/chains"
	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/types"
)

// ErrNoRootCommittee: the genesis file names no root committee.
var ErrNoRootCommittee = errors.New("genesis has no root committee")

// Network is what a light client takes from the genesis file: the root
// committee's keys, which it trusts, and the topology, with which it also
// checks that each lift of a proof goes to the recorder of the chain below.
type Network struct {
	// RootKeys are the root committee's BLS public keys, by validator
	// index; node/genesis checked their proofs of possession.
	RootKeys []*bls.PublicKey
	Topology *chains.Topology
}

// LoadGenesis reads a genesis file (ParseGenesis).
func LoadGenesis(path string) (Network, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Network{}, err
	}
	if info.Size() > genesis.MaxFileSize {
		return Network{}, fmt.Errorf("%s: %d bytes, at most %d", path, info.Size(), genesis.MaxFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Network{}, err
	}
	n, err := ParseGenesis(data)
	if err != nil {
		return Network{}, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// ParseGenesis returns the root committee and the topology of a genesis
// file. node/genesis parses and validates the whole file (every key's
// proof of possession included, which makes aggregating the keys safe);
// the root committee is the committee of chain 0.
//
// This is the one place the light client reads a genesis file.
func ParseGenesis(data []byte) (Network, error) {
	g, err := genesis.Parse(data)
	if err != nil {
		return Network{}, err
	}
	keys := g.PublicKeys(types.RootChain)
	if len(keys) == 0 {
		return Network{}, ErrNoRootCommittee
	}
	topo, err := g.Topology()
	if err != nil {
		return Network{}, err
	}
	return Network{RootKeys: keys, Topology: topo}, nil
}
