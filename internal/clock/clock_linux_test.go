//go:build linux

package clock

import (
	"context"
	"testing"
	"time"
)

// TestPreciseClockCatchesUpAtOnce: right after a wake, a moment already
// past starts no wait, wakeGrain or not: a loop that fell behind must
// catch up at once, not one moment per grain.
func TestPreciseClockCatchesUpAtOnce(t *testing.T) {
	clock, err := newPreciseClock()
	if err != nil {
		t.Skipf("no timerfd here: %v", err)
	}
	c := clock.(*timerfdClock)
	defer c.Close()
	ctx := context.Background()
	if err := c.Wait(ctx, time.Now().Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	c.armed = true // Wait clears it when it starts a wait
	for i := range 100 {
		if err := c.Wait(ctx, time.Now().Add(-time.Duration(i+1)*time.Microsecond)); err != nil {
			t.Fatal(err)
		}
		if !c.armed {
			t.Fatalf("moment %d, already past, started a wait", i)
		}
	}
	// A future moment within wakeGrain of the last wake waits until the
	// grain has passed, never less.
	if err := c.Wait(ctx, time.Now().Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	woke := c.last
	if err := c.Wait(ctx, woke.Add(wakeGrain/2)); err != nil {
		t.Fatal(err)
	}
	// (Unless this goroutine was held up past the moment: then nothing
	// waited, and there is nothing to check.)
	if gap := c.last.Sub(woke); c.last != woke && gap < wakeGrain {
		t.Errorf("woke again %s after the last wake, want at least %s", gap, wakeGrain)
	}
}
