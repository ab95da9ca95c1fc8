package httpapi

import (
	"strings"
	"testing"

	"github.com/taskready/taskready/service/failure"
)

const (
	msgNotJSON    = "Request body must be JSON (send Content-Type: application/json)"
	msgMalformed  = "Malformed JSON in request body"
	msgNotAnObj   = "Request body must be a JSON object"
	msgBadUnicode = "Request body must be valid UTF-8"
)

func str(s string) *string { return &s }

func showPtr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return "&" + *s
}

func TestDecodeJSONTask(t *testing.T) {
	t.Parallel()
	const ct = "application/json"
	tests := []struct {
		name        string
		contentType string
		body        string
		want        taskBody
	}{
		{"empty body", ct, "", taskBody{}},
		{"empty body, no content type", "", "", taskBody{}},
		{"empty body, other content type", "text/plain", "", taskBody{}},
		{"empty object", ct, "{}", taskBody{}},
		{"null", ct, "null", taskBody{}},
		{"title", ct, `{"title":"Buy milk"}`, taskBody{Title: str("Buy milk")}},
		{"all fields", ct, `{"title":"T","description":"D","status":"completed"}`, taskBody{Title: str("T"), Description: str("D"), Status: str("completed")}},
		{"empty strings kept", ct, `{"title":"","description":""}`, taskBody{Title: str(""), Description: str("")}},
		{"null field stays nil", ct, `{"title":null,"status":"pending"}`, taskBody{Status: str("pending")}},
		{"unknown fields ignored", ct, `{"title":"T","user":"someone-else","_id":"x","createdAt":1,"isAdmin":true}`, taskBody{Title: str("T")}},
		{"operator in unknown field ignored", ct, `{"title":"T","user":{"$ne":null}}`, taskBody{Title: str("T")}},
		{"surrounding whitespace", ct, " \n\t{\"title\":\"T\"}\r\n ", taskBody{Title: str("T")}},
		{"unicode escapes", ct, `{"title":"caf\u00e9 \ud83d\ude42"}`, taskBody{Title: str("café 🙂")}},
		{"raw multi-byte", ct, `{"title":"日本語"}`, taskBody{Title: str("日本語")}},
		{"charset parameter", "application/json; charset=utf-8", `{"title":"T"}`, taskBody{Title: str("T")}},
		{"upper-case media type", "Application/JSON", `{"title":"T"}`, taskBody{Title: str("T")}},
		{"problem+json", "application/problem+json", `{"title":"T"}`, taskBody{Title: str("T")}},
		{"vendor +json", "application/vnd.api+json", `{"title":"T"}`, taskBody{Title: str("T")}},
		{"duplicate key, last wins", ct, `{"title":"a","title":"b"}`, taskBody{Title: str("b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got taskBody
			if err := decodeJSON(tt.contentType, []byte(tt.body), &got); err != nil {
				t.Fatalf("decodeJSON(%q, %q) error = %v; want nil", tt.contentType, tt.body, err)
			}
			for _, f := range []struct {
				name      string
				got, want *string
			}{{"title", got.Title, tt.want.Title}, {"description", got.Description, tt.want.Description}, {"status", got.Status, tt.want.Status}} {
				if a, b := showPtr(f.got), showPtr(f.want); a != b {
					t.Errorf("decodeJSON(%q, %q) %s = %s; want %s", tt.contentType, tt.body, f.name, a, b)
				}
			}
		})
	}
}

func TestDecodeJSONCredentials(t *testing.T) {
	t.Parallel()
	var got credentials
	body := `{"name":"Ada","email":"ada@example.com","password":"secret1","role":"admin"}`
	if err := decodeJSON("application/json", []byte(body), &got); err != nil {
		t.Fatalf("decodeJSON(%q) error = %v", body, err)
	}
	if showPtr(got.Name) != "&Ada" || showPtr(got.Email) != "&ada@example.com" || showPtr(got.Password) != "&secret1" {
		t.Errorf("decodeJSON(%q) = {%s %s %s}; want {Ada ada@example.com secret1}", body, showPtr(got.Name), showPtr(got.Email), showPtr(got.Password))
	}
}

func TestDecodeJSONRefuses(t *testing.T) {
	t.Parallel()
	const ct = "application/json"
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	tests := []struct {
		name        string
		contentType string
		body        string
		dst         func() any
		kind        failure.Kind
		message     string
	}{
		{"no content type", "", `{"title":"T"}`, newTask, failure.Unsupported, msgNotJSON},
		{"text/plain", "text/plain", `{"title":"T"}`, newTask, failure.Unsupported, msgNotJSON},
		{"form", "application/x-www-form-urlencoded", "title=T", newTask, failure.Unsupported, msgNotJSON},
		{"multipart", "multipart/form-data; boundary=x", "--x--", newTask, failure.Unsupported, msgNotJSON},
		{"text/json", "text/json", `{"title":"T"}`, newTask, failure.Unsupported, msgNotJSON},
		{"bad media type", "application/json; charset", `{"title":"T"}`, newTask, failure.Unsupported, msgNotJSON},
		{"json suffix without plus", "application/xjson", `{"title":"T"}`, newTask, failure.Unsupported, msgNotJSON},
		{"content type checked before JSON", "text/plain", "{", newTask, failure.Unsupported, msgNotJSON},
		{"invalid UTF-8 in a string", ct, "{\"title\":\"\xff\xfe\"}", newTask, failure.Invalid, msgBadUnicode},
		{"invalid UTF-8 outside strings", ct, "{\"title\":\"T\"}\xc3", newTask, failure.Invalid, msgBadUnicode},
		{"overlong encoding", ct, "{\"title\":\"\xc0\xaf\"}", newTask, failure.Invalid, msgBadUnicode},
		{"surrogate half encoded in UTF-8", ct, "{\"title\":\"\xed\xa0\x80\"}", newTask, failure.Invalid, msgBadUnicode},
		{"truncated", ct, `{"title":"T"`, newTask, failure.Invalid, msgMalformed},
		{"open brace", ct, "{", newTask, failure.Invalid, msgMalformed},
		{"missing value", ct, `{"title":}`, newTask, failure.Invalid, msgMalformed},
		{"single quotes", ct, `{'title':'T'}`, newTask, failure.Invalid, msgMalformed},
		{"trailing comma", ct, `{"title":"T",}`, newTask, failure.Invalid, msgMalformed},
		{"two objects", ct, `{} {}`, newTask, failure.Invalid, msgMalformed},
		{"trailing garbage", ct, `{"title":"T"}x`, newTask, failure.Invalid, msgMalformed},
		{"bare word", ct, "hello", newTask, failure.Invalid, msgMalformed},
		{"byte order mark", ct, "\ufeff{}", newTask, failure.Invalid, msgMalformed},
		{"bad escape", ct, `{"title":"\x"}`, newTask, failure.Invalid, msgMalformed},
		{"too deep", ct, deep, newTask, failure.Invalid, msgMalformed},
		{"array", ct, `[]`, newTask, failure.Invalid, msgNotAnObj},
		{"array of objects", ct, `[{"title":"T"}]`, newTask, failure.Invalid, msgNotAnObj},
		{"string", ct, `"T"`, newTask, failure.Invalid, msgNotAnObj},
		{"number", ct, `42`, newTask, failure.Invalid, msgNotAnObj},
		{"boolean", ct, `true`, newTask, failure.Invalid, msgNotAnObj},
		{"array into credentials", ct, `["a@b.c"]`, newCreds, failure.Invalid, msgNotAnObj},
		{"operator object", ct, `{"email":{"$gt":""}}`, newCreds, failure.Invalid, "email must be a string"},
		{"operator in password", ct, `{"email":"a@b.c","password":{"$ne":null}}`, newCreds, failure.Invalid, "password must be a string"},
		{"name number", ct, `{"name":1}`, newCreds, failure.Invalid, "name must be a string"},
		{"title number", ct, `{"title":123}`, newTask, failure.Invalid, "title must be a string"},
		{"title huge number", ct, `{"title":1e400}`, newTask, failure.Invalid, "title must be a string"},
		{"title boolean", ct, `{"title":true}`, newTask, failure.Invalid, "title must be a string"},
		{"title object", ct, `{"title":{"$regex":".*"}}`, newTask, failure.Invalid, "title must be a string"},
		{"status array", ct, `{"status":["pending"]}`, newTask, failure.Invalid, "status must be a string"},
		{"description object", ct, `{"description":{}}`, newTask, failure.Invalid, "description must be a string"},
		{"first wrong field named", ct, `{"title":1,"status":2}`, newTask, failure.Invalid, "title must be a string"},
		{"wrong type after a good field", ct, `{"title":"T","status":{"$in":["a"]}}`, newTask, failure.Invalid, "status must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.body
			if len(body) > 60 {
				body = body[:60] + "..."
			}
			err := decodeJSON(tt.contentType, []byte(tt.body), tt.dst())
			if err == nil {
				t.Fatalf("decodeJSON(%q, %q) = nil; want %q", tt.contentType, body, tt.message)
			}
			if got := failure.KindOf(err); got != tt.kind {
				t.Errorf("decodeJSON(%q, %q) kind = %v; want %v", tt.contentType, body, got, tt.kind)
			}
			if got := failure.MessageOf(err); got != tt.message {
				t.Errorf("decodeJSON(%q, %q) message = %q; want %q", tt.contentType, body, got, tt.message)
			}
		})
	}
}

func newTask() any  { return new(taskBody) }
func newCreds() any { return new(credentials) }

func TestIsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		contentType string
		want        bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"APPLICATION/JSON", true},
		{"application/problem+json", true},
		{"application/merge-patch+json", true},
		{"application/vnd.api+json; charset=utf-8", true},
		{"", false},
		{"json", false},
		{"text/json", false},
		{"text/plain", false},
		{"application/javascript", false},
		{"application/json-seq", false},
		{"text/x+json", false},
		{"application/json;;", false},
	}
	for _, tt := range tests {
		if got := isJSON(tt.contentType); got != tt.want {
			t.Errorf("isJSON(%q) = %v; want %v", tt.contentType, got, tt.want)
		}
	}
}
