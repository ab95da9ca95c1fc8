package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/summary"
)

// DefaultPace is how many read-back requests a second Verify sends unless
// told otherwise: enough to read back a hundred thousand tasks in a
// minute by pages, few enough not to be a load test of its own.
const DefaultPace = 50

// pageSize is the contract's largest page.
const pageSize = 100

// ReadBack is how Verify reads the tasks back.
type ReadBack struct {
	// Target is the API's base URL, "http://127.0.0.1:3000".
	Target string
	// Client sends the requests; nil means one with a 10 s timeout.
	Client *http.Client
	// Pace is the most requests a second; 0 means DefaultPace.
	Pace float64
	// Since is when the run began, less any clock skew between the
	// harness and the API: a task created before it is the seed's or an
	// earlier run's, never a duplicate of this one's writes.
	Since time.Time
	// Progress, if set, hears how many of the users' accounts are read.
	Progress func(done, total int)
}

// Kinds of finding.
const (
	Lost        = "lost"
	Resurrected = "resurrected"
	Duplicated  = "duplicated"
	Ambiguous   = "ambiguous"
)

// ErrUnreadable is why a task could not be read back: the API kept
// failing or refusing the read.
var ErrUnreadable = errors.New("the API did not answer the read-back")

// Verify reads back every task the ledger tracks, each user's as that
// user, and says what it found. Run it once the load has stopped and
// every fault has healed: a write still in flight would read as lost.
// It stops at ctx's end, counting what it did not read as unverified.
func (l *Ledger) Verify(ctx context.Context, rb ReadBack) *summary.Writes {
	l.mu.Lock()
	defer l.mu.Unlock()
	pace := rb.Pace
	if pace <= 0 {
		pace = DefaultPace
	}
	client := rb.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	c := l.counts()
	w := &summary.Writes{Acknowledged: c.Acknowledged, Uncertain: c.Uncertain, Objects: c.Objects, Untracked: c.Untracked,
		Pace: pace, Bytes: c.Objects * BytesPerObject}
	r := &reader{ctx: ctx, client: client, target: strings.TrimRight(rb.Target, "/"),
		tick: time.NewTicker(time.Duration(float64(time.Second) / pace)), w: w}
	defer r.tick.Stop()
	began := time.Now()

	byOwner := make([][]id, len(l.accounts))
	for tid, e := range l.tasks {
		byOwner[e.owner] = append(byOwner[e.owner], tid)
	}
	creates := make([][]create, len(l.accounts))
	for _, cr := range l.creates {
		creates[cr.owner] = append(creates[cr.owner], cr)
	}
	for n, a := range l.accounts {
		ids := byOwner[n]
		slices.SortFunc(ids, func(a, b id) int { return bytes.Compare(a[:], b[:]) })
		r.owner(a, ids, l.tasks, creates[n], rb.Since)
		if rb.Progress != nil {
			rb.Progress(n+1, len(l.accounts))
		}
	}
	w.Seconds = time.Since(began).Seconds()
	if err := ctx.Err(); err != nil && w.Error == "" {
		w.Error = "the read-back ran out of time: " + err.Error()
	}
	return w
}

// reader reads one run's tasks back.
type reader struct {
	ctx    context.Context
	client *http.Client
	target string
	tick   *time.Ticker
	w      *summary.Writes
}

// task is a task as the API shows it.
type task struct {
	ID string `json:"_id"`
	fields
	CreatedAt time.Time `json:"createdAt"`
}

