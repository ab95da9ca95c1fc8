package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// EncodingFormat and EncodingVersion identify what Encode writes.
const (
	EncodingFormat  = "taskready.record"
	EncodingVersion = 1
)

// ErrFormat is returned (wrapped) by Decode for input that is not a
// recorder Encode wrote, or that is of another version.
var ErrFormat = errors.New("record: not an encoded recorder")

// envelope is the encoded form: JSON holding each HDR histogram in the
// standard V2 compressed encoding (base64), which other HdrHistogram
// implementations read too.
type envelope struct {
	Format                     string        `json:"format"`
	Version                    int           `json:"version"`
	Start                      time.Time     `json:"start"`
	LastEnd                    int64         `json:"last_end_unix_ns"`
	Interval                   time.Duration `json:"interval_ns"`
	HighestTrackable           time.Duration `json:"highest_trackable_ns"`
	SignificantFigures         int           `json:"significant_figures"`
	IntervalSignificantFigures int           `json:"interval_significant_figures"`
	Keys                       []encodedKey  `json:"keys"`
	Intervals                  []encodedIntv `json:"intervals"`
	// Iterations are the whole iterations' aggregates; absent in files
	// of runs that recorded none, and in those written before they were.
	Iterations []encodedIteration `json:"iterations,omitempty"`
}

type encodedIteration struct {
	Scenario   string      `json:"scenario"`
	Journey    string      `json:"journey"`
	Phase      string      `json:"phase"`
	Count      int64       `json:"count"`
	Clamped    int64       `json:"clamped"`
	FirstStart int64       `json:"first_start_unix_ns"`
	LastStart  int64       `json:"last_start_unix_ns"`
	Latency    encodedDist `json:"latency"`
	Corrected  encodedDist `json:"corrected"`
}

type encodedKey struct {
	Scenario     string        `json:"scenario"`
	Endpoint     string        `json:"endpoint"`
	Phase        string        `json:"phase"`
	Count        int64         `json:"count"`
	Failures     int64         `json:"failures"`
	ChecksPassed int64         `json:"checks_passed"`
	ChecksFailed int64         `json:"checks_failed"`
	BytesIn      int64         `json:"bytes_in"`
	BytesOut     int64         `json:"bytes_out"`
	Clamped      int64         `json:"clamped"`
	FirstStart   int64         `json:"first_start_unix_ns"`
	LastStart    int64         `json:"last_start_unix_ns"`
	Statuses     map[int]int64 `json:"statuses"`
	Latency      encodedDist   `json:"latency"`
	Corrected    encodedDist   `json:"corrected"`
	// Reasons are absent in files written before they were counted.
	Reasons map[string]int64 `json:"reasons,omitempty"`
}

type encodedDist struct {
	Min       time.Duration `json:"min_ns"`
	Max       time.Duration `json:"max_ns"`
	SumUs     int64         `json:"sum_us"`
	Histogram string        `json:"hdr"` // microseconds, V2 compressed, base64
}

type encodedIntv struct {
	Index     int    `json:"index"`
	Requests  int64  `json:"requests"`
	Failures  int64  `json:"failures"`
	Latency   string `json:"latency_hdr,omitempty"` // "" without requests
	Corrected string `json:"corrected_hdr,omitempty"`
	// Iterations, Dropped and Classes are absent in files written
	// before they were counted.
	Iterations int64   `json:"iterations,omitempty"`
	Dropped    int64   `json:"dropped,omitempty"`
	BusyNs     int64   `json:"busy_ns,omitempty"`
	Classes    []int64 `json:"classes,omitempty"`
}

