// Package user holds the account type, its validation rules and the store
// interface the API needs. It knows nothing of HTTP or MongoDB.
package user

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/taskready/taskready/service/failure"
)

// Limits on account fields. Passwords are capped in bytes because bcrypt
// reads only the first 72 and silently ignoring the rest would surprise.
const (
	MinPasswordLen   = 6
	MaxPasswordBytes = 72
	MaxNameLen       = 100
	MaxEmailLen      = 254
)

// Sentinel errors a Store returns.
var (
	ErrNotFound   = errors.New("user not found")
	ErrEmailTaken = errors.New("email already registered")
)

// User is an account. PasswordHash is a bcrypt hash and never leaves the
// server.
type User struct {
	ID           string
	Name         string
	Email        string
	PasswordHash string
	CreatedAt    time.Time
}

// Profile is the public part of a user, safe to cache and to return.
type Profile struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"createdAt"`
}

// Profile returns the public part of u.
func (u *User) Profile() Profile {
	return Profile{ID: u.ID, Name: u.Name, Email: u.Email, CreatedAt: u.CreatedAt}
}

// Store persists users. Implementations honour ctx's deadline.
type Store interface {
	// Create inserts u and sets its ID; ErrEmailTaken if the email exists.
	// A user created without a PasswordHash holds its email while the
	// password is hashed; SetPassword completes it.
	Create(ctx context.Context, u *User) error
	// SetPassword stores the password hash of user id; ErrNotFound if none.
	SetPassword(ctx context.Context, id, hash string) error
	// ByEmail finds a user by normalised email; ErrNotFound if none.
	ByEmail(ctx context.Context, email string) (*User, error)
	// ByID finds a user; ErrNotFound if none or if id is malformed.
	ByID(ctx context.Context, id string) (*User, error)
	// Delete removes a user; ErrNotFound if none.
	Delete(ctx context.Context, id string) error
}

// emailPattern is deliberately loose (what Mongoose-era apps accepted): one
// @, no spaces, a dot in the domain. Deliverability is the mail server's job.
var emailPattern = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)

// NormalizeEmail trims and lower-cases an email, as it is stored.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Registration is a sign-up request after decoding.
type Registration struct {
	Name, Email, Password string
}

// Normalize trims the name and normalises the email in place.
func (r *Registration) Normalize() {
	r.Name = strings.TrimSpace(r.Name)
	r.Email = NormalizeEmail(r.Email)
}

// Validate checks a normalised registration and returns the first problem
// as an Invalid failure with the contract's message.
func (r Registration) Validate() error {
	switch {
	case r.Name == "" || r.Email == "" || r.Password == "":
		return failure.New(failure.Invalid, "Please provide name, email, and password")
	case utf8.RuneCountInString(r.Name) > MaxNameLen:
		return failure.Invalidf("Name must be at most %d characters", MaxNameLen)
	case len(r.Email) > MaxEmailLen || !emailPattern.MatchString(r.Email):
		return failure.New(failure.Invalid, "Please provide a valid email")
	case utf8.RuneCountInString(r.Password) < MinPasswordLen:
		return failure.Invalidf("Password must be at least %d characters", MinPasswordLen)
	case len(r.Password) > MaxPasswordBytes:
		return failure.Invalidf("Password must be at most %d bytes", MaxPasswordBytes)
	}
	return nil
}
