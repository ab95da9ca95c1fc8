package env

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/env/link"
	"github.com/taskready/taskready/internal/pki"
)

// Env is a running system under test: stores, API instances, and one
// address that spreads requests over the instances.
type Env struct {
	Provider string
	Stores   *Stores
	APIs     []*API
	// Target is the one address load and checks go to: the balancer in
	// front of the API instances, or the external target.
	Target string
	// PlainURL, with Options.TLS, is the plain-HTTP address of the same
	// balancer, which redirects every request to Target.
	PlainURL string
	// CA, with Options.TLS, is the throwaway authority that issued
	// Target's certificate: what clients of the environment trust.
	CA *pki.CA
	// Links are the fault proxies between the APIs and each store
	// ("mongo", "redis"), where the store has a single address, and
	// between the clients and the API ("api") once LinkClients made it.
	Links    map[string]*link.Link
	balancer *Balancer
	closers  closeStack
}

// Options configure Up.
type Options struct {
	APIBinary string   // path of the taskapi build
	Instances int      // API processes; 0 starts none (with Target set)
	APIEnv    []string // extra environment for every API ("RATE_LIMIT_AUTH=100/1m")
	// Target, when set, is an API that already runs: no instances start.
	Target string
	// TLS serves the instances' one address over HTTPS, as the compose
	// stack's nginx does: the balancer terminates TLS with a certificate
	// a throwaway authority (Env.CA) issued for 127.0.0.1, ::1 and
	// localhost, plain HTTP on another port (Env.PlainURL) redirects to
	// it, and the instances trust the balancer's X-Forwarded-Proto
	// (TRUSTED_PROXIES=127.0.0.1), so they answer with HSTS.
	TLS bool
	// Progress, when set, is told how long each component took to start.
	Progress func(Timing)
}

// Up brings up the provider's stores, the API instances pointed at them,
// and the balancer. On error everything already started is stopped.
func Up(ctx context.Context, p Provider, o Options) (_ *Env, err error) {
	progress := o.Progress
	if progress == nil {
		progress = func(Timing) {}
	}
	e := &Env{Provider: p.Name()}
	defer func() {
		if err != nil {
			_ = e.Close()
		}
	}()
	if e.Stores, err = p.Stores(ctx); err != nil {
		return nil, err
	}
	e.closers.push(e.Stores.Close)
	for _, t := range e.Stores.Timings {
		progress(t)
	}
	if o.Target != "" {
		// Up's job is a system to test: one that does not answer is an
		// environment that failed, not a run whose every request fails.
		if err := Reach(ctx, o.Target); err != nil {
			return nil, err
		}
		e.Target = o.Target
		return e, nil
	}
	if o.Instances < 1 {
		return nil, errors.New("no API target: give a target or at least one instance")
	}
	mongoURI, err := e.link("mongo", e.Stores.MongoURI)
	if err != nil {
		return nil, err
	}
	vars := []string{"MONGODB_URI=" + mongoURI}
	if len(e.Stores.SentinelAddrs) > 0 {
		// The APIs ask the Sentinels for the primary and follow a
		// failover, as a deployment with Sentinels does; REDIS_URL then
		// carries only the password (its host is ignored). No fault proxy:
		// the Sentinels name the servers, so a link to the first primary
		// would carry nothing after a failover.
		vars = append(vars, "REDIS_SENTINELS="+strings.Join(e.Stores.SentinelAddrs, ","),
			"REDIS_SENTINEL_MASTER="+e.Stores.SentinelMaster, "REDIS_URL="+e.Stores.RedisURL)
		if e.Stores.SentinelPassword != "" {
			vars = append(vars, "REDIS_SENTINEL_PASSWORD="+e.Stores.SentinelPassword)
		}
	} else {
		redisURL, err := e.link("redis", e.Stores.RedisURL)
		if err != nil {
			return nil, err
		}
		vars = append(vars, "REDIS_URL="+redisURL)
	}
	var front BalancerOptions
	if o.TLS {
		ca, cert, err := pki.Local()
		if err != nil {
			return nil, fmt.Errorf("a certificate for the environment: %w", err)
		}
		e.CA, front = ca, BalancerOptions{TLS: ServerTLS(cert.TLS), Redirect: true}
		// Before the caller's variables, which may say otherwise.
		vars = append(vars, "TRUSTED_PROXIES=127.0.0.1")
	}
	vars = append(vars, o.APIEnv...)
	urls := make([]string, 0, o.Instances)
	for i := 1; i <= o.Instances; i++ {
		start := time.Now()
		a, err := StartAPI(ctx, "api-"+strconv.Itoa(i), o.APIBinary, vars)
		if err != nil {
			return nil, err
		}
		e.APIs = append(e.APIs, a)
		e.closers.push(a.Close)
		urls = append(urls, a.URL())
		progress(Timing{a.Name() + " " + a.URL(), time.Since(start)})
	}
	if e.balancer, err = StartBalancerWith(urls, front); err != nil {
		return nil, err
	}
	e.closers.push(e.balancer.Close)
	e.Target, e.PlainURL = e.balancer.URL(), e.balancer.PlainURL()
	return e, nil
}

