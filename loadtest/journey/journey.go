// Package journey runs one iteration of a scenario journey for one virtual
// user against a target, producing one record.Sample per step attempted.
//
// A step's path, header values and every string in its JSON body may use
// {{variables}}: the builtins (scenario.Builtins) and whatever earlier
// steps of the same iteration extracted from their answers. A step that
// cannot be sent, whose request fails, whose check fails or whose
// extraction finds nothing stops the journey: later steps would need its
// variables.
//
// A sample's BytesOut and BytesIn are the request's and the answer's bytes
// on the wire (data_sent and data_received, as k6 counts them), redirects
// followed included, when the client's transport counts them: the
// fasthttp transport always, an http.Transport when transport.CountConns
// made it; through any other transport they are the bodies' lengths only.
package journey

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/transport"
)

// MaxBody caps how much of an answer is read. An answer larger than this
// fails its step.
const MaxBody = 10 << 20

// VU is one virtual user: its identity and the HTTP client it reuses.
type VU struct {
	ID        int
	Iteration int
	User      User
	// Client sends the steps; nil means http.DefaultClient. A client over
	// transport.New (with no Jar or Timeout) is driven through the
	// transport's Exchange, not Do, for speed; the samples are the same.
	Client *http.Client
	Target string // base URL, "http://127.0.0.1:3000"
}

// User is the seeded user a VU logs in as.
type User struct {
	Index           int
	Email, Password string
}

// Tags are the sample tags that do not come from the journey itself; the
// Journey, Step and Endpoint tags come from the journey and its steps.
type Tags struct {
	Scenario, Phase string
}

// Option changes how Run runs.
type Option func(*config)

type config struct {
	sleep    func(context.Context, time.Duration) error
	intended time.Time
	now      func() time.Time
	observe  Observer
}

// Exchange is one request a step sent and what came of it, as an
// Observer sees it. The byte slices are the journey's own: they are
// valid only during the call.
type Exchange struct {
	User          User
	Method, Path  string // the path expanded, with its query
	Authorization string // the request's Authorization header, "" if none
	Body          []byte // the request's body
	Status        int    // 0 when no answer came
	Answer        []byte // the answer's body, when one came
	Err           string // why the request failed, "" when it did not
	Start, End    time.Time
}

// Observer hears of every request the journeys send, from many goroutines
// at once (see Observe).
type Observer func(*Exchange)

// Observe has o hear of every request a step sends, whatever its answer:
// the write ledger learns what the API acknowledged this way. It costs
// nothing when not given.
func Observe(o Observer) Option {
	return func(c *config) { c.observe = o }
}

// Sleep replaces how think time is slept. The function must return early
// with an error when ctx is done; Run then stops the journey. The default
// waits on a timer and ctx.
func Sleep(f func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) { c.sleep = f }
}

