// Package alerts writes the Prometheus recording and alerting rules of the
// task API from the same budgets that gate a load run in CI.
//
// A scenario file's thresholds become service level objectives (Objectives):
// http_req_failed rate<X is an availability objective (at most X of the
// requests answered 5xx), http_req_duration p(N)<B a latency objective (N%
// of the requests answered within B, read from the request duration
// histogram at a bucket edge). Each objective is alerted on with the
// multi-window, multi-burn-rate alerts of the Google SRE workbook
// ("Alerting on SLOs", table 5-8): a page when 2% of a 30-day budget burns
// in an hour or 5% in six hours, a ticket when 10% burns in a day or in
// three days, each long window confirmed by a short one so that an alert
// ends soon after the burn does.
//
// Beside them stand the saturation alerts, on what the API exports: its
// admission limiters near their ceiling, 503 load shedding, MongoDB and
// Redis pool timeouts and open circuit breakers, the per-instance rate
// limit fallback; the readiness report's failed gate, stale backup and
// stale report (readiness.prom); and a watchdog that always fires, so
// that its absence says alerting itself is broken.
//
// Every alert carries a summary, a description and a runbook_url that
// points at its section of docs/runbook.md (Anchor). `harness alerts
// generate` writes the rules; the compose stack's Prometheus loads the
// committed deploy/prometheus/alerts.yml, generated from the load scenario,
// and a test regenerates it and compares.
package alerts
