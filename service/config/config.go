// Package config turns the process environment into validated settings for
// the task API. Every setting has a documented default (see the README), so
// an empty environment is a valid development configuration; production
// refuses settings that are only safe on a developer's machine.
package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Environments the API knows. Production turns on the strict checks.
const (
	Development = "development"
	Production  = "production"
)

// Defaults, exported so that documentation and tests cannot drift from them.
const (
	DefaultPort        = 5000
	DefaultDatabase    = "taskmanager"
	DefaultJWTTTL      = 30 * 24 * time.Hour
	DefaultBcryptCost  = 12
	DefaultFrontendURL = "http://localhost:3000"
	DefaultAuthLimit   = "5/15m"
	DefaultAPILimit    = "100/15m"
	DefaultBodyLimit   = "100kb"
	DefaultDataDir     = ".data"
	DefaultMaxPageSize = 100
	DefaultCacheTTL    = time.Minute
	DefaultShutdown    = 10 * time.Second
	DefaultTimeout     = 5 * time.Second

	// DefaultSentinelMaster is the name Redis Sentinel's own examples, and
	// most deployments, monitor the primary under.
	DefaultSentinelMaster = "mymaster"

	// DefaultMetricsAddr is where /metrics is served unless METRICS_ADDR
	// says otherwise: loopback, the OpenTelemetry Prometheus exporter's
	// port. A Prometheus in another container or pod needs 0.0.0.0:9464.
	DefaultMetricsAddr = "127.0.0.1:9464"
	// MetricsOff, as METRICS_ADDR, serves no /metrics at all.
	MetricsOff = "off"
	// DefaultMaxConnections caps open client connections (MAX_CONNECTIONS)
	// well under the usual 64k+ descriptor limits of a container, leaving
	// the rest to the stores, the logs and the embedded servers.
	DefaultMaxConnections = 10000

	// DevelopmentSecret signs tokens when JWT_SECRET is unset outside
	// production. It is public, so production refuses it.
	DevelopmentSecret = "development-only-secret-do-not-use-in-production"
)

// knownSecrets are secrets copied from tutorials and .env examples; a
// production process signing with one of them is as good as unsigned.
var knownSecrets = map[string]bool{
	DevelopmentSecret:          true,
	"secret":                   true,
	"changeme":                 true,
	"your_jwt_secret":          true,
	"your_jwt_secret_key":      true,
	"your_jwt_secret_key_here": true,
	"your-secret-key":          true,
	"jwt_secret":               true,
	"supersecret":              true,
	"mysecretkey":              true,
}

// ErrInvalid is wrapped by every configuration error, so callers can tell a
// bad setting (exit 2, fix the environment) from a runtime failure.
var ErrInvalid = errors.New("invalid configuration")

