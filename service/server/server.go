// Package server assembles one task API process from its configuration:
// it connects (or starts) the stores, creates indexes, builds the HTTP
// app, serves it, and shuts everything down in order.
//
// cmd/taskapi only parses the environment and handles signals; tests use
// this package to run several real instances in one process.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/service/admission"
	"github.com/taskready/taskready/service/auth"
	"github.com/taskready/taskready/service/cache"
	"github.com/taskready/taskready/service/config"
	"github.com/taskready/taskready/service/denylist"
	"github.com/taskready/taskready/service/errorreport"
	"github.com/taskready/taskready/service/health"
	"github.com/taskready/taskready/service/httpapi"
	"github.com/taskready/taskready/service/listener"
	"github.com/taskready/taskready/service/metrics"
	"github.com/taskready/taskready/service/mongo"
	"github.com/taskready/taskready/service/ratelimit"
	"github.com/taskready/taskready/service/redis"
)

// StartupTimeout bounds connecting to the stores and creating indexes.
const StartupTimeout = 30 * time.Second

// Server is one running API process.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	app      *fiber.App
	mongo    *mongodrv.Client
	redis    *redis.Client
	profiles *cache.Profiles
	conns    *listener.Metrics
	closers  []func() error // run in reverse order by Close

	// gatherer holds every series; metricsSrv serves them on the metrics
	// listener (ServeMetrics), nil until then.
	gatherer prometheus.Gatherer

	// serveMu guards what Shutdown must reach however late Serve and
	// ServeMetrics start: a Shutdown that ran before them (a SIGTERM
	// during startup) must still stop them.
	serveMu    sync.Mutex
	listeners  []net.Listener // every listener Serve was given
	metricsSrv *http.Server
	down       bool // Shutdown has run: a late Serve or ServeMetrics serves nothing
}

// Open connects to the configured stores, starting embedded ones for
// unset URIs, and builds the app. On error everything opened is closed.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (s *Server, err error) {
	ctx, cancel := context.WithTimeout(ctx, StartupTimeout)
	defer cancel()
	s = &Server{cfg: cfg, log: log}
	// The error paths return a nil *Server: close what this one opened,
	// not the named result.
	opened := s
	defer func() {
		if err != nil {
			_ = opened.Close()
		}
	}()

	reporter, err := s.errorReporter()
	if err != nil {
		return nil, err
	}

	mongoURI, redisURL, err := s.stores(ctx)
	if err != nil {
		return nil, err
	}

	monitor := mongo.NewMonitor()
	if s.mongo, err = mongo.Connect(ctx, mongoURI, monitor); err != nil {
		return nil, fmt.Errorf("%w (is MONGODB_URI right and the server up?)", err)
	}
	s.closers = append(s.closers, func() error { return s.mongo.Disconnect(context.Background()) })
	guard := mongo.NewGuard(s.mongo, log)
	monitor.Watch(guard)
	db := s.mongo.Database(cfg.MongoDB)
	report, err := mongo.EnsureIndexes(ctx, db)
	if err != nil {
		return nil, err
	}
	if len(report.Dropped) > 0 {
		log.Info("indexes: dropped indexes of an earlier version that no query uses",
			slog.String("dropped", strings.Join(report.Dropped, ",")))
	}

	if len(cfg.RedisSentinels) > 0 {
		s.redis, err = redis.OpenSentinel(redisURL, redis.Sentinel{Master: cfg.RedisSentinelMaster, Addrs: cfg.RedisSentinels, Password: cfg.RedisSentinelPassword})
	} else {
		s.redis, err = redis.Open(redisURL)
	}
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.redis.Close)

	hashStart := time.Now()
	passwords, err := auth.NewPasswords(cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	hashTime := time.Since(hashStart) // one hash at this cost on this machine: the hash limiter's first estimate
	admissionMetrics := admission.NewMetrics()
	storeSlots, hashSlots := concurrency(cfg)
	admit := httpapi.Admission{
		Store: admission.New("store", storeSlots, admissionMetrics, admission.Estimate(20*time.Millisecond)),
		Hash:  admission.New("hash", hashSlots, admissionMetrics, admission.Estimate(hashTime)),
	}
	users := mongo.NewUsers(db, guard)
	s.profiles = cache.NewProfiles(users, s.redis, cfg.CacheTTL)
	limits := ratelimit.NewMetrics()
	deny := denylist.New(s.redis)
	httpMetrics := metrics.NewHTTP()
	collectors := append(httpMetrics.Collectors(), monitor, guard.Collector(), s.redis.Collector(), s.profiles.Collector())
	collectors = append(collectors, admissionMetrics.Collectors()...)
	collectors = append(collectors, deny.Collectors()...)
	collectors = append(collectors, limits.Collectors()...)
	s.conns = listener.NewMetrics()
	reg, err := metrics.NewRegistry(append(collectors, s.conns.Collectors()...)...)
	if err != nil {
		return nil, err
	}

	s.gatherer = reg
	s.app = httpapi.New(httpapi.Deps{
		Users:     users,
		Tasks:     mongo.NewTasks(db, guard),
		Profiles:  s.profiles,
		Passwords: passwords,
		Tokens:    auth.NewTokens(cfg.JWTSecret, cfg.JWTTTL),
		Denylist:  deny,
		AuthLimit: ratelimit.New("auth", cfg.AuthLimit.Limit, cfg.AuthLimit.Window, s.redis, limits),
		APILimit:  ratelimit.New("api", cfg.APILimit.Limit, cfg.APILimit.Window, s.redis, limits),
		Health: health.NewChecker(health.DefaultTimeout,
			// Through the guard: ready means the breaker is closed too.
			health.Probe{Name: "mongodb", ComponentType: "datastore", Critical: true, Check: guard.Ping},
			health.Probe{Name: "redis", ComponentType: "cache", Check: s.redis.Ping},
			health.Probe{Name: "admission", ComponentType: "system", Check: saturated(admit.Store, admit.Hash),
				Symptom: "saturated: shedding load with 503 + Retry-After"},
		),
		Admission: admit,
		Metrics:   httpMetrics,
		Gatherer:  reg,
		Logger:    log,
		Reporter:  reporter,
	}, httpapi.Options{
		Production:     cfg.Production(),
		Origins:        cfg.FrontendURLs,
		BodyLimit:      cfg.BodyLimit,
		MaxPageSize:    cfg.MaxPageSize,
		RequestTimeout: cfg.RequestTimeout,
		TrustedProxies: cfg.TrustedProxies,
	})
	return s, nil
}

