package probe_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VySWQiOiI2NjVmIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in string
		want     string   // the redacted text, when it is worth stating whole
		gone     []string // what must not survive
	}{
		{name: "a JWT anywhere", in: "token " + jwt + " end", want: "token <redacted token> end"},
		{name: "a token field", in: `{"token":"` + jwt + `","user":{"id":"1"}}`, want: `{"token":"<redacted>","user":{"id":"1"}}`},
		{name: "a password field", in: `{"email":"a@example.com","password": "hunter2"}`, want: `{"email":"a@example.com","password":"<redacted>"}`},
		{name: "field names in any case and compound", in: `{"AccessToken":"a1","refresh_token":"r1","clientSecret":"s1","passwordHash":"h1"}`,
			gone: []string{"a1", "r1", "s1", "h1"}},
		{name: "an escaped quote does not end the secret", in: `{"password":"ab\"cd","x":1}`, want: `{"password":"<redacted>","x":1}`},
		{name: "a bcrypt hash outside a field", in: `["$2b$10$abcdefghijklmnopqrstuv0123456789ABCDEFGHIJKLMNOPQRS"]`, gone: []string{"abcdefghijklmnop"}},
		{name: "an argon2 hash", in: `hash $argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g end`, gone: []string{"aGFzaGhhc2g"}},
		{name: "the fixture password", in: "logged in with " + fixture.Password, want: "logged in with <redacted password>"},
		{name: "a Bearer credential in text", in: `{"note":"send Bearer abc.def-123"}`, gone: []string{"abc.def-123"}},
		{name: "nothing to hide", in: `{"title":"buy milk","status":"pending"}`, want: `{"title":"buy milk","status":"pending"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := probe.Redact(tt.in)
			if tt.want != "" && got != tt.want {
				t.Errorf("Redact(%q) = %q; want %q", tt.in, got, tt.want)
			}
			for _, g := range tt.gone {
				if strings.Contains(got, g) {
					t.Errorf("Redact(%q) = %q; still shows %q", tt.in, got, g)
				}
			}
			if strings.Contains(got, "eyJ") {
				t.Errorf("Redact(%q) = %q; still shows a JWT", tt.in, got)
			}
		})
	}
}

func TestRedactHeader(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"Authorization", "Bearer " + jwt, "Bearer <redacted>"},
		{"authorization", "Basic cmVhZGluZXNzOnJlYWRpbmVzcw==", "Basic <redacted>"},
		{"Authorization", "sometoken", "<redacted>"},
		{"Proxy-Authorization", "Bearer x", "Bearer <redacted>"},
		// A cookie keeps its name and attributes, never its value.
		{"Set-Cookie", "sid=s3cr3t; Path=/; HttpOnly; Secure; SameSite=Strict", "sid=<redacted>; Path=/; HttpOnly; Secure; SameSite=Strict"},
		{"Set-Cookie", "sid=s3cr3t", "sid=<redacted>"},
		// A cookie being cleared hides nothing, and shows it is cleared.
		{"Set-Cookie", "sid=; Path=/; Max-Age=0", "sid=; Path=/; Max-Age=0"},
		// An empty attribute does not make the cookie's value safe to show.
		{"Set-Cookie", "sid=s3cr3t; Path=/; Domain=", "sid=<redacted>; Path=/; Domain="},
		// Every cookie a request sends is hidden, not just the first.
		{"Cookie", "sid=s3cr3t; csrf=t0k3n", "sid=<redacted>; csrf=<redacted>"},
		// A challenge names the scheme; it carries no credential.
		{"WWW-Authenticate", `Bearer realm="api", error="invalid_token"`, `Bearer realm="api", error="invalid_token"`},
		{"X-Debug", "token " + jwt, "token <redacted token>"},
		{"Content-Type", "application/json", "application/json"},
	}
	for _, tt := range tests {
		if got := probe.RedactHeader(tt.name, tt.value); got != tt.want {
			t.Errorf("RedactHeader(%q, %q) = %q; want %q", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestClipKeepsRunesWhole(t *testing.T) {
	s := strings.Repeat("aé€😀", 20) // runes of 1, 2, 3 and 4 bytes
	for n := len("…"); n <= len(s)+1; n++ {
		got := probe.Clip(s, n)
		if !utf8.ValidString(got) {
			t.Fatalf("Clip(s, %d) = %q: not valid UTF-8", n, got)
		}
		if len(got) > n {
			t.Fatalf("Clip(s, %d) is %d bytes", n, len(got))
		}
		if n >= len(s) {
			if got != s {
				t.Fatalf("Clip(s, %d) = %q; want s unchanged", n, got)
			}
			continue
		}
		if !strings.HasSuffix(got, "…") || !strings.HasPrefix(s, strings.TrimSuffix(got, "…")) {
			t.Fatalf("Clip(s, %d) = %q; want a prefix of s and the mark", n, got)
		}
		// The cut is as late as the rune boundaries allow.
		if kept := len(got) - len("…"); n-len("…")-kept >= utf8.UTFMax {
			t.Fatalf("Clip(s, %d) kept %d bytes; more fit", n, kept)
		}
	}
	if got := probe.Clip("short", 300); got != "short" {
		t.Errorf("Clip of a short string = %q", got)
	}
}

func TestExcerpt(t *testing.T) {
	if got := probe.Excerpt([]byte(" \n\t")); got != "" {
		t.Errorf("Excerpt of blank = %q; want empty", got)
	}
	long := []byte(`{"token":"` + jwt + `","padding":"` + strings.Repeat("é", 400) + `"}`)
	got := probe.Excerpt(long)
	if len(got) > probe.MaxExcerpt || !utf8.ValidString(got) || strings.Contains(got, "eyJ") {
		t.Errorf("Excerpt = %q (%d bytes); want at most %d valid, redacted bytes", got, len(got), probe.MaxExcerpt)
	}
	if got := probe.Excerpt([]byte("\xff\xfe{}")); !utf8.ValidString(got) {
		t.Errorf("Excerpt of invalid UTF-8 = %q; want it made valid", got)
	}
}

func TestOneLine(t *testing.T) {
	if got := probe.OneLine("a\nb\r\nc\td"); got != "a b  c d" {
		t.Errorf("OneLine = %q", got)
	}
}
