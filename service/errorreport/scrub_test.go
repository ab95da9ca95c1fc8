package errorreport

import (
	"strings"
	"testing"
)

func TestScrubberString(t *testing.T) {
	t.Parallel()
	s := newScrubber([]string{"s3cr3t-value-0123", "pw", "redis-pass-77"})
	for _, tt := range []struct{ name, in, want string }{
		{"plain text kept", "list tasks: decode: cannot decode 32-bit integer into a string type", "list tasks: decode: cannot decode 32-bit integer into a string type"},
		{"ids kept", "task 65f0c0ffee0123456789abcd of user 65f0c0ffee0123456789abce", "task 65f0c0ffee0123456789abcd of user 65f0c0ffee0123456789abce"},
		{"configured secret", "signing with s3cr3t-value-0123 failed", "signing with [Filtered] failed"},
		{"too short a secret is left", "pwned", "pwned"},
		{"JWT", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_1 expired", "token [Filtered] expired"},
		{"JWT without signature", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "[Filtered]"},
		{"mongodb URI", "dial mongodb://admin:hunter2@db:27017/tasks?authSource=admin", "dial mongodb://[Filtered]@db:27017/tasks?authSource=admin"},
		{"mongodb+srv URI", "mongodb+srv://u:p@cluster0.example.net", "mongodb+srv://[Filtered]@cluster0.example.net"},
		{"redis URI with password only", "redis://:redis-pass-77@cache:6379/0", "redis://[Filtered]@cache:6379/0"},
		{"URI without credentials kept", "dial tcp mongodb://db:27017: refused", "dial tcp mongodb://db:27017: refused"},
		{"DSN key", "post https://0123abcd@o1.ingest.sentry.io/42", "post https://[Filtered]@o1.ingest.sentry.io/42"},
		{"bearer", "Authorization: Bearer abc.def.ghi", "Authorization: [Filtered]"},
		{"bearer alone", "sent Bearer abcdefgh", "sent Bearer [Filtered]"},
		{"basic", "basic dXNlcjpwYXNz", "basic [Filtered]"},
		{"password=", "login password=letmein&email=a@b.c", "login password=[Filtered]&email=a@b.c"},
		{"json password", `{"password":"letmein","name":"x"}`, `{"password":[Filtered],"name":"x"}`},
		{"cookie", "Cookie: token=abc; theme=dark", "Cookie: [Filtered]; theme=dark"},
		{"secret key", "jwt_secret: 'x y z'", "jwt_secret: [Filtered]"},
	} {
		if got := s.String(tt.in); got != tt.want {
			t.Errorf("%s: scrub(%q) = %q; want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// FuzzScrubber: whatever the text, what leaves holds no configured secret
// and nothing shaped like a JWT or credentials in a URI.
func FuzzScrubber(f *testing.F) {
	for _, seed := range []string{
		"", "plain", "mongodb://a:b@h", "eyJa.eyJb.c", "password=x", "Bearer abcd", "s3cr3t-value-0123",
		"redis://:s3cr3t-value-0123@h", "eyJab.cd.e://u:p@h", "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.x",
	} {
		f.Add(seed)
	}
	s := newScrubber([]string{"s3cr3t-value-0123"})
	f.Fuzz(func(t *testing.T, in string) {
		out := s.String(in)
		if strings.Contains(out, "s3cr3t-value-0123") {
			t.Fatalf("scrub(%q) = %q keeps the secret", in, out)
		}
		if m := jwtLike.FindString(out); m != "" {
			t.Fatalf("scrub(%q) = %q keeps the JWT-like %q", in, out, m)
		}
		for _, m := range uriUserinfo.FindAllStringSubmatch(out, -1) {
			if !strings.HasSuffix(m[0], "://"+Filtered+"@") {
				t.Fatalf("scrub(%q) = %q keeps the URI credentials %q", in, out, m[0])
			}
		}
	})
}
