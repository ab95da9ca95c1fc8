package link_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/env/link"
)

// Each action's parameters in range, and out of it with a message that
// names the parameter.
func TestCheck(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		f    link.Fault
		want string // "" when valid
	}{
		{link.Fault{Action: link.Latency, Latency: ms(200), Jitter: ms(50)}, ""},
		{link.Fault{Action: link.Latency, Latency: ms(200), Jitter: ms(200)}, ""},
		{link.Fault{Action: link.Latency}, "latency: must be positive (got 0s)"},
		{link.Fault{Action: link.Latency, Latency: 1500 * time.Microsecond}, ""},
		{link.Fault{Action: link.Latency, Latency: 1500 * time.Nanosecond}, "latency: must be a whole number of microseconds (got 1.5µs)"},
		{link.Fault{Action: link.Latency, Latency: ms(200), Jitter: ms(300)}, "jitter: must be at most latency (200ms)"},
		{link.Fault{Action: link.Latency, Latency: ms(200), Jitter: -ms(1)}, "jitter: must be positive (got -1ms)"},
		{link.Fault{Action: link.Bandwidth, Rate: 16}, ""},
		{link.Fault{Action: link.Bandwidth}, "rate: must be at least 1 (got 0)"},
		{link.Fault{Action: link.Bandwidth, Rate: link.MaxRate + 1}, "rate: must be at most 10000000 (got 10000001)"},
		{link.Fault{Action: link.Timeout}, ""},
		{link.Fault{Action: link.Timeout, Timeout: time.Second}, ""},
		{link.Fault{Action: link.Timeout, Timeout: -time.Second}, "timeout: must be positive (got -1s)"},
		{link.Fault{Action: link.ResetPeer}, ""},
		{link.Fault{Action: link.ResetPeer, Timeout: time.Nanosecond}, "timeout: must be a whole number of milliseconds (got 1ns)"},
		{link.Fault{Action: link.SlowClose, Delay: time.Second}, ""},
		{link.Fault{Action: link.SlowClose}, "delay: must be positive (got 0s)"},
		{link.Fault{Action: link.Slicer, Size: 64, Variation: 16, Delay: time.Microsecond}, ""},
		{link.Fault{Action: link.Slicer, Size: 1}, ""},
		{link.Fault{Action: link.Slicer}, "size: must be at least 1 (got 0)"},
		{link.Fault{Action: link.Slicer, Size: 16, Variation: 16}, "variation: must be less than size (16)"},
		{link.Fault{Action: link.Slicer, Size: 16, Variation: -1}, "variation: must not be negative (got -1)"},
		{link.Fault{Action: link.Slicer, Size: 16, Delay: time.Nanosecond}, "delay: must be a whole number of microseconds (got 1ns)"},
		{link.Fault{Action: link.LimitData, Bytes: 1}, ""},
		{link.Fault{Action: link.LimitData}, "bytes: must be at least 1 (got 0)"},
		{link.Fault{Action: link.Down}, ""},
		{link.Fault{Action: "dwon"}, `unknown link action "dwon" (did you mean "down"?)`},
		{link.Fault{Action: "stop"}, `unknown link action "stop"`},
	}
	for _, tt := range tests {
		err := tt.f.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v; want nil", tt.f, err)
		case tt.want != "" && (!errors.Is(err, link.ErrInvalid) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Validate(%+v) = %v; want ErrInvalid saying %q", tt.f, err, tt.want)
		}
	}
}

