package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskready/taskready/checks"
	"github.com/taskready/taskready/checks/backup"
	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/health"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/internal/buildinfo"
	"github.com/taskready/taskready/internal/managed"
	"github.com/taskready/taskready/seed"
	"github.com/taskready/taskready/service/config"
)

// checkOptions are the flags of harness check.
type checkOptions struct {
	env         envFlags
	db          string
	backupDir   string
	metricsURL  string
	promURL     string
	policyFile  string
	previous    string
	outDir      string
	minScore    int
	failedOnly  bool
	seedUsers   int
	backupFirst bool
	caFile      string
	httpURL     string

	// environment is what the run checks, for the report; target sets it.
	environment readiness.Environment
}

func checkCmd() command {
	var o checkOptions
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	o.env.register(fs, 2)
	fs.StringVar(&o.db, "db", config.DefaultDatabase, "database name (the API's MONGODB_DB)")
	fs.StringVar(&o.backupDir, "backup-dir", "", "directory of the backups to check (harness backup writes them)")
	fs.StringVar(&o.metricsURL, "metrics-url", "", "with -target: the API's Prometheus endpoint on its metrics listener (METRICS_ADDR), e.g. http://10.0.0.5:9464/metrics; without it health.metrics is not applicable")
	fs.StringVar(&o.promURL, "prometheus-url", "", "the Prometheus that scrapes the API, e.g. http://prometheus:9090: ops.alerts reads its rules (harness alerts generate writes them); without it ops.alerts is not applicable")
	fs.StringVar(&o.policyFile, "policy", "", "policy file: thresholds, and waivers that ignore, warn on or downgrade a check, each with a reason, owner and expiry")
	fs.StringVar(&o.previous, "previous", "", "a previous run's readiness.json (or its directory): the reports show what changed since")
	fs.StringVar(&o.outDir, "out", "", "directory for readiness.json, .md, .html, .sarif and junit.xml (default out/readiness-<time>)")
	fs.IntVar(&o.minScore, "min-score", 0, "also fail when the score is below this (0: the gates alone decide)")
	fs.BoolVar(&o.failedOnly, "failed-only", false, "terminal: show only what needs attention")
	fs.IntVar(&o.seedUsers, "seed-users", 100, "managed environment: seed this many users (10 tasks each) first, so store and backup checks see data")
	fs.BoolVar(&o.backupFirst, "backup-first", false, "managed environment: take a backup into -backup-dir before the checks, so the backup checks have one to judge")
	fs.BoolVar(&o.env.tls, "tls", false, "managed environment: serve it over HTTPS as the compose stack does (the balancer terminates TLS with a throwaway authority's certificate for 127.0.0.1 and localhost, plain HTTP on another port redirects to it), so that the HTTPS checks judge it")
	fs.StringVar(&o.caFile, "ca-file", "", "with an https -target: PEM file of the authorities its certificate may chain to, besides the system's (a private CA; the compose stack's ca.pem)")
	fs.StringVar(&o.httpURL, "http-url", "", "with an https -target: where the same host answers plain HTTP, which must redirect to it (default: port 80 of the target's host)")
	usage := `usage: harness check -target URL [-metrics-url URL] [-mongo-uri URI] [-redis-url URL] [-backup-dir DIR] [-prometheus-url URL] [-ca-file PEM] [flags]
       harness check [-provider embedded|docker] [-tls] [flags]

Verifies the production checklist against a deployment: HTTPS (the
certificate, its expiry, TLS versions, the redirect from plain HTTP),
headers, CORS, auth and JWT, authorization, input handling, limits,
health and metrics, MongoDB indexes and plans, Redis, backups, and the
alerting rules of the deployment's Prometheus. An https:// target's
certificate is verified against the system's authorities and
-ca-file's; a managed environment with -tls hands the checks its own.
The reports name the harness's
build and the API's (read from taskapi_build_info on -metrics-url;
"unknown" without it); -previous adds what changed since an earlier run.
With -provider the harness
brings the API up itself and may act on it (stop MongoDB to watch /readyz).
Checks that need a store connection, a backup directory or a Prometheus
say "not applicable" without one. Exit 0 when no gate fails, 1 when one does,
2 on usage errors.`
	return command{fs: fs, help: "verify the production checklist against a deployment; readiness report", usage: usage, run: o.run}
}