// Encode writes everything r recorded as versioned JSON, so that the
// recorders of distributed workers can be decoded and merged later. The
// Failed rule is not encoded: it was applied when the samples were added.
func (r *Recorder) Encode(w io.Writer) error {
	r.flush()
	env := envelope{
		Format:                     EncodingFormat,
		Version:                    EncodingVersion,
		Start:                      r.start,
		LastEnd:                    r.lastEnd,
		Interval:                   r.cfg.interval,
		HighestTrackable:           r.cfg.highest,
		SignificantFigures:         r.cfg.sigFigs,
		IntervalSignificantFigures: r.cfg.intervalSigFigs,
		Keys:                       []encodedKey{},
		Intervals:                  []encodedIntv{},
	}
	for _, k := range sortedKeys(r.keys) {
		a := r.keys[k]
		ek := encodedKey{
			Scenario: k.Scenario, Endpoint: k.Endpoint, Phase: k.Phase,
			Count: a.count, Failures: a.failures,
			ChecksPassed: a.checksPassed, ChecksFailed: a.checksFailed,
			BytesIn: a.bytesIn, BytesOut: a.bytesOut, Clamped: a.clamped,
			FirstStart: a.firstStart, LastStart: a.lastStart,
			Statuses: a.statuses.counts(), Reasons: a.reasons,
		}
		var err error
		if ek.Latency, err = encodeDist(&a.lat); err != nil {
			return fmt.Errorf("record: encode %v latency: %w", k, err)
		}
		if ek.Corrected, err = encodeDist(&a.cor); err != nil {
			return fmt.Errorf("record: encode %v corrected latency: %w", k, err)
		}
		env.Keys = append(env.Keys, ek)
	}
	for _, k := range sortedIterationKeys(r.iters) {
		a := r.iters[k]
		ei := encodedIteration{
			Scenario: k.Scenario, Journey: k.Journey, Phase: k.Phase,
			Count: a.count, Clamped: a.clamped, FirstStart: a.firstStart, LastStart: a.lastStart,
		}
		var err error
		if ei.Latency, err = encodeDist(&a.lat); err != nil {
			return fmt.Errorf("record: encode iterations %v: %w", k, err)
		}
		if ei.Corrected, err = encodeDist(&a.cor); err != nil {
			return fmt.Errorf("record: encode iterations %v from their scheduled start: %w", k, err)
		}
		env.Iterations = append(env.Iterations, ei)
	}
	for i := range r.intervals {
		iv := &r.intervals[i]
		if iv.empty() {
			continue
		}
		ei := encodedIntv{Index: i, Requests: iv.requests, Failures: iv.failures,
			Iterations: iv.iterations, Dropped: iv.dropped, BusyNs: iv.busyNs}
		if iv.classes != [6]int64{} {
			ei.Classes = iv.classes[:]
		}
		if iv.hasRequests() {
			lat, err := iv.lat.Encode()
			if err != nil {
				return fmt.Errorf("record: encode interval %d: %w", i, err)
			}
			cor, err := iv.cor.Encode()
			if err != nil {
				return fmt.Errorf("record: encode interval %d: %w", i, err)
			}
			ei.Latency, ei.Corrected = string(lat), string(cor)
		}
		env.Intervals = append(env.Intervals, ei)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "\t")
	if err := enc.Encode(env); err != nil {
		return fmt.Errorf("record: encode: %w", err)
	}
	return nil
}

func encodeDist(d *dist) (encodedDist, error) {
	b, err := d.h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return encodedDist{}, err
	}
	return encodedDist{Min: d.min, Max: d.max, SumUs: d.sumUs, Histogram: string(b)}, nil
}

// Decode reads a recorder that Encode wrote. Its Failed rule is
// DefaultFailed (it only matters for samples added after decoding).
func Decode(rd io.Reader) (*Recorder, error) {
	var env envelope
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if env.Format != EncodingFormat {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrFormat, env.Format, EncodingFormat)
	}
	if env.Version != EncodingVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads %d", ErrFormat, env.Version, EncodingVersion)
	}
	cfg := defaultConfig()
	cfg.interval = env.Interval
	cfg.highest = env.HighestTrackable
	cfg.sigFigs = env.SignificantFigures
	cfg.intervalSigFigs = env.IntervalSignificantFigures
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	r := newRecorder(env.Start, cfg)
	r.lastEnd = env.LastEnd
	for _, ek := range env.Keys {
		k := Key{Scenario: ek.Scenario, Endpoint: ek.Endpoint, Phase: ek.Phase}
		if _, dup := r.keys[k]; dup {
			return nil, fmt.Errorf("%w: key %v appears twice", ErrFormat, k)
		}
		a, err := decodeAgg(ek, cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: key %v: %w", ErrFormat, k, err)
		}
		r.keys[k] = a
	}
	for _, ei := range env.Iterations {
		k := IterationKey{Scenario: ei.Scenario, Journey: ei.Journey, Phase: ei.Phase}
		if _, dup := r.iters[k]; dup {
			return nil, fmt.Errorf("%w: iterations %v appear twice", ErrFormat, k)
		}
		a, err := decodeIterations(ei, cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: iterations %v: %w", ErrFormat, k, err)
		}
		r.iters[k] = a
	}
	last := -1
	for _, ei := range env.Intervals {
		if ei.Index <= last || ei.Index >= MaxIntervals {
			return nil, fmt.Errorf("%w: interval index %d out of order or range", ErrFormat, ei.Index)
		}
		last = ei.Index
		iv := r.grow(ei.Index)
		if ei.Requests < 0 || ei.Failures < 0 || ei.Failures > ei.Requests || ei.Iterations < 0 || ei.Dropped < 0 || ei.BusyNs < 0 ||
			ei.Requests+ei.Iterations+ei.Dropped+ei.BusyNs == 0 {
			return nil, fmt.Errorf("%w: interval %d: %d failures of %d requests, %d iterations, %d dropped",
				ErrFormat, ei.Index, ei.Failures, ei.Requests, ei.Iterations, ei.Dropped)
		}
		if ei.Requests > 0 {
			var err error
			if iv.lat, err = decodePacked(ei.Latency, ei.Requests, cfg); err != nil {
				return nil, fmt.Errorf("%w: interval %d latency: %w", ErrFormat, ei.Index, err)
			}
			if iv.cor, err = decodePacked(ei.Corrected, ei.Requests, cfg); err != nil {
				return nil, fmt.Errorf("%w: interval %d corrected latency: %w", ErrFormat, ei.Index, err)
			}
		}
		if len(ei.Classes) > len(iv.classes) {
			return nil, fmt.Errorf("%w: interval %d: %d status classes", ErrFormat, ei.Index, len(ei.Classes))
		}
		copy(iv.classes[:], ei.Classes)
		iv.requests, iv.failures = ei.Requests, ei.Failures
		iv.iterations, iv.dropped, iv.busyNs = ei.Iterations, ei.Dropped, ei.BusyNs
	}
	return r, nil
}

