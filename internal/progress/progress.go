// Package progress draws a progress bar for long harness work: in place
// on a terminal, as a line every tenth of the way elsewhere (CI logs), so
// neither fills with thousands of redraws.
//
// A Bar is safe for use by one goroutine at a time.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

const width = 24

// Bar reports done out of total units of work.
type Bar struct {
	w       io.Writer
	label   string
	unit    string
	total   int
	tty     bool
	start   time.Time
	drawn   time.Time
	lastPct int
	now     func() time.Time
}

// New returns a bar for total units (named unit, "docs") on w.
func New(w io.Writer, label, unit string, total int) *Bar {
	b := &Bar{w: w, label: label, unit: unit, total: max(total, 1), tty: isTerminal(w), now: time.Now, lastPct: -1}
	b.start = b.now()
	return b
}

// Set records progress and redraws when it is time to.
func (b *Bar) Set(done int) {
	now := b.now()
	pct := min(100, done*100/b.total)
	switch {
	case b.tty && now.Sub(b.drawn) >= 100*time.Millisecond:
		fmt.Fprintf(b.w, "\r%s", b.line(done, now))
		b.drawn = now
	case !b.tty && pct/10 > b.lastPct/10:
		fmt.Fprintln(b.w, b.line(done, now))
		b.lastPct = pct
	}
}

// Done draws the final state and ends the line.
func (b *Bar) Done(done int) {
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\n", b.line(done, b.now()))
		return
	}
	if min(100, done*100/b.total) != b.lastPct {
		fmt.Fprintln(b.w, b.line(done, b.now()))
	}
}

func (b *Bar) line(done int, now time.Time) string {
	frac := min(1, float64(done)/float64(b.total))
	full := int(frac * width)
	elapsed := now.Sub(b.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	eta := "--"
	if rate > 0 && done < b.total {
		eta = (time.Duration(float64(b.total-done)/rate) * time.Second).Round(time.Second).String()
	} else if done >= b.total {
		eta = "done in " + elapsed.Round(10*time.Millisecond).String()
	}
	return fmt.Sprintf("%s [%s%s] %3d%%  %d/%d %s  %.0f %s/s  %s",
		b.label, strings.Repeat("█", full), strings.Repeat("░", width-full), int(frac*100), done, b.total, b.unit, rate, b.unit, eta)
}

// isTerminal reports whether w is a terminal: not merely a character
// device, which /dev/null is too.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
