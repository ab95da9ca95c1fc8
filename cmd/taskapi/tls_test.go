package main_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/pki"
	"github.com/taskready/taskready/internal/testserver"
)

// With TLS_CERT_FILE and TLS_KEY_FILE the API serves HTTPS itself: TLS
// 1.2 and later, HSTS on its answers (they came over TLS), and
// `taskapi healthcheck` reaches it over HTTPS, trusting that certificate
// and no other. A pair that does not match is a bad configuration.
func TestServesHTTPS(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	ca, err := pki.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	// Named for the public host only, as a deployment's is.
	served, err := ca.Issue([]string{"api.example"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := ca.Issue([]string{"api.example"})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certFile, keyFile := write("cert.pem", served.CertPEM), write("key.pem", served.KeyPEM)
	otherCert, otherKey := write("other.pem", other.CertPEM), write("other.key", other.KeyPEM)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// A key that is not the certificate's stops the process before it
	// starts anything: exit 2, naming the variables.
	bad := exec.CommandContext(ctx, bin)
	bad.Env = []string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + dir, "TLS_CERT_FILE=" + certFile, "TLS_KEY_FILE=" + otherKey}
	out, err := bad.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "TLS_KEY_FILE are not a certificate and its private key") {
		t.Errorf("mismatched pair: %v\n%s\nwant exit 2 naming TLS_CERT_FILE and TLS_KEY_FILE", err, out)
	}

	port, metricsPort := testserver.FreePort(t), testserver.FreePort(t)
	for metricsPort == port {
		metricsPort = testserver.FreePort(t)
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORT=" + strconv.Itoa(port), "DATA_DIR=" + filepath.Join(dir, "data"), "BCRYPT_COST=4",
		"METRICS_ADDR=127.0.0.1:" + strconv.Itoa(metricsPort), "TLS_CERT_FILE=" + certFile, "TLS_KEY_FILE=" + keyFile}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var seen []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		seen = append(seen, sc.Text())
		if l["msg"] == "listening" {
			if l["tls"] != true {
				t.Errorf("listening without tls: %s", sc.Text())
			}
			break
		}
	}
	if joined := strings.Join(seen, "\n"); !strings.Contains(joined, "tls: serving HTTPS") || !strings.Contains(joined, certFile) {
		t.Errorf("start-up did not say it serves HTTPS with %s:\n%s", certFile, joined)
	}
	go func() {
		for sc.Scan() {
		}
	}()

	addr := "127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "api.example"}}}
	res, err := client.Get("https://" + addr + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if hsts := res.Header.Get("Strict-Transport-Security"); res.StatusCode != http.StatusOK || !strings.HasPrefix(hsts, "max-age=31536000") {
		t.Errorf("GET /api/health over TLS: %s, Strict-Transport-Security %q; want 200 with HSTS", res.Status, hsts)
	}
	for _, v := range []uint16{tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "api.example", MinVersion: v, MaxVersion: v})
		if ok := err == nil; ok != (v >= tls.VersionTLS12) {
			t.Errorf("%s: handshake error %v; want success only for TLS 1.2 and later", tls.VersionName(v), err)
		}
		if err == nil {
			c.Close()
		}
	}

	for _, tt := range []struct {
		cert string
		ok   bool
	}{{certFile, true}, {otherCert, false}} {
		check := exec.CommandContext(ctx, bin, "healthcheck")
		check.Env = []string{"PORT=" + strconv.Itoa(port), "TLS_CERT_FILE=" + tt.cert}
		out, err := check.CombinedOutput()
		if (err == nil) != tt.ok || !tt.ok && !bytes.Contains(out, []byte("does not present TLS_CERT_FILE's certificate")) {
			t.Errorf("taskapi healthcheck with TLS_CERT_FILE=%s: %v %s; want success %v", filepath.Base(tt.cert), err, out, tt.ok)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}