func (o *checkOptions) run(ctx context.Context, out io.Writer) error {
	// The files named on the command line are read first: a mistake in
	// one is reported before an environment is brought up for nothing.
	opts, err := o.readinessOptions(out)
	if err != nil {
		return err
	}
	t, done, err := o.target(ctx, out)
	if err != nil {
		return err
	}
	defer done()
	if err := o.prepare(ctx, out, t); err != nil {
		return err
	}
	api := health.ReadBuild(ctx, t)
	opts = append(opts, readiness.WithAPIBuild(api), readiness.WithEnvironment(o.environment))
	if api.Version == buildinfo.Unknown && api.Revision == buildinfo.Unknown {
		fmt.Fprintf(out, "harness: checking %s (API build unknown: %s)\n", t.BaseURL, api.Source)
	} else {
		fmt.Fprintf(out, "harness: checking %s (API version %s, revision %s)\n", t.BaseURL, api.Version, api.Revision)
	}
	rep := readiness.Run(ctx, checks.All(), t, opts...)
	dir := o.outDir
	if dir == "" {
		dir = filepath.Join("out", "readiness-"+time.Now().UTC().Format("20060102-150405"))
	}
	if _, err := report.WriteFiles(dir, rep); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if err := report.Text(out, rep, report.FailedOnly(o.failedOnly)); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nreports: %s (readiness.html, readiness.md, readiness.json, readiness.sarif, junit.xml, readiness.prom)\n", dir)
	switch rep.ExitCode {
	case readiness.ExitPassed:
		return nil
	case readiness.ExitConfig:
		return fmt.Errorf("%w: %s", errUsage, rep.Run.Error)
	}
	return &exitError{code: rep.ExitCode, msg: rep.Verdict()}
}

// target is what the checks run against: the deployment -target names, or
// an environment brought up for them, with connections to the stores the
// checks were given. done closes what target opened.
func (o *checkOptions) target(ctx context.Context, out io.Writer) (t *check.Target, done func(), err error) {
	var closers []func()
	closeAll := func() {
		for _, c := range slices.Backward(closers) {
			c()
		}
	}
	// Not done: an error return sets it to nil before this runs.
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	t = &check.Target{MongoURI: o.env.mongoURI, RedisURL: o.env.redisURL}
	if o.env.target != "" {
		// Any deployment: the checks only read the stores they are
		// given, and act on nothing.
		if o.env.provider != "auto" && o.env.provider != "external" {
			return nil, nil, fmt.Errorf("%w: -target checks a running deployment; -provider %s would start another", errUsage, o.env.provider)
		}
		if o.env.tls {
			return nil, nil, fmt.Errorf("%w: -tls serves a managed environment over HTTPS; with -target, give the deployment's https:// address", errUsage)
		}
		t.BaseURL, t.MetricsURL, t.PlainURL = o.env.target, o.metricsURL, o.httpURL
		if o.caFile != "" {
			if t.RootCAs, err = rootsWith(o.caFile); err != nil {
				return nil, nil, fmt.Errorf("%w: -ca-file: %w", errUsage, err)
			}
		}
		o.environment = readiness.Environment{Provider: "external"}
	} else {
		if o.metricsURL != "" {
			return nil, nil, fmt.Errorf("%w: -metrics-url goes with -target; a managed environment's APIs have their own", errUsage)
		}
		if o.caFile != "" || o.httpURL != "" {
			return nil, nil, fmt.Errorf("%w: -ca-file and -http-url go with an https -target; a managed environment with -tls hands the checks its own", errUsage)
		}
		// The API as it would run in production: a strong secret of
		// this run, production checks on. The auth budget is raised
		// from 5 to 40 per 15 minutes: a full run registers and logs
		// in about 37 times from this one address. The API budget is
		// raised from 100 to 100,000 per 15 minutes so that the
		// overload check's burst meets the API's admission, not its
		// limiter; the limit checks read the advertised budget and
		// need no more than a few requests of it, and 40 stays
		// stricter, so both still bite.
		secret := make([]byte, 48)
		_, _ = rand.Read(secret)
		o.env.apiEnv = append(listFlag{"APP_ENV=production", "JWT_SECRET=" + base64.StdEncoding.EncodeToString(secret),
			"RATE_LIMIT_AUTH=40/15m", "RATE_LIMIT_API=100000/15m"}, o.env.apiEnv...)
		e, err := o.env.up(ctx, out)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() { e.Close() })
		t = managed.Target(e)
		o.environment = readiness.Environment{Provider: e.Provider, Note: fmt.Sprintf(
			"not a production deployment: the harness brought up this %s environment for this run; check yours with harness check -target URL", e.Provider)}
	}
	t.Database, t.BackupDir, t.PrometheusURL, t.Client = o.db, o.backupDir, o.promURL, &http.Client{Timeout: 10 * time.Second}
	if t.RootCAs != nil {
		// The checks' requests trust what the HTTPS checks verify
		// against, and nothing less.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: t.RootCAs}
		t.Client.Transport = tr
	}
	if t.MongoURI != "" {
		client, err := connectMongo(t.MongoURI, 30*time.Second)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: -mongo-uri: %w", errUsage, err)
		}
		closers = append(closers, func() { client.Disconnect(context.WithoutCancel(ctx)) })
		t.Mongo = client
	}
	if t.RedisURL != "" {
		opts, err := redis.ParseURL(t.RedisURL)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: -redis-url: %w", errUsage, err)
		}
		t.Redis = redis.NewClient(opts)
		closers = append(closers, func() { t.Redis.Close() })
	}
	return t, closeAll, nil
}

// rootsWith is the system's trusted authorities plus those in the PEM
// file at path.
func rootsWith(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return roots, nil
}

// prepare seeds a managed environment and takes the backup the flags ask
// for, so that store and backup checks have something to judge.
func (o *checkOptions) prepare(ctx context.Context, out io.Writer, t *check.Target) error {
	if t.Env != nil && t.Mongo != nil && o.seedUsers > 0 {
		res, err := seed.Run(ctx, t.Mongo.Database(t.Database), seed.Options{Users: o.seedUsers, TasksPerUser: 10, Seed: 1})
		if err != nil {
			return fmt.Errorf("seed before the checks: %w", err)
		}
		fmt.Fprintf(out, "harness: seeded %d users and %d tasks\n", res.Users, res.Tasks)
	}
	if o.backupFirst {
		if t.Env == nil || t.Mongo == nil || t.BackupDir == "" {
			return fmt.Errorf("%w: -backup-first needs a managed environment (no -target) and -backup-dir", errUsage)
		}
		m, err := backup.Backup(ctx, t.Mongo.Database(t.Database), t.BackupDir)
		if err != nil {
			return fmt.Errorf("backup before the checks: %w", err)
		}
		fmt.Fprintf(out, "harness: backed up %d documents into %s (%s)\n", m.Documents, m.Path, bytesText(m.Size))
	}
	return nil
}

// readinessOptions turn the flags into the runner's options: progress and
// the fixture cleanup on out, the policy file, the previous report, the
// minimum score. The environment and the API's build are known later.
func (o *checkOptions) readinessOptions(out io.Writer) ([]readiness.Option, error) {
	cleanup := func(ctx context.Context, t *check.Target) {
		if u, tk, err := fixture.Cleanup(ctx, t); err != nil {
			fmt.Fprintf(out, "harness: %v\n", err)
		} else if u+tk > 0 {
			fmt.Fprintf(out, "harness: removed the %d users and %d tasks the checks created\n", u, tk)
		}
	}
	opts := []readiness.Option{readiness.WithProgress(out), readiness.WithCleanup(cleanup)}
	if o.policyFile != "" {
		p, err := readiness.LoadPolicy(o.policyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		opts = append(opts, readiness.WithPolicy(p))
	}
	if o.previous != "" {
		prev, err := readiness.ReadReportFile(o.previous)
		if err != nil {
			return nil, fmt.Errorf("%w: -previous: %w", errUsage, err)
		}
		opts = append(opts, readiness.WithPrevious(o.previous, prev))
	}
	if o.minScore > 0 {
		opts = append(opts, readiness.WithMinScore(o.minScore))
	}
	return opts, nil
}
