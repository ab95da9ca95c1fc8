// Package health answers "can this instance serve?" for readiness probes.
//
// Reports follow the draft "Health Check Response Format for HTTP APIs"
// (application/health+json): an overall status of pass, warn or fail and,
// per dependency, its status and round-trip time. A critical dependency
// that fails makes the report fail (503: take the instance out of the load
// balancer); a non-critical one only warns (the API degrades, still serves).
package health

import (
	"context"
	"sync"
	"time"
)

// Statuses of a report and of each check.
const (
	Pass = "pass"
	Warn = "warn"
	Fail = "fail"
)

// DefaultTimeout bounds each probe, so a report is ready well within the
// two seconds a load balancer usually waits.
const DefaultTimeout = time.Second

// Probe checks one dependency.
type Probe struct {
	Name          string // "mongodb", "redis"
	ComponentType string // "datastore", "cache"
	Critical      bool   // a failure fails the whole report
	Check         func(ctx context.Context) error
	// Symptom names a failure in the report ("unreachable" when empty);
	// the cause stays in the logs.
	Symptom string
}

// Check is one dependency's entry in a report.
type Check struct {
	ComponentType string    `json:"componentType"`
	ObservedValue float64   `json:"observedValue"`
	ObservedUnit  string    `json:"observedUnit"`
	Status        string    `json:"status"`
	Time          time.Time `json:"time"`
	Output        string    `json:"output,omitempty"`
	Err           error     `json:"-"` // the cause, for logs only
}

// Report is the readiness document.
type Report struct {
	Status      string             `json:"status"`
	ServiceID   string             `json:"serviceId"`
	Description string             `json:"description"`
	Checks      map[string][]Check `json:"checks"`
}

// Checker runs probes concurrently, each with its own deadline.
type Checker struct {
	probes  []Probe
	timeout time.Duration
}

// NewChecker returns a checker of probes, each bounded by timeout.
func NewChecker(timeout time.Duration, probes ...Probe) *Checker {
	return &Checker{probes: probes, timeout: timeout}
}

// Check runs every probe and returns the report.
func (c *Checker) Check(ctx context.Context) Report {
	r := Report{Status: Pass, ServiceID: "taskapi", Description: "task API readiness", Checks: make(map[string][]Check, len(c.probes))}
	results := make([]Check, len(c.probes))
	var wg sync.WaitGroup
	for i, p := range c.probes {
		wg.Go(func() { results[i] = c.run(ctx, p) })
	}
	wg.Wait()
	for i, p := range c.probes {
		res := results[i]
		r.Checks[p.Name+":responseTime"] = []Check{res}
		switch {
		case res.Status == Fail && p.Critical:
			r.Status = Fail
		case res.Status == Fail && r.Status == Pass:
			r.Status = Warn
		}
	}
	return r
}

func (c *Checker) run(ctx context.Context, p Probe) Check {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	// The probe runs apart so that one ignoring its context still cannot
	// hold the report past the timeout.
	errc := make(chan error, 1)
	go func() { errc <- p.Check(ctx) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		err = ctx.Err()
	}
	elapsed := time.Since(start)
	res := Check{
		ComponentType: p.ComponentType,
		ObservedValue: float64(elapsed.Microseconds()) / 1000,
		ObservedUnit:  "ms",
		Status:        Pass,
		Time:          start.UTC(),
	}
	if err != nil {
		res.Status, res.Err = Fail, err
		// The cause goes to the logs; the report names the symptom only,
		// since readiness is often reachable by more people than logs are.
		symptom := p.Symptom
		if symptom == "" {
			symptom = "unreachable"
		}
		res.Output = p.Name + " " + symptom
		if !p.Critical {
			res.Output += " (degraded: serving without it)"
		}
	}
	return res
}
