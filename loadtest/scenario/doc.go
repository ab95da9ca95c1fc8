// Package scenario reads load-test scenario files: what load to offer
// (executors, stages, phases), what virtual users do (weighted journeys of
// HTTP steps with checks, extraction and think time), which thresholds
// decide the verdict, and which faults the run plays on the environment
// (Fault).
//
// The format is YAML, documented field by field in
// scenarios/scenario.schema.json (a JSON Schema editors can use) and in
// scenarios/README.md. Executors and thresholds keep k6's names and
// syntax, so a k6 user reads a scenario at a glance.
//
// Load reports every problem of a file at once, each as
// "file:line: field.path: what is wrong", so a scenario can be fixed in one
// pass. A loaded File is immutable and safe for concurrent use.
package scenario
