// Package admission bounds the work one API instance takes on at once and
// sheds, at once, the work it could not finish in time.
//
// Without it, a burst queues inside the stores and the password hasher:
// every request waits out its deadline and fails with a 5xx, and the work
// of requests whose clients have long given up keeps the instance busy
// after the burst has ended. A Limiter has a fixed number of slots (the
// concurrency the resource behind it can use) and a queue in front of
// them. It learns how long a slot is held (a moving average); a request
// whose turn would come too late to finish before its deadline is refused
// when it arrives, and one still waiting when that point passes is
// refused then, with 503 and Retry-After either way. What is admitted
// runs under the request's deadline, so nothing outlives its request.
package admission

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/taskready/taskready/service/failure"
)

// BusyMessage is what a shed request is answered.
const BusyMessage = "Server busy, please retry"

// Reasons a request is refused, as the rejections counter's label.
const (
	ReasonQueueFull = "queue_full" // the queue was at its bound
	ReasonTooLate   = "too_late"   // its turn would come after its deadline
	ReasonGone      = "gone"       // its deadline passed or it was cancelled while waiting
)

// Limiter admits at most Slots holders at once; see the package doc.
type Limiter struct {
	name     string
	slots    chan struct{}
	maxQueue int64
	retry    time.Duration

	waiting atomic.Int64
	// held is the moving average of how long a slot is held, in
	// nanoseconds; it starts at the initial estimate.
	held atomic.Int64
	// lastShed is when a request was last refused (unix nanos), for
	// readiness.
	lastShed atomic.Int64
	now      func() time.Time

	metrics *Metrics
}

// Option sets an optional property of a Limiter.
type Option func(*Limiter)

// MaxQueue bounds how many requests may wait for a slot (default: 8 per
// slot); beyond it requests are refused at once.
func MaxQueue(n int) Option { return func(l *Limiter) { l.maxQueue = int64(n) } }

// Estimate sets the initial guess of how long a slot is held, used until
// real holds have been measured (default 10ms).
func Estimate(d time.Duration) Option { return func(l *Limiter) { l.held.Store(int64(d)) } }

// RetryAfter sets what a refused client is told to wait (default 1s).
func RetryAfter(d time.Duration) Option { return func(l *Limiter) { l.retry = d } }

// Clock sets the time source, for tests.
func Clock(now func() time.Time) Option { return func(l *Limiter) { l.now = now } }

// New returns a limiter named name (a metric label) with slots slots,
// reporting to m.
func New(name string, slots int, m *Metrics, opts ...Option) *Limiter {
	slots = max(slots, 1)
	l := &Limiter{name: name, slots: make(chan struct{}, slots), maxQueue: int64(8 * slots),
		retry: time.Second, now: time.Now, metrics: m}
	l.held.Store(int64(10 * time.Millisecond))
	for _, o := range opts {
		o(l)
	}
	m.rejected.WithLabelValues(name, ReasonQueueFull)
	m.rejected.WithLabelValues(name, ReasonTooLate)
	m.rejected.WithLabelValues(name, ReasonGone)
	m.capacity.WithLabelValues(name).Set(float64(slots))
	return l
}

// Acquire waits for a slot and returns the function that gives it back,
// or a failure.Unavailable error when the request cannot be served in
// time. The release function must be called exactly once.
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	held := time.Duration(l.held.Load())
	deadline, hasDeadline := ctx.Deadline()
	// Work that cannot finish before its deadline even with a free slot
	// is refused now rather than done for nobody.
	if hasDeadline && l.now().Add(held).After(deadline) {
		return nil, l.shed(ReasonTooLate)
	}
	select {
	case l.slots <- struct{}{}:
		return l.admitted(l.now()), nil
	default:
	}
	if l.waiting.Load() >= l.maxQueue {
		return nil, l.shed(ReasonQueueFull)
	}
	latest := time.Duration(math.MaxInt64)
	if hasDeadline {
		// Holders ahead leave one slot-hold apart on average per slot;
		// after its wait the request still needs one hold of its own.
		ahead := time.Duration(l.waiting.Load()+1) * held / time.Duration(cap(l.slots))
		if l.now().Add(ahead + held).After(deadline) {
			return nil, l.shed(ReasonTooLate)
		}
		latest = deadline.Sub(l.now()) - held
	}
	l.waiting.Add(1)
	l.metrics.queued.WithLabelValues(l.name).Inc()
	defer func() {
		l.waiting.Add(-1)
		l.metrics.queued.WithLabelValues(l.name).Dec()
	}()
	start := l.now()
	timer := time.NewTimer(latest)
	defer timer.Stop()
	select {
	case l.slots <- struct{}{}:
		l.metrics.wait.WithLabelValues(l.name).Observe(l.now().Sub(start).Seconds())
		return l.admitted(l.now()), nil
	case <-timer.C:
		return nil, l.shed(ReasonGone)
	case <-ctx.Done():
		return nil, l.shed(ReasonGone)
	}
}

// admitted counts a holder in and returns its release, which feeds the
// hold time into the moving average (weight 1/8, as TCP's RTT estimate).
func (l *Limiter) admitted(start time.Time) func() {
	l.metrics.inFlight.WithLabelValues(l.name).Inc()
	return func() {
		d := int64(l.now().Sub(start))
		for {
			old := l.held.Load()
			if l.held.CompareAndSwap(old, old+(d-old)/8) {
				break
			}
		}
		l.metrics.inFlight.WithLabelValues(l.name).Dec()
		<-l.slots
	}
}

func (l *Limiter) shed(reason string) error {
	l.lastShed.Store(l.now().UnixNano())
	l.metrics.rejected.WithLabelValues(l.name, reason).Inc()
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

// Saturation describes the limiter's load, for readiness: the share of
// slots in use, how many wait, and whether it refused a request within
// the last window.
type Saturation struct {
	InUse    int
	Slots    int
	Waiting  int
	ShedLast bool // a request was refused within the window
}

// Saturation returns the limiter's load, with ShedLast over the given
// window.
func (l *Limiter) Saturation(window time.Duration) Saturation {
	last := l.lastShed.Load()
	return Saturation{
		InUse:    len(l.slots),
		Slots:    cap(l.slots),
		Waiting:  int(l.waiting.Load()),
		ShedLast: last != 0 && l.now().Sub(time.Unix(0, last)) < window,
	}
}

// Name is the limiter's name.
func (l *Limiter) Name() string { return l.name }

// Metrics are the collectors every Limiter of a process shares.
type Metrics struct {
	capacity *prometheus.GaugeVec
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
			Name: "slots", Help: "Slots of each admission limiter: work admitted at once."}, []string{"limiter"}),
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
	return []prometheus.Collector{m.capacity, m.inFlight, m.queued, m.rejected, m.wait}
}
