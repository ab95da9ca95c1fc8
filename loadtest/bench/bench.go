package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/taskready/taskready/internal/loadavg"
)

// ErrNoWrk is returned when wrk is not installed.
var ErrNoWrk = errors.New("wrk not found: install it (apt-get install wrk)")

// bench is one run of the benchmark.
type bench struct {
	cfg      Config
	self     string // a copy of this executable: engine turns and hogs
	tmp      string // peers' binaries and outputs
	out      io.Writer
	progress io.Writer
	nginx    *Nginx
	peers    peers
	pin      pinning
	start    time.Time // of the run, for the progress lines
}

// peers are the executables of the tools beside the engine.
type peers struct {
	wrk, bombardier, vegeta string
	k6                      string // "" when k6 is not installed
}

// Run runs the benchmark cfg describes and writes its tables to out and
// its progress to progress. self is the benchmark's own executable, whose
// ChildEngine and ChildHog arguments must reach EngineChild and HogChild.
//
// It returns an error only when the rig failed (nginx would not start, a
// peer would not build or run, an output would not parse): a goal missed
// is a result, printed beside the others.
func Run(ctx context.Context, cfg Config, self string, out, progress io.Writer) (err error) {
	b := &bench{cfg: cfg, self: self, out: out, progress: progress, start: time.Now()}
	// Bounds the whole run, so even a stuck turn cannot keep nginx and
	// the hogs alive for long: three times the estimate, and the builds.
	ctx, cancel := context.WithTimeout(ctx, 3*cfg.estimate(maxClosedTools, maxOpenTools)+15*time.Minute)
	defer cancel()

	var stale []string
	if b.tmp, stale, err = newWorkDir(""); err != nil {
		return err
	}
	if len(stale) > 0 {
		b.note("removed %s, left by earlier runs that were killed", strings.Join(stale, ", "))
	}
	defer func() { err = errors.Join(err, os.RemoveAll(b.tmp)) }()
	// The turns and hogs run a copy: a rebuild of the benchmark while it
	// runs must not mix two versions in one output.
	if b.self, err = copyFile(self, filepath.Join(b.tmp, "benchengine")); err != nil {
		return fmt.Errorf("copy the benchmark's executable: %w", err)
	}
	if err := b.findPeers(ctx); err != nil {
		return err
	}
	nginxBin := cfg.Nginx
	if nginxBin == "" {
		if nginxBin, err = FindNginx(); err != nil {
			return err
		}
	}
	var why string
	b.pin, why = newPinning(cfg.Pin, allowedCPUs())
	var nginxOpts []NginxOption
	if b.pin.on() {
		nginxOpts = append(nginxOpts, WithCPUs(b.pin.taskset, b.pin.server))
	}
	if b.cfg.WrkThreads == 0 {
		b.cfg.WrkThreads = runtime.NumCPU()
		if b.pin.on() {
			b.cfg.WrkThreads = b.pin.ntools
		}
	}
	b.note("starting nginx (%s)", nginxBin)
	if b.nginx, err = StartNginx(ctx, nginxBin, b.tmp, nginxOpts...); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.nginx.Stop()) }()
	b.header(ctx, nginxBin, why)
	b.note("measuring for about %s", cfg.estimate(len(b.closedTools()), len(b.openTools())).Round(10*time.Second))

	if l, ok := loadavg.One(); ok && l > 1 {
		fmt.Fprintf(b.out, "\n**Note**: the load average is %.1f on %d CPUs before the quiet half: other work shares this machine, so \"quiet\" means without the benchmark's own crowding, not idle.\n", l, runtime.NumCPU())
	}
	conds := []condition{{name: "quiet", crowded: false}}
	if err := b.measure(ctx, &conds[0]); err != nil {
		return err
	}
	if cfg.Crowded {
		conds = append(conds, condition{name: "crowded", crowded: true})
		if err := b.crowd(ctx, &conds[1]); err != nil {
			return err
		}
	}
	writeGoals(b.out, conds)
	return nil
}

// condition is one state of the machine and what was measured in it.
type condition struct {
	name    string
	crowded bool
	closed  closedTable
	open    openTable
	load    string // the load average after the open model
}

// crowd measures c beside the crowding, which it stops on every path.
func (b *bench) crowd(ctx context.Context, cond *condition) (err error) {
	limit := b.cfg.estimate(maxClosedTools, maxOpenTools) + 10*time.Minute // the crowded half, with room
	c, err := startCrowd(b.self, limit)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.stop()) }()
	b.note("crowding: %s started", c.size())
	fmt.Fprintf(b.out, "\nCrowding: %s, started and stopped by the benchmark.\n", c.size())
	if err := b.measure(ctx, cond); err != nil {
		return err
	}
	if n := c.alive(); n != len(c.procs) {
		return fmt.Errorf("crowding: %d of %d hogs died during the measurement: the crowded numbers are not what they say", len(c.procs)-n, len(c.procs))
	}
	return nil
}

