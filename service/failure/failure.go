// Package failure defines the kinds of error the task API answers with.
//
// Domain and store code return a *Error when the client should see a
// specific status and message; the HTTP layer maps Kind to a status in one
// place and masks every other error as an internal one, so a driver error
// or stack trace never reaches a response body.
package failure

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error by what the client did or should do.
type Kind int

// The kinds, each mapped to one HTTP status by the HTTP layer.
const (
	Internal     Kind = iota // 500: the server's fault; the message is masked
	Invalid                  // 400: the request is malformed or fails validation
	Unauthorized             // 401: missing, bad or stale credentials
	NotFound                 // 404: absent, or not the caller's to see
	TooLarge                 // 413: the body exceeds the limit
	TooMany                  // 429: a rate limit was hit
	Unavailable              // 503: a dependency is down
	Unsupported              // 415: the body is not JSON
)

// Error is an error with a kind and a message meant for the client.
type Error struct {
	Kind    Kind
	Message string
	Err     error // the cause, for logs only
	// RetryAfter, on an Unavailable error, is when the client may try
	// again (the Retry-After header); zero means the default second.
	RetryAfter time.Duration
}

// Error returns the client message and, when present, the cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind k with a client-facing message.
func New(k Kind, message string) *Error { return &Error{Kind: k, Message: message} }

// Invalidf returns an Invalid error with a formatted message.
func Invalidf(format string, args ...any) *Error {
	return &Error{Kind: Invalid, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// MessageOf returns the client message of err; internal errors read
// "Internal server error" whatever they wrap.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		return e.Message
	}
	return "Internal server error"
}

// RetryAfterOf returns how long a client refused with err should wait:
// the error's own RetryAfter, or one second.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter
	}
	return time.Second
}
