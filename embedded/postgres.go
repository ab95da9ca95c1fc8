package embedded

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed" // containment.sql
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQLHint says how to get the PostgreSQL backend where it is
// missing; it ends the note of a Mongo that fell back to SQLite.
const PostgreSQLHint = "install PostgreSQL for the faster backend (Debian/Ubuntu: apt-get install postgresql)"

const (
	// pgSuperuser is the cluster's only role; with trust authentication
	// on a socket only its owner can reach, it needs no password.
	pgSuperuser = "ferretdb"
	// pgPort only names the socket file (.s.PGSQL.5432): the cluster
	// listens on no TCP port, so it cannot collide with another server.
	pgPort = 5432
	// maxSocketPath keeps the socket's path within what every Unix
	// accepts (108 bytes on Linux, 104 on the BSDs, with the NUL).
	maxSocketPath = 100
	// pgShutdownGrace is how long Close lets postgres shut down cleanly
	// (a checkpoint of a small cluster) before it is killed.
	pgShutdownGrace = 5 * time.Second
)

// postgres is a private PostgreSQL cluster for FerretDB: initialised in a
// directory of the Mongo's and run as a child process that listens only on
// a Unix socket, so it takes no port and nobody but this user reaches it.
type postgres struct {
	dir      string // cluster root: data/, the logs and usually the socket
	sock     string // socket directory
	sockTemp bool   // sock is a temporary directory of its own, removed by close
	proc     *child
	// password is the superuser's, which every connection must give
	// (pg_hba.conf: scram-sha-256): FerretDB passes on the MongoDB
	// client's credentials, so a client without them is refused. It is
	// random per cluster and kept in dir/password (0600).
	password string
}

// postgresDirs are where FindPostgreSQL looks after PATH, as globs, newest
// version first: Debian's and Ubuntu's packages, then a source install.
var postgresDirs = []string{"/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin"}

// FindPostgreSQL returns the directory that holds both initdb and postgres:
// the one of postgres on PATH, else the newest of Debian's and Ubuntu's
// /usr/lib/postgresql/VERSION/bin, else /usr/local/pgsql/bin (a source
// install). It returns "" when there is none.
func FindPostgreSQL() string {
	var dirs []string
	if p, err := exec.LookPath("postgres"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, pattern := range postgresDirs {
		found, _ := filepath.Glob(pattern)
		slices.SortFunc(found, func(a, b string) int { // newest first: 16 before 9.6
			return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
		})
		dirs = append(dirs, found...)
	}
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "postgres")) && isExecutable(filepath.Join(d, "initdb")) {
			return d
		}
	}
	return ""
}

// compareVersions compares dotted version numbers ("9.6" < "15").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// startPostgres runs the cluster in dir, initialising it first when dir
// holds none, and returns once postgres accepts connections.
//
// The cluster is a development one: fsync, synchronous commit and full-page
// writes are off, so a crash of the machine (not of this process) may lose
// or corrupt it. It starts faster and writes much less that way.
func startPostgres(ctx context.Context, bin, dir string) (_ *postgres, err error) {
	attr, err := postgresProcAttr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		// Anything there is the remains of an initdb that did not finish.
		if err := os.RemoveAll(data); err != nil {
			return nil, err
		}
		if err := initCluster(ctx, bin, dir, data); err != nil {
			return nil, err
		}
	}

	p := &postgres{dir: dir, sock: dir}
	// unix_socket_directories is a comma-separated list of paths that
	// may be double-quoted: a path with either character goes elsewhere.
	if len(filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(pgPort))) > maxSocketPath || strings.ContainsAny(dir, ",\"") {
		if p.sock, err = os.MkdirTemp("", "embedded-postgres-*"); err != nil {
			return nil, err
		}
		p.sockTemp = true
	}
	defer func() {
		if err != nil && p.sockTemp {
			_ = os.RemoveAll(p.sock)
		}
	}()

	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", data,
		"-p", strconv.Itoa(pgPort),
		"-c", "listen_addresses=",
		"-c", "unix_socket_directories=\""+p.sock+"\"", // quoted: the path may hold spaces
		"-c", "unix_socket_permissions=0700",
		// A development cluster (see above): durability traded for speed.
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
	)
	cmd.Dir = dir
	if p.proc, err = startChild("postgres", cmd, filepath.Join(dir, "postgres.log"), attr); err != nil {
		return nil, err
	}
	if err := p.waitReady(ctx); err == nil {
		err = p.secure(ctx)
	}
	if err == nil {
		err = p.exec(ctx, containmentSQL)
	}
	if err != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return nil, errors.Join(err, p.proc.stop(sctx))
	}
	return p, nil
}

