package dashboards_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/dashboards"
	"github.com/taskready/taskready/dashboards/prom"
)

// TestVerifyFindsBrokenPanels runs a dashboard's queries against a real
// Prometheus: a typo in a metric name (no series) and a syntax error must
// both fail, with the panel named; a good query passes.
func TestVerifyFindsBrokenPanels(t *testing.T) {
	if _, err := exec.LookPath("prometheus"); err != nil {
		if os.Getenv("REQUIRE_PROMETHEUS") != "" {
			t.Fatal("prometheus not on PATH and REQUIRE_PROMETHEUS is set")
		}
		t.Skip("prometheus not installed (apt-get install prometheus)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := 0
	exp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n++
		fmt.Fprintf(w, "# HELP taskapi_http_requests_total Requests.\n# TYPE taskapi_http_requests_total counter\ntaskapi_http_requests_total{route=\"/api/tasks\"} %d\n", n)
	}))
	defer exp.Close()
	start := time.Now()
	srv, err := prom.Start(ctx, []prom.Target{{Job: "taskapi", Addrs: []string{strings.TrimPrefix(exp.URL, "http://")}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for ctx.Err() == nil {
		if s, err := srv.Query(ctx, "taskapi_http_requests_total", time.Time{}); err == nil && len(s) == 1 && s[0].Value >= 3 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	board := []byte(`{"title": "B", "panels": [
	  {"type": "timeseries", "title": "Good", "targets": [{"expr": "sum by (route) (rate(taskapi_http_requests_total{route=~\"$route\"}[$__rate_interval]))"}]},
	  {"type": "timeseries", "title": "Typo", "targets": [{"expr": "sum(rate(taskapi_http_request_total[$__rate_interval]))"}]},
	  {"type": "stat", "title": "Syntax", "targets": [{"expr": "sum(rate(taskapi_http_requests_total[$__rate_interval])"}]}
	]}`)
	qs, err := dashboards.Queries(board)
	if err != nil {
		t.Fatal(err)
	}
	got := dashboards.Verify(ctx, srv, qs, dashboards.Window{Start: start, End: time.Now().Add(time.Second), Step: time.Second, RateInterval: 5 * time.Second})
	if len(got) != 3 {
		t.Fatalf("%d findings, want 3", len(got))
	}
	if !got[0].OK() || got[0].Series != 1 || got[0].Expanded != `sum by (route) (rate(taskapi_http_requests_total{route=~".*"}[5s]))` {
		t.Errorf("good panel: %+v", got[0])
	}
	if got[1].OK() || got[1].Err != nil || got[1].Series != 0 || got[1].Panel != "Typo" {
		t.Errorf("typo panel: %+v; want no series, no error", got[1])
	}
	var qe *prom.QueryError
	if got[2].OK() || !errors.As(got[2].Err, &qe) || got[2].Panel != "Syntax" {
		t.Errorf("syntax panel: %+v; want a query error", got[2])
	}
}
