// Package listener provides the API's TCP listener: a net.Listener wrapper
// that keeps the server accepting when the process runs out of resources.
//
// fasthttp's Serve returns, and the process exits, on the first accept
// error that is not a timeout. Under a connection flood that error is
// EMFILE ("too many open files"), which goes away by itself as soon as
// connections close. A Listener therefore retries such errors with
// net/http's backoff (5 ms doubling to 1 s), logging an episode of them at
// most every 10 s and counting every one, and it
// caps the open connections (refusing the excess with a short 503) so the
// process keeps file descriptors for its stores and its logs.
//
// Its connections can also close "lingering": see Conn.LingerOnClose.
package listener

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Backoff bounds between retries of a failing accept, as net/http's Server.
const (
	MinBackoff = 5 * time.Millisecond
	MaxBackoff = time.Second
)

// Lingering-close bounds: how long and how much a connection marked with
// LingerOnClose may read and discard before it is closed.
const (
	DefaultDrainTimeout = 5 * time.Second
	DefaultDrainBytes   = 16 << 20
)

// Refusal bounds. A refused connection gets its 503, then up to
// refuseDrainBytes of its request are read for at most refuseDrainTimeout
// so that the client reads the 503 instead of a reset. At most
// maxRefusing connections drain at once; beyond that a refused connection
// is closed right after its 503 is written (best effort), so a flood
// cannot turn refusals into a new way of holding descriptors.
const (
	refuseWriteTimeout = 100 * time.Millisecond
	refuseDrainTimeout = time.Second
	refuseDrainBytes   = 64 << 10
	maxRefusing        = 128
)

// refusal is the whole answer to a connection over the cap: minimal, but a
// valid HTTP response in the API's {"message"} shape with Retry-After.
var refusal = func() []byte {
	body := `{"message":"Server is at its connection limit, please retry in a second"}`
	return fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"+
		"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}()

// Options configure a Listener. The zero value retries accept errors and
// caps nothing.
type Options struct {
	// MaxConns caps the connections open at once; 0 leaves only the OS
	// limit (RLIMIT_NOFILE).
	MaxConns int
	// DrainBytes and DrainTimeout bound a lingering close; zero means
	// DefaultDrainBytes and DefaultDrainTimeout.
	DrainBytes   int64
	DrainTimeout time.Duration
	// Log receives one line when accepting starts failing and one when it
	// recovers; nil discards them.
	Log *slog.Logger
	// Metrics counts accept errors, refusals and lingering closes; nil
	// counts nothing.
	Metrics *Metrics
}

// Listener is a net.Listener that survives resource exhaustion and caps
// open connections. Its Accept returns *Conn values.
type Listener struct {
	inner    net.Listener
	opts     Options
	log      *slog.Logger
	metrics  *Metrics
	open     atomic.Int64
	refusing chan struct{} // a slot per refused connection draining
	done     chan struct{} // closed by Close, ends a backoff wait
	once     sync.Once
	lastLog  time.Time // of the last episode logged; Accept's goroutine only
	quiet    int       // episodes not logged since then

	// sleep waits d or until done; tests replace it to observe backoff.
	sleep func(d time.Duration, done <-chan struct{})
}

// New wraps inner.
func New(inner net.Listener, opts Options) *Listener {
	if opts.DrainBytes <= 0 {
		opts.DrainBytes = DefaultDrainBytes
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = DefaultDrainTimeout
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{
		inner:    inner,
		opts:     opts,
		log:      log,
		metrics:  opts.Metrics,
		refusing: make(chan struct{}, maxRefusing),
		done:     make(chan struct{}),
		sleep:    sleep,
	}
}

func sleep(d time.Duration, done <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	}
}

// Accept returns the next connection under the cap. Temporary errors
// (EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED...) are retried with
// backoff; only a closed listener or a permanent error is returned.
func (l *Listener) Accept() (net.Conn, error) {
	var (
		delay   time.Duration
		errs    int
		started time.Time
		logged  bool // this episode's start was logged, so its end is too
	)
	for {
		c, err := l.inner.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			if l.closed() {
				// Whatever the socket said, a closed listener must read as
				// one: fasthttp ends Serve cleanly only on net.ErrClosed.
				return nil, &net.OpError{Op: "accept", Net: l.inner.Addr().Network(), Addr: l.inner.Addr(), Err: net.ErrClosed}
			}
			if !Temporary(err) {
				return nil, err
			}
			errs++
			l.metrics.acceptError(err)
			if delay == 0 {
				delay, started = MinBackoff, time.Now()
				logged = l.episodeStarts(err)
			} else {
				delay = min(2*delay, MaxBackoff)
			}
			l.sleep(delay, l.done)
			continue
		}
		if errs > 0 {
			if logged {
				l.log.Info("accept recovered", slog.Int("errors", errs),
					slog.String("after", time.Since(started).String()), slog.Int64("open_connections", l.open.Load()))
			}
			delay, errs = 0, 0
		}
		if !l.reserve() {
			l.refuse(c)
			continue
		}
		return l.wrap(c), nil
	}
}

// episodeLogInterval spaces the episode log lines: at the descriptor
// limit, every closing connection ends an episode and the next accept
// starts one, many times a second.
const episodeLogInterval = 10 * time.Second

