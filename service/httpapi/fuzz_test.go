package httpapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/taskready/taskready/service/failure"
	"github.com/taskready/taskready/service/task"
)

// checkDecode decodes body into a fresh dst and checks decodeJSON's
// promises: any error is a *failure.Error the client may see (Invalid or
// Unsupported, never Internal) with a message from a fixed set, so no client
// text is echoed; a success came from valid JSON and left only valid UTF-8
// in the fields.
func checkDecode(t *testing.T, contentType string, body []byte, dst any, fields []string, values func() []*string) {
	t.Helper()
	err := decodeJSON(contentType, body, dst)
	if err != nil {
		var fe *failure.Error
		if !errors.As(err, &fe) {
			t.Fatalf("decodeJSON(%q, %q) error %T %v; want a *failure.Error", contentType, body, err, err)
		}
		switch fe.Kind {
		case failure.Invalid, failure.Unsupported:
		default:
			t.Fatalf("decodeJSON(%q, %q) kind %v (%v); want Invalid or Unsupported", contentType, body, fe.Kind, err)
		}
		allowed := map[string]bool{msgNotJSON: true, msgMalformed: true, msgNotAnObj: true, msgBadUnicode: true}
		for _, f := range fields {
			allowed[f+" must be a string"] = true
		}
		if msg := failure.MessageOf(err); !allowed[msg] {
			t.Fatalf("decodeJSON(%q, %q) message %q is not one of the fixed messages", contentType, body, msg)
		}
		return
	}
	if len(body) > 0 && !json.Valid(body) {
		t.Fatalf("decodeJSON(%q, %q) = nil for invalid JSON", contentType, body)
	}
	for i, v := range values() {
		if v != nil && !utf8.ValidString(*v) {
			t.Fatalf("decodeJSON(%q, %q) field %s = %q, not valid UTF-8", contentType, body, fields[i], *v)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	const ct = "application/json"
	seeds := []struct {
		contentType, body string
	}{
		// Realistic bodies from the React client and curl.
		{ct, `{"name":"Ada Lovelace","email":"ada@example.com","password":"secret123"}`},
		{ct, `{"email":"ada@example.com","password":"secret123"}`},
		{"application/json; charset=utf-8", `{"title":"Buy milk","description":"2 litres","status":"pending"}`},
		{"application/json;charset=UTF-8", `{"title":"Write report","status":"in-progress"}`},
		{ct, `{"status":"completed"}`},
		{ct, `{"title":"café 🙂 日本語","description":"line\nbreak \"quoted\" \\ \u00e9"}`},
		{ct, `{}`},
		{ct, ``},
		{"", ``},
		{ct, `null`},
		{"application/problem+json", `{"title":"T"}`},
		{"application/vnd.api+json", `{"title":"T"}`},
		// Injection and mass assignment.
		{ct, `{"email":{"$gt":""},"password":{"$gt":""}}`},
		{ct, `{"email":"a@b.c","password":{"$ne":null}}`},
		{ct, `{"title":{"$regex":".*"},"user":{"$ne":null}}`},
		{ct, `{"title":"T","user":"64b7f0c2a1b2c3d4e5f60718","_id":"x","createdAt":"2020-01-01","__proto__":{"isAdmin":true}}`},
		{ct, `{"title":["a","b"],"status":["pending"]}`},
		{ct, `{"title":123,"description":true,"status":1.5e308}`},
		{ct, `{"title":1e400}`},
		{ct, `{"TITLE":5,"Email":{}}`},
		{ct, `{"title":"a","title":{"$gt":""}}`},
		// Wrong shapes and broken JSON.
		{ct, `[]`},
		{ct, `[{"email":"a@b.c"}]`},
		{ct, `"just a string"`},
		{ct, `42`},
		{ct, `true`},
		{ct, `{`},
		{ct, `{"title":"T"`},
		{ct, `{"title":}`},
		{ct, `{'title':'T'}`},
		{ct, `{"title":"T",}`},
		{ct, `{} {}`},
		{ct, `{"title":"\x"}`},
		{ct, `{"title":"\ud800"}`},
		{ct, "\ufeff{}"},
		{ct, "{\"title\":\"\xff\xfe\"}"},
		{ct, "{\"title\":\"\xed\xa0\x80\"}"},
		{ct, strings.Repeat("[", 2000) + strings.Repeat("]", 2000)},
		{ct, `{"a":` + strings.Repeat(`{"a":`, 500) + `1` + strings.Repeat(`}`, 501)},
		// Content types that are not JSON.
		{"text/plain", `{"title":"T"}`},
		{"application/x-www-form-urlencoded", `title=T&status=pending`},
		{"multipart/form-data; boundary=----x", "------x\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nT\r\n------x--"},
		{"application/json; charset", `{"title":"T"}`},
		{"application/json; charset=\"", `{}`},
		{"text/json", `{}`},
		{"APPLICATION/JSON", `{"title":"T"}`},
	}
	for _, s := range seeds {
		f.Add(s.contentType, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		for _, c := range []string{contentType, ct} {
			var in credentials
			checkDecode(t, c, body, &in, []string{"name", "email", "password"},
				func() []*string { return []*string{in.Name, in.Email, in.Password} })
			var tb taskBody
			checkDecode(t, c, body, &tb, []string{"title", "description", "status"},
				func() []*string { return []*string{tb.Title, tb.Description, tb.Status} })
		}
	})
}

func FuzzParseListQuery(f *testing.F) {
	seeds := []string{
		// Realistic.
		"",
		"search=milk",
		"status=pending",
		"status=in-progress&search=report",
		"page=1",
		"page=2&limit=20",
		"limit=5",
		"page=3&limit=100&status=completed&search=q3+report",
		"search=caf%C3%A9+%F0%9F%99%82",
		"_=1700000000000&page=1",
		"page=&limit=",
		"status=",
		// Hostile.
		"status[$ne]=completed",
		"status%5B%24ne%5D=completed",
		"search[$regex]=.*",
		"search[]=a&search[]=b",
		"$where=sleep(1000)",
		"%24where=1",
		"search=.*&search=a",
		"page=1&page=2",
		"page=0",
		"page=-1",
		"page=1e9",
		"page=99999999999999999999999",
		"limit=1000001",
		"limit=0x10",
		"page=1000000&limit=10000",
		"search=%zz",
		"search=%",
		"%zz=1",
		"a=1;b=2",
		"search=" + strings.Repeat("a", 201),
		"search=" + strings.Repeat("%C3%A9", 200),
		"search=%FF%FE%00",
		"search=(a%2B)%2B%24",
		"page=%2B5&limit=%20+7+",
		"&&&==&=",
		"page",
		"a[" + strings.Repeat("b", 100) + "]=1",
		// Invalid UTF-8 once decoded: the store answered such a search 500.
		"search=%ff%fe",
		"search=\xff\xfe",
		"search=caf%C3",
		"search=%C0%AF",
		"search=%ED%A0%80",
		"%ff=1",
		"status=%ff",
	}
	for _, s := range seeds {
		f.Add(s, uint16(99))
	}
	f.Add("page=2", uint16(0))
	f.Add("limit=50", uint16(9999))

	f.Fuzz(func(t *testing.T, raw string, m uint16) {
		maxPage := 1 + int(m)%10000 // MAX_PAGE_SIZE is 1 to 10000
		q, err := parseListQuery(raw, maxPage)
		if err != nil {
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Kind != failure.Invalid {
				t.Fatalf("parseListQuery(%q, %d) error %T %v; want an Invalid *failure.Error", raw, maxPage, err, err)
			}
			return
		}
		fl := q.filter
		if fl.Limit < 1 || fl.Limit > maxPage {
			t.Fatalf("parseListQuery(%q, %d) Limit = %d; want 1..%d", raw, maxPage, fl.Limit, maxPage)
		}
		if q.page < 1 {
			t.Fatalf("parseListQuery(%q, %d) page = %d; want >= 1", raw, maxPage, q.page)
		}
		if fl.Skip < 0 || fl.Skip != (q.page-1)*fl.Limit {
			t.Fatalf("parseListQuery(%q, %d) Skip = %d with page %d, limit %d; want (page-1)*limit >= 0", raw, maxPage, fl.Skip, q.page, fl.Limit)
		}
		if !q.paged && (fl.Limit != maxPage || q.page != 1) {
			t.Fatalf("parseListQuery(%q, %d) unpaged = page %d, limit %d; want page 1, limit %d", raw, maxPage, q.page, fl.Limit, maxPage)
		}
		if fl.Status != "" {
			if _, err := task.ParseStatus(string(fl.Status)); err != nil {
				t.Fatalf("parseListQuery(%q, %d) Status = %q, not a valid status", raw, maxPage, fl.Status)
			}
		}
		if !utf8.ValidString(fl.Search) {
			t.Fatalf("parseListQuery(%q, %d) Search = %q, not valid UTF-8", raw, maxPage, fl.Search)
		}
		if n := utf8.RuneCountInString(fl.Search); n > task.MaxSearchLen {
			t.Fatalf("parseListQuery(%q, %d) Search has %d runes; want <= %d", raw, maxPage, n, task.MaxSearchLen)
		}
		if fl.Search != strings.TrimSpace(fl.Search) {
			t.Fatalf("parseListQuery(%q, %d) Search = %q, not trimmed", raw, maxPage, fl.Search)
		}
		if fl.UserID != "" {
			t.Fatalf("parseListQuery(%q, %d) UserID = %q; the query must never set it", raw, maxPage, fl.UserID)
		}
	})
}