// owner reads back the tasks ids and the uncertain creates of one
// account.
func (r *reader) owner(acct *account, ids []id, tasks map[id]entry, creates []create, since time.Time) {
	if len(ids) == 0 && len(creates) == 0 {
		return
	}
	who := acct.name()
	unverified := func(err error) {
		r.w.Unverified += int64(len(ids) + len(creates))
		if r.w.Error == "" {
			r.w.Error = fmt.Sprintf("%s: %v", who, err)
		}
	}
	s := &session{r: r, acct: acct}
	seen, complete, err := s.list()
	if err != nil && seen == nil {
		if errors.Is(err, errLogin) {
			unverified(err)
			return
		}
		seen = map[id]task{} // read each task by itself
	}
	created := map[uint64]bool{}
	for _, tid := range ids {
		e := tasks[tid]
		if e.created != 0 {
			created[e.created] = true
		}
		got, found := seen[tid]
		if !found && (!complete || e.state == present || e.maybeIs == deleted) {
			// A page boundary between tasks created in the same
			// millisecond can hide one: ask for it by id.
			var err error
			if got, found, err = s.get(tid); err != nil {
				r.w.Unverified++
				if r.w.Error == "" {
					r.w.Error = fmt.Sprintf("task %s: %v", tid, err)
				}
				continue
			}
		}
		r.w.Checked++
		if kind, want := judge(e, found, got.fields); kind != "" {
			r.find(kind, tid.String(), who, want, shown(found, got))
		}
		delete(seen, tid)
	}
	if !complete {
		// Without every task of the user in hand, a duplicate or an
		// uncertain create that happened cannot be told apart.
		r.w.Unverified += int64(len(creates))
		return
	}
	// What is left is what no acknowledged write of the run made.
	rest := make([]task, 0, len(seen))
	for _, t := range seen {
		if !t.CreatedAt.Before(since) {
			rest = append(rest, t)
		}
	}
	slices.SortFunc(rest, func(a, b task) int { return strings.Compare(a.ID, b.ID) })
	used := make([]bool, len(creates))
	for _, t := range rest {
		if created[t.digest(allFields)] {
			r.find(Duplicated, t.ID, who, "created once", shown(true, t))
			continue
		}
		for i, cr := range creates {
			if !used[i] && t.digest(cr.mask) == cr.digest {
				used[i] = true
				r.find(Ambiguous, t.ID, who, "a create the client saw fail", shown(true, t))
				break
			}
		}
	}
	r.w.Checked += int64(len(creates))
}

// judge says what is wrong with a task the ledger expected as e, found
// or not with fields got: the kind of finding, "" when nothing, and what
// was expected.
func judge(e entry, found bool, got fields) (kind, want string) {
	if e.overlap {
		// Two acknowledged writes raced: either order is right.
		return "", ""
	}
	switch {
	case e.state == present && found && got.digest(allFields) == e.digest:
		return "", ""
	case e.maybeIs == present && found && got.digest(e.maybeFor) == e.maybe:
		return Ambiguous, "an update the client saw fail"
	case e.maybeIs == deleted && !found:
		return Ambiguous, "a delete the client saw fail"
	case e.state == present:
		return Lost, "present, as acknowledged"
	case e.state == deleted && found:
		return Resurrected, "deleted, as acknowledged"
	}
	return "", ""
}

// shown is how a finding shows what the API answered.
func shown(found bool, t task) string {
	if !found {
		return "absent (404)"
	}
	str := func(p *string) string {
		if p == nil {
			return "(none)"
		}
		return strconv.Quote(*p)
	}
	return fmt.Sprintf("title %s, status %s", str(t.Title), str(t.Status))
}

// find counts a finding and lists the first few.
func (r *reader) find(kind, tid, who, want, got string) {
	switch kind {
	case Lost:
		r.w.Lost++
	case Resurrected:
		r.w.Resurrected++
	case Duplicated:
		r.w.Duplicated++
	case Ambiguous:
		r.w.Ambiguous++
	}
	if len(r.w.Findings) < summary.MaxFindings {
		r.w.Findings = append(r.w.Findings, summary.Finding{Kind: kind, ID: tid, Owner: who, Want: want, Got: got})
	}
}

// name is how findings name the account: the seeded user's email, or a
// user the journeys made.
func (a *account) name() string {
	if a.email != "" {
		return a.email
	}
	return "a user the journeys registered"
}

// session reads as one user.
type session struct {
	r      *reader
	acct   *account
	retold bool // logged in again once already
}

var errLogin = errors.New("cannot log in as the task's owner")

// list reads every task of the user, page by page; complete is false
// when the pages held fewer distinct tasks than their total said (a
// page boundary fell between tasks of one millisecond) or a page failed.
func (s *session) list() (seen map[id]task, complete bool, err error) {
	seen = map[id]task{}
	total := -1
	for page := 1; ; page++ {
		var body struct {
			Tasks      []task `json:"tasks"`
			Pagination struct {
				Total int `json:"total"`
				Pages int `json:"pages"`
			} `json:"pagination"`
		}
		status, err := s.do(http.MethodGet, fmt.Sprintf("/api/tasks?page=%d&limit=%d", page, pageSize), &body)
		if err != nil {
			if page == 1 {
				return nil, false, err
			}
			return seen, false, err
		}
		if status != http.StatusOK {
			return seen, false, fmt.Errorf("list page %d: %w (status %d)", page, ErrUnreadable, status)
		}
		for _, t := range body.Tasks {
			if tid, err := parseID(t.ID); err == nil {
				seen[tid] = t
			}
		}
		total = body.Pagination.Total
		if page >= body.Pagination.Pages || len(body.Tasks) == 0 {
			break
		}
	}
	return seen, len(seen) == total, nil
}

