// Package transport is an http.RoundTripper for load generation: fasthttp
// writes its requests and reads its answers, over a connection pool of
// its own.
//
// net/http's Transport runs two goroutines per connection and hands every
// request and response between them over channels; against a fast target
// that bookkeeping, not the network, caps what a load generator on a few
// cores can send (see BenchmarkEngineVsWrk in loadtest/executor). This
// Transport does each request's write and read in the calling goroutine
// on a pooled connection, and still looks like net/http to its callers:
// an *http.Client over it follows redirects and keeps cookies, and a
// request's context bounds and cancels it. Its pool keeps net/http's rule
// for new connections (a request takes the first connection released or
// dialled, whichever comes first), with the dials bounded; see hostPool.
//
// What it does not do, being built for load tests against HTTP/1.1 APIs:
// HTTP/2, proxies, compression (no Accept-Encoding is added, as with
// DisableCompression) and streaming. Response bodies are read whole before
// RoundTrip returns, so MaxResponseBodySize bounds their memory, and
// Response.TLS is nil.
package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Defaults of Options.
const (
	// DefaultIdleTimeout closes connections idle this long: under the 5s
	// keep-alive timeout of Node's HTTP server, so that a pooled
	// connection is closed by us before the server closes it under a
	// request that cannot be retried (a POST).
	DefaultIdleTimeout = 4 * time.Second
	// DefaultDialTimeout is net/http's DefaultTransport's.
	DefaultDialTimeout = 30 * time.Second
	// DefaultReadBufferSize bounds a response's status line and headers
	// (fasthttp must hold them in one buffer); 16 KiB fits any API's.
	DefaultReadBufferSize = 16 << 10
	// DefaultUserAgent is what net/http sends, so that switching
	// transports does not change what the target logs.
	DefaultUserAgent = "Go-http-client/1.1"
	// DefaultMaxDials is how many connections to one host are opened at
	// once: on loopback a dial takes tens of microseconds, so four open
	// hundreds of connections in a few milliseconds when they are needed.
	DefaultMaxDials = 4
	// writeBufferSize is the buffer a request is written through.
	writeBufferSize = 4 << 10
)

