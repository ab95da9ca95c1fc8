// Package exporter runs the Prometheus exporters the compose stack runs
// from images, as local processes on loopback from Debian's packages
// (prometheus-blackbox-exporter, prometheus-redis-exporter): what `harness
// dashboards verify` and the alerts' tests scrape so that the panels and
// rules on probes and Redis are proved on real metrics.
//
// Debian's MongoDB exporter is not one of them: it is a 2018 snapshot on
// the mgo driver, whose legacy OP_QUERY handshake neither FerretDB nor
// MongoDB 6 and later answer ("no reachable servers"). The compose stack
// runs Percona's current exporter from its image instead.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/internal/child"
)

// ErrNotInstalled is returned when an exporter's binary is not on PATH;
// the message says which package has it.
var ErrNotInstalled = errors.New("not installed")

// The blackbox modules Blackbox configures, as the compose stack's
// deploy/blackbox/blackbox.yml names them.
const (
	// ModuleHTTPS is a GET that must answer 2xx over TLS verified against
	// the authority given to Blackbox.
	ModuleHTTPS = "https_2xx"
	// ModuleHTTP is a GET that must answer 2xx, over plain HTTP or TLS
	// verified against the system's authorities.
	ModuleHTTP = "http_2xx"
)

// Module is the blackbox module that probes u: ModuleHTTPS for an https
// URL, ModuleHTTP otherwise.
func Module(u string) string {
	if strings.HasPrefix(u, "https://") {
		return ModuleHTTPS
	}
	return ModuleHTTP
}

// Process is an exporter running on loopback.
type Process struct {
	// Name is the exporter's ("blackbox", "redis").
	Name string
	// Addr is where it serves, 127.0.0.1:PORT.
	Addr string

	proc *child.Process
	dir  string // its scratch directory, removed by Close
}

// binaries are the names an exporter's binary has: Debian's, then the
// upstream release's.
var binaries = map[string][]string{
	"blackbox": {"prometheus-blackbox-exporter", "blackbox_exporter"},
	"redis":    {"prometheus-redis-exporter", "redis_exporter"},
}

// lookPath finds the binary of the exporter name.
func lookPath(name string) (string, error) {
	for _, b := range binaries[name] {
		if p, err := exec.LookPath(b); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s exporter: %w (Debian: apt-get install %s)", name, ErrNotInstalled, binaries[name][0])
}

// Blackbox starts the blackbox exporter with ModuleHTTP and, when caPEM
// is not empty, ModuleHTTPS trusting exactly caPEM's authorities.
func Blackbox(ctx context.Context, caPEM []byte) (*Process, error) {
	bin, err := lookPath("blackbox")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "taskready-blackbox-")
	if err != nil {
		return nil, fmt.Errorf("blackbox exporter: %w", err)
	}
	conf := "modules:\n  " + ModuleHTTP + ":\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n"
	if len(caPEM) > 0 {
		ca := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(ca, caPEM, 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("blackbox exporter: %w", err)
		}
		conf += "  " + ModuleHTTPS + ":\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n      fail_if_not_ssl: true\n" +
			"      tls_config:\n        ca_file: " + strconv.Quote(ca) + "\n"
	}
	file := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("blackbox exporter: %w", err)
	}
	return start(ctx, "blackbox", dir, bin, nil, func(addr string) []string {
		return []string{"--config.file=" + file, "--web.listen-address=" + addr, "--log.level=warn"}
	})
}

// BlackboxWithConfig starts the blackbox exporter with the modules of
// the configuration file given: the compose stack's own, in its tests.
func BlackboxWithConfig(ctx context.Context, configFile string) (*Process, error) {
	bin, err := lookPath("blackbox")
	if err != nil {
		return nil, err
	}
	return start(ctx, "blackbox", "", bin, nil, func(addr string) []string {
		return []string{"--config.file=" + configFile, "--web.listen-address=" + addr, "--log.level=warn"}
	})
}

