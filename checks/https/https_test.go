package https_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/headers"
	"github.com/taskready/taskready/checks/https"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/internal/managed"
	"github.com/taskready/taskready/internal/pki"
)

func TestMain(m *testing.M) { checktest.Main(m) }

func TestMeta(t *testing.T) {
	t.Parallel()
	checktest.Meta(t, https.Checks(), checktest.Want{
		IDs:      []string{"https.certificate", "https.expiry", "https.protocols", "https.redirect"},
		Category: check.Transport,
	})
}

// Against a plain-HTTP target there is nothing to judge: every check says
// so, and none passes or fails.
func TestNotApplicableOverPlainHTTP(t *testing.T) {
	t.Parallel()
	for _, c := range https.Checks() {
		res := checktest.Run(t, c, &check.Target{BaseURL: "http://127.0.0.1:1"}, 10*time.Second)
		if res.Status != check.NotApplicable || !strings.Contains(res.Message, "not HTTPS") {
			t.Errorf("%s = %s (%s); want not applicable: the target is not HTTPS", c.Meta().ID, res.Status, res.Message)
		}
	}
}

// tlsEnv is a managed environment served over TLS (harness check -tls):
// the real API on embedded stores behind the balancer, which terminates
// TLS with a throwaway authority's certificate and redirects plain HTTP.
func tlsEnv(t *testing.T) *env.Env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the real API with embedded stores; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e, err := env.Up(ctx, env.NewEmbedded(env.EmbeddedOptions{}), env.Options{
		APIBinary: checktest.Binary(t), Instances: 1, APIEnv: []string{"BCRYPT_COST=4"}, TLS: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// targetOf is a target for base, trusting roots, as harness check makes
// it: its client trusts the same authorities the checks verify against.
func targetOf(base, plain string, roots *x509.CertPool) *check.Target {
	return &check.Target{
		BaseURL: base, PlainURL: plain, RootCAs: roots, Prefix: "https",
		Client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}},
	}
}

// front starts another balancer in front of e's instances, as the
// environment's own but serving cfg (a broken configuration), and
// returns its URL and plain-HTTP URL.
func front(t *testing.T, e *env.Env, cfg *tls.Config, redirect bool) (string, string) {
	t.Helper()
	var urls []string
	for _, a := range e.APIs {
		urls = append(urls, a.URL())
	}
	b, err := env.StartBalancerWith(urls, env.BalancerOptions{TLS: cfg, Redirect: redirect})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b.URL(), b.PlainURL()
}

