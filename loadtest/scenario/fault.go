package scenario

import (
	"slices"
	"time"

	"github.com/taskready/taskready/env/link"
)

// Fault is one failure a scenario plays during its run: an action on a
// component of the environment (a process or container) or on a link
// (the network path to a store), from a start to an end.
//
//	faults:
//	  - {name: mongo-down, target: mongo-0, action: stop, phase: steady, offset: 5s, for: 10s}
//	  - {name: slow-mongo, target: mongo, action: latency, latency: 200ms, jitter: 50ms, at: 30s, until: recovery}
//	  - {name: thin-clients, target: api, action: bandwidth, rate: 16, at: 1m, for: 30s}
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

	// Link is what an action on a link does, with its parameters; its
	// Action is Action's name in package link (reset is reset_peer).
	// Zero for an action on a component.
	Link link.Fault

	Line int
}

// Fault actions. A component can be killed (SIGKILL; started again at the
// end), stopped (SIGTERM, then started) or paused (SIGSTOP, then
// continued). A link undergoes one of toxiproxy's toxics (link.Actions:
// latency, bandwidth, timeout, reset_peer, slow_close, slicer,
// limit_data) or is down, until the end; reset is the name reset_peer had
// before, and stays one.
const (
	FaultKill    = "kill"
	FaultStop    = "stop"
	FaultPause   = "pause"
	FaultLatency = link.Latency
	FaultReset   = "reset"
)

// FaultActions are the actions a fault may take, components' first.
var FaultActions = append([]string{FaultKill, FaultStop, FaultPause}, linkActions()...)

// linkActions are the actions on a link: package link's, with reset
// beside reset_peer.
func linkActions() []string {
	out := slices.Clone(link.Actions)
	i := slices.Index(out, link.ResetPeer)
	return slices.Insert(out, i+1, FaultReset)
}

// linkAction is the name in package link of an action on a link.
func linkAction(action string) string {
	if action == FaultReset {
		return link.ResetPeer
	}
	if slices.Contains(link.Actions, action) {
		return action
	}
	return ""
}

// OnLink reports whether the fault's action acts on a link rather than a
// component.
func (f Fault) OnLink() bool { return linkAction(f.Action) != "" }

// ClientLink is the link from the clients (the load) to the API.
const ClientLink = "api"

// FaultLinks are the links a fault on a link may target: the
// network paths from the APIs to the stores (mongo, redis) and from the
// clients to the API (api). Components are not listed: which exist
// depends on the environment, and the run checks them.
var FaultLinks = []string{"mongo", "redis", ClientLink}

// linkComponent is, for a link, the component a kill, stop or pause
// aimed at it most likely meant.
var linkComponent = map[string]string{"mongo": "mongo-0", "redis": "redis-primary", "api": "api-1"}
