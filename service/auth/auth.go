// Package auth hashes passwords and issues and verifies the API's tokens.
//
// Tokens are HS256 JWTs carrying userId, iat and exp, as the original
// Express API issued them, plus a random jti that names the token so that
// logout can revoke it (see service/denylist). Verification pins the
// algorithm, so "alg: none" and every other algorithm are refused before
// any key is used; it also refuses a header with "crit" (we implement no
// JWS extension, RFC 7515 §4.1.11), a token without iat, and a lifetime
// (exp-iat, or exp from now) longer than the configured one, so that a
// token minted with the secret cannot outlive the policy.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
)

// ErrInvalidToken covers every reason a token is refused: malformed, wrong
// algorithm, bad signature, expired, missing claims. Callers answer them all
// alike so that a client learns nothing from the difference.
var ErrInvalidToken = errors.New("invalid token")

// Passwords hashes and checks passwords with bcrypt at a fixed cost.
type Passwords struct {
	cost  int
	dummy []byte // a hash to compare against when the user does not exist
}

// NewPasswords returns a hasher at the given bcrypt cost.
func NewPasswords(cost int) (*Passwords, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("timing-equaliser"), cost)
	if err != nil {
		return nil, fmt.Errorf("bcrypt cost %d: %w", cost, err)
	}
	return &Passwords{cost: cost, dummy: dummy}, nil
}

// Hash returns the bcrypt hash of password.
func (p *Passwords) Hash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), p.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Match reports whether password matches hash. With an empty hash (no such
// user) it still spends one bcrypt comparison, so response time does not
// tell which emails are registered.
func (p *Passwords) Match(hash, password string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(p.dummy, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// ClockLeeway is the clock skew between instances that verification
// tolerates: an iat up to this far in the future, and a lifetime up to this
// much longer than the TTL. exp itself gets none, so a token is refused
// from the second it expires.
const ClockLeeway = time.Minute

// maxIDLen bounds the jti a token may carry (ours are 22 characters); the
// id becomes a Redis key.
const maxIDLen = 64

// sigIDPrefix marks a revocation id derived from the signature of a token
// without jti. base64url never contains ':', so it cannot clash with a jti.
const sigIDPrefix = "sig:"

// Tokens issues and verifies HS256 tokens with one secret.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// TokenOption sets an optional property of Tokens.
type TokenOption func(*Tokens)

// Clock sets the time source, for tests of expiry.
func Clock(now func() time.Time) TokenOption { return func(t *Tokens) { t.now = now } }

// NewTokens returns a token service; ttl is every token's lifetime.
func NewTokens(secret string, ttl time.Duration, opts ...TokenOption) *Tokens {
	t := &Tokens{secret: []byte(secret), ttl: ttl, now: time.Now}
	for _, o := range opts {
		o(t)
	}
	return t
}

// TTL is the lifetime of the tokens this service issues.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Claims are the token's payload, in the original API's field names; the
// jti is RegisteredClaims.ID.
type Claims struct {
	UserID string `json:"userId"`
	jwt.RegisteredClaims
}

// Token is what a verified token says.
type Token struct {
	UserID string
	// ID names the token for revocation: its jti or, for a token issued
	// before tokens carried one, "sig:" and a hash of its signature.
	ID      string
	Expires time.Time
}

// Issue signs a token for userID and returns it with its expiry.
func (t *Tokens) Issue(userID string) (string, time.Time, error) {
	now := t.now().Truncate(time.Second)
	exp := now.Add(t.ttl)
	id, err := newID()
	if err != nil {
		return "", time.Time{}, err
	}
	claims := Claims{UserID: userID, RegisteredClaims: jwt.RegisteredClaims{
		ID:        id,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp, nil
}

// newID returns 128 random bits, base64url: unguessable and unique without
// coordination between instances.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Verify checks a token and returns the user id it was issued for.
func (t *Tokens) Verify(token string) (string, error) {
	v, err := t.Parse(token)
	return v.UserID, err
}

// Parse checks a token and returns what it says. Whether it was revoked is
// the caller's question: the deny-list lives outside this package.
func (t *Tokens) Parse(token string) (Token, error) {
	var c Claims
	tok, err := jwt.ParseWithClaims(token, &c, t.key,
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || c.UserID == "" || !t.lifetimeOK(c) || len(c.ID) > maxIDLen {
		return Token{}, ErrInvalidToken
	}
	id := c.ID
	if id == "" {
		sum := sha256.Sum256(tok.Signature)
		id = sigIDPrefix + base64.RawURLEncoding.EncodeToString(sum[:16])
	}
	return Token{UserID: c.UserID, ID: id, Expires: c.ExpiresAt.Time}, nil
}

// lifetimeOK refuses what golang-jwt lets through: a missing iat (its
// WithIssuedAt only checks one that is present, and with no leeway), an iat
// in the future, and an exp further out than this service ever issues. A
// token minted with a leaked or guessed secret then lives at most one TTL,
// and a TTL cut in the configuration takes effect on old tokens too.
func (t *Tokens) lifetimeOK(c Claims) bool {
	if c.IssuedAt == nil || c.ExpiresAt == nil {
		return false
	}
	now, iat, exp := t.now(), c.IssuedAt.Time, c.ExpiresAt.Time
	longest := t.ttl + ClockLeeway
	return !iat.After(now.Add(ClockLeeway)) &&
		exp.After(iat) &&
		exp.Sub(iat) <= longest &&
		exp.Sub(now) <= longest
}

func (t *Tokens) key(tok *jwt.Token) (any, error) {
	// WithValidMethods already pins HS256; checking the concrete type too
	// keeps a future option change from ever handing the secret to another
	// algorithm family.
	if m, ok := tok.Method.(*jwt.SigningMethodHMAC); !ok || m != jwt.SigningMethodHS256 {
		return nil, ErrInvalidToken
	}
	// A crit header names extensions the recipient must understand or
	// refuse the token (RFC 7515 §4.1.11); golang-jwt ignores it, and we
	// understand none, so any crit at all is refused, whatever it lists.
	if _, ok := tok.Header["crit"]; ok {
		return nil, ErrInvalidToken
	}
	return t.secret, nil
}
