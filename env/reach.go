package env

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// ErrUnreachable is wrapped by Up and Reach when the target given does not
// answer: a load run against it would measure connection errors, not the
// API, and gate on them.
var ErrUnreachable = errors.New("could not be reached")

// ErrBadTarget is wrapped by Up and Reach for a target that is not a base
// URL (http or https, with a host).
var ErrBadTarget = errors.New("not a base URL such as http://host:port")

// DefaultReachTimeout bounds how long Reach waits for the target's answer.
const DefaultReachTimeout = 10 * time.Second

// Reach checks that target answers HTTP: one GET of the base URL, through
// the proxies the environment names as the load's requests would go, any
// status counting as an answer (the contract smoke judges the answers).
// A refused or reset connection, a name that does not resolve or no answer
// within DefaultReachTimeout is an error wrapping ErrUnreachable that says
// what to check.
func Reach(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("target %q: %w", target, ErrBadTarget)
	}
	probe, cancel := context.WithTimeout(ctx, DefaultReachTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(probe, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("target %q: %w", target, ErrBadTarget)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// An answer is what counts, a redirect included: following it
		// would test another address.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil { // the caller gave up, not the target
			return fmt.Errorf("target %s: %w", target, ctx.Err())
		}
		return fmt.Errorf("target %s %w: %v; check that the API is running and listening at that address (scheme, host and port) and that nothing between here and there blocks it", target, ErrUnreachable, err)
	}
	_ = resp.Body.Close()
	return nil
}
