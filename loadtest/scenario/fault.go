package scenario

import "time"

// Fault is one failure a scenario plays during its run: an action on a
// component of the environment (a process or container) or on a link
// (the network path to a store), from a start to an end.
//
//	faults:
//	  - {name: mongo-down, target: mongo-0, action: stop, phase: steady, offset: 5s, for: 10s}
//	  - {name: slow-mongo, target: mongo, action: latency, latency: 200ms, jitter: 50ms, at: 30s, until: recovery}
type Fault struct {
	Name   string // unique in the file; reports and recovery budgets name it
	Target string // a component (mongo-0, redis-primary, api-2) or a link (mongo, redis)
	Action string // one of FaultActions

	// The start: At from the run's start, or Offset after Phase begins.
	// A phase begins when a scenario first enters it, as the schedules
	// say; the loader refuses an Until that would not begin after the
	// start.
	At     time.Duration
	Phase  string
	Offset time.Duration
	// The end: For after the start, or when Until (a phase) begins; a
	// kill with neither is never undone (the component stays down).
	For   time.Duration
	Until string

	// Latency and Jitter are the latency action's delay, each way: every
	// chunk waits Latency ± a uniform Jitter.
	Latency, Jitter time.Duration

	Line int
}

// Fault actions. A component can be killed (SIGKILL; started again at the
// end), stopped (SIGTERM, then started) or paused (SIGSTOP, then
// continued); a link can be slowed (latency) or cut (reset: every
// connection reset and new ones refused, until the end).
const (
	FaultKill    = "kill"
	FaultStop    = "stop"
	FaultPause   = "pause"
	FaultLatency = "latency"
	FaultReset   = "reset"
)

// FaultActions are the actions a fault may take, components' first.
var FaultActions = []string{FaultKill, FaultStop, FaultPause, FaultLatency, FaultReset}

// OnLink reports whether the fault's action acts on a link rather than a
// component.
func (f Fault) OnLink() bool { return f.Action == FaultLatency || f.Action == FaultReset }

// ClientLink is the link from the clients (the load) to the API.
const ClientLink = "api"

// FaultLinks are the links a latency or reset fault may target: the
// network paths from the APIs to the stores (mongo, redis) and from the
// clients to the API (api). Components are not listed: which exist
// depends on the environment, and the run checks them.
var FaultLinks = []string{"mongo", "redis", ClientLink}

// linkComponent is, for a link, the component a kill, stop or pause
// aimed at it most likely meant.
var linkComponent = map[string]string{"mongo": "mongo-0", "redis": "redis-primary", "api": "api-1"}
