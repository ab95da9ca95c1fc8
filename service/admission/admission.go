// Package admission bounds the work one API instance takes on at once and
// sheds, at once, the work it could not finish in time.
//
// Without it, a burst queues inside the stores and the password hasher:
// every request waits out its deadline and fails with a 5xx, and the work
// of requests whose clients have long given up keeps the instance busy
// after the burst has ended. A Limiter admits a number of requests at once
// and queues the rest in arrival order. The number adapts, as TCP's
// congestion window does: a request that overran its deadline while it
// held a slot means the resource behind it is past its knee, and the limit
// shrinks by a tenth; every request that finished in time grows it by
// 1/limit, up to the configured ceiling. It also learns how long a slot is
// held (a moving average): a request whose turn would come too late to
// finish before its deadline is refused when it arrives (with a free
// slot, only while the estimate is fresh), and one still
// waiting when that point passes is refused then, with 503 and Retry-After
// either way. What is admitted runs under the request's deadline, so
// nothing outlives its request.
package admission

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/taskready/taskready/service/failure"
)

// staleAfter is how long without a release makes the hold estimate too
// old to refuse work on when a slot is free.
const staleAfter = time.Second

// BusyMessage is what a shed request is answered.
const BusyMessage = "Server busy, please retry"

// Reasons a request is refused, as the rejections counter's label.
const (
	ReasonQueueFull = "queue_full" // the queue was at its bound
	ReasonTooLate   = "too_late"   // its turn would come after its deadline
	ReasonGone      = "gone"       // its deadline passed or it was cancelled while waiting
)

// Limiter admits up to its adaptive limit at once; see the package doc.
type Limiter struct {
	name     string
	ceiling  int
	maxQueue int
	retry    time.Duration
	now      func() time.Time
	metrics  *Metrics
	series   series // this limiter's children of metrics, looked up once

	mu    sync.Mutex
	limit float64 // adaptive, in [1, ceiling]
	inUse int
	queue []chan struct{} // waiters in arrival order; closed when admitted

	// srtt and dev are the smoothed hold time and its mean deviation (as
	// TCP smooths round-trip times), guarded by mu; held is their
	// estimate of a hold that few exceed, srtt + 4·dev, in nanoseconds,
	// read without the lock. It starts at the initial estimate.
	srtt, dev time.Duration
	held      atomic.Int64
	mean      atomic.Int64 // srtt, read without the lock
	// sampled is when the estimate last learned from a release (unix
	// nanos); the initial estimate counts as learned at creation.
	sampled atomic.Int64
	// lastShed is when a request was last refused (unix nanos), for
	// readiness.
	lastShed atomic.Int64
}

// Option sets an optional property of a Limiter.
type Option func(*Limiter)

// MaxQueue bounds how many requests may wait (default: 8 per slot of the
// ceiling); beyond it requests are refused at once.
func MaxQueue(n int) Option { return func(l *Limiter) { l.maxQueue = n } }

// Estimate sets the initial guess of how long a slot is held, used until
// real holds have been measured (default 10ms).
func Estimate(d time.Duration) Option {
	return func(l *Limiter) { l.srtt = d; l.held.Store(int64(d)); l.mean.Store(int64(d)) }
}

// Initial sets the limit the limiter starts at (default: a quarter of the
// ceiling, at least one).
func Initial(n int) Option { return func(l *Limiter) { l.limit = float64(n) } }

// RetryAfter sets what a refused client is told to wait (default 1s).
func RetryAfter(d time.Duration) Option { return func(l *Limiter) { l.retry = d } }

// Clock sets the time source, for tests.
func Clock(now func() time.Time) Option { return func(l *Limiter) { l.now = now } }

