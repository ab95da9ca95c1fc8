// Package pki makes throwaway certificate authorities and the server
// certificates they sign: what a managed environment serves HTTPS with
// (harness check -tls), what the compose stack's nginx gets at its first
// start when no certificate is mounted (harness certs), and what tests
// need to break on purpose (a certificate that expired, one for another
// host). Everything is crypto/x509, so nothing depends on openssl.
//
// A CA's key lives only in memory: once its certificates are issued
// nobody can mint more, so trusting its certificate (CA.PEM) trusts
// exactly what it issued.
package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// Organization names the issuer of everything this package makes, so
// that a certificate it made can be told from one a deployment mounted.
const Organization = "taskready throwaway PKI"

// DefaultValidity is how long an issued certificate is valid unless an
// option says otherwise: the 90 days ACME authorities issue for.
const DefaultValidity = 90 * 24 * time.Hour

// backdate is how far before now certificates start being valid, so that
// a client whose clock is a little behind accepts them.
const backdate = time.Hour

// CA is a certificate authority held in memory.
type CA struct {
	// Cert is the authority's self-signed certificate.
	Cert *x509.Certificate
	key  crypto.Signer
}

// Option changes a certificate before it is signed.
type Option func(*x509.Certificate)

// Valid makes a certificate valid from notBefore to notAfter: a past
// notAfter makes an expired one.
func Valid(notBefore, notAfter time.Time) Option {
	return func(c *x509.Certificate) { c.NotBefore, c.NotAfter = notBefore, notAfter }
}

// ValidFor makes a certificate valid from now (less an hour for clock
// skew) for d.
func ValidFor(d time.Duration) Option {
	return func(c *x509.Certificate) {
		now := time.Now()
		c.NotBefore, c.NotAfter = now.Add(-backdate), now.Add(d)
	}
}

// NewCA makes an authority called name, valid for ten years unless opts
// say otherwise.
func NewCA(name string, opts ...Option) (*CA, error) {
	key, tmpl, err := template(name, 10*365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid, tmpl.IsCA, tmpl.MaxPathLenZero = true, true, true
	for _, o := range opts {
		o(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sign ca %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse ca %s: %w", name, err)
	}
	return &CA{Cert: cert, key: key}, nil
}

// template is a new P-256 key and a certificate for it called name,
// from now (less an hour for clock skew) for validity, with a random
// serial, for the caller to complete.
func template(name string, validity time.Duration) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("key for %s: %w", name, err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	return key, &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{Organization}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(validity),
	}, nil
}

// PEM is the authority's certificate, the file clients trust.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// Pool is a pool that trusts the authority alone.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Certificate is a server certificate and its key, ready to serve.
type Certificate struct {
	// Leaf is the server's certificate.
	Leaf *x509.Certificate
	// TLS serves it: the leaf, then the authority's certificate.
	TLS tls.Certificate
	// CertPEM is the chain as nginx's ssl_certificate and TLS_CERT_FILE
	// read it (leaf first); KeyPEM the PKCS #8 key (TLS_KEY_FILE).
	CertPEM, KeyPEM []byte
}

// Issue signs a server certificate for hosts (names and IP addresses),
// valid for DefaultValidity unless opts say otherwise. The first host is
// also its common name.
func (ca *CA) Issue(hosts []string, opts ...Option) (*Certificate, error) {
	if len(hosts) == 0 {
		return nil, errors.New("issue a certificate: no host names")
	}
	key, tmpl, err := template(hosts[0], DefaultValidity)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	for _, o := range opts {
		o(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign a certificate for %s: %w", strings.Join(hosts, ", "), err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse the certificate for %s: %w", strings.Join(hosts, ", "), err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode the key: %w", err)
	}
	var chain bytes.Buffer
	for _, raw := range [][]byte{der, ca.Cert.Raw} {
		_ = pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: raw})
	}
	return &Certificate{
		Leaf:    leaf,
		TLS:     tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf},
		CertPEM: chain.Bytes(),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	}, nil
}

// serialNumber is a random 128-bit serial, as the CA/Browser Forum asks
// (at least 64 bits of randomness).
func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return n, nil
}

// Local is a throwaway authority and the certificate it issued for this
// machine's loopback names (127.0.0.1, ::1, localhost): what a managed
// environment serves HTTPS with.
func Local(opts ...Option) (*CA, *Certificate, error) {
	ca, err := NewCA("taskready throwaway CA")
	if err != nil {
		return nil, nil, err
	}
	cert, err := ca.Issue([]string{"127.0.0.1", "::1", "localhost"}, opts...)
	if err != nil {
		return nil, nil, err
	}
	return ca, cert, nil
}
