package engine_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/summary"
)

// mixFile sends 30 requests to /mix one after another and 4 to /body,
// each a whole iteration of one VU, so the server's answers are known
// request by request.
const mixFile = `
name: mix
scenarios:
  mixed:
    executor: per-vu-iterations
    vus: 1
    iterations: 30
    journeys: [get]
  checked:
    executor: per-vu-iterations
    vus: 1
    iterations: 4
    journeys: [body]
journeys:
  get:
    - name: get
      request: {method: GET, path: /mix}
      timeout: 300ms
  body:
    - name: body
      request: {method: GET, path: /body}
      check: {bodyContains: '"id"'}
`

// TestFailuresByReason runs against a server whose answers cycle through
// six 200s, two 404s, a 500 and one it never sends (the step times out),
// and a body without the field a check wants: the summary and the
// reports count exactly those, by reason and endpoint.
func TestFailuresByReason(t *testing.T) {
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /mix", func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 10 {
		case 6, 7:
			http.NotFound(w, r)
		case 8:
			http.Error(w, "boom", http.StatusInternalServerError)
		case 9:
			<-r.Context().Done() // never answers: the step's timeout ends it
		default:
			w.Write([]byte(`{"ok":true}`))
		}
	})
	mux.HandleFunc("GET /body", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"ok":true}`)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := engine.Run(ctx, parse(t, mixFile), srv.URL, generous)
	if err != nil {
		t.Fatal(err)
	}
	s := decided(res.Summary(engine.Meta{ID: "mix"}))
	want := []summary.Failure{
		{Scenario: "mixed", Endpoint: "get", Reason: "status 404 Not Found", Count: 6, Share: 6.0 / 30},
		{Scenario: "checked", Endpoint: "body", Reason: `check: body lacks '"id"'`, Count: 4, Share: 1},
		{Scenario: "mixed", Endpoint: "get", Reason: "status 500 Internal Server Error", Count: 3, Share: 3.0 / 30},
		{Scenario: "mixed", Endpoint: "get", Reason: "timeout after 300ms", Count: 3, Share: 3.0 / 30},
	}
	if got := s.Run.Failures; jsonOf(t, got) != jsonOf(t, want) {
		t.Errorf("failures:\n got %+v\nwant %+v", got, want)
	}

	var text, md, page bytes.Buffer
	if err := report.Text(&text, s); err != nil {
		t.Fatal(err)
	}
	if err := report.Markdown(&md, s); err != nil {
		t.Fatal(err)
	}
	if err := report.HTML(&page, s); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"✗ 6 × status 404 Not Found (get, 20.00% of its requests)",
		`✗ 4 × check: body lacks '"id"' (body, 100.00% of its requests)`,
		"✗ 3 × status 500 Internal Server Error (get, 10.00% of its requests)",
		"✗ 3 × timeout after 300ms (get, 10.00% of its requests)",
	} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("terminal summary lacks %q:\n%s", line, text.String())
		}
	}
	if !strings.Contains(md.String(), "| 6 | status 404 Not Found | `get` | `mixed` | 20.00% |") {
		t.Errorf("report.md lacks the 404 row:\n%s", md.String())
	}
	if !strings.Contains(page.String(), `<td class="l wrap-cell">timeout after 300ms</td><td class="l"><code>get</code></td><td class="l">mixed</td><td class="bad">3</td><td>10.00%</td>`) {
		t.Errorf("report.html lacks the timeout row")
	}
}
