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

// classify marks errors that mean "the database is unreachable or too
// slow" as failure.Unavailable, keeping the cause for the logs.
func classify(err error) error {
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, mongo.ErrClientDisconnected) {
		return &failure.Error{Kind: failure.Unavailable, Message: unavailableMessage, Err: err}
	}
	return err
}