// Options configure a Transport; the zero value is usable.
type Options struct {
	// MaxConnsPerHost caps the connections open to one host; a request
	// that finds them all busy waits for one, within its context's
	// deadline. 0 means no cap: a load generator's VU count is its cap.
	MaxConnsPerHost int
	// MaxDialsPerHost bounds the connections being opened to one host
	// at once (DefaultMaxDials if 0). A request that finds no idle
	// connection waits for the first one released or dialled, whichever
	// comes first, so a burst of requests against a server slow to
	// accept does not become a burst of dials.
	MaxDialsPerHost int
	// IdleTimeout closes connections idle this long (DefaultIdleTimeout
	// if 0).
	IdleTimeout time.Duration
	// DialTimeout bounds connecting (DefaultDialTimeout if 0), and so does
	// the request's deadline; a cancelled context does not stop a dial.
	DialTimeout time.Duration
	// ReadBufferSize bounds a response's headers (DefaultReadBufferSize if
	// 0); larger headers fail the request.
	ReadBufferSize int
	// MaxResponseBodySize fails responses with a larger body; 0 means no
	// limit.
	MaxResponseBodySize int
	// TLSConfig is used for https targets; nil means the defaults.
	TLSConfig *tls.Config
	// DialContext opens the TCP connections (before any TLS handshake);
	// nil means a net.Dialer's.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Transport is an http.RoundTripper over pooled connections that
// fasthttp's requests and responses are written to and read from, one
// pool per scheme and host. It is safe for concurrent use; create it
// with New.
type Transport struct {
	opts  Options
	mu    sync.Mutex // serialises adding a host's pool
	hosts sync.Map   // hostKey → *hostPool; read-mostly, so lock-free reads
	// values holds the last value seen of each of commonKeys (see header).
	values [len(commonKeys)]atomic.Pointer[string]
	// readers and writers are the buffers of requests in flight, so that
	// an idle connection holds none.
	readers, writers sync.Pool
}

type hostKey struct {
	tls  bool
	host string
}

// New returns a Transport with options o, defaults filled in.
func New(o Options) *Transport {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	if o.MaxDialsPerHost <= 0 {
		o.MaxDialsPerHost = DefaultMaxDials
	}
	t := &Transport{opts: o}
	t.readers.New = func() any { return bufio.NewReaderSize(nil, o.ReadBufferSize) }
	t.writers.New = func() any { return bufio.NewWriterSize(nil, writeBufferSize) }
	return t
}

// NewClient returns an http.Client over New(o), with http.Client's
// defaults otherwise (redirects followed, no timeout of its own).
func NewClient(o Options) *http.Client {
	return &http.Client{Transport: New(o)}
}

// CloseIdleConnections closes every connection not carrying a request;
// http.Client.CloseIdleConnections calls it.
func (t *Transport) CloseIdleConnections() {
	t.hosts.Range(func(_, v any) bool {
		v.(*hostPool).closeIdle()
		return true
	})
}

func (t *Transport) hostPool(isTLS bool, host string) (*hostPool, error) {
	k := hostKey{isTLS, host}
	if p, ok := t.hosts.Load(k); ok {
		return p.(*hostPool), nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.hosts.Load(k); ok {
		return p.(*hostPool), nil
	}
	addr, err := hostPort(host, isTLS)
	if err != nil {
		return nil, err
	}
	p := &hostPool{
		addr: addr, dial: t.opts.DialContext, dialTimeout: t.opts.DialTimeout, idleTimeout: t.opts.IdleTimeout,
		maxConns: t.opts.MaxConnsPerHost, maxDials: t.opts.MaxDialsPerHost,
	}
	if p.dial == nil {
		var d net.Dialer
		p.dial = d.DialContext
	}
	if isTLS {
		p.tls = tlsConfig(t.opts.TLSConfig, addr)
	}
	t.hosts.Store(k, p)
	return p, nil
}

// tlsConfig is c for connections to addr, naming the server by addr's
// host unless c names one.
func tlsConfig(c *tls.Config, addr string) *tls.Config {
	if c == nil {
		c = &tls.Config{}
	} else {
		c = c.Clone()
	}
	if c.ServerName == "" {
		if h, _, err := net.SplitHostPort(addr); err == nil {
			c.ServerName = h
		}
	}
	return c
}

// hostPort adds the scheme's default port to a URL's host if it has none.
func hostPort(host string, isTLS bool) (string, error) {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host, nil
	}
	port := "80"
	if isTLS {
		port = "443"
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if h == "" {
		return "", fmt.Errorf("transport: bad host %q", host)
	}
	return net.JoinHostPort(h, port), nil
}

// RoundTrip sends req and reads its whole response. It fails when the
// request's context is done, with the context's error, cutting short a
// request in flight (but not a dial: that is bounded by DialTimeout and
// the deadline). A request that may be replayed (GET, HEAD, OPTIONS,
// TRACE, or one with an Idempotency-Key) is sent again when a pooled
// connection turns out to have been closed by the server, as net/http
// does.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	freq := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(freq)
	isTLS, err := fill(freq, req) // closes req.Body
	if err != nil {
		return nil, err
	}
	hp, err := t.hostPool(isTLS, req.URL.Host)
	if err != nil {
		return nil, err
	}
	p := responsePool.Get().(*pooledResponse)
	if err := t.do(req.Context(), time.Time{}, hp, freq, &p.r, t.opts.MaxResponseBodySize, replayable(req), wireOf(req.Context())); err != nil {
		p.release()
		return nil, err
	}
	return p.response(req, t), nil
}

// Request is what Exchange sends: the parts of an http.Request a load
// generator sets, without the allocations of building one.
type Request struct {
	// Method is the HTTP method; "" means GET.
	Method string
	// URL is where the request goes (http or https); its path and query
	// are sent as they are escaped.
	URL *url.URL
	// Host overrides the Host header; "" means URL.Host.
	Host string
	// Header is sent in order, names as they are written. Host,
	// Content-Length and Transfer-Encoding are ignored, as in RoundTrip;
	// User-Agent defaults to DefaultUserAgent.
	Header [][2]string
	// Body is sent with its length; nil sends none.
	Body []byte
	// Deadline bounds the request (the context does too); zero means
	// none. Passing it rather than a context with a deadline saves the
	// context and its timer per request.
	Deadline time.Time
	// MaxBody fails an answer with a longer body with ErrBodyTooLarge; 0
	// means Options.MaxResponseBodySize.
	MaxBody int
	// Sent and Received are set by Exchange: the bytes the exchange took
	// on the wire, as Wire counts them, failed attempts included.
	Sent, Received int64
}

// ErrBodyTooLarge is Exchange's error for an answer longer than
// Request.MaxBody; the status it returns with it is the answer's.
var ErrBodyTooLarge = fasthttp.ErrBodyTooLarge

// Exchange sends req and appends the answer's body to body, returning its
// status: RoundTrip without an http.Request and http.Response, the per
// request cost that an http.Client adds (BenchmarkEngineVsWrk measures
// the difference). Its errors are RoundTrip's: the context's error when
// it is done, context.DeadlineExceeded past req.Deadline, and a replayable
// request is sent again on a pooled connection found closed.
//
// A redirect (301, 302, 303, 307 or 308 with a Location) comes back as an
// *http.Response, its body unread and body untouched, so that the caller
// can have an http.Client follow it (see journey) rather than Exchange
// guess at the client's redirect policy.
func (t *Transport) Exchange(ctx context.Context, req *Request, body *bytes.Buffer) (status int, redirect *http.Response, err error) {
	u := req.URL
	isTLS, err := checkURL(u)
	if err != nil {
		return 0, nil, err
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	freq := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(freq)
	hasUA := false
	for _, kv := range req.Header {
		if kv[0] == "User-Agent" {
			hasUA = true
		}
	}
	start(freq, req.Method, u, req.Host, hasUA)
	for _, kv := range req.Header {
		if !framing(kv[0]) {
			freq.Header.Add(kv[0], kv[1])
		}
	}
	if req.Body != nil {
		freq.SetBodyRaw(req.Body) // not copied: Exchange returns before req.Body may change
	}
	hp, err := t.hostPool(isTLS, u.Host)
	if err != nil {
		return 0, nil, err
	}
	maxBody := req.MaxBody
	if maxBody <= 0 {
		maxBody = t.opts.MaxResponseBodySize
	}
	p := responsePool.Get().(*pooledResponse)
	var wire Wire
	err = t.do(ctx, req.Deadline, hp, freq, &p.r, maxBody, replayable1(req.Method, req.Header), &wire)
	req.Sent, req.Received = wire.Sent(), wire.Received()
	status = p.r.StatusCode()
	if err != nil {
		if !errors.Is(err, ErrBodyTooLarge) {
			status = 0
		}
		p.release()
		return status, nil, err
	}
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if len(p.r.Header.Peek("Location")) > 0 {
			return status, p.response(nil, t), nil
		}
	}
	body.Write(p.r.Body())
	p.release()
	return status, nil, nil
}

// fill copies req into freq and closes req's body, as a RoundTripper must
// whatever happens. It reports whether the scheme is https.
func fill(freq *fasthttp.Request, req *http.Request) (isTLS bool, err error) {
	if req.Body != nil && req.Body != http.NoBody {
		defer req.Body.Close()
	}
	isTLS, err = checkURL(req.URL)
	if err != nil {
		return false, err
	}
	if err := req.Context().Err(); err != nil {
		return false, err
	}
	_, hasUA := req.Header["User-Agent"]
	start(freq, req.Method, req.URL, req.Host, hasUA)
	for k, vs := range req.Header {
		if framing(k) {
			continue
		}
		for _, v := range vs {
			freq.Header.Add(k, v)
		}
	}
	if req.Close {
		freq.Header.SetConnectionClose()
	}
	if req.Body != nil && req.Body != http.NoBody {
		// Buffered, so a retry can send it again; bytes.Reader bodies
		// (what http.NewRequest makes of them) copy without a scratch buffer.
		if _, err := io.Copy(freq.BodyWriter(), req.Body); err != nil {
			return false, fmt.Errorf("transport: read request body: %w", err)
		}
	}
	return isTLS, nil
}

// checkURL accepts http and https URLs with a host, and reports which.
func checkURL(u *url.URL) (isTLS bool, err error) {
	if u == nil {
		return false, errors.New("transport: nil Request.URL")
	}
	switch u.Scheme {
	case "http":
	case "https":
		isTLS = true
	default:
		return false, fmt.Errorf("transport: unsupported protocol scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return false, errors.New("transport: no Host in request URL")
	}
	return isTLS, nil
}

// start sets freq's request line, Host and default User-Agent.
func start(freq *fasthttp.Request, method string, u *url.URL, host string, hasUA bool) {
	h := &freq.Header
	// Keys go out as the caller wrote them, as with net/http; and no
	// Content-Type is made up for a body without one.
	h.DisableNormalizing()
	h.SetNoDefaultContentType(true)
	if method == "" {
		method = http.MethodGet
	}
	h.SetMethod(method)
	// Set without parsing: fasthttp writes a request URI it never parsed
	// as it is, which also keeps escapes the way the caller's URL has them.
	var buf [256]byte
	h.SetRequestURIBytes(appendRequestURI(buf[:0], u))
	if host == "" {
		host = u.Host
	}
	h.SetHost(host)
	if !hasUA {
		h.SetUserAgent(DefaultUserAgent)
	}
}

// framing tells the headers net/http takes from a request's fields, not
// its Header: the transport writes them itself.
func framing(k string) bool {
	switch k {
	case "Host", "Content-Length", "Transfer-Encoding":
		return true
	}
	return false
}

// appendRequestURI is url.URL.RequestURI without its allocations.
func appendRequestURI(dst []byte, u *url.URL) []byte {
	if u.Opaque != "" {
		return append(dst, u.RequestURI()...)
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	dst = append(dst, p...)
	if u.ForceQuery || u.RawQuery != "" {
		dst = append(dst, '?')
		dst = append(dst, u.RawQuery...)
	}
	return dst
}

// replayable is net/http's rule for sending a request again on a fresh
// connection.
func replayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, a := req.Header["Idempotency-Key"]
	_, b := req.Header["X-Idempotency-Key"]
	return a || b
}

// replayable1 is replayable for Exchange's request.
func replayable1(method string, header [][2]string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	for _, kv := range header {
		if kv[0] == "Idempotency-Key" || kv[0] == "X-Idempotency-Key" {
			return true
		}
	}
	return false
}

// do sends freq until it gets an answer into fresp or fails for good. A
// body over maxBody (if positive) fails with ErrBodyTooLarge. Every
// attempt's bytes on the wire are added to w, if not nil.
func (t *Transport) do(ctx context.Context, deadline time.Time, hp *hostPool, freq *fasthttp.Request, fresp *fasthttp.Response, maxBody int, replay bool, w *Wire) error {
	if w != nil {
		w.counted.Store(true) // this transport counts, even a request that never got a connection
	}
	for {
		reused, err := t.once(ctx, deadline, hp, freq, fresp, maxBody, w)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return context.DeadlineExceeded
		}
		// A pooled connection the server closed while it was idle fails
		// on its first use; each such failure closes one, so this ends at
		// the latest with a fresh dial.
		if !reused || !replay || !connLost(err) {
			if errors.Is(err, io.EOF) { // a bare "EOF" would read as a clean end
				err = errClosedEarly
			}
			return err
		}
	}
}

var errClosedEarly = fmt.Errorf("transport: the server closed the connection before answering: %w", io.ErrUnexpectedEOF)

// aLongTimeAgo is a deadline that makes blocked I/O return at once.
var aLongTimeAgo = time.Unix(1, 0)

// once sends freq on one connection and reads the answer, adding to wire
// (if not nil) the bytes it wrote and read there; reused tells whether the
// connection had carried a request before.
func (t *Transport) once(ctx context.Context, deadline time.Time, hp *hostPool, freq *fasthttp.Request, fresp *fasthttp.Response, maxBody int, wire *Wire) (reused bool, err error) {
	due := deadline
	if d, ok := ctx.Deadline(); ok && (due.IsZero() || d.Before(due)) {
		due = d
	}
	if !due.IsZero() && !time.Now().Before(due) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		return false, context.DeadlineExceeded // do reports it as the context would
	}
	// The context itself bounds the wait; deadline is the explicit one.
	conn, err := hp.get(ctx, deadline)
	if err != nil {
		return false, err
	}
	reused = conn.reused
	// The connection is this request's alone until released, and its
	// reads and writes happen here: the difference of its counts is
	// exactly this exchange's bytes.
	sent0, received0 := conn.wire()
	// The explicit deadline goes on the connection (zero clears the last
	// request's). The context's end (deadline or cancel) unblocks the I/O
	// by moving that deadline to the past (see watch): the error arrives
	// only once ctx.Err() is set, and the connection is then closed, never
	// pooled with that deadline.
	if err := conn.SetDeadline(deadline); err != nil {
		hp.discard(conn)
		return reused, err
	}
	if err := conn.begin(ctx); err != nil {
		if conn.end() {
			hp.discard(conn) // its deadline moved to the past
		} else {
			hp.release(conn, reused) // untouched: as good as before
		}
		return reused, err
	}

	bw := t.writers.Get().(*bufio.Writer)
	bw.Reset(conn) // with a sender, sent by the answer's first read
	err = freq.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	t.writers.Put(bw)
	if err == nil {
		fresp.Reset()
		fresp.Header.SetNoDefaultContentType(true)
		if freq.Header.IsHead() {
			fresp.SkipBody = true
		}
		br := t.readers.Get().(*bufio.Reader)
		br.Reset(conn)
		err = fresp.ReadLimitBody(br, maxBody)
		br.Reset(nil)
		t.readers.Put(br)
	}
	if conn.sender != nil {
		conn.sender.reset() // in case no read came to send it
	}
	if wire != nil {
		sent1, received1 := conn.wire()
		wire.add(sent1-sent0, received1-received0)
	}
	interrupted := conn.end()
	if err != nil || interrupted || fresp.ConnectionClose() || freq.ConnectionClose() {
		hp.discard(conn)
	} else {
		hp.put(conn)
	}
	return reused, err
}