func decodeAgg(ek encodedKey, cfg config) (*agg, error) {
	if ek.Count <= 0 || ek.Failures < 0 || ek.Failures > ek.Count {
		return nil, fmt.Errorf("%d failures of %d requests", ek.Failures, ek.Count)
	}
	a := newAgg(cfg)
	a.count, a.failures = ek.Count, ek.Failures
	a.checksPassed, a.checksFailed = ek.ChecksPassed, ek.ChecksFailed
	a.bytesIn, a.bytesOut, a.clamped = ek.BytesIn, ek.BytesOut, ek.Clamped
	a.firstStart, a.lastStart = ek.FirstStart, ek.LastStart
	for code, n := range ek.Statuses {
		a.statuses.add(code, n)
	}
	var failing int64
	for r, n := range ek.Reasons {
		if n <= 0 {
			return nil, fmt.Errorf("reason %q counted %d times", r, n)
		}
		failing += n
	}
	if failing > ek.Count {
		return nil, fmt.Errorf("%d failure reasons of %d requests", failing, ek.Count)
	}
	a.reasons.merge(ek.Reasons) // bounded, whatever the file holds
	var err error
	if a.lat, err = decodeDist(ek.Latency, ek.Count, cfg); err != nil {
		return nil, fmt.Errorf("latency: %w", err)
	}
	if a.cor, err = decodeDist(ek.Corrected, ek.Count, cfg); err != nil {
		return nil, fmt.Errorf("corrected latency: %w", err)
	}
	return a, nil
}

func decodeIterations(ei encodedIteration, cfg config) (*agg, error) {
	if ei.Count <= 0 || ei.Clamped < 0 || ei.Clamped > ei.Count {
		return nil, fmt.Errorf("%d iterations, %d clamped", ei.Count, ei.Clamped)
	}
	a := newAgg(cfg)
	a.count, a.clamped = ei.Count, ei.Clamped
	a.firstStart, a.lastStart = ei.FirstStart, ei.LastStart
	var err error
	if a.lat, err = decodeDist(ei.Latency, ei.Count, cfg); err != nil {
		return nil, fmt.Errorf("duration: %w", err)
	}
	if a.cor, err = decodeDist(ei.Corrected, ei.Count, cfg); err != nil {
		return nil, fmt.Errorf("duration from the scheduled start: %w", err)
	}
	return a, nil
}

func decodeDist(ed encodedDist, count int64, cfg config) (dist, error) {
	h, err := hdr.Decode([]byte(ed.Histogram))
	if err != nil {
		return dist{}, err
	}
	if h.LowestTrackableValue() != 1 || h.HighestTrackableValue() != cfg.highestMicros() ||
		h.SignificantFigures() != int64(cfg.sigFigs) {
		return dist{}, fmt.Errorf("histogram geometry [%d, %d] at %d digits, want [1, %d] at %d",
			h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures(), cfg.highestMicros(), cfg.sigFigs)
	}
	if h.TotalCount() != count {
		return dist{}, fmt.Errorf("histogram holds %d values, want %d", h.TotalCount(), count)
	}
	return dist{h: h, min: ed.Min, max: ed.Max, sumUs: ed.SumUs}, nil
}

func decodePacked(s string, count int64, cfg config) (*hdr.PackedHistogram, error) {
	p, err := hdr.DecodePacked([]byte(s))
	if err != nil {
		return nil, err
	}
	if p.LowestTrackableValue() != 1 || p.HighestTrackableValue() != cfg.highestMicros() ||
		p.SignificantFigures() != int64(cfg.intervalSigFigs) {
		return nil, fmt.Errorf("histogram geometry [%d, %d] at %d digits, want [1, %d] at %d",
			p.LowestTrackableValue(), p.HighestTrackableValue(), p.SignificantFigures(), cfg.highestMicros(), cfg.intervalSigFigs)
	}
	if p.TotalCount() != count {
		return nil, fmt.Errorf("histogram holds %d values, want %d", p.TotalCount(), count)
	}
	return p, nil
}
