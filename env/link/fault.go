package link

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/internal/spelling"
)

// The actions a link can undergo, by toxiproxy's names for its toxics
// (and Down, its disabled proxy). Each acts on both directions: what the
// clients send and what they are answered.
const (
	Latency   = "latency"    // every chunk waits Latency ± Jitter, each way
	Bandwidth = "bandwidth"  // at most Rate KB/s pass each way
	Timeout   = "timeout"    // nothing passes; closed after Timeout of it (0: held open)
	ResetPeer = "reset_peer" // a connection is reset once data crosses it (Timeout later)
	SlowClose = "slow_close" // a close waits Delay before it is passed on
	Slicer    = "slicer"     // data cut into slices of Size ± Variation bytes, Delay apart
	LimitData = "limit_data" // closed once Bytes have passed one way
	Down      = "down"       // not listening: connections refused, open ones closed
)

// Actions are every action a link can undergo.
var Actions = []string{Latency, Bandwidth, Timeout, ResetPeer, SlowClose, Slicer, LimitData, Down}

// MaxRate is the highest bandwidth limit, in KB/s: 10 GB/s, beyond which
// a limit limits nothing a test sends.
const MaxRate = 10_000_000

// Fault is an action on a link and its parameters; the parameters its
// action does not take are zero.
type Fault struct {
	Action string // one of Actions

	Latency, Jitter time.Duration // latency: each chunk waits Latency ± a uniform Jitter
	Rate            int64         // bandwidth: KB/s (1 KB = 1000 bytes)
	// Timeout is, for timeout, how long a connection stalls before it is
	// closed (0: until the fault ends); for reset_peer, how long after
	// data first crosses a connection it is reset.
	Timeout time.Duration
	Delay   time.Duration // slow_close: before a close passes; slicer: between slices
	Size    int64         // slicer: the average slice, in bytes
	// Variation is how far a slice's size may stray from Size, either
	// way (slicer); less than Size.
	Variation int64
	Bytes     int64 // limit_data: what may pass each way before the close
}

// Param is a parameter of an action, by the name scenario files and
// harness fault give it.
type Param struct {
	Name     string
	Required bool
	Duration bool   // a duration (250ms, 2s), else a whole number
	Doc      string // what it is: "the delay added each way"
}

// params are the parameters of each action, in the order harness fault
// takes bare values in.
var params = map[string][]Param{
	Latency: {
		{Name: "latency", Required: true, Duration: true, Doc: "the delay added each way"},
		{Name: "jitter", Duration: true, Doc: "each delay is latency ± up to this, at most latency"},
	},
	Bandwidth: {{Name: "rate", Required: true, Doc: "the most KB/s that pass each way (1 KB = 1000 bytes)"}},
	Timeout: {{Name: "timeout", Required: true, Duration: true,
		Doc: "how long a connection passes nothing before it is closed; 0s holds it open until the fault ends"}},
	ResetPeer: {{Name: "timeout", Duration: true, Doc: "how long after data first crosses a connection it is reset (default 0s: at once)"}},
	SlowClose: {{Name: "delay", Required: true, Duration: true, Doc: "how long a close waits before it is passed on"}},
	Slicer: {
		{Name: "size", Required: true, Doc: "the average slice, in bytes"},
		{Name: "variation", Doc: "how many bytes a slice may stray from size, either way; less than size"},
		{Name: "delay", Duration: true, Doc: "the wait between slices"},
	},
	LimitData: {{Name: "bytes", Required: true, Doc: "how many bytes pass each way before the connection is closed"}},
	Down:      nil,
}

// Params are the parameters action takes; none for Down or an action
// that is not a link's.
func Params(action string) []Param { return params[action] }

// ParamNames are the names of every action's parameters.
var ParamNames = []string{"latency", "jitter", "rate", "timeout", "delay", "size", "variation", "bytes"}

// Problem is a parameter out of its range, or a fault that is no link's.
type Problem struct {
	Param string // "" when the problem is the action
	Msg   string
}

// Error is "jitter: must be at most latency (200ms)".
func (p Problem) Error() string {
	if p.Param == "" {
		return p.Msg
	}
	return p.Param + ": " + p.Msg
}

// ErrInvalid is the error of a fault that cannot be applied as it is.
var ErrInvalid = errors.New("invalid link fault")

