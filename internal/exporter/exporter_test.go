package exporter_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/internal/exporter"
	"github.com/taskready/taskready/internal/pki"
	"github.com/taskready/taskready/internal/testserver"
)

// need skips t without the exporter's binary, or fails it when the run
// requires the exporters (CI installs them).
func need(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err == nil {
			return
		}
	}
	if os.Getenv("CI") != "" || os.Getenv("REQUIRE_EXPORTERS") != "" {
		t.Fatalf("%s not on PATH, and this run requires it: apt-get install %s", names[0], names[0])
	}
	t.Skipf("%s not installed: apt-get install %s", names[0], names[0])
}

// scrape GETs path of p and returns the value of the sample whose line
// starts with series ("probe_success", "redis_up"), or fails t.
func scrape(ctx context.Context, t *testing.T, p *exporter.Process, path, series string) float64 {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Addr+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", series, line, err)
			}
			return v
		}
	}
	t.Fatalf("GET %s: no %s in:\n%s", path, series, body)
	return 0
}

func probe(target, module string) string {
	return "/probe?" + url.Values{"target": {target}, "module": {module}}.Encode()
}

// The HTTPS module trusts exactly the authority it was given: a server
// whose certificate another authority issued fails the probe, as does a
// health route answering 503; plain HTTP passes the plain module.
func TestBlackboxProbes(t *testing.T) {
	t.Parallel()
	need(t, "prometheus-blackbox-exporter", "blackbox_exporter")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	serve := func(tlsCert *pki.Certificate) *httptest.Server {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/readyz" {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		})
		if tlsCert == nil {
			s := httptest.NewServer(h)
			t.Cleanup(s.Close)
			return s
		}
		s := httptest.NewUnstartedServer(h)
		s.TLS = &tls.Config{Certificates: []tls.Certificate{tlsCert.TLS}}
		s.StartTLS()
		t.Cleanup(s.Close)
		return s
	}
	ca, cert, err := pki.Local()
	if err != nil {
		t.Fatal(err)
	}
	_, strangerCert, err := pki.Local()
	if err != nil {
		t.Fatal(err)
	}
	trusted, stranger, plain := serve(cert), serve(strangerCert), serve(nil)

	bb, err := exporter.Blackbox(ctx, ca.PEM())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bb.Close() })

	for _, tt := range []struct {
		name, target string
		want         float64
	}{
		{"trusted authority", trusted.URL + "/healthz", 1},
		{"another authority", stranger.URL + "/healthz", 0},
		{"503", trusted.URL + "/readyz", 0},
		{"plain HTTP", plain.URL + "/healthz", 1},
	} {
		if got := scrape(ctx, t, bb, probe(tt.target, exporter.Module(tt.target)), "probe_success"); got != tt.want {
			t.Errorf("%s: probe_success = %v; want %v (log: %s)", tt.name, got, tt.want, bb.Log())
		}
	}
}

// redis_exporter reads a password-protected Redis, memory and the host's
// memory included, and never shows the password on its command line.
func TestRedis(t *testing.T) {
	t.Parallel()
	need(t, "prometheus-redis-exporter", "redis_exporter")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const password = "s3cret-exporter-test"
	r, err := embedded.StartRedis(ctx, embedded.RedisPassword(password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if r.Kind() != embedded.RedisServer {
		t.Skip("no redis-server: apt-get install redis-server")
	}

	ex, err := exporter.Redis(ctx, r.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	if got := scrape(ctx, t, ex, "/metrics", "redis_up"); got != 1 {
		t.Errorf("redis_up = %v; want 1 (log: %s)", got, ex.Log())
	}
	if got := scrape(ctx, t, ex, "/metrics", "redis_memory_used_bytes"); got <= 0 {
		t.Errorf("redis_memory_used_bytes = %v; want more than 0", got)
	}
	if got := scrape(ctx, t, ex, "/metrics", "redis_total_system_memory_bytes"); got <= 0 {
		t.Errorf("redis_total_system_memory_bytes = %v; want the host's memory", got)
	}
	if cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(exporter.PID(ex)) + "/cmdline"); err == nil && strings.Contains(string(cmdline), password) {
		t.Errorf("the password is on redis_exporter's command line: %q", cmdline)
	}

	wrong := strings.Replace(r.URL(), password, "wrong", 1)
	bad, err := exporter.Redis(ctx, wrong)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bad.Close() })
	if got := scrape(ctx, t, bad, "/metrics", "redis_up"); got != 0 {
		t.Errorf("with a wrong password redis_up = %v; want 0", got)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := exporter.Redis(ctx, "http://127.0.0.1:6379"); err == nil || !strings.Contains(err.Error(), "redis://") {
		t.Errorf("Redis(an http URL) = %v; want an error naming redis://", err)
	}
}

// Not parallel: it empties PATH.
func TestNotInstalled(t *testing.T) {
	ctx := context.Background()
	t.Setenv("PATH", t.TempDir())
	for _, start := range []func() (*exporter.Process, error){
		func() (*exporter.Process, error) { return exporter.Blackbox(ctx, nil) },
		func() (*exporter.Process, error) { return exporter.Redis(ctx, "redis://127.0.0.1:6379") },
	} {
		if _, err := start(); !errors.Is(err, exporter.ErrNotInstalled) || !strings.Contains(err.Error(), "apt-get install prometheus-") {
			t.Errorf("without the binary: %v; want ErrNotInstalled with the package to install", err)
		}
	}
}

// A port taken before the exporter listened is replaced by another: the
// exporter serves on a new one, where before it failed to start.
func TestPortTakenIsReplaced(t *testing.T) {
	need(t, "prometheus-blackbox-exporter", "blackbox_exporter")
	taken, handedOut := testserver.HoldPort(t, exporter.FreePort)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bb, err := exporter.Blackbox(ctx, nil)
	if err != nil {
		t.Fatalf("Blackbox with its first port taken: %v", err)
	}
	defer bb.Close()
	if !handedOut() || bb.Addr == "127.0.0.1:"+strconv.Itoa(taken) {
		t.Fatalf("the exporter serves on %s (held port %d handed out: %v); want another port than the held one", bb.Addr, taken, handedOut())
	}
}