// measure measures the closed and the open model under c and prints
// their tables.
func (b *bench) measure(ctx context.Context, c *condition) (err error) {
	if c.closed, err = b.closedModel(ctx, c.name); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "\n### %s · closed model: %d connections/VUs, %s a turn, median of %d rounds\n\n", c.name, b.cfg.Conns, b.cfg.Duration, b.cfg.Rounds)
	fmt.Fprintf(b.out, "%s\n\n", loadAverage(ctx))
	goal := closedGoalQuiet
	if c.crowded {
		goal = closedGoalCrowded
	}
	c.closed.write(b.out, goal)

	half := int(c.closed.engineMax()/2 + 0.5)
	if c.open, err = b.openModel(ctx, c.name, half); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "\n### %s · open model: %s a rate, %d pre-allocated VUs, up to %d\n\n", c.name, b.cfg.OpenDuration, b.cfg.Conns, b.cfg.MaxVUs)
	c.load = loadAverage(ctx)
	fmt.Fprintf(b.out, "%s\n\n", c.load)
	c.open.write(b.out, c.crowded)
	return nil
}

// The most tools of each model: wrk, bombardier, the engine's two
// transports, vegeta and k6; vegeta, the engine and k6.
const maxClosedTools, maxOpenTools = 6, 3

// findPeers finds wrk and k6 and builds vegeta and bombardier.
func (b *bench) findPeers(ctx context.Context) error {
	var err error
	if b.peers.wrk, err = exec.LookPath("wrk"); err != nil {
		return ErrNoWrk
	}
	if p, err := exec.LookPath("k6"); err == nil {
		b.peers.k6 = p
	}
	bin := filepath.Join(b.tmp, "bin")
	built := []struct {
		name, module string
		path         *string
	}{{"vegeta", VegetaModule, &b.peers.vegeta}, {"bombardier", BombardierModule, &b.peers.bombardier}}
	// Side by side: each build is mostly a link, one core's work.
	errs := make([]error, len(built))
	var wg sync.WaitGroup
	for i, p := range built {
		b.note("building %s (go install; quick once the module and build caches hold it)", p.module)
		*p.path = filepath.Join(bin, p.name)
		wg.Go(func() { errs[i] = goInstall(ctx, b.cfg.Go, p.module, bin, b.tmp) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// goInstall builds module (path@version) into the directory bin with the
// go command goCmd, run in dir outside any module so that no go.mod or
// workspace of the caller's changes what is built.
func goInstall(ctx context.Context, goCmd, module, bin, dir string) error {
	goPath, err := exec.LookPath(goCmd)
	if err != nil {
		return fmt.Errorf("build %s: %w", module, err)
	}
	c := child{
		name: "go install " + module, path: goPath, args: []string{"install", module}, dir: dir,
		env: []string{"GOBIN=" + bin, "GOFLAGS=", "GOWORK=off"}, limit: 10 * time.Minute,
	}
	_, err = c.run(ctx)
	return err
}

// header prints what was measured with what, so a reader can rerun it.
func (b *bench) header(ctx context.Context, nginxBin, why string) {
	peers := "wrk, bombardier, vegeta"
	k6 := "k6 not installed (optional)"
	if b.peers.k6 != "" {
		peers, k6 = peers+" and k6", version(ctx, b.peers.k6, "version")
	}
	fmt.Fprintf(b.out, "## make bench-engine: the engine beside %s\n\n", peers)
	fmt.Fprintf(b.out, "- started %s on %s/%s, %d CPUs, %s\n", time.Now().Format(time.RFC3339), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(b.out, "- target: %s (%s), one process, access log off, GET /ping answers %s\n", b.nginx.URL, version(ctx, nginxBin, "-v"), Body)
	fmt.Fprintf(b.out, "- peers: %s -t%d; bombardier %s; vegeta %s; %s\n", version(ctx, b.peers.wrk, "-v"), b.cfg.WrkThreads,
		moduleVersion(BombardierModule), moduleVersion(VegetaModule), k6)
	fmt.Fprintf(b.out, "- every tool in a process of its own, %d connections/VUs; the engine through engine.Run with harness run's default limits\n", b.cfg.Conns)
	if b.pin.on() {
		fmt.Fprintf(b.out, "- pinned (taskset, BENCH_PIN=1): nginx on CPU %s, every tool on CPU %s\n", b.pin.server, b.pin.tools)
	} else {
		fmt.Fprintf(b.out, "- not pinned (%s): nginx and every tool share all %d CPUs\n", why, runtime.NumCPU())
	}
}

// moduleVersion is the version of a path@version.
func moduleVersion(m string) string {
	_, v, _ := strings.Cut(m, "@")
	return v
}

// version is the first line a tool prints about its version.
func version(ctx context.Context, bin string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, args...).CombinedOutput() // wrk -v exits 1 after its version
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if i := strings.Index(line, " Copyright"); i > 0 {
		line = line[:i]
	}
	if line == "" {
		return filepath.Base(bin)
	}
	return line
}

// note writes a progress line.
func (b *bench) note(format string, args ...any) {
	e := time.Since(b.start).Round(time.Second)
	fmt.Fprintf(b.progress, "bench-engine %d:%02d "+format+"\n", append([]any{int(e.Minutes()), int(e.Seconds()) % 60}, args...)...)
}

// loadAverage is what uptime prints, or /proc/loadavg without it.
func loadAverage(ctx context.Context) string {
	if p, err := exec.LookPath("uptime"); err == nil {
		if r, err := (child{name: "uptime", path: p, limit: 5 * time.Second}).run(ctx); err == nil {
			return "uptime: " + strings.Join(strings.Fields(string(r.stdout)), " ")
		}
	}
	if avg, ok := loadavg.Read(); ok {
		return "load average: " + strings.Join(avg[:], ", ")
	}
	return "load average unknown"
}

// copyFile copies the executable src to dst and returns dst.
func copyFile(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		return "", errors.Join(err, out.Close())
	}
	return dst, out.Close()
}