// link puts a fault proxy in front of a single-host store URI and returns
// the URI through it. A multi-host URI (a replica set the driver
// discovers) is returned as it is: a proxy would hide the topology.
func (e *Env) link(name, uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || strings.Contains(u.Host, ",") {
		return uri, nil
	}
	p, err := e.addLink(name, u.Host)
	if err != nil {
		return "", err
	}
	u.Host = p.Addr()
	return u.String(), nil
}

// ClientLink is the name of the link between the load's clients and the
// API (Env.LinkClients): the name scenario files use for it too.
const ClientLink = "api"

// LinkClients puts a fault proxy between the clients and the API, the
// link called ClientLink, and returns the target URL through it: what a
// scenario's faults on the users' network act on. Load sent to the
// returned URL pays one more loopback hop, so a run makes the link only
// when a fault needs it.
func (e *Env) LinkClients() (string, error) {
	if l, ok := e.Links[ClientLink]; ok {
		return e.viaLink(l), nil
	}
	u, err := url.Parse(e.Target)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("link the clients to %q: not a URL with a host", e.Target)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	l, err := e.addLink(ClientLink, host)
	if err != nil {
		return "", err
	}
	return e.viaLink(l), nil
}

// addLink starts a fault proxy to backend (host:port) as the link called
// name; Close stops it.
func (e *Env) addLink(name, backend string) (*link.Link, error) {
	l, err := link.Start(name, backend)
	if err != nil {
		return nil, err
	}
	e.closers.push(l.Close)
	if e.Links == nil {
		e.Links = map[string]*link.Link{}
	}
	e.Links[name] = l
	return l, nil
}

// viaLink is the target with l's address instead of its host.
func (e *Env) viaLink(l *link.Link) string {
	u, _ := url.Parse(e.Target)
	u.Host = l.Addr()
	return u.String()
}

// Degrade puts the link called name under f, as the fault called fault
// (one already called so is undone first).
func (e *Env) Degrade(name, fault string, f link.Fault) error {
	l, err := e.linkNamed(name)
	if err != nil {
		return err
	}
	return l.Apply(fault, f)
}

// Restore undoes the fault called fault on the link called name, or
// every fault on it when fault is "".
func (e *Env) Restore(name, fault string) error {
	l, err := e.linkNamed(name)
	if err != nil {
		return err
	}
	if fault == "" {
		return l.Heal()
	}
	return l.Remove(fault)
}

// linkNamed is the link called name, or ErrNoComponent.
func (e *Env) linkNamed(name string) (*link.Link, error) {
	l, ok := e.Links[name]
	if !ok {
		return nil, fmt.Errorf("%w: no link %q (have: %v)", ErrNoComponent, name, slices.Sorted(maps.Keys(e.Links)))
	}
	return l, nil
}

// Description says what runs, in one line.
func (e *Env) Description() string {
	if len(e.APIs) == 0 {
		return fmt.Sprintf("%s; API at %s", e.Stores.Description, e.Target)
	}
	return fmt.Sprintf("%s; %d API instance(s) behind %s", e.Stores.Description, len(e.APIs), e.Target)
}

// Components returns every part faults can act on: stores, then APIs.
func (e *Env) Components() []Component {
	out := append([]Component(nil), e.Stores.Components...)
	for _, a := range e.APIs {
		out = append(out, a)
	}
	return out
}

// Component returns the component called name, or ErrNoComponent.
func (e *Env) Component(name string) (Component, error) {
	var names []string
	for _, c := range e.Components() {
		if c.Name() == name {
			return c, nil
		}
		names = append(names, c.Name())
	}
	return nil, fmt.Errorf("%w %q (have: %v)", ErrNoComponent, name, names)
}

// Close stops everything the environment started, newest first. It is
// safe to call more than once.
func (e *Env) Close() error { return e.closers.close() }

func joinErrors(errs []error) error { return errors.Join(errs...) }