// errorReporter sets error tracking up when SENTRY_DSN is set (nil, and
// nothing sent anywhere, when not). Its closer runs last: the requests
// that Shutdown let finish may still fail and report.
func (s *Server) errorReporter() (httpapi.Reporter, error) {
	cfg := s.cfg
	r, err := errorreport.New(cfg.SentryDSN,
		errorreport.WithEnvironment(cfg.SentryEnvironment),
		errorreport.WithRelease(cfg.SentryRelease),
		errorreport.WithSampleRate(cfg.SentrySampleRate),
		errorreport.WithSecrets(cfg.JWTSecret, cfg.RedisSentinelPassword, password(cfg.MongoURI), password(cfg.RedisURL)),
	)
	if err != nil || r == nil {
		return nil, err
	}
	s.closers = append(s.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), errorreport.FlushTimeout)
		defer cancel()
		if !r.Close(ctx) {
			s.log.Warn("error tracking: Sentry did not take the last events in time; they are lost",
				slog.String("timeout", errorreport.FlushTimeout.String()))
		}
		return nil
	})
	s.log.Info("error tracking: reporting panics and 5xx to Sentry", slog.String("host", hostsOf(cfg.SentryDSN)),
		slog.String("environment", cfg.SentryEnvironment), slog.String("release", r.ReleaseName()),
		slog.Float64("sample_rate", cfg.SentrySampleRate))
	return r, nil
}

