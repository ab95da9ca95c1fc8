package pki_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/pki"
)

// A certificate from Local is trusted through its authority alone, for
// every loopback name, over a real TLS connection.
func TestLocalServesLoopback(t *testing.T) {
	t.Parallel()
	ca, cert, err := pki.Local()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.WriteString(c, "ok"); c.Close() }()
		}
	}()
	for _, name := range []string{"127.0.0.1", "localhost"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d := tls.Dialer{Config: &tls.Config{RootCAs: ca.Pool(), ServerName: name}}
		c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		cancel()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		c.Close()
	}
	// Without the authority, the system's roots refuse it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{ServerName: "127.0.0.1"}}
	if c, err := d.DialContext(ctx, "tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("a client without the throwaway CA accepted its certificate")
	}
}

func TestIssue(t *testing.T) {
	t.Parallel()
	ca, err := pki.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	verify := func(c *pki.Certificate, host string, at time.Time) error {
		_, err := c.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: host, CurrentTime: at})
		return err
	}
	now := time.Now()
	good, err := ca.Issue([]string{"api.example", "10.0.0.5"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"api.example", "10.0.0.5"} {
		if err := verify(good, h, now); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	var host x509.HostnameError
	if err := verify(good, "other.example", now); !errors.As(err, &host) {
		t.Errorf("other.example: %v; want a host name error", err)
	}
	if d := good.Leaf.NotAfter.Sub(now); d < pki.DefaultValidity-time.Minute || d > pki.DefaultValidity+time.Minute {
		t.Errorf("valid for %s; want %s", d, pki.DefaultValidity)
	}

	expired, err := ca.Issue([]string{"api.example"}, pki.Valid(now.Add(-48*time.Hour), now.Add(-24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	var invalid x509.CertificateInvalidError
	if err := verify(expired, "api.example", now); !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("expired certificate: %v; want x509.Expired", err)
	}
	// The PEM files load as the pair they are.
	pair, err := tls.X509KeyPair(good.CertPEM, good.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if len(pair.Certificate) != 2 || !pair.Leaf.Equal(good.Leaf) {
		t.Errorf("the PEM chain holds %d certificates; want the leaf, then the CA", len(pair.Certificate))
	}
	if _, err := ca.Issue(nil); err == nil {
		t.Error("a certificate for no host was issued")
	}
}

func TestEnsureDir(t *testing.T) {
	t.Parallel()
	now := time.Now()
	hosts := []string{"localhost", "127.0.0.1", "nginx"}

	t.Run("created, then kept", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "tls")
		res, err := pki.EnsureDir(dir, hosts, 397*24*time.Hour, now)
		if err != nil || res.Action != pki.Created || !res.Ours {
			t.Fatalf("EnsureDir = %+v, %v; want created", res, err)
		}
		for name, mode := range map[string]os.FileMode{pki.CertFile: 0o644, pki.KeyFile: 0o600, pki.CAFile: 0o644} {
			st, err := os.Stat(filepath.Join(dir, name))
			if err != nil || st.Mode().Perm() != mode {
				t.Errorf("%s: %v, mode %v; want %v", name, err, st.Mode().Perm(), mode)
			}
		}
		roots := x509.NewCertPool()
		caPEM, _ := os.ReadFile(filepath.Join(dir, pki.CAFile))
		if !roots.AppendCertsFromPEM(caPEM) {
			t.Fatal("ca.pem holds no certificate")
		}
		for _, h := range hosts {
			if _, err := res.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: h}); err != nil {
				t.Errorf("%s through ca.pem: %v", h, err)
			}
		}
		again, err := pki.EnsureDir(dir, hosts, 397*24*time.Hour, now)
		if err != nil || again.Action != pki.Kept || !again.Leaf.Equal(res.Leaf) {
			t.Errorf("second EnsureDir = %v, %v; want the same certificate kept", again.Action, err)
		}
	})

	t.Run("renewed near expiry or for a new host", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		first, err := pki.EnsureDir(dir, hosts, 10*24*time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		second, err := pki.EnsureDir(dir, hosts, 397*24*time.Hour, now)
		if err != nil || second.Action != pki.Renewed || second.Leaf.Equal(first.Leaf) {
			t.Fatalf("EnsureDir with 10 days left = %v, %v; want renewed", second.Action, err)
		}
		third, err := pki.EnsureDir(dir, append(hosts, "api.example"), 397*24*time.Hour, now)
		if err != nil || third.Action != pki.Renewed || third.Leaf.VerifyHostname("api.example") != nil {
			t.Errorf("EnsureDir with a new host = %v, %v; want renewed for it", third.Action, err)
		}
	})

	t.Run("a mounted certificate is kept, even expired", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		mounted := foreign(t, now.Add(-24*time.Hour))
		write(t, dir, pki.CertFile, mounted.CertPEM)
		write(t, dir, pki.KeyFile, mounted.KeyPEM)
		res, err := pki.EnsureDir(dir, hosts, 397*24*time.Hour, now)
		if err != nil || res.Action != pki.Kept || res.Ours || !res.Leaf.Equal(mounted.Leaf) {
			t.Errorf("EnsureDir = %+v, %v; want the mounted certificate kept", res, err)
		}
		if _, err := os.Stat(filepath.Join(dir, pki.CAFile)); err == nil {
			t.Error("a ca.pem was written beside a mounted certificate")
		}
	})

	t.Run("bad pairs are errors", func(t *testing.T) {
		t.Parallel()
		a, b := foreign(t, now.Add(time.Hour)), foreign(t, now.Add(time.Hour))
		for _, tt := range []struct {
			name      string
			cert, key []byte
			want      string
		}{
			{"mismatched", a.CertPEM, b.KeyPEM, "are not a certificate and its key"},
			{"certificate alone", a.CertPEM, nil, "a certificate without its key"},
			{"key alone", nil, a.KeyPEM, "a key without its certificate"},
			{"garbage", []byte("not pem"), a.KeyPEM, "are not a certificate and its key"},
		} {
			dir := t.TempDir()
			if tt.cert != nil {
				write(t, dir, pki.CertFile, tt.cert)
			}
			if tt.key != nil {
				write(t, dir, pki.KeyFile, tt.key)
			}
			if _, err := pki.EnsureDir(dir, hosts, time.Hour, now); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v; want an error saying %q", tt.name, err, tt.want)
			}
		}
	})
}

// foreign is a certificate for localhost from an authority of another
// organisation: one a deployment would mount.
func foreign(t *testing.T, notAfter time.Time) *pki.Certificate {
	t.Helper()
	ca, err := pki.NewCA("someone else's CA", func(c *x509.Certificate) { c.Subject.Organization = []string{"Example Corp"} })
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue([]string{"localhost"}, pki.Valid(notAfter.Add(-90*24*time.Hour), notAfter))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func write(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}
