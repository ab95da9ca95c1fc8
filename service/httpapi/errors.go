package httpapi

import (
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/taskready/taskready/service/failure"
)

// statusOf maps failure kinds to HTTP statuses: the only such table.
var statusOf = map[failure.Kind]int{
	failure.Internal:     fiber.StatusInternalServerError,
	failure.Invalid:      fiber.StatusBadRequest,
	failure.Unauthorized: fiber.StatusUnauthorized,
	failure.NotFound:     fiber.StatusNotFound,
	failure.TooLarge:     fiber.StatusRequestEntityTooLarge,
	failure.TooMany:      fiber.StatusTooManyRequests,
	failure.Unavailable:  fiber.StatusServiceUnavailable,
	failure.Unsupported:  fiber.StatusUnsupportedMediaType,
}

// fiberMessages rewords the framework's own errors (no route, body too
// large, unreadable request) in the API's voice.
var fiberMessages = map[int]string{
	fiber.StatusNotFound:                    "Route not found",
	fiber.StatusMethodNotAllowed:            "Method not allowed",
	fiber.StatusRequestEntityTooLarge:       "Request body too large",
	fiber.StatusBadRequest:                  "Bad request",
	fiber.StatusRequestTimeout:              "Request timeout: the request did not arrive in time",
	fiber.StatusRequestHeaderFieldsTooLarge: "Request headers too large",
	fiber.StatusNotImplemented:              "Method not implemented",
}

type errorBody struct {
	Message string `json:"message"`
}

// errorHandler renders err as {message} with the matching status. It is
// Fiber's ErrorHandler and is also called by the access log middleware, so
// the log line records the status the client really got.
func (s *server) errorHandler(c fiber.Ctx, err error) error {
	var fe *fiber.Error
	if cause, ok := edgeError(c); ok {
		if !errors.As(err, &fe) {
			fe = fiber.NewError(fiber.StatusBadRequest)
		}
		return s.renderEdge(c, cause, fe)
	}
	if clientGone(c) {
		// Nobody reads this answer: 499 keeps work its client abandoned
		// out of the server-error counts, and says so in the log.
		return c.Status(statusClientClosed).JSON(errorBody{Message: "Client closed request"})
	}
	status, msg := fiber.StatusInternalServerError, failure.MessageOf(err)
	switch {
	case errors.As(err, &fe):
		status, msg = fe.Code, fiberMessages[fe.Code]
		if msg == "" {
			msg = fe.Message
		}
	default:
		status = statusOf[failure.KindOf(err)]
	}
	if status == fiber.StatusServiceUnavailable && c.GetRespHeader(fiber.HeaderRetryAfter) == "" {
		// Every 503 says when to come back, so that clients and proxies
		// retry after the outage instead of hammering it.
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((failure.RetryAfterOf(err)+time.Second-1)/time.Second)))
	}
	if status >= fiber.StatusInternalServerError {
		s.log.LogAttrs(c.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
	}
	return c.Status(status).JSON(errorBody{Message: msg})
}