// New returns a limiter named name (a metric label) admitting at most
// ceiling requests at once, reporting to m.
func New(name string, ceiling int, m *Metrics, opts ...Option) *Limiter {
	ceiling = max(ceiling, 1)
	l := &Limiter{name: name, ceiling: ceiling, maxQueue: 8 * ceiling, retry: time.Second, now: time.Now, metrics: m,
		limit: float64(max(1, ceiling/4))}
	l.srtt = 10 * time.Millisecond
	l.held.Store(int64(l.srtt))
	l.mean.Store(int64(l.srtt))
	for _, o := range opts {
		o(l)
	}
	l.sampled.Store(l.now().UnixNano())
	l.limit = min(max(l.limit, 1), float64(ceiling))
	l.series = series{
		limit:    m.limit.WithLabelValues(name),
		inFlight: m.inFlight.WithLabelValues(name),
		queued:   m.queued.WithLabelValues(name),
		wait:     m.wait.WithLabelValues(name),
		rejected: map[string]prometheus.Counter{},
	}
	for _, r := range []string{ReasonQueueFull, ReasonTooLate, ReasonGone} {
		l.series.rejected[r] = m.rejected.WithLabelValues(name, r)
	}
	m.capacity.WithLabelValues(name).Set(float64(ceiling))
	l.series.limit.Set(l.limit)
	return l
}

// Acquire waits for a slot and returns the function that gives it back,
// or a failure.Unavailable error when the request cannot be served in
// time. The release function must be called exactly once; the limit
// shrinks when ctx has ended by then (the work overran its deadline).
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	held := time.Duration(l.held.Load())
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		// Aim to finish a tenth of the remaining time early: an answer
		// that lands on the deadline itself meets clients whose timeout
		// is the same deadline already gone.
		deadline = deadline.Add(-deadline.Sub(l.now()) / 10)
	}
	// Work that cannot finish before its deadline even with a free slot
	// (by the mean hold: this refuses without trying) is refused now
	// rather than done for nobody, but only on a fresh estimate: the estimate is refreshed by work that runs, and one
	// learned in a burst must not go on refusing everything after it.
	mean := time.Duration(l.mean.Load())
	if hasDeadline && l.now().Add(mean).After(deadline) && l.now().Sub(time.Unix(0, l.sampled.Load())) < staleAfter {
		return nil, l.shed(ReasonTooLate)
	}
	l.mu.Lock()
	if l.inUse < int(l.limit) && len(l.queue) == 0 {
		l.inUse++
		l.mu.Unlock()
		return l.admitted(ctx, l.now()), nil
	}
	if len(l.queue) >= l.maxQueue {
		l.mu.Unlock()
		return nil, l.shed(ReasonQueueFull)
	}
	latest := time.Duration(math.MaxInt64)
	if hasDeadline {
		// Holders ahead leave one slot-hold apart on average per slot;
		// after its wait the request still needs one hold of its own.
		ahead := time.Duration(float64(len(l.queue)+1) * float64(held) / l.limit)
		if l.now().Add(ahead + held).After(deadline) {
			l.mu.Unlock()
			return nil, l.shed(ReasonTooLate)
		}
		latest = deadline.Sub(l.now()) - held
	}
	turn := make(chan struct{})
	l.queue = append(l.queue, turn)
	l.series.queued.Set(float64(len(l.queue)))
	l.mu.Unlock()

	start := l.now()
	timer := time.NewTimer(latest)
	defer timer.Stop()
	select {
	case <-turn:
		l.series.wait.Observe(l.now().Sub(start).Seconds())
		return l.admitted(ctx, l.now()), nil
	case <-timer.C:
	case <-ctx.Done():
	}
	l.mu.Lock()
	if i := slices.Index(l.queue, turn); i >= 0 {
		l.queue = slices.Delete(l.queue, i, i+1)
		l.series.queued.Set(float64(len(l.queue)))
		l.mu.Unlock()
		return nil, l.shed(ReasonGone)
	}
	l.mu.Unlock()
	// Admitted at the moment it gave up: hand the slot straight back.
	l.admitted(ctx, l.now())()
	return nil, l.shed(ReasonGone)
}

// admitted counts a holder in and returns its release.
func (l *Limiter) admitted(ctx context.Context, start time.Time) func() {
	l.series.inFlight.Inc()
	return func() {
		d := l.now().Sub(start)
		l.series.inFlight.Dec()
		l.mu.Lock()
		defer l.mu.Unlock()
		l.inUse--
		// Work cancelled before its deadline (its client went away) was
		// cut short: its hold says nothing about how long work takes, nor
		// whether it would have finished in time.
		if ctxErr := ctx.Err(); !errors.Is(ctxErr, context.Canceled) {
			l.learn(d, ctxErr == nil)
		}
		for len(l.queue) > 0 && l.inUse < int(l.limit) {
			l.inUse++
			close(l.queue[0])
			l.queue = l.queue[1:]
		}
		l.series.queued.Set(float64(len(l.queue)))
	}
}

