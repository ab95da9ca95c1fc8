package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/taskready/taskready/service/auth"
)

const (
	secret = "test-secret-0123456789-0123456789-abcdef"
	userID = "64b7f0c2a1b2c3d4e5f60718"
	ttl    = 30 * 24 * time.Hour
)

var b64 = base64.RawURLEncoding

// segment base64url-encodes v as JSON, as a JWT header or payload.
func segment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64.EncodeToString(b)
}

// decodePayload returns the JSON payload of token without verifying it.
func decodePayload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts; want 3", token, len(parts))
	}
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload of %q: %v", token, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("payload %s: %v", raw, err)
	}
	return m
}

// sign signs claims with method and key using the jwt library directly.
func sign(t *testing.T, method jwt.SigningMethod, claims jwt.Claims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

func validClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"userId": userID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	tokens := auth.NewTokens(secret, ttl)
	if got, want := tokens.TTL(), ttl; got != want {
		t.Errorf("TTL() = %v; want %v", got, want)
	}
	for _, id := range []string{userID, "a", "user with spaces", "ünïcødé"} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			token, exp, err := tokens.Issue(id)
			if err != nil {
				t.Fatalf("Issue(%q) error = %v", id, err)
			}
			if d := time.Until(exp); d <= ttl-time.Minute || d > ttl {
				t.Errorf("Issue(%q) expiry in %v; want about %v", id, d, ttl)
			}
			got, err := tokens.Verify(token)
			if err != nil {
				t.Fatalf("Verify(Issue(%q)) error = %v; want nil", id, err)
			}
			if got != id {
				t.Errorf("Verify(Issue(%q)) = %q; want %q", id, got, id)
			}
		})
	}
}

func TestIssuedTokenShape(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 6, 7, 8, 9, 500_000_000, time.UTC)
	tokens := auth.NewTokens(secret, ttl, auth.Clock(func() time.Time { return now }))
	token, exp, err := tokens.Issue(userID)
	if err != nil {
		t.Fatalf("Issue error = %v", err)
	}

	header, err := b64.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatalf("header %s: %v", header, err)
	}
	if got, want := h["alg"], "HS256"; got != want {
		t.Errorf("header alg = %v; want %v", got, want)
	}

	p := decodePayload(t, token)
	if got, want := p["userId"], userID; got != want {
		t.Errorf("payload userId = %v; want %v", got, want)
	}
	iat, okI := p["iat"].(float64)
	expClaim, okE := p["exp"].(float64)
	if !okI || !okE {
		t.Fatalf("payload %v lacks numeric iat and exp", p)
	}
	if got, want := int64(iat), now.Unix(); got != want {
		t.Errorf("payload iat = %d; want %d", got, want)
	}
	if got, want := time.Duration(expClaim-iat)*time.Second, ttl; got != want {
		t.Errorf("payload exp-iat = %v; want %v", got, want)
	}
	if got, want := exp.Unix(), int64(expClaim); got != want {
		t.Errorf("Issue returned expiry %d; payload exp = %d", got, want)
	}
	for k := range p {
		switch k {
		case "userId", "iat", "exp", "jti":
		default:
			t.Errorf("payload carries unexpected claim %q: %v", k, p)
		}
	}
	// The jti is 128 random bits: fresh for every token, even two issued
	// for the same user in the same second.
	jti, _ := p["jti"].(string)
	if raw, err := b64.DecodeString(jti); err != nil || len(raw) != 16 {
		t.Errorf("payload jti = %q; want 16 bytes base64url (%v)", jti, err)
	}
	again, _, err := tokens.Issue(userID)
	if err != nil {
		t.Fatal(err)
	}
	if other := decodePayload(t, again)["jti"]; other == jti {
		t.Errorf("two tokens share jti %q", jti)
	}
	v, err := tokens.Parse(token)
	if err != nil {
		t.Fatalf("Parse error = %v", err)
	}
	if v.ID != jti || v.UserID != userID || !v.Expires.Equal(exp) {
		t.Errorf("Parse = %+v; want ID %q, user %q, expiry %v", v, jti, userID, exp)
	}
}