// Intended sets the first step's Intended time: when the open-model
// schedule wanted the iteration to start. Later steps, and every step
// without this option, have Intended equal to Start.
func Intended(t time.Time) Option {
	return func(c *config) { c.intended = t }
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run executes j's steps in order for vu and returns one sample per step
// attempted. It stops at the first step that fails (see the package
// documentation) and when ctx is done; a step is not attempted once ctx is
// done. Each step's think time is slept after it, also after the step that
// stops the journey, so a closed-model VU facing a failing target does not
// spin; no think time follows a request cut short by ctx.
func Run(ctx context.Context, j *scenario.Journey, vu VU, tags Tags, opts ...Option) []record.Sample {
	return Append(ctx, make([]record.Sample, 0, len(j.Steps)), j, vu, tags, opts...)
}

// Append is Run appending the samples to dst, so that a VU running
// iteration after iteration can reuse one slice: a fresh one per
// iteration was the largest allocation of a fast target's request.
func Append(ctx context.Context, dst []record.Sample, j *scenario.Journey, vu VU, tags Tags, opts ...Option) []record.Sample {
	c := config{sleep: sleepCtx, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	client := vu.Client
	if client == nil {
		client = http.DefaultClient
	}
	vars := newVars(vu)
	target := strings.TrimRight(vu.Target, "/")
	samples := dst
	for i := range j.Steps {
		if ctx.Err() != nil {
			break
		}
		st := &j.Steps[i]
		s := record.Sample{
			Scenario: tags.Scenario, Journey: j.Name, Step: st.Name,
			Endpoint: st.Endpoint, Phase: tags.Phase, Method: st.Method,
		}
		if s.Endpoint == "" {
			s.Endpoint = st.Name
		}
		ok := runStep(ctx, client, target, st, vars, &s, &c, vu.User)
		s.Intended = s.Start
		if i == 0 && !c.intended.IsZero() {
			s.Intended = c.intended
		}
		samples = append(samples, s)
		if ctx.Err() != nil {
			break
		}
		if st.Think > 0 {
			if err := c.sleep(ctx, st.Think); err != nil {
				break
			}
		}
		if !ok {
			break
		}
	}
	return samples
}

// runStep sends st and fills s; it reports whether the journey may go on.
func runStep(ctx context.Context, client *http.Client, target string, st *scenario.Step, vars *vars, s *record.Sample, c *config, user User) bool {
	now := c.now
	passed := false
	s.CheckPassed = &passed
	fail := func(err error) bool { return failed(s, now, err) }

	path, err := vars.expand(st.Path)
	if err != nil {
		return fail(err)
	}
	var body []byte
	if st.Body != nil {
		b, err := vars.expandValue(st.Body)
		if err != nil {
			return fail(err)
		}
		if body, err = json.Marshal(b); err != nil {
			return fail(fmt.Errorf("encode body: %w", err))
		}
	}
	// Headers are expanded before the request is built, so an undefined
	// variable fails the step the same way whatever else is wrong.
	header, host, err := expandHeaders(st.Headers, vars)
	if err != nil {
		return fail(err)
	}
	if body != nil && headerValue(header, "Content-Type") == "" {
		header = setHeader(header, "Content-Type", "application/json")
	}

	buf := getAnswerBuffer()
	defer putAnswerBuffer(buf)
	r := request{method: st.Method, url: target + path, host: host, header: header, body: body, timeout: st.Timeout,
		static: !strings.Contains(st.Path, "{{")}
	var ok bool
	if tr := fastTransport(client); tr != nil {
		ok = r.exchange(ctx, client, tr, s, buf, now)
	} else {
		ok = r.roundTrip(ctx, client, s, buf, now)
	}
	answer := buf.Bytes()
	if c.observe != nil {
		c.observe(&Exchange{User: user, Method: r.method, Path: path, Authorization: headerValue(header, "Authorization"),
			Body: body, Status: s.Status, Answer: answer, Err: s.Err, Start: s.Start, End: s.Start.Add(s.Latency)})
	}
	if !ok {
		return false
	}
	s.Check = checkFailure(st.Check, s.Status, answer)
	passed = s.Check == ""
	if !passed {
		return false
	}
	if len(st.Extract) > 0 {
		if err := vars.extract(st.Extract, answer); err != nil {
			return fail(err)
		}
	}
	return true
}

// failed records err as s's error (and a start if it has none) and
// reports that the journey stops.
func failed(s *record.Sample, now func() time.Time, err error) bool {
	if s.Start.IsZero() {
		s.Start = now()
	}
	s.Err = err.Error()
	return false
}

// request is one step's request, its variables expanded.
type request struct {
	method, url, host string
	header            [][2]string // canonical names, each once (http.Header.Set's rule)
	body              []byte
	timeout           time.Duration
	static            bool // the path has no variables: url repeats, see parseURL
}

// staticURLs caches the parsed URLs of paths without variables, by URL:
// exchange would otherwise parse the same string for every request. Only
// those are cached, so its size is bounded by the steps and targets of
// the run. The URLs are shared, so never changed once stored.
var staticURLs sync.Map // string → *url.URL

// parseURL parses r.url as NewRequest does.
func (r *request) parseURL() (*url.URL, error) {
	if r.static {
		if u, ok := staticURLs.Load(r.url); ok {
			return u.(*url.URL), nil
		}
	}
	u, err := url.Parse(r.url)
	if err != nil {
		return nil, err
	}
	u.Host = removeEmptyPort(u.Host)
	if r.static {
		staticURLs.Store(r.url, u)
	}
	return u, nil
}

// expandHeaders expands a step's headers, in name order: the Host header
// comes back apart, the others with their names canonical and, as
// http.Header.Set would have it, the last of names differing only in case
// winning.
func expandHeaders(hs map[string]string, vars *vars) (header [][2]string, host string, err error) {
	if len(hs) == 0 {
		return nil, "", nil
	}
	header = make([][2]string, 0, len(hs)+1) // room for a Content-Type
	for _, k := range sortedKeys(hs) {
		v, err := vars.expand(hs[k])
		if err != nil {
			return nil, "", err
		}
		if strings.EqualFold(k, "Host") {
			host = v
			continue
		}
		header = setHeader(header, http.CanonicalHeaderKey(k), v)
	}
	return header, host, nil
}

// setHeader sets canonical name k to v in h.
func setHeader(h [][2]string, k, v string) [][2]string {
	for i := range h {
		if h[i][0] == k {
			h[i][1] = v
			return h
		}
	}
	return append(h, [2]string{k, v})
}

// headerValue is canonical name k's value in h, "" if none.
func headerValue(h [][2]string, k string) string {
	for _, kv := range h {
		if kv[0] == k {
			return kv[1]
		}
	}
	return ""
}

// roundTrip sends r through client as an http.Request and reads the
// answer into buf.
func (r *request) roundTrip(ctx context.Context, client *http.Client, s *record.Sample, buf *bytes.Buffer, now func() time.Time) bool {
	rctx := ctx
	if r.timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	// The bytes on the wire, when the client's transport counts them
	// (transport.CountConns); else the bodies', set by readAnswer.
	wire := new(transport.Wire)
	req, err := r.httpRequest(transport.WithWire(rctx, wire))
	if err != nil {
		return failed(s, now, err)
	}
	s.BytesOut = int64(len(r.body))
	s.Start = now()
	res, err := client.Do(req)
	ok := r.readAnswer(rctx, res, err, s, buf, now)
	if wire.Counted() {
		s.BytesOut, s.BytesIn = wire.Sent(), wire.Received()
	}
	return ok
}

func (r *request) httpRequest(ctx context.Context) (*http.Request, error) {
	var rd io.Reader
	if r.body != nil {
		rd = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, rd)
	if err != nil {
		return nil, err
	}
	for _, kv := range r.header {
		req.Header.Set(kv[0], kv[1])
	}
	if r.host != "" {
		req.Host = r.host
	}
	return req, nil
}

// readAnswer fills s from what client.Do returned and reads the body
// into buf.
func (r *request) readAnswer(rctx context.Context, res *http.Response, err error, s *record.Sample, buf *bytes.Buffer, now func() time.Time) bool {
	if err != nil {
		s.Latency = now().Sub(s.Start)
		return failed(s, now, requestError(rctx, r.timeout, err))
	}
	s.Status = res.StatusCode
	_, err = buf.ReadFrom(io.LimitReader(res.Body, MaxBody+1))
	answer := buf.Bytes()
	s.Latency = now().Sub(s.Start)
	// The body was read to its end (unless it is over the cap), so closing
	// it keeps the connection for the next request.
	_ = res.Body.Close()
	s.BytesIn = int64(len(answer))
	if err != nil {
		return failed(s, now, requestError(rctx, r.timeout, fmt.Errorf("read answer: %w", err)))
	}
	if len(answer) > MaxBody {
		s.BytesIn = MaxBody
		return failed(s, now, fmt.Errorf("answer larger than %d bytes", MaxBody))
	}
	return true
}

// fastTransport is client's transport when Exchange can stand in for
// client.Do: the fasthttp transport, and no cookie jar or client timeout,
// which Exchange would bypass. (Redirects are left to the client: see
// follow.)
func fastTransport(c *http.Client) *transport.Transport {
	if c.Jar != nil || c.Timeout != 0 {
		return nil
	}
	t, _ := c.Transport.(*transport.Transport)
	return t
}

// exchange sends r with tr.Exchange, which skips building an
// http.Request, an http.Response, a context and its timer per step: at
// fast targets that was a third of the engine's cost per request
// (BenchmarkEngineVsWrk). What the sample records is what client.Do
// would have given: the same request (NewRequest's method and URL rules,
// the URL's user as basic auth), the same errors (a *url.Error, "timeout
// after"), and redirects followed by client itself.
func (r *request) exchange(ctx context.Context, client *http.Client, tr *transport.Transport, s *record.Sample, buf *bytes.Buffer, now func() time.Time) bool {
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	if !validMethod(method) {
		return failed(s, now, fmt.Errorf("net/http: invalid method %q", method))
	}
	u, err := r.parseURL()
	if err != nil {
		return failed(s, now, err)
	}
	header := r.header
	if u.User != nil && headerValue(header, "Authorization") == "" {
		pw, _ := u.User.Password()
		auth := base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + pw))
		header = append(header[:len(header):len(header)], [2]string{"Authorization", "Basic " + auth})
	}
	s.Start = now()
	var deadline time.Time
	if r.timeout > 0 {
		deadline = time.Now().Add(r.timeout) // after Start: a timed-out Latency is never under the timeout
	}
	treq := &transport.Request{
		Method: method, URL: u, Host: r.host, Header: header, Body: r.body, Deadline: deadline, MaxBody: MaxBody,
	}
	status, redirect, err := tr.Exchange(ctx, treq, buf)
	s.BytesOut, s.BytesIn = treq.Sent, treq.Received
	if redirect != nil {
		return r.follow(ctx, client, redirect, deadline, s, buf, now)
	}
	s.Latency = now().Sub(s.Start)
	s.Status = status
	if err != nil {
		if errors.Is(err, transport.ErrBodyTooLarge) {
			return failed(s, now, fmt.Errorf("answer larger than %d bytes", MaxBody))
		}
		if r.timeout > 0 && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("timeout after %s", r.timeout)
		} else {
			err = &url.Error{Op: urlErrorOp(method), URL: stripPassword(u), Err: err}
		}
		return failed(s, now, err)
	}
	return true
}

