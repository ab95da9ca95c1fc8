package embedded

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferretNewMu serializes ferretdb.New, which writes a package-level variable
// of FerretDB (version.Get().Package) without synchronization.
var ferretNewMu sync.Mutex

// MongoBackend says where FerretDB keeps a [Mongo]'s data.
type MongoBackend int

const (
	// PostgreSQL is a private PostgreSQL cluster that Mongo runs as a child
	// process. FerretDB hands a query's filter to PostgreSQL, which returns
	// only the matching documents.
	PostgreSQL MongoBackend = iota + 1
	// SQLite is FerretDB's SQLite backend, in this process: nothing to
	// install, but it reads and decodes a whole collection for any query
	// that is not by _id alone, so it slows down as collections grow.
	SQLite
)

// String returns "PostgreSQL" or "SQLite".
func (b MongoBackend) String() string {
	switch b {
	case PostgreSQL:
		return "PostgreSQL"
	case SQLite:
		return "SQLite"
	default:
		return "MongoBackend(" + strconv.Itoa(int(b)) + ")"
	}
}

// Mongo is a MongoDB-wire server: FerretDB running in this process, on a
// private PostgreSQL cluster (a child process) when PostgreSQL is
// installed, else on SQLite.
//
// FerretDB listens on an internal loopback port; the public address is served
// by a small TCP forwarder owned by Mongo. The reason: cancelling FerretDB's
// Run closes its listener but gives open client connections a 3-second grace
// period (and then also closes the backend, so a FerretDB instance cannot be
// restarted). A driver with pooled connections would keep working through
// that grace period. Closing the forwarder's listener and every forwarded
// connection instead cuts clients off at once, while FerretDB and its
// backend keep running, so Start only has to listen again.
type Mongo struct {
	log  *slog.Logger
	addr string // resolved public listen address, reused by Start
	dial string // host:port clients dial
	uri  string

	backendKind MongoBackend
	fallback    string // why SQLite runs rather than PostgreSQL, if it was not asked for

	backend     string             // FerretDB's internal host:port
	stopBackend context.CancelFunc // cancels FerretDB's Run
	backendDone chan struct{}      // closed when Run has returned

	pg      *postgres     // nil on SQLite
	closing chan struct{} // closed by Close, before postgres is shut down

	mu     sync.Mutex
	fwd    *forwarder // nil while stopped
	closed bool
	pgErr  error // set when postgres exited while serving
}

type mongoOptions struct {
	addr     string
	logger   *slog.Logger
	sqlite   bool
	pgBin    string
	pgBinSet bool
}

// MongoOption configures [StartMongo].
type MongoOption func(*mongoOptions) error

// MongoAddr sets the public listen address (host:port). The default is
// "127.0.0.1:0": a free loopback port. Port 0 is resolved once, at
// [StartMongo]; later Starts reuse the resolved port.
func MongoAddr(addr string) MongoOption {
	return func(o *mongoOptions) error {
		if _, _, err := splitAddr(addr); err != nil {
			return fmt.Errorf("embedded: MongoAddr(%q): %w", addr, err)
		}
		o.addr = addr
		return nil
	}
}

// MongoPostgreSQL sets the directory that holds PostgreSQL's initdb and
// postgres instead of looking for one; "" forces SQLite. With an explicit
// directory, a failure to start PostgreSQL is an error rather than a
// fallback to SQLite.
func MongoPostgreSQL(binDir string) MongoOption {
	return func(o *mongoOptions) error {
		o.pgBin = binDir
		o.pgBinSet = true
		return nil
	}
}

// MongoSQLite forces the SQLite backend even when PostgreSQL is installed.
func MongoSQLite() MongoOption {
	return func(o *mongoOptions) error {
		o.sqlite = true
		return nil
	}
}

// MongoLogger sets the logger for Mongo and FerretDB. FerretDB is chatty:
// it logs every connection at Info, and every command that fails (a
// duplicate key, or the endSessions that drivers send on Disconnect, which
// FerretDB does not implement) as two Warn records with the full response.
// The default (also used for nil) therefore logs Mongo's own warnings but
// only FerretDB's errors, to stderr.
func MongoLogger(l *slog.Logger) MongoOption {
	return func(o *mongoOptions) error {
		o.logger = l
		return nil
	}
}

