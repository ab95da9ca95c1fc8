package user_test

import (
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/service/failure"
	"github.com/taskready/taskready/service/user"
)

const (
	msgMissing       = "Please provide name, email, and password"
	msgEmail         = "Please provide a valid email"
	msgShortPassword = "Password must be at least 6 characters"
	msgLongPassword  = "Password must be at most 72 bytes"
	msgLongName      = "Name must be at most 100 characters"
)

// emailOfLen returns a syntactically valid email of exactly n bytes.
func emailOfLen(n int) string {
	const domain = "@example.com"
	return strings.Repeat("a", n-len(domain)) + domain
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"ada@example.com", "ada@example.com"},
		{"  Ada@Example.COM \n", "ada@example.com"},
		{"", ""},
		{"   ", ""},
		{"ÉLODIE@EXAMPLE.FR", "élodie@example.fr"},
	}
	for _, tt := range tests {
		if got := user.NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestRegistrationNormalize(t *testing.T) {
	t.Parallel()
	r := user.Registration{Name: "  Ada Lovelace \t", Email: " ADA@Example.com ", Password: "  pass word  "}
	r.Normalize()
	want := user.Registration{Name: "Ada Lovelace", Email: "ada@example.com", Password: "  pass word  "}
	if r != want {
		t.Errorf("Normalize() = %+v; want %+v (password untouched)", r, want)
	}
}

func TestRegistrationValidate(t *testing.T) {
	t.Parallel()
	ok := func(name, email, password string) user.Registration {
		return user.Registration{Name: name, Email: email, Password: password}
	}
	tests := []struct {
		name string
		reg  user.Registration
		want string // "" for valid
	}{
		{"valid", ok("Ada", "ada@example.com", "secret1"), ""},
		{"missing all", ok("", "", ""), msgMissing},
		{"missing name", ok("", "ada@example.com", "secret1"), msgMissing},
		{"missing email", ok("Ada", "", "secret1"), msgMissing},
		{"missing password", ok("Ada", "ada@example.com", ""), msgMissing},
		{"name 100", ok(strings.Repeat("n", 100), "ada@example.com", "secret1"), ""},
		{"name 100 multi-byte", ok(strings.Repeat("ñ", 100), "ada@example.com", "secret1"), ""},
		{"name 101", ok(strings.Repeat("n", 101), "ada@example.com", "secret1"), msgLongName},
		{"name 101 multi-byte", ok(strings.Repeat("名", 101), "ada@example.com", "secret1"), msgLongName},
		{"email 254", ok("Ada", emailOfLen(254), "secret1"), ""},
		{"email 255", ok("Ada", emailOfLen(255), "secret1"), msgEmail},
		{"email no at", ok("Ada", "not-an-email", "secret1"), msgEmail},
		{"email no dot in domain", ok("Ada", "ada@localhost", "secret1"), msgEmail},
		{"email two ats", ok("Ada", "ada@@example.com", "secret1"), msgEmail},
		{"email with space", ok("Ada", "ada lovelace@example.com", "secret1"), msgEmail},
		{"email no local part", ok("Ada", "@example.com", "secret1"), msgEmail},
		{"email trailing dot", ok("Ada", "ada@example.", "secret1"), msgEmail},
		{"email operator text", ok("Ada", `{"$gt":""}`, "secret1"), msgEmail},
		{"password 5", ok("Ada", "ada@example.com", "12345"), msgShortPassword},
		{"password 6", ok("Ada", "ada@example.com", "123456"), ""},
		// Six bytes but three characters: the minimum counts characters.
		{"password 3 runes 6 bytes", ok("Ada", "ada@example.com", "ééé"), msgShortPassword},
		{"password 72", ok("Ada", "ada@example.com", strings.Repeat("p", 72)), ""},
		{"password 73", ok("Ada", "ada@example.com", strings.Repeat("p", 73)), msgLongPassword},
		// 37 characters but 74 bytes: the maximum counts bytes, as bcrypt does.
		{"password 37 runes 74 bytes", ok("Ada", "ada@example.com", strings.Repeat("é", 37)), msgLongPassword},
		{"password 36 runes 72 bytes", ok("Ada", "ada@example.com", strings.Repeat("é", 36)), ""},
		{"name checked before email", ok(strings.Repeat("n", 101), "bad", "1"), msgLongName},
		{"email checked before password", ok("Ada", "bad", "1"), msgEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.reg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("%+v.Validate() = %v; want nil", tt.reg, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("%+v.Validate() = nil; want %q", tt.reg, tt.want)
			}
			if got, want := failure.KindOf(err), failure.Invalid; got != want {
				t.Errorf("%+v.Validate() kind = %v; want %v", tt.reg, got, want)
			}
			if got := failure.MessageOf(err); got != tt.want {
				t.Errorf("%+v.Validate() message = %q; want %q", tt.reg, got, tt.want)
			}
		})
	}
}

func TestRegistrationNormalizeThenValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		reg  user.Registration
		want string
	}{
		{"blank name", user.Registration{Name: "   ", Email: "a@example.com", Password: "secret1"}, msgMissing},
		{"blank email", user.Registration{Name: "Ada", Email: " \t ", Password: "secret1"}, msgMissing},
		{"padded email of 254", user.Registration{Name: "Ada", Email: "  " + emailOfLen(254) + "  ", Password: "secret1"}, ""},
		{"name 100 after trimming", user.Registration{Name: " " + strings.Repeat("n", 100) + " ", Email: "a@example.com", Password: "secret1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.reg
			r.Normalize()
			err := r.Validate()
			if got := messageOrEmpty(err); got != tt.want {
				t.Errorf("Normalize+Validate(%+v) = %q; want %q", tt.reg, got, tt.want)
			}
		})
	}
}

func messageOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return failure.MessageOf(err)
}

func TestUserProfile(t *testing.T) {
	t.Parallel()
	created := time.Date(2024, 2, 3, 4, 5, 6, 7_000_000, time.UTC)
	u := &user.User{ID: "id1", Name: "Ada", Email: "ada@example.com", PasswordHash: "$2a$12$secret", CreatedAt: created}
	want := user.Profile{ID: "id1", Name: "Ada", Email: "ada@example.com", CreatedAt: created}
	if got := u.Profile(); got != want {
		t.Errorf("Profile() = %+v; want %+v", got, want)
	}
}
