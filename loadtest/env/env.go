package env

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/taskready/taskready/embedded"
)

// Env is a running system under test.
type Env struct {
	// Description says what runs, for reports ("embedded: FerretDB
	// (SQLite) + redis-server, 2 API instances").
	Description string
	MongoURI    string
	RedisURL    string
	APIs        []*API
	closers     []func() error
}

// Options configure an environment.
type Options struct {
	APIBinary string   // path of the taskapi build
	Instances int      // API processes, at least 1
	APIEnv    []string // extra environment for every API ("RATE_LIMIT_AUTH=100/1m")
	DataDir   string   // where the embedded MongoDB keeps its files; a temp dir when empty
	// Progress, when set, is told how long each component took to start.
	Progress func(component string, took time.Duration)
}

// Embedded starts the no-setup environment: FerretDB in this process,
// redis-server (or miniredis), and the API processes. On error everything
// already started is stopped.
func Embedded(ctx context.Context, o Options) (_ *Env, err error) {
	if o.Instances < 1 {
		o.Instances = 1
	}
	if o.Progress == nil {
		o.Progress = func(string, time.Duration) {}
	}
	e := &Env{}
	defer func() {
		if err != nil {
			_ = e.Close()
		}
	}()
	quiet := slog.New(slog.DiscardHandler)

	dir := o.DataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "harness-mongo-"); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		e.closers = append(e.closers, func() error { return os.RemoveAll(dir) })
	}
	start := time.Now()
	m, err := embedded.StartMongo(ctx, dir, embedded.MongoLogger(quiet))
	if err != nil {
		return nil, fmt.Errorf("start embedded mongodb: %w", err)
	}
	e.closers = append(e.closers, m.Close)
	o.Progress("mongodb (FerretDB)", time.Since(start))

	start = time.Now()
	r, err := embedded.StartRedis(ctx, embedded.RedisLogger(quiet))
	if err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	e.closers = append(e.closers, r.Close)
	o.Progress("redis ("+r.Kind().String()+")", time.Since(start))

	e.MongoURI, e.RedisURL = m.URI(), r.URL()
	e.Description = fmt.Sprintf("embedded: FerretDB (SQLite) + %s, %d API instance(s)", r.Kind(), o.Instances)
	vars := append([]string{"MONGODB_URI=" + e.MongoURI, "REDIS_URL=" + e.RedisURL}, o.APIEnv...)
	for i := 1; i <= o.Instances; i++ {
		start = time.Now()
		name := "api-" + strconv.Itoa(i)
		a, err := StartAPI(ctx, name, o.APIBinary, vars)
		if err != nil {
			return nil, err
		}
		e.APIs = append(e.APIs, a)
		e.closers = append(e.closers, a.Close)
		o.Progress(name+" "+a.URL(), time.Since(start))
	}
	return e, nil
}

// Close stops everything the environment started, newest first.
func (e *Env) Close() error {
	var errs []error
	for i := len(e.closers) - 1; i >= 0; i-- {
		errs = append(errs, e.closers[i]())
	}
	e.closers = nil
	return errors.Join(errs...)
}