// learn updates the hold estimate with a hold of d, and the limit with
// whether it ended within its deadline. l.mu is held.
func (l *Limiter) learn(d time.Duration, inTime bool) {
	// Jacobson's estimator, as TCP's retransmission timeout: the mean
	// with weight 1/8, the deviation with 1/4, and a hold few exceed
	// is the mean plus four deviations. Predicting with the mean alone
	// admitted half the work too late when hold times spread.
	// Only holds longer than expected widen the deviation: a burst's
	// end (holds suddenly short) must lower the estimate, not raise it.
	err := d - l.srtt
	l.srtt += err / 8
	if err > 0 {
		l.dev += (err - l.dev) / 4
	} else {
		l.dev -= l.dev / 4
	}
	l.mean.Store(int64(l.srtt))
	l.held.Store(int64(l.srtt + 4*l.dev))
	l.sampled.Store(l.now().UnixNano())
	if inTime {
		l.limit = min(float64(l.ceiling), l.limit+1/l.limit)
	} else {
		l.limit = max(1, l.limit*0.9)
	}
	l.series.limit.Set(l.limit)
}

func (l *Limiter) shed(reason string) error {
	l.lastShed.Store(l.now().UnixNano())
	l.series.rejected[reason].Inc()
	return &failure.Error{Kind: failure.Unavailable, Message: BusyMessage, RetryAfter: l.retry,
		Err: &ShedError{Limiter: l.name, Reason: reason}}
}

// ShedError is the cause of a refusal, for logs.
type ShedError struct {
	Limiter string
	Reason  string
}

// Error names the limiter and why it refused.
func (e *ShedError) Error() string { return "admission " + e.Limiter + ": " + e.Reason }

// Saturation describes the limiter's load, for readiness: the slots in
// use against the current limit, how many wait, and whether it refused a
// request within the last window.
type Saturation struct {
	InUse    int
	Limit    int
	Waiting  int
	ShedLast bool // a request was refused within the window
}

// Saturation returns the limiter's load, with ShedLast over the given
// window.
func (l *Limiter) Saturation(window time.Duration) Saturation {
	last := l.lastShed.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	return Saturation{
		InUse:    l.inUse,
		Limit:    int(l.limit),
		Waiting:  len(l.queue),
		ShedLast: last != 0 && l.now().Sub(time.Unix(0, last)) < window,
	}
}

// Name is the limiter's name.
func (l *Limiter) Name() string { return l.name }

// series are one limiter's metric children, so that the hot path does
// not hash label values on every request.
type series struct {
	limit, inFlight, queued prometheus.Gauge
	wait                    prometheus.Observer
	rejected                map[string]prometheus.Counter // by reason
}

// Metrics are the collectors every Limiter of a process shares.
type Metrics struct {
	capacity *prometheus.GaugeVec
	limit    *prometheus.GaugeVec
	inFlight *prometheus.GaugeVec
	queued   *prometheus.GaugeVec
	rejected *prometheus.CounterVec
	wait     *prometheus.HistogramVec
}

// NewMetrics returns the admission metrics, named taskapi_admission_*.
func NewMetrics() *Metrics {
	const ns, sub = "taskapi", "admission"
	return &Metrics{
		capacity: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "ceiling", Help: "Most requests each admission limiter admits at once (its configured ceiling)."}, []string{"limiter"}),
		limit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "limit", Help: "Requests each admission limiter admits at once now (adapts between 1 and the ceiling)."}, []string{"limiter"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "in_flight", Help: "Requests holding a slot."}, []string{"limiter"}),
		queued: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "queued", Help: "Requests waiting for a slot."}, []string{"limiter"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "rejected_total", Help: "Requests refused with 503 by limiter and reason (queue_full, too_late, gone)."}, []string{"limiter", "reason"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "wait_seconds", Help: "Time admitted requests waited for a slot.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"limiter"}),
	}
}

// Collectors returns the collectors for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.capacity, m.limit, m.inFlight, m.queued, m.rejected, m.wait}
}