// Check returns what is wrong with f's action and with the values of the
// parameters it takes. It cannot tell a parameter left out from one given
// as zero: a reader of text checks Param.Required itself.
func (f Fault) Check() []Problem {
	var out []Problem
	bad := func(param, format string, args ...any) {
		out = append(out, Problem{Param: param, Msg: fmt.Sprintf(format, args...)})
	}
	// A duration toxiproxy counts in unit must be whole units of it.
	duration := func(param string, d, unit time.Duration, positive bool) {
		switch {
		case d < 0 || d == 0 && positive:
			bad(param, "must be positive (got %s)", d)
		case d%unit != 0:
			bad(param, "must be a whole number of %s (got %s)", unitName[unit], d)
		}
	}
	count := func(param string, n, lo, hi int64) {
		switch {
		case n < lo:
			bad(param, "must be at least %d (got %d)", lo, n)
		case n > hi:
			bad(param, "must be at most %d (got %d)", hi, n)
		}
	}
	switch f.Action {
	case Latency:
		duration("latency", f.Latency, time.Microsecond, true)
		duration("jitter", f.Jitter, time.Microsecond, false)
		if f.Latency > 0 && f.Jitter > f.Latency {
			bad("jitter", "must be at most latency (%s)", f.Latency)
		}
	case Bandwidth:
		count("rate", f.Rate, 1, MaxRate)
	case Timeout, ResetPeer:
		duration("timeout", f.Timeout, time.Millisecond, false)
	case SlowClose:
		duration("delay", f.Delay, time.Millisecond, true)
	case Slicer:
		count("size", f.Size, 1, 1<<30)
		switch {
		case f.Variation < 0:
			bad("variation", "must not be negative (got %d)", f.Variation)
		case f.Size > 0 && f.Variation >= f.Size:
			bad("variation", "must be less than size (%d)", f.Size)
		}
		duration("delay", f.Delay, time.Microsecond, false)
	case LimitData:
		count("bytes", f.Bytes, 1, 1<<62)
	case Down:
	default:
		bad("", "unknown link action %q%s", f.Action, didYouMean(f.Action, Actions))
	}
	return out
}

var unitName = map[time.Duration]string{time.Millisecond: "milliseconds", time.Microsecond: "microseconds"}

// Validate is Check as one error wrapping ErrInvalid, nil when f is
// fine.
func (f Fault) Validate() error {
	ps := f.Check()
	if len(ps) == 0 {
		return nil
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalid, f.Action, strings.Join(msgs, "; "))
}

// Parse reads a fault as harness fault takes it: an action and its
// parameters by name ("latency" → "200ms"), each a duration or a whole
// number. It reports every problem at once.
func Parse(action string, values map[string]string) (Fault, error) {
	f := Fault{Action: action}
	if !slices.Contains(Actions, action) {
		return f, fmt.Errorf("%w: unknown link action %q%s (one of %s)", ErrInvalid, action, didYouMean(action, Actions), strings.Join(Actions, ", "))
	}
	ps := Params(action)
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	var errs []string
	for _, name := range slices.Sorted(maps.Keys(values)) {
		i := slices.Index(names, name)
		if i < 0 {
			takes := "no parameter"
			if len(names) > 0 {
				takes = "only " + strings.Join(names, ", ")
			}
			errs = append(errs, fmt.Sprintf("%s does not apply to %s, which takes %s%s", name, action, takes, didYouMean(name, names)))
			continue
		}
		if err := f.set(ps[i], values[name]); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for _, p := range ps {
		if _, ok := values[p.Name]; p.Required && !ok {
			errs = append(errs, fmt.Sprintf("%s is required: %s", p.Name, p.Doc))
		}
	}
	if len(errs) == 0 {
		return f, f.Validate()
	}
	return f, fmt.Errorf("%w: %s: %s", ErrInvalid, action, strings.Join(errs, "; "))
}

// set parses value into f's parameter p.
func (f *Fault) set(p Param, value string) error {
	if p.Duration {
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%s %q is not a duration such as 200ms", p.Name, value)
		}
		*f.Durations()[p.Name] = d
		return nil
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q is not a whole number", p.Name, value)
	}
	*f.Counts()[p.Name] = n
	return nil
}

// Durations are f's parameters that are durations, by name, for a reader
// to set in place.
func (f *Fault) Durations() map[string]*time.Duration {
	return map[string]*time.Duration{"latency": &f.Latency, "jitter": &f.Jitter, "timeout": &f.Timeout, "delay": &f.Delay}
}

// Counts are f's parameters that are whole numbers, by name, for a
// reader to set in place.
func (f *Fault) Counts() map[string]*int64 {
	return map[string]*int64{"rate": &f.Rate, "size": &f.Size, "variation": &f.Variation, "bytes": &f.Bytes}
}

// Detail says what more an action is than its name, for reports:
// "200ms ± 50ms", "16 KB/s", "5s" (a timeout), "forever" (one held
// open); "" when nothing more (down, an immediate reset_peer).
func (f Fault) Detail() string {
	switch f.Action {
	case Latency:
		if f.Jitter > 0 {
			return fmt.Sprintf("%s ± %s", f.Latency, f.Jitter)
		}
		return f.Latency.String()
	case Bandwidth:
		return fmt.Sprintf("%d KB/s", f.Rate)
	case Timeout:
		if f.Timeout == 0 {
			return "forever"
		}
		return f.Timeout.String()
	case ResetPeer:
		if f.Timeout == 0 {
			return ""
		}
		return "after " + f.Timeout.String()
	case SlowClose:
		return f.Delay.String()
	case Slicer:
		s := strconv.FormatInt(f.Size, 10)
		if f.Variation > 0 {
			s += " ± " + strconv.FormatInt(f.Variation, 10)
		}
		s += " B"
		if f.Delay > 0 {
			s += ", " + f.Delay.String() + " apart"
		}
		return s
	case LimitData:
		return strconv.FormatInt(f.Bytes, 10) + " B"
	}
	return ""
}

func didYouMean(word string, known []string) string {
	if near := spelling.Closest(word, known, 2); near != "" {
		return fmt.Sprintf(" (did you mean %q?)", near)
	}
	return ""
}