// containmentSQL installs (idempotently) the event trigger that gives
// FerretDB's indexes the GIN twins its filters need; see the file.
//
//go:embed containment.sql
var containmentSQL string

// passwordFile holds the cluster's superuser password, beside data/.
const passwordFile = "password"

// secure makes every connection give the superuser's password. A cluster
// from the template (initdb --auth=trust) gets a random one, set over
// the trusted socket, then pg_hba.conf asks for it (scram-sha-256) and
// the configuration is reloaded; a cluster secured before reads its
// password back.
func (p *postgres) secure(ctx context.Context) error {
	path := filepath.Join(p.dir, passwordFile)
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		p.password = strings.TrimSpace(string(b))
		return nil
	}
	pw := make([]byte, 24)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	password := hex.EncodeToString(pw)
	hba := filepath.Join(p.dir, "data", "pg_hba.conf")
	if err := os.WriteFile(hba, []byte("# written by the embedded environment: every connection gives the password\nlocal all all scram-sha-256\n"), 0o600); err != nil {
		return fmt.Errorf("secure postgres: %w", err)
	}
	// Still trusted until the reload, which the same statement asks for.
	if err := p.exec(ctx, fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'; SELECT pg_reload_conf()", pgSuperuser, password)); err != nil {
		return fmt.Errorf("secure postgres: %w", err)
	}
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("secure postgres: %w", err)
	}
	p.password = password
	return nil
}

// exec runs sql (several statements may be separated by semicolons) as
// the superuser.
func (p *postgres) exec(ctx context.Context, sql string) error {
	c, err := pgconn.Connect(ctx, p.adminURL())
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, sql).ReadAll(); err != nil {
		return fmt.Errorf("set up postgres: %w", err)
	}
	return nil
}

// errNoCache says that the template cache cannot be used.
var errNoCache = errors.New("no cache directory for the cluster template")

// initCluster creates the cluster's data directory as a copy of a template
// that initdb made once and that is kept in the user's cache directory:
// initdb takes seconds (several on a busy machine), a copy a fraction of
// one. Without a usable cache it runs initdb on data itself.
func initCluster(ctx context.Context, bin, dir, data string) error {
	tmpl, err := clusterTemplate(ctx, bin)
	switch {
	case err == nil:
		if err := copyTree(tmpl, data); err == nil {
			return nil
		}
		if err := os.RemoveAll(data); err != nil {
			return err
		}
	case !errors.Is(err, errNoCache):
		return err
	}
	return initdb(ctx, bin, dir, data)
}

// clusterTemplate returns the template cluster for bin, making it first if
// the cache has none. It is named after the binaries (their path, size and
// time), so an upgrade of PostgreSQL makes a new one; it is built aside
// and renamed into place, so that concurrent processes never see half of
// one.
func clusterTemplate(ctx context.Context, bin string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoCache, err)
	}
	h := sha256.New()
	fmt.Fprintln(h, templateVersion, bin)
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(bin, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintln(h, name, fi.Size(), fi.ModTime().UnixNano())
	}
	parent := filepath.Join(cache, "taskready")
	tmpl := filepath.Join(parent, "postgresql-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(tmpl, "PG_VERSION")); err == nil {
		return tmpl, nil
	}
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("%w: %v", errNoCache, err)
	}
	work, err := os.MkdirTemp(parent, "building-")
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoCache, err)
	}
	defer os.RemoveAll(work)
	if err := initdb(ctx, bin, work, filepath.Join(work, "data")); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(work, "data"), tmpl); err != nil {
		if _, serr := os.Stat(filepath.Join(tmpl, "PG_VERSION")); serr == nil {
			return tmpl, nil // another process made it first
		}
		return "", fmt.Errorf("%w: %v", errNoCache, err)
	}
	return tmpl, nil
}

