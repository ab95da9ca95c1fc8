package reporttest_test

import (
	"fmt"
	"testing"

	"github.com/taskready/taskready/internal/reporttest"
)

// recorder is a testing.TB that keeps the failures it is given, so the
// assertions can be tested failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestSVG(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		svg  string
		bad  int
	}{
		{"finite", `<svg width="100%" viewBox="0 0 10 10"><path d="M0,1L2.5,3e1" stroke-dasharray="5 3"/><rect x="1" y="2" width="3" height="4"/></svg>`, 0},
		{"NaN coordinate", `<svg><circle cx="NaN" cy="1" r="2"/></svg>`, 1},
		{"Inf in a path", `<svg><path d="M0,0L+Inf,1"/></svg>`, 1},
		{"not a number", `<svg viewBox="0 0 a 10"/>`, 1},
		{"dash", `<svg><line x1="0" x2="1" y1="0" y2="1" stroke-dasharray="5 NaN"/></svg>`, 1},
		{"not well-formed", `<svg><g></svg>`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{TB: t}
			reporttest.SVG(r, tt.name, tt.svg)
			if len(r.errs) != tt.bad {
				t.Errorf("%d failures %q; want %d", len(r.errs), r.errs, tt.bad)
			}
		})
	}
}

func TestColorOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		plain, colored string
		bad            int
	}{
		{"escapes only", "a b\n", "\x1b[1ma\x1b[0m b\n", 0},
		{"no colour", "a\n", "a\n", 1},
		{"plain has escapes", "\x1b[1ma\x1b[0m\n", "\x1b[1ma\x1b[0m\n", 2}, // and colour is then more than escapes
		{"colour changed the text", "a\n", "\x1b[31mb\x1b[0m\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{TB: t}
			reporttest.ColorOnly(r, tt.name, []byte(tt.plain), []byte(tt.colored))
			if len(r.errs) != tt.bad {
				t.Errorf("%d failures %q; want %d", len(r.errs), r.errs, tt.bad)
			}
		})
	}
}
