package progress

import (
	"fmt"
	"io"
	"time"
)

// Line is a live status line, such as a load run's elapsed time, rate and
// p95: redrawn in place on a terminal, printed every Every elsewhere so a
// CI log gets a readable trace rather than a redraw per second.
type Line struct {
	w     io.Writer
	tty   bool
	every time.Duration
	last  time.Time
	width int
	now   func() time.Time
}

// DefaultEvery is how often a Line prints on something that is not a
// terminal.
const DefaultEvery = 10 * time.Second

// NewLine returns a live line on w.
func NewLine(w io.Writer) *Line {
	return &Line{w: w, tty: isTerminal(w), every: DefaultEvery, now: time.Now}
}

// Set shows text, now on a terminal and when it is time to elsewhere.
func (l *Line) Set(text string) {
	if l.tty {
		pad := max(l.width-len(text), 0)
		fmt.Fprintf(l.w, "\r%s%*s", text, pad, "")
		l.width = len(text)
		return
	}
	if now := l.now(); l.last.IsZero() || now.Sub(l.last) >= l.every {
		l.last = now
		fmt.Fprintln(l.w, text)
	}
}

// Done shows text for the last time and ends the line.
func (l *Line) Done(text string) {
	if l.tty {
		l.Set(text)
		fmt.Fprintln(l.w)
		return
	}
	fmt.Fprintln(l.w, text)
}
