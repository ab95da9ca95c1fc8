package scenario

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Executor names how a scenario schedules iterations, as k6 names them.
type Executor string

// The executors. Arrival-rate executors are the open model: iterations
// start on a schedule whether or not earlier ones finished. VU executors
// are the closed model: each virtual user starts its next iteration when
// the last one ends.
const (
	ConstantArrivalRate Executor = "constant-arrival-rate"
	RampingArrivalRate  Executor = "ramping-arrival-rate"
	ConstantVUs         Executor = "constant-vus"
	RampingVUs          Executor = "ramping-vus"
	PerVUIterations     Executor = "per-vu-iterations"
)

// Executors lists the built-in executors, in documentation order.
var Executors = []Executor{ConstantArrivalRate, RampingArrivalRate, ConstantVUs, RampingVUs, PerVUIterations}

// ExecutorSpec is an executor's schema entry: the scenario fields it
// requires and those it also allows, beyond executor, startTime and
// journeys, which every scenario takes. A field an executor would
// silently ignore is a problem, as k6 reports it.
type ExecutorSpec struct {
	Required, Allowed []string
	// Open is true for the open model: iterations start on a schedule
	// whether or not earlier ones finished.
	Open bool
}

// ErrExecutorTaken is returned by RegisterExecutor for a name that
// already has a schema entry.
var ErrExecutorTaken = errors.New("executor already has a schema entry")

// The schema entries, by executor. The built-in ones are written here
// rather than registered by package executor, so that every program that
// reads scenario files (dashboards, the shipped scenarios) knows them
// without linking the executors.
var (
	specsMu sync.RWMutex
	specs   = map[Executor]ExecutorSpec{
		ConstantArrivalRate: {Required: []string{"rate", "duration", "preAllocatedVUs"}, Allowed: []string{"timeUnit", "maxVUs", "phase"}, Open: true},
		RampingArrivalRate:  {Required: []string{"stages", "preAllocatedVUs"}, Allowed: []string{"startRate", "timeUnit", "maxVUs"}, Open: true},
		ConstantVUs:         {Required: []string{"vus", "duration"}, Allowed: []string{"phase"}},
		RampingVUs:          {Required: []string{"stages"}, Allowed: []string{"startVUs"}},
		PerVUIterations:     {Required: []string{"vus", "iterations"}, Allowed: []string{"maxDuration", "phase"}},
	}
	// order is the executors' names for messages: the built-in ones,
	// then the registered ones in the order they came.
	order = slices.Clone(Executors)
)

// commonFields are the fields every executor takes.
var commonFields = []string{"executor", "startTime", "journeys"}

// Spec returns e's schema entry, and false for an executor without one.
func (e Executor) Spec() (ExecutorSpec, bool) {
	specsMu.RLock()
	defer specsMu.RUnlock()
	spec, ok := specs[e]
	return spec, ok
}

// Open reports whether e is an open-model (arrival-rate) executor.
func (e Executor) Open() bool {
	spec, _ := e.Spec()
	return spec.Open
}

// RegisterExecutor adds the schema entry of an executor this package does
// not know, so that files naming it load: an executor defined outside
// the built-in ones (package executor's tests define one). Call it from
// an init function, before any file naming e is read.
func RegisterExecutor(e Executor, spec ExecutorSpec) error {
	if e == "" {
		return errors.New("register executor: empty name")
	}
	specsMu.Lock()
	defer specsMu.Unlock()
	if _, ok := specs[e]; ok {
		return fmt.Errorf("register executor %q: %w", e, ErrExecutorTaken)
	}
	specs[e] = ExecutorSpec{Required: slices.Clone(spec.Required), Allowed: slices.Clone(spec.Allowed), Open: spec.Open}
	order = append(order, e)
	return nil
}

func executorNames() []string {
	specsMu.RLock()
	defer specsMu.RUnlock()
	out := make([]string, len(order))
	for i, e := range order {
		out[i] = string(e)
	}
	return out
}