// StartMongo starts FerretDB listening on addr (see [MongoAddr]; the default
// is "127.0.0.1:0", a free loopback port) with its data under dir (created
// if missing; its path must not contain '?', '#' or '%'). The server
// accepts connections when StartMongo returns. Call [Mongo.Close] to
// release it.
//
// Unless told otherwise by options, FerretDB runs on a PostgreSQL cluster
// in dir/postgresql (initialised on first use, run as a child process) when
// PostgreSQL is installed and dir does not already hold SQLite data, and on
// SQLite files in dir otherwise, or if PostgreSQL fails to start (logged as
// a warning; [Mongo.Backend] tells which one runs and [Mongo.Fallback] why).
func StartMongo(ctx context.Context, dir string, opts ...MongoOption) (*Mongo, error) {
	o := mongoOptions{addr: "127.0.0.1:0"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	ferretLogger := o.logger
	if o.logger == nil {
		o.logger = defaultLogger()
		ferretLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	if dir == "" {
		return nil, errors.New("embedded mongo: empty data directory")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded mongo: data directory: %w", err)
	}
	// FerretDB hands the directory to SQLite as a URI without escaping it,
	// so these characters would silently put the files somewhere else.
	if strings.ContainsAny(dir, "?#%") {
		return nil, fmt.Errorf("embedded mongo: data directory %q: '?', '#' and '%%' are not supported", dir)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded mongo: data directory: %w", err)
	}

	// initdb takes a few seconds on a busy machine: the PostgreSQL path
	// gets a longer bound than the package's usual one.
	ctx, cancel := context.WithTimeout(ctx, pgStartTimeout)
	defer cancel()

	// Public listener first: fails fast if addr is taken, and fixes the port.
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("embedded mongo: listen: %w", err)
	}
	tcpAddr := ln.Addr().(*net.TCPAddr)
	host, _, _ := net.SplitHostPort(o.addr)
	port := strconv.Itoa(tcpAddr.Port)

	b, err := startBackend(ctx, dir, o, ferretLogger)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}

	runCtx, stop := context.WithCancel(context.Background())
	m := &Mongo{
		log:         o.logger,
		addr:        net.JoinHostPort(host, port),
		dial:        net.JoinHostPort(dialHost(host), port),
		backendKind: b.kind,
		fallback:    b.fallback,
		backend:     b.addr,
		stopBackend: stop,
		backendDone: make(chan struct{}),
		pg:          b.pg,
		closing:     make(chan struct{}),
	}
	m.uri = "mongodb://" + m.dial + "/"
	if m.pg != nil {
		// FerretDB hands the client's credentials to PostgreSQL, which
		// asks for the cluster's password: without them, nothing.
		m.uri = (&url.URL{Scheme: "mongodb", User: url.UserPassword(pgSuperuser, m.pg.password), Host: m.dial, Path: "/",
			RawQuery: "authMechanism=PLAIN"}).String()
	}
	go func() {
		defer close(m.backendDone)
		_ = b.f.Run(runCtx)
	}()
	if m.pg != nil {
		go m.watchPostgres()
	}
	m.fwd = startForwarder(ln, m.backend, m.log)
	m.log.Debug("embedded mongo: started", "addr", m.addr, "ferretdb", m.backend, "backend", m.backendKind, "dir", dir)
	return m, nil
}

// pgStartTimeout bounds StartMongo, which may run initdb.
const pgStartTimeout = 30 * time.Second

// ferretBackend is a FerretDB instance, bound but not yet run, and what it
// stores its data in.
type ferretBackend struct {
	f        *ferretdb.FerretDB
	addr     string // FerretDB's host:port
	kind     MongoBackend
	fallback string
	pg       *postgres // nil on SQLite
}

