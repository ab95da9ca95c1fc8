package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestNonTerminalPrintsEveryTenth(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Unix(0, 0)
	b := New(&buf, "seeding", "docs", 1000)
	b.now = func() time.Time { return clock }
	b.start = clock
	for done := 0; done <= 1000; done += 10 {
		clock = clock.Add(10 * time.Millisecond)
		b.Set(done)
	}
	b.Done(1000)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines; want 10 (10%% to 100%% by tenths):\n%s", len(lines), buf.String())
	}
	last := lines[len(lines)-1]
	for _, want := range []string{"100%", "1000/1000 docs", "990 docs/s", "done in 1.01s", strings.Repeat("█", width)} {
		if !strings.Contains(last, want) {
			t.Errorf("last line %q lacks %q", last, want)
		}
	}
}

func TestTerminalRedrawsInPlaceAtMostTenTimesASecond(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Unix(0, 0)
	b := New(&buf, "x", "u", 100)
	b.tty, b.now, b.start = true, func() time.Time { return clock }, clock
	for i := 0; i <= 100; i++ {
		clock = clock.Add(5 * time.Millisecond) // 0.5 s in all
		b.Set(i)
	}
	if n := strings.Count(buf.String(), "\r"); n < 4 || n > 6 {
		t.Errorf("%d redraws in 0.5 s; want about 5", n)
	}
	if strings.Contains(buf.String(), "\n") {
		t.Error("a terminal bar must not end lines before Done")
	}
}

func TestWidth(t *testing.T) {
	for _, tt := range []struct {
		columns string
		want    int
	}{
		{"", DefaultWidth - 1},
		{"120", 119},
		{"40", 39},
		{"wide", DefaultWidth - 1},
		{"-3", DefaultWidth - 1},
	} {
		t.Run(tt.columns, func(t *testing.T) {
			t.Setenv("COLUMNS", tt.columns)
			// A buffer is no terminal: $COLUMNS, else the default.
			if got := Width(&bytes.Buffer{}); got != tt.want {
				t.Errorf("Width with COLUMNS=%q = %d; want %d", tt.columns, got, tt.want)
			}
		})
	}
}

// TestLineShrinksWithoutDebris redraws a shorter line over a longer one
// whose multi-byte "µ" makes bytes and columns differ: the redraw must
// cover every column the longer one took.
func TestLineShrinksWithoutDebris(t *testing.T) {
	var buf bytes.Buffer
	l := NewLine(&buf)
	l.tty = true
	l.Set("p95 850µs  errors 0.00%") // 23 columns, 24 bytes
	l.Set("p95 1ms")
	draws := strings.Split(buf.String(), "\r")[1:]
	if len(draws) != 2 {
		t.Fatalf("%d redraws; want 2: %q", len(draws), buf.String())
	}
	if got := []rune(draws[1]); len(got) != 23 || strings.TrimRight(draws[1], " ") != "p95 1ms" {
		t.Errorf("second draw %q: want \"p95 1ms\" padded to the 23 columns of the first", draws[1])
	}
}

// A note goes on a row of its own over the live line, covering it, and
// the next Set draws the live line again below; off a terminal it is a
// line of its own.
func TestNoteGoesAboveTheLiveLine(t *testing.T) {
	var buf bytes.Buffer
	l := NewLine(&buf)
	l.tty = true
	l.Set("elapsed 10s  1,000 req/s")
	l.Note("fault x: kill api-2") // 19 columns over 24: padded
	l.Set("elapsed 11s")
	want := "\relapsed 10s  1,000 req/s\rfault x: kill api-2     \n\relapsed 11s"
	if got := buf.String(); got != want {
		t.Errorf("terminal output = %q; want %q", got, want)
	}

	buf.Reset()
	l = NewLine(&buf)
	l.Note("fault mongo-down: healed")
	if got := buf.String(); got != "fault mongo-down: healed\n" {
		t.Errorf("non-terminal output = %q", got)
	}
}