// templateVersion changes when initdb's arguments do, so that templates
// made with the old ones are not used.
const templateVersion = "initdb-1"

// copyTree copies the directory src to dst (which must not exist) with
// the files' permissions: a data directory holds only directories and
// regular files.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(target, info.Mode().Perm())
		case d.Type().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		default:
			return fmt.Errorf("copy %s: not a regular file or directory", path)
		}
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// initdb creates the cluster's data directory.
func initdb(ctx context.Context, bin, dir, data string) error {
	attr, err := postgresProcAttr()
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"),
		"-D", data,
		"-U", pgSuperuser,
		"--auth=trust",
		"--encoding=UTF8", // what FerretDB requires
		"--locale=C",
		"--no-sync", // a development cluster: see startPostgres
	)
	cmd.Dir = dir
	c, err := startChild("initdb", cmd, filepath.Join(dir, "initdb.log"), attr)
	if err != nil {
		return err
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return errors.Join(fmt.Errorf("initdb: %w", context.Cause(ctx)), c.stop(sctx))
	}
	if c.waitErr != nil {
		return fmt.Errorf("initdb: %v: %s", c.waitErr, c.tail())
	}
	return nil
}

// waitReady waits until postgres says, in its postmaster.pid, that it
// accepts connections. It fails when the process exits or ctx ends.
func (p *postgres) waitReady(ctx context.Context) error {
	pidFile := filepath.Join(p.dir, "data", "postmaster.pid")
	for attempt := 0; ; attempt++ {
		if !p.proc.running() {
			return p.exitErr()
		}
		if ready(pidFile, p.proc.pid()) {
			return nil
		}
		t := time.NewTimer(min(5*time.Millisecond<<min(attempt, 5), 100*time.Millisecond))
		select {
		case <-p.proc.done:
			t.Stop()
			return p.exitErr()
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("postgres (pid %d) did not get ready: %w; last output: %s", p.proc.pid(), context.Cause(ctx), p.proc.tail())
		case <-t.C:
		}
	}
}

// ready reports whether the lock file says that postgres (pid) accepts
// connections: its first line is the pid, its eighth the status.
func ready(pidFile string, pid int) bool {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return len(lines) >= 8 && strings.TrimSpace(lines[0]) == strconv.Itoa(pid) && strings.TrimSpace(lines[7]) == "ready"
}

// exitErr describes the exit of postgres; call it only once it has exited.
func (p *postgres) exitErr() error {
	return fmt.Errorf("postgres (pid %d) exited: %v; last output: %s", p.proc.pid(), p.proc.waitErr, p.proc.tail())
}

// adminURL is url with the password: the harness's own connection.
func (p *postgres) adminURL() string {
	u, _ := url.Parse(p.url())
	if p.password != "" {
		u.User = url.UserPassword(pgSuperuser, p.password)
	}
	return u.String()
}

// url returns FerretDB's connection string: the superuser over the
// socket, without the password, which only clients that give it (through
// FerretDB) have.
func (p *postgres) url() string {
	q := url.Values{}
	q.Set("host", p.sock)
	q.Set("port", strconv.Itoa(pgPort))
	u := url.URL{Scheme: "postgres", User: url.User(pgSuperuser), Path: "/postgres", RawQuery: q.Encode()}
	return u.String()
}

// close shuts postgres down (a fast shutdown: clients are disconnected
// and the data is checkpointed), killing it after pgShutdownGrace or when
// ctx ends, and removes a temporary socket directory.
func (p *postgres) close(ctx context.Context) error {
	var errs []error
	if p.proc.running() {
		_ = p.proc.cmd.Process.Signal(syscall.SIGINT)
		gctx, cancel := context.WithTimeout(ctx, pgShutdownGrace)
		err := p.proc.wait(gctx)
		cancel()
		if err != nil {
			errs = append(errs, p.proc.stop(ctx))
		}
	}
	if p.sockTemp {
		errs = append(errs, os.RemoveAll(p.sock))
	}
	return errors.Join(errs...)
}
