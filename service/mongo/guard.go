package mongo

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/taskready/taskready/service/breaker"
	"github.com/taskready/taskready/service/failure"
)

// Breaker settings. The cooldown is also what a refused client is told to
// wait (Retry-After); the probe is a ping, bounded well under a request's
// deadline.
const (
	DefaultBreakerCooldown = time.Second
	DefaultProbeTimeout    = 500 * time.Millisecond
)

// Guard is the circuit breaker in front of MongoDB. While the database
// cannot be reached, every store call fails at once with a 503 failure that
// says when to retry, instead of each waiting out server selection
// (DefaultSelectionTimeout) and holding a goroutine and a request slot.
//
// It trips when a call fails to reach the server (network error, no
// server selectable) and when the driver's own heartbeats find no server
// that takes writes; a ping in the background closes it again, as does a
// heartbeat that finds a primary. Slow answers under load do not trip it:
// they are the admission limiter's business, not a sign that the database
// is gone.
type Guard struct {
	b    *breaker.Breaker
	ping func(ctx context.Context) error

	mu       sync.Mutex
	next     uint64
	inflight map[uint64]context.CancelCauseFunc // calls under way, to abandon when the primary is lost
}

// NewGuard returns a closed guard that probes client with a ping.
func NewGuard(client *mongo.Client, log *slog.Logger) *Guard {
	return newGuard(func(ctx context.Context) error { return client.Ping(ctx, readpref.Primary()) }, log)
}

// newGuard returns a closed guard whose probe, and Ping, is probe.
func newGuard(probe func(ctx context.Context) error, log *slog.Logger) *Guard {
	return &Guard{inflight: map[uint64]context.CancelCauseFunc{}, ping: probe, b: breaker.New("mongodb", DefaultBreakerCooldown, probe,
		breaker.ProbeTimeout(DefaultProbeTimeout),
		breaker.OnChange(func(closed bool) {
			if closed {
				log.Info("mongodb: reachable again; serving")
			} else {
				log.Warn("mongodb: unreachable; answering 503 with Retry-After until a ping succeeds")
			}
		}))}
}

// AvailableName is the gauge Collector exports, named as Redis's
// taskapi_redis_available: alerts and dashboards read both the same way.
const AvailableName = "taskapi_mongo_available"

// Collector returns the taskapi_mongo_available gauge: 1 while the guard
// lets calls through, 0 while it answers every one with a 503.
func (g *Guard) Collector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: AvailableName, Help: "1 while the MongoDB circuit breaker is closed, 0 while it is open (store calls answered 503 at once).",
	}, func() float64 {
		if g.b.Closed() {
			return 1
		}
		return 0
	})
}

// errPrimaryLost ends the calls under way when the driver finds no server
// that takes writes.
var errPrimaryLost = errors.New("mongodb: no writable server; call abandoned")

// enter admits a store call: a 503 failure at once while the breaker is
// open, else a context that is cancelled, with the calls under way, when
// the driver loses the primary (see watch), and the function that ends
// the call. A nil guard admits every call (tools and tests that use the
// stores without one).
func (g *Guard) enter(ctx context.Context) (context.Context, func(), error) {
	if g == nil {
		return ctx, func() {}, nil
	}
	if err := g.b.Allow(); err != nil {
		var open *breaker.OpenError
		errors.As(err, &open)
		return ctx, nil, &failure.Error{Kind: failure.Unavailable, Message: unavailableMessage, Err: err, RetryAfter: open.RetryAfter}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	g.mu.Lock()
	id := g.next
	g.next++
	g.inflight[id] = cancel
	g.mu.Unlock()
	return ctx, func() {
		g.mu.Lock()
		delete(g.inflight, id)
		g.mu.Unlock()
		cancel(nil)
	}, nil
}

// abandon cancels every call under way. Once the driver has found no
// server to send them to, each would otherwise wait out server selection
// (seconds) before failing: the first requests after a loss are answered
// at once, like those after them.
func (g *Guard) abandon() {
	g.mu.Lock()
	cancels := make([]context.CancelCauseFunc, 0, len(g.inflight))
	for _, c := range g.inflight {
		cancels = append(cancels, c)
	}
	g.mu.Unlock()
	for _, c := range cancels {
		c(errPrimaryLost)
	}
}

// Ping pings the primary for a readiness check and tells the guard what
// it found: a success closes it (it is what the guard's own probe would
// find), so an instance that reports ready also serves; a server that
// could not be reached trips it. A slow ping trips nothing, as a slow
// store call does not.
func (g *Guard) Ping(ctx context.Context) error {
	err := g.ping(ctx)
	switch {
	case err == nil:
		g.b.Reset()
	case unreachable(err):
		g.b.Trip()
	}
	return err
}

// classify trips the breaker when err says the server could not be
// reached, and maps err as the package's classify does.
func (g *Guard) classify(err error) error {
	if g != nil && unreachable(err) {
		g.b.Trip()
	}
	return classify(err)
}

// unreachable reports whether err means the server could not be reached
// at all, as opposed to a slow or refused command.
func unreachable(err error) bool {
	// A request's own deadline or cancellation ends its connection's read
	// and surfaces as a network error: that is a slow answer, not a lost
	// server, and must not fail everyone else's requests.
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || mongo.IsTimeout(err) {
		return false
	}
	var selection topology.ServerSelectionError
	return mongo.IsNetworkError(err) || errors.As(err, &selection) || errors.Is(err, mongo.ErrClientDisconnected)
}

// writableKinds are the server kinds a write can go to.
var writableKinds = map[string]bool{"Standalone": true, "RSPrimary": true, "Mongos": true, "LoadBalancer": true}

// watch follows the driver's view of the deployment: no server that takes
// writes trips the guard before any request has to find out, and a primary
// found again closes it; calls already waiting for a server are abandoned.
// The driver calls this with its topology locked, so it does no more than
// flip the breaker and start the abandoning.
func (g *Guard) watch(e *event.TopologyDescriptionChangedEvent) {
	writable := func(d event.TopologyDescription) bool {
		for _, s := range d.Servers {
			if writableKinds[s.Kind] {
				return true
			}
		}
		return false
	}
	was, is := writable(e.PreviousDescription), writable(e.NewDescription)
	switch {
	case was && !is:
		g.b.Trip()
		go g.abandon() // not under the driver's topology lock
	case !was && is:
		g.b.Reset()
	}
}
