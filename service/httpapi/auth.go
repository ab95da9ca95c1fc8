package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/taskready/taskready/service/admission"
	"github.com/taskready/taskready/service/failure"
	"github.com/taskready/taskready/service/user"
)

// TokenCookie is the name of the cookie that carries the token.
const TokenCookie = "token"

var (
	errNoToken      = failure.New(failure.Unauthorized, "Not authorized, no token provided")
	errBadToken     = failure.New(failure.Unauthorized, "Not authorized, invalid token")
	errUserGone     = failure.New(failure.Unauthorized, "User not found")
	errMissingLogin = failure.New(failure.Invalid, "Please provide email and password")
	errBadLogin     = failure.New(failure.Unauthorized, "Invalid email or password")
	errEmailTaken   = failure.New(failure.Invalid, "User already exists with this email")
)

type credentials struct {
	Name     *string `json:"name"`
	Email    *string `json:"email"`
	Password *string `json:"password"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// limitAuth counts a credential request against the client and, when the
// body names one, the email: a password guesser is slowed per address and
// per account alike.
func (s *server) limitAuth(c fiber.Ctx, email string) error {
	keys := []string{"ip:" + c.IP()}
	if email != "" {
		keys = append(keys, "email:"+email)
	}
	return s.limit(c, s.deps.AuthLimit, "Too many authentication attempts, please try again later", keys...)
}

func (s *server) register(c fiber.Ctx) error {
	var in credentials
	decodeErr := decodeJSON(c.Get(fiber.HeaderContentType), c.Body(), &in)
	reg := user.Registration{Name: deref(in.Name), Email: deref(in.Email), Password: deref(in.Password)}
	reg.Normalize()
	if err := s.limitAuth(c, reg.Email); err != nil {
		return err
	}
	if decodeErr != nil {
		return decodeErr
	}
	if err := reg.Validate(); err != nil {
		return err
	}
	ctx := c.Context()
	existing, err := s.deps.Users.ByEmail(ctx, reg.Email)
	switch {
	case err == nil && !s.abandoned(existing):
		return errEmailTaken
	case err == nil:
		// A claim left by a registration that died before it stored the
		// password: the email is free again.
		if err := s.deps.Users.Delete(ctx, existing.ID); err != nil && !errors.Is(err, user.ErrNotFound) {
			return err
		}
	case !errors.Is(err, user.ErrNotFound):
		return err
	}
	// Claim the email before the expensive hash: concurrent registrations
	// of one email are decided by the unique index at once, and only the
	// winner spends a bcrypt slot (the others get their 400 without
	// waiting for one).
	u := &user.User{Name: reg.Name, Email: reg.Email}
	if err := s.deps.Users.Create(ctx, u); err != nil {
		if errors.Is(err, user.ErrEmailTaken) {
			return errEmailTaken
		}
		return err
	}
	hash, err := s.hash(ctx, reg.Password)
	if err == nil {
		err = s.deps.Users.SetPassword(ctx, u.ID, hash)
	}
	if err != nil {
		s.unclaim(ctx, u.ID)
		return err
	}
	return s.issue(c, fiber.StatusCreated, "User registered successfully", u)
}

func (s *server) login(c fiber.Ctx) error {
	var in credentials
	decodeErr := decodeJSON(c.Get(fiber.HeaderContentType), c.Body(), &in)
	email, password := user.NormalizeEmail(deref(in.Email)), deref(in.Password)
	if err := s.limitAuth(c, email); err != nil {
		return err
	}
	if decodeErr != nil {
		return decodeErr
	}
	if email == "" || password == "" {
		return errMissingLogin
	}
	// The comparison is the expensive part: take its slot before the
	// lookup, so a login that cannot be checked in time costs nothing.
	ctx := c.Context()
	release, err := acquire(ctx, s.deps.Admission.Hash)
	if err != nil {
		return err
	}
	u, err := s.deps.Users.ByEmail(ctx, email)
	if err != nil && !errors.Is(err, user.ErrNotFound) {
		release()
		return err
	}
	found := err == nil
	hash := "" // an unknown email takes the time of a wrong password
	if found {
		hash = u.PasswordHash
	}
	match, err := bounded(ctx, release, func() (bool, error) { return s.deps.Passwords.Match(hash, password), nil })
	switch {
	case err != nil:
		return err
	case !found || !match:
		return errBadLogin
	}
	return s.issue(c, fiber.StatusOK, "Login successful", u)
}

// hash hashes password in a slot of the hash limiter.
func (s *server) hash(ctx context.Context, password string) (string, error) {
	release, err := acquire(ctx, s.deps.Admission.Hash)
	if err != nil {
		return "", err
	}
	return bounded(ctx, release, func() (string, error) { return s.deps.Passwords.Hash(password) })
}

// bounded runs f, which cannot be interrupted (bcrypt), on a goroutine of
// its own and returns its result, or an error as soon as ctx ends: under
// CPU starvation a hash admitted in time can still finish after the
// request's deadline, and the answer must not wait for it. f runs to its
// end either way and only then calls release, so the hash slot stays
// taken and the CPU spent on bcrypt stays bounded.
func bounded[T any](ctx context.Context, release func(), f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer release()
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, &failure.Error{Kind: failure.Unavailable, Message: admission.BusyMessage, Err: context.Cause(ctx)}
	}
}

// abandonedAfter is how old a claim without a password must be to be
// taken as left by a registration that died: far longer than any
// registration may run.
const abandonedAfter = 10 * time.Minute

// abandoned reports whether u is an email claim whose registration died
// (a crash between claim and password).
func (s *server) abandoned(u *user.User) bool {
	return u.PasswordHash == "" && time.Since(u.CreatedAt) > max(abandonedAfter, 2*s.opts.RequestTimeout)
}

// unclaim removes the claim of a registration that failed after it, on a
// context of its own: the request's may be what ended.
func (s *server) unclaim(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := s.deps.Users.Delete(ctx, id); err != nil && !errors.Is(err, user.ErrNotFound) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "registration: could not release the email claim; it frees itself after "+abandonedAfter.String(),
			slog.String("user_id", id), slog.String("error", err.Error()))
	}
}

// issue signs a token for u, sets it as the auth cookie and answers.
func (s *server) issue(c fiber.Ctx, status int, message string, u *user.User) error {
	token, exp, err := s.deps.Tokens.Issue(u.ID)
	if err != nil {
		return err
	}
	s.setTokenCookie(c, token, exp)
	return c.Status(status).JSON(authAnswer{
		Message: message, Token: token,
		User: userView{ID: u.ID, Name: u.Name, Email: u.Email},
	})
}

func (s *server) setTokenCookie(c fiber.Ctx, value string, exp time.Time) {
	maxAge := int(time.Until(exp) / time.Second)
	if value == "" {
		maxAge = -1 // tells the browser to drop it now
	}
	c.Cookie(&fiber.Cookie{
		Name: TokenCookie, Value: value, Path: "/",
		Expires: exp, MaxAge: maxAge,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: s.opts.Production,
	})
}

// logout revokes the request's token, so that a copy of it (another tab,
// a stolen one) stops working on every instance, and clears the cookie.
// A request without a valid token still gets 200, as the contract says:
// there is nothing to revoke.
func (s *server) logout(c fiber.Ctx) error {
	header, cookie := bearer(c), c.Cookies(TokenCookie)
	s.revoke(c, header)
	if cookie != header {
		s.revoke(c, cookie) // a browser may send both; end both
	}
	s.setTokenCookie(c, "", time.Unix(0, 0))
	return c.JSON(messageAnswer{Message: "Logged out"})
}

// revoke puts token on the deny-list if it is valid.
func (s *server) revoke(c fiber.Ctx, token string) {
	if token == "" {
		return
	}
	t, err := s.deps.Tokens.Parse(token)
	if err != nil {
		return
	}
	if err := s.deps.Denylist.Revoke(c.Context(), t.ID, t.Expires); err != nil {
		// Not a failure of the logout: this instance refuses the token
		// from now on, and the others once Redis is back.
		s.log.LogAttrs(c.Context(), slog.LevelWarn, "logout: token revoked on this instance only",
			slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
	}
}

func (s *server) profile(c fiber.Ctx) error {
	return c.JSON(fiber.Map{"user": viewProfile(currentUser(c))})
}

// bearer extracts the token from "Authorization: Bearer <token>" (scheme
// case-insensitive, RFC 7235) or, failing that, from the auth cookie.
func bearer(c fiber.Ctx) string {
	if h := c.Get(fiber.HeaderAuthorization); len(h) > 6 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return c.Cookies(TokenCookie)
}

// authenticate lets a request through only with a valid token of a user
// who still exists, and makes that user's profile the request's user.
// Refusals count against the API budget of the client's address, so
// requests without a usable token (floods, token guessing) are limited
// too, not only those of known users.
func (s *server) authenticate(c fiber.Ctx) error {
	p, err := s.identify(c)
	if err != nil {
		if lerr := s.limit(c, s.deps.APILimit, "Too many requests, please try again later", "ip:"+c.IP()); lerr != nil {
			return lerr
		}
		return err
	}
	c.Locals(profileKey, p)
	return c.Next()
}

func (s *server) identify(c fiber.Ctx) (user.Profile, error) {
	token := bearer(c)
	if token == "" {
		return user.Profile{}, errNoToken
	}
	t, err := s.deps.Tokens.Parse(token)
	if err != nil {
		return user.Profile{}, errBadToken
	}
	// Before the profile lookup: a revoked token costs no store read.
	if s.deps.Denylist.Revoked(c.Context(), t.ID) {
		return user.Profile{}, errBadToken
	}
	p, err := s.deps.Profiles.Profile(c.Context(), t.UserID)
	if errors.Is(err, user.ErrNotFound) {
		return user.Profile{}, errUserGone
	}
	return p, err
}

func currentUser(c fiber.Ctx) user.Profile {
	p, _ := c.Locals(profileKey).(user.Profile)
	return p
}