// startBackend creates FerretDB on the backend o asks for (see StartMongo).
func startBackend(ctx context.Context, dir string, o mongoOptions, ferretLogger *slog.Logger) (ferretBackend, error) {
	bin, explicit := o.pgBin, o.pgBinSet
	var fallback string
	switch {
	case o.sqlite || explicit && bin == "":
	case explicit:
	case holdsSQLite(dir) && !holdsPostgres(dir):
		// Starting an empty cluster beside them would hide the data.
		fallback = "the data directory holds SQLite data"
	default:
		if bin = FindPostgreSQL(); bin == "" {
			if holdsPostgres(dir) {
				// SQLite would start empty: the data would seem lost.
				return ferretBackend{}, fmt.Errorf("embedded mongo: %s holds a PostgreSQL cluster, but PostgreSQL is not installed; %s",
					dir, PostgreSQLHint)
			}
			fallback = "PostgreSQL is not installed; " + PostgreSQLHint
		}
	}
	if bin != "" && !o.sqlite {
		b, err := startPostgresBackend(ctx, dir, bin, ferretLogger)
		if err == nil || explicit || ctx.Err() != nil || holdsPostgres(dir) {
			return b, err // a cluster with data is never replaced by an empty SQLite
		}
		fallback = fmt.Sprintf("PostgreSQL failed (%v); %s", err, PostgreSQLHint)
		o.logger.Warn("embedded mongo: PostgreSQL failed, using SQLite instead", "err", err)
	}

	// A directory URI: trailing slash; a leading one too, so that a Windows
	// drive letter is not taken for a host (file:///C:/data/).
	sqlitePath := filepath.ToSlash(dir) + "/"
	if !strings.HasPrefix(sqlitePath, "/") {
		sqlitePath = "/" + sqlitePath
	}
	f, addr, err := newFerretDB(ctx, &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: sqlitePath}).String(),
		Logger:    ferretLogger,
	})
	if err != nil {
		return ferretBackend{}, err
	}
	return ferretBackend{f: f, addr: addr, kind: SQLite, fallback: fallback}, nil
}

// startPostgresBackend runs the cluster in dir/postgresql and FerretDB on
// it. A cluster directory that this call created is removed again if
// anything fails, so that a retry starts clean.
func startPostgresBackend(ctx context.Context, dir, bin string, ferretLogger *slog.Logger) (ferretBackend, error) {
	clusterDir := filepath.Join(dir, "postgresql")
	_, statErr := os.Stat(clusterDir)
	created := errors.Is(statErr, fs.ErrNotExist)
	pg, err := startPostgres(ctx, bin, clusterDir)
	if err != nil {
		if created {
			_ = os.RemoveAll(clusterDir)
		}
		return ferretBackend{}, fmt.Errorf("embedded mongo: PostgreSQL: %w", err)
	}
	f, addr, err := newFerretDB(ctx, &ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:       "postgresql",
		PostgreSQLURL: pg.url(),
		Logger:        ferretLogger,
	})
	if err != nil {
		sctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
		defer cancel()
		err = errors.Join(err, pg.close(sctx))
		if created {
			_ = os.RemoveAll(clusterDir)
		}
		return ferretBackend{}, err
	}
	return ferretBackend{f: f, addr: addr, kind: PostgreSQL, pg: pg}, nil
}

// holdsSQLite reports whether dir has FerretDB's SQLite files.
func holdsSQLite(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	return len(m) > 0
}

// holdsPostgres reports whether dir has a PostgreSQL cluster of a Mongo.
func holdsPostgres(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "postgresql", "data", "PG_VERSION"))
	return err == nil
}

// watchPostgres reports postgres exiting on its own: FerretDB then fails
// every command, and Start and Close return the reason.
func (m *Mongo) watchPostgres() {
	select {
	case <-m.pg.proc.done:
	case <-m.closing:
		return
	}
	select {
	case <-m.closing: // Close shut it down
		return
	default:
	}
	err := fmt.Errorf("embedded mongo: PostgreSQL stopped while serving: %w", m.pg.exitErr())
	m.log.Error(err.Error())
	m.mu.Lock()
	m.pgErr = err
	m.mu.Unlock()
}

