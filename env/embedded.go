package env

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/taskready/taskready/embedded"
)

// EmbeddedOptions configure the embedded provider.
type EmbeddedOptions struct {
	// DataDir keeps the MongoDB files; a temporary directory, removed on
	// Close, when empty.
	DataDir string
	// MongoBackend is where FerretDB keeps the data; zero: PostgreSQL when
	// it is installed, else SQLite.
	MongoBackend embedded.MongoBackend
}

// MongoDirPrefix begins the name of the temporary directory the embedded
// provider keeps MongoDB's files in (without -data-dir).
const MongoDirPrefix = "harness-mongo"

// RemoveLeftoverDirs removes the temporary directories of embedded stores
// (MongoDB's files, redis-server's configuration and log) whose owning
// process has exited: what a SIGKILLed run leaves. A live run's are kept,
// and so are those of a harness from before owners were recorded, which
// it returns in Unknown.
func RemoveLeftoverDirs() (embedded.Leftovers, error) {
	return embedded.RemoveLeftovers("", MongoDirPrefix, embedded.RedisDirPrefix)
}

type embeddedProvider struct{ o EmbeddedOptions }

// NewEmbedded returns the provider that needs no engine: FerretDB in this
// process (on a private PostgreSQL cluster when PostgreSQL is installed,
// else on SQLite) and redis-server (or miniredis).
func NewEmbedded(o EmbeddedOptions) Provider { return embeddedProvider{o} }

func (embeddedProvider) Name() string { return "embedded" }

func (p embeddedProvider) Stores(ctx context.Context) (_ *Stores, err error) {
	var closers closeStack
	defer func() {
		if err != nil {
			_ = closers.close()
		}
	}()
	quiet := slog.New(slog.DiscardHandler)
	dir := p.o.DataDir
	if dir == "" {
		if dir, err = embedded.TempDir(MongoDirPrefix); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		closers.push(func() error { return os.RemoveAll(dir) })
	}
	s := &Stores{}
	start := time.Now()
	mopts := []embedded.MongoOption{embedded.MongoLogger(quiet)}
	switch p.o.MongoBackend {
	case embedded.SQLite:
		mopts = append(mopts, embedded.MongoSQLite())
	case embedded.PostgreSQL:
		bin := embedded.FindPostgreSQL()
		if bin == "" {
			return nil, fmt.Errorf("start embedded mongodb: PostgreSQL is not installed; %s", embedded.PostgreSQLHint)
		}
		mopts = append(mopts, embedded.MongoPostgreSQL(bin))
	}
	m, err := embedded.StartMongo(ctx, dir, mopts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded mongodb: %w", err)
	}
	closers.push(m.Close)
	s.Timings = append(s.Timings, Timing{"mongo-0 (FerretDB on " + m.Backend().String() + ")", time.Since(start)})

	// A password of this environment's own, as a deployment's Redis has:
	// the APIs and the checks get it in RedisURL, anyone else is refused.
	start = time.Now()
	r, err := embedded.StartRedis(ctx, embedded.RedisLogger(quiet), embedded.RedisPassword(NewSecret()))
	if err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	closers.push(r.Close)
	s.Timings = append(s.Timings, Timing{"redis-primary (" + r.Kind().String() + ")", time.Since(start)})

	s.MongoURI, s.RedisURL = m.URI(), r.URL()
	s.Description = "embedded: FerretDB (" + m.Backend().String() + ") in process + " + r.Kind().String()
	auth := "embedded: MongoDB requires a password of this environment (FerretDB hands it to its PostgreSQL), and so does Redis"
	if m.Backend() != embedded.PostgreSQL {
		auth = "embedded: MongoDB without authentication (FerretDB on SQLite cannot require it); Redis requires a password of this environment"
	}
	s.Notes = []string{"embedded: one MongoDB-wire node (FerretDB, no replica set) and one Redis, no replicas", auth}
	if why := m.Fallback(); why != "" {
		s.Notes = append(s.Notes, "embedded: FerretDB on SQLite, which reads whole collections: "+why)
	}
	s.Components = []Component{
		storeComponent{name: "mongo-0", stop: m.Stop, start: m.Start, pause: m.Pause, unpause: m.Unpause, frozen: true},
		storeComponent{name: "redis-primary", stop: r.Stop, start: r.Start, pause: r.Pause, unpause: r.Unpause,
			frozen: r.Kind() != embedded.Miniredis},
	}
	s.Close = closers.close
	return s, nil
}

// NewSecret returns a random password for a store of one environment
// (every provider gives its Redis one): 128 bits from crypto/rand, hex so
// that it needs no escaping in a URL or a configuration file.
func NewSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// storeComponent is an embedded server seen as a Component. Kill is a
// Stop (an in-process server has no process to kill); Pause freezes it
// where it can be (FerretDB's forwarder holds every byte, redis-server
// gets SIGSTOP; the in-process Redis cannot).
type storeComponent struct {
	name                        string
	stop, start, pause, unpause func(context.Context) error
	// frozen is true for a server Pause can freeze; false for the
	// in-process Redis.
	frozen bool
}

// Can says before a run that the in-process Redis cannot be paused.
func (c storeComponent) Can(action string) error {
	if (action == "pause" || action == "unpause") && !c.frozen {
		return fmt.Errorf("%s cannot be paused: it is the in-process Redis, which cannot be frozen (install redis-server: apt-get install redis-server): %w", c.name, ErrUnsupported)
	}
	return nil
}

var _ Limited = storeComponent{}

func (c storeComponent) Name() string                    { return c.name }
func (c storeComponent) Stop(ctx context.Context) error  { return c.stop(ctx) }
func (c storeComponent) Start(ctx context.Context) error { return c.start(ctx) }
func (c storeComponent) Kill(ctx context.Context) error  { return c.stop(ctx) }
func (c storeComponent) Pause(ctx context.Context) error {
	if err := c.pause(ctx); err != nil {
		if errors.Is(err, embedded.ErrNoFreeze) {
			return fmt.Errorf("%s: pause: %w (%v)", c.name, ErrUnsupported, err)
		}
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}
func (c storeComponent) Unpause(ctx context.Context) error { return c.unpause(ctx) }

// ExternalOptions name an existing deployment.
type ExternalOptions struct {
	MongoURI string // may be empty when only an API target is given
	RedisURL string
}

type externalProvider struct{ o ExternalOptions }

// NewExternal returns the provider of stores that already run elsewhere
// (staging, production). It starts and removes nothing.
func NewExternal(o ExternalOptions) Provider { return externalProvider{o} }

func (externalProvider) Name() string { return "external" }

func (p externalProvider) Stores(context.Context) (*Stores, error) {
	return &Stores{
		Description: "external: existing deployment (the harness creates and deletes only its own prefixed test data there)",
		MongoURI:    p.o.MongoURI,
		RedisURL:    p.o.RedisURL,
		Close:       func() error { return nil },
	}, nil
}

// closeStack runs closers newest first, once.
type closeStack []func() error

func (s *closeStack) push(f func() error) { *s = append(*s, f) }

func (s *closeStack) close() error {
	var errs []error
	for i := len(*s) - 1; i >= 0; i-- {
		if err := (*s)[i](); err != nil {
			errs = append(errs, err)
		}
	}
	*s = nil
	return joinErrors(errs)
}
