package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	goredis "github.com/redis/go-redis/v9"
)

// claimsOf decodes a token's payload without verifying it.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// as sends a request from c presenting token the carrier's way: "bearer"
// (the Authorization header) or "cookie".
func as(c *client, carrier, token, method, path string) response {
	c.tb.Helper()
	if carrier == "cookie" {
		saved := c.token
		c.token = ""
		defer func() { c.token = saved }()
		return c.do(method, path, nil, "Cookie", "token="+token)
	}
	saved := c.token
	c.token = token
	defer func() { c.token = saved }()
	return c.do(method, path, nil)
}

func TestLogoutRevokesTheTokenOnEveryInstance(t *testing.T) {
	e := newEnv(t)
	one, two := e.start(t), e.start(t)
	for _, carrier := range []string{"bearer", "cookie"} {
		t.Run(carrier, func(t *testing.T) {
			c := one.client(t)
			_, email := c.register("Leaving")
			token := c.token
			other := two.client(t)
			as(other, carrier, token, "GET", "/api/auth/profile").expect(t, 200, "")

			r := as(c, carrier, token, "POST", "/api/auth/logout").expect(t, 200, "Logged out")
			if ck := r.header.Get("Set-Cookie"); !strings.Contains(ck, "token=;") && !strings.Contains(ck, "Max-Age=0") && !strings.Contains(ck, "max-age=0") {
				t.Errorf("logout Set-Cookie = %q; want the cookie cleared", ck)
			}
			for name, in := range map[string]*instance{"same instance": one, "other instance": two} {
				t.Run(name, func(t *testing.T) {
					x := in.client(t)
					as(x, carrier, token, "GET", "/api/auth/profile").expect(t, 401, "Not authorized, invalid token")
					as(x, carrier, token, "GET", "/api/tasks").expect(t, 401, "Not authorized, invalid token")
				})
			}
			// Only that token: a new login works.
			fresh := two.client(t)
			r = fresh.do("POST", "/api/auth/login", map[string]string{"email": email, "password": "secret123"}).expect(t, 200, "Login successful")
			fresh.token = r.str("token")
			fresh.do("GET", "/api/auth/profile", nil).expect(t, 200, "")
		})
	}
	if m := metricsText(t, one.client(t)); !strings.Contains(m, "taskapi_denylist_revocations_total 2") {
		t.Error("/metrics does not count the two revocations")
	}
}

func TestLogoutOfATokenWithoutJTI(t *testing.T) {
	e := newEnv(t)
	one, two := e.start(t), e.start(t)
	c := one.client(t)
	id, _ := c.register("Legacy")
	// As issued before tokens carried a jti.
	now := time.Now()
	c.token = sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"userId": id, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	c.do("GET", "/api/auth/profile", nil).expect(t, 200, "")
	c.do("POST", "/api/auth/logout", nil).expect(t, 200, "Logged out")
	c.do("GET", "/api/auth/profile", nil).expect(t, 401, "Not authorized, invalid token")
	x := two.client(t)
	x.token = c.token
	x.do("GET", "/api/auth/profile", nil).expect(t, 401, "Not authorized, invalid token")
}

func TestLogoutWithoutAUsableTokenStillAnswers200(t *testing.T) {
	in := newEnv(t).start(t)
	tests := []struct{ name, header, value string }{
		{"no token", "", ""},
		{"garbage bearer", "Authorization", "Bearer garbage"},
		{"garbage cookie", "Cookie", "token=garbage"},
		{"other secret", "Authorization", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"),
			jwt.MapClaims{"userId": "x", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in.client(t).do("POST", "/api/auth/logout", nil, tt.header, tt.value).expect(t, 200, "Logged out")
		})
	}
}

