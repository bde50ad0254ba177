package quic

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/thinkey/thinkey/netq"
)

func identity(t *testing.T, i byte) netq.Identity {
	t.Helper()
	seed := make([]byte, 32)
	seed[0] = i
	id, err := netq.NewIdentity(seed)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// certificateSignedBy makes a certificate for subjectKey signed by signer.
func certificateSignedBy(t *testing.T, subjectKey any, signer any) []byte {
	t.Helper()
	template := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: certNotBefore, NotAfter: certNotAfter}
	der, err := x509.CreateCertificate(rand.Reader, template, template, subjectKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestPeerIDOfCertificates(t *testing.T) {
	alice, bob := identity(t, 1), identity(t, 2)
	aliceCert, err := selfSignedCertificate(alice)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		certs [][]byte
		want  netq.PeerID // zero: rejected
	}{
		{"own certificate", aliceCert.Certificate, alice.PeerID()},
		{"no certificate", nil, netq.PeerID{}},
		{"two certificates", [][]byte{aliceCert.Certificate[0], aliceCert.Certificate[0]}, netq.PeerID{}},
		{"garbage", [][]byte{[]byte("not a certificate")}, netq.PeerID{}},
		{"truncated", [][]byte{aliceCert.Certificate[0][:40]}, netq.PeerID{}},
		{"ECDSA key", [][]byte{certificateSignedBy(t, &ecKey.PublicKey, ecKey)}, netq.PeerID{}},
		{"alice's key signed by bob", [][]byte{certificateSignedBy(t, alice.Signer().Public(), bob.Signer())}, netq.PeerID{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := peerIDOfCertificates(tc.certs)
			if tc.want.IsZero() {
				if !errors.Is(err, netq.ErrIdentityMismatch) {
					t.Fatalf("got %s, %v; want ErrIdentityMismatch", got.Short(), err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %s, %v; want %s", got.Short(), err, tc.want.Short())
			}
		})
	}
}

func TestDialCheckRefusesOtherIdentity(t *testing.T) {
	alice, bob := identity(t, 1), identity(t, 2)
	aliceCert, err := selfSignedCertificate(alice)
	if err != nil {
		t.Fatal(err)
	}
	check := &dialCheck{expected: bob.PeerID()}
	if err := check.verify(aliceCert.Certificate, nil); !errors.Is(err, netq.ErrIdentityMismatch) {
		t.Fatalf("verify: got %v, want ErrIdentityMismatch", err)
	}
	if !errors.Is(check.failure(), netq.ErrIdentityMismatch) {
		t.Fatal("dial check forgot why it refused")
	}
	ok := &dialCheck{expected: alice.PeerID()}
	if err := ok.verify(aliceCert.Certificate, nil); err != nil || ok.failure() != nil {
		t.Fatalf("expected identity refused: %v", err)
	}
}

func TestServerPolicy(t *testing.T) {
	local, peer := identity(t, 1), identity(t, 2)
	localCert, _ := selfSignedCertificate(local)
	peerCert, _ := selfSignedCertificate(peer)
	for _, tc := range []struct {
		name   string
		accept func(netq.PeerID) bool
		certs  [][]byte
		ok     bool
	}{
		{"any peer", nil, peerCert.Certificate, true},
		{"admitted", func(id netq.PeerID) bool { return id == peer.PeerID() }, peerCert.Certificate, true},
		{"not admitted", func(netq.PeerID) bool { return false }, peerCert.Certificate, false},
		{"own identity", nil, localCert.Certificate, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := serverTLSConfig(localCert, local.PeerID(), tc.accept)
			err := conf.VerifyPeerCertificate(tc.certs, nil)
			if (err == nil) != tc.ok {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, netq.ErrIdentityMismatch) {
				t.Fatalf("got %v, want ErrIdentityMismatch", err)
			}
		})
	}
}

func TestTLSConfigs(t *testing.T) {
	id := identity(t, 1)
	cert, err := selfSignedCertificate(id)
	if err != nil {
		t.Fatal(err)
	}
	server := serverTLSConfig(cert, id.PeerID(), nil)
	client := clientTLSConfig(cert, &dialCheck{})
	for name, conf := range map[string]*tls.Config{"server": server, "client": client} {
		if conf.MinVersion != tls.VersionTLS13 || len(conf.NextProtos) != 1 || conf.NextProtos[0] != ALPN {
			t.Fatalf("%s: TLS 1.3 with ALPN %q required: %+v", name, ALPN, conf)
		}
		if !conf.SessionTicketsDisabled || conf.ClientSessionCache != nil {
			t.Fatalf("%s: session resumption would skip the identity check", name)
		}
	}
	if server.ClientAuth != tls.RequireAnyClientCert {
		t.Fatal("server does not require a client certificate")
	}
	if got := fmt.Sprint(cert.Leaf.Subject.CommonName); got != id.PeerID().String() {
		t.Fatalf("certificate names %s, want the PeerID", got)
	}
}
