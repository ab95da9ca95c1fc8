package check_test

import (
	"context"
	"slices"
	"testing"

	"github.com/taskready/taskready/checks/check"
)

// Every category is declared once, in report order, with its title and
// whether it is security; an unknown one sorts last under its own name.
func TestCategories(t *testing.T) {
	want := []check.Category{check.Transport, check.CORS, check.Auth, check.Authz, check.Input,
		check.Limits, check.Health, check.MongoDB, check.Redis, check.Backup, check.Resilience, check.Ops}
	if got := check.Categories(); !slices.Equal(got, want) {
		t.Fatalf("Categories() = %v; want %v", got, want)
	}
	tests := []struct {
		c        check.Category
		order    int
		title    string
		security bool
	}{
		{check.Transport, 1, "Transport", true},
		{check.Auth, 3, "Authentication", true},
		{check.Authz, 4, "Authorization", true},
		{check.Limits, 6, "Limits", false},
		{check.MongoDB, 8, "MongoDB", false},
		{check.Resilience, 11, "Resilience", true},
		{check.Ops, 12, "Operations", false},
		{"custom", 0, "custom", false},
	}
	for _, tt := range tests {
		if o, ti, s := tt.c.Order(), tt.c.Title(), tt.c.Security(); o != tt.order || ti != tt.title || s != tt.security {
			t.Errorf("%q: order %d, title %q, security %v; want %d, %q, %v", tt.c, o, ti, s, tt.order, tt.title, tt.security)
		}
	}
}

func TestDisruptive(t *testing.T) {
	plain := check.Func{M: check.Meta{ID: "a"}, F: func(context.Context, *check.Target) check.Result { return check.Passf("ok") }}
	marked := check.Disruptive(plain)
	if check.IsDisruptive(plain) || !check.IsDisruptive(marked) {
		t.Errorf("IsDisruptive: plain %v, marked %v; want false, true", check.IsDisruptive(plain), check.IsDisruptive(marked))
	}
	if marked.Meta().ID != "a" || marked.Run(context.Background(), &check.Target{}).Status != check.Pass {
		t.Error("the marked check is not the check it wraps")
	}
}

// A nil Shared keeps nothing; a real one keeps the first value per key.
func TestSharedValue(t *testing.T) {
	var none *check.Shared
	n := 0
	mk := func() any { n++; return n }
	if none.Value("k", mk) == none.Value("k", mk) {
		t.Error("a nil Shared kept a value")
	}
	s := &check.Shared{}
	if a, b := s.Value("k", mk), s.Value("k", mk); a != b {
		t.Errorf("Value = %v then %v; want the first kept", a, b)
	}
	if s.Value("other", mk) == s.Value("k", mk) {
		t.Error("two keys share a value")
	}
}
