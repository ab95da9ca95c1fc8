package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"github.com/taskready/taskready/internal/buildinfo"
	"github.com/taskready/taskready/service/metrics"
)

func TestStatusClass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   string
	}{
		{-1, "other"},
		{0, "other"},
		{99, "other"},
		{100, "1xx"},
		{199, "1xx"},
		{200, "2xx"},
		{201, "2xx"},
		{299, "2xx"},
		{304, "3xx"},
		{400, "4xx"},
		{429, "4xx"},
		{499, "4xx"},
		{500, "5xx"},
		{503, "5xx"},
		{599, "5xx"},
		{600, "other"},
		{1000, "other"},
	}
	for _, tt := range tests {
		if got := metrics.StatusClass(tt.status); got != tt.want {
			t.Errorf("StatusClass(%d) = %q; want %q", tt.status, got, tt.want)
		}
	}
}

// exposition renders the named families of reg in the text format, as
// /metrics serves them. (prometheus/testutil.CollectAndCompare would do,
// but needs a module this go.mod does not list.)
func exposition(t *testing.T, reg prometheus.Gatherer, names ...string) string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var b strings.Builder
	for _, f := range families {
		for _, n := range names {
			if f.GetName() == n {
				if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
					t.Fatalf("MetricFamilyToText: %v", err)
				}
			}
		}
	}
	return b.String()
}

func TestObserveOneRequest(t *testing.T) {
	t.Parallel()
	h := metrics.NewHTTP()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h.Collectors()...)

	h.Observe("GET", "/api/tasks/:id", 200, 30*time.Millisecond)

	const want = `# HELP taskapi_http_request_duration_seconds HTTP request latency by method, route template and status class.
# TYPE taskapi_http_request_duration_seconds histogram
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="0.001"} 0
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="0.0025"} 0
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="0.005"} 0
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="0.01"} 0
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="0.025"} 0
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="0.05"} 1
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="0.1"} 1
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="0.25"} 1
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="0.5"} 1
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="1"} 1
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="2.5"} 1
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="5"} 1
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="10"} 1
taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="+Inf"} 1
taskapi_http_request_duration_seconds_sum{method="GET",route="/api/tasks/:id",status_class="2xx"} 0.03
taskapi_http_request_duration_seconds_count{method="GET",route="/api/tasks/:id",status_class="2xx"} 1
# HELP taskapi_http_requests_in_flight HTTP requests being served.
# TYPE taskapi_http_requests_in_flight gauge
taskapi_http_requests_in_flight 0
# HELP taskapi_http_requests_total HTTP requests by method, route template and status class.
# TYPE taskapi_http_requests_total counter
taskapi_http_requests_total{method="GET",route="/api/tasks/:id",status_class="2xx"} 1
`
	got := exposition(t, reg, "taskapi_http_request_duration_seconds", "taskapi_http_requests_in_flight", "taskapi_http_requests_total")
	if got != want {
		t.Errorf("after Observe(GET, /api/tasks/:id, 200, 30ms) exposition =\n%s\nwant:\n%s", got, want)
	}
}

func TestObserveGroupsByClass(t *testing.T) {
	t.Parallel()
	h := metrics.NewHTTP()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h.Collectors()...)

	h.Observe("POST", "/api/tasks", 201, time.Millisecond)
	h.Observe("POST", "/api/tasks", 200, time.Millisecond)
	h.Observe("POST", "/api/tasks", 400, time.Millisecond)
	h.Observe("GET", "unmatched", 404, time.Millisecond)
	h.Observe("GET", "unmatched", 418, time.Millisecond)

	const want = `# HELP taskapi_http_requests_total HTTP requests by method, route template and status class.
# TYPE taskapi_http_requests_total counter
taskapi_http_requests_total{method="GET",route="unmatched",status_class="4xx"} 2
taskapi_http_requests_total{method="POST",route="/api/tasks",status_class="2xx"} 2
taskapi_http_requests_total{method="POST",route="/api/tasks",status_class="4xx"} 1
`
	if got := exposition(t, reg, "taskapi_http_requests_total"); got != want {
		t.Errorf("exposition =\n%s\nwant:\n%s", got, want)
	}
}

func TestNewRegistry(t *testing.T) {
	t.Parallel()
	h := metrics.NewHTTP()
	reg, err := metrics.NewRegistry(h.Collectors()...)
	if err != nil {
		t.Fatalf("NewRegistry(http) error = %v", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
	}
	for _, name := range []string{
		"go_goroutines",                 // Go collector
		"go_memstats_alloc_bytes",       // Go collector
		"process_cpu_seconds_total",     // process collector
		"process_resident_memory_bytes", // process collector
		"taskapi_http_requests_in_flight",
		metrics.BuildInfoName,
	} {
		if !have[name] {
			t.Errorf("NewRegistry(http) gathers no %s", name)
		}
	}

	// A second, independent set of metrics gets its own registry.
	if _, err := metrics.NewRegistry(metrics.NewHTTP().Collectors()...); err != nil {
		t.Errorf("NewRegistry(second http) error = %v; want nil (registries are private)", err)
	}
}

// TestBuildInfo reads the gauge as a scraper does: 1, with the build's
// version and revision as labels and "unknown" for what it lacks.
func TestBuildInfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		info buildinfo.Info
		want string
	}{
		{"release", buildinfo.Info{Version: "v1.2.0", Revision: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", GoVersion: "go1.26.0"},
			`taskapi_build_info{goversion="go1.26.0",revision="1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",version="v1.2.0"} 1`},
		{"no vcs", buildinfo.Info{Version: "(devel)"},
			`taskapi_build_info{goversion="unknown",revision="unknown",version="(devel)"} 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			reg.MustRegister(metrics.BuildInfo(tc.info))
			fams, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
			for _, f := range fams {
				if err := enc.Encode(f); err != nil {
					t.Fatal(err)
				}
			}
			if !strings.Contains(b.String(), tc.want+"\n") {
				t.Errorf("exposition lacks %s:\n%s", tc.want, b.String())
			}
		})
	}
}

func TestNewRegistryRejectsDuplicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cs   func() []prometheus.Collector
	}{
		{"same metrics twice", func() []prometheus.Collector {
			h := metrics.NewHTTP()
			return append(h.Collectors(), h.Collectors()...)
		}},
		{"two HTTP sets", func() []prometheus.Collector {
			return append(metrics.NewHTTP().Collectors(), metrics.NewHTTP().Collectors()...)
		}},
		{"another Go collector", func() []prometheus.Collector {
			return []prometheus.Collector{collectors.NewGoCollector()}
		}},
		{"another process collector", func() []prometheus.Collector {
			return []prometheus.Collector{collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, err := metrics.NewRegistry(tt.cs()...)
			if err == nil {
				t.Errorf("NewRegistry(%s) = %v, nil; want an error", tt.name, reg)
			}
			if reg != nil {
				t.Errorf("NewRegistry(%s) registry = %v; want nil on error", tt.name, reg)
			}
		})
	}
}

func TestDurationBuckets(t *testing.T) {
	t.Parallel()
	b := metrics.DurationBuckets
	if got, want := b[0], 0.001; got != want {
		t.Errorf("first bucket = %v; want %v (1 ms)", got, want)
	}
	if got, want := b[len(b)-1], 10.0; got != want {
		t.Errorf("last bucket = %v; want %v (10 s)", got, want)
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			t.Errorf("buckets %v not increasing at %d", b, i)
		}
	}
}
