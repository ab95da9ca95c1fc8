package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
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

// TestReadinessPingTellsTheGuard: a ready instance serves (a successful
// readiness ping closes an open guard), an unreachable server trips it,
// and a slow ping changes nothing.
func TestReadinessPingTellsTheGuard(t *testing.T) {
	network := labelled{errors.New("connection refused"), []string{"NetworkError"}}
	for _, tt := range []struct {
		name     string
		open     bool
		ping     error
		wantOpen bool
	}{
		{"success closes an open guard", true, nil, false},
		{"success keeps it closed", false, nil, false},
		{"unreachable trips it", false, network, true},
		{"a slow ping does not trip it", false, context.DeadlineExceeded, false},
		{"a slow ping does not close it", true, context.DeadlineExceeded, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuard(func(context.Context) error { return tt.ping }, slog.New(slog.DiscardHandler))
			if tt.open {
				g.b.Trip()
			}
			if err := g.Ping(context.Background()); fmt.Sprint(err) != fmt.Sprint(tt.ping) {
				t.Fatalf("Ping = %v; want %v", err, tt.ping)
			}
			_, done, err := g.enter(context.Background())
			if err == nil {
				done()
			}
			if open := err != nil; open != tt.wantOpen {
				t.Errorf("after Ping(%v) the guard admits: %v; want open %v", tt.ping, err, tt.wantOpen)
			}
		})
	}
}

// TestAvailableGauge: taskapi_mongo_available follows the breaker, as
// the alert on an open breaker reads it.
func TestAvailableGauge(t *testing.T) {
	g := newGuard(func(context.Context) error { return nil }, slog.New(slog.DiscardHandler))
	gauge := g.Collector()
	for _, step := range []struct {
		name string
		act  func()
		want float64
	}{
		{"a new guard is closed", func() {}, 1},
		{"tripped", g.b.Trip, 0},
		{"reset", g.b.Reset, 1},
	} {
		step.act()
		if got := testutil.ToFloat64(gauge); got != step.want {
			t.Errorf("%s: %s = %v; want %v", step.name, AvailableName, got, step.want)
		}
	}
}

// TestCheckoutFailuresStartAtZero: every checkout failure reason is a
// series before the first failure, so that rate() sees the first one.
func TestCheckoutFailuresStartAtZero(t *testing.T) {
	m := NewMonitor()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, f := range families {
		if f.GetName() != "taskapi_mongo_pool_checkout_failures_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			if s.GetCounter().GetValue() != 0 {
				t.Errorf("%v = %v before any failure", s.GetLabel(), s.GetCounter().GetValue())
			}
			for _, l := range s.GetLabel() {
				reasons = append(reasons, l.GetValue())
			}
		}
	}
	slices.Sort(reasons)
	if want := []string{"connectionError", "poolClosed", "timeout"}; !slices.Equal(reasons, want) {
		t.Errorf("checkout failure reasons before any failure: %v; want %v", reasons, want)
	}
}
