package mongo

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/taskready/taskready/service/failure"
)

// labelled is a driver error carrying labels, as the driver's own are.
type labelled struct {
	error
	labels []string
}

func (l labelled) Unwrap() error { return l.error }

func (l labelled) HasErrorLabel(label string) bool {
	for _, x := range l.labels {
		if x == label {
			return true
		}
	}
	return false
}

func TestUnreachableAndClassify(t *testing.T) {
	network := labelled{errors.New("connection refused"), []string{"NetworkError"}}
	slowRead := labelled{fmt.Errorf("read: %w", context.DeadlineExceeded), []string{"NetworkError"}}
	tests := []struct {
		name        string
		err         error
		unreachable bool
		kind        failure.Kind
	}{
		{"network error", fmt.Errorf("find: %w", network), true, failure.Unavailable},
		{"no server selectable", fmt.Errorf("find: %w", topology.ServerSelectionError{Wrapped: errors.New("no primary")}), true, failure.Unavailable},
		{"client disconnected", mongo.ErrClientDisconnected, true, failure.Unavailable},
		// Under load the request's deadline cuts reads short: 503, but the
		// database is not gone, so the breaker stays closed.
		{"the request's deadline mid-read", fmt.Errorf("find: %w", slowRead), false, failure.Unavailable},
		{"the request's deadline", fmt.Errorf("find: %w", context.DeadlineExceeded), false, failure.Unavailable},
		{"the client went away", fmt.Errorf("find: %w", context.Canceled), false, failure.Unavailable},
		{"a primary stepping down", mongo.CommandError{Code: 189, Message: "PrimarySteppedDown"}, false, failure.Unavailable},
		{"a bug is still a bug", errors.New("cannot decode"), false, failure.Internal},
		{"a refused command is not an outage", mongo.CommandError{Code: 2, Message: "BadValue"}, false, failure.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unreachable(tt.err); got != tt.unreachable {
				t.Errorf("unreachable = %v; want %v", got, tt.unreachable)
			}
			if got := failure.KindOf(classify(tt.err)); got != tt.kind {
				t.Errorf("classify kind = %v; want %v", got, tt.kind)
			}
		})
	}
}
