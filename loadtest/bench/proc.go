package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// child is one command the benchmark runs to its end: a peer's turn, a
// build, a report.
type child struct {
	name  string   // what to call it in errors: "wrk", "go install"
	path  string   // the executable
	args  []string // its arguments
	stdin io.Reader
	dir   string   // working directory; "" for the benchmark's own
	env   []string // added to the benchmark's environment
	// limit bounds its wall time: past it the child's whole process
	// group is killed and the run is an error.
	limit time.Duration
}

// childRun is what a child that ended left.
type childRun struct {
	stdout []byte
	// cpu is its user and system CPU time (its rusage, its own
	// children's included), wall the time from start to exit.
	cpu, wall time.Duration
}

// maxStderr bounds how much of a child's stderr an error quotes.
const maxStderr = 4 << 10

// run starts c, waits for it and returns its output and CPU time. A child
// that exits non-zero, outlives its limit or is cut short by ctx is an
// error quoting the end of its stderr.
func (c child) run(ctx context.Context) (childRun, error) {
	if c.limit <= 0 {
		return childRun{}, fmt.Errorf("%s: no time limit", c.name)
	}
	ctx, cancel := context.WithTimeout(ctx, c.limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, c.args...)
	cmd.SysProcAttr = procAttr()
	// The whole group: a child that started its own children must not
	// leave them behind.
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Dir = c.dir
	if len(c.env) > 0 {
		cmd.Env = append(cmd.Environ(), c.env...)
	}
	cmd.Stdin = c.stdin
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: maxStderr}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	start := time.Now()
	err := cmd.Run()
	r := childRun{stdout: stdout.Bytes(), wall: time.Since(start)}
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			err = fmt.Errorf("still running after %s, killed", c.limit)
		case ctx.Err() != nil:
			err = fmt.Errorf("stopped: %w", context.Cause(ctx))
		}
		if tail := strings.TrimSpace(stderr.String()); tail != "" {
			return r, fmt.Errorf("%s: %w\n%s", c.name, err, tail)
		}
		return r, fmt.Errorf("%s: %w", c.name, err)
	}
	return r, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }
