package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/checks"
	"github.com/taskready/taskready/checks/backup"
	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/internal/managed"
	"github.com/taskready/taskready/loadtest/seed"
	"github.com/taskready/taskready/service/config"
)

func checkCmd() command {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var ef envFlags
	ef.register(fs, 2)
	db := fs.String("db", config.DefaultDatabase, "database name (the API's MONGODB_DB)")
	backupDir := fs.String("backup-dir", "", "directory of the backups to check (harness backup writes them)")
	metricsURL := fs.String("metrics-url", "", "with -target: the API's Prometheus endpoint on its metrics listener (METRICS_ADDR), e.g. http://10.0.0.5:9464/metrics; without it health.metrics is not applicable")
	policyFile := fs.String("policy", "", "policy file: thresholds, and checks to ignore or downgrade with a reason")
	outDir := fs.String("out", "", "directory for readiness.json, .md, .html, .sarif and junit.xml (default out/readiness-<time>)")
	minScore := fs.Int("min-score", 0, "also fail when the score is below this (0: the gates alone decide)")
	failedOnly := fs.Bool("failed-only", false, "terminal: show only what needs attention")
	seedUsers := fs.Int("seed-users", 100, "managed environment: seed this many users (10 tasks each) first, so store and backup checks see data")
	backupFirst := fs.Bool("backup-first", false, "managed environment: take a backup into -backup-dir before the checks, so the backup checks have one to judge")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: harness check -target URL [-metrics-url URL] [-mongo-uri URI] [-redis-url URL] [-backup-dir DIR] [flags]
       harness check [-provider embedded|docker] [flags]

Verifies the production checklist against a deployment: headers, CORS,
auth and JWT, authorization, input handling, limits, health and metrics,
MongoDB indexes and plans, Redis, backups. With -provider the harness
brings the API up itself and may act on it (stop MongoDB to watch /readyz).
Checks that need a store connection or a backup directory say "not
applicable" without one. Exit 0 when no gate fails, 1 when one does,
2 on usage errors.

flags:`)
		fs.PrintDefaults()
	}
	return command{fs: fs, help: "verify the production checklist against a deployment; readiness report", run: func(ctx context.Context, out io.Writer) error {
		t := &check.Target{MongoURI: ef.mongoURI, RedisURL: ef.redisURL}
		if ef.target != "" {
			// Any deployment: the checks only read the stores they are
			// given, and act on nothing.
			if ef.provider != "auto" && ef.provider != "external" {
				return fmt.Errorf("%w: -target checks a running deployment; -provider %s would start another", errUsage, ef.provider)
			}
			t.BaseURL, t.MetricsURL = ef.target, *metricsURL
		} else {
			if *metricsURL != "" {
				return fmt.Errorf("%w: -metrics-url goes with -target; a managed environment's APIs have their own", errUsage)
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
			ef.apiEnv = append(listFlag{"APP_ENV=production", "JWT_SECRET=" + base64.StdEncoding.EncodeToString(secret),
				"RATE_LIMIT_AUTH=40/15m", "RATE_LIMIT_API=100000/15m"}, ef.apiEnv...)
			e, err := ef.up(ctx, out)
			if err != nil {
				return err
			}
			defer e.Close()
			t = managed.Target(e)
		}
		t.Database, t.BackupDir, t.Client = *db, *backupDir, &http.Client{Timeout: 10 * time.Second}
		if t.MongoURI != "" {
			client, err := mongo.Connect(options.Client().ApplyURI(t.MongoURI).SetTimeout(30 * time.Second))
			if err != nil {
				return fmt.Errorf("%w: -mongo-uri: %v", errUsage, err)
			}
			defer client.Disconnect(context.WithoutCancel(ctx))
			t.Mongo = client
		}
		if t.RedisURL != "" {
			opts, err := redis.ParseURL(t.RedisURL)
			if err != nil {
				return fmt.Errorf("%w: -redis-url: %v", errUsage, err)
			}
			t.Redis = redis.NewClient(opts)
			defer t.Redis.Close()
		}
		if t.Env != nil && t.Mongo != nil && *seedUsers > 0 {
			res, err := seed.Run(ctx, t.Mongo.Database(t.Database), seed.Options{Users: *seedUsers, TasksPerUser: 10, Seed: 1})
			if err != nil {
				return fmt.Errorf("seed before the checks: %w", err)
			}
			fmt.Fprintf(out, "harness: seeded %d users and %d tasks\n", res.Users, res.Tasks)
		}
		if *backupFirst {
			if t.Env == nil || t.Mongo == nil || t.BackupDir == "" {
				return fmt.Errorf("%w: -backup-first needs a managed environment (no -target) and -backup-dir", errUsage)
			}
			m, err := backup.Backup(ctx, t.Mongo.Database(t.Database), t.BackupDir)
			if err != nil {
				return fmt.Errorf("backup before the checks: %w", err)
			}
			fmt.Fprintf(out, "harness: backed up %d documents into %s (%s)\n", m.Documents, m.Path, bytesText(m.Size))
		}
		cleanup := func(ctx context.Context, t *check.Target) {
			if u, tk, err := fixture.Cleanup(ctx, t); err != nil {
				fmt.Fprintf(out, "harness: %v\n", err)
			} else if u+tk > 0 {
				fmt.Fprintf(out, "harness: removed the %d users and %d tasks the checks created\n", u, tk)
			}
		}
		opts := []readiness.Option{readiness.WithProgress(out), readiness.WithToolVersion(version()), readiness.WithCleanup(cleanup)}
		if *policyFile != "" {
			p, err := readiness.LoadPolicy(*policyFile)
			if err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			opts = append(opts, readiness.WithPolicy(p))
		}
		if *minScore > 0 {
			opts = append(opts, readiness.WithMinScore(*minScore))
		}
		fmt.Fprintf(out, "harness: checking %s\n", t.BaseURL)
		rep := readiness.Run(ctx, checks.All(), t, opts...)
		dir := *outDir
		if dir == "" {
			dir = filepath.Join("out", "readiness-"+time.Now().UTC().Format("20060102-150405"))
		}
		if _, err := report.WriteFiles(dir, rep); err != nil {
			return err
		}
		fmt.Fprintln(out)
		if err := report.Text(out, rep, report.FailedOnly(*failedOnly)); err != nil {
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
	}}
}
