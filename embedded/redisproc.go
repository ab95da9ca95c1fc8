package embedded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// redisProc is one redis-server child process.
type redisProc struct {
	*child
	// password is the requirepass the probe authenticates with.
	password string
}

// launch starts redis-server on port (a fresh free port each attempt if
// pick) and waits until it answers. If the port turns out to be taken it
// tries again while ctx lasts when pick or retryBusy is set, and fails
// otherwise. It returns the process and the port it listens on.
func (r *Redis) launch(ctx context.Context, port int, pick, retryBusy bool) (*redisProc, int, error) {
	for attempt := 0; ; attempt++ {
		p := port
		if pick {
			var err error
			if p, err = freePort(r.host); err != nil {
				return nil, 0, fmt.Errorf("embedded redis: finding a free port: %w", err)
			}
		}
		proc, err := spawnRedis(r.binary, r.host, p, r.dir, r.password)
		if err != nil {
			return nil, 0, err
		}
		addrInUse, err := proc.waitReady(ctx, net.JoinHostPort(dialHost(r.host), strconv.Itoa(p)))
		if err == nil {
			return proc, p, nil
		}
		// ctx may be over: give the kill its own (short) deadline.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if serr := proc.stop(sctx); serr != nil {
			err = errors.Join(err, serr)
		}
		cancel()
		if !addrInUse || !(pick || retryBusy) {
			return nil, 0, err
		}
		if !backoff(ctx, attempt) {
			return nil, 0, fmt.Errorf("%w (gave up: %w)", err, context.Cause(ctx))
		}
	}
}

// freePort returns a port that was free on host a moment ago.
func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// spawnRedis starts redis-server without persistence, writing its output to
// a log file in dir. A password goes in a configuration file only its
// owner reads, not on the command line, where ps would show it.
func spawnRedis(bin, host string, port int, dir, password string) (*redisProc, error) {
	bind := host
	if bind == "" {
		bind = "0.0.0.0"
	}
	var args []string
	if password != "" {
		conf := filepath.Join(dir, "redis.conf")
		if err := os.WriteFile(conf, []byte("requirepass \""+password+"\"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("embedded redis: %w", err)
		}
		args = append(args, conf)
	}
	cmd := exec.Command(bin, append(args,
		"--port", strconv.Itoa(port),
		"--bind", bind,
		"--save", "",
		"--appendonly", "no",
		"--protected-mode", "no",
		"--dir", dir,
	)...)
	cmd.Dir = dir
	c, err := startChild("redis-server", cmd, filepath.Join(dir, "redis-server.log"), sysProcAttr())
	if err != nil {
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	return &redisProc{child: c, password: password}, nil
}

// waitReady polls until this process answers on addr. It fails when the
// process exits (addrInUse says whether it was because the port was taken)
// or when ctx ends.
func (p *redisProc) waitReady(ctx context.Context, addr string) (addrInUse bool, err error) {
	// Probes are abandoned as soon as the process exits: a squatter on the
	// port might otherwise keep one waiting for its read deadline.
	probeCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-probeCtx.Done():
		}
	}()

	var lastErr error
	for attempt := 0; ; attempt++ {
		select {
		case <-p.done:
			return p.exited()
		default:
		}
		if lastErr = probe(probeCtx, addr, p.pid(), p.password); lastErr == nil {
			return false, nil
		}
		t := time.NewTimer(min(5*time.Millisecond<<min(attempt, 5), 100*time.Millisecond))
		select {
		case <-p.done:
			t.Stop()
			return p.exited()
		case <-ctx.Done():
			t.Stop()
			return false, fmt.Errorf("embedded redis: redis-server (pid %d) did not answer on %s: %v (%w); last output: %s",
				p.pid(), addr, lastErr, context.Cause(ctx), p.tail())
		case <-t.C:
		}
	}
}

// exited describes the exit of the process; call it only after done.
func (p *redisProc) exited() (addrInUse bool, err error) {
	out := p.tail()
	addrInUse = strings.Contains(out, "already in use")
	return addrInUse, fmt.Errorf("embedded redis: redis-server exited: %s (%v)", out, p.waitErr)
}

// probe checks that the server on addr answers INFO with process_id pid, so
// that another server which happens to hold the port is not mistaken for
// ours. With a password it authenticates first.
func probe(ctx context.Context, addr string, pid int, password string) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	br := bufio.NewReader(c)
	if password != "" {
		if _, err := io.WriteString(c, "AUTH \""+password+"\"\r\n"); err != nil {
			return err
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line = strings.TrimRight(line, "\r\n"); line != "+OK" {
			return fmt.Errorf("AUTH answered %q", line)
		}
	}
	if _, err := io.WriteString(c, "INFO server\r\n"); err != nil {
		return err
	}
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "-"):
		return errors.New(line[1:]) // e.g. LOADING
	case !strings.HasPrefix(line, "$"):
		return fmt.Errorf("unexpected reply %q", line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 || n > 1<<20 {
		return fmt.Errorf("unexpected reply %q", line)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return err
	}
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "process_id:"); ok {
			if v != strconv.Itoa(pid) {
				return fmt.Errorf("another server (pid %s) answers on %s", v, addr)
			}
			return nil
		}
	}
	return errors.New("INFO reply has no process_id")
}
