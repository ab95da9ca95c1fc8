package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferretNewMu serializes ferretdb.New, which writes a package-level variable
// of FerretDB (version.Get().Package) without synchronization.
var ferretNewMu sync.Mutex

// Mongo is a MongoDB-wire server (FerretDB on SQLite) running in this process.
//
// FerretDB listens on an internal loopback port; the public address is served
// by a small TCP forwarder owned by Mongo. The reason: cancelling FerretDB's
// Run closes its listener but gives open client connections a 3-second grace
// period (and then also closes the SQLite backend, so a FerretDB instance
// cannot be restarted). A driver with pooled connections would keep working
// through that grace period. Closing the forwarder's listener and every
// forwarded connection instead cuts clients off at once, while FerretDB and
// its SQLite files stay open, so Start only has to listen again.
type Mongo struct {
	log  *slog.Logger
	addr string // resolved public listen address, reused by Start
	dial string // host:port clients dial
	uri  string

	backend     string             // FerretDB's internal host:port
	stopBackend context.CancelFunc // cancels FerretDB's Run
	backendDone chan struct{}      // closed when Run has returned

	mu     sync.Mutex
	fwd    *forwarder // nil while stopped
	closed bool
}

type mongoOptions struct {
	addr   string
	logger *slog.Logger
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
// is "127.0.0.1:0", a free loopback port) with its SQLite files under dir
// (created if missing; its path must not contain '?', '#' or '%'). The
// server accepts connections when StartMongo returns. Call [Mongo.Close] to
// release it.
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

	ctx, cancel := bounded(ctx)
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

	// A directory URI: trailing slash; a leading one too, so that a Windows
	// drive letter is not taken for a host (file:///C:/data/).
	sqlitePath := filepath.ToSlash(dir) + "/"
	if !strings.HasPrefix(sqlitePath, "/") {
		sqlitePath = "/" + sqlitePath
	}
	f, err := newFerretDB(ctx, &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: sqlitePath}).String(),
		Logger:    ferretLogger,
	})
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	backendURI, err := url.Parse(f.MongoDBURI()) // safe: New has already bound the listener
	if err != nil {
		_ = ln.Close()
		stopFerretDB(f)
		return nil, fmt.Errorf("embedded mongo: FerretDB URI: %w", err)
	}

	runCtx, stop := context.WithCancel(context.Background())
	m := &Mongo{
		log:         o.logger,
		addr:        net.JoinHostPort(host, port),
		dial:        net.JoinHostPort(dialHost(host), port),
		backend:     backendURI.Host,
		stopBackend: stop,
		backendDone: make(chan struct{}),
	}
	m.uri = "mongodb://" + m.dial + "/"
	go func() {
		defer close(m.backendDone)
		_ = f.Run(runCtx)
	}()
	m.fwd = startForwarder(ln, m.backend, m.log)
	m.log.Debug("embedded mongo: started", "addr", m.addr, "ferretdb", m.backend, "dir", dir)
	return m, nil
}

// newFerretDB runs ferretdb.New (which opens SQLite and binds synchronously,
// without a context) so that the wait is bounded by ctx. If ctx wins, the
// instance is shut down whenever New eventually returns.
func newFerretDB(ctx context.Context, cfg *ferretdb.Config) (*ferretdb.FerretDB, error) {
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
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("embedded mongo: starting FerretDB: %w", r.err)
		}
		return r.f, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.f != nil {
				stopFerretDB(r.f)
			}
		}()
		return nil, fmt.Errorf("embedded mongo: starting FerretDB: %w", context.Cause(ctx))
	}
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

// Close stops the server for good and shuts FerretDB down, closing its
// SQLite files (the data stays in the directory). Close is idempotent and
// nil-safe.
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
	return errors.Join(errs...)
}
