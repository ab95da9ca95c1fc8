// Package auth hashes passwords and issues and verifies the API's tokens.
//
// Tokens are HS256 JWTs carrying userId, iat and exp, as the original
// Express API issued them. Verification pins the algorithm, so "alg: none"
// and every other algorithm are refused before any key is used.
package auth

import (
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

// Claims are the token's payload, in the original API's field names.
type Claims struct {
	UserID string `json:"userId"`
	jwt.RegisteredClaims
}

// Issue signs a token for userID and returns it with its expiry.
func (t *Tokens) Issue(userID string) (string, time.Time, error) {
	now := t.now().Truncate(time.Second)
	exp := now.Add(t.ttl)
	claims := Claims{UserID: userID, RegisteredClaims: jwt.RegisteredClaims{
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp, nil
}

// Verify checks a token and returns the user id it was issued for.
func (t *Tokens) Verify(token string) (string, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, t.key,
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || c.UserID == "" {
		return "", ErrInvalidToken
	}
	return c.UserID, nil
}

func (t *Tokens) key(tok *jwt.Token) (any, error) {
	// WithValidMethods already pins HS256; checking the concrete type too
	// keeps a future option change from ever handing the secret to another
	// algorithm family.
	if m, ok := tok.Method.(*jwt.SigningMethodHMAC); !ok || m != jwt.SigningMethodHS256 {
		return nil, ErrInvalidToken
	}
	return t.secret, nil
}
