package env_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/envtest"
)

func post(t *testing.T, url, body string) int {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func get(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func upEmbedded(t *testing.T, instances int) *env.Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var took []env.Timing
	e, err := env.Up(ctx, env.NewEmbedded(env.EmbeddedOptions{}), env.Options{
		APIBinary: envtest.APIBinary(t), Instances: instances, APIEnv: []string{"BCRYPT_COST=4"},
		Progress: func(tm env.Timing) { took = append(took, tm) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	if want := 2 + instances; len(took) != want {
		t.Errorf("progress reported %d components; want %d", len(took), want)
	}
	return e
}

func TestEmbeddedServesTheContractThroughOneAddress(t *testing.T) {
	e := upEmbedded(t, 2)
	body := `{"name":"E","email":"e@example.com","password":"secret123"}`
	// A user registered through one instance logs in through the other,
	// and through the balancer.
	if got := post(t, e.APIs[0].URL()+"/api/auth/register", body); got != 201 {
		t.Fatalf("register on api-1 = %d", got)
	}
	if got := post(t, e.APIs[1].URL()+"/api/auth/login", body); got != 200 {
		t.Fatalf("login on api-2 = %d; want 200 (shared stores)", got)
	}
	if got := post(t, e.Target+"/api/auth/login", body); got != 200 {
		t.Fatalf("login through %s = %d", e.Target, got)
	}

	// Stopping or pausing an instance does not fail a request through the
	// balancer: it retries a refused connection, and an idempotent
	// request that timed out, on the other instance.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, fault := range []struct{ do, undo string }{{"stop", "start"}, {"pause", "unpause"}} {
		if err := e.Apply(ctx, "api-1", fault.do); err != nil {
			t.Fatal(err)
		}
		ok := 0
		for range 10 {
			if get(t, e.Target+"/api/health") == 200 {
				ok++
			}
		}
		if ok < 10 {
			t.Errorf("%d of 10 requests through the balancer succeeded with api-1 %s; want all", ok, fault.do)
		}
		if err := e.Apply(ctx, "api-1", fault.undo); err != nil {
			t.Fatal(err)
		}
	}
	if got := get(t, e.APIs[0].URL()+"/readyz"); got != 200 {
		t.Errorf("api-1 after restart: /readyz = %d, same address %s", got, e.APIs[0].URL())
	}

	if err := e.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	for _, addr := range []string{e.Target, e.APIs[0].URL(), e.APIs[1].URL()} {
		if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(addr, "http://"), time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after Close", addr)
		}
	}
}

func TestFaultsThroughTheControlEndpoint(t *testing.T) {
	e := upEmbedded(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	control, err := env.ServeControl(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Fault(ctx, control, "mongo-0", "stop"); err != nil {
		t.Fatal(err)
	}
	if got := get(t, e.Target+"/readyz"); got != 503 {
		t.Errorf("/readyz with mongo-0 stopped = %d; want 503", got)
	}
	if err := env.Fault(ctx, control, "mongo-0", "start"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for get(t, e.Target+"/readyz") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("/readyz not back to 200 within 15s of mongo-0 starting")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A paused API hangs, an unpaused one answers.
	if err := env.Fault(ctx, control, "api-1", "pause"); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 300 * time.Millisecond}
	if res, err := client.Get(e.APIs[0].URL() + "/healthz"); err == nil {
		res.Body.Close()
		t.Error("a paused API answered")
	}
	if err := env.Fault(ctx, control, "api-1", "unpause"); err != nil {
		t.Fatal(err)
	}
	if got := get(t, e.APIs[0].URL()+"/healthz"); got != 200 {
		t.Errorf("unpaused API: /healthz = %d", got)
	}

	// Network faults on the links to the stores.
	if err := env.DegradeLink(ctx, control, "mongo", "latency", map[string]string{"latency": "300ms"}); err != nil {
		t.Fatal(err)
	}
	if ms := readyzLatency(t, e.Target, "mongodb"); ms < 300 {
		t.Errorf("mongodb ping with 300ms link latency took %.1fms", ms)
	}
	if err := env.DegradeLink(ctx, control, "redis", "down", nil); err != nil {
		t.Fatal(err)
	}
	if status := readyzStatus(t, e.Target); status != "warn" {
		t.Errorf("/readyz with the redis link down = %q; want warn (serving without Redis)", status)
	}
	if err := env.HealLink(ctx, control, "redis", "down"); err != nil {
		t.Fatal(err)
	}
	if err := env.HealLink(ctx, control, "mongo", ""); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(15 * time.Second)
	for readyzStatus(t, e.Target) != "pass" {
		if time.Now().After(deadline) {
			t.Fatal("/readyz not back to pass within 15s of healing the links")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, tt := range []struct {
		link, action string
		params       map[string]string
		want         string
	}{
		{"postgres", "reset_peer", nil, `no link "postgres"`},
		{"mongo", "latency", map[string]string{"rate": "16"}, "rate does not apply to latency, which takes only latency, jitter"},
		{"mongo", "slicer", map[string]string{"size": "0"}, "size: must be at least 1 (got 0)"},
		{"mongo", "explode", nil, `unknown link action "explode"`},
	} {
		if err := env.DegradeLink(ctx, control, tt.link, tt.action, tt.params); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s on link %s with %v = %v; want an error saying %q", tt.action, tt.link, tt.params, err, tt.want)
		}
	}
	if err := env.HealLink(ctx, control, "mongo", "latency"); err == nil || !strings.Contains(err.Error(), `no such fault "latency"`) {
		t.Errorf("heal of a fault undone = %v; want no such fault", err)
	}

	for _, tt := range []struct{ name, action, want string }{
		{"nope", "stop", "no such component"},
		{"api-1", "explode", "unknown fault"},
	} {
		if err := env.Fault(ctx, control, tt.name, tt.action); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("fault %s %s = %v; want an error saying %q", tt.action, tt.name, err, tt.want)
		}
	}
	// The embedded stores can be paused too (package embedded tests what
	// a pause does).
	for _, name := range []string{"mongo-0", "redis-primary"} {
		for _, action := range []string{"pause", "unpause"} {
			if err := env.Fault(ctx, control, name, action); err != nil {
				t.Errorf("fault %s %s: %v", action, name, err)
			}
		}
	}
}

func TestUpReportsAnAPIThatCannotStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	script := filepath.Join(t.TempDir(), "broken-api")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'taskapi: JWT_SECRET is too short' >&2\nexit 2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := env.Up(ctx, env.NewEmbedded(env.EmbeddedOptions{}), env.Options{APIBinary: script, Instances: 1})
	if err == nil || !strings.Contains(err.Error(), "api-1 exited before it was ready") || !strings.Contains(err.Error(), "JWT_SECRET is too short") {
		t.Fatalf("err = %v; want it to name api-1 and quote its output", err)
	}
}

type readiness struct {
	Status string `json:"status"`
	Checks map[string][]struct {
		ObservedValue float64 `json:"observedValue"`
	} `json:"checks"`
}

func readyz(t *testing.T, target string) readiness {
	t.Helper()
	res, err := http.Get(target + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r readiness
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func readyzStatus(t *testing.T, target string) string { return readyz(t, target).Status }

func readyzLatency(t *testing.T, target, dep string) float64 {
	c := readyz(t, target).Checks[dep+":responseTime"]
	if len(c) == 0 {
		t.Fatalf("/readyz has no %s check", dep)
	}
	return c[0].ObservedValue
}

func TestExternalTargetStartsNothing(t *testing.T) {
	api := upEmbedded(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := env.Up(ctx, env.NewExternal(env.ExternalOptions{}), env.Options{Target: api.Target})
	if err != nil {
		t.Fatal(err)
	}
	if e.Target != api.Target || len(e.APIs) != 0 || len(e.Components()) != 0 || len(e.Links) != 0 {
		t.Errorf("external env = target %s, %d APIs, %d components, %d links; want the given target and nothing started",
			e.Target, len(e.APIs), len(e.Components()), len(e.Links))
	}
	if !strings.Contains(e.Description(), "only its own prefixed test data") {
		t.Errorf("description %q does not say what the harness may touch", e.Description())
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := get(t, api.Target+"/healthz"); got != 200 {
		t.Errorf("closing an external env stopped the target (%d)", got)
	}
}

// With TLS the environment's one address is HTTPS through the balancer,
// trusted through the environment's own authority, and the instances
// behind it answer with HSTS (they trust the balancer's
// X-Forwarded-Proto); plain HTTP redirects to it, and the instances'
// own addresses stay plain HTTP for the checks that reach one directly.
func TestEmbeddedOverTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := env.Up(ctx, env.NewEmbedded(env.EmbeddedOptions{}), env.Options{
		APIBinary: envtest.APIBinary(t), Instances: 1, APIEnv: []string{"BCRYPT_COST=4"}, TLS: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	if e.CA == nil || !strings.HasPrefix(e.Target, "https://127.0.0.1:") || !strings.HasPrefix(e.PlainURL, "http://127.0.0.1:") {
		t.Fatalf("CA %v, Target %q, PlainURL %q; want an authority, https and http", e.CA, e.Target, e.PlainURL)
	}
	client := &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.CA.Pool()}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := client.Get(e.Target + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if hsts := res.Header.Get("Strict-Transport-Security"); res.StatusCode != 200 || !strings.Contains(hsts, "max-age=31536000") {
		t.Errorf("GET /api/health over TLS: %d, Strict-Transport-Security %q; want 200 with HSTS", res.StatusCode, hsts)
	}
	res, err = client.Get(e.PlainURL + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusPermanentRedirect || loc != e.Target+"/api/health" {
		t.Errorf("GET /api/health over plain HTTP: %d to %q; want 308 to %s/api/health", res.StatusCode, loc, e.Target)
	}
	if got := get(t, e.APIs[0].URL()+"/readyz"); got != 200 {
		t.Errorf("api-1 on its own plain-HTTP address: /readyz = %d", got)
	}
}
