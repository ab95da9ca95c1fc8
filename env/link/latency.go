package link

import (
	"context"
	"math/rand/v2"
	"time"

	toxiproxytoxics "github.com/Shopify/toxiproxy/v2/toxics"

	"github.com/taskready/taskready/internal/clock"
)

// latencyToxic is the toxiproxy type of the latency action: toxiproxy's own
// latency toxic to the microsecond. Toxiproxy's counts in whole
// milliseconds and waits on a timer, which an idle process fires up to a
// millisecond late (see clock.Clock); the latency between services in
// one data centre is a few hundred microseconds, and a regression of 20%
// in a service answering in 5 ms is a millisecond, so a link that cannot
// add less than a millisecond each way, or adds it only roughly, cannot
// play either.
const latencyToxic = "taskready_latency"

func init() { toxiproxytoxics.Register(latencyToxic, new(preciseLatency)) }

// preciseLatency delays each chunk by Latency ± a uniform Jitter
// (microseconds) from the moment it was read, in order, on a clock.Clock.
type preciseLatency struct {
	Latency int64 `json:"latency_us"`
	Jitter  int64 `json:"jitter_us"`
}

// GetBufferSize is the chunks that may queue in front of the toxic, as
// toxiproxy's latency toxic allows.
func (t *preciseLatency) GetBufferSize() int { return 1024 }

func (t *preciseLatency) delay() time.Duration {
	d := t.Latency
	if t.Jitter > 0 {
		d += rand.Int64N(2*t.Jitter+1) - t.Jitter
	}
	return time.Duration(d) * time.Microsecond
}

// Pipe passes the chunks on, each when its delay is over. Toxiproxy
// interrupts a toxic (to add or remove another) by a send on
// stub.Interrupt, which a wait on the clock cannot select on: a watcher
// turns it into the context the wait ends with, and the chunk waiting then
// is passed on at once, never dropped.
func (t *preciseLatency) Pipe(stub *toxiproxytoxics.ToxicStub) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stub.Interrupt:
			cancel()
		case <-ctx.Done():
		}
	}()
	clk := clock.New()
	defer clk.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			due := c.Timestamp.Add(t.delay())
			if err := clk.Wait(ctx, due); err != nil {
				stub.Output <- c
				return
			}
			c.Timestamp = due
			stub.Output <- c
		}
	}
}