// follow hands a redirect that Exchange received to client, as if
// client.Do had sent r and got it: client applies its own redirect policy
// (methods, headers, Referer, CheckRedirect) and sends the next requests,
// within the step's deadline. Their bytes on the wire add to the first
// exchange's, already in s.
func (r *request) follow(ctx context.Context, client *http.Client, redirect *http.Response, deadline time.Time, s *record.Sample, buf *bytes.Buffer, now func() time.Time) bool {
	rctx := ctx
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		rctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	wire := new(transport.Wire)
	req, err := r.httpRequest(transport.WithWire(rctx, wire))
	if err != nil { // it parsed once already
		_ = redirect.Body.Close()
		return failed(s, now, err)
	}
	c := *client
	c.Transport = &replayFirst{first: redirect, next: client.Transport}
	sent, received := s.BytesOut, s.BytesIn
	res, err := c.Do(req)
	ok := r.readAnswer(rctx, res, err, s, buf, now)
	s.BytesOut, s.BytesIn = sent+wire.Sent(), received+wire.Received()
	return ok
}

// replayFirst answers an http.Client's first request with a response
// already received, and sends the others on.
type replayFirst struct {
	first *http.Response
	next  http.RoundTripper
}

func (t *replayFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	res := t.first
	if res == nil {
		return t.next.RoundTrip(req)
	}
	t.first = nil
	if req.Body != nil {
		_ = req.Body.Close() // a RoundTripper closes it; it was sent already
	}
	res.Request = req
	return res, nil
}