// issue is a certificate of e's authority for the loopback names.
func issue(t *testing.T, e *env.Env, hosts []string, opts ...pki.Option) tls.Certificate {
	t.Helper()
	c, err := e.CA.Issue(hosts, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c.TLS
}

var loopback = []string{"127.0.0.1", "::1", "localhost"}

// The HTTPS checks pass against a managed environment served over TLS,
// with HSTS; then each fails, with evidence naming what broke, when its
// condition is broken in front of the same API instance: an expired
// certificate, one for another host, one from an authority the client
// does not trust, one that expires within the policy, TLS 1.0 or 1.1
// accepted, plain HTTP that serves instead of redirecting (or redirects
// to plain HTTP), and an API that sends no HSTS.
func TestManagedEnvironmentOverTLS(t *testing.T) {
	e := tlsEnv(t)
	all := append(https.Checks(), checktest.ByID(t, headers.Checks(), "headers.hsts"))
	good := managed.Target(e)
	good.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: good.RootCAs}}}
	if good.RootCAs == nil || good.PlainURL != e.PlainURL {
		t.Fatalf("managed.Target: RootCAs %v, PlainURL %q; want the environment's authority and %q", good.RootCAs, good.PlainURL, e.PlainURL)
	}
	checktest.Passes(t, checktest.RunAll(t, good, all), nil)

	now := time.Now()
	serve := func(cert tls.Certificate) *tls.Config { return env.ServerTLS(cert) }
	tls10 := env.ServerTLS(issue(t, e, loopback))
	tls10.MinVersion = tls.VersionTLS10
	tls11 := env.ServerTLS(issue(t, e, loopback))
	tls11.MinVersion = tls.VersionTLS11

	type want struct {
		id       string
		status   check.Status
		observed string
		message  string // a fragment of the result's message, when the observation is not enough
	}
	tests := []struct {
		name     string
		cfg      *tls.Config
		redirect bool
		plain    string // PlainURL, when not the front's own
		roots    *x509.CertPool
		policy   check.Policy
		want     []want
	}{
		{name: "expired certificate", cfg: serve(issue(t, e, loopback, pki.Valid(now.Add(-90*24*time.Hour), now.Add(-3*24*time.Hour)))), redirect: true,
			want: []want{{"https.certificate", check.Fail, "certificate has expired", ""}, {"https.expiry", check.Fail, "3 days ago", ""}}},
		{name: "certificate for another host", cfg: serve(issue(t, e, []string{"api.example", "10.0.0.5"})), redirect: true,
			want: []want{{"https.certificate", check.Fail, "not 127.0.0.1", ""}, {"https.expiry", check.Pass, "in 89 days", ""}}},
		{name: "authority not trusted", cfg: serve(issue(t, e, loopback)), redirect: true, roots: x509.NewCertPool(),
			want: []want{{"https.certificate", check.Fail, "unknown authority", ""}}},
		{name: "expires within the policy", cfg: serve(issue(t, e, loopback, pki.ValidFor(5*24*time.Hour))), redirect: true,
			want: []want{{"https.expiry", check.Fail, "in 4 days", ""}, {"https.certificate", check.Pass, "verified", ""}}},
		{name: "expires within twice the policy", cfg: serve(issue(t, e, loopback, pki.ValidFor(20*24*time.Hour))), redirect: true,
			want: []want{{"https.expiry", check.Warn, "in 19 days", ""}}},
		{name: "a stricter policy", cfg: serve(issue(t, e, loopback)), redirect: true, policy: check.Policy{CertMinValidity: 60 * 24 * time.Hour},
			want: []want{{"https.expiry", check.Warn, "in 89 days", ""}}},
		{name: "TLS 1.0 allowed", cfg: tls10, redirect: true,
			want: []want{{"https.protocols", check.Fail, "TLS 1.0 accepted", "accepts TLS 1.0 and TLS 1.1,"}, {"https.certificate", check.Pass, "verified", ""}}},
		{name: "TLS 1.1 allowed", cfg: tls11, redirect: true,
			want: []want{{"https.protocols", check.Fail, "TLS 1.1 accepted", "accepts TLS 1.1,"}}},
		{name: "no redirect: plain HTTP serves the API", cfg: serve(issue(t, e, loopback)), plain: e.APIs[0].URL(),
			want: []want{{"https.redirect", check.Fail, "200 OK without a redirect", ""}, {"https.protocols", check.Pass, "TLS 1.0 refused", ""}}},
		{name: "no redirect: nothing at the address given", cfg: serve(issue(t, e, loopback)), plain: "http://" + closedAddr(t),
			want: []want{{"https.redirect", check.Error, "", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, plain := front(t, e, tt.cfg, tt.redirect)
			if tt.plain != "" {
				plain = tt.plain
			}
			roots := good.RootCAs
			if tt.roots != nil {
				roots = tt.roots
			}
			target := targetOf(base, plain, roots)
			target.Policy = tt.policy.WithDefaults()
			for _, w := range tt.want {
				res := checktest.Run(t, checktest.ByID(t, all, w.id), target, time.Minute)
				checktest.SafeEvidence(t, w.id, res)
				if res.Status != w.status || !strings.Contains(res.Message, w.message) ||
					!slices.ContainsFunc(res.Evidence, func(ev check.Evidence) bool { return strings.Contains(ev.Observed, w.observed) }) {
					t.Errorf("%s = %s (%s), evidence %+v; want %s, saying %q, with an observation containing %q", w.id, res.Status, res.Message, res.Evidence, w.status, w.message, w.observed)
				}
			}
		})
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// HSTS is judged on the HTTPS answers: an instance that does not trust
// the proxy's X-Forwarded-Proto sends none behind a TLS front, and
// headers.hsts fails on it.
func TestNoHSTSBehindTLS(t *testing.T) {
	e := tlsEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Another instance on the same stores, without TRUSTED_PROXIES.
	plain, err := env.StartAPI(ctx, "api-untrusting", checktest.Binary(t),
		[]string{"MONGODB_URI=" + e.Stores.MongoURI, "REDIS_URL=" + e.Stores.RedisURL, "BCRYPT_COST=4"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Close() })
	b, err := env.StartBalancerWith([]string{plain.URL()}, env.BalancerOptions{TLS: env.ServerTLS(issue(t, e, loopback)), Redirect: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	target := targetOf(b.URL(), b.PlainURL(), e.CA.Pool())
	target.Mongo, target.Database = checktest.Mongo(t, e), check.DefaultDatabase
	res := checktest.RunAll(t, target, []check.Check{checktest.ByID(t, headers.Checks(), "headers.hsts")})["headers.hsts"]
	if res.Status != check.Fail || !slices.ContainsFunc(res.Evidence, func(ev check.Evidence) bool { return strings.Contains(ev.Observed, "no Strict-Transport-Security") }) {
		t.Errorf("headers.hsts = %s (%s); want fail observing no Strict-Transport-Security", res.Status, res.Message)
	}
}

// The readiness report of a run against a front with everything broken
// at once shows each failure with its evidence, as harness check prints
// it.
func TestReportShowsTheFindings(t *testing.T) {
	e := tlsEnv(t)
	now := time.Now()
	cfg := env.ServerTLS(issue(t, e, loopback, pki.Valid(now.Add(-30*24*time.Hour), now.Add(-5*24*time.Hour))))
	cfg.MinVersion = tls.VersionTLS10
	base, _ := front(t, e, cfg, false)
	target := targetOf(base, e.APIs[0].URL(), e.CA.Pool())
	rep := readiness.Run(context.Background(), https.Checks(), target, readiness.WithRunID("broken-front"))
	var out bytes.Buffer
	if err := report.Text(&out, rep); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Log(text)
	for _, want := range []string{
		"https.certificate", "certificate has expired or is not yet valid",
		"https.expiry", "expired 5 days ago",
		"https.protocols", "TLS 1.0 accepted", "TLS 1.1 accepted",
		"https.redirect", "200 OK without a redirect",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if rep.Passed {
		t.Error("the run passed with every HTTPS check broken")
	}
}

// A plain-HTTP port that redirects, but temporarily or to plain HTTP, is
// a warning and a failure: a real server on loopback answers each.
func TestRedirectKinds(t *testing.T) {
	t.Parallel()
	ca, cert, err := pki.Local()
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	tlsSrv.TLS = env.ServerTLS(cert.TLS)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	base := tlsSrv.URL
	for _, tt := range []struct {
		name     string
		status   int
		location string
		want     check.Status
		observed string
	}{
		{"308", http.StatusPermanentRedirect, base + "/api/health?from=plain-http", check.Pass, "308 to " + base},
		{"301", http.StatusMovedPermanently, base + "/api/health?from=plain-http", check.Pass, "301 to " + base},
		{"302", http.StatusFound, base + "/api/health?from=plain-http", check.Warn, "302 to " + base},
		{"to the root", http.StatusPermanentRedirect, base + "/", check.Warn, "308 to " + base + "/"},
		{"to plain HTTP", http.StatusPermanentRedirect, "http://127.0.0.1:9/api/health", check.Fail, "redirect to http://127.0.0.1:9"},
		{"no Location", http.StatusPermanentRedirect, "", check.Fail, "without a redirect"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.location != "" {
					w.Header().Set("Location", tt.location)
				}
				w.WriteHeader(tt.status)
			}))
			t.Cleanup(plain.Close)
			res := checktest.Run(t, checktest.ByID(t, https.Checks(), "https.redirect"), targetOf(base, plain.URL, ca.Pool()), 30*time.Second)
			if res.Status != tt.want || !slices.ContainsFunc(res.Evidence, func(ev check.Evidence) bool { return strings.Contains(ev.Observed, tt.observed) }) {
				t.Errorf("https.redirect = %s (%s), evidence %+v; want %s observing %q", res.Status, res.Message, res.Evidence, tt.want, tt.observed)
			}
		})
	}
}
