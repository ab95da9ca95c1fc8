// Package check is the seam every readiness check plugs into: what a check
// is (a stable id, a category, a severity, remediation and references),
// what it runs against (a Target), and what it finds (a Result with its
// evidence).
//
// Severity and status are separate, as in ZAP and the Kubernetes
// linters: severity says how much a failure matters (critical: must not
// ship), status what was found (pass, fail, warn, not applicable, error).
// A check that needs something the target lacks (a store connection, a
// backup directory, a managed environment) returns NotApplicable with the
// reason, never a silent pass.
package check

import (
	"context"
	"crypto/x509"
	"net/http"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/redis/go-redis/v9"
)

// Severity is how much a failure of the check matters.
type Severity string

// The severities, most serious first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Rank orders severities, Critical highest; 0 for an unknown one.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 5
	case High:
		return 4
	case Medium:
		return 3
	case Low:
		return 2
	case Info:
		return 1
	}
	return 0
}

// Status is what a check found.
type Status string

// The statuses.
const (
	Pass          Status = "pass"
	Fail          Status = "fail"
	Warn          Status = "warn"
	NotApplicable Status = "not_applicable"
	// Error means the check could not run to a verdict (the target did
	// not answer, a store refused the command): not a pass.
	Error Status = "error"
)

// Category groups checks in reports.
type Category string

// The categories; categories lists them in report order.
const (
	Transport Category = "transport"
	CORS      Category = "cors"
	Auth      Category = "auth"
	Authz     Category = "authorization"
	Input     Category = "input"
	Limits    Category = "limits"
	Health    Category = "health"
	MongoDB   Category = "mongodb"
	Redis     Category = "redis"
	Backup    Category = "backup"
	// Resilience is how the API behaves at its edges: under load, many
	// connections, a store failing, and malformed HTTP.
	Resilience Category = "resilience"
	// Ops is what operating the API needs around it: alerting.
	Ops Category = "ops"
)

// categories is every category, in report order, with its title and
// whether its checks are security findings (SARIF tags their rules
// "security", which code scanning reads). A new category is added here
// and nowhere else.
var categories = []struct {
	c        Category
	title    string
	security bool
}{
	{Transport, "Transport", true},
	{CORS, "CORS", true},
	{Auth, "Authentication", true},
	{Authz, "Authorization", true},
	{Input, "Input", true},
	{Limits, "Limits", false},
	{Health, "Health", false},
	{MongoDB, "MongoDB", false},
	{Redis, "Redis", false},
	{Backup, "Backup", false},
	// Resilience is security too: request smuggling and resource
	// exhaustion are attacks (CWE-444, OWASP API4:2023), not only faults.
	{Resilience, "Resilience", true},
	{Ops, "Operations", false},
}

// Categories returns every known category, in report order.
func Categories() []Category {
	out := make([]Category, len(categories))
	for i, k := range categories {
		out[i] = k.c
	}
	return out
}

// Order is c's place in reports, from 1; 0 for an unknown category.
func (c Category) Order() int {
	for i, k := range categories {
		if k.c == c {
			return i + 1
		}
	}
	return 0
}

// Title is how reports title c ("Authentication"); an unknown category's
// name as it is.
func (c Category) Title() string {
	for _, k := range categories {
		if k.c == c {
			return k.title
		}
	}
	return string(c)
}

// Security says whether c's checks are security findings.
func (c Category) Security() bool {
	for _, k := range categories {
		if k.c == c {
			return k.security
		}
	}
	return false
}

// Meta describes a check; it never changes between runs.
type Meta struct {
	// ID is stable across versions ("headers.hsts"): policies and
	// baselines refer to it.
	ID       string
	Title    string
	Category Category
	Severity Severity
	// Remediation says how to fix a failure, in a sentence or two.
	Remediation string
	// References are standard ids and links: "OWASP API1:2023",
	// "ASVS 5.0 V9.1.1", "RFC 8725 §3.1", "CWE-639".
	References []string
}

// Check is one readiness check.
type Check interface {
	Meta() Meta
	// Run checks t and says what it found. It must honour ctx's deadline
	// and clean up whatever it created.
	Run(ctx context.Context, t *Target) Result
}

// Disrupter is implemented by a check that acts on the environment (stops
// a store, exhausts a rate limit, fills a cache) and so must not run
// beside other checks: a runner runs disruptive checks one at a time,
// after every other check, in the order given.
type Disrupter interface {
	Disruptive() bool
}

// Disruptive marks c as disruptive, for checks (such as a Func) that
// cannot carry the method themselves.
func Disruptive(c Check) Check { return disruptive{c} }

