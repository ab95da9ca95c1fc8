// Package child runs a long-lived helper program (Prometheus, an
// exporter) as a child process of the harness: what it prints is kept
// for error messages, and it is stopped with SIGTERM, killed if it does
// not exit within a grace period, and its scratch directory removed.
package child

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/taskready/taskready/internal/syncio"
)

// Grace is how long Stop waits after SIGTERM before it kills.
const Grace = 10 * time.Second

// Process is a started child.
type Process struct {
	cmd  *exec.Cmd
	dir  string
	log  syncio.Buffer
	done chan struct{}
}

// Start starts cmd, its output going to the process's log, and makes
// dir (may be "") its scratch directory, which Stop removes; on error dir
// is removed at once. cmd should not be a CommandContext: Stop ends it,
// so that it can flush.
func Start(cmd *exec.Cmd, dir string) (*Process, error) {
	p := &Process{cmd: cmd, dir: dir, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.log, &p.log
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

// Exited is nil while the process runs, and says how it ended after.
func (p *Process) Exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("exited (%v)", p.cmd.ProcessState)
	default:
		return nil
	}
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Output is what the process has printed so far.
func (p *Process) Output() string { return p.log.String() }

// PID is the process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM, kills the process if it is still there after
// Grace, and removes its scratch directory. It may be called again.
func (p *Process) Stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(Grace):
		p.cmd.Process.Kill()
		<-p.done
	}
	return os.RemoveAll(p.dir)
}

// FreePort is a TCP port free on 127.0.0.1 now, for a child to listen on.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// PortAttempts is how often a child whose port was taken is started
// again, each time on a new FreePort.
const PortAttempts = 5

// ErrPortTaken marks a child that exited because the address it was given
// to listen on was in use (see PortTakenError).
var ErrPortTaken = errors.New("its port was taken")

// PortTakenError is err marked with ErrPortTaken when output, what the
// child printed, says its address was in use. A FreePort is only known to
// have been free a moment ago: another process, or an outgoing
// connection, may take it before the child listens.
func PortTakenError(err error, output string) error {
	if strings.Contains(output, "address already in use") {
		return fmt.Errorf("%w: %w", ErrPortTaken, err)
	}
	return err
}

// RetryPortTaken calls start, which picks new FreePorts each time, until it
// succeeds, fails other than with ErrPortTaken, or has been called
// PortAttempts times.
func RetryPortTaken[T any](start func() (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := start()
		if err == nil || !errors.Is(err, ErrPortTaken) || attempt == PortAttempts {
			return v, err
		}
	}
}
