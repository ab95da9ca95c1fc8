package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNoNginx is returned when no nginx executable is found.
var ErrNoNginx = errors.New("nginx not found: install it (apt-get install nginx) or give its path")

// Body is what the nginx target answers to every request.
const Body = `{"ok":true}`

// Nginx is a private nginx serving Body on a free loopback port: one
// process, no access log, its configuration, logs and pid file in a
// temporary directory of its own.
type Nginx struct {
	// URL is where it listens: "http://127.0.0.1:PORT".
	URL  string
	cmd  *exec.Cmd
	dir  string
	done chan struct{} // closed when the process exited
	err  error         // its Wait error, once done is closed
}

// nginxConf is the configuration of an nginx on 127.0.0.1:port whose
// files all live in dir.
//
// master_process off makes the one worker the only process: the server
// the tools measure is the same event loop, and a process the benchmark
// started directly can be tied to its life and its CPU read. Every temp
// path is in dir so an nginx run as any user writes nowhere else.
func nginxConf(dir string, port int) string {
	return fmt.Sprintf(`# written by the engine benchmark; removed when it stops
daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %[1]s/client_body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:%[2]d backlog=4096;
		location / {
			default_type application/json;
			return 200 '%[3]s';
		}
	}
}
`, dir, port, Body)
}

// FindNginx returns the nginx executable: on PATH, or where Debian puts
// it (/usr/sbin, which a non-root PATH often lacks).
func FindNginx() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNoNginx
}

// startAttempts is how many free ports StartNginx tries: another process
// may take the port between choosing it and nginx binding it.
const startAttempts = 3

// NginxOption is an optional setting of StartNginx.
type NginxOption func(*nginxOptions)

type nginxOptions struct {
	taskset, cpus string
}

// WithCPUs runs nginx on the CPUs of cpus (a list as taskset -c takes
// it, "0" or "0,2"), through the taskset executable.
func WithCPUs(taskset, cpus string) NginxOption {
	return func(o *nginxOptions) { o.taskset, o.cpus = taskset, cpus }
}

// StartNginx starts nginx (the executable bin) with its files in a new
// directory under root ("" for the system's temp dir), and returns once it
// accepts connections. Stop it with Stop, on every path.
func StartNginx(ctx context.Context, bin, root string, opts ...NginxOption) (*Nginx, error) {
	var o nginxOptions
	for _, opt := range opts {
		opt(&o)
	}
	var errs []error
	for range startAttempts {
		n, err := startNginx(ctx, bin, root, o)
		if err == nil {
			return n, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("start nginx: %w", errors.Join(errs...))
}

func startNginx(ctx context.Context, bin, root string, o nginxOptions) (n *Nginx, err error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(root, "bench-nginx-")
	if err != nil {
		return nil, err
	}
	n = &Nginx{URL: "http://127.0.0.1:" + strconv.Itoa(port), dir: dir, done: make(chan struct{})}
	defer func() {
		if err != nil {
			err = errors.Join(err, n.Stop())
		}
	}()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConf(dir, port)), 0o600); err != nil {
		return n, err
	}
	// -e: the error log before the configuration is read, which would
	// otherwise be the system's (/var/log/nginx), not writable by all.
	args := []string{"-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log")}
	if o.taskset != "" {
		// taskset execs nginx in its place: the process (and its CPU
		// time) is nginx's.
		args, bin = append([]string{"-c", o.cpus, bin}, args...), o.taskset
	}
	n.cmd = exec.Command(bin, args...)
	n.cmd.SysProcAttr = procAttr()
	n.cmd.Stdout, n.cmd.Stderr = &tailBuffer{max: maxStderr}, &tailBuffer{max: maxStderr}
	if err := n.cmd.Start(); err != nil {
		close(n.done)
		return n, err
	}
	go func() {
		n.err = n.cmd.Wait()
		close(n.done)
	}()
	if err := n.waitReady(ctx, 10*time.Second); err != nil {
		return n, err
	}
	return n, nil
}

// waitReady waits until nginx accepts a connection, or exits, or limit
// passes.
func (n *Nginx) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	addr := strings.TrimPrefix(n.URL, "http://")
	var d net.Dialer
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-n.done:
			return fmt.Errorf("nginx exited (%v): %s", n.err, n.log())
		case <-ctx.Done():
			return fmt.Errorf("nginx not accepting on %s after %s: %s", addr, limit, n.log())
		case <-tick.C:
		}
	}
}

// log is the end of nginx's error log and stderr, for error messages.
func (n *Nginx) log() string {
	data, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
	var out []string
	if s := strings.TrimSpace(string(data)); s != "" {
		out = append(out, s)
	}
	if n.cmd != nil {
		if s := strings.TrimSpace(n.cmd.Stderr.(*tailBuffer).String()); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "no log"
	}
	s := strings.Join(out, "\n")
	if len(s) > maxStderr {
		s = s[len(s)-maxStderr:]
	}
	return s
}

// Pid is the nginx process's id (its only process: see nginxConf).
func (n *Nginx) Pid() int {
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Stop stops nginx (a fast shutdown, then SIGKILL after 5 s) and removes
// its directory. It may be called more than once.
func (n *Nginx) Stop() error {
	if n.cmd != nil && n.cmd.Process != nil {
		select {
		case <-n.done:
		default:
			_ = n.cmd.Process.Signal(os.Interrupt) // SIGINT: nginx's fast shutdown
			select {
			case <-n.done:
			case <-time.After(5 * time.Second):
				_ = killGroup(n.cmd.Process.Pid)
				<-n.done
			}
		}
	}
	if n.dir == "" {
		return nil
	}
	err := os.RemoveAll(n.dir)
	n.dir = ""
	if err != nil {
		return fmt.Errorf("remove nginx's directory: %w", err)
	}
	return nil
}

// freePort is a loopback TCP port nothing listened on a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
