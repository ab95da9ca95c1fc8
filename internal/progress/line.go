package progress

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// Line is a live status line, such as a load run's elapsed time, rate and
// p95: redrawn in place on a terminal, printed every Every elsewhere so a
// CI log gets a readable trace rather than a redraw per second.
type Line struct {
	mu    sync.Mutex // Note may come from other goroutines than Set's
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

// DefaultWidth is the width of a line when neither the terminal nor
// $COLUMNS says: the classic terminal's.
const DefaultWidth = 80

// NewLine returns a live line on w.
func NewLine(w io.Writer) *Line {
	return &Line{w: w, tty: isTerminal(w), every: DefaultEvery, now: time.Now}
}

// Width is how many columns a line's text may take without wrapping (see
// Width).
func (l *Line) Width() int { return Width(l.w) }

// Width is how many columns text written to w may take: the terminal's
// width when w is a terminal, else $COLUMNS, else DefaultWidth. A
// terminal's last column is left free, since writing into it wraps the
// cursor on some terminals and a redraw with \r would then start on the
// next row.
func Width(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 1 {
			return cols - 1
		}
	}
	if cols, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && cols > 1 {
		return cols - 1
	}
	return DefaultWidth - 1
}

// Set shows text, now on a terminal and when it is time to elsewhere. On
// a terminal text should fit Width: a longer one wraps, and the next
// redraw cannot take back the row it wrapped onto.
func (l *Line) Set(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.set(text)
}

func (l *Line) set(text string) {
	if l.tty {
		// Columns, not bytes: "µs" is two bytes in one column, and
		// padding by bytes would leave the end of a longer line behind.
		n := utf8.RuneCountInString(text)
		fmt.Fprintf(l.w, "\r%s%*s", text, max(l.width-n, 0), "")
		l.width = n
		return
	}
	if now := l.now(); l.last.IsZero() || now.Sub(l.last) >= l.every {
		l.last = now
		fmt.Fprintln(l.w, text)
	}
}

// Done shows text for the last time and ends the line.
func (l *Line) Done(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tty {
		l.set(text)
		fmt.Fprintln(l.w)
		return
	}
	fmt.Fprintln(l.w, text)
}

// Note prints text on a line of its own above the live line (an event
// during the run, such as a fault), which the next Set draws again below.
func (l *Line) Note(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tty {
		n := utf8.RuneCountInString(text)
		fmt.Fprintf(l.w, "\r%s%*s\n", text, max(l.width-n, 0), "")
		l.width = 0
		return
	}
	fmt.Fprintln(l.w, text)
}
