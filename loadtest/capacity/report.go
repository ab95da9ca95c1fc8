package capacity

import "time"

// Report is a search's Result with what was searched: the JSON document
// harness capacity writes to its -out file and, with -json, to stdout.
// Its fields are those of Result, then these.
type Report struct {
	Result
	// Scenario names the scenario file whose journeys and thresholds
	// made the steps.
	Scenario string `json:"scenario"`
	// Target is the base URL the steps loaded.
	Target string `json:"target"`
	// APIInstances is how many API processes served the target; 0 when
	// the target is an API the harness did not start.
	APIInstances int `json:"api_instances"`
	// HoldMs is how long each step ran, in milliseconds.
	HoldMs int64 `json:"hold_ms"`
}

// NewReport returns res as a Report of the search over scenario's
// journeys against target with instances API processes, each step held
// for hold.
func NewReport(res Result, scenario, target string, instances int, hold time.Duration) Report {
	return Report{Result: res, Scenario: scenario, Target: target, APIInstances: instances, HoldMs: hold.Milliseconds()}
}
