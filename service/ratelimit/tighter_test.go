package ratelimit

import (
	"testing"
	"time"
)

func TestTighter(t *testing.T) {
	t.Parallel()
	ok := func(remaining int, reset time.Duration) Result {
		return Result{Allowed: true, Limit: 5, Remaining: remaining, Reset: reset}
	}
	refused := func(reset time.Duration) Result {
		return Result{Allowed: false, Limit: 5, Remaining: 0, Reset: reset}
	}
	tests := []struct {
		name string
		a, b Result
		want Result
	}{
		{"refused beats allowed", ok(4, time.Minute), refused(time.Second), refused(time.Second)},
		{"refused beats allowed, swapped", refused(time.Second), ok(4, time.Minute), refused(time.Second)},
		{"fewer remaining wins", ok(1, time.Second), ok(3, time.Minute), ok(1, time.Second)},
		{"fewer remaining wins, swapped", ok(3, time.Minute), ok(1, time.Second), ok(1, time.Second)},
		{"same remaining", ok(2, time.Minute), ok(2, time.Minute), ok(2, time.Minute)},
		// Both keys refuse: the client may retry only when both windows
		// have ended, so RateLimit-Reset / Retry-After must be the later
		// reset, whichever key it belongs to.
		{"both refused, later reset first", refused(10 * time.Minute), refused(time.Minute), refused(10 * time.Minute)},
		{"both refused, later reset second", refused(time.Minute), refused(10 * time.Minute), refused(10 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tighter(tt.a, tt.b); got != tt.want {
				t.Errorf("tighter(%+v, %+v) = %+v; want %+v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestLocalCount(t *testing.T) {
	t.Parallel()
	const w = time.Minute
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLocal(w)
	tests := []struct {
		name      string
		key       string
		at        time.Time
		wantN     int
		wantReset time.Duration
	}{
		{"first", "k", start, 1, w},
		{"second, later", "k", start.Add(10 * time.Second), 2, 50 * time.Second},
		{"other key", "j", start.Add(10 * time.Second), 1, w},
		{"last instant of the window", "k", start.Add(w - time.Nanosecond), 3, time.Nanosecond},
		{"window ended", "k", start.Add(w), 1, w},
		{"after a sweep", "j", start.Add(3 * w), 1, w},
	}
	// Sequential: each row builds on the previous counts.
	for _, tt := range tests {
		n, reset := l.count(tt.key, tt.at)
		if n != tt.wantN || reset != tt.wantReset {
			t.Errorf("%s: count(%q, +%v) = %d, %v; want %d, %v", tt.name, tt.key, tt.at.Sub(start), n, reset, tt.wantN, tt.wantReset)
		}
	}
	if got, want := len(l.counts), 1; got != want {
		t.Errorf("after a sweep %d windows are kept; want %d (expired ones dropped)", got, want)
	}
}