// validMethod is NewRequest's check: a method is an RFC 9110 token.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// removeEmptyPort is NewRequest's: "host:" becomes "host".
func removeEmptyPort(host string) string {
	if strings.LastIndex(host, ":") > strings.LastIndex(host, "]") {
		return strings.TrimSuffix(host, ":")
	}
	return host
}

// urlErrorOp is how http.Client names a method in a *url.Error.
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}

// stripPassword is how http.Client writes a URL in a *url.Error.
func stripPassword(u *url.URL) string {
	if _, set := u.User.Password(); set {
		return strings.Replace(u.String(), u.User.String()+"@", u.User.Username()+":***@", 1)
	}
	return u.String()
}

// answerBuffers recycles the buffers answers are read into: an answer is
// only checked and extracted from (extraction copies what it keeps), so
// its buffer is free again when the step ends, and reading every answer
// into a fresh, repeatedly grown slice was the journey's largest
// allocation.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledAnswer is the largest buffer put back: an occasional huge
// answer should not pin its memory for the rest of the run.
const maxPooledAnswer = 64 << 10

func getAnswerBuffer() *bytes.Buffer { return answerBuffers.Get().(*bytes.Buffer) }

func putAnswerBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledAnswer {
		return
	}
	b.Reset()
	answerBuffers.Put(b)
}

// requestError words a transport error, naming the step timeout when that
// is what cut the request short.
func requestError(rctx context.Context, timeout time.Duration, err error) error {
	if timeout > 0 && errors.Is(rctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("timeout after %s", timeout)
	}
	return err
}

// checkFailure says why an answer fails c, "" when it passes: the words
// a report counts failures by, so they name the expectation, not the
// answer's body.
func checkFailure(c scenario.Check, status int, body []byte) string {
	if c.Status == 0 {
		if status < 200 || status > 299 {
			return "status " + strconv.Itoa(status) + ", want 2xx"
		}
	} else if status != c.Status {
		return "status " + strconv.Itoa(status) + ", want " + strconv.Itoa(c.Status)
	}
	if c.BodyContains != "" && !bytes.Contains(body, []byte(c.BodyContains)) {
		return "body lacks " + quoteText(c.BodyContains)
	}
	return ""
}

// quoteText quotes s for a message: in double quotes, or in single ones
// when s holds double quotes and nothing else needs escaping, so that
// '"id"' does not read as "\"id\"".
func quoteText(s string) string {
	if strings.Contains(s, `"`) && !strings.Contains(s, "'") && strconv.CanBackquote(s) {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
