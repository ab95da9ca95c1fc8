package mongo

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/taskready/taskready/service/failure"
)

// unavailableMessage is what a client sees while the database cannot be
// reached: a retryable 503, not a 500 that reads like a bug.
const unavailableMessage = "Service temporarily unavailable, please retry"

// transientCodes are server error codes that say "not now" rather than
// "never": no primary, shutting down, a step-down, an operation killed for
// time or a lock. Retrying later can succeed, so the client gets a 503.
var transientCodes = map[int32]bool{
	6: true, 7: true, 46: true, 89: true, 91: true, 189: true, 262: true, 9001: true,
	10107: true, 11600: true, 11602: true, 13435: true, 13436: true,
}

// classify marks errors that mean "the database is unreachable, too slow
// or not taking writes right now" as failure.Unavailable (503 with
// Retry-After), keeping the cause for the logs. Under load the request's
// deadline ends store calls in many places (pool checkout, server
// selection, a cursor's next batch); each is a retryable 503, never a 500.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var cmd mongo.CommandError
	var server mongo.ServerError
	transient := errors.As(err, &cmd) && transientCodes[cmd.Code] ||
		errors.As(err, &server) && (server.HasErrorLabel("RetryableWriteError") || server.HasErrorLabel("TransientTransactionError"))
	if transient || unreachable(err) || mongo.IsTimeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &failure.Error{Kind: failure.Unavailable, Message: unavailableMessage, Err: err}
	}
	return err
}