// Redis starts redis_exporter reading the Redis at redisURL
// (redis://[:password@]host:port[/db]), with the host's memory (what the
// memory alert compares with while maxmemory is 0). The password goes to
// it through its environment, not its command line.
func Redis(ctx context.Context, redisURL string) (*Process, error) {
	bin, err := lookPath("redis")
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(redisURL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return nil, fmt.Errorf("redis exporter: %q is not a redis:// URL", redisURL)
	}
	env := os.Environ()
	if pw, ok := u.User.Password(); ok {
		env = append(env, "REDIS_PASSWORD="+pw)
		u.User = nil
	}
	dir, err := os.MkdirTemp("", "taskready-redis-exporter-")
	if err != nil {
		return nil, fmt.Errorf("redis exporter: %w", err)
	}
	return start(ctx, "redis", dir, bin, env, func(addr string) []string {
		return []string{"-redis.addr=" + u.String(), "-web.listen-address=" + addr, "-include-system-metrics"}
	})
}

// RedisFromEnv starts redis_exporter configured by environ alone (its
// REDIS_* variables, as a container of the compose stack sets them), but
// for the address it listens on.
func RedisFromEnv(ctx context.Context, environ map[string]string) (*Process, error) {
	bin, err := lookPath("redis")
	if err != nil {
		return nil, err
	}
	env := os.Environ()
	for k, v := range environ {
		env = append(env, k+"="+v)
	}
	return start(ctx, "redis", "", bin, env, func(addr string) []string {
		return []string{"-web.listen-address=" + addr}
	})
}

// start runs bin with the flags args gives for a free loopback address,
// and waits until it serves /metrics; dir (may be "") is its scratch
// directory, which Close removes (at once on error). A port taken before
// the exporter listened is replaced by another (child.RetryPortTaken).
func start(ctx context.Context, name, dir, bin string, env []string, args func(addr string) []string) (*Process, error) {
	p, err := child.RetryPortTaken(func() (*Process, error) { return startOnce(ctx, name, bin, env, args) })
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.dir = dir
	return p, nil
}

// freePort is where start gets its ports (a variable for the tests).
var freePort = child.FreePort

// startOnce is one attempt of start, on a new free port.
func startOnce(ctx context.Context, name, bin string, env []string, args func(addr string) []string) (*Process, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("%s exporter: %w", name, err)
	}
	p := &Process{Name: name, Addr: "127.0.0.1:" + strconv.Itoa(port)}
	// Not CommandContext: ctx bounds the start, Close the process.
	cmd := exec.Command(bin, args(p.Addr)...)
	cmd.Env = env
	if p.proc, err = child.Start(cmd, ""); err != nil {
		return nil, fmt.Errorf("%s exporter: %w", name, err)
	}
	if err := p.waitReady(ctx); err != nil {
		return nil, child.PortTakenError(errors.Join(err, p.proc.Stop()), p.Log())
	}
	return p, nil
}

// waitReady polls /metrics until it answers 200, the process exits or
// 30 seconds pass.
func (p *Process) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// A short timeout per probe: a port someone else holds may accept
	// and never answer, and the process's exit is checked between probes.
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := p.proc.Exited(); err != nil {
			return fmt.Errorf("%s exporter %v before it served /metrics; its log: %s", p.Name, err, p.Log())
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Addr+"/metrics", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.proc.Done():
			return fmt.Errorf("%s exporter %v before it served /metrics; its log: %s", p.Name, p.proc.Exited(), p.Log())
		case <-ctx.Done():
			return fmt.Errorf("%s exporter not serving /metrics at %s: %w; its log: %s", p.Name, p.Addr, ctx.Err(), p.Log())
		case <-tick.C:
		}
	}
}

// Log is what the exporter has printed so far.
func (p *Process) Log() string { return strings.TrimSpace(p.proc.Output()) }

// Close stops the exporter and removes its files.
func (p *Process) Close() error { return errors.Join(p.proc.Stop(), os.RemoveAll(p.dir)) }
