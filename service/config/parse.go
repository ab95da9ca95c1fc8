package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/getsentry/sentry-go"
)

// Rate is a request budget: Limit requests per Window.
type Rate struct {
	Limit  int
	Window time.Duration
}

// String formats the rate as it is written in the environment: "100/15m0s".
func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.Limit, r.Window) }

// ParseRate reads "N/window" where window is a Go duration ("15m", "1h30m")
// or a bare unit meaning one of it ("s", "m", "h").
func ParseRate(s string) (Rate, error) {
	n, w, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not N/window (for example 100/15m)", s)
	}
	limit, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || limit < 1 {
		return Rate{}, fmt.Errorf("%q: the count must be a positive integer", s)
	}
	w = strings.TrimSpace(w)
	if w == "s" || w == "m" || w == "h" {
		w = "1" + w
	}
	window, err := time.ParseDuration(w)
	if err != nil || window < time.Second {
		return Rate{}, fmt.Errorf("%q: the window must be a duration of at least 1s (for example 15m)", s)
	}
	return Rate{Limit: limit, Window: window}, nil
}

// ParseSize reads a byte size such as "512", "100kb" or "1mb" (1024-based,
// as Express's body-parser reads its limit).
func ParseSize(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || n > (64<<20)/mult {
		return 0, fmt.Errorf("%q is not a size between 1b and 64mb (for example 100kb)", s)
	}
	return n * mult, nil
}

// parser reads settings and collects every error instead of stopping at the
// first, so one start-up attempt shows everything that needs fixing.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, value, why string) {
	if value == "" {
		p.errs = append(p.errs, fmt.Errorf("%s %s", name, why))
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s=%q %s", name, value, why))
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) int(name string, def, lo, hi int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, v, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return def
	}
	return n
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := parseDuration(v)
	if err != nil {
		p.fail(name, v, "must be a duration such as 90s, 15m, 24h or 30d")
		return def
	}
	return d
}

// maxDays keeps a day count far from time.Duration's overflow (292 years).
const maxDays = 100 * 365

// parseDuration accepts Go durations plus a day suffix ("30d"), the unit
// people use for token lifetimes.
func parseDuration(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, err
		}
		if n < 0 || n > maxDays {
			return 0, fmt.Errorf("%q: more than %d days", v, maxDays)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}

func (p *parser) list(name, def string) []string {
	var out []string
	for _, s := range strings.Split(p.str(name, def), ",") {
		if s = strings.TrimRight(strings.TrimSpace(s), "/"); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// hostPorts reads a comma-separated list of host:port addresses; a bad
// entry is reported, not dropped, so a typo cannot silently shrink the list.
func (p *parser) hostPorts(name string) []string {
	list := p.list(name, "")
	for _, addr := range list {
		host, port, err := net.SplitHostPort(addr)
		if err == nil && host != "" {
			if n, perr := strconv.Atoi(port); perr == nil && n >= 1 && n <= 65535 {
				continue
			}
		}
		p.fail(name, addr, "must list host:port addresses, comma-separated (for example sentinel1:26379,sentinel2:26379)")
	}
	return list
}

// metricsAddr reads the metrics listener's address: unset or empty takes
// DefaultMetricsAddr, "off" disables it (""), anything else must be
// host:port with a numeric port (an empty host listens everywhere).
func (p *parser) metricsAddr(name string) string {
	v := p.str(name, DefaultMetricsAddr)
	if strings.EqualFold(v, MetricsOff) {
		return ""
	}
	_, port, err := net.SplitHostPort(v)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		p.fail(name, v, "must be host:port (for example 127.0.0.1:9464, or 0.0.0.0:9464 for a Prometheus in another container) or off")
	}
	return v
}

// dsnProblems words the Sentry SDK's DSN parse errors for the operator.
var dsnProblems = map[string]string{
	"invalid scheme":   "must start with https:// or http://",
	"empty username":   "has no key before the @",
	"empty host":       "has no host",
	"invalid port":     "has an invalid port",
	"empty project id": "has no project id at the end of its path",
}

// sentryDSN reads a Sentry DSN (https://<key>@<host>/<project>); unset or
// empty turns error tracking off. The value is never echoed: it holds the
// project's key.
func (p *parser) sentryDSN(name string) string {
	v := p.str(name, "")
	if v == "" {
		return ""
	}
	if _, err := sentry.NewDsn(v); err != nil {
		why := "is not a Sentry DSN"
		var perr *sentry.DsnParseError
		if errors.As(err, &perr) {
			if w, ok := dsnProblems[perr.Message]; ok {
				why = w
			} else if strings.HasPrefix(perr.Message, "invalid url") {
				why = "is not a URL" // the parser's message quotes the value
			}
		}
		p.fail(name, "", why+": copy it from the Sentry project's Client Keys (https://<key>@<host>/<project id>), or unset it to turn error tracking off")
	}
	return v
}

// fraction reads a number in (0, 1].
func (p *parser) fraction(name string, def float64) float64 {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0 && f <= 1) {
		p.fail(name, v, "must be a number greater than 0 and at most 1 (1 sends every failure; unset SENTRY_DSN to send none)")
		return def
	}
	return f
}

func (p *parser) rate(name, def string) Rate {
	v := p.str(name, def)
	r, err := ParseRate(v)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("%s: %w", name, err))
	}
	return r
}

func (p *parser) size(name, def string) int {
	v := p.str(name, def)
	n, err := ParseSize(v)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("%s: %w", name, err))
	}
	return n
}

func (p *parser) level(name string, def slog.Level) slog.Level {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.fail(name, v, "must be debug, info, warn or error")
		return def
	}
	return l
}