// episodeStarts logs the start of an episode of accept errors, unless one
// was logged within episodeLogInterval; it reports whether it logged. The
// metrics count every error regardless.
func (l *Listener) episodeStarts(err error) bool {
	now := time.Now()
	if last := l.lastLog; !last.IsZero() && now.Sub(last) < episodeLogInterval {
		l.quiet++
		return false
	}
	l.log.Warn("accept failing, backing off and retrying (connections wait in the listen queue)",
		slog.String("error", err.Error()), slog.Int64("open_connections", l.open.Load()),
		slog.Int("episodes_not_logged", l.quiet))
	l.lastLog, l.quiet = now, 0
	return true
}

// reserve takes one of the MaxConns slots; false when all are taken.
func (l *Listener) reserve() bool {
	if l.opts.MaxConns <= 0 {
		l.open.Add(1)
		return true
	}
	for {
		n := l.open.Load()
		if n >= int64(l.opts.MaxConns) {
			return false
		}
		if l.open.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// refuse answers a connection over the cap with a 503 and closes it,
// without ever blocking the accept loop.
func (l *Listener) refuse(c net.Conn) {
	l.metrics.refused()
	_ = c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
	// A fresh socket's send buffer is empty: this write does not wait.
	if _, err := c.Write(refusal); err != nil {
		_ = c.Close()
		return
	}
	select {
	case l.refusing <- struct{}{}:
		go func() {
			defer func() { <-l.refusing }()
			drain(c, refuseDrainBytes, refuseDrainTimeout)
			_ = c.Close()
		}()
	default:
		_ = c.Close()
	}
}

// Open reports the connections accepted and not yet closed.
func (l *Listener) Open() int64 { return l.open.Load() }

// Close closes the inner listener and ends any backoff wait; connections
// already accepted stay open.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.inner.Close()
}

// Addr returns the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

func (l *Listener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// Temporary reports whether an accept error is worth retrying: descriptor
// and buffer exhaustion, a connection that died in the queue, and what the
// net package itself marks temporary (net/http's Server retries on those).
func Temporary(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.ECONNRESET} {
		if errors.Is(err, e) {
			return true
		}
	}
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary() || errors.Is(err, os.ErrDeadlineExceeded)
}

// errnoLabel names an accept error for the metrics' bounded label.
func errnoLabel(err error) string {
	for _, e := range []struct {
		errno syscall.Errno
		name  string
	}{{syscall.EMFILE, "emfile"}, {syscall.ENFILE, "enfile"}, {syscall.ENOBUFS, "enobufs"}, {syscall.ENOMEM, "enomem"}} {
		if errors.Is(err, e.errno) {
			return e.name
		}
	}
	return "other"
}

// drain half-closes c (our FIN goes out after whatever was written), then
// reads and discards up to limit bytes until EOF or the timeout, so that a
// client still sending its request receives our answer rather than the
// reset the kernel sends when a socket is closed with unread data.
func drain(c net.Conn, limit int64, timeout time.Duration) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err != nil {
			return
		}
	}
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return
	}
	buf := make([]byte, 32<<10)
	var n int64
	for n < limit { // the read deadline ends the loop at the timeout
		k, err := c.Read(buf[:min(int64(len(buf)), limit-n)])
		n += int64(k)
		if err != nil {
			return
		}
	}
}

// Metrics count what the listener does instead of failing.
type Metrics struct {
	AcceptErrors *prometheus.CounterVec
	Refused      prometheus.Counter
	Lingered     prometheus.Counter
	Open         prometheus.GaugeFunc // set by Track
	open         atomic.Pointer[Listener]
}

// NewMetrics returns unregistered listener metrics named taskapi_*.
func NewMetrics() *Metrics {
	m := &Metrics{
		AcceptErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_accept_errors_total",
			Help: "Temporary accept errors (emfile, enfile, enobufs, enomem, other), each retried after a backoff.",
		}, []string{"reason"}),
		Refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "taskapi_connections_refused_total",
			Help: "Connections answered 503 and closed because MAX_CONNECTIONS were open.",
		}),
		Lingered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "taskapi_connections_drained_total",
			Help: "Connections whose unread request was read and discarded before closing, so the client got its 413 or 431.",
		}),
	}
	m.Open = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "taskapi_connections_open",
		Help: "Client connections open (accepted and not yet closed).",
	}, func() float64 {
		if l := m.open.Load(); l != nil {
			return float64(l.Open())
		}
		return 0
	})
	for _, r := range []string{"emfile", "enfile", "enobufs", "enomem", "other"} {
		m.AcceptErrors.WithLabelValues(r) // every series from the start, so rate() sees the first error
	}
	return m
}

// Track makes the open-connections gauge report l.
func (m *Metrics) Track(l *Listener) {
	if m != nil {
		m.open.Store(l)
	}
}

// Collectors returns the metrics for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.AcceptErrors, m.Refused, m.Lingered, m.Open}
}

func (m *Metrics) acceptError(err error) {
	if m != nil {
		m.AcceptErrors.WithLabelValues(errnoLabel(err)).Inc()
	}
}

func (m *Metrics) refused() {
	if m != nil {
		m.Refused.Inc()
	}
}

func (m *Metrics) lingered() {
	if m != nil {
		m.Lingered.Inc()
	}
}
