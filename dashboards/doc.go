// Package dashboards builds the Grafana dashboards of the task API and of
// the harness as code, with one small function per panel, and verifies
// them against a Prometheus that scraped a real run.
//
// Three dashboards come out of it: Service (what the API's /metrics says:
// traffic, errors, latency by route, limits, cache, store pools, the Go
// runtime), Load (the harness's own series during a run, generated from a
// scenario file so that its endpoints and thresholds appear without hand
// edits) and Readiness (the last `harness check` run). Every panel reads
// the data source of the "datasource" variable, so one JSON file imports
// into any Grafana.
//
// The committed JSON files beside this package are what Files returns;
// a test fails when they differ, and `harness dashboards generate` writes
// them again.
package dashboards