// signWithHeader signs claims with HS256 after adding header fields.
func signWithHeader(t *testing.T, claims jwt.Claims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseIDOfTokensWithoutJTI(t *testing.T) {
	t.Parallel()
	tokens := auth.NewTokens(secret, ttl)
	// Tokens issued before tokens carried a jti are still named, by their
	// signature, so that logout can revoke them too.
	first := sign(t, jwt.SigningMethodHS256, validClaims(), []byte(secret))
	other := validClaims()
	other["userId"] = "another-user"
	second := sign(t, jwt.SigningMethodHS256, other, []byte(secret))
	a, err := tokens.Parse(first)
	if err != nil {
		t.Fatalf("Parse(no jti) error = %v", err)
	}
	b, err := tokens.Parse(second)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := tokens.Parse(first)
	if !strings.HasPrefix(a.ID, "sig:") || a.ID == b.ID || a.ID != again.ID {
		t.Errorf("ids %q, %q, %q; want stable, distinct, sig:-prefixed", a.ID, b.ID, again.ID)
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	tokens := auth.NewTokens(secret, ttl)
	good, _, err := tokens.Issue(userID)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	// A payload naming another user, with the original signature.
	forged := decodePayload(t, good)
	forged["userId"] = "000000000000000000000000"
	tampered := parts[0] + "." + segment(t, forged) + "." + parts[2]

	// The issuer in the past: the token expired an hour ago.
	past := time.Now().Add(-ttl - time.Hour)
	expired, _, err := auth.NewTokens(secret, ttl, auth.Clock(func() time.Time { return past })).Issue(userID)
	if err != nil {
		t.Fatal(err)
	}

	noneToken := func(alg string) string {
		return segment(t, map[string]string{"alg": alg, "typ": "JWT"}) + "." + parts[1] + "."
	}
	noneSigned := func(alg string) string { // "none" header, keeping the HS256 signature
		return segment(t, map[string]string{"alg": alg, "typ": "JWT"}) + "." + parts[1] + "." + parts[2]
	}

	noExp := validClaims()
	delete(noExp, "exp")
	noUser := validClaims()
	delete(noUser, "userId")
	emptyUser := validClaims()
	emptyUser["userId"] = ""
	numericUser := validClaims()
	numericUser["userId"] = 42
	futureIat := validClaims()
	futureIat["iat"] = time.Now().Add(time.Hour).Unix()
	noIat := validClaims()
	delete(noIat, "iat")
	millennium := validClaims()
	millennium["exp"] = time.Now().AddDate(1000, 0, 0).Unix()
	// Both issued long ago, so only exp-iat is too long: exp itself is
	// within a TTL from now.
	overLong := validClaims()
	overLong["iat"] = time.Now().Add(-ttl - time.Hour).Unix()
	// iat now but exp beyond a TTL from now.
	farExp := validClaims()
	farExp["exp"] = time.Now().Add(ttl + 2*auth.ClockLeeway).Unix()
	longID := validClaims()
	longID["jti"] = strings.Repeat("x", 65)
	numericID := validClaims()
	numericID["jti"] = 7

	tests := []struct {
		name  string
		token string
	}{
		{"alg none", noneToken("none")},
		{"alg None", noneToken("None")},
		{"alg NONE", noneToken("NONE")},
		{"alg nOnE", noneToken("nOnE")},
		{"alg none with signature", noneSigned("none")},
		{"alg empty", noneToken("")},
		{"HS384 same secret", sign(t, jwt.SigningMethodHS384, validClaims(), []byte(secret))},
		{"HS512 same secret", sign(t, jwt.SigningMethodHS512, validClaims(), []byte(secret))},
		{"RS256", sign(t, jwt.SigningMethodRS256, validClaims(), rsaKey)},
		{"tampered payload", tampered},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, validClaims(), []byte(secret+"x"))},
		{"expired", expired},
		{"missing exp", sign(t, jwt.SigningMethodHS256, noExp, []byte(secret))},
		{"missing userId", sign(t, jwt.SigningMethodHS256, noUser, []byte(secret))},
		{"empty userId", sign(t, jwt.SigningMethodHS256, emptyUser, []byte(secret))},
		{"numeric userId", sign(t, jwt.SigningMethodHS256, numericUser, []byte(secret))},
		{"issued in the future", sign(t, jwt.SigningMethodHS256, futureIat, []byte(secret))},
		{"missing iat", sign(t, jwt.SigningMethodHS256, noIat, []byte(secret))},
		{"exp 1000 years out", sign(t, jwt.SigningMethodHS256, millennium, []byte(secret))},
		{"exp-iat over the TTL", sign(t, jwt.SigningMethodHS256, overLong, []byte(secret))},
		{"exp over a TTL from now", sign(t, jwt.SigningMethodHS256, farExp, []byte(secret))},
		{"jti too long", sign(t, jwt.SigningMethodHS256, longID, []byte(secret))},
		{"jti not a string", sign(t, jwt.SigningMethodHS256, numericID, []byte(secret))},
		{"crit listing exp", signWithHeader(t, validClaims(), map[string]any{"crit": []string{"exp"}})},
		{"crit listing an extension", signWithHeader(t, validClaims(), map[string]any{"crit": []string{"b64"}, "b64": false})},
		{"crit empty", signWithHeader(t, validClaims(), map[string]any{"crit": []string{}})},
		{"crit null", signWithHeader(t, validClaims(), map[string]any{"crit": nil})},
		{"crit not a list", signWithHeader(t, validClaims(), map[string]any{"crit": "exp"})},
		{"signature stripped", parts[0] + "." + parts[1] + "."},
		{"two parts", parts[0] + "." + parts[1]},
		{"four parts", good + "." + parts[2]},
		{"signature truncated", good[:len(good)-2]},
		{"payload not base64", parts[0] + ".!!!." + parts[2]},
		{"payload not JSON", parts[0] + "." + b64.EncodeToString([]byte("not json")) + "." + parts[2]},
		{"Bearer prefix kept", "Bearer " + good},
		{"garbage", "garbage"},
		{"dots", ".."},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tokens.Verify(tt.token)
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Verify(%q) = %q, %v; want ErrInvalidToken", tt.token, got, err)
			}
			if got != "" {
				t.Errorf("Verify(%q) user = %q; want empty", tt.token, got)
			}
		})
	}
}

