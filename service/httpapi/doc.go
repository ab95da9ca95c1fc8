// Package httpapi serves the task API over HTTP with Fiber.
//
// A request flows through the middleware (request id, access log, metrics,
// recovery, security headers, CORS, compression, a per-request deadline),
// then route-specific guards (authentication, rate limits), then a handler
// that decodes, validates and calls a store. Every error, whatever its
// source, is turned into {"message": ...} by one error handler, which maps
// failure kinds to statuses and masks internal errors.
//
// edge.go handles what comes before routing: requests fasthttp could not
// read (timeouts, bodies or headers too large), unknown methods, request
// lines that are not UTF-8 and ambiguous body framing.
//
// The contract this package keeps is the original Express task manager's
// (docs/API.md); openapi.json describes exactly the routes New registers,
// and a test holds the two together.
package httpapi
