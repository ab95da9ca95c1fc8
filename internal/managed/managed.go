// Package managed lets the readiness checks act on an environment the
// harness brought up (package env): Environment adapts it to
// check.Environment, and Target points a check.Target at it. The CLI's
// check command and the check packages' tests both go through here, so
// that the checks see a managed environment the same way in both.
//
// It sits outside checks/ and loadtest/ so that neither imports the
// other.
package managed

import (
	"context"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/env"
)

// Environment lets checks act on e: its stores' parts and its API
// instances are the components, the instances' own URLs (behind the
// balancer's) the API targets.
func Environment(e *env.Env) check.Environment { return environment{e} }

// environment adapts env.Env, which names its parts as Components and
// its instances as APIs.
type environment struct{ e *env.Env }

// Apply acts on a component the way harness fault does.
func (a environment) Apply(ctx context.Context, component, action string) error {
	return a.e.Apply(ctx, component, action)
}

// Components names the stores' parts and the API instances.
func (a environment) Components() []string {
	var names []string
	for _, c := range a.e.Components() {
		names = append(names, c.Name())
	}
	return names
}

// APITargets are the instances' own URLs, in order.
func (a environment) APITargets() []string {
	var urls []string
	for _, api := range a.e.APIs {
		urls = append(urls, api.URL())
	}
	return urls
}

// Target is a target for e: its balancer's URL, the environment itself,
// the first instance's metrics endpoint (the checks that scrape pick the
// first of APITargets), for an environment served over TLS its authority
// (RootCAs) and plain-HTTP address (PlainURL), and, when e's stores are
// known, their addresses as given (MongoURI, RedisURL). Connecting to the
// stores, and the rest of the target (a client that trusts RootCAs), are
// the caller's.
func Target(e *env.Env) *check.Target {
	t := &check.Target{BaseURL: e.Target, Env: Environment(e), PlainURL: e.PlainURL}
	if e.CA != nil {
		t.RootCAs = e.CA.Pool()
	}
	if len(e.APIs) > 0 {
		t.MetricsURL = e.APIs[0].MetricsURL()
	}
	if e.Stores != nil {
		t.MongoURI, t.RedisURL = e.Stores.MongoURI, e.Stores.RedisURL
	}
	return t
}