// password returns the password in a store URI, "" when it has none.
func password(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// concurrency returns the store and hash slots: the configured numbers,
// or sizes for this machine. Store calls mostly wait on the network, so
// several per CPU keep it busy; a bcrypt computation holds a CPU for its
// whole run, so more than one per CPU only makes every one slower.
func concurrency(cfg config.Config) (store, hash int) {
	cpus := runtime.GOMAXPROCS(0)
	store, hash = cfg.StoreConcurrency, cfg.HashConcurrency
	if store == 0 {
		store = 8 * cpus
	}
	if hash == 0 {
		hash = cpus
	}
	return store, hash
}

// saturationWindow is how recently a limiter must have shed a request for
// readiness to report it.
const saturationWindow = 5 * time.Second

// saturated is a readiness probe that fails (a warning: the instance still
// serves) while a limiter is shedding, so that /readyz says so honestly
// instead of pass while clients get 503s.
func saturated(limiters ...*admission.Limiter) func(context.Context) error {
	return func(context.Context) error {
		var busy []string
		for _, l := range limiters {
			if s := l.Saturation(saturationWindow); s.ShedLast {
				busy = append(busy, fmt.Sprintf("%s: %d/%d slots in use, %d waiting, shedding", l.Name(), s.InUse, s.Limit, s.Waiting))
			}
		}
		if len(busy) > 0 {
			return errors.New(strings.Join(busy, "; "))
		}
		return nil
	}
}

// stores returns the store addresses, starting the embedded servers for
// those not configured, and says in one log line each which it chose.
func (s *Server) stores(ctx context.Context) (mongoURI, redisURL string, err error) {
	mongoURI, redisURL = s.cfg.MongoURI, s.cfg.RedisURL
	if mongoURI == "" {
		dir := filepath.Join(s.cfg.DataDir, "mongo")
		m, err := embedded.StartMongo(ctx, dir, embedded.MongoLogger(quiet(s.log, "ferretdb")))
		if err != nil {
			return "", "", fmt.Errorf("start embedded mongodb (set MONGODB_URI to use a server): %w", err)
		}
		s.closers = append(s.closers, m.Close)
		mongoURI = m.URI()
		s.log.Info("mongodb: MONGODB_URI unset, started embedded FerretDB ("+m.Backend().String()+")",
			slog.String("addr", m.Addr()), slog.String("data_dir", dir))
		if why := m.Fallback(); why != "" {
			s.log.Warn("mongodb: embedded FerretDB runs on SQLite, which reads whole collections: " + why)
		}
	} else {
		s.log.Info("mongodb: using MONGODB_URI", slog.String("hosts", hostsOf(mongoURI)))
	}
	switch {
	case len(s.cfg.RedisSentinels) > 0:
		s.log.Info("redis: using REDIS_SENTINELS", slog.String("sentinels", strings.Join(s.cfg.RedisSentinels, ",")),
			slog.String("master", s.cfg.RedisSentinelMaster))
	case redisURL == "":
		r, err := embedded.StartRedis(ctx, embedded.RedisLogger(quiet(s.log, "redis")))
		if err != nil {
			return "", "", fmt.Errorf("start embedded redis (set REDIS_URL to use a server): %w", err)
		}
		s.closers = append(s.closers, r.Close)
		redisURL = r.URL()
		s.log.Info("redis: REDIS_URL unset, started "+r.Kind().String(), slog.String("addr", r.Addr()))
	default:
		s.log.Info("redis: using REDIS_URL", slog.String("hosts", hostsOf(redisURL)))
	}
	return mongoURI, redisURL, nil
}

// quiet returns a logger for an embedded server that passes on only its
// errors: FerretDB logs every refused command at warning level, and an
// optional index it cannot build is not worth a log entry per start.
func quiet(log *slog.Logger, component string) *slog.Logger {
	return slog.New(minLevel{Handler: log.Handler(), min: slog.LevelError}).With(slog.String("component", component))
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

// hostsOf returns the host part of a store URI without credentials, for logs.
func hostsOf(uri string) string {
	rest := uri
	if _, after, ok := strings.Cut(uri, "://"); ok {
		rest = after
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// App returns the HTTP app, for tests that drive it without a socket.
func (s *Server) App() *fiber.App { return s.app }

// Profiles returns the profile cache, through which users are deleted.
func (s *Server) Profiles() *cache.Profiles { return s.profiles }

// DrainBytes bounds what a lingering close (after a 413 or 431) reads
// and discards: many times BODY_LIMIT, so that a client writing a body far
// over the limit still reads its 413, but never unbounded.
func DrainBytes(bodyLimit int) int64 {
	return max(16*int64(bodyLimit), listener.DefaultDrainBytes)
}

// Serve serves HTTP on ln until Shutdown. ln is wrapped in a
// listener.Listener: accept errors such as EMFILE are retried instead of
// ending Serve, and at most MAX_CONNECTIONS connections are open at once.
func (s *Server) Serve(ln net.Listener) error {
	l := listener.New(ln, listener.Options{
		MaxConns:     s.cfg.MaxConnections,
		DrainBytes:   DrainBytes(s.cfg.BodyLimit),
		DrainTimeout: listener.DefaultDrainTimeout,
		Log:          s.log,
		Metrics:      s.conns,
	})
	s.serveMu.Lock()
	if s.down {
		s.serveMu.Unlock()
		return l.Close()
	}
	s.listeners = append(s.listeners, l)
	s.serveMu.Unlock()
	s.conns.Track(l)
	// A Shutdown between here and the app's own start finds no server to
	// stop; it closes l instead, which ends this call cleanly.
	return s.app.Listener(l, fiber.ListenConfig{DisableStartupMessage: true})
}

// MetricsHandler serves the Prometheus text of every series. It is not
// on the app: /metrics belongs on its own listener (METRICS_ADDR), which
// the public port does not reach.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})
}

// ServeMetrics serves GET /metrics (and nothing else: 404) on ln until
// Shutdown.
func (s *Server) ServeMetrics(ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.MetricsHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.serveMu.Lock()
	if s.down {
		s.serveMu.Unlock()
		return ln.Close()
	}
	s.metricsSrv = srv
	s.serveMu.Unlock()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics listener: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections, lets in-flight requests finish
// until ctx ends, stops the metrics listener, then closes the stores.
func (s *Server) Shutdown(ctx context.Context) error {
	s.serveMu.Lock()
	s.down = true
	listeners, msrv := s.listeners, s.metricsSrv
	s.serveMu.Unlock()
	err := s.app.ShutdownWithContext(ctx)
	for _, l := range listeners {
		// Already closed by the app when it had started; if it had not,
		// this is what stops Serve.
		_ = l.Close()
	}
	if msrv != nil {
		err = errors.Join(err, msrv.Shutdown(ctx))
	}
	return errors.Join(err, s.Close())
}

// Close releases the stores without waiting for requests. It is safe to
// call more than once.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}
