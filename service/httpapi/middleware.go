package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/taskready/taskready/service/errorreport"
)

type localKey int

const (
	requestIDKey localKey = iota
	profileKey
	unroutedKey // the edge middleware refused the request before routing
	panicKey    // where the request's handler panicked: []uintptr
)

// requestID returns the id the observe middleware gave this request.
func requestID(c fiber.Ctx) string {
	id, _ := c.Locals(requestIDKey).(string)
	return id
}

// validRequestID accepts a caller's id only if it is short and plain, so a
// proxy's id flows through but nobody can inject text into our logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// observe is the outermost middleware: it assigns the request id, counts
// the request in flight, and after the chain renders any error itself so
// that the access log and the metrics see the final status.
func (s *server) observe(c fiber.Ctx) error {
	start := time.Now()
	id := c.Get(fiber.HeaderXRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Locals(requestIDKey, id)
	c.Set(fiber.HeaderXRequestID, id)
	if _, ok := edgeError(c); ok {
		// fasthttp could not read a request (a timeout, a body or headers
		// too large) and Fiber runs the Use middleware, group guards
		// included, before its error handler. Stop here: authenticating or
		// rate-limiting a request that was never read would spend store
		// calls and budget, and there is no route to record. The error
		// handler, called next with the real cause, renders and counts it.
		return nil
	}
	s.metrics.InFlight.Inc()
	defer s.metrics.InFlight.Dec()

	err := c.Next()
	if err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			s.log.Error("render error", slog.String("request_id", id), slog.String("error", herr.Error()))
		}
	}
	status := c.Response().StatusCode()
	route := routeTemplate(c)
	elapsed := time.Since(start)
	s.metrics.Observe(c.Method(), route, status, elapsed)
	if pcs, panicked := c.Locals(panicKey).([]uintptr); s.deps.Reporter != nil && (panicked || reportable(status)) {
		s.deps.Reporter.Report(errorreport.Failure{
			RequestID: id, Method: c.Method(), Route: route, Status: status, Err: err, Panic: pcs,
		})
	}

	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	// Only the route template and the path: never headers, bodies, query
	// strings or cookies, which may hold passwords, tokens or search text.
	s.log.LogAttrs(c.Context(), level, "request",
		slog.String("request_id", id),
		slog.String("method", c.Method()),
		slog.String("route", route),
		slog.String("path", c.Path()),
		slog.Int("status", status),
		slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000),
		slog.Int("bytes", len(c.Response().Body())),
		slog.String("ip", c.IP()),
	)
	return nil
}

// reportable says which answers go to error tracking besides panics: the
// server's own failures. 503 stays out on purpose. The API answers it when
// it sheds work it cannot finish in time (admission), while a store's
// breaker is open, and while a store is unreachable or too slow: expected
// states, each with a Retry-After, that arrive by the thousand in one
// incident. taskapi_http_requests_total, taskapi_admission_* and /readyz
// count and name them, and the alerts fire on them; an event per request
// would bury the real bugs and spend the Sentry quota within minutes (the
// SDK would drop most of them anyway). A store error that is not one of
// those states (a command refused, a document that does not decode) is a
// 500, and reported. 501 is the router's answer to an unknown method: the
// client's doing.
func reportable(status int) bool {
	return status >= fiber.StatusInternalServerError &&
		status != fiber.StatusServiceUnavailable && status != fiber.StatusNotImplemented
}

// panicked is the recover middleware's stack handler: it keeps the
// panicking goroutine's program counters while they still lead to the
// panic, for the error report.
func panicked(c fiber.Ctx, _ any) {
	pcs := make([]uintptr, 64)
	// Skip runtime.Callers, panicked and the recover middleware's defer.
	n := runtime.Callers(3, pcs)
	c.Locals(panicKey, pcs[:n])
}

// routeTemplate returns the matched route's template ("/api/tasks/:id"),
// or "unmatched" so that scanners cannot grow the metrics' label sets.
func routeTemplate(c fiber.Ctx) string {
	r := c.Route()
	if refused, _ := c.Locals(unroutedKey).(bool); refused {
		return "unmatched" // c.Route() is the refusing middleware's "/"
	}
	if r == nil || r.Method == "USE" || c.Response().StatusCode() == fiber.StatusNotFound && r.Path == "/" {
		return "unmatched"
	}
	if len(r.Path) > 1 {
		return strings.TrimSuffix(r.Path, "/") // a group's root: "/api/tasks"
	}
	return r.Path
}

// securityHeaders are helmet's defaults, tightened for a JSON API: nothing
// here is a document, so the CSP allows nothing and framing is denied.
var securityHeaders = [][2]string{
	{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"Origin-Agent-Cluster", "?1"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Content-Type-Options", "nosniff"},
	{"X-DNS-Prefetch-Control", "off"},
	{"X-Download-Options", "noopen"},
	{"X-Frame-Options", "DENY"},
	{"X-Permitted-Cross-Domain-Policies", "none"},
	{"X-XSS-Protection", "0"},
}

// hsts is sent only on requests that arrived over HTTPS: RFC 6797 §7.2
// forbids it over plain HTTP (browsers ignore it there anyway).
const hsts = "max-age=31536000; includeSubDomains"

func secure(c fiber.Ctx) error {
	setSecurityHeaders(c)
	return c.Next()
}

// setSecurityHeaders sets securityHeaders, and HSTS when the request came
// over HTTPS: on a TLS connection, or through a proxy listed in
// TRUSTED_PROXIES that says X-Forwarded-Proto: https. Fiber's Scheme reads
// the forwarded headers only from trusted proxies, so anyone else sending
// X-Forwarded-Proto gets no HSTS.
func setSecurityHeaders(c fiber.Ctx) {
	for _, h := range securityHeaders {
		c.Set(h[0], h[1])
	}
	if c.Scheme() == "https" {
		c.Set("Strict-Transport-Security", hsts)
	}
}

// noStore keeps authenticated answers out of every cache between the API
// and the user.
func noStore(c fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// deadline gives the request's store calls one shared deadline, and ends
// them sooner when the client hangs up.
func (s *server) deadline(c fiber.Ctx) error {
	ctx, gone := context.WithCancelCause(context.Background())
	defer gone(nil)
	ctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	defer watchHangup(c, gone)()
	c.SetContext(ctx)
	return c.Next()
}

// rateHeaders writes the IETF draft's RateLimit headers (as
// express-rate-limit's standardHeaders) for the limiter's result.
func rateHeaders(c fiber.Ctx, limit, remaining int, reset, window time.Duration) {
	resetSec := int((reset + time.Second - 1) / time.Second)
	c.Set("RateLimit-Limit", strconv.Itoa(limit))
	c.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	c.Set("RateLimit-Reset", strconv.Itoa(resetSec))
	c.Set("RateLimit-Policy", strconv.Itoa(limit)+";w="+strconv.Itoa(int(window/time.Second)))
}
