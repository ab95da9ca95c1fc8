package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/taskready/taskready/service/httpapi"
	"github.com/taskready/taskready/service/metrics"
)

// document is the part of an OpenAPI document the tests read.
type document struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

var fiberParam = regexp.MustCompile(`:(\w+)`)

func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc document
	if err := json.Unmarshal(httpapi.OpenAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q; want 3.1.0", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "post", "put", "delete", "patch":
				documented = append(documented, method+" "+path)
			}
		}
	}

	app := httpapi.New(httpapi.Deps{
		Gatherer: prometheus.NewRegistry(),
		Metrics:  metrics.NewHTTP(),
		Logger:   slog.New(slog.DiscardHandler),
	}, httpapi.Options{MaxPageSize: 100, BodyLimit: 1 << 10})
	var served []string
	for _, r := range app.GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "OPTIONS" || r.Method == "USE" {
			continue
		}
		path := fiberParam.ReplaceAllString(r.Path, "{$1}")
		if len(path) > 1 && path[len(path)-1] == '/' {
			path = path[:len(path)-1] // a group's root route
		}
		served = append(served, toLower(r.Method)+" "+path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	served = slices.Compact(served)
	for _, op := range served {
		if !slices.Contains(documented, op) {
			t.Errorf("served but not documented: %s", op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(served, op) {
			t.Errorf("documented but not served: %s", op)
		}
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
