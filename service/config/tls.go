package config

import (
	"crypto/tls"
	"errors"
	"io/fs"
	"os"
)

// certificate reads the pair TLS_CERT_FILE and TLS_KEY_FILE name: nil
// when neither is set; a failure when one is set alone, a file cannot be
// read, or they are not a certificate and its key. Reading them here
// makes a bad pair a configuration error (exit 2) that names the files,
// before any store is started.
func (p *parser) certificate(certFile, keyFile string) *tls.Certificate {
	switch {
	case certFile == "" && keyFile == "":
		return nil
	case keyFile == "":
		p.fail("TLS_KEY_FILE", "", "must be set with TLS_CERT_FILE (the certificate's private key, PEM)")
		return nil
	case certFile == "":
		p.fail("TLS_CERT_FILE", "", "must be set with TLS_KEY_FILE (the certificate, then its chain, PEM)")
		return nil
	}
	certPEM, certErr := os.ReadFile(certFile)
	if certErr != nil {
		p.fail("TLS_CERT_FILE", certFile, "cannot be read: "+pathError(certErr))
	}
	keyPEM, keyErr := os.ReadFile(keyFile)
	if keyErr != nil {
		p.fail("TLS_KEY_FILE", keyFile, "cannot be read: "+pathError(keyErr))
	}
	if certErr != nil || keyErr != nil {
		return nil
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		p.fail("TLS_CERT_FILE", certFile, "and TLS_KEY_FILE are not a certificate and its private key: "+err.Error())
		return nil
	}
	return &pair
}

// pathError is why a file could not be read, without the path the
// message names already.
func pathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
