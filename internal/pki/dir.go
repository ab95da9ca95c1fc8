package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The files of a certificate directory, as the compose stack's nginx
// reads them: the chain (leaf first), its key, and the authority clients
// trust (only for a certificate this package made).
const (
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
	CAFile   = "ca.pem"
)

// RenewBefore is how much validity a certificate this package made may
// have left before EnsureDir replaces it: ACME clients renew at the same
// point of a 90-day certificate.
const RenewBefore = 30 * 24 * time.Hour

// Action is what EnsureDir did.
type Action string

// The actions of EnsureDir.
const (
	Created Action = "created" // there was no certificate: a throwaway CA issued one
	Renewed Action = "renewed" // one this package made was close to expiry or lacked a host
	Kept    Action = "kept"    // the certificate there stays: a mounted one is never replaced
)

// DirResult is what EnsureDir found and did.
type DirResult struct {
	Action Action
	// Leaf is the certificate the directory now holds.
	Leaf *x509.Certificate
	// Ours says whether this package made it (so it may renew it).
	Ours bool
}

// EnsureDir makes dir hold a certificate and key for hosts. With neither
// file there, a new throwaway CA issues one valid for validity and its
// certificate is written beside it (CAFile). A pair that is there is
// checked (it must parse and the key must match) and kept, unless this
// package made it and it expires within RenewBefore, or lacks one of
// hosts: then it is replaced the same way. A deployment's own certificate
// is never replaced, whatever its state; the readiness checks judge it.
func EnsureDir(dir string, hosts []string, validity time.Duration, now time.Time) (DirResult, error) {
	if len(hosts) == 0 {
		return DirResult{}, errors.New("no host names to issue a certificate for")
	}
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return issueInto(dir, hosts, validity, Created)
	case certErr != nil:
		return DirResult{}, fmt.Errorf("%s: %w (a key without its certificate: add the certificate, or remove both to have one made)", certPath, certErr)
	case keyErr != nil:
		return DirResult{}, fmt.Errorf("%s: %w (a certificate without its key: add the key, or remove both to have one made)", keyPath, keyErr)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return DirResult{}, fmt.Errorf("%s and %s are not a certificate and its key: %w", certPath, keyPath, err)
	}
	leaf := pair.Leaf
	ours := slices.Contains(leaf.Issuer.Organization, Organization)
	if ours && (leaf.NotAfter.Sub(now) < RenewBefore || !covers(leaf, hosts)) {
		return issueInto(dir, hosts, validity, Renewed)
	}
	return DirResult{Action: Kept, Leaf: leaf, Ours: ours}, nil
}

// covers reports whether leaf is valid for every host.
func covers(leaf *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if h = strings.TrimSpace(h); h != "" && leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// issueInto writes a new authority's certificate and the server
// certificate it issued for hosts into dir.
func issueInto(dir string, hosts []string, validity time.Duration, action Action) (DirResult, error) {
	for _, h := range hosts {
		if h = strings.TrimSpace(h); h != "" && net.ParseIP(h) == nil && strings.ContainsAny(h, " /:@") {
			return DirResult{}, fmt.Errorf("%q is neither a host name nor an IP address", h)
		}
	}
	ca, err := NewCA("taskready throwaway CA " + time.Now().UTC().Format("2006-01-02"))
	if err != nil {
		return DirResult{}, err
	}
	cert, err := ca.Issue(hosts, ValidFor(validity))
	if err != nil {
		return DirResult{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return DirResult{}, err
	}
	// The key first, the authority last: a reader that finds CAFile
	// finds the pair it vouches for.
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{{KeyFile, cert.KeyPEM, 0o600}, {CertFile, cert.CertPEM, 0o644}, {CAFile, ca.PEM(), 0o644}} {
		if err := writeFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return DirResult{}, err
		}
	}
	return DirResult{Action: action, Leaf: cert.Leaf, Ours: true}, nil
}

// writeFile replaces path with data atomically (a file beside it renamed
// over it), so that nginx starting meanwhile reads the old file or the
// new one, never half of one.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
