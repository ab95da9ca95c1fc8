package jwt_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/checks/jwt"
	"github.com/taskready/taskready/service/config"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// upAPI starts the real API on embedded stores with apiEnv and returns a
// target whose fixtures are removed (and counted) when the test ends.
func upAPI(t *testing.T, apiEnv ...string) *check.Target {
	t.Helper()
	e := checktest.API(t, 1, slices.Concat(checktest.NoRateLimits, apiEnv)...)
	target := &check.Target{
		BaseURL: e.Target, Client: &http.Client{Timeout: 30 * time.Second},
		Mongo: checktest.Mongo(t, e), Prefix: "readiness-jwt-" + randomHex(3),
	}
	// Registered after e.Close's and the disconnect's cleanups, so it runs
	// first: the caller's one fixture.Cleanup after all checks, as the
	// package doc says.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		users, tasks, err := fixture.Cleanup(ctx, target)
		if err != nil {
			t.Errorf("fixture.Cleanup: %v", err)
		}
		if users == 0 {
			t.Error("fixture.Cleanup removed no users; the checks registered some")
		}
		if tasks != 0 {
			t.Errorf("fixture.Cleanup removed %d tasks; the checks should have deleted their own", tasks)
		}
	})
	return target
}

// run runs every check against target and returns the results by id; no
// evidence may show the development secret in full.
func run(t *testing.T, target *check.Target, checks []check.Check) map[string]check.Result {
	t.Helper()
	return checktest.RunAll(t, target, checks, regexp.MustCompile(regexp.QuoteMeta(devSecret)))
}

func strongSecret(t *testing.T) string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// Against the real API with its development secret: every check passes
// but auth.weak-secret, which finds the secret; auth.expired cracks it
// too and so can forge its expired token.
func TestRealAPIWithDevelopmentSecret(t *testing.T) {
	t.Parallel()
	// JWT_SECRET= overrides one inherited from the test's environment: the
	// API then falls back to its published development secret.
	target := upAPI(t, "JWT_SECRET=")
	res := run(t, target, jwt.Checks())
	for _, c := range jwt.Checks() {
		id, want := c.Meta().ID, check.Pass
		if id == jwt.IDWeakSecret {
			want = check.Fail
		}
		if got := res[id].Status; got != want {
			t.Errorf("%s = %s (%s); want %s", id, got, res[id].Message, want)
		}
	}
}

// Against the real API with a strong secret: every check passes; the
// expired-token check needs the secret, given as a staging run would.
func TestRealAPIWithStrongSecret(t *testing.T) {
	t.Parallel()
	secret := strongSecret(t)
	target := upAPI(t, "JWT_SECRET="+secret)

	t.Run("black box", func(t *testing.T) {
		res := run(t, target, jwt.Checks())
		for _, c := range jwt.Checks() {
			id, want := c.Meta().ID, check.Pass
			if id == jwt.IDExpired {
				want = check.NotApplicable // the secret cannot be cracked
			}
			if got := res[id].Status; got != want {
				t.Errorf("%s = %s (%s); want %s", id, got, res[id].Message, want)
			}
		}
		if msg := res[jwt.IDExpired].Message; !strings.Contains(msg, "secret") || !strings.Contains(msg, jwt.IDTokenLifetime) {
			t.Errorf("auth.expired NotApplicable message %q; want the reason (no secret) and the check that covers exp", msg)
		}
	})
	t.Run("secret known", func(t *testing.T) {
		res := run(t, target, jwt.New(jwt.Options{Secret: secret}))
		for id, r := range res {
			if r.Status != check.Pass {
				t.Errorf("%s = %s (%s); want pass", id, r.Status, r.Message)
			}
		}
	})
}

