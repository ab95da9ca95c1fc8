// Package ops holds the readiness checks of what operating the API needs
// around it, beyond the API itself: ops.alerts, whether the deployment's
// Prometheus alerts on the API's availability and latency.
//
// It reads Prometheus's HTTP API only (/api/v1/rules, /api/v1/query), so
// it applies to any Prometheus, whoever wrote its rules: a rule covers a
// job when its expression, read through the recording rules it uses,
// selects that job's series of the API's request counter (5xx) or
// latency histogram (internal/promql tells which series an expression
// selects).
package ops
