package config_test

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/service/config"
)

// env returns a getenv backed by m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// with returns a copy of base with the changes applied; an empty value
// removes the key.
func with(base map[string]string, changes map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(changes))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		if v == "" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// strongSecret is 48 bytes that appear in no list of published secrets.
const strongSecret = "q3Vt8-Zk1pR7wLx0mN4bY6cH2sJ9dF5gT1aE8uK3oQ7iW0zX"

// production is a complete, valid production environment.
var production = map[string]string{
	"APP_ENV":      "production",
	"JWT_SECRET":   strongSecret,
	"MONGODB_URI":  "mongodb://db.internal:27017",
	"REDIS_URL":    "redis://cache.internal:6379/0",
	"FRONTEND_URL": "https://app.example.com",
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatalf("Load(empty) error = %v; want nil", err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"Port", c.Port, config.DefaultPort},
		{"Host", c.Host, "127.0.0.1"}, // development's secret is public: loopback only
		{"Env", c.Env, config.Development},
		{"Production", c.Production(), false},
		{"MongoURI", c.MongoURI, ""},
		{"MongoDB", c.MongoDB, config.DefaultDatabase},
		{"RedisURL", c.RedisURL, ""},
		{"JWTSecret", c.JWTSecret, config.DevelopmentSecret},
		{"JWTTTL", c.JWTTTL, config.DefaultJWTTTL},
		{"BcryptCost", c.BcryptCost, config.DefaultBcryptCost},
		{"FrontendURLs", c.FrontendURLs, []string{config.DefaultFrontendURL}},
		// The contract: auth 5 per 15 minutes, API 100 per 15 minutes.
		{"AuthLimit", c.AuthLimit, config.Rate{Limit: 5, Window: 15 * time.Minute}},
		{"APILimit", c.APILimit, config.Rate{Limit: 100, Window: 15 * time.Minute}},
		{"BodyLimit", c.BodyLimit, 100 * 1024}, // DefaultBodyLimit is "100kb"
		{"DataDir", c.DataDir, config.DefaultDataDir},
		{"LogLevel", c.LogLevel, slog.LevelInfo},
		{"MaxPageSize", c.MaxPageSize, config.DefaultMaxPageSize},
		{"CacheTTL", c.CacheTTL, config.DefaultCacheTTL},
		{"RequestTimeout", c.RequestTimeout, config.DefaultTimeout},
		{"ShutdownGrace", c.ShutdownGrace, config.DefaultShutdown},
		{"TrustedProxies", len(c.TrustedProxies), 0},
		{"RedisSentinels", len(c.RedisSentinels), 0},
		{"RedisSentinelMaster", c.RedisSentinelMaster, config.DefaultSentinelMaster},
		{"MaxConnections", c.MaxConnections, config.DefaultMaxConnections},
		{"SentryDSN", c.SentryDSN, ""}, // error tracking off
		{"SentryEnvironment", c.SentryEnvironment, config.Development},
		{"SentryRelease", c.SentryRelease, ""}, // the build's own
		{"SentrySampleRate", c.SentrySampleRate, 1.0},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("Load(empty).%s = %#v; want %#v", tt.name, tt.got, tt.want)
		}
	}
	if got, want := config.DefaultJWTTTL, 30*24*time.Hour; got != want {
		t.Errorf("DefaultJWTTTL = %v; want %v (the contract's 30 days)", got, want)
	}
	if got, want := config.DefaultBcryptCost, 12; got != want {
		t.Errorf("DefaultBcryptCost = %v; want %v (the contract's cost)", got, want)
	}
	if got, want := config.DefaultMaxPageSize, 100; got != want {
		t.Errorf("DefaultMaxPageSize = %v; want %v (the contract's cap)", got, want)
	}
}

func TestLoadParsesEachVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		field func(config.Config) any
		want  any
	}{
		{"PORT", map[string]string{"PORT": "8080"}, func(c config.Config) any { return c.Port }, 8080},
		{"PORT padded", map[string]string{"PORT": " 8081 "}, func(c config.Config) any { return c.Port }, 8081},
		{"PORT low edge", map[string]string{"PORT": "1"}, func(c config.Config) any { return c.Port }, 1},
		{"PORT high edge", map[string]string{"PORT": "65535"}, func(c config.Config) any { return c.Port }, 65535},
		{"HOST", map[string]string{"HOST": "0.0.0.0"}, func(c config.Config) any { return c.Host }, "0.0.0.0"},
		{"APP_ENV development", map[string]string{"APP_ENV": "development"}, func(c config.Config) any { return c.Env }, config.Development},
		{"MONGODB_URI", map[string]string{"MONGODB_URI": "mongodb://h:1"}, func(c config.Config) any { return c.MongoURI }, "mongodb://h:1"},
		{"MONGODB_DB", map[string]string{"MONGODB_DB": "other"}, func(c config.Config) any { return c.MongoDB }, "other"},
		{"REDIS_URL", map[string]string{"REDIS_URL": "redis://h:2"}, func(c config.Config) any { return c.RedisURL }, "redis://h:2"},
		{"JWT_SECRET in development", map[string]string{"JWT_SECRET": "short"}, func(c config.Config) any { return c.JWTSecret }, "short"},
		{"JWT_TTL hours", map[string]string{"JWT_TTL": "24h"}, func(c config.Config) any { return c.JWTTTL }, 24 * time.Hour},
		{"JWT_TTL days", map[string]string{"JWT_TTL": "30d"}, func(c config.Config) any { return c.JWTTTL }, 30 * 24 * time.Hour},
		{"JWT_TTL one day", map[string]string{"JWT_TTL": "1d"}, func(c config.Config) any { return c.JWTTTL }, 24 * time.Hour},
		{"JWT_TTL one minute", map[string]string{"JWT_TTL": "1m"}, func(c config.Config) any { return c.JWTTTL }, time.Minute},
		{"JWT_TTL compound", map[string]string{"JWT_TTL": "1h30m"}, func(c config.Config) any { return c.JWTTTL }, 90 * time.Minute},
		{"BCRYPT_COST", map[string]string{"BCRYPT_COST": "10"}, func(c config.Config) any { return c.BcryptCost }, 10},
		{"BCRYPT_COST min in development", map[string]string{"BCRYPT_COST": "4"}, func(c config.Config) any { return c.BcryptCost }, 4},
		{"BCRYPT_COST max", map[string]string{"BCRYPT_COST": "31"}, func(c config.Config) any { return c.BcryptCost }, 31},
		{"FRONTEND_URL one", map[string]string{"FRONTEND_URL": "https://app.example.com"}, func(c config.Config) any { return c.FrontendURLs }, []string{"https://app.example.com"}},
		{"FRONTEND_URL trailing slash", map[string]string{"FRONTEND_URL": "https://app.example.com/"}, func(c config.Config) any { return c.FrontendURLs }, []string{"https://app.example.com"}},
		{
			"FRONTEND_URL list", map[string]string{"FRONTEND_URL": " https://a.example.com/ , http://localhost:3000//,,https://b.example.com"},
			func(c config.Config) any { return c.FrontendURLs },
			[]string{"https://a.example.com", "http://localhost:3000", "https://b.example.com"},
		},
		{"RATE_LIMIT_AUTH", map[string]string{"RATE_LIMIT_AUTH": "10/1m"}, func(c config.Config) any { return c.AuthLimit }, config.Rate{Limit: 10, Window: time.Minute}},
		{"RATE_LIMIT_API", map[string]string{"RATE_LIMIT_API": "1000/h"}, func(c config.Config) any { return c.APILimit }, config.Rate{Limit: 1000, Window: time.Hour}},
		{"BODY_LIMIT kb", map[string]string{"BODY_LIMIT": "100kb"}, func(c config.Config) any { return c.BodyLimit }, 102400},
		{"BODY_LIMIT mb", map[string]string{"BODY_LIMIT": "1mb"}, func(c config.Config) any { return c.BodyLimit }, 1048576},
		{"BODY_LIMIT bytes", map[string]string{"BODY_LIMIT": "512"}, func(c config.Config) any { return c.BodyLimit }, 512},
		{"DATA_DIR", map[string]string{"DATA_DIR": "/var/lib/taskapi"}, func(c config.Config) any { return c.DataDir }, "/var/lib/taskapi"},
		{"LOG_LEVEL debug", map[string]string{"LOG_LEVEL": "debug"}, func(c config.Config) any { return c.LogLevel }, slog.LevelDebug},
		{"LOG_LEVEL WARN", map[string]string{"LOG_LEVEL": "WARN"}, func(c config.Config) any { return c.LogLevel }, slog.LevelWarn},
		{"LOG_LEVEL error", map[string]string{"LOG_LEVEL": "error"}, func(c config.Config) any { return c.LogLevel }, slog.LevelError},
		{"MAX_PAGE_SIZE", map[string]string{"MAX_PAGE_SIZE": "50"}, func(c config.Config) any { return c.MaxPageSize }, 50},
		{"MAX_PAGE_SIZE max", map[string]string{"MAX_PAGE_SIZE": "10000"}, func(c config.Config) any { return c.MaxPageSize }, 10000},
		{"CACHE_TTL", map[string]string{"CACHE_TTL": "90s"}, func(c config.Config) any { return c.CacheTTL }, 90 * time.Second},
		{"REQUEST_TIMEOUT", map[string]string{"REQUEST_TIMEOUT": "250ms"}, func(c config.Config) any { return c.RequestTimeout }, 250 * time.Millisecond},
		{"SHUTDOWN_GRACE", map[string]string{"SHUTDOWN_GRACE": "30s"}, func(c config.Config) any { return c.ShutdownGrace }, 30 * time.Second},
		{
			"TRUSTED_PROXIES", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1"},
			func(c config.Config) any { return c.TrustedProxies },
			[]string{"10.0.0.0/8", "192.168.1.1"},
		},
		{"MAX_CONNECTIONS", map[string]string{"MAX_CONNECTIONS": "500"}, func(c config.Config) any { return c.MaxConnections }, 500},
		{"MAX_CONNECTIONS zero is the OS limit", map[string]string{"MAX_CONNECTIONS": "0"}, func(c config.Config) any { return c.MaxConnections }, 0},
		{"MAX_CONNECTIONS max", map[string]string{"MAX_CONNECTIONS": "1000000"}, func(c config.Config) any { return c.MaxConnections }, 1_000_000},
		{"MAX_CONNECTIONS padded", map[string]string{"MAX_CONNECTIONS": " 64 "}, func(c config.Config) any { return c.MaxConnections }, 64},
		{"blank means default", map[string]string{"PORT": "   "}, func(c config.Config) any { return c.Port }, config.DefaultPort},
		{"SENTRY_DSN", map[string]string{"SENTRY_DSN": "https://abc123@o1.ingest.sentry.io/4507"}, func(c config.Config) any { return c.SentryDSN }, "https://abc123@o1.ingest.sentry.io/4507"},
		{"SENTRY_DSN self-hosted with a path", map[string]string{"SENTRY_DSN": "http://abc@sentry.internal:9000/sub/7"}, func(c config.Config) any { return c.SentryDSN }, "http://abc@sentry.internal:9000/sub/7"},
		{"SENTRY_ENVIRONMENT", map[string]string{"SENTRY_ENVIRONMENT": "staging"}, func(c config.Config) any { return c.SentryEnvironment }, "staging"},
		{"SENTRY_ENVIRONMENT follows APP_ENV", map[string]string{"APP_ENV": "development"}, func(c config.Config) any { return c.SentryEnvironment }, config.Development},
		{"SENTRY_RELEASE", map[string]string{"SENTRY_RELEASE": "taskapi@2.0.0"}, func(c config.Config) any { return c.SentryRelease }, "taskapi@2.0.0"},
		{"SENTRY_SAMPLE_RATE", map[string]string{"SENTRY_SAMPLE_RATE": "0.25"}, func(c config.Config) any { return c.SentrySampleRate }, 0.25},
		{"SENTRY_SAMPLE_RATE one", map[string]string{"SENTRY_SAMPLE_RATE": "1"}, func(c config.Config) any { return c.SentrySampleRate }, 1.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(tt.env))
			if err != nil {
				t.Fatalf("Load(%v) error = %v; want nil", tt.env, err)
			}
			if got := tt.field(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Load(%v) = %#v; want %#v", tt.env, got, tt.want)
			}
		})
	}
}

func TestLoadRefusesBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, value string
	}{
		{"PORT zero", "PORT", "0"},
		{"PORT too high", "PORT", "65536"},
		{"PORT not a number", "PORT", "http"},
		{"APP_ENV unknown", "APP_ENV", "staging"},
		{"APP_ENV wrong case", "APP_ENV", "Production"},
		{"JWT_TTL garbage", "JWT_TTL", "forever"},
		{"JWT_TTL fractional days", "JWT_TTL", "1.5d"},
		{"JWT_TTL bare d", "JWT_TTL", "d"},
		{"JWT_TTL under a minute", "JWT_TTL", "59s"},
		{"JWT_TTL zero", "JWT_TTL", "0"},
		{"JWT_TTL negative", "JWT_TTL", "-1h"},
		{"JWT_TTL negative days", "JWT_TTL", "-30d"},
		// 213504 days is 2^64 ns plus about 25 minutes: the multiplication
		// must not wrap around to a short, valid-looking lifetime.
		{"JWT_TTL days overflow", "JWT_TTL", "213504d"},
		{"BCRYPT_COST too low", "BCRYPT_COST", "3"},
		{"BCRYPT_COST too high", "BCRYPT_COST", "32"},
		{"BCRYPT_COST not a number", "BCRYPT_COST", "twelve"},
		{"FRONTEND_URL wildcard", "FRONTEND_URL", "*"},
		{"FRONTEND_URL wildcard among others", "FRONTEND_URL", "https://a.example.com,*"},
		{"FRONTEND_URL no scheme", "FRONTEND_URL", "app.example.com"},
		{"FRONTEND_URL other scheme", "FRONTEND_URL", "ftp://app.example.com"},
		{"RATE_LIMIT_AUTH malformed", "RATE_LIMIT_AUTH", "5 per 15m"},
		{"RATE_LIMIT_API zero", "RATE_LIMIT_API", "0/15m"},
		{"BODY_LIMIT unit", "BODY_LIMIT", "1gb"},
		{"BODY_LIMIT zero", "BODY_LIMIT", "0"},
		{"LOG_LEVEL unknown", "LOG_LEVEL", "verbose"},
		{"MAX_PAGE_SIZE zero", "MAX_PAGE_SIZE", "0"},
		{"MAX_PAGE_SIZE too high", "MAX_PAGE_SIZE", "10001"},
		{"CACHE_TTL zero", "CACHE_TTL", "0s"},
		{"CACHE_TTL negative", "CACHE_TTL", "-1m"},
		{"CACHE_TTL garbage", "CACHE_TTL", "soon"},
		{"REQUEST_TIMEOUT zero", "REQUEST_TIMEOUT", "0"},
		{"SHUTDOWN_GRACE negative", "SHUTDOWN_GRACE", "-5s"},
		{"MAX_CONNECTIONS negative", "MAX_CONNECTIONS", "-1"},
		{"MAX_CONNECTIONS too high", "MAX_CONNECTIONS", "1000001"},
		{"MAX_CONNECTIONS not a number", "MAX_CONNECTIONS", "lots"},
		{"MAX_CONNECTIONS with a unit", "MAX_CONNECTIONS", "10k"},
		{"SENTRY_DSN not a URL", "SENTRY_DSN", "abc123 at sentry"},
		{"SENTRY_DSN no key", "SENTRY_DSN", "https://o1.ingest.sentry.io/4507"},
		{"SENTRY_DSN no project", "SENTRY_DSN", "https://abc123@o1.ingest.sentry.io"},
		{"SENTRY_DSN other scheme", "SENTRY_DSN", "udp://abc123@o1.ingest.sentry.io/4507"},
		{"SENTRY_DSN bad port", "SENTRY_DSN", "https://abc123@sentry.internal:x/1"},
		{"SENTRY_DSN no host", "SENTRY_DSN", "https://abc123@/1"},
		{"SENTRY_SAMPLE_RATE zero", "SENTRY_SAMPLE_RATE", "0"},
		{"SENTRY_SAMPLE_RATE over one", "SENTRY_SAMPLE_RATE", "1.5"},
		{"SENTRY_SAMPLE_RATE negative", "SENTRY_SAMPLE_RATE", "-0.1"},
		{"SENTRY_SAMPLE_RATE percent", "SENTRY_SAMPLE_RATE", "10%"},
		{"SENTRY_SAMPLE_RATE NaN", "SENTRY_SAMPLE_RATE", "NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := map[string]string{tt.key: tt.value}
			c, err := config.Load(env(m))
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Load(%v) = %+v, %v; want an error wrapping config.ErrInvalid", m, c, err)
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("Load(%v) error = %q; want it to name %s", m, err, tt.key)
			}
			if got, want := c.Port, 0; got != want {
				t.Errorf("Load(%v) on error returned Port %d; want the zero Config", m, got)
			}
		})
	}
}

