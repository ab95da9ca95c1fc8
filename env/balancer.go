package env

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// Defaults of the balancer's passive health checks, as nginx's
// max_fails=1 fail_timeout=5s with a short connect timeout.
const (
	// DefaultConnectTimeout bounds a connection to an instance: a killed
	// instance refuses at once, one whose host is gone takes this long.
	DefaultConnectTimeout = time.Second
	// DefaultHeaderTimeout bounds the wait for an instance's response
	// headers: a paused instance accepts connections (the kernel does)
	// but never answers. It is twice the API's default REQUEST_TIMEOUT
	// (5 s), as a proxy's read timeout should exceed its upstream's
	// deadline: a busy instance's own 503 with Retry-After then reaches
	// the client, instead of a 504 cut at the same instant.
	DefaultHeaderTimeout = 10 * time.Second
	// DefaultFailTimeout is how long an instance that failed is skipped.
	DefaultFailTimeout = 5 * time.Second
)

// BalancerOptions tune the balancer's passive health checks; zero values
// take the defaults.
type BalancerOptions struct {
	// ConnectTimeout bounds a connection to an instance
	// (DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait for an instance's response headers
	// (DefaultHeaderTimeout); keep it above the API's slowest answer.
	HeaderTimeout time.Duration
	// FailTimeout is how long a failed instance is skipped
	// (DefaultFailTimeout).
	FailTimeout time.Duration
	// TLS, when set, makes the balancer serve HTTPS with it (URL is then
	// https://), as the compose stack's nginx terminates TLS: the
	// instances behind it stay plain HTTP and learn the scheme from
	// X-Forwarded-Proto. ServerTLS makes the usual one.
	TLS *tls.Config
	// Redirect, with TLS, also serves plain HTTP on a port of its own
	// (PlainURL), answering every request there with a 308 to the same
	// path over HTTPS, as nginx's HTTP port does in the compose stack.
	Redirect bool
}

// ServerTLS is the balancer's HTTPS configuration for cert: TLS 1.2 and
// later with Go's cipher suites, HTTP/1.1 (nginx in the compose stack
// speaks no HTTP/2 either).
func ServerTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}

func (o BalancerOptions) withDefaults() BalancerOptions {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = DefaultHeaderTimeout
	}
	if o.FailTimeout <= 0 {
		o.FailTimeout = DefaultFailTimeout
	}
	return o
}

// Balancer is the one address in front of the API instances: a
// round-robin reverse proxy on a loopback port that behaves as nginx does
// in the compose stack, so that a drill which kills or pauses one
// instance measures the API, not the balancer.
//
// Passive health checks: an instance that refuses a connection, or does
// not connect or send its response headers in time, is taken out of
// rotation for FailTimeout (nginx's max_fails=1 fail_timeout). The
// request that found it failing is retried once on another instance when
// that is safe (nginx's proxy_next_upstream error timeout): always when
// the connection failed, since nothing was sent; after a timeout only
// for idempotent methods whose body was not consumed, never for a POST
// that may have reached the instance.
type Balancer struct {
	srv      *http.Server
	url      string
	plain    *http.Server // the redirect to HTTPS; nil without one
	plainURL string
	opts     BalancerOptions
	targets  []*backend
	next     atomic.Uint64
}

type backend struct {
	url       *url.URL
	downUntil atomic.Int64 // unix nanos
}

// StartBalancer serves a balancer over the given API base URLs with the
// default timeouts.
func StartBalancer(urls []string) (*Balancer, error) {
	return StartBalancerWith(urls, BalancerOptions{})
}

// StartBalancerWith serves a balancer over the given API base URLs.
func StartBalancerWith(urls []string, o BalancerOptions) (*Balancer, error) {
	b := &Balancer{opts: o.withDefaults()}
	for _, u := range urls {
		t, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("balancer target %q: %w", u, err)
		}
		b.targets = append(b.targets, &backend{url: t})
	}
	if len(b.targets) == 0 {
		return nil, errors.New("balancer: no targets")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("balancer: %w", err)
	}
	proxy := &httputil.ReverseProxy{
		// The instance is chosen by the transport, per attempt; the
		// first one here only gives the request a scheme and host.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(b.targets[0].url)
			r.SetXForwarded()
		},
		Transport: &retrying{b: b, rt: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: b.opts.ConnectTimeout}).DialContext,
			ResponseHeaderTimeout: b.opts.HeaderTimeout,
			MaxIdleConnsPerHost:   512,
			IdleConnTimeout:       90 * time.Second,
		}},
		ErrorHandler: b.failed,
	}
	b.srv = &http.Server{Handler: closeAfterChunked(proxy), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(quietHandshakes{os.Stderr}, "balancer: ", log.LstdFlags)}
	b.url = "http://" + ln.Addr().String()
	if o.TLS != nil {
		if o.Redirect {
			if err := b.serveRedirect(ln.Addr().(*net.TCPAddr).Port); err != nil {
				ln.Close()
				return nil, err
			}
		}
		// Serve, not ServeTLS, which would offer HTTP/2 whatever the
		// configuration's NextProtos say.
		ln = tls.NewListener(ln, o.TLS.Clone())
		b.url = "https://" + ln.Addr().String()
	}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

