// Package errorreport sends the API's own failures, panics and 5xx
// answers, to Sentry through its Go SDK, so that a bug becomes an issue
// with its stack, route and release instead of one log line among
// millions. It is off, a nil *Reporter that reports nothing, while
// SENTRY_DSN is unset.
//
// What an event carries is chosen here rather than left to the SDK: the
// request id (which finds the request's log line), method, route
// template, status, release and environment, the error chain and, for a
// panic, its stack. Never the request itself: no URL or query string, no
// headers or cookies, no body, client address or user. The scrubber that
// runs last (BeforeSend) drops those fields again and masks whatever looks
// like a token or a credential, and the process's own secrets, so that a
// message that quotes one still cannot carry it out.
//
// Reporting never holds a request up: an event is built and serialised
// on the caller's goroutine (microseconds), then handed to the SDK, which
// keeps at most 100 events waiting and 1,000 envelopes queued for its one
// sending goroutine and drops the oldest beyond that. An unreachable or
// hanging Sentry costs a bounded amount of memory and no latency.
package errorreport

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/taskready/taskready/internal/buildinfo"
)

// SendTimeout bounds one delivery to Sentry: a hanging endpoint holds the
// sending goroutine (never a request) at most this long per envelope.
const SendTimeout = 5 * time.Second

// FlushTimeout bounds how long a shutdown waits to deliver the events
// still queued: the last errors before a stop are often the telling
// ones, but a dead endpoint must not hold the process.
const FlushTimeout = 2 * time.Second

// appModule is this repository's module: its frames are the "in app"
// ones, which Sentry groups issues by and shows first.
const appModule = "github.com/taskready/taskready"

// Reporter sends failures to one Sentry project. The nil *Reporter is
// valid and reports nothing.
type Reporter struct {
	client  *sentry.Client
	scrub   *scrubber
	release string
}

type options struct {
	environment string
	release     string
	sampleRate  float64
	secrets     []string
	httpClient  *http.Client
}

// Option changes how New sets a Reporter up.
type Option func(*options)

// WithEnvironment names the deployment (production, staging) events are
// filed under.
func WithEnvironment(env string) Option { return func(o *options) { o.environment = env } }

// WithRelease names the release events are filed under; empty keeps the
// default, Release(buildinfo.Read()).
func WithRelease(release string) Option { return func(o *options) { o.release = release } }

// WithSampleRate sends only this fraction, in (0, 1], of the failures; 1
// (the default) sends all of them.
func WithSampleRate(rate float64) Option { return func(o *options) { o.sampleRate = rate } }

// WithSecrets names values that must never leave the process (the JWT
// secret, store passwords): the scrubber masks them wherever they appear.
func WithSecrets(secrets ...string) Option {
	return func(o *options) { o.secrets = append(o.secrets, secrets...) }
}

// withHTTPClient replaces the client events are posted with (tests).
func withHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// New returns a Reporter sending to the project of dsn, or nil (reporting
// nothing) when dsn is empty. A dsn that is not a Sentry DSN is an error.
func New(dsn string, opts ...Option) (*Reporter, error) {
	if dsn == "" {
		// Never let the SDK see an empty DSN: it would read SENTRY_DSN
		// from the process environment behind the configuration's back.
		return nil, nil
	}
	o := options{sampleRate: 1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.sampleRate <= 0 || o.sampleRate > 1 {
		return nil, fmt.Errorf("error report sample rate %v: must be greater than 0 and at most 1", o.sampleRate)
	}
	if o.release == "" {
		// Set it always: the SDK's own default runs git in the working
		// directory.
		o.release = Release(buildinfo.Read())
	}
	if o.httpClient == nil {
		o.httpClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: SendTimeout}
	}
	r := &Reporter{scrub: newScrubber(o.secrets), release: o.release}
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:         dsn,
		Environment: o.environment,
		Release:     o.release,
		SampleRate:  o.sampleRate,
		HTTPClient:  o.httpClient,
		BeforeSend:  r.beforeSend,
		// Breadcrumbs would be whatever other code recorded on the
		// scope: nothing this package vetted.
		MaxBreadcrumbs: -1,
		Integrations: func(all []sentry.Integration) []sentry.Integration {
			return slices.DeleteFunc(all, func(i sentry.Integration) bool {
				switch i.Name() {
				case "ContextifyFrames":
					// Reads source files on the request's goroutine to
					// quote lines around each frame; the image ships no
					// source, and the frames' files and lines suffice.
					return true
				case "Modules":
					// Every dependency and its version in every event:
					// the release already names the exact build.
					return true
				}
				return false
			})
		},
	})
	if err != nil {
		return nil, fmt.Errorf("error reporting: %w", err)
	}
	r.client = client
	return r, nil
}