// Config holds every setting of one API process.
type Config struct {
	Port           int           // PORT
	Host           string        // HOST: loopback in development (its secret is public), else every interface
	Env            string        // APP_ENV: development or production
	MongoURI       string        // MONGODB_URI; empty starts the embedded FerretDB
	MongoDB        string        // MONGODB_DB
	RedisURL       string        // REDIS_URL; empty (and no sentinels) starts redis-server or miniredis
	JWTSecret      string        // JWT_SECRET
	JWTTTL         time.Duration // JWT_TTL
	BcryptCost     int           // BCRYPT_COST
	FrontendURLs   []string      // FRONTEND_URL, comma-separated CORS origins
	AuthLimit      Rate          // RATE_LIMIT_AUTH
	APILimit       Rate          // RATE_LIMIT_API
	BodyLimit      int           // BODY_LIMIT in bytes
	DataDir        string        // DATA_DIR, for the embedded store's files
	LogLevel       slog.Level    // LOG_LEVEL
	MaxPageSize    int           // MAX_PAGE_SIZE, the cap of every task list
	CacheTTL       time.Duration // CACHE_TTL of the profile cache
	RequestTimeout time.Duration // REQUEST_TIMEOUT, the deadline of each request's store calls
	ShutdownGrace  time.Duration // SHUTDOWN_GRACE for in-flight requests on SIGTERM
	TrustedProxies []string      // TRUSTED_PROXIES whose X-Forwarded-For names the client

	// RedisSentinels (REDIS_SENTINELS, host:port each), when set, make the
	// API ask them for the primary and follow failovers; REDIS_URL then
	// gives only the credentials, database and options.
	RedisSentinels      []string
	RedisSentinelMaster string // REDIS_SENTINEL_MASTER, the name the sentinels monitor the primary under
	// RedisSentinelPassword (REDIS_SENTINEL_PASSWORD) is the sentinels'
	// own requirepass, when they have one.
	RedisSentinelPassword string

	// Connection handling at the HTTP edge.
	MaxConnections int // MAX_CONNECTIONS open at once, the excess answered 503; 0: only the OS limit

	// Admission: how much work an instance takes on at once before it
	// sheds the rest with 503 + Retry-After. 0 sizes it to the machine.
	StoreConcurrency int // STORE_CONCURRENCY: requests calling the stores at once (0: 8 per CPU)
	HashConcurrency  int // HASH_CONCURRENCY: bcrypt hashes and comparisons at once (0: one per CPU)

	// MetricsAddr (METRICS_ADDR, host:port) is the listener of /metrics,
	// apart from the API's port so that the series (and the Go version)
	// are not public; "" when METRICS_ADDR is "off".
	MetricsAddr string

	// HTTPS served by the API itself, for a deployment with no proxy in
	// front to terminate TLS: both files set, or neither.
	TLSCertFile string // TLS_CERT_FILE: the certificate, then its chain (PEM)
	TLSKeyFile  string // TLS_KEY_FILE: its private key (PEM)
	// TLSCertificate is the pair the two files hold, read and checked
	// by Load (a missing, unreadable or mismatched pair is a bad
	// setting); nil serves plain HTTP.
	TLSCertificate *tls.Certificate

	// Error tracking: panics and 5xx answers go to Sentry (see
	// service/errorreport) while SentryDSN is set, and nowhere when not.
	SentryDSN         string  // SENTRY_DSN, the project's client key URL
	SentryEnvironment string  // SENTRY_ENVIRONMENT; default APP_ENV
	SentryRelease     string  // SENTRY_RELEASE; empty: the build's version (errorreport.Release)
	SentrySampleRate  float64 // SENTRY_SAMPLE_RATE, the fraction of failures sent, in (0, 1]
}

// Production reports whether the strict production rules apply.
func (c Config) Production() bool { return c.Env == Production }

