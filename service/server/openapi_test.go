package server_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/taskready/taskready/service/httpapi"
)

// observed collects every (method, path, status) the tests saw, so that
// TestMain can check each answer is one openapi.json documents: the
// document describes what is served, not what was planned.
var observed sync.Map

func observe(method, path string, status int) {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	observed.Store(fmt.Sprintf("%s %s %d", method, path, status), true)
}

// undocumentedAnswers returns the observed answers that openapi.json does
// not list for their operation.
func undocumentedAnswers() ([]string, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	type route struct {
		pattern *regexp.Regexp
		path    string
	}
	var routes []route
	for p := range doc.Paths {
		re := regexp.MustCompile("^" + regexp.MustCompile(`\\\{\w+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$")
		routes = append(routes, route{re, p})
	}
	var missing []string
	observed.Range(func(k, _ any) bool {
		f := strings.Fields(k.(string))
		method, path, status := strings.ToLower(f[0]), f[1], f[2]
		for _, r := range routes {
			if !r.pattern.MatchString(path) {
				continue
			}
			raw, ok := doc.Paths[r.path][method]
			if !ok {
				return true // an undocumented method: Fiber's 405, not an operation
			}
			var op struct {
				Responses map[string]json.RawMessage `json:"responses"`
			}
			_ = json.Unmarshal(raw, &op)
			if _, ok := op.Responses[status]; !ok {
				missing = append(missing, fmt.Sprintf("%s %s -> %s", strings.ToUpper(method), r.path, status))
			}
			return true
		}
		return true
	})
	sort.Strings(missing)
	return slices.Compact(missing), nil
}
