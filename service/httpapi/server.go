package httpapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/compress"
	"github.com/gofiber/fiber/v3/middleware/cors"
	"github.com/gofiber/fiber/v3/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/taskready/taskready/service/admission"
	"github.com/taskready/taskready/service/auth"
	"github.com/taskready/taskready/service/errorreport"
	"github.com/taskready/taskready/service/failure"
	"github.com/taskready/taskready/service/health"
	"github.com/taskready/taskready/service/metrics"
	"github.com/taskready/taskready/service/ratelimit"
	"github.com/taskready/taskready/service/task"
	"github.com/taskready/taskready/service/user"
)

// ProfileSource returns a user's public profile, cached or not;
// user.ErrNotFound when the user does not exist.
type ProfileSource interface {
	Profile(ctx context.Context, id string) (user.Profile, error)
}

// Denylist holds the tokens that logout revoked, by token id
// (auth.Token.ID); service/denylist implements it. It is required wherever
// tokens are.
type Denylist interface {
	// Revoke denies id until exp. An error means the revocation holds on
	// this instance only; the caller answers as if it succeeded.
	Revoke(ctx context.Context, id string, exp time.Time) error
	// Revoked reports whether id was revoked, as far as can be known
	// within ctx; it never fails a request.
	Revoked(ctx context.Context, id string) bool
}

// Deps are the collaborators the handlers call.
type Deps struct {
	Users     user.Store
	Tasks     task.Store
	Profiles  ProfileSource
	Passwords *auth.Passwords
	Tokens    *auth.Tokens
	Denylist  Denylist
	AuthLimit *ratelimit.Limiter
	APILimit  *ratelimit.Limiter
	Health    *health.Checker
	Admission Admission
	Metrics   *metrics.HTTP
	// Gatherer holds every series. The app does not serve it: /metrics
	// is on its own listener (service/server, METRICS_ADDR), so the
	// public port answers it 404 like any unknown route.
	Gatherer prometheus.Gatherer
	Logger   *slog.Logger
	// Reporter receives the requests the server failed (see reportable);
	// nil reports nothing.
	Reporter Reporter
}

// Reporter sends a failed request to error tracking without waiting for
// it; service/errorreport implements it.
type Reporter interface {
	Report(errorreport.Failure)
}

// Admission bounds the work admitted at once; a nil limiter admits
// everything.
type Admission struct {
	Store *admission.Limiter // requests that call the stores
	Hash  *admission.Limiter // bcrypt hashes and comparisons
}

// acquire takes a slot of l, or nothing when l is nil.
func acquire(ctx context.Context, l *admission.Limiter) (release func(), err error) {
	if l == nil {
		return func() {}, nil
	}
	return l.Acquire(ctx)
}

// Options are the HTTP layer's settings.
type Options struct {
	Production     bool
	Origins        []string // CORS origins allowed with credentials
	BodyLimit      int      // bytes
	MaxPageSize    int
	RequestTimeout time.Duration
	TrustedProxies []string // whose X-Forwarded-For names the client
}

type server struct {
	deps    Deps
	opts    Options
	log     *slog.Logger
	metrics *metrics.HTTP
}

// New returns the Fiber app serving the task API.
func New(deps Deps, opts Options) *fiber.App {
	s := &server{deps: deps, opts: opts, log: deps.Logger, metrics: deps.Metrics}
	cfg := fiber.Config{
		AppName:      "taskapi",
		BodyLimit:    opts.BodyLimit,
		ErrorHandler: s.errorHandler,
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  60 * time.Second,
		// Several instances behind one proxy: the client is in the
		// forwarded header, but only a listed proxy may say so.
		TrustProxy: len(opts.TrustedProxies) > 0,
		TrustProxyConfig: fiber.TrustProxyConfig{
			Proxies: opts.TrustedProxies,
		},
	}
	if cfg.TrustProxy {
		cfg.ProxyHeader = fiber.HeaderXForwardedFor
	}
	app := fiber.New(cfg)
	s.installEdge(app)

	// Fiber's recover turns a panic into a 500; panicked keeps where it
	// happened for the error report, since observe sees only the error.
	app.Use(s.observe, recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: panicked}), secure)
	// No origins configured means same-origin only: no CORS headers at all
	// (Fiber's default would be "*", which must never meet credentials).
	if len(opts.Origins) > 0 {
		app.Use(cors.New(cors.Config{
			AllowOrigins:     opts.Origins,
			AllowCredentials: true,
			AllowMethods:     []string{fiber.MethodGet, fiber.MethodPost, fiber.MethodPut, fiber.MethodDelete, fiber.MethodOptions},
			AllowHeaders:     []string{fiber.HeaderContentType, fiber.HeaderAuthorization, fiber.HeaderXRequestID},
			ExposeHeaders:    []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", fiber.HeaderRetryAfter, fiber.HeaderXRequestID},
			MaxAge:           600,
		}))
	}
	// After CORS, so that the front end can read these refusals too.
	app.Use(edge, compress.New(), s.deadline)

	app.Get("/api/health", func(c fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "OK", "message": "Server is running"})
	})
	app.Get("/healthz", func(c fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(fiber.Map{"status": health.Pass})
	})
	app.Get("/readyz", s.ready)
	app.Get("/api/openapi.json", openAPI)

	authGroup := app.Group("/api/auth", noStore)
	authGroup.Post("/register", s.register)
	authGroup.Post("/login", s.login)
	authGroup.Post("/logout", s.logout)
	authGroup.Get("/profile", s.admit, s.authenticate, s.limitAPI, s.profile)

	tasks := app.Group("/api/tasks", noStore, s.admit, s.authenticate, s.limitAPI)
	tasks.Get("/", s.listTasks)
	tasks.Post("/", s.createTask)
	tasks.Get("/:id", s.getTask)
	tasks.Put("/:id", s.updateTask)
	tasks.Delete("/:id", s.deleteTask)
	return app
}

// admit holds a store slot for the rest of the request, or answers 503
// with Retry-After at once when the request could not be served in time.
func (s *server) admit(c fiber.Ctx) error {
	release, err := acquire(c.Context(), s.deps.Admission.Store)
	if err != nil {
		return err
	}
	defer release()
	return c.Next()
}

// limitAPI applies the general API budget per authenticated user.
func (s *server) limitAPI(c fiber.Ctx) error {
	if err := s.limit(c, s.deps.APILimit, "Too many requests, please try again later", "user:"+currentUser(c).ID); err != nil {
		return err
	}
	return c.Next()
}

// limit counts the request against l's keys, sets the RateLimit headers,
// and returns a 429 failure (with Retry-After set) when over budget.
func (s *server) limit(c fiber.Ctx, l *ratelimit.Limiter, message string, keys ...string) error {
	r := l.Allow(c.Context(), keys...)
	rateHeaders(c, r.Limit, r.Remaining, r.Reset, l.Window())
	if r.Allowed {
		return nil
	}
	c.Set(fiber.HeaderRetryAfter, c.GetRespHeader("RateLimit-Reset"))
	return failure.New(failure.TooMany, message)
}

func (s *server) ready(c fiber.Ctx) error {
	r := s.deps.Health.Check(c.Context())
	for name, checks := range r.Checks {
		for _, ch := range checks {
			if ch.Err != nil {
				s.log.LogAttrs(c.Context(), slog.LevelWarn, "readiness probe failed", slog.String("request_id", requestID(c)),
					slog.String("check", name), slog.String("error", ch.Err.Error()))
			}
		}
	}
	status := fiber.StatusOK
	if r.Status == health.Fail {
		status = fiber.StatusServiceUnavailable
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(r, "application/health+json")
}
