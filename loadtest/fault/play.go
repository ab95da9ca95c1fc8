package fault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/taskready/taskready/env/link"
	"github.com/taskready/taskready/loadtest/scenario"
)

// Player acts on the environment under test: a component (a process or a
// container: "stop", "start", "pause", "unpause", "kill") or a link
// (link.Fault, under the fault's name, so that faults overlapping on one
// link are undone one by one). env.Env is one.
type Player interface {
	Apply(ctx context.Context, component, action string) error
	// Degrade puts the link called name under f, called fault.
	Degrade(name, fault string, f link.Fault) error
	// Restore undoes the fault called fault on the link called name.
	Restore(name, fault string) error
}

// Window is a fault as it was played, times from the run's start: Began
// when its action took effect, Ended when it was undone.
type Window struct {
	Planned
	Played bool          // the action ran (false: the run ended first, or it failed)
	Began  time.Duration // when the action returned
	Ended  time.Duration // when the undo returned; meaningful when Undone
	Undone bool
	// Err says what went wrong playing or undoing it, "" when nothing.
	Err string
}

// Linker puts a proxy on the clients' link to the API and returns the
// target through it (env.Env.LinkClients).
type Linker interface {
	LinkClients() (string, error)
}

// LoadTarget is where a run's load goes: target, or the clients' link to
// it when a fault acts on that link (scenario.ClientLink).
func LoadTarget(faults []scenario.Fault, l Linker, target string) (string, error) {
	if !slices.ContainsFunc(faults, func(f scenario.Fault) bool { return f.Target == scenario.ClientLink }) {
		return target, nil
	}
	return l.LinkClients()
}

// Event is a fault taking effect (Active) or being undone, or failing
// to (Text says how).
type Event struct {
	Fault  scenario.Fault
	Active bool
	Text   string // "fault mongo-down: stop mongo-0 at 30s"
}

// undoTimeout bounds one action or its undo: starting a stopped
// container can take seconds.
const undoTimeout = time.Minute

// Play plays each planned fault at its time from start on p until ctx
// ends, then undoes every fault still active, and returns what happened,
// in plan order. notify, when not nil, hears of each action as it
// happens.
func Play(ctx context.Context, p Player, plan []Planned, start time.Time, notify func(Event)) []Window {
	out := make([]Window, len(plan))
	var wg sync.WaitGroup
	for i, f := range plan {
		wg.Go(func() { out[i] = play(ctx, p, f, start, notify) })
	}
	wg.Wait()
	return out
}

func play(ctx context.Context, p Player, f Planned, start time.Time, notify func(Event)) Window {
	say := func(active bool, format string, args ...any) {
		if notify != nil {
			notify(Event{Fault: f.Fault, Active: active, Text: fmt.Sprintf(format, args...)})
		}
	}
	w := Window{Planned: f}
	if !sleepUntil(ctx, start.Add(f.Start)) {
		w.Err = "the run ended before it was due"
		return w
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	err := do(actx, p, f.Fault)
	cancel()
	w.Began = time.Since(start)
	if err != nil {
		w.Err = fmt.Sprintf("%s %s: %v", f.Action, f.Target, err)
		say(false, "fault %s: %s", f.Name, w.Err)
		return w
	}
	w.Played = true
	say(true, "fault %s: %s at %s", f.Name, Describe(f.Fault), w.Began.Round(100*time.Millisecond))
	if f.End == Never {
		return w
	}
	// The run's end undoes the fault too: nothing is left broken.
	sleepUntil(ctx, start.Add(f.End))
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	if err := undo(uctx, p, f.Fault); err != nil {
		w.Err = fmt.Sprintf("undo %s %s: %v", f.Action, f.Target, err)
		say(true, "fault %s: %s", f.Name, w.Err)
		return w
	}
	w.Ended, w.Undone = time.Since(start), true
	say(false, "fault %s: healed at %s", f.Name, w.Ended.Round(100*time.Millisecond))
	return w
}

// do plays f's action.
func do(ctx context.Context, p Player, f scenario.Fault) error {
	switch {
	case f.OnLink():
		return p.Degrade(f.Target, f.Name, f.Link)
	case f.Action == scenario.FaultKill, f.Action == scenario.FaultStop, f.Action == scenario.FaultPause:
		return p.Apply(ctx, f.Target, f.Action)
	}
	return fmt.Errorf("unknown action %q", f.Action)
}

// undo reverses f's action.
func undo(ctx context.Context, p Player, f scenario.Fault) error {
	switch {
	case f.OnLink():
		return p.Restore(f.Target, f.Name)
	case f.Action == scenario.FaultKill, f.Action == scenario.FaultStop:
		return p.Apply(ctx, f.Target, "start")
	case f.Action == scenario.FaultPause:
		return p.Apply(ctx, f.Target, "unpause")
	}
	return errors.New("nothing to undo")
}

// Describe says what f does: "stop mongo-0", "latency 200ms ± 50ms on
// link mongo", "down link redis".
func Describe(f scenario.Fault) string {
	switch d := detail(f); {
	case d != "":
		return f.Action + " " + d + " on link " + f.Target
	case f.OnLink():
		return f.Action + " link " + f.Target
	}
	return f.Action + " " + f.Target
}

// sleepUntil waits until t, reporting false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