// Load reads the configuration through getenv (os.Getenv in main, a map in
// tests) and validates it. The error lists every bad setting at once.
func Load(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		Port:           p.int("PORT", DefaultPort, 1, 65535),
		Host:           p.str("HOST", ""),
		Env:            p.str("APP_ENV", Development),
		MongoURI:       p.str("MONGODB_URI", ""),
		MongoDB:        p.str("MONGODB_DB", DefaultDatabase),
		RedisURL:       p.str("REDIS_URL", ""),
		JWTSecret:      getenv("JWT_SECRET"),
		JWTTTL:         p.duration("JWT_TTL", DefaultJWTTTL),
		BcryptCost:     p.int("BCRYPT_COST", DefaultBcryptCost, 4, 31),
		FrontendURLs:   p.list("FRONTEND_URL", DefaultFrontendURL),
		AuthLimit:      p.rate("RATE_LIMIT_AUTH", DefaultAuthLimit),
		APILimit:       p.rate("RATE_LIMIT_API", DefaultAPILimit),
		BodyLimit:      p.size("BODY_LIMIT", DefaultBodyLimit),
		DataDir:        p.str("DATA_DIR", DefaultDataDir),
		LogLevel:       p.level("LOG_LEVEL", slog.LevelInfo),
		MaxPageSize:    p.int("MAX_PAGE_SIZE", DefaultMaxPageSize, 1, 10000),
		CacheTTL:       p.duration("CACHE_TTL", DefaultCacheTTL),
		RequestTimeout: p.duration("REQUEST_TIMEOUT", DefaultTimeout),
		ShutdownGrace:  p.duration("SHUTDOWN_GRACE", DefaultShutdown),
		TrustedProxies: p.list("TRUSTED_PROXIES", ""),

		RedisSentinels:        p.hostPorts("REDIS_SENTINELS"),
		RedisSentinelMaster:   p.str("REDIS_SENTINEL_MASTER", DefaultSentinelMaster),
		RedisSentinelPassword: p.str("REDIS_SENTINEL_PASSWORD", ""),

		MaxConnections: p.int("MAX_CONNECTIONS", DefaultMaxConnections, 0, 1_000_000),

		StoreConcurrency: p.int("STORE_CONCURRENCY", 0, 0, 100000),
		HashConcurrency:  p.int("HASH_CONCURRENCY", 0, 0, 10000),

		MetricsAddr: p.metricsAddr("METRICS_ADDR"),

		TLSCertFile: p.str("TLS_CERT_FILE", ""),
		TLSKeyFile:  p.str("TLS_KEY_FILE", ""),

		SentryDSN:         p.sentryDSN("SENTRY_DSN"),
		SentryEnvironment: p.str("SENTRY_ENVIRONMENT", ""),
		SentryRelease:     p.str("SENTRY_RELEASE", ""),
		SentrySampleRate:  p.fraction("SENTRY_SAMPLE_RATE", 1),
	}
	if c.SentryEnvironment == "" {
		c.SentryEnvironment = c.Env
	}
	if c.Host == "" && !c.Production() {
		c.Host = "127.0.0.1"
	}
	c.TLSCertificate = p.certificate(c.TLSCertFile, c.TLSKeyFile)
	c.validate(&p)
	if len(p.errs) > 0 {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(p.errs...))
	}
	return c, nil
}

func (c *Config) validate(p *parser) {
	switch c.Env {
	case Development, Production:
	default:
		p.fail("APP_ENV", c.Env, "must be development or production")
	}
	if c.JWTTTL < time.Minute {
		p.fail("JWT_TTL", c.JWTTTL.String(), "must be at least 1m")
	}
	for _, origin := range c.FrontendURLs {
		if origin == "*" {
			// Credentials with a wildcard origin would hand any site the
			// user's session; browsers refuse it and so do we.
			p.fail("FRONTEND_URL", origin, "must list origins; '*' cannot be combined with credentials")
		} else if !strings.HasPrefix(origin, "http://") && !strings.HasPrefix(origin, "https://") {
			p.fail("FRONTEND_URL", origin, "each origin must start with http:// or https://")
		}
	}
	switch {
	case c.JWTSecret == "" && c.Production():
		p.fail("JWT_SECRET", "", "is required in production (at least 32 random bytes)")
	case c.JWTSecret == "":
		c.JWTSecret = DevelopmentSecret
	case c.Production() && knownSecrets[strings.ToLower(strings.TrimSpace(c.JWTSecret))]:
		p.fail("JWT_SECRET", "(redacted)", "is a published example value; generate one with: openssl rand -base64 48")
	case c.Production() && len(c.JWTSecret) < 32:
		p.fail("JWT_SECRET", "(redacted)", fmt.Sprintf("is %d bytes; production needs at least 32 (openssl rand -base64 48)", len(c.JWTSecret)))
	}
	if c.Production() && c.MongoURI == "" {
		p.fail("MONGODB_URI", "", "is required in production (the embedded store is for development)")
	}
	if c.Production() && c.RedisURL == "" && len(c.RedisSentinels) == 0 {
		p.fail("REDIS_URL", "", "or REDIS_SENTINELS is required in production (rate limits must be shared by every instance)")
	}
	if c.Production() && c.BcryptCost < 10 {
		p.fail("BCRYPT_COST", strconv.Itoa(c.BcryptCost), "must be at least 10 in production")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"CACHE_TTL", c.CacheTTL}, {"REQUEST_TIMEOUT", c.RequestTimeout}, {"SHUTDOWN_GRACE", c.ShutdownGrace}} {
		if d.v <= 0 {
			p.fail(d.name, d.v.String(), "must be positive")
		}
	}
}