// connLost tells whether err means the connection was gone before an
// answer began: what a server closing an idle keep-alive connection
// looks like to the next request on it.
func connLost(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// pooledResponse is a fasthttp response and what its http.Response body
// reads it with; it goes back to the pool when the body is closed.
type pooledResponse struct {
	r  fasthttp.Response
	rd bytes.Reader // over the body; see body
}

var responsePool = sync.Pool{New: func() any { return new(pooledResponse) }}

func (p *pooledResponse) release() {
	p.r.Reset()
	p.rd.Reset(nil)
	responsePool.Put(p)
}

// response converts the answer; its Body owns p.
func (p *pooledResponse) response(req *http.Request, t *Transport) *http.Response {
	r := &p.r
	code := r.StatusCode()
	res := &http.Response{
		Status:     status(code, r.Header.StatusMessage()),
		StatusCode: code,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        t.header(&r.Header),
		ContentLength: int64(len(r.Body())),
		Close:         r.ConnectionClose(),
		Request:       req,
	}
	if string(r.Header.Protocol()) == "HTTP/1.0" {
		res.Proto, res.ProtoMinor = "HTTP/1.0", 0
	}
	if r.Header.ContentLength() == -1 { // chunked, as net/http reports it
		res.ContentLength = -1
		res.TransferEncoding = []string{"chunked"}
	}
	// The body's bytes stay in the pooled response and are read in place
	// rather than copied; the reader lets go of them before the response
	// is reused. (A bytes.Reader, not a strings.Reader over the same
	// memory: io.Writer may not keep what WriteTo hands it, but a
	// StringWriter could keep the string.)
	p.rd.Reset(r.Body())
	res.Body = &body{p: p}
	return res
}

// body is a Response.Body over a pooled response. Close returns the
// response to the pool; it is safe to call from another goroutine than
// Read's, and more than once, as with net/http's bodies.
type body struct {
	mu sync.Mutex
	p  *pooledResponse // nil once closed
}

var errBodyClosed = errors.New("transport: read on closed response body")

func (b *body) Read(buf []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p == nil {
		return 0, errBodyClosed
	}
	return b.p.rd.Read(buf)
}

// WriteTo lets io.Copy take the body without a scratch buffer.
func (b *body) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p == nil {
		return 0, errBodyClosed
	}
	return b.p.rd.WriteTo(w)
}

