package embedded

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
)

// child is a server run as a child process (redis-server, postgres,
// initdb) with its stdout and stderr in a log file.
type child struct {
	name    string // what messages call it, e.g. "redis-server"
	cmd     *exec.Cmd
	logPath string        // its stdout and stderr
	done    chan struct{} // closed once the process has been reaped
	waitErr error         // cmd.Wait's result; read only after done
}

// startChild starts cmd (with attr, see sysProcAttr) writing its output to
// logPath, which is truncated first.
func startChild(name string, cmd *exec.Cmd, logPath string, attr *syscall.SysProcAttr) (*child, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	defer logFile.Close() // the child has its own descriptor

	// A file rather than a pipe: no copying goroutine, and Wait cannot hang
	// on a pipe held open by a forked grandchild.
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = attr

	c := &child{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// On Linux the child gets SIGKILL when the thread that forked it
		// exits (Pdeathsig, so it cannot outlive a crashed parent). Keep
		// that thread alive, by holding it, until the child is reaped.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// running reports whether the process has not exited yet.
func (c *child) running() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// tail returns the last lines the process printed, on one line.
func (c *child) tail() string {
	const maxBytes, maxLines = 4096, 6
	f, err := os.Open(c.logPath)
	if err != nil {
		return "<no output: " + err.Error() + ">"
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxBytes {
		_, _ = f.Seek(fi.Size()-maxBytes, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, maxBytes))
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "<no output>"
	}
	return strings.Join(lines[max(0, len(lines)-maxLines):], " | ")
}

// wait waits (bounded by ctx) until the process has been reaped.
func (c *child) wait(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("embedded: %s (pid %d) did not exit: %w", c.name, c.pid(), context.Cause(ctx))
	}
}

// stop kills the process group and waits (bounded by ctx) until the process
// has been reaped.
func (c *child) stop(ctx context.Context) error {
	if !c.running() {
		return nil
	}
	killGroup(c.cmd.Process)
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("embedded: %s (pid %d) did not exit after kill: %w", c.name, c.pid(), context.Cause(ctx))
	}
}
