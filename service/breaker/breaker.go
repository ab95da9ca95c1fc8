// Package breaker is the circuit breaker in front of the API's stores.
//
// A store that is down must cost a request almost nothing: without a
// breaker every request waits out a dial or server-selection timeout
// (seconds) before it fails, and a burst of them holds every connection
// and goroutine while it does. Closed, a Breaker lets every call through.
// Tripped, it fails calls at once with an *OpenError that says when to
// retry. Once the cooldown has passed, the next call starts the breaker's
// probe (a cheap write or ping) in the background and still fails fast:
// no request ever waits on a store that may be down. The probe's success
// closes the breaker, its failure trips it again. Something that watches
// the store on its own (the MongoDB driver's heartbeats, a readiness
// probe) may also Trip or Reset it.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrOpen is matched (errors.Is) by every *OpenError.
var ErrOpen = errors.New("circuit breaker open")

// OpenError is returned while the breaker is open.
type OpenError struct {
	Name       string        // the store: "mongodb", "redis"
	RetryAfter time.Duration // until the breaker probes again
}

// Error says which store is unavailable.
func (e *OpenError) Error() string {
	return fmt.Sprintf("%s unavailable (circuit breaker open, retry in %s)", e.Name, e.RetryAfter.Round(time.Millisecond))
}

// Is makes errors.Is(err, ErrOpen) true.
func (e *OpenError) Is(target error) bool { return target == ErrOpen }

// Breaker is a circuit breaker with a probe. The zero value is not usable;
// call New.
type Breaker struct {
	name         string
	cooldown     time.Duration
	probeTimeout time.Duration
	probe        func(ctx context.Context) error
	now          func() time.Time
	spawn        func(func())
	onChange     func(closed bool)

	mu        sync.Mutex
	open      bool
	openUntil time.Time
	probing   bool
}

// Option sets an optional property of a Breaker.
type Option func(*Breaker)

// Clock sets the time source, for tests.
func Clock(now func() time.Time) Option { return func(b *Breaker) { b.now = now } }

// ProbeTimeout bounds each background probe (default: the cooldown).
func ProbeTimeout(d time.Duration) Option { return func(b *Breaker) { b.probeTimeout = d } }

// Spawn sets how background probes are started (default: a goroutine);
// tests pass a synchronous runner.
func Spawn(f func(func())) Option { return func(b *Breaker) { b.spawn = f } }

// OnChange is called (outside the breaker's lock) whenever the breaker
// closes or opens, for logs.
func OnChange(f func(closed bool)) Option { return func(b *Breaker) { b.onChange = f } }

// New returns a closed breaker for the store called name that, once
// tripped, stays open for cooldown and then lets one caller run probe.
func New(name string, cooldown time.Duration, probe func(ctx context.Context) error, opts ...Option) *Breaker {
	b := &Breaker{name: name, cooldown: cooldown, probeTimeout: cooldown, probe: probe, now: time.Now,
		spawn: func(f func()) { go f() }}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Closed reports whether calls go through.
func (b *Breaker) Closed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.open
}

// Allow returns nil when a call may go through, and an *OpenError at once
// while the breaker is open. The first call after the cooldown starts the
// probe in the background.
func (b *Breaker) Allow() error {
	b.mu.Lock()
	if !b.open {
		b.mu.Unlock()
		return nil
	}
	now := b.now()
	start := !b.probing && !now.Before(b.openUntil)
	if start {
		b.probing = true
	}
	err := &OpenError{Name: b.name, RetryAfter: b.retryAfter(now)}
	b.mu.Unlock()
	if start {
		b.spawn(b.runProbe)
	}
	return err
}

// runProbe probes once; Probe trips or resets the breaker by the result.
func (b *Breaker) runProbe() {
	ctx, cancel := context.WithTimeout(context.Background(), b.probeTimeout)
	defer cancel()
	_ = b.Probe(ctx)
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

// retryAfter is how long a refused caller should wait; never zero, so a
// Retry-After header always asks for at least a moment.
func (b *Breaker) retryAfter(now time.Time) time.Duration {
	if d := b.openUntil.Sub(now); d > 0 {
		return d
	}
	return b.cooldown
}

// Trip opens the breaker (again) for the cooldown.
func (b *Breaker) Trip() {
	b.mu.Lock()
	changed := !b.open
	b.open, b.openUntil = true, b.now().Add(b.cooldown)
	b.mu.Unlock()
	if changed && b.onChange != nil {
		b.onChange(false)
	}
}

// Reset closes the breaker.
func (b *Breaker) Reset() {
	b.mu.Lock()
	changed := b.open
	b.open = false
	b.mu.Unlock()
	if changed && b.onChange != nil {
		b.onChange(true)
	}
}

// Probe runs the probe now, whatever the state, and trips or resets the
// breaker by its result: a readiness check doubles as the recovery test.
func (b *Breaker) Probe(ctx context.Context) error {
	if err := b.probe(ctx); err != nil {
		b.Trip()
		return err
	}
	b.Reset()
	return nil
}