func TestLogoutWhileRedisIsDown(t *testing.T) {
	e := newEnv(t)
	one, two := e.start(t), e.start(t)
	c := one.client(t)
	c.register("Outage")
	token := c.token
	other := two.client(t)
	other.token = token
	other.do("GET", "/api/auth/profile", nil).expect(t, 200, "")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.redis.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	c.do("POST", "/api/auth/logout", nil).expect(t, 200, "Logged out")
	c.do("GET", "/api/auth/profile", nil).expect(t, 401, "Not authorized, invalid token")
	c.do("GET", "/api/tasks", nil).expect(t, 401, "Not authorized, invalid token")
	// The documented limit: another instance cannot know until Redis is
	// back.
	other.do("GET", "/api/auth/profile", nil).expect(t, 200, "")
	if m := metricsText(t, other); !strings.Contains(m, `taskapi_denylist_fallback_total{op="check"}`) ||
		strings.Contains(m, `taskapi_denylist_fallback_total{op="check"} 0`) {
		t.Error("/metrics of the other instance does not count its local-only checks")
	}

	// Redis back: the revoking instance writes what it recorded alone at
	// its next use of Redis, and then every instance refuses the token.
	if err := e.redis.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, in := range []*instance{one, two} {
		cl := in.client(t)
		eventually(t, 10*time.Second, "readyz back to pass", func() bool {
			return cl.do("GET", "/readyz", nil).str("status") == "pass"
		})
	}
	fresh := one.client(t)
	fresh.register("AfterOutage") // an authenticated request on one reaches Redis
	fresh.do("GET", "/api/auth/profile", nil).expect(t, 200, "")
	other.do("GET", "/api/auth/profile", nil).expect(t, 401, "Not authorized, invalid token")
}

func TestRevocationExpiresWithTheToken(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, "JWT_TTL=2m")
	c := in.client(t)
	c.register("Short")
	claims := claimsOf(t, c.token)
	jti, _ := claims["jti"].(string)
	exp, _ := claims["exp"].(float64)
	if jti == "" || exp == 0 {
		t.Fatalf("token claims %v lack jti or exp", claims)
	}
	c.do("POST", "/api/auth/logout", nil).expect(t, 200, "Logged out")

	rdb := goredis.NewClient(&goredis.Options{Addr: e.redis.Addr(), DisableIdentity: true})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	key := "taskapi:revoked:" + jti
	at, err := rdb.ExpireTime(ctx, key).Result()
	if err != nil {
		t.Fatalf("EXPIRETIME %s: %v", key, err)
	}
	if got, want := int64(at/time.Second), int64(exp); got != want {
		t.Errorf("%s expires at %d; want the token's exp %d", key, got, want)
	}
	if ttl, err := rdb.TTL(ctx, key).Result(); err != nil || ttl <= 0 || ttl > 2*time.Minute {
		t.Errorf("TTL %s = %v, %v; want within the 2m token lifetime", key, ttl, err)
	}
}

// signWithHeader signs claims with HS256 and the test secret, with extra
// header fields.
func signWithHeader(t *testing.T, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokensBeyondThePolicyAreRefused(t *testing.T) {
	in := newEnv(t).start(t, "JWT_TTL=2m")
	c := in.client(t)
	id, _ := c.register("Policy")
	now := time.Now()
	claims := func(iat, exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"userId": id, "iat": iat.Unix(), "exp": exp.Unix(), "jti": "policy-test"}
	}
	noIat := claims(now, now.Add(time.Minute))
	delete(noIat, "iat")

	tests := []struct {
		name   string
		token  string
		status int
	}{
		{"issued token", c.token, 200},
		{"within the TTL", sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(now, now.Add(2*time.Minute))), 200},
		{"crit", signWithHeader(t, claims(now, now.Add(time.Minute)), map[string]any{"crit": []string{"exp"}}), 401},
		{"crit empty", signWithHeader(t, claims(now, now.Add(time.Minute)), map[string]any{"crit": []string{}}), 401},
		{"exp 1000 years out", sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(now, now.AddDate(1000, 0, 0))), 401},
		{"iat missing", sign(t, jwt.SigningMethodHS256, []byte(testSecret), noIat), 401},
		{"exp-iat over the TTL", sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(now.Add(-5*time.Minute), now.Add(time.Minute))), 401},
		{"exp beyond TTL from now", sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(now, now.Add(5*time.Minute))), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := in.client(t)
			x.token = tt.token
			msg := ""
			if tt.status == 401 {
				msg = "Not authorized, invalid token"
			}
			x.do("GET", "/api/auth/profile", nil).expect(t, tt.status, msg)
			x.do("GET", "/api/tasks", nil).expect(t, tt.status, msg)
		})
	}
}
