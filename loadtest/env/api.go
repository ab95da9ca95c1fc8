package env

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultReadyTimeout bounds how long an API may take to become ready.
const DefaultReadyTimeout = 60 * time.Second

// API is one running taskapi process.
type API struct {
	name string
	url  string
	cmd  *exec.Cmd
	out  *tail
	done chan struct{} // closed when the process has exited
	err  error         // the process's exit status, set before done closes
	once sync.Once
}

// StartAPI starts the taskapi binary at bin on a free loopback port with
// the given extra environment ("KEY=value"), and returns once its /readyz
// answers 200. On failure the error quotes what the process printed last.
func StartAPI(ctx context.Context, name, bin string, vars []string) (*API, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	a := &API{name: name, url: "http://127.0.0.1:" + strconv.Itoa(port), out: newTail(20), done: make(chan struct{})}
	a.cmd = exec.Command(bin)
	a.cmd.Env = append(os.Environ(), append([]string{"PORT=" + strconv.Itoa(port)}, vars...)...)
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w (build it with: make build)", name, bin, err)
	}
	go func() {
		a.err = a.cmd.Wait()
		close(a.done)
	}()
	if err := a.waitReady(ctx); err != nil {
		_ = a.Close()
		return nil, err
	}
	return a, nil
}

// Name is the API's name in the environment ("api-1").
func (a *API) Name() string { return a.name }

// URL is the API's base URL.
func (a *API) URL() string { return a.url }

func (a *API) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultReadyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.url+"/readyz", nil)
		if res, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-a.done:
			return fmt.Errorf("%s exited before it was ready (%v); it printed:\n%s", a.name, a.err, a.out)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s; it printed:\n%s", a.name, DefaultReadyTimeout, a.out)
		case <-tick.C:
		}
	}
}

// Close stops the process: SIGTERM, then SIGKILL if it has not exited
// within ten seconds. It is safe to call more than once.
func (a *API) Close() error {
	var err error
	a.once.Do(func() {
		if a.cmd.Process == nil {
			return
		}
		_ = a.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			_ = a.cmd.Process.Kill()
			<-a.done
			err = fmt.Errorf("%s ignored SIGTERM for 10s and was killed", a.name)
			return
		}
		var exit *exec.ExitError
		if a.err != nil && !errors.As(a.err, &exit) {
			err = fmt.Errorf("%s: %w", a.name, a.err)
		} else if exit != nil && exit.ExitCode() != 0 {
			err = fmt.Errorf("%s exited with %d after SIGTERM; it printed:\n%s", a.name, exit.ExitCode(), a.out)
		}
	})
	return err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
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