type disruptive struct{ Check }

// Disruptive implements Disrupter.
func (disruptive) Disruptive() bool { return true }

// IsDisruptive says whether c declares itself disruptive.
func IsDisruptive(c Check) bool {
	d, ok := c.(Disrupter)
	return ok && d.Disruptive()
}

// Func adapts a Meta and a function to Check.
type Func struct {
	M Meta
	F func(ctx context.Context, t *Target) Result
}

// Meta implements Check.
func (f Func) Meta() Meta { return f.M }

// Run implements Check.
func (f Func) Run(ctx context.Context, t *Target) Result { return f.F(ctx, t) }

// Result is what one check found.
type Result struct {
	Status Status
	// Message says what was found in one line: "HSTS max-age is 300,
	// below the policy's 31536000".
	Message  string
	Evidence []Evidence
	// Took is filled by the runner.
	Took time.Duration
}

// Evidence is one observation behind a result: an HTTP exchange (request
// redacted) or a store command and its output.
type Evidence struct {
	// Request is "GET /api/tasks" with redacted headers and body.
	Request string `json:"request,omitempty"`
	// Response is the status line, the relevant headers and a truncated
	// body excerpt; or a command's output.
	Response string `json:"response,omitempty"`
	// Expected and Observed state the comparison made.
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Passf, Failf, Warnf, NotApplicablef and Errorf build a Result.
func Passf(msg string, ev ...Evidence) Result {
	return Result{Status: Pass, Message: msg, Evidence: ev}
}

// Failf is a failed Result.
func Failf(msg string, ev ...Evidence) Result {
	return Result{Status: Fail, Message: msg, Evidence: ev}
}

// Warnf is a Result that passes with a caveat.
func Warnf(msg string, ev ...Evidence) Result {
	return Result{Status: Warn, Message: msg, Evidence: ev}
}

// NotApplicablef says why the check could not apply to this target.
func NotApplicablef(why string) Result { return Result{Status: NotApplicable, Message: why} }

// Errorf says why the check could not reach a verdict.
func Errorf(why string, ev ...Evidence) Result {
	return Result{Status: Error, Message: why, Evidence: ev}
}

// Target is what the checks run against. Only BaseURL is required; a
// check that needs more returns NotApplicable when it is missing.
type Target struct {
	// BaseURL is the API's base URL, "http://127.0.0.1:5000".
	BaseURL string
	// Client sends every request; its Timeout bounds each. For an HTTPS
	// target it trusts RootCAs.
	Client *http.Client
	// RootCAs, for an HTTPS target, are the authorities its certificate
	// must chain to; nil means the system's. A managed environment
	// served over TLS hands its own throwaway authority here.
	RootCAs *x509.CertPool
	// PlainURL, for an HTTPS target, is where the same host answers
	// plain HTTP ("http://127.0.0.1:8080"), which must redirect to the
	// target; empty means port 80 of the target's host.
	PlainURL string
	// Mongo and Database, when set, let store checks run (indexes,
	// explain, write concern, topology); MongoURI is the connection
	// string the API uses, as given, for the settings a connected client
	// does not expose (write concern, pool).
	Mongo    *mongo.Client
	Database string
	MongoURI string
	// Redis, when set, lets cache checks run; RedisURL is its address
	// as given, for the unauthenticated-access check.
	Redis    *redis.Client
	RedisURL string
	// MetricsURL, when set, is the full URL of the API's Prometheus
	// endpoint ("http://127.0.0.1:9464/metrics"), served on its own
	// listener (METRICS_ADDR), not under BaseURL. With a managed
	// environment it is the first instance's (Env.APITargets()[0]).
	MetricsURL string
	// BackupDir, when set, holds the backups to check.
	BackupDir string
	// PrometheusURL, when set, is the base URL of the Prometheus that
	// scrapes the API and evaluates its alerting rules
	// ("http://prometheus:9090").
	PrometheusURL string
	// Env, when set, is an environment the harness manages: checks may
	// stop and start its components.
	Env Environment
	// Policy holds the thresholds checks compare against.
	Policy Policy
	// Prefix marks every user and task a check creates, so that they can
	// be told apart and removed: "readiness-<run id>".
	Prefix string
	// Shared holds what the checks of the run share (the fixture users):
	// the runner sets a fresh one for every run; without one, nothing is
	// shared and each check makes its own.
	Shared *Shared
}

// DefaultDatabase is the API's database when a target names none
// (MONGODB_DB's default).
const DefaultDatabase = "taskmanager"

// DatabaseName is the database the API keeps its data in: Database, or
// DefaultDatabase when that is empty.
func (t *Target) DatabaseName() string {
	if db := strings.TrimSpace(t.Database); db != "" {
		return db
	}
	return DefaultDatabase
}

// Build is what a target says about the build it runs, so that a report
// names the code it judged.
type Build struct {
	// Version and Revision are the API's module version and VCS
	// revision, "unknown" when the target did not tell.
	Version  string `json:"version"`
	Revision string `json:"revision"`
	// Source says where they were read, or why they are unknown.
	Source string `json:"source"`
}

// Environment is a system under test that checks may act on.
type Environment interface {
	// Apply runs an action ("stop", "start", "pause", "unpause") on a
	// component ("mongo-0", "redis-primary", "api-1").
	Apply(ctx context.Context, component, action string) error
	// Components lists the component names.
	Components() []string
	// APITargets are the base URLs of each API instance, for checks that
	// must reach one instance directly (a rate limit shared across them).
	APITargets() []string
}

// Policy holds the thresholds of the checks; the zero value of a field
// means its default (DefaultPolicy).
type Policy struct {
	// HSTSMinAge is the least HSTS max-age accepted on HTTPS targets.
	HSTSMinAge time.Duration `yaml:"hsts_min_age"`
	// MaxTokenLifetime is the longest exp-iat a token may carry.
	MaxTokenLifetime time.Duration `yaml:"max_token_lifetime"`
	// MaxPageSize is the largest page a list may return.
	MaxPageSize int `yaml:"max_page_size"`
	// MaxBackupAge is how old the newest backup may be.
	MaxBackupAge time.Duration `yaml:"max_backup_age"`
	// KeepDaily and KeepWeekly are the retention the backup directory
	// must show.
	KeepDaily  int `yaml:"keep_daily"`
	KeepWeekly int `yaml:"keep_weekly"`
	// MaxErrorLatency bounds how long a refused bad input may take.
	MaxErrorLatency time.Duration `yaml:"max_error_latency"`
	// RPO is the recovery point objective: the most data, in time, a
	// restore from the newest backup may lose (26h by default: a daily
	// backup and two hours for it to land, as max_backup_age). RTO is
	// the time the restore itself may take, indexes and verification
	// included (15m by default); detection and provisioning come on top.
	RPO time.Duration `yaml:"rpo"`
	RTO time.Duration `yaml:"rto"`
	// CertMinValidity is the least validity an HTTPS target's
	// certificate may have left; under twice it, a warning.
	CertMinValidity time.Duration `yaml:"cert_min_validity"`
}

// DefaultPolicy is the policy of a run that sets none: ASVS 5.0's one
// year of HSTS, the original contract's 30-day tokens, its 100-item page
// cap, a daily backup with 7 daily and 4 weekly kept, and a certificate
// with two weeks left (a 90-day ACME certificate renews with 30 left,
// so under 28 its renewal has already failed).
var DefaultPolicy = Policy{
	HSTSMinAge:       365 * 24 * time.Hour,
	MaxTokenLifetime: 30 * 24 * time.Hour,
	MaxPageSize:      100,
	MaxBackupAge:     26 * time.Hour,
	KeepDaily:        7,
	KeepWeekly:       4,
	MaxErrorLatency:  time.Second,
	RPO:              26 * time.Hour,
	RTO:              15 * time.Minute,
	CertMinValidity:  14 * 24 * time.Hour,
}

// WithDefaults returns p with its zero fields set from DefaultPolicy.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy
	if p.HSTSMinAge == 0 {
		p.HSTSMinAge = d.HSTSMinAge
	}
	if p.MaxTokenLifetime == 0 {
		p.MaxTokenLifetime = d.MaxTokenLifetime
	}
	if p.MaxPageSize == 0 {
		p.MaxPageSize = d.MaxPageSize
	}
	if p.MaxBackupAge == 0 {
		p.MaxBackupAge = d.MaxBackupAge
	}
	if p.KeepDaily == 0 {
		p.KeepDaily = d.KeepDaily
	}
	if p.KeepWeekly == 0 {
		p.KeepWeekly = d.KeepWeekly
	}
	if p.MaxErrorLatency == 0 {
		p.MaxErrorLatency = d.MaxErrorLatency
	}
	if p.RPO == 0 {
		p.RPO = d.RPO
	}
	if p.RTO == 0 {
		p.RTO = d.RTO
	}
	if p.CertMinValidity == 0 {
		p.CertMinValidity = d.CertMinValidity
	}
	return p
}
