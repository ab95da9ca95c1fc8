package main

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/taskready/taskready/service/config"
	"github.com/taskready/taskready/service/listener"
)

// withTLS wraps ln in TLS when the configuration names a certificate
// (TLS_CERT_FILE, TLS_KEY_FILE), and says so; a certificate that has
// already expired is served (a renewal may be on its way) with a
// warning, since every client will refuse it.
func withTLS(ln net.Listener, cfg config.Config, log *slog.Logger) net.Listener {
	if cfg.TLSCertificate == nil {
		return ln
	}
	leaf := cfg.TLSCertificate.Leaf
	attrs := []any{slog.String("cert_file", cfg.TLSCertFile), slog.String("subject", leaf.Subject.CommonName),
		slog.String("not_after", leaf.NotAfter.UTC().Format(time.RFC3339))}
	if time.Now().After(leaf.NotAfter) {
		log.Warn("tls: the certificate has expired; clients will refuse it until it is replaced", attrs...)
	} else {
		log.Info("tls: serving HTTPS, TLS 1.2 and later", attrs...)
	}
	return tls.NewListener(ln, listener.TLSConfig(*cfg.TLSCertificate))
}

// healthClient is how `taskapi healthcheck` reaches the process beside
// it: plain HTTP, or with TLS_CERT_FILE set HTTPS that trusts exactly
// that certificate. It is this host's own process on loopback, whose
// certificate names the public host, not 127.0.0.1: pinning it checks
// what matters (the process serving is the one configured) where a
// name check could only fail.
func healthClient() (*http.Client, string, error) {
	client := &http.Client{Timeout: 3 * time.Second}
	certFile := os.Getenv("TLS_CERT_FILE")
	if certFile == "" {
		return client, "http", nil
	}
	data, err := os.ReadFile(certFile)
	if err != nil {
		return nil, "", fmt.Errorf("TLS_CERT_FILE: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, "", fmt.Errorf("TLS_CERT_FILE %s holds no PEM certificate", certFile)
	}
	client.Transport = &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The pin below replaces the chain and name check.
		InsecureSkipVerify: true, //nolint:gosec
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, block.Bytes) {
				return errors.New("the server on PORT does not present TLS_CERT_FILE's certificate")
			}
			return nil
		},
	}}
	return client, "https", nil
}
