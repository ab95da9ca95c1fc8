package spelling_test

import (
	"testing"

	"github.com/taskready/taskready/internal/spelling"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"duration", "duration", 0},
		{"duraton", "duration", 1}, {"constant-vu", "constant-vus", 1}, {"kitten", "sitting", 3}, {"p95", "p(95)", 2},
	}
	for _, tt := range tests {
		if got := spelling.Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
		if got := spelling.Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d; want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"run", "seed", "smoke", "version"}
	for _, tt := range []struct {
		word string
		max  int
		want string
	}{
		{"rnu", 2, "run"},
		{"sede", 2, "seed"},
		{"smoek", 2, "smoke"},
		{"launch", 2, ""},
		{"sede", 0, ""},
		{"seed", 0, "seed"},
	} {
		if got := spelling.Closest(tt.word, known, tt.max); got != tt.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", tt.word, tt.max, got, tt.want)
		}
	}
}
