package contract

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText writes a human summary to w: a header naming the target, one
// line per step ("  ✓ name  12ms", "  ✗ name  detail", "  - name  detail"),
// and as the last line "N passed, N failed, N skipped in 1.2s", a format CI
// parses.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "contract smoke of %s\n", r.Target)
	width := 0
	for _, res := range r.Results {
		width = max(width, len(res.Name))
	}
	for _, res := range r.Results {
		mark, tail := "?", res.Detail
		switch res.Status {
		case Pass:
			mark, tail = "✓", stepDuration(res.Elapsed)
		case Fail:
			mark = "✗"
		case Skip:
			mark = "-"
		}
		fmt.Fprintf(&b, "  %s %-*s  %s\n", mark, width, res.Name, oneLine(tail))
	}
	pass, fail, skip := r.Counts()
	fmt.Fprintf(&b, "%d passed, %d failed, %d skipped in %.1fs\n", pass, fail, skip, r.Elapsed.Seconds())
	_, err := io.WriteString(w, b.String())
	return err
}

// stepDuration is "12ms" under a second, "1.2s" from there.
func stepDuration(d time.Duration) string {
	if ms := d.Round(time.Millisecond); ms < time.Second {
		return fmt.Sprintf("%dms", ms.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
