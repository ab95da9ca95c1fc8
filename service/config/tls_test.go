package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/pki"
	"github.com/taskready/taskready/service/config"
)

// TLS_CERT_FILE and TLS_KEY_FILE go together and are read at Load: a
// good pair is the certificate served; one alone, a file that cannot be
// read, and a key that is not the certificate's are bad settings naming
// the variable, all reported at once with the rest.
func TestLoadTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, err := pki.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	a, err := ca.Issue([]string{"api.example"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ca.Issue([]string{"api.example"})
	if err != nil {
		t.Fatal(err)
	}
	certA, keyA, keyB := write("a.pem", a.CertPEM), write("a.key", a.KeyPEM), write("b.key", b.KeyPEM)
	garbage, missing := write("garbage.pem", []byte("not a certificate")), filepath.Join(dir, "none.pem")

	cfg, err := config.Load(env(with(production, map[string]string{"TLS_CERT_FILE": certA, "TLS_KEY_FILE": keyA})))
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.TLSCertificate; c == nil || c.Leaf == nil || !c.Leaf.Equal(a.Leaf) || len(c.Certificate) != 2 {
		t.Errorf("TLSCertificate = %+v; want a.pem's leaf and its chain", c)
	}
	if cfg, err := config.Load(env(production)); err != nil || cfg.TLSCertificate != nil {
		t.Errorf("without TLS_*: TLSCertificate %v, %v; want none", cfg.TLSCertificate, err)
	}

	for _, tt := range []struct {
		name      string
		cert, key string
		want      string
	}{
		{"certificate alone", certA, "", "TLS_KEY_FILE must be set with TLS_CERT_FILE"},
		{"key alone", "", keyA, "TLS_CERT_FILE must be set with TLS_KEY_FILE"},
		{"missing certificate", missing, keyA, `TLS_CERT_FILE="` + missing + `" cannot be read: no such file or directory`},
		{"missing key", certA, missing, `TLS_KEY_FILE="` + missing + `" cannot be read: no such file or directory`},
		{"another certificate's key", certA, keyB, `TLS_CERT_FILE="` + certA + `" and TLS_KEY_FILE are not a certificate and its private key: tls: private key does not match public key`},
		{"not PEM", garbage, keyA, "and TLS_KEY_FILE are not a certificate and its private key: tls: failed to find any PEM data in certificate input"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(env(with(production, map[string]string{"TLS_CERT_FILE": tt.cert, "TLS_KEY_FILE": tt.key, "BCRYPT_COST": "3"})))
			if err == nil || !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: %v; want an invalid configuration saying %q", err, tt.want)
			}
			// Reported beside the other bad settings, not instead of them.
			if !strings.Contains(err.Error(), "BCRYPT_COST") {
				t.Errorf("Load: %v; want BCRYPT_COST reported too", err)
			}
		})
	}
}