// TestLoadSentryDSNErrorWithholdsTheDSN: the DSN carries the project's
// key, so a refusal names the problem, never the value.
func TestLoadSentryDSNErrorWithholdsTheDSN(t *testing.T) {
	t.Parallel()
	for dsn, why := range map[string]string{
		"https://k3y-value-9@o1.ingest.sentry.io":     "no project id",
		"https://o1.ingest.sentry.io/4507":            "no key",
		"ftp://k3y-value-9@o1.ingest.sentry.io/4507":  "https://",
		"https://k3y-value-9@sentry.internal:x9/4507": "not a URL",
		"https://k3y-value-9@sentry internal.io/4507": "not a URL",
		"https://k3y-value-9@/4507":                   "no host",
	} {
		_, err := config.Load(env(map[string]string{"SENTRY_DSN": dsn}))
		if !errors.Is(err, config.ErrInvalid) {
			t.Fatalf("Load(SENTRY_DSN=%s) error = %v; want config.ErrInvalid", dsn, err)
		}
		if msg := err.Error(); !strings.Contains(msg, why) || strings.Contains(msg, "k3y-value-9") || strings.Contains(msg, "o1.ingest") {
			t.Errorf("Load(SENTRY_DSN=%s) error = %q; want it to say %q without quoting the DSN", dsn, msg, why)
		}
	}
	c, err := config.Load(env(with(production, map[string]string{"SENTRY_DSN": "https://k@o1.ingest.sentry.io/1"})))
	if err != nil || c.SentryEnvironment != config.Production {
		t.Errorf("Load(production with a DSN) = %q, %v; want SENTRY_ENVIRONMENT to default to production", c.SentryEnvironment, err)
	}
}

