// Package fault plays the failures a scenario schedules (its faults:
// list, scenario.Fault) on the environment under test while the load
// runs, and measures what each did to that load.
//
// A run plans its faults once on the schedule (Plan: a phase becomes the
// instant it starts), plays them on a Player (Play: each at its start,
// undone at its end, and whatever is still active undone when the run
// ends, so that no run leaves a fault behind), and judges each on the
// run's time series (Judge): the requests and errors during it, the first
// and last failing interval, p95 before and during, and the time the
// service took to recover once the fault ended.
package fault