func (b *body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p != nil {
		b.p.release()
		b.p = nil
	}
	return nil
}

// statusText holds "200 OK" and the like for every code net/http names,
// so that a response's Status costs nothing when the server uses the
// standard reason phrase.
var statusText = func() map[int]string {
	m := map[int]string{}
	for code := 100; code < 600; code++ {
		if t := http.StatusText(code); t != "" {
			m[code] = strconv.Itoa(code) + " " + t
		}
	}
	return m
}()

func status(code int, msg []byte) string {
	if s, ok := statusText[code]; ok && (len(msg) == 0 || string(msg) == s[4:]) {
		return s
	}
	if len(msg) == 0 {
		return strconv.Itoa(code)
	}
	return strconv.Itoa(code) + " " + string(msg)
}

// commonKeys are the canonical names of common response headers, indexed
// for Transport.values.
var commonKeys = [...]string{
	"Content-Length", "Content-Type", "Content-Encoding", "Server", "Date", "Connection",
	"Set-Cookie", "Cache-Control", "Etag", "Last-Modified", "Location", "Vary", "Expires",
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "X-Request-Id",
	"X-Content-Type-Options", "X-Frame-Options", "Strict-Transport-Security", "Retry-After",
	"Www-Authenticate", "Keep-Alive", "Trailer",
}

// commonKey maps a common name to its index in commonKeys.
var commonKey = func() map[string]int {
	m := make(map[string]int, len(commonKeys))
	for i, k := range commonKeys {
		m[k] = i
	}
	return m
}()

// header converts fasthttp's response headers to an http.Header. fasthttp
// normalises names as net/http canonicalises them. Common names are
// interned, and so is the last value seen of each (Content-Type, Date and
// the like repeat from one response to the next), so that a typical
// answer's headers cost the map and one array of values.
func (t *Transport) header(h *fasthttp.ResponseHeader) http.Header {
	n := h.Len()
	out := make(http.Header, n)
	vals := make([]string, 0, n)
	for k, v := range h.All() {
		var key, val string
		if i, ok := commonKey[string(k)]; ok {
			key = commonKeys[i]
			if last := t.values[i].Load(); last != nil && *last == string(v) {
				val = *last
			} else {
				val = string(v)
				t.values[i].Store(&val)
			}
		} else {
			if string(k) == "Transfer-Encoding" {
				continue // in Response.TransferEncoding, as net/http has it
			}
			key, val = string(k), string(v)
		}
		vals = append(vals, val)
		if prev, ok := out[key]; ok {
			out[key] = append(prev, val)
		} else {
			out[key] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	return out
}
