package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/service/health"
)

// secretCause is an error text that must stay in the logs.
const secretCause = "dial tcp 10.1.2.3:27017: auth failed for user admin password hunter2"

func ok(context.Context) error   { return nil }
func down(context.Context) error { return errors.New(secretCause) }

// blocked waits for its context to end, as a probe of a hung server does.
func blocked(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func mongo(check func(context.Context) error) health.Probe {
	return health.Probe{Name: "mongodb", ComponentType: "datastore", Critical: true, Check: check}
}

func redis(check func(context.Context) error) health.Probe {
	return health.Probe{Name: "redis", ComponentType: "cache", Critical: false, Check: check}
}

func TestCheckStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		probes []health.Probe
		want   string
		checks map[string]string // probe name -> its status
	}{
		{"no probes", nil, health.Pass, map[string]string{}},
		{"all pass", []health.Probe{mongo(ok), redis(ok)}, health.Pass, map[string]string{"mongodb": health.Pass, "redis": health.Pass}},
		{"non-critical fails", []health.Probe{mongo(ok), redis(down)}, health.Warn, map[string]string{"mongodb": health.Pass, "redis": health.Fail}},
		{"critical fails", []health.Probe{mongo(down), redis(ok)}, health.Fail, map[string]string{"mongodb": health.Fail, "redis": health.Pass}},
		{"both fail", []health.Probe{mongo(down), redis(down)}, health.Fail, map[string]string{"mongodb": health.Fail, "redis": health.Fail}},
		{"both fail, non-critical first", []health.Probe{redis(down), mongo(down)}, health.Fail, map[string]string{"mongodb": health.Fail, "redis": health.Fail}},
		{"critical times out", []health.Probe{mongo(blocked), redis(ok)}, health.Fail, map[string]string{"mongodb": health.Fail, "redis": health.Pass}},
		{"non-critical times out", []health.Probe{mongo(ok), redis(blocked)}, health.Warn, map[string]string{"mongodb": health.Pass, "redis": health.Fail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A second, not a few milliseconds: a probe that passes must
			// not time out while a busy machine has not yet run it.
			r := health.NewChecker(time.Second, tt.probes...).Check(context.Background())
			if got := r.Status; got != tt.want {
				t.Errorf("Check().Status = %q; want %q", got, tt.want)
			}
			if got, want := len(r.Checks), len(tt.checks); got != want {
				t.Errorf("Check() has %d checks; want %d: %+v", got, want, r.Checks)
			}
			for name, want := range tt.checks {
				entries := r.Checks[name+":responseTime"]
				if len(entries) != 1 {
					t.Errorf("Checks[%q] = %+v; want one entry", name+":responseTime", entries)
					continue
				}
				c := entries[0]
				if c.Status != want {
					t.Errorf("Checks[%s].Status = %q; want %q", name, c.Status, want)
				}
				if (c.Output != "") != (want == health.Fail) {
					t.Errorf("Checks[%s].Output = %q; want output only on failure", name, c.Output)
				}
				if got, want := c.ObservedUnit, "ms"; got != want {
					t.Errorf("Checks[%s].ObservedUnit = %q; want %q", name, got, want)
				}
				if c.ObservedValue < 0 {
					t.Errorf("Checks[%s].ObservedValue = %v; want >= 0", name, c.ObservedValue)
				}
				if c.Time.IsZero() || c.Time.Location() != time.UTC {
					t.Errorf("Checks[%s].Time = %v; want a UTC time", name, c.Time)
				}
			}
		})
	}
}

func TestCheckReportFields(t *testing.T) {
	t.Parallel()
	r := health.NewChecker(time.Second, mongo(ok), redis(down)).Check(context.Background())
	if got, want := r.ServiceID, "taskapi"; got != want {
		t.Errorf("ServiceID = %q; want %q", got, want)
	}
	if r.Description == "" {
		t.Errorf("Description is empty")
	}
	tests := []struct {
		key, componentType, output string
	}{
		{"mongodb:responseTime", "datastore", ""},
		{"redis:responseTime", "cache", "redis unreachable (degraded: serving without it)"},
	}
	for _, tt := range tests {
		c := r.Checks[tt.key]
		if len(c) != 1 {
			t.Fatalf("Checks[%q] = %+v; want one entry", tt.key, c)
		}
		if got := c[0].ComponentType; got != tt.componentType {
			t.Errorf("Checks[%q].ComponentType = %q; want %q", tt.key, got, tt.componentType)
		}
		if got := c[0].Output; got != tt.output {
			t.Errorf("Checks[%q].Output = %q; want %q", tt.key, got, tt.output)
		}
	}
	r = health.NewChecker(time.Second, mongo(down)).Check(context.Background())
	if got, want := r.Checks["mongodb:responseTime"][0].Output, "mongodb unreachable"; got != want {
		t.Errorf("critical failure Output = %q; want %q", got, want)
	}
}

func TestCheckNeverLeaksTheCause(t *testing.T) {
	t.Parallel()
	r := health.NewChecker(50*time.Millisecond, mongo(down), redis(down), health.Probe{Name: "slow", Check: blocked}).Check(context.Background())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{secretCause, "hunter2", "10.1.2.3", "dial tcp", context.DeadlineExceeded.Error()} {
		if strings.Contains(string(b), leak) {
			t.Errorf("report %s contains %q", b, leak)
		}
	}
}

func TestCheckCutsBlockedProbeAtTimeout(t *testing.T) {
	t.Parallel()
	done := make(chan health.Report, 1)
	go func() {
		done <- health.NewChecker(50*time.Millisecond, mongo(blocked)).Check(context.Background())
	}()
	select {
	case r := <-done:
		if got, want := r.Status, health.Fail; got != want {
			t.Errorf("Check().Status = %q; want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Check did not return: the probe's deadline was not applied")
	}
}

func TestCheckHonoursCallerContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A caller that already gave up gets a failing report at once, even
	// with a long probe timeout.
	r := health.NewChecker(time.Hour, mongo(blocked)).Check(ctx)
	if got, want := r.Status, health.Fail; got != want {
		t.Errorf("Check(cancelled).Status = %q; want %q", got, want)
	}
}

func TestCheckRunsProbesConcurrently(t *testing.T) {
	t.Parallel()
	// Each probe waits for the other to start: run one after the other,
	// both would time out and fail.
	started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	probe := func(mine, other int) func(context.Context) error {
		return func(ctx context.Context) error {
			close(started[mine])
			select {
			case <-started[other]:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	r := health.NewChecker(5*time.Second,
		health.Probe{Name: "a", Critical: true, Check: probe(0, 1)},
		health.Probe{Name: "b", Critical: true, Check: probe(1, 0)},
	).Check(context.Background())
	if got, want := r.Status, health.Pass; got != want {
		t.Errorf("Check().Status = %q; want %q (probes must run concurrently)", got, want)
	}
}
