package httpapi

import (
	"bytes"
	"errors"
	"log/slog"
	"unicode/utf8"

	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"

	"github.com/taskready/taskready/service/failure"
	"github.com/taskready/taskready/service/metrics"
)

// This file is the API at its HTTP edge: what happens to a request before
// (or instead of) routing. fasthttp calls its ErrorHandler, which Fiber
// fills with its own serverErrorHandler, for a request it could not read:
// a read timeout, a body over BODY_LIMIT, headers over the read buffer, a
// malformed request. Fiber then runs the app's Use middleware on a fresh
// ctx (which, without a marker, observe logged and counted as
// "GET / 404 unmatched") and finally the app's error handler. Unknown
// methods never reach the middleware at all: Fiber answers a bare 501.

// edgeKey marks, in the fasthttp ctx's user values, a request fasthttp
// could not read; the value is fasthttp's error.
type edgeKey struct{}

// errUnknownMethod is worded as fasthttp words it, so that Fiber's
// serverErrorHandler maps it to 501 like its own.
var errUnknownMethod = errors.New("unsupported http request method")

var (
	errBadPath      = failure.New(failure.Invalid, "Request path must be valid UTF-8, also once percent-decoded")
	errBadQuery     = failure.New(failure.Invalid, "Query string must be valid UTF-8, also once percent-decoded")
	errAmbiguousLen = failure.New(failure.Invalid, "Request has both Content-Length and Transfer-Encoding; send one")
)

// lingerer is implemented by the connections of service/listener: asked
// before the connection closes, it reads and discards what the client is
// still sending, so the client reads our answer instead of a reset.
type lingerer interface{ LingerOnClose() }

// linger asks for a lingering close of c's connection, where it can.
func linger(c fiber.Ctx) {
	if l, ok := c.RequestCtx().Conn().(lingerer); ok {
		l.LingerOnClose()
	}
}

// installEdge wraps app's fasthttp handlers: requests fasthttp could not
// read are marked before Fiber's own handling, and requests with a method
// Fiber does not know go through the same path instead of a plain-text 501.
func (s *server) installEdge(app *fiber.App) {
	srv := app.Server()
	// fasthttp's errors quote the request (headers, cookies, tokens) unless
	// told not to; they reach our log below.
	srv.SecureErrorLogMessage = true
	fiberErrors := srv.ErrorHandler
	srv.ErrorHandler = func(ctx *fasthttp.RequestCtx, err error) {
		ctx.SetUserValue(edgeKey{}, err)
		fiberErrors(ctx, err)
	}
	methods := make([][]byte, 0, len(app.Config().RequestMethods))
	for _, m := range app.Config().RequestMethods {
		methods = append(methods, []byte(m))
	}
	route := srv.Handler
	srv.Handler = func(ctx *fasthttp.RequestCtx) {
		for _, m := range methods {
			if bytes.Equal(m, ctx.Method()) {
				route(ctx)
				return
			}
		}
		srv.ErrorHandler(ctx, errUnknownMethod)
	}
}

// edgeError returns fasthttp's error when c is a request fasthttp could
// not read (see installEdge).
func edgeError(c fiber.Ctx) (error, bool) {
	err, ok := c.RequestCtx().UserValue(edgeKey{}).(error)
	return err, ok
}

// renderEdge answers a request fasthttp could not read; mapped is Fiber's
// reading of cause. Timeouts and vanished clients are connection events,
// counted and logged as such; the rest are real (if unroutable) requests.
func (s *server) renderEdge(c fiber.Ctx, cause error, mapped *fiber.Error) error {
	edgeHeaders(c)
	ctx := c.Context()
	switch mapped.Code {
	case fiber.StatusRequestTimeout:
		s.metrics.ConnTimeouts.Inc()
		s.log.LogAttrs(ctx, slog.LevelInfo, "connection timed out before a complete request",
			slog.String("ip", c.IP()), slog.String("error", cause.Error()))
		// fasthttp writes this answer; a slow client still there learns why.
		return c.Status(fiber.StatusRequestTimeout).JSON(errorBody{Message: fiberMessages[fiber.StatusRequestTimeout]})
	case fiber.StatusBadGateway: // Fiber's reading of any other network error
		s.metrics.ConnAborts.Inc()
		s.log.LogAttrs(ctx, slog.LevelDebug, "connection lost in the middle of a request",
			slog.String("ip", c.IP()), slog.String("error", cause.Error()))
		return c.Status(fiber.StatusBadRequest).JSON(errorBody{Message: fiberMessages[fiber.StatusBadRequest]})
	}

	status, msg := mapped.Code, fiberMessages[mapped.Code]
	if msg == "" || status >= fiber.StatusInternalServerError && status != fiber.StatusNotImplemented {
		// Whatever else fasthttp refuses is the client's malformed request;
		// its error text (which quotes the request) stays in the log.
		status, msg = fiber.StatusBadRequest, fiberMessages[fiber.StatusBadRequest]
	}
	if status != fiber.StatusNotImplemented {
		// The request was not read to its end: drain it before closing.
		linger(c)
	}
	// Not c.Method(): Fiber's panics (index -1) on a method it does not know.
	method := string(c.RequestCtx().Method())
	if !known(c.App(), method) {
		method = "OTHER" // a client's word must not become a label
	}
	// Counted as a request, but with no duration: fasthttp gives no start
	// time for a request it could not read.
	s.metrics.Requests.WithLabelValues(method, "unmatched", metrics.StatusClass(status)).Inc()
	s.log.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("request_id", requestID(c)),
		slog.String("method", clip(method)),
		slog.String("route", "unmatched"),
		slog.Int("status", status),
		// Not cause's text: even "secure" fasthttp errors quote a malformed
		// header line, which may hold a token.
		slog.String("refused", edgeReasons[status]),
		slog.String("ip", c.IP()),
	)
	return c.Status(status).JSON(errorBody{Message: msg})
}