func TestVerifyExpiryBoundary(t *testing.T) {
	t.Parallel()
	issued := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	issuer := auth.NewTokens(secret, time.Hour, auth.Clock(func() time.Time { return issued }))
	token, exp, err := issuer.Issue(userID)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"at issue", issued, true},
		{"just before expiry", exp.Add(-time.Second), true},
		{"at expiry", exp, false},
		{"after expiry", exp.Add(time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := auth.NewTokens(secret, time.Hour, auth.Clock(func() time.Time { return tt.at }))
			_, err := v.Verify(token)
			if got, want := err == nil, tt.ok; got != want {
				t.Errorf("Verify at %v (exp %v) error = %v; want ok=%v", tt.at, exp, err, want)
			}
		})
	}
}

func TestVerifyLifetimeBoundary(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const life = 2 * time.Minute
	v := auth.NewTokens(secret, life, auth.Clock(func() time.Time { return now }))
	claims := func(iat, exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"userId": userID, "iat": iat.Unix(), "exp": exp.Unix(), "jti": "abc"}
	}
	longest := life + auth.ClockLeeway
	tests := []struct {
		name     string
		iat, exp time.Time
		ok       bool
	}{
		{"exactly the TTL", now, now.Add(life), true},
		{"TTL plus leeway", now, now.Add(longest), true},
		{"a second over TTL plus leeway", now, now.Add(longest + time.Second), false},
		{"old iat, exp-iat over", now.Add(-longest), now.Add(time.Second), false},
		{"iat within the leeway ahead", now.Add(auth.ClockLeeway), now.Add(auth.ClockLeeway + life), true},
		{"iat beyond the leeway ahead", now.Add(auth.ClockLeeway + time.Second), now.Add(auth.ClockLeeway + life), false},
		{"exp before iat", now.Add(30 * time.Second), now.Add(10 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Verify(sign(t, jwt.SigningMethodHS256, claims(tt.iat, tt.exp), []byte(secret)))
			if got := err == nil; got != tt.ok {
				t.Errorf("Verify(iat %v, exp %v) error = %v; want ok=%v", tt.iat.Sub(now), tt.exp.Sub(now), err, tt.ok)
			}
		})
	}
	// What Issue makes with this TTL passes its own check.
	token, _, err := v.Issue(userID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(token); err != nil {
		t.Errorf("Verify(Issue) with a %v TTL error = %v", life, err)
	}
}

func TestPasswords(t *testing.T) {
	t.Parallel()
	p, err := auth.NewPasswords(bcrypt.MinCost)
	if err != nil {
		t.Fatalf("NewPasswords(%d) error = %v", bcrypt.MinCost, err)
	}
	const pw = "correct horse battery staple"
	hash, err := p.Hash(pw)
	if err != nil {
		t.Fatalf("Hash error = %v", err)
	}
	if hash == pw || strings.Contains(hash, pw) {
		t.Fatalf("Hash(%q) = %q; it contains the password", pw, hash)
	}
	if got, err := bcrypt.Cost([]byte(hash)); err != nil || got != bcrypt.MinCost {
		t.Errorf("bcrypt.Cost(Hash) = %d, %v; want %d", got, err, bcrypt.MinCost)
	}
	again, err := p.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if again == hash {
		t.Errorf("Hash(%q) twice gave the same hash %q; want a fresh salt each time", pw, hash)
	}

	tests := []struct {
		name     string
		hash, pw string
		want     bool
	}{
		{"right password", hash, pw, true},
		{"right password, second hash", again, pw, true},
		{"wrong password", hash, "incorrect horse", false},
		{"case differs", hash, strings.ToUpper(pw), false},
		{"prefix", hash, pw[:10], false},
		{"empty password", hash, "", false},
		{"no user", "", pw, false},
		{"no user, empty password", "", "", false},
		{"hash not bcrypt", "not-a-hash", pw, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := p.Match(tt.hash, tt.pw); got != tt.want {
				t.Errorf("Match(%q, %q) = %v; want %v", tt.hash, tt.pw, got, tt.want)
			}
		})
	}
}

func TestPasswordsRefuse(t *testing.T) {
	t.Parallel()
	if _, err := auth.NewPasswords(bcrypt.MaxCost + 1); err == nil {
		t.Errorf("NewPasswords(%d) error = nil; want an error", bcrypt.MaxCost+1)
	}
	p, err := auth.NewPasswords(bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// bcrypt reads 72 bytes only; a longer password must not be silently cut.
	if h, err := p.Hash(strings.Repeat("p", 73)); err == nil {
		t.Errorf("Hash(73 bytes) = %q, nil; want an error", h)
	}
	if _, err := p.Hash(strings.Repeat("p", 72)); err != nil {
		t.Errorf("Hash(72 bytes) error = %v; want nil", err)
	}
}
