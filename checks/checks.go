// Package checks is the registry of the readiness checks: All returns
// every check the harness runs, in report order, so that a new check
// package is added here and nowhere else.
//
// The parts each have a package of their own: check is the seam a check
// plugs into (Check, Target, the categories), probe and fixture are what
// the HTTP checks send and create, the packages named after what they
// check (https, headers, cors, jwt, access, input, limits, health,
// store, backup, resilience, ops) hold the checks, readiness runs them
// into a Report, and report renders it. Nothing under checks/ imports this
// package, so any of them may be imported on its own.
package checks

import (
	"github.com/taskready/taskready/checks/access"
	"github.com/taskready/taskready/checks/backup"
	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/cors"
	"github.com/taskready/taskready/checks/headers"
	"github.com/taskready/taskready/checks/health"
	"github.com/taskready/taskready/checks/https"
	"github.com/taskready/taskready/checks/input"
	"github.com/taskready/taskready/checks/jwt"
	"github.com/taskready/taskready/checks/limits"
	"github.com/taskready/taskready/checks/ops"
	"github.com/taskready/taskready/checks/resilience"
	"github.com/taskready/taskready/checks/store"
)

// All returns every readiness check, in report order. The store checks
// read the connection string from Target.MongoURI.
func All() []check.Check {
	var all []check.Check
	for _, cs := range [][]check.Check{
		https.Checks(), headers.Checks(), cors.Checks(), jwt.Checks(), access.Checks(), input.Checks(),
		limits.Checks(), health.Checks(), store.Checks(), backup.Checks(), resilience.Checks(), ops.Checks(),
	} {
		all = append(all, cs...)
	}
	return all
}
