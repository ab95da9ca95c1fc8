package resilience

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

// The check ids, stable across versions: policies and baselines use them.
const (
	IDConnectionFlood  = "resilience.connection-flood"  // idle and slow connections do not stop /api/health
	IDOverload         = "resilience.overload"          // past capacity: 503 with Retry-After, then recovery
	IDConcurrentSignup = "resilience.concurrent-signup" // racing registrations: one email, one user
	IDMongoFailFast    = "resilience.mongo-fail-fast"   // MongoDB down: 503 with Retry-After at once
	IDRedisFailover    = "resilience.redis-failover"    // a Sentinel failover keeps the limit shared and readiness honest
	IDBodyDrain        = "resilience.body-drain"        // a too-large request reads 413/431, not a reset
	IDLogoutRevokes    = "resilience.logout-revokes"    // a token is refused after logout
	IDNonUTF8          = "resilience.non-utf8-query"    // invalid UTF-8 is a 4xx with a JSON message
	IDSmuggling        = "resilience.request-smuggling" // CL with TE, or an unknown coding: refused, connection closed
	IDErrorShape       = "resilience.error-shape"       // unknown and unserved methods answer the JSON error
)

// Checks returns the resilience checks: the cheap ones first, then the
// disruptive ones in the order a runner should run them (load before
// faults, so that a store left degraded cannot spoil the load checks).
func Checks() []check.Check {
	return []check.Check{
		errorShape, nonUTF8, logoutRevokes, bodyDrain, smuggling, concurrentSignup,
		connectionFlood, overload, mongoFailFast, redisFailover,
	}
}

// answerHeaders are the answer headers evidence quotes.
var answerHeaders = []string{"Content-Type", "Retry-After", "Connection"}

// retryAfter reports whether h carries a Retry-After a client can use:
// seconds or an HTTP date (RFC 9110 §10.2.3).
func retryAfter(h http.Header) bool {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return true
	}
	_, err := http.ParseTime(v)
	return err == nil
}

// isJSONMessage reports whether x is the contract's error shape: a JSON
// body (Content-Type application/json) with a non-empty message string.
func isJSONMessage(x probe.Exchange) bool {
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(x.Header.Get("Content-Type"))), "application/json") {
		return false
	}
	var v struct {
		Message string `json:"message"`
	}
	return x.Decode(&v) && v.Message != ""
}

// ownUser registers a user of the check's own (with the run's prefix, so
// that fixture.Cleanup removes it), for a check that spends its budget or
// ends its session: the run's shared pair (probe.Pair) must stay usable
// by the checks beside it. A refused registration is a Result to return.
func ownUser(ctx context.Context, t *check.Target) (*fixture.User, *check.Result) {
	u, err := fixture.NewUser(ctx, t)
	if err != nil {
		msg := "could not register the check's user"
		if strings.Contains(err.Error(), "register: 429") {
			err = fmt.Errorf("%w (%v)", probe.ErrRateLimited, err)
		}
		r := probe.ErrorResult(msg, err, nil)
		return nil, &r
	}
	return u, nil
}

// ms is d in milliseconds for messages, so that every latency reads alike.
func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
