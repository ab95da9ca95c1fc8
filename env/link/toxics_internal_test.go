package link

import (
	"maps"
	"testing"
	"time"
)

// The toxics of a fault carry its parameters in toxiproxy's units
// (milliseconds, the slicer's delay in microseconds), one toxic each
// way, named after the fault.
func TestToxics(t *testing.T) {
	tests := []struct {
		f    Fault
		want map[string]int64
	}{
		{Fault{Action: Latency, Latency: 200 * time.Millisecond, Jitter: 50 * time.Millisecond}, map[string]int64{"latency_us": 200000, "jitter_us": 50000}},
		{Fault{Action: Latency, Latency: 250 * time.Microsecond}, map[string]int64{"latency_us": 250, "jitter_us": 0}},
		{Fault{Action: Bandwidth, Rate: 16}, map[string]int64{"rate": 16}},
		{Fault{Action: Timeout, Timeout: 2 * time.Second}, map[string]int64{"timeout": 2000}},
		{Fault{Action: ResetPeer, Timeout: 300 * time.Millisecond}, map[string]int64{"timeout": 300}},
		{Fault{Action: SlowClose, Delay: time.Second}, map[string]int64{"delay": 1000}},
		{Fault{Action: Slicer, Size: 64, Variation: 16, Delay: 3 * time.Millisecond}, map[string]int64{"average_size": 64, "size_variation": 16, "delay": 3000}},
		{Fault{Action: LimitData, Bytes: 99}, map[string]int64{"bytes": 99}},
	}
	for _, tt := range tests {
		ts := toxics("f", tt.f)
		if len(ts) != 2 || ts[0].Stream != "upstream" || ts[1].Stream != "downstream" || ts[0].Name == ts[1].Name {
			t.Fatalf("%s: toxics %+v; want one upstream and one downstream, named apart", tt.f.Action, ts)
		}
		for _, x := range ts {
			typ := tt.f.Action
			if typ == Latency {
				typ = latencyToxic
			}
			if x.Type != typ || x.Toxicity != 1 || !maps.Equal(x.Attributes, tt.want) {
				t.Errorf("%s: toxic %+v; want type %s, toxicity 1, attributes %v", tt.f.Action, x, typ, tt.want)
			}
		}
	}
}