// edgeReasons say in the log why fasthttp refused a request.
var edgeReasons = map[int]string{
	fiber.StatusBadRequest:                  "malformed request",
	fiber.StatusRequestEntityTooLarge:       "body over BODY_LIMIT",
	fiber.StatusRequestHeaderFieldsTooLarge: "request line and headers over the read buffer",
	fiber.StatusNotImplemented:              "method unknown to the router",
	fiber.StatusMethodNotAllowed:            "method not allowed",
}

// known reports whether Fiber routes method.
func known(app *fiber.App, method string) bool {
	for _, m := range app.Config().RequestMethods {
		if m == method {
			return true
		}
	}
	return false
}

// edgeHeaders gives an edge answer what the middleware gives the others:
// observe stops the middleware at once for these, and for unknown methods
// it does not run at all.
func edgeHeaders(c fiber.Ctx) {
	if requestID(c) == "" {
		id := newRequestID()
		c.Locals(requestIDKey, id)
		c.Set(fiber.HeaderXRequestID, id)
	}
	setSecurityHeaders(c)
}

// checkTarget refuses a request line whose path or query is not valid
// UTF-8, raw or percent-decoded, before any handler (or store, which
// answered such a search with a 500) sees it.
func checkTarget(c fiber.Ctx) error {
	path, query, _ := bytes.Cut(c.RequestCtx().Request.Header.RequestURI(), []byte("?"))
	if !utf8.Valid(path) || !utf8.Valid(percentDecode(path)) {
		return errBadPath
	}
	if !utf8.Valid(query) || !utf8.Valid(percentDecode(query)) {
		return errBadQuery
	}
	return nil
}

// percentDecode decodes every valid %XX escape of b and keeps everything
// else, as lenient decoders do. Decoding the whole query at once is
// enough: each parameter's decoded key and value is a piece of the result
// cut at an ASCII '&' or '=', and such a piece of valid UTF-8 is valid.
func percentDecode(b []byte) []byte {
	if bytes.IndexByte(b, '%') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// checkFraming refuses a request carrying both Content-Length and
// Transfer-Encoding, and closes its connection. fasthttp lets
// Transfer-Encoding win, as RFC 9112 §6.3 allows, but a proxy in front may
// have framed the body by Content-Length: what we read as the next request
// on the connection would then be a request smuggled past the proxy. RFC
// 9112 asks the server to close the connection either way; closing is what
// keeps anything after this request from being served.
func checkFraming(c fiber.Ctx) error {
	raw := c.RequestCtx().Request.Header.RawHeaders()
	if hasHeader(raw, "content-length") && hasHeader(raw, "transfer-encoding") {
		c.RequestCtx().SetConnectionClose()
		linger(c) // what follows is discarded unread, never parsed
		return errAmbiguousLen
	}
	return nil
}

// hasHeader reports whether the raw header block has a field named name
// (lower case).
func hasHeader(raw []byte, name string) bool {
	for len(raw) > 0 {
		var line []byte
		line, raw, _ = bytes.Cut(raw, []byte("\n"))
		key, _, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(key), []byte(name)) {
			return true
		}
	}
	return false
}

// edge is the first middleware after observe: request-line and framing
// checks that no handler should have to repeat.
func edge(c fiber.Ctx) error {
	err := checkFraming(c)
	if err == nil {
		err = checkTarget(c)
	}
	if err != nil {
		c.Locals(unroutedKey, true)
		return err
	}
	return c.Next()
}
