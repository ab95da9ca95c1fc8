package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/taskready/taskready/service/config"
	"github.com/taskready/taskready/service/server"
)

func TestHSTSOnlyOverHTTPS(t *testing.T) {
	e := newEnv(t)
	plain := e.start(t)
	proxied := e.start(t, "TRUSTED_PROXIES=127.0.0.1")
	elsewhere := e.start(t, "TRUSTED_PROXIES=10.0.0.1")
	direct, pool := e.startTLS(t)

	const want = "max-age=31536000; includeSubDomains"
	tests := []struct {
		name  string
		in    *instance
		proto string // X-Forwarded-Proto sent, if any
		hsts  bool
	}{
		{"plain HTTP", plain, "", false},
		{"untrusted client claiming https", plain, "https", false},
		{"client of another proxy claiming https", elsewhere, "https", false},
		{"trusted proxy, https", proxied, "https", true},
		{"trusted proxy, http", proxied, "http", false},
		{"trusted proxy, no header", proxied, "", false},
		{"TLS", direct, "", true},
		{"TLS, client claiming http", direct, "http", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.in.client(t)
			c.http.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
			for _, path := range []string{"/api/health", "/nope"} {
				r := c.do("GET", path, nil, "X-Forwarded-Proto", tt.proto)
				got := r.header.Get("Strict-Transport-Security")
				if tt.hsts && got != want || !tt.hsts && got != "" {
					t.Errorf("GET %s: Strict-Transport-Security = %q; want HSTS %v", path, got, tt.hsts)
				}
			}
		})
	}
}

// startTLS runs an instance that terminates TLS itself, on a certificate
// made for the test, and returns the pool that trusts it.
func (e *env) startTLS(t *testing.T) (*instance, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)

	settings := map[string]string{
		"MONGODB_URI": e.mongoURI, "MONGODB_DB": e.db, "REDIS_URL": e.redis.URL(),
		"BCRYPT_COST": "4", "JWT_SECRET": "test-secret-that-is-long-enough-0123456789", "LOG_LEVEL": "error",
	}
	cfg, err := config.Load(func(k string) string { return settings[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.Open(ctx, cfg, discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(tlsLn) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return &instance{Server: srv, base: "https://" + ln.Addr().String()}, pool
}
