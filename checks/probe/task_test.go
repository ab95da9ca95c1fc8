package probe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

// DeleteTask tries each owner until one deletes the task, escapes the id
// into the path, and still runs when the check's context is done.
func TestDeleteTask(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.EscapedPath()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") == "Bearer b" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	probe.DeleteTask(ctx, &check.Target{BaseURL: srv.URL}, "a/b", nil, &fixture.User{Token: "a"}, &fixture.User{Token: "b"}, &fixture.User{Token: "c"})
	want := []string{"DELETE /api/tasks/a%2Fb Bearer a", "DELETE /api/tasks/a%2Fb Bearer b"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTitle(t *testing.T) {
	for _, tt := range []struct{ prefix, want string }{
		{"readiness-run-1", `^readiness-run-1 idor get [0-9a-f]{8}$`},
		{"", `^readiness idor get [0-9a-f]{8}$`},
	} {
		if got := probe.Title(&check.Target{Prefix: tt.prefix}, "idor get"); !regexp.MustCompile(tt.want).MatchString(got) {
			t.Errorf("Title with prefix %q = %q; want %s", tt.prefix, got, tt.want)
		}
	}
	if probe.Title(&check.Target{}, "x") == probe.Title(&check.Target{}, "x") {
		t.Error("two titles are equal; want a random tag each")
	}
}

// A tally of notes alone (a check judging a sequence of calls) says what
// was found without counting requests; a counted one says how many.
func TestTallyResultMessages(t *testing.T) {
	fail := check.Evidence{Observed: "200: B read it"}
	warn := check.Evidence{Observed: "403, not 404"}
	tests := []struct {
		name   string
		tl     probe.Tally
		status check.Status
		msg    string
	}{
		{"notes, fail", probe.Tally{Fails: []check.Evidence{fail}, Warns: []check.Evidence{warn}}, check.Fail, "B reached A's task: 200: B read it"},
		{"notes, warn", probe.Tally{Warns: []check.Evidence{warn}}, check.Warn, "nothing leaked, with a caveat: 403, not 404"},
		{"counted, fail", probe.Tally{Sent: 4, Fails: []check.Evidence{fail}}, check.Fail, "1 of 4 B reached A's task: 200: B read it"},
		{"counted, warn", probe.Tally{Sent: 4, Warns: []check.Evidence{warn}}, check.Warn, "nothing leaked, but 1 of 4 with a caveat: 403, not 404"},
		{"counted, error", probe.Tally{Sent: 4, Errs: []check.Evidence{{Observed: "no verdict: 429"}}}, check.Error, "1 of 4 probes reached no verdict: no verdict: 429"},
		{"nothing", probe.Tally{Sent: 4}, check.Pass, "nothing leaked"},
	}
	for _, tt := range tests {
		r := tt.tl.Result("B reached A's task", "nothing leaked")
		if r.Status != tt.status || r.Message != tt.msg {
			t.Errorf("%s: %s %q; want %s %q", tt.name, r.Status, r.Message, tt.status, tt.msg)
		}
	}
}

// DeleteCreated deletes only what a 2xx answer says it created.
func TestDeleteCreated(t *testing.T) {
	var mu sync.Mutex
	deleted := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodDelete && r.URL.Path == "/api/tasks/t1" {
			deleted++
		}
	}))
	defer srv.Close()
	target := &check.Target{BaseURL: srv.URL}
	owner := &fixture.User{Token: "a"}
	for _, x := range []probe.Exchange{
		{Status: http.StatusBadRequest, Body: []byte(`{"task":{"_id":"t1"}}`)},
		{Status: http.StatusCreated, Body: []byte(`{"message":"no task"}`)},
		{Status: http.StatusCreated, Body: []byte(`not json`)},
		{Status: http.StatusCreated, Body: []byte(`{"task":{"_id":"t1"}}`)},
	} {
		probe.DeleteCreated(context.Background(), target, x, owner)
	}
	if deleted != 1 {
		t.Errorf("%d deletes; want 1, for the one 2xx answer that names its task", deleted)
	}
}