// newFerretDB runs ferretdb.New (which opens the backend and binds
// synchronously, without a context) so that the wait is bounded by ctx. If
// ctx wins, the instance is shut down whenever New eventually returns. It
// returns the instance and the host:port it listens on.
func newFerretDB(ctx context.Context, cfg *ferretdb.Config) (*ferretdb.FerretDB, string, error) {
	type result struct {
		f   *ferretdb.FerretDB
		err error
	}
	ch := make(chan result, 1)
	go func() {
		ferretNewMu.Lock()
		defer ferretNewMu.Unlock()
		f, err := ferretdb.New(cfg)
		ch <- result{f, err}
	}()
	var f *ferretdb.FerretDB
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, "", fmt.Errorf("embedded mongo: starting FerretDB: %w", r.err)
		}
		f = r.f
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.f != nil {
				stopFerretDB(r.f)
			}
		}()
		return nil, "", fmt.Errorf("embedded mongo: starting FerretDB: %w", context.Cause(ctx))
	}
	u, err := url.Parse(f.MongoDBURI()) // safe: New has already bound the listener
	if err != nil {
		stopFerretDB(f)
		return nil, "", fmt.Errorf("embedded mongo: FerretDB URI: %w", err)
	}
	return f, u.Host, nil
}

// stopFerretDB releases a FerretDB that was never run: Run with a canceled
// context closes its listener, handler and backend.
func stopFerretDB(f *ferretdb.FerretDB) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = f.Run(ctx)
}

// URI returns the connection string, mongodb://127.0.0.1:PORT/. It is the
// same across Stop and Start.
func (m *Mongo) URI() string { return m.uri }

// Addr returns the host:port clients dial (the loopback address if the
// server listens on all interfaces).
func (m *Mongo) Addr() string { return m.dial }

// Backend returns where FerretDB keeps the data.
func (m *Mongo) Backend() MongoBackend { return m.backendKind }

// Fallback says why SQLite runs although PostgreSQL was not ruled out by
// an option (PostgreSQL is not installed, failed to start, or the
// directory holds SQLite data), ending with [PostgreSQLHint] where
// installing it would help; it is "" otherwise.
func (m *Mongo) Fallback() string { return m.fallback }

// Stop stops serving: it closes the listener and every existing client
// connection, so a driver sees the server as down. The data is kept. Stop
// is idempotent.
func (m *Mongo) Stop(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fwd == nil {
		return nil
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	err := m.fwd.close(ctx)
	m.fwd = nil
	return err
}

// Start serves again on the same address with the same data. It retries
// binding until ctx ends (at most 10 s) if the port is still taken. Start
// is idempotent; after Close it returns [ErrClosed].
func (m *Mongo) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.pgErr != nil {
		return m.pgErr
	}
	if m.fwd != nil {
		return nil
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	ln, err := listenRetry(ctx, m.addr)
	if err != nil {
		return fmt.Errorf("embedded mongo: listen on %s: %w", m.addr, err)
	}
	m.fwd = startForwarder(ln, m.backend, m.log)
	return nil
}

// Pause freezes the server: connections stay open and new ones are
// accepted, but nothing is answered until Unpause, as with a process that
// was sent SIGSTOP. A stopped server has nothing to pause.
func (m *Mongo) Pause(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fwd == nil {
		return fmt.Errorf("embedded mongo: pause: %w", errStopped)
	}
	m.fwd.pause()
	return nil
}

// Unpause answers again, the requests held while paused first.
func (m *Mongo) Unpause(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fwd != nil {
		m.fwd.unpause()
	}
	return nil
}

// errStopped is the cause of pausing a server that is stopped.
var errStopped = errors.New("the server is stopped")

// Close stops the server for good and shuts FerretDB down, closing its
// SQLite files or shutting its PostgreSQL cluster down (the data stays in
// the directory). It returns the reason if PostgreSQL stopped on its own
// while serving. Close is idempotent and nil-safe.
func (m *Mongo) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	close(m.closing)

	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	var errs []error
	if m.fwd != nil {
		errs = append(errs, m.fwd.close(ctx))
		m.fwd = nil
	}
	// With every client connection already closed by the forwarder,
	// FerretDB's Run returns without waiting for its grace period.
	m.stopBackend()
	select {
	case <-m.backendDone:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("embedded mongo: FerretDB did not shut down within %v", defaultTimeout))
	}
	if m.pg != nil {
		errs = append(errs, m.pgErr)
		if err := m.pg.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("embedded mongo: PostgreSQL: %w", err))
		}
	}
	return errors.Join(errs...)
}
