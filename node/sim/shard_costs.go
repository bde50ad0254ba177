package sim

import (
	"errors"
	"fmt"
	"time"
)

// ShardCosts is the virtual CPU a member of a sharded network is charged
// for its work on top of consensus (CPUCosts): executing and checking
// transaction-chain blocks, admitting signed messages, checking relay
// proofs and recorder-chain records. The defaults are the figures of
// docs/PERFORMANCE.md, machine profile "ci-2c" (see DefaultShardCosts and
// the package documentation, "Sharded networks: cost model").
type ShardCosts struct {
	// Consensus prices the consensus work: BLS signatures and certificate
	// checks, the synced write of a commit, message handling.
	Consensus CPUCosts
	// Ed25519PerSignature is one account signature checked in a batch
	// (ed25519 stage, batch of 256: 13.9 µs): a mempool admission, and
	// every external input of a block built or checked.
	Ed25519PerSignature time.Duration
	// ExecBuildPerMessage and ExecCheckPerMessage are the execution of one
	// processed message (an input or an inter-relay message) by the
	// leader's Execute and by a member's Verify, signatures and the state
	// root aside (exec stage: 21.97 and 19.08 ms per block of 1,000
	// payments of two messages each, less the Ed25519 batch and the state
	// root).
	ExecBuildPerMessage time.Duration
	ExecCheckPerMessage time.Duration
	// StateRootPerAccount is the state root's cost per account of the
	// chain, paid by every block built or checked (node/exec: about 3 ms
	// for 10,000 accounts).
	StateRootPerAccount time.Duration
	// PersistPerWrite is what each account written adds to a commit's
	// synced write (pebble stage: 0.24 ms for 10 writes, 2.21 ms for
	// 1,000).
	PersistPerWrite time.Duration
	// RelayProof is one relay proof checked: the source header hashed and
	// the Merkle path verified (merkle stage: 1.5 µs a path); RelayLift is
	// each lift of it.
	RelayProof time.Duration
	RelayLift  time.Duration
	// RelayGroupPerRelay is what each relay of a packed group adds to the
	// group's RelayProof: its message and leaf hashed and its share of the
	// multi-proof's inner hashes. node/relay's BenchmarkVerifyRelaysGroup700
	// against BenchmarkVerifyRelaysStandAlone700 (700 relays of a block of
	// 2,000) gives 0.39 to 0.46 of a stand-alone proof per relay; priced
	// at half a RelayProof. RelayPackPerRelay is the leader's packing of
	// one relay (merging its path, then the group check): 1.25 times the
	// check (BenchmarkPackRelays700).
	RelayGroupPerRelay time.Duration
	RelayPackPerRelay  time.Duration
	// RecordCheck is a recorder's check of one record besides its
	// certificate (header hash, linkage, leaf); the certificate is priced
	// as a BLS certificate check (Consensus.Verify plus
	// Consensus.CertificatePerSigner per signer).
	RecordCheck time.Duration
}

// DefaultShardCosts returns the costs of the "ci-2c" profile of
// docs/PERFORMANCE.md.
func DefaultShardCosts() ShardCosts {
	return ShardCosts{
		Consensus:           DefaultCPUCosts(),
		Ed25519PerSignature: 14 * time.Microsecond,
		ExecBuildPerMessage: 3200 * time.Nanosecond,
		ExecCheckPerMessage: 1800 * time.Nanosecond,
		StateRootPerAccount: 300 * time.Nanosecond,
		PersistPerWrite:     2 * time.Microsecond,
		RelayProof:          2 * time.Microsecond,
		RelayLift:           1500 * time.Nanosecond,
		RelayGroupPerRelay:  1 * time.Microsecond,
		RelayPackPerRelay:   1250 * time.Nanosecond,
		RecordCheck:         2 * time.Microsecond,
	}
}

// Validate reports every negative cost at once.
func (c ShardCosts) Validate() error {
	errs := []error{c.Consensus.Validate()}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"ed25519 per signature", c.Ed25519PerSignature}, {"exec build per message", c.ExecBuildPerMessage},
		{"exec check per message", c.ExecCheckPerMessage}, {"state root per account", c.StateRootPerAccount},
		{"persist per write", c.PersistPerWrite}, {"relay proof", c.RelayProof}, {"relay lift", c.RelayLift},
		{"relay group per relay", c.RelayGroupPerRelay}, {"relay pack per relay", c.RelayPackPerRelay},
		{"record check", c.RecordCheck},
	} {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("%w: shard costs: %s %v is negative", ErrInvalidConfig, f.name, f.d))
		}
	}
	return errors.Join(errs...)
}

// certificateCost is the price of checking one decision certificate of
// signers signers.
func (c *ShardCosts) certificateCost(signers int) time.Duration {
	return c.Consensus.Verify + time.Duration(signers)*c.Consensus.CertificatePerSigner
}
