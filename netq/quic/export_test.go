package quic

import (
	"crypto/tls"

	"github.com/thinkey/thinkey/netq"
)

// CodeFrameTooLargeForTest exposes the application error code to the
// external tests that play a misbehaving peer.
const CodeFrameTooLargeForTest = codeFrameTooLarge

// ClientTLSConfigForTest returns the TLS configuration a transport with
// identity id uses to dial the peer expected.
func ClientTLSConfigForTest(id netq.Identity, expected netq.PeerID) (*tls.Config, error) {
	cert, err := selfSignedCertificate(id)
	if err != nil {
		return nil, err
	}
	return clientTLSConfig(cert, &dialCheck{expected: expected}), nil
}