func TestLoadListsEveryBadSetting(t *testing.T) {
	t.Parallel()
	m := map[string]string{
		"PORT":            "-1",
		"APP_ENV":         "qa",
		"JWT_TTL":         "10s",
		"BCRYPT_COST":     "99",
		"FRONTEND_URL":    "*",
		"RATE_LIMIT_AUTH": "x",
		"RATE_LIMIT_API":  "1/1ms",
		"BODY_LIMIT":      "lots",
		"LOG_LEVEL":       "loud",
		"MAX_PAGE_SIZE":   "0",
		"CACHE_TTL":       "0s",
		"REQUEST_TIMEOUT": "never",
		"SHUTDOWN_GRACE":  "-1s",
		"MAX_CONNECTIONS": "-5",
	}
	_, err := config.Load(env(m))
	if !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("Load(%v) error = %v; want one wrapping config.ErrInvalid", m, err)
	}
	for key := range m {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("Load error does not name %s:\n%v", key, err)
		}
	}
}

func TestLoadProduction(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(production))
	if err != nil {
		t.Fatalf("Load(valid production) error = %v; want nil", err)
	}
	if !c.Production() {
		t.Errorf("Load(valid production).Production() = false; want true")
	}
	if got, want := c.JWTSecret, strongSecret; got != want {
		t.Errorf("Load(valid production).JWTSecret = %q; want %q", got, want)
	}
	if got, want := c.BcryptCost, config.DefaultBcryptCost; got != want {
		t.Errorf("Load(valid production).BcryptCost = %d; want %d", got, want)
	}
	if c.Host != "" {
		t.Errorf("Load(valid production).Host = %q; want every interface", c.Host)
	}

	tests := []struct {
		name    string
		changes map[string]string
		key     string // the variable the error must name
	}{
		{"missing JWT_SECRET", map[string]string{"JWT_SECRET": ""}, "JWT_SECRET"},
		{"short JWT_SECRET", map[string]string{"JWT_SECRET": "Sh0rt-but-Random-Value-31-bytes"}, "JWT_SECRET"},
		{"published example secret", map[string]string{"JWT_SECRET": "your_jwt_secret_key_here"}, "JWT_SECRET"},
		{"secret", map[string]string{"JWT_SECRET": "secret"}, "JWT_SECRET"},
		{"changeme", map[string]string{"JWT_SECRET": "changeme"}, "JWT_SECRET"},
		{"development secret", map[string]string{"JWT_SECRET": config.DevelopmentSecret}, "JWT_SECRET"},
		{"development secret upper case", map[string]string{"JWT_SECRET": strings.ToUpper(config.DevelopmentSecret)}, "JWT_SECRET"},
		{"missing MONGODB_URI", map[string]string{"MONGODB_URI": ""}, "MONGODB_URI"},
		{"missing REDIS_URL", map[string]string{"REDIS_URL": ""}, "REDIS_URL"},
		// The message must offer the other way to name Redis.
		{"missing REDIS_URL names REDIS_SENTINELS", map[string]string{"REDIS_URL": ""}, "REDIS_SENTINELS"},
		{"BCRYPT_COST 9", map[string]string{"BCRYPT_COST": "9"}, "BCRYPT_COST"},
		{"BCRYPT_COST 4", map[string]string{"BCRYPT_COST": "4"}, "BCRYPT_COST"},
		{"FRONTEND_URL wildcard", map[string]string{"FRONTEND_URL": "*"}, "FRONTEND_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := with(production, tt.changes)
			_, err := config.Load(env(m))
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Load(production with %v) error = %v; want one wrapping config.ErrInvalid", tt.changes, err)
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("Load(production with %v) error = %q; want it to name %s", tt.changes, err, tt.key)
			}
			if s := m["JWT_SECRET"]; s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("Load(production with %v) error = %q; it reveals the secret", tt.changes, err)
			}
		})
	}

	t.Run("BCRYPT_COST 10 accepted", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(with(production, map[string]string{"BCRYPT_COST": "10"})))
		if err != nil {
			t.Fatalf("Load(production, BCRYPT_COST=10) error = %v; want nil", err)
		}
		if got, want := c.BcryptCost, 10; got != want {
			t.Errorf("Load(production, BCRYPT_COST=10).BcryptCost = %d; want %d", got, want)
		}
	})
	t.Run("32-byte secret accepted", func(t *testing.T) {
		t.Parallel()
		secret := strongSecret[:32]
		if _, err := config.Load(env(with(production, map[string]string{"JWT_SECRET": secret}))); err != nil {
			t.Errorf("Load(production, 32-byte secret) error = %v; want nil", err)
		}
	})
	t.Run("every error at once, secret withheld", func(t *testing.T) {
		t.Parallel()
		secret := "short-secret-value"
		m := map[string]string{"APP_ENV": "production", "JWT_SECRET": secret, "BCRYPT_COST": "5", "FRONTEND_URL": "*"}
		_, err := config.Load(env(m))
		if !errors.Is(err, config.ErrInvalid) {
			t.Fatalf("Load(%v) error = %v; want one wrapping config.ErrInvalid", m, err)
		}
		for _, key := range []string{"JWT_SECRET", "MONGODB_URI", "REDIS_URL", "BCRYPT_COST", "FRONTEND_URL"} {
			if !strings.Contains(err.Error(), key) {
				t.Errorf("Load error does not name %s:\n%v", key, err)
			}
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Load error reveals the secret:\n%v", err)
		}
	})
}

