package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/docker"
)

// envFlags are the flags of every command that brings up an environment.
type envFlags struct {
	provider       string
	apiBin         string
	instances      int
	apiEnv         listFlag
	dataDir        string
	mongoBackend   string
	mongoURI       string
	redisURL       string
	target         string
	mongoReplicas  int
	redisReplicas  int
	redisSentinels int
	mongoImage     string
	redisImage     string
	// tls serves the environment over HTTPS (env.Options.TLS); only
	// commands whose clients can trust its authority register it.
	tls bool
}

func (f *envFlags) register(fs *flag.FlagSet, instances int) {
	fs.StringVar(&f.provider, "provider", "auto", "where the stores run: docker, embedded, external, or auto (docker when an engine answers)")
	fs.StringVar(&f.apiBin, "api-bin", "bin/taskapi", "taskapi binary to start (make build)")
	fs.IntVar(&f.instances, "api-instances", instances, "API processes to start behind one address")
	fs.Var(&f.apiEnv, "api-env", "extra KEY=value for every API instance (repeatable), e.g. RATE_LIMIT_API=100000/1m")
	fs.StringVar(&f.dataDir, "data-dir", "", "embedded: directory for the MongoDB files (default: a temporary one)")
	fs.StringVar(&f.mongoBackend, "mongo-backend", "auto", "embedded: where FerretDB keeps the data: postgresql (a private cluster of the installed PostgreSQL), sqlite, or auto (postgresql when installed)")
	fs.StringVar(&f.mongoURI, "mongo-uri", "", "external: MongoDB URI of an existing deployment")
	fs.StringVar(&f.redisURL, "redis-url", "", "external: Redis URL of an existing deployment")
	fs.StringVar(&f.target, "target", "", "external: base URL of a running API (no instances start)")
	fs.IntVar(&f.mongoReplicas, "mongo-replicas", 3, "docker: replica-set members (one node when the image cannot form a set)")
	fs.IntVar(&f.redisReplicas, "redis-replicas", 1, "docker: Redis replicas of the primary")
	fs.IntVar(&f.redisSentinels, "redis-sentinels", 0, "docker: Redis sentinels watching the primary (3 is typical)")
	fs.StringVar(&f.mongoImage, "mongo-image", "", "docker: MongoDB image (default $HARNESS_MONGO_IMAGE, $LOCAL_IMAGE_MONGO, mongo:7)")
	fs.StringVar(&f.redisImage, "redis-image", "", "docker: Redis image (default $HARNESS_REDIS_IMAGE, $LOCAL_IMAGE_REDIS, redis:7)")
}

// providerFor resolves --provider, saying which one auto chose and why.
func (f *envFlags) providerFor(ctx context.Context, out io.Writer) (env.Provider, error) {
	name := f.provider
	if name == "auto" {
		if f.mongoURI != "" || f.redisURL != "" || f.target != "" {
			name = "external"
		} else if err := docker.Available(ctx); err == nil {
			name = "docker"
		} else {
			name = "embedded"
			fmt.Fprintf(out, "harness: %v; using the embedded provider\n", err)
		}
	}
	switch name {
	case "embedded":
		if f.redisSentinels > 0 {
			// One redis-server and no replicas: nothing to fail over to.
			return nil, fmt.Errorf("%w: -redis-sentinels needs -provider docker; the embedded provider runs one Redis without replicas or Sentinels", errUsage)
		}
		var backend embedded.MongoBackend
		switch f.mongoBackend {
		case "auto":
		case "postgresql":
			backend = embedded.PostgreSQL
		case "sqlite":
			backend = embedded.SQLite
		default:
			return nil, fmt.Errorf("%w: -mongo-backend must be postgresql, sqlite or auto (got %q)", errUsage, f.mongoBackend)
		}
		return env.NewEmbedded(env.EmbeddedOptions{DataDir: f.dataDir, MongoBackend: backend}), nil
	case "docker":
		if err := docker.Available(ctx); err != nil {
			return nil, err
		}
		if f.mongoReplicas < 1 || f.redisReplicas < 0 || f.redisSentinels < 0 {
			return nil, fmt.Errorf("%w: -mongo-replicas must be at least 1, -redis-replicas and -redis-sentinels at least 0", errUsage)
		}
		replicas := f.redisReplicas
		if replicas == 0 {
			replicas = docker.NoReplicas // the option's zero value means "the default"
		}
		return docker.New(docker.Options{
			MongoImage: f.mongoImage, RedisImage: f.redisImage,
			MongoReplicas: f.mongoReplicas, RedisReplicas: replicas, RedisSentinels: f.redisSentinels,
		}), nil
	case "external":
		if f.target == "" && (f.mongoURI == "" || f.redisURL == "") {
			return nil, fmt.Errorf("%w: the external provider needs -target, or -mongo-uri and -redis-url", errUsage)
		}
		return env.NewExternal(env.ExternalOptions{MongoURI: f.mongoURI, RedisURL: f.redisURL}), nil
	}
	return nil, fmt.Errorf("%w: -provider must be docker, embedded, external or auto (got %q)", errUsage, name)
}

// up brings the environment up, printing each component's start time.
func (f *envFlags) up(ctx context.Context, out io.Writer) (*env.Env, error) {
	if f.instances < 0 || f.target == "" && f.instances < 1 {
		return nil, fmt.Errorf("%w: -api-instances must be at least 1", errUsage)
	}
	p, err := f.providerFor(ctx, out)
	if err != nil {
		return nil, err
	}
	if f.apiBin != "" && f.target == "" {
		if _, err := os.Stat(f.apiBin); err != nil {
			return nil, fmt.Errorf("API binary %s: %w (build it with: make build)", f.apiBin, err)
		}
	}
	fmt.Fprintf(out, "harness: bringing up the %s environment\n", p.Name())
	start := time.Now()
	e, err := env.Up(ctx, p, env.Options{
		APIBinary: f.apiBin, Instances: f.instances, APIEnv: f.apiEnv, Target: f.target, TLS: f.tls,
		Progress: func(t env.Timing) {
			fmt.Fprintf(out, "  %-44s ready in %s\n", t.Component, t.Took.Round(time.Millisecond))
		},
	})
	if errors.Is(err, env.ErrBadTarget) {
		return nil, fmt.Errorf("%w: -target: %v", errUsage, err)
	}
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "harness: %s (up in %s)\n", e.Description(), time.Since(start).Round(time.Millisecond))
	for _, n := range e.Stores.Notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
	return e, nil
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint([]string(*l)) }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// closeEnv takes e down, saying on w what failed.
func closeEnv(e *env.Env, w io.Writer) {
	if err := e.Close(); err != nil {
		fmt.Fprintln(w, "harness: taking the environment down:", err)
	}
}