// Parse reads harness fault's name=value parameters, and says what is
// wrong with them all at once.
func TestParse(t *testing.T) {
	tests := []struct {
		action string
		values map[string]string
		want   link.Fault
		err    []string
	}{
		{"latency", map[string]string{"latency": "200ms", "jitter": "50ms"},
			link.Fault{Action: link.Latency, Latency: 200 * time.Millisecond, Jitter: 50 * time.Millisecond}, nil},
		{"bandwidth", map[string]string{"rate": "16"}, link.Fault{Action: link.Bandwidth, Rate: 16}, nil},
		{"timeout", map[string]string{"timeout": "0s"}, link.Fault{Action: link.Timeout}, nil},
		{"reset_peer", nil, link.Fault{Action: link.ResetPeer}, nil},
		{"slow_close", map[string]string{"delay": "2s"}, link.Fault{Action: link.SlowClose, Delay: 2 * time.Second}, nil},
		{"slicer", map[string]string{"size": "64", "variation": "16", "delay": "1ms"},
			link.Fault{Action: link.Slicer, Size: 64, Variation: 16, Delay: time.Millisecond}, nil},
		{"limit_data", map[string]string{"bytes": "1024"}, link.Fault{Action: link.LimitData, Bytes: 1024}, nil},
		{"down", nil, link.Fault{Action: link.Down}, nil},

		{"latnecy", nil, link.Fault{}, []string{`unknown link action "latnecy" (did you mean "latency"?) (one of latency, bandwidth,`}},
		{"latency", map[string]string{"jitter": "5ms"}, link.Fault{}, []string{"latency is required: the delay added each way"}},
		{"latency", map[string]string{"latency": "200", "jiter": "5ms"}, link.Fault{},
			[]string{`latency "200" is not a duration such as 200ms`, `jiter does not apply to latency, which takes only latency, jitter (did you mean "jitter"?)`}},
		{"bandwidth", map[string]string{"rate": "fast"}, link.Fault{}, []string{`rate "fast" is not a whole number`}},
		{"bandwidth", map[string]string{"rate": "0"}, link.Fault{}, []string{"rate: must be at least 1 (got 0)"}},
		{"down", map[string]string{"for": "1s"}, link.Fault{}, []string{"for does not apply to down, which takes no parameter"}},
		{"slicer", map[string]string{"size": "8", "variation": "8"}, link.Fault{}, []string{"variation: must be less than size (8)"}},
	}
	for _, tt := range tests {
		f, err := link.Parse(tt.action, tt.values)
		if tt.err == nil {
			if err != nil || f != tt.want {
				t.Errorf("Parse(%s, %v) = %+v, %v; want %+v", tt.action, tt.values, f, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, link.ErrInvalid) {
			t.Errorf("Parse(%s, %v) = %v; want ErrInvalid", tt.action, tt.values, err)
			continue
		}
		for _, want := range tt.err {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Parse(%s, %v) = %v; want it to say %q", tt.action, tt.values, err, want)
			}
		}
	}
}

// Every parameter of every action is one a reader can set, of its kind,
// and ParamNames names each once.
func TestParams(t *testing.T) {
	var f link.Fault
	durations, counts := f.Durations(), f.Counts()
	for _, a := range link.Actions {
		for _, p := range link.Params(a) {
			if (p.Duration && durations[p.Name] == nil) || (!p.Duration && counts[p.Name] == nil) || p.Doc == "" {
				t.Errorf("%s: parameter %+v cannot be set as its kind, or is undocumented", a, p)
			}
		}
	}
	var names []string
	for name := range durations {
		names = append(names, name)
	}
	for name := range counts {
		names = append(names, name)
	}
	if !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(link.ParamNames))) {
		t.Errorf("ParamNames %v; the parameters are %v", link.ParamNames, names)
	}
	if link.Params("stop") != nil {
		t.Error("a component's action has link parameters")
	}
}

func TestDetail(t *testing.T) {
	for _, tt := range []struct {
		f    link.Fault
		want string
	}{
		{link.Fault{Action: link.Latency, Latency: 200 * time.Millisecond, Jitter: 50 * time.Millisecond}, "200ms ± 50ms"},
		{link.Fault{Action: link.Latency, Latency: 200 * time.Millisecond}, "200ms"},
		{link.Fault{Action: link.Bandwidth, Rate: 16}, "16 KB/s"},
		{link.Fault{Action: link.Timeout}, "forever"},
		{link.Fault{Action: link.Timeout, Timeout: 5 * time.Second}, "5s"},
		{link.Fault{Action: link.ResetPeer}, ""},
		{link.Fault{Action: link.ResetPeer, Timeout: time.Second}, "after 1s"},
		{link.Fault{Action: link.SlowClose, Delay: 2 * time.Second}, "2s"},
		{link.Fault{Action: link.Slicer, Size: 64}, "64 B"},
		{link.Fault{Action: link.Slicer, Size: 64, Variation: 16, Delay: time.Millisecond}, "64 ± 16 B, 1ms apart"},
		{link.Fault{Action: link.LimitData, Bytes: 1024}, "1024 B"},
		{link.Fault{Action: link.Down}, ""},
	} {
		if got := tt.f.Detail(); got != tt.want {
			t.Errorf("Detail(%+v) = %q; want %q", tt.f, got, tt.want)
		}
	}
}

// FuzzParse: whatever harness fault is given, Parse does not panic, an
// error wraps ErrInvalid, and what it accepts Validate accepts too, for
// its action.
func FuzzParse(f *testing.F) {
	f.Add("latency", "latency", "200ms", "jitter", "50ms")
	f.Add("slicer", "size", "64", "variation", "63")
	f.Add("slicer", "size", "1", "delay", "1us")
	f.Add("bandwidth", "rate", "16", "", "")
	f.Add("timeout", "timeout", "0s", "", "")
	f.Add("limit_data", "bytes", "-1", "bytes", "1")
	f.Add("down", "", "", "", "")
	f.Fuzz(func(t *testing.T, action, k1, v1, k2, v2 string) {
		values := map[string]string{}
		if k1 != "" {
			values[k1] = v1
		}
		if k2 != "" {
			values[k2] = v2
		}
		lf, err := link.Parse(action, values)
		if err != nil {
			if !errors.Is(err, link.ErrInvalid) {
				t.Fatalf("Parse(%q, %v) = %v; want ErrInvalid", action, values, err)
			}
			return
		}
		if lf.Action != action || lf.Validate() != nil {
			t.Fatalf("Parse(%q, %v) accepted %+v, which Validate refuses: %v", action, values, lf, lf.Validate())
		}
		if lf.Action == link.Slicer && (lf.Size < 1 || lf.Variation >= lf.Size) {
			t.Fatalf("accepted a slicer that could cut forever: %+v", lf)
		}
		_ = lf.Detail()
	})
}
