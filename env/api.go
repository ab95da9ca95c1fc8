package env

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/taskready/taskready/internal/child"
)

// DefaultReadyTimeout bounds how long an API may take to become ready.
const DefaultReadyTimeout = 60 * time.Second

// API is one taskapi process. It is a Component: faults can stop, kill,
// pause and restart it, always on the same port.
type API struct {
	name string
	bin  string
	port int
	// metricsPort is the loopback port of its metrics listener
	// (METRICS_ADDR), which the API port does not serve.
	metricsPort int
	vars        []string
	out         *tail

	mu   sync.Mutex
	proc *apiProc // nil while stopped
}

var _ Component = (*API)(nil)

// apiProc is one run of the process.
type apiProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // the exit status, set before done closes
}

// StartAPI starts the taskapi binary at bin on a free loopback port with
// the given extra environment ("KEY=value"), and returns once its /readyz
// answers 200. On failure the error quotes what the process printed last.
//
// A free port is only known to have been free a moment ago: another
// process (a parallel test, a build) may take it before the API listens.
// Such an API exits saying its address is in use, and is started again on
// new ports, up to child.PortAttempts times.
func StartAPI(ctx context.Context, name, bin string, vars []string) (*API, error) {
	return child.RetryPortTaken(func() (*API, error) {
		port, err := pickPort()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		metricsPort, err := pickPort()
		for err == nil && metricsPort == port {
			metricsPort, err = pickPort()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		a := &API{name: name, bin: bin, port: port, metricsPort: metricsPort, vars: vars, out: newTail(20)}
		if err := a.Start(ctx); err != nil {
			return nil, err
		}
		return a, nil
	})
}

// pickPort is where StartAPI gets its ports (a variable for the tests).
var pickPort = child.FreePort

// Name is the API's name in the environment ("api-1").
func (a *API) Name() string { return a.name }

// URL is the API's base URL; it stays the same across restarts.
func (a *API) URL() string { return "http://127.0.0.1:" + strconv.Itoa(a.port) }

// MetricsURL is the API's Prometheus endpoint on its own loopback
// listener (METRICS_ADDR); it stays the same across restarts.
func (a *API) MetricsURL() string {
	return "http://127.0.0.1:" + strconv.Itoa(a.metricsPort) + "/metrics"
}

// Start runs the process (again) and waits until it is ready.
func (a *API) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc != nil {
		return nil
	}
	cmd := exec.Command(a.bin)
	// METRICS_ADDR before the caller's variables, so that one of those
	// may override it.
	cmd.Env = append(os.Environ(), append([]string{"PORT=" + strconv.Itoa(a.port),
		"METRICS_ADDR=127.0.0.1:" + strconv.Itoa(a.metricsPort)}, a.vars...)...)
	cmd.Stdout, cmd.Stderr = a.out, a.out
	cmd.SysProcAttr = apiProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start %s: %w (build it with: make build)", a.name, a.bin, err)
	}
	p := &apiProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := a.waitReady(ctx, p); err != nil {
		_ = cmd.Process.Kill()
		<-p.done
		return err
	}
	a.proc = p
	return nil
}

func (a *API) waitReady(ctx context.Context, p *apiProc) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultReadyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.URL()+"/readyz", nil)
		if res, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			err := fmt.Errorf("%s exited before it was ready (%v); it printed:\n%s", a.name, p.err, a.out)
			return child.PortTakenError(err, a.out.String())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s; it printed:\n%s", a.name, DefaultReadyTimeout, a.out)
		case <-tick.C:
		}
	}
}

// Stop sends SIGTERM and waits for a graceful exit; after ten seconds it
// kills the process.
func (a *API) Stop(ctx context.Context) error { return a.end(ctx, syscall.SIGTERM) }

// Kill sends SIGKILL.
func (a *API) Kill(ctx context.Context) error { return a.end(ctx, syscall.SIGKILL) }

// Pause freezes the process (SIGSTOP): connections hang. It returns once
// the kernel reports the process stopped.
func (a *API) Pause(context.Context) error {
	return a.signal(syscall.SIGSTOP, func(state byte) bool { return state == 'T' })
}

// Unpause resumes a paused process (SIGCONT) and returns once it runs.
func (a *API) Unpause(context.Context) error {
	return a.signal(syscall.SIGCONT, func(state byte) bool { return state != 'T' })
}

func (a *API) signal(sig syscall.Signal, reached func(state byte) bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil {
		return fmt.Errorf("%s is not running", a.name)
	}
	if err := a.proc.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s: %w", a.name, err)
	}
	if err := waitState(a.proc.cmd.Process.Pid, reached); err != nil {
		return fmt.Errorf("%s: %w", a.name, err)
	}
	return nil
}

func (a *API) end(ctx context.Context, sig syscall.Signal) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.proc
	if p == nil {
		return nil
	}
	a.proc = nil
	_ = p.cmd.Process.Signal(syscall.SIGCONT) // a paused process cannot handle SIGTERM
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s ignored %s for 10s and was killed", a.name, sig)
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.done
		return ctx.Err()
	}
	var exit *exec.ExitError
	switch {
	case sig == syscall.SIGKILL:
		return nil
	case p.err != nil && !errors.As(p.err, &exit):
		return fmt.Errorf("%s: %w", a.name, p.err)
	case exit != nil && exit.ExitCode() != 0:
		return fmt.Errorf("%s exited with %d after SIGTERM; it printed:\n%s", a.name, exit.ExitCode(), a.out)
	}
	return nil
}

// Close stops the process if it runs; it is safe to call more than once.
func (a *API) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return a.Stop(ctx)
}

// tail keeps the last n lines written to it, for error messages.
type tail struct {
	mu    sync.Mutex
	n     int
	lines []string
	part  string
}

func newTail(n int) *tail { return &tail{n: n} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.part + string(p)
	parts := strings.Split(s, "\n")
	t.part = parts[len(parts)-1]
	for _, l := range parts[:len(parts)-1] {
		t.lines = append(t.lines, l)
		if len(t.lines) > t.n {
			t.lines = t.lines[1:]
		}
	}
	return len(p), nil
}

// String returns the kept lines, indented.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := append(append([]string(nil), t.lines...), t.part)
	return "    " + strings.Join(lines, "\n    ")
}
