package consensus

import (
	"fmt"

	"github.com/thinkey/thinkey/node/types"
)

// CheckDecisionCertificate checks the shape a decision certificate must have
// for a committee of committeeSize members, as the core requires of a
// Decision it adopts: a confirm certificate of at least a quorum, or a
// prepare-stage certificate (prepare or leader faulty) of all n members,
// the early decision. It checks what ValidateBasic checks too, but not the
// aggregate signature, which the caller verifies against the committee's
// keys. Recorder chains (node/rootchain) and light clients (node/light) use
// it to accept another committee's decision.
func CheckDecisionCertificate(cert *types.Certificate, committeeSize int) error {
	if cert == nil {
		return fmt.Errorf("decision certificate: %w: missing", ErrInvalid)
	}
	if err := validateCertificate(cert); err != nil {
		return fmt.Errorf("decision certificate: %w", err)
	}
	if committeeSize <= 0 || cert.Signers.CommitteeSize() != committeeSize {
		return fmt.Errorf("decision certificate: %w: for a committee of %d, this one has %d",
			ErrInvalid, committeeSize, cert.Signers.CommitteeSize())
	}
	th := ThresholdsFor(committeeSize)
	need := th.Quorum
	switch {
	case cert.Kind == types.VoteConfirm:
	case isPrepareStage(cert.Kind):
		need = th.N
		if cert.Kind != prepareKindFor(cert.BlockHash) {
			return fmt.Errorf("decision certificate: %w: %v certificate names value %v", ErrInvalid, cert.Kind, cert.BlockHash)
		}
	default:
		return fmt.Errorf("decision certificate: %w: kind %v decides nothing", ErrInvalid, cert.Kind)
	}
	if got := cert.SignerCount(); got < need {
		return fmt.Errorf("decision certificate: %w: %d signers, need %d", ErrInvalid, got, need)
	}
	return nil
}
