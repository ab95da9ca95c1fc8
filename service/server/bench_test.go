package server_test

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkHotPaths measures the API's hot paths in process, through the
// whole middleware stack and against real stores (embedded FerretDB and
// redis-server), with allocations. Each result is also reported as a
// ratio to "health", the same stack with no store call, run first in the
// same command: ratios survive a slower machine, nanoseconds do not.
func BenchmarkHotPaths(b *testing.B) {
	in := newEnv(b).start(b, "RATE_LIMIT_AUTH=100000000/1m", "RATE_LIMIT_API=100000000/1m")
	c := in.client(b)
	c.register("Bench")
	for i := 0; i < 100; i++ {
		c.createTask(map[string]any{"title": fmt.Sprintf("task %d", i), "status": []string{"pending", "completed"}[i%2]})
	}
	h := in.App().Handler()
	auth := "Bearer " + c.token

	cases := []struct {
		name, method, uri, body string
		status                  int
	}{
		{"health", "GET", "/api/health", "", 200},
		{"auth_profile", "GET", "/api/auth/profile", "", 200},
		{"list_page", "GET", "/api/tasks?page=1&limit=10", "", 200},
		{"list_search", "GET", "/api/tasks?search=task%201&status=pending", "", 200},
		{"create", "POST", "/api/tasks", `{"title":"benchmark task","description":"d","status":"in-progress"}`, 201},
	}
	perOp := map[string]time.Duration{}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var req fasthttp.Request
			req.Header.SetMethod(tc.method)
			req.SetRequestURI(tc.uri)
			req.Header.Set("Authorization", auth)
			if tc.body != "" {
				req.Header.SetContentType("application/json")
				req.SetBodyString(tc.body)
			}
			var rc fasthttp.RequestCtx
			rc.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
			b.ReportAllocs()
			for b.Loop() {
				rc.Response.Reset()
				h(&rc)
				if got := rc.Response.StatusCode(); got != tc.status {
					b.Fatalf("%s %s = %d %s", tc.method, tc.uri, got, rc.Response.Body())
				}
			}
			perOp[tc.name] = b.Elapsed() / time.Duration(b.N)
			if base := perOp["health"]; base > 0 && tc.name != "health" {
				b.ReportMetric(float64(perOp[tc.name])/float64(base), "x-health")
			}
		})
	}
	names := make([]string, 0, len(perOp))
	for n := range perOp {
		names = append(names, n)
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, n := range names {
		fmt.Fprintf(&sb, "\n  %-13s %10s/op  %6.1fx health", n, perOp[n].Round(time.Microsecond/10), float64(perOp[n])/float64(perOp["health"]))
	}
	b.Logf("hot paths against real stores:%s", sb.String())
}