// get reads one task: found false on a 404.
func (s *session) get(tid id) (task, bool, error) {
	var body struct {
		Task task `json:"task"`
	}
	status, err := s.do(http.MethodGet, "/api/tasks/"+tid.String(), &body)
	switch {
	case err != nil:
		return task{}, false, err
	case status == http.StatusNotFound:
		return task{}, false, nil
	case status != http.StatusOK:
		return task{}, false, fmt.Errorf("%w (status %d)", ErrUnreadable, status)
	}
	return body.Task, true, nil
}

// do sends one paced read as the user and decodes a 200's body into out,
// logging in again once if the token no longer works, and retrying what
// the API failed or deferred (a 429, a 5xx, no answer) a few times.
func (s *session) do(method, path string, out any) (int, error) {
	if s.acct.token == "" {
		if err := s.login(); err != nil {
			return 0, err
		}
	}
	status, err := s.r.send(method, path, s.acct.token, nil, out)
	if status == http.StatusUnauthorized && !s.retold {
		s.retold = true
		if err := s.login(); err != nil {
			return 0, err
		}
		status, err = s.r.send(method, path, s.acct.token, nil, out)
	}
	return status, err
}

// login gets a fresh token with the user's credentials.
func (s *session) login() error {
	if s.acct.email == "" {
		return fmt.Errorf("%w: the load never logged in as this user", errLogin)
	}
	body, _ := json.Marshal(map[string]string{"email": s.acct.email, "password": s.acct.password})
	var ans struct {
		Token string `json:"token"`
	}
	status, err := s.r.send(http.MethodPost, "/api/auth/login", "", body, &ans)
	if err != nil {
		return fmt.Errorf("%w: %v", errLogin, err)
	}
	if status != http.StatusOK || ans.Token == "" {
		return fmt.Errorf("%w: login answered %d", errLogin, status)
	}
	s.acct.token = ans.Token
	return nil
}

// attempts bounds the tries of one read.
const attempts = 4

// send sends one request at the reader's pace, retrying a 429, a 5xx or
// no answer; it decodes a 200's body into out.
func (r *reader) send(method, path, token string, body []byte, out any) (int, error) {
	var lastErr error
	status := 0
	for try := range attempts {
		select {
		case <-r.tick.C:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
		var wait time.Duration
		status, wait, lastErr = r.once(method, path, token, body, out)
		retry := lastErr != nil || status == http.StatusTooManyRequests || status >= 500
		if !retry {
			return status, nil
		}
		if try == attempts-1 {
			break
		}
		if wait <= 0 {
			wait = time.Duration(250<<try) * time.Millisecond
		}
		t := time.NewTimer(min(wait, 5*time.Second))
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return 0, r.ctx.Err()
		}
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("%w (status %d after %d tries)", ErrUnreadable, status, attempts)
	}
	return status, lastErr
}

// once sends one request; wait is the answer's Retry-After.
func (r *reader) once(method, path, token string, body []byte, out any) (status int, wait time.Duration, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(r.ctx, method, r.target+path, rd)
	if err != nil {
		return 0, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r.w.Requests++
	res, err := r.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return 0, 0, fmt.Errorf("read answer: %w", err)
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = time.Duration(s) * time.Second
	}
	if res.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return res.StatusCode, 0, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return res.StatusCode, wait, nil
}

// Describe says in one line what w found: "612 writes acknowledged, 205
// tasks read back: 0 lost, 0 resurrected, 0 duplicated, 2 ambiguous".
func Describe(w *summary.Writes) string {
	s := fmt.Sprintf("%d writes acknowledged, %d uncertain; %d of %d task(s) read back: %d lost, %d resurrected, %d duplicated, %d ambiguous",
		w.Acknowledged, w.Uncertain, w.Checked, w.Objects, w.Lost, w.Resurrected, w.Duplicated, w.Ambiguous)
	if w.Unverified > 0 {
		s += fmt.Sprintf("; %d could not be read back", w.Unverified)
	}
	if w.Untracked > 0 {
		s += fmt.Sprintf("; %d writes beyond the ledger's bound went unchecked", w.Untracked)
	}
	return s
}
