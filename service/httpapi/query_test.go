package httpapi

import (
	"strings"
	"testing"

	"github.com/taskready/taskready/service/failure"
	"github.com/taskready/taskready/service/task"
)

const statusMessage = "Invalid status. Must be: pending, in-progress, or completed"

func TestParseListQuery(t *testing.T) {
	t.Parallel()
	long200 := strings.Repeat("é", 200)
	tests := []struct {
		name    string
		raw     string
		maxPage int
		want    listQuery
	}{
		{"empty: unpaged, capped", "", 100, listQuery{filter: task.Filter{Limit: 100}, page: 1}},
		{"empty, smaller cap", "", 25, listQuery{filter: task.Filter{Limit: 25}, page: 1}},
		{"page only", "page=1", 100, listQuery{filter: task.Filter{Limit: 10}, paged: true, page: 1}},
		{"page 3 only", "page=3", 100, listQuery{filter: task.Filter{Limit: 10, Skip: 20}, paged: true, page: 3}},
		{"limit only", "limit=5", 100, listQuery{filter: task.Filter{Limit: 5}, paged: true, page: 1}},
		{"page and limit", "page=3&limit=20", 100, listQuery{filter: task.Filter{Limit: 20, Skip: 40}, paged: true, page: 3}},
		{"limit at cap", "limit=100", 100, listQuery{filter: task.Filter{Limit: 100}, paged: true, page: 1}},
		{"limit capped", "limit=500", 100, listQuery{filter: task.Filter{Limit: 100}, paged: true, page: 1}},
		{"limit capped, skip from capped", "page=2&limit=500", 100, listQuery{filter: task.Filter{Limit: 100, Skip: 100}, paged: true, page: 2}},
		{"default page size above cap", "page=2", 5, listQuery{filter: task.Filter{Limit: 5, Skip: 5}, paged: true, page: 2}},
		{"largest page", "page=1000000&limit=1", 100, listQuery{filter: task.Filter{Limit: 1, Skip: 999999}, paged: true, page: 1000000}},
		{"blank page and limit: unpaged", "page=&limit=", 100, listQuery{filter: task.Filter{Limit: 100}, page: 1}},
		{"blank page, limit given", "page=&limit=7", 100, listQuery{filter: task.Filter{Limit: 7}, paged: true, page: 1}},
		{"padded numbers", "page=%202%20&limit=+3+", 100, listQuery{filter: task.Filter{Limit: 3, Skip: 3}, paged: true, page: 2}},
		{"status", "status=completed", 100, listQuery{filter: task.Filter{Limit: 100, Status: task.Completed}, page: 1}},
		{"status in-progress paged", "status=in-progress&page=2", 100, listQuery{filter: task.Filter{Limit: 10, Skip: 10, Status: task.InProgress}, page: 2, paged: true}},
		{"status padded", "status=%20pending%20", 100, listQuery{filter: task.Filter{Limit: 100, Status: task.Pending}, page: 1}},
		{"blank status means any", "status=", 100, listQuery{filter: task.Filter{Limit: 100}, page: 1}},
		{"search", "search=buy+milk", 100, listQuery{filter: task.Filter{Limit: 100, Search: "buy milk"}, page: 1}},
		{"search trimmed", "search=%20%20milk%09", 100, listQuery{filter: task.Filter{Limit: 100, Search: "milk"}, page: 1}},
		{"search regex text kept plain", "search=a.*(b%5C", 100, listQuery{filter: task.Filter{Limit: 100, Search: `a.*(b\`}, page: 1}},
		{"search dollar value kept plain", "search=%24where", 100, listQuery{filter: task.Filter{Limit: 100, Search: "$where"}, page: 1}},
		{"search 200 characters", "search=" + long200, 100, listQuery{filter: task.Filter{Limit: 100, Search: long200}, page: 1}},
		{"unknown keys ignored", "_=1700000000&foo=bar&foo=baz&utm_source=x", 100, listQuery{filter: task.Filter{Limit: 100}, page: 1}},
		{"key without value", "page", 100, listQuery{filter: task.Filter{Limit: 100}, page: 1}},
		{"everything", "search=report&status=pending&page=2&limit=15&_=1", 100, listQuery{filter: task.Filter{Limit: 15, Skip: 15, Search: "report", Status: task.Pending}, page: 2, paged: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseListQuery(tt.raw, tt.maxPage)
			if err != nil {
				t.Fatalf("parseListQuery(%q, %d) error = %v", tt.raw, tt.maxPage, err)
			}
			if got != tt.want {
				t.Errorf("parseListQuery(%q, %d) = %+v; want %+v", tt.raw, tt.maxPage, got, tt.want)
			}
		})
	}
}

func TestParseListQueryRefuses(t *testing.T) {
	t.Parallel()
	const (
		pageMsg  = "page must be a whole number from 1 to 1000000"
		limitMsg = "limit must be a whole number from 1 to 1000000"
		badQuery = "Malformed query string"
	)
	notAllowed := func(key string) string {
		return `Query parameter "` + key + `" is not allowed: values must be plain strings`
	}
	tests := []struct {
		name, raw, want string
	}{
		{"page zero", "page=0", pageMsg},
		{"page negative", "page=-1", pageMsg},
		{"page word", "page=two", pageMsg},
		{"page fraction", "page=1.5", pageMsg},
		{"page exponent", "page=1e3", pageMsg},
		{"page hex", "page=0x10", pageMsg},
		{"page too large", "page=1000001", pageMsg},
		{"page overflows int", "page=99999999999999999999999", pageMsg},
		{"limit zero", "limit=0", limitMsg},
		{"limit negative", "limit=-5", limitMsg},
		{"limit word", "limit=all", limitMsg},
		{"limit too large", "limit=1000001", limitMsg},
		{"status unknown", "status=done", statusMessage},
		{"status wrong case", "status=Pending", statusMessage},
		{"search 201 characters", "search=" + strings.Repeat("s", 201), "search must be at most 200 characters"},
		{"search 201 multi-byte", "search=" + strings.Repeat("ж", 201), "search must be at most 200 characters"},
		{"bracketed operator", "status[$ne]=completed", notAllowed("status[$ne]")},
		{"encoded bracketed operator", "status%5B%24ne%5D=completed", notAllowed("status[$ne]")},
		{"array key", "search[]=a", notAllowed("search[]")},
		{"nested key", "search[regex]=.*", notAllowed("search[regex]")},
		{"dollar key", "$where=1", notAllowed("$where")},
		{"encoded dollar key", "%24where=sleep(1000)", notAllowed("$where")},
		{"bracketed unknown key", "foo[bar]=1", notAllowed("foo[bar]")},
		{"closing bracket only", "page]=1", notAllowed("page]")},
		{"long key clipped", "a[" + strings.Repeat("b", 60) + "]=1", notAllowed("a[" + strings.Repeat("b", 38) + "...")},
		{"repeated page", "page=1&page=2", `Query parameter "page" must be given once`},
		{"repeated status", "status=pending&status=completed", `Query parameter "status" must be given once`},
		{"repeated search", "search=a&search=b", `Query parameter "search" must be given once`},
		{"repeated blank limit", "limit=&limit=", `Query parameter "limit" must be given once`},
		{"bad escape in value", "search=%zz", badQuery},
		{"truncated escape", "search=%", badQuery},
		{"truncated escape, two chars", "search=%4", badQuery},
		{"bad escape in key", "%zz=1", badQuery},
		{"bad escape in unknown key", "page=1&x%=1", badQuery},
		{"semicolon separator", "page=1;limit=2", badQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseListQuery(tt.raw, 100)
			if err == nil {
				t.Fatalf("parseListQuery(%q) = %+v, nil; want %q", tt.raw, got, tt.want)
			}
			if got, want := failure.KindOf(err), failure.Invalid; got != want {
				t.Errorf("parseListQuery(%q) kind = %v; want %v", tt.raw, got, want)
			}
			if got := failure.MessageOf(err); got != tt.want {
				t.Errorf("parseListQuery(%q) message = %q; want %q", tt.raw, got, tt.want)
			}
		})
	}
}