// Every check fails against a fake API with the one flaw it looks for,
// with evidence naming the request and what came back.
func TestEachCheckCatchesItsFlaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		f     flaws
		known bool // pass the fake's secret in Options
		id    string
		// observed is a fragment every failing evidence shows.
		observed string
	}{
		{"no auth at all", flaws{noAuth: true}, false, jwt.IDNoToken, "accepted"},
		{"alg none accepted", flaws{algNone: true}, false, jwt.IDAlgNone, "accepted"},
		{"signature not verified", flaws{noVerify: true}, false, jwt.IDTampered, "accepted as the other user"},
		{"HS384/HS512 trusted unverified", flaws{otherAlgs: true}, false, jwt.IDAlgOther, "accepted"},
		{"development secret", flaws{weakSecret: true}, false, jwt.IDWeakSecret, "dictionary entry"},
		{"no exp", flaws{noExp: true}, false, jwt.IDTokenLifetime, "never expires"},
		{"a year-long token", flaws{longTTL: true}, false, jwt.IDTokenLifetime, "365d"},
		{"exp not checked (secret known)", flaws{ignoreExp: true}, true, jwt.IDExpired, "accepted"},
		{"exp not checked (secret cracked)", flaws{ignoreExp: true, weakSecret: true}, false, jwt.IDExpired, "accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(tt.f)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			o := jwt.Options{}
			if tt.known {
				o.Secret = string(fake.secret)
			}
			res := run(t, &check.Target{BaseURL: srv.URL, Prefix: "flaw"}, jwt.New(o))
			got := res[tt.id]
			if got.Status != check.Fail {
				t.Fatalf("%s = %s (%s); want fail", tt.id, got.Status, got.Message)
			}
			if !slices.ContainsFunc(got.Evidence, func(e check.Evidence) bool { return strings.Contains(e.Observed, tt.observed) }) {
				t.Errorf("%s evidence %+v; want an observation containing %q", tt.id, got.Evidence, tt.observed)
			}
		})
	}
}

// The fake without flaws passes every check: so each failure above is
// the flaw's, not the fake's.
func TestFakeWithoutFlawsPasses(t *testing.T) {
	t.Parallel()
	fake := newFake(flaws{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	res := run(t, &check.Target{BaseURL: srv.URL}, jwt.New(jwt.Options{Secret: string(fake.secret)}))
	for id, r := range res {
		if r.Status != check.Pass {
			t.Errorf("%s = %s (%s); want pass", id, r.Status, r.Message)
		}
	}
}

// A 429 is no verdict: every check says it could not run, none passes.
func TestRateLimitedIsAnError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newFake(flaws{limitEverything: true}))
	defer srv.Close()
	for id, r := range run(t, &check.Target{BaseURL: srv.URL}, jwt.Checks()) {
		if r.Status != check.Error || !strings.Contains(r.Message, "429") {
			t.Errorf("%s = %s (%s); want error naming the 429", id, r.Status, r.Message)
		}
	}
}

// Cracking is offline: auth.weak-secret sends nothing but the registers
// that yield a real token, whatever the size of the dictionary.
func TestWeakSecretSendsNoCrackingTraffic(t *testing.T) {
	t.Parallel()
	for _, weak := range []bool{false, true} {
		fake := newFake(flaws{weakSecret: weak})
		srv := httptest.NewServer(fake)
		c := jwt.Checks()[slices.IndexFunc(jwt.Checks(), func(c check.Check) bool { return c.Meta().ID == jwt.IDWeakSecret })]
		res := c.Run(context.Background(), &check.Target{BaseURL: srv.URL})
		srv.Close()
		if n, reg := fake.total(), fake.count("POST /api/auth/register"); n != reg || n > 2 {
			t.Errorf("weak=%v: %d requests reached the target, %d of them registers; want only the (at most 2) registers", weak, n, reg)
		}
		if want := map[bool]check.Status{false: check.Pass, true: check.Fail}[weak]; res.Status != want {
			t.Errorf("weak=%v: %s (%s); want %s", weak, res.Status, res.Message, want)
		}
	}
}

// The dictionary holds the secrets the brief and the anchors name, and
// this repository's development secret, whatever it becomes.
func TestWordlist(t *testing.T) {
	words := jwt.Wordlist()
	if n := len(words); n < 200 || n > 1000 {
		t.Errorf("%d words; want 200 to 1000", n)
	}
	for _, w := range []string{"secret", "changeme", "your_jwt_secret", "your-256-bit-secret", config.DevelopmentSecret, ""} {
		if !slices.Contains(words, w) {
			t.Errorf("wordlist lacks %q", w)
		}
	}
	if got := jwt.New(jwt.Options{Wordlist: []string{"secret", "acme-extra"}}); len(got) == 0 {
		t.Fatal("New returned no checks")
	}
}

// The ids are stable and each meta is complete.
func TestMeta(t *testing.T) {
	want := []string{"auth.no-token", "auth.alg-none", "auth.tampered", "auth.alg-other", "auth.weak-secret", "auth.token-lifetime", "auth.expired"}
	var got []string
	for _, c := range jwt.Checks() {
		m := c.Meta()
		got = append(got, m.ID)
		if m.Title == "" || m.Remediation == "" || len(m.References) == 0 || m.Severity.Rank() == 0 || m.Category != check.Auth {
			t.Errorf("%s: incomplete meta %+v", m.ID, m)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("ids %v; want %v", got, want)
	}
}