// serveRedirect serves plain HTTP on another loopback port, redirecting
// every request to the same host name, path and query on tlsPort.
func (b *Balancer) serveRedirect(tlsPort int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("balancer: plain-HTTP listener: %w", err)
	}
	b.plain = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The name the client asked for, as nginx's $host: the
		// certificate names it, where this listener's address may not.
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			host = "127.0.0.1"
		}
		// 308, not 301: a client must repeat a POST as a POST.
		http.Redirect(w, r, "https://"+net.JoinHostPort(host, strconv.Itoa(tlsPort))+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})}
	b.plainURL = "http://" + ln.Addr().String()
	go func() { _ = b.plain.Serve(ln) }()
	return nil
}

// quietHandshakes passes on net/http's log lines except failed TLS
// handshakes: the HTTPS checks offer TLS 1.0 on purpose, and a refusal is
// the answer they look for, not news for the harness's output (nginx, too,
// logs them only at info level).
type quietHandshakes struct{ w io.Writer }

func (q quietHandshakes) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("TLS handshake error")) {
		return len(p), nil
	}
	return q.w.Write(p)
}

// closeAfterChunked closes the client's connection after answering a
// request whose body came chunked. Go's server drops a Content-Length sent
// beside Transfer-Encoding before any handler sees it, so the two cannot
// be told apart here; RFC 9112 §6.3 asks a server to close after such a
// request, and closing after every chunked one (rare from API clients)
// keeps whatever a client framed after the body from being served as a
// request of its own, as nginx does.
func closeAfterChunked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(r.TransferEncoding, "chunked") {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// pick returns the next instance in rotation that is not marked down and
// is not skip; when every other instance is down it returns one anyway
// (nginx, too, tries a down server rather than none), or nil when skip
// is the only one.
func (b *Balancer) pick(skip *backend) *backend {
	now := time.Now().UnixNano()
	start := b.next.Add(1) - 1
	var fallback *backend
	for i := range uint64(len(b.targets)) {
		t := b.targets[(start+i)%uint64(len(b.targets))]
		if t == skip {
			continue
		}
		if t.downUntil.Load() <= now {
			return t
		}
		if fallback == nil {
			fallback = t
		}
	}
	return fallback
}

// retrying is the balancer's transport: it sends each request to an
// instance, marks an instance that failed down, and retries once on
// another when the failure says the request was not processed.
type retrying struct {
	b  *Balancer
	rt http.RoundTripper
}

func (t *retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	var body *unclosedBody
	if req.Body != nil && req.Body != http.NoBody {
		// The inner transport closes the body of a request it failed;
		// a retry needs it open, and unread.
		body = &unclosedBody{r: req.Body}
		defer req.Body.Close()
	}
	first := t.b.pick(nil)
	res, err := t.send(req, first, body)
	if err == nil {
		return res, nil
	}
	connect, timeout := failure(err)
	if !connect && !timeout {
		return nil, err
	}
	first.downUntil.Store(time.Now().Add(t.b.opts.FailTimeout).UnixNano())
	if body != nil && body.read.Load() || timeout && !connect && !idempotent(req.Method) || req.Context().Err() != nil {
		return nil, err
	}
	second := t.b.pick(first)
	if second == nil {
		return nil, err
	}
	res, err2 := t.send(req, second, body)
	if err2 != nil {
		if c, to := failure(err2); c || to {
			second.downUntil.Store(time.Now().Add(t.b.opts.FailTimeout).UnixNano())
		}
		return nil, fmt.Errorf("%s: %w; retried on %s: %w", first.url.Host, err, second.url.Host, err2)
	}
	return res, nil
}

// send sends req to instance to.
func (t *retrying) send(req *http.Request, to *backend, body *unclosedBody) (*http.Response, error) {
	out := req.WithContext(req.Context())
	u := *req.URL
	u.Scheme, u.Host = to.url.Scheme, to.url.Host
	out.URL, out.Host = &u, ""
	if body != nil {
		out.Body = body
	}
	return t.rt.RoundTrip(out)
}

// failure classifies a transport error: connect when no connection was
// made (refused, or the connect timed out: nothing was sent), timeout
// when the instance did not answer in time.
func failure(err error) (connect, timeout bool) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true, false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false, true
	}
	return false, false
}

// idempotent reports whether a request of this method may be sent twice
// (RFC 9110 §9.2.2), as nginx decides for proxy_next_upstream.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// unclosedBody is a request body the inner transport may read but not
// close, and that says whether any of it was read.
type unclosedBody struct {
	r    io.Reader
	read atomic.Bool
}

func (b *unclosedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.read.Store(true)
	}
	return n, err
}

func (*unclosedBody) Close() error { return nil }

// failed answers a request no instance answered: 502 when the instances
// could not be reached, 504 when they did not answer in time, in the
// API's error shape.
func (b *Balancer) failed(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadGateway
	if _, timeout := failure(err); timeout {
		status = http.StatusGatewayTimeout
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, `{"message":"no API instance answered"}`)
}

// URL is the balancer's address: https:// when it serves TLS.
func (b *Balancer) URL() string { return b.url }

// PlainURL is the plain-HTTP address that redirects to URL, "" when the
// balancer serves no redirect (BalancerOptions.Redirect).
func (b *Balancer) PlainURL() string { return b.plainURL }

// Close stops the balancer.
func (b *Balancer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range []*http.Server{b.srv, b.plain} {
		if srv == nil {
			continue
		}
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