func TestLoadRedisSentinels(t *testing.T) {
	t.Parallel()
	sentinels := "sentinel1:26379, sentinel2:26379,sentinel3:26379"
	three := []string{"sentinel1:26379", "sentinel2:26379", "sentinel3:26379"}
	tests := []struct {
		name       string
		env        map[string]string
		sentinels  []string
		master     string
		redisURL   string
		password   string
		badSetting string // the variable the error must name; empty: Load succeeds
	}{
		{name: "unset", env: map[string]string{}, master: config.DefaultSentinelMaster},
		{name: "list", env: map[string]string{"REDIS_SENTINELS": sentinels}, sentinels: three, master: config.DefaultSentinelMaster},
		{name: "empty entries skipped", env: map[string]string{"REDIS_SENTINELS": ",sentinel1:26379,,"}, sentinels: []string{"sentinel1:26379"}, master: config.DefaultSentinelMaster},
		{name: "IPv6", env: map[string]string{"REDIS_SENTINELS": "[::1]:26379,10.0.0.7:26380"}, sentinels: []string{"[::1]:26379", "10.0.0.7:26380"}, master: config.DefaultSentinelMaster},
		{name: "master name", env: map[string]string{"REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": " cache "}, sentinels: []string{"s:26379"}, master: "cache"},
		{
			name:      "sentinel password",
			env:       map[string]string{"REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_PASSWORD": "s3ntinel"},
			sentinels: []string{"s:26379"}, master: config.DefaultSentinelMaster, password: "s3ntinel",
		},
		{
			name:      "REDIS_URL kept for credentials",
			env:       map[string]string{"REDIS_SENTINELS": "s:26379", "REDIS_URL": "redis://:pw@ignored:6379/2"},
			sentinels: []string{"s:26379"}, master: config.DefaultSentinelMaster, redisURL: "redis://:pw@ignored:6379/2",
		},
		{
			name:      "production with sentinels and no REDIS_URL",
			env:       with(production, map[string]string{"REDIS_URL": "", "REDIS_SENTINELS": sentinels}),
			sentinels: three, master: config.DefaultSentinelMaster,
		},
		{
			name:      "production with both",
			env:       with(production, map[string]string{"REDIS_SENTINELS": sentinels}),
			sentinels: three, master: config.DefaultSentinelMaster, redisURL: production["REDIS_URL"],
		},
		{name: "production with neither", env: with(production, map[string]string{"REDIS_URL": ""}), badSetting: "REDIS_SENTINELS"},
		{name: "no port", env: map[string]string{"REDIS_SENTINELS": "sentinel1"}, badSetting: "REDIS_SENTINELS"},
		{name: "empty port", env: map[string]string{"REDIS_SENTINELS": "sentinel1:"}, badSetting: "REDIS_SENTINELS"},
		{name: "no host", env: map[string]string{"REDIS_SENTINELS": ":26379"}, badSetting: "REDIS_SENTINELS"},
		{name: "port zero", env: map[string]string{"REDIS_SENTINELS": "sentinel1:0"}, badSetting: "REDIS_SENTINELS"},
		{name: "port too high", env: map[string]string{"REDIS_SENTINELS": "sentinel1:65536"}, badSetting: "REDIS_SENTINELS"},
		{name: "port not a number", env: map[string]string{"REDIS_SENTINELS": "sentinel1:redis"}, badSetting: "REDIS_SENTINELS"},
		{name: "a URL", env: map[string]string{"REDIS_SENTINELS": "redis://sentinel1:26379"}, badSetting: "REDIS_SENTINELS"},
		{name: "one bad among good", env: map[string]string{"REDIS_SENTINELS": "sentinel1:26379,sentinel2"}, badSetting: "REDIS_SENTINELS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(tt.env))
			if tt.badSetting != "" {
				if !errors.Is(err, config.ErrInvalid) {
					t.Fatalf("Load(%v) = %+v, %v; want an error wrapping config.ErrInvalid", tt.env, c, err)
				}
				if !strings.Contains(err.Error(), tt.badSetting) {
					t.Errorf("Load(%v) error = %q; want it to name %s", tt.env, err, tt.badSetting)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(%v) error = %v; want nil", tt.env, err)
			}
			if !reflect.DeepEqual(c.RedisSentinels, tt.sentinels) {
				t.Errorf("Load(%v).RedisSentinels = %#v; want %#v", tt.env, c.RedisSentinels, tt.sentinels)
			}
			if c.RedisSentinelMaster != tt.master {
				t.Errorf("Load(%v).RedisSentinelMaster = %q; want %q", tt.env, c.RedisSentinelMaster, tt.master)
			}
			if c.RedisURL != tt.redisURL {
				t.Errorf("Load(%v).RedisURL = %q; want %q", tt.env, c.RedisURL, tt.redisURL)
			}
			if c.RedisSentinelPassword != tt.password {
				t.Errorf("Load(%v).RedisSentinelPassword = %q; want %q", tt.env, c.RedisSentinelPassword, tt.password)
			}
		})
	}
}

func TestLoadDevelopmentSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"no APP_ENV", map[string]string{}},
		{"development", map[string]string{"APP_ENV": "development"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(tt.env))
			if err != nil {
				t.Fatalf("Load(%v) error = %v; want nil", tt.env, err)
			}
			if got, want := c.JWTSecret, config.DevelopmentSecret; got != want {
				t.Errorf("Load(%v).JWTSecret = %q; want %q", tt.env, got, want)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want config.Rate
	}{
		{"5/15m", config.Rate{Limit: 5, Window: 15 * time.Minute}},
		{"100/15m", config.Rate{Limit: 100, Window: 15 * time.Minute}},
		{"1/1s", config.Rate{Limit: 1, Window: time.Second}},
		{"10/s", config.Rate{Limit: 10, Window: time.Second}},
		{"10/m", config.Rate{Limit: 10, Window: time.Minute}},
		{"10/h", config.Rate{Limit: 10, Window: time.Hour}},
		{"3/1h30m", config.Rate{Limit: 3, Window: 90 * time.Minute}},
		{" 7 / 2m ", config.Rate{Limit: 7, Window: 2 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := config.ParseRate(tt.in)
			if err != nil {
				t.Fatalf("ParseRate(%q) error = %v; want nil", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseRate(%q) = %+v; want %+v", tt.in, got, tt.want)
			}
		})
	}

	for _, in := range []string{"", "5", "/15m", "5/", "0/15m", "-1/15m", "a/15m", "1.5/15m", "5/15", "5/15x", "5/500ms", "5/0s", "5/-1m", "5/d", "5/15m/2"} {
		t.Run("bad "+in, func(t *testing.T) {
			t.Parallel()
			if got, err := config.ParseRate(in); err == nil {
				t.Errorf("ParseRate(%q) = %+v, nil; want an error", in, got)
			}
		})
	}
}

func TestRateString(t *testing.T) {
	t.Parallel()
	r := config.Rate{Limit: 100, Window: 15 * time.Minute}
	if got, want := r.String(), "100/15m0s"; got != want {
		t.Errorf("%#v.String() = %q; want %q", r, got, want)
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"512", 512},
		{"1", 1},
		{"512b", 512},
		{"100kb", 100 * 1024},
		{"100KB", 100 * 1024},
		{" 100 kb ", 100 * 1024},
		{"1mb", 1 << 20},
		{"64mb", 64 << 20},
		{"65536kb", 64 << 20},
		{"67108864", 64 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := config.ParseSize(tt.in)
			if err != nil {
				t.Fatalf("ParseSize(%q) error = %v; want nil", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseSize(%q) = %d; want %d", tt.in, got, tt.want)
			}
		})
	}

	for _, in := range []string{"", "0", "-1", "0kb", "kb", "mb", "1.5mb", "1gb", "65mb", "65537kb", "67108865", "ten", "10 k", "99999999999999999999"} {
		t.Run("bad "+in, func(t *testing.T) {
			t.Parallel()
			if got, err := config.ParseSize(in); err == nil {
				t.Errorf("ParseSize(%q) = %d, nil; want an error", in, got)
			}
		})
	}
}

func TestLoadMetricsAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string // METRICS_ADDR; "" leaves it unset
		want  string
		bad   bool
	}{
		{name: "unset", want: config.DefaultMetricsAddr},
		{name: "loopback port", value: "127.0.0.1:19464", want: "127.0.0.1:19464"},
		{name: "every interface, for a Prometheus in another container", value: "0.0.0.0:9464", want: "0.0.0.0:9464"},
		{name: "empty host", value: ":9464", want: ":9464"},
		{name: "IPv6", value: "[::1]:9464", want: "[::1]:9464"},
		{name: "off", value: "off", want: ""},
		{name: "OFF", value: " OFF ", want: ""},
		{name: "no port", value: "127.0.0.1", bad: true},
		{name: "port not a number", value: "127.0.0.1:metrics", bad: true},
		{name: "port too high", value: "127.0.0.1:65536", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{}
			if tt.value != "" {
				vars["METRICS_ADDR"] = tt.value
			}
			c, err := config.Load(env(vars))
			if tt.bad {
				if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "METRICS_ADDR") {
					t.Fatalf("Load(METRICS_ADDR=%q) = %v; want an invalid-configuration error naming METRICS_ADDR", tt.value, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(METRICS_ADDR=%q): %v", tt.value, err)
			}
			if c.MetricsAddr != tt.want {
				t.Errorf("MetricsAddr = %q; want %q", c.MetricsAddr, tt.want)
			}
		})
	}
}