// Release names build i as a Sentry release: "taskapi@" and the module
// version, with the short revision as build metadata when the version
// does not carry it; the revision alone for a build of a working tree
// ("(devel)"), marked "-modified" when it had uncommitted changes.
func Release(i buildinfo.Info) string {
	version := i.Version
	if version == "(devel)" {
		version = ""
	}
	rev := i.ShortRevision()
	if rev != "" && i.Modified {
		rev += "-modified"
	}
	switch {
	case version != "" && (rev == "" || strings.Contains(version, i.ShortRevision())):
		return "taskapi@" + version
	case version != "":
		return "taskapi@" + version + "+" + rev
	case rev != "":
		return "taskapi@" + rev
	}
	return "taskapi@" + buildinfo.Unknown
}

// ReleaseName is the release events are filed under; "" when r is nil.
func (r *Reporter) ReleaseName() string {
	if r == nil {
		return ""
	}
	return r.release
}

// Failure is one request the server failed.
type Failure struct {
	RequestID string
	Method    string
	Route     string // the route template ("/api/tasks/:id"), never the raw path
	Status    int
	// Err is what the handler returned, or the panic's value as an error.
	Err error
	// Panic holds, when the request panicked, the program counters of the
	// panicking goroutine from runtime.Callers in the recovering defer.
	Panic []uintptr
}

// Report sends f to Sentry in the background; it does not wait for the
// network, and a full queue drops events rather than grow.
func (r *Reporter) Report(f Failure) {
	if r == nil {
		return
	}
	r.client.CaptureEvent(r.event(f), nil, nil)
}

// event builds f's Sentry event.
func (r *Reporter) event(f Failure) *sentry.Event {
	transaction := f.Method + " " + f.Route
	var ev *sentry.Event
	switch {
	case f.Panic != nil:
		ev = sentry.NewEvent()
		no := false
		value := "panic"
		if f.Err != nil {
			value = f.Err.Error()
		}
		ev.Exception = []sentry.Exception{{
			Type:       "panic",
			Value:      value,
			Stacktrace: stacktrace(f.Panic),
			Mechanism:  &sentry.Mechanism{Type: "panic", Handled: &no},
		}}
	case f.Err != nil:
		ev = r.client.EventFromException(f.Err, sentry.LevelError)
		if n := len(ev.Exception); n > 0 && sentry.ExtractStacktrace(f.Err) == nil {
			// The SDK puts the current stack on an error that has none:
			// here that is always the middleware, which would lump every
			// 500 into one issue. Group by route and error kind instead.
			ev.Exception[n-1].Stacktrace = nil
			ev.Fingerprint = []string{transaction, strconv.Itoa(f.Status), chainTypes(f.Err)}
		}
	default:
		ev = sentry.NewEvent()
		ev.Message = fmt.Sprintf("%s answered %d", transaction, f.Status)
	}
	ev.Level = sentry.LevelError
	ev.Transaction = transaction
	ev.Tags["request_id"] = f.RequestID
	ev.Tags["method"] = f.Method
	ev.Tags["route"] = f.Route
	ev.Tags["status"] = strconv.Itoa(f.Status)
	ev.Modules = nil
	return ev
}

// chainTypes names the types of err's chain, outermost first.
func chainTypes(err error) string {
	var types []string
	for e := err; e != nil && len(types) < 10; {
		types = append(types, reflect.TypeOf(e).String())
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	return strings.Join(types, " < ")
}

// stacktrace turns program counters into Sentry's frames, outermost call
// first, without the runtime's own (the panic machinery).
func stacktrace(pcs []uintptr) *sentry.Stacktrace {
	var frames []sentry.Frame
	it := runtime.CallersFrames(pcs)
	for {
		f, more := it.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, "runtime.") {
			frame := sentry.NewFrame(f)
			frame.InApp = strings.HasPrefix(frame.Module, appModule)
			frames = append(frames, frame)
		}
		if !more {
			break
		}
	}
	slices.Reverse(frames)
	return &sentry.Stacktrace{Frames: frames}
}

// Flush waits until the queued events are delivered or ctx ends, and
// reports whether they were.
func (r *Reporter) Flush(ctx context.Context) bool {
	if r == nil {
		return true
	}
	return r.client.FlushWithContext(ctx)
}

// Close delivers what is queued until ctx ends, then stops the sender;
// it returns by ctx's end even when the endpoint hangs (the sender then
// stops on its own within SendTimeout). It reports whether everything
// queued was delivered.
func (r *Reporter) Close(ctx context.Context) bool {
	if r == nil {
		return true
	}
	delivered := r.client.FlushWithContext(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		r.client.Close()
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
	}
	return delivered
}
