package quic

import (
	stded25519 "crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/thinkey/thinkey/netq"
)

// ALPN is the application protocol negotiated in every handshake; a peer
// speaking another version of the framing fails the handshake.
const ALPN = "thinkey/1"

// serverName is sent as SNI. Peers are authenticated by key, not by name,
// so it is a constant that reveals nothing about the node.
const serverName = "thinkey"

// Validity of the self-signed certificates. Neither side checks dates (the
// binding is key to PeerID, not a CA's statement), so the window is wide
// and fixed, which also keeps certificates reproducible from the key.
var (
	certNotBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// selfSignedCertificate returns a certificate for the identity's Ed25519
// key, signed by that key.
func selfSignedCertificate(id netq.Identity) (tls.Certificate, error) {
	signer := id.Signer()
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: id.PeerID().String()},
		NotBefore:             certNotBefore,
		NotAfter:              certNotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	// Ed25519 signing is deterministic; rand is read by no step of it.
	der, err := x509.CreateCertificate(rand.Reader, template, template, signer.Public(), signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create self-signed certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse own certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: signer, Leaf: leaf}, nil
}

// peerIDOfCertificates checks the certificate chain a peer presented and
// returns the PeerID its key hashes to. The chain must be exactly one
// self-signed certificate with an Ed25519 key of large order. Possession of
// the key is proven separately by the TLS 1.3 CertificateVerify message,
// which crypto/tls checks against this same certificate.
func peerIDOfCertificates(rawCerts [][]byte) (netq.PeerID, error) {
	if len(rawCerts) != 1 {
		return netq.PeerID{}, fmt.Errorf("%w: peer presented %d certificates, want 1", netq.ErrIdentityMismatch, len(rawCerts))
	}
	cert, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return netq.PeerID{}, fmt.Errorf("%w: parse peer certificate: %w", netq.ErrIdentityMismatch, err)
	}
	pub, ok := cert.PublicKey.(stded25519.PublicKey)
	if !ok {
		return netq.PeerID{}, fmt.Errorf("%w: peer certificate key is %T, want Ed25519", netq.ErrIdentityMismatch, cert.PublicKey)
	}
	// CheckSignatureFrom would demand a CA certificate; the self-signature
	// is checked directly against the certificate's own key instead.
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return netq.PeerID{}, fmt.Errorf("%w: peer certificate is not self-signed: %w", netq.ErrIdentityMismatch, err)
	}
	id, err := netq.PeerIDFromPublicKey(pub)
	if err != nil {
		return netq.PeerID{}, fmt.Errorf("%w: %w", netq.ErrIdentityMismatch, err)
	}
	return id, nil
}

// baseTLSConfig is the part of the client and server configurations they
// share. Session tickets are off on both sides: a resumed TLS 1.3 session
// skips the certificate exchange, and with it the identity check.
func baseTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates:           []tls.Certificate{cert},
		MinVersion:             tls.VersionTLS13,
		NextProtos:             []string{ALPN},
		SessionTicketsDisabled: true,
		// The chain is checked by VerifyPeerCertificate against a PeerID,
		// not against a CA, so the default chain verification is skipped.
		InsecureSkipVerify: true,
	}
}

// serverTLSConfig accepts any peer that proves a valid identity key other
// than ours and that accept (when set) admits.
func serverTLSConfig(cert tls.Certificate, local netq.PeerID, accept func(netq.PeerID) bool) *tls.Config {
	conf := baseTLSConfig(cert)
	conf.ClientAuth = tls.RequireAnyClientCert
	conf.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		id, err := peerIDOfCertificates(rawCerts)
		if err != nil {
			return err
		}
		if id == local {
			return fmt.Errorf("%w: peer presents this node's own identity", netq.ErrIdentityMismatch)
		}
		if accept != nil && !accept(id) {
			return fmt.Errorf("%w: peer %s not admitted", netq.ErrIdentityMismatch, id.Short())
		}
		return nil
	}
	return conf
}

// dialCheck is the identity check of one dial: it remembers why the
// handshake was refused, because quic-go reports a refused handshake as a
// TLS alert code and drops the error our callback returned.
type dialCheck struct {
	expected netq.PeerID
	mu       sync.Mutex
	err      error
}

func (c *dialCheck) verify(rawCerts [][]byte, _ [][]*x509.Certificate) error {
	id, err := peerIDOfCertificates(rawCerts)
	if err == nil && id != c.expected {
		err = fmt.Errorf("%w: dialled %s, peer proved key of %s", netq.ErrIdentityMismatch, c.expected.Short(), id.Short())
	}
	if err != nil {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
	}
	return err
}

func (c *dialCheck) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// clientTLSConfig accepts only the peer whose key hashes to check.expected.
func clientTLSConfig(cert tls.Certificate, check *dialCheck) *tls.Config {
	conf := baseTLSConfig(cert)
	conf.ServerName = serverName
	conf.VerifyPeerCertificate = check.verify
	return conf
}

// errNoPeerCertificate is returned for an accepted connection without a
// peer certificate, which the server's configuration makes impossible.
var errNoPeerCertificate = errors.New("accepted connection has no peer certificate")

// peerIDOfState returns the PeerID a completed handshake authenticated.
func peerIDOfState(state tls.ConnectionState) (netq.PeerID, error) {
	if len(state.PeerCertificates) == 0 {
		return netq.PeerID{}, errNoPeerCertificate
	}
	raw := make([][]byte, len(state.PeerCertificates))
	for i, c := range state.PeerCertificates {
		raw[i] = c.Raw
	}
	return peerIDOfCertificates(raw)
}
