// Package k6 connects the harness to k6, which it treats as an external
// program only: it writes k6 scripts and reads k6 results, and never links
// k6's code (go.k6.io/k6 is AGPL-licensed).
//
// # Export
//
// Export writes a k6 JavaScript module equivalent to a scenario file, so a
// scenario can be run by k6 as well as by the harness and the two compared:
// the same executors and parameters in options.scenarios, the same
// thresholds, one function per journey doing the same requests with the
// same checks, extraction, think time and variables, and every request
// tagged as the harness tags its samples (scenario by k6 itself; endpoint
// and phase by the script; journey and step too). Where a k6 script cannot
// say what the harness does, the script approximates and says so in a
// comment:
//
//   - Phase. The harness tags an iteration with the phase of the stage its
//     start falls in. The script computes the same from Date.now() minus
//     exec.scenario.startTime at the iteration's start: to the millisecond,
//     and from when k6 actually started the iteration, not from its
//     schedule.
//   - Iteration duration. Each journey tags the VU (exec.vu.metrics.tags)
//     with its journey and phase, so k6's iteration_duration carries them
//     as the harness's does and thresholds such as
//     iteration_duration{journey:browse} select alike. k6 times an
//     iteration from its actual start; the harness, in the open model,
//     from its scheduled start, so a late start counts there and not in
//     k6.
//   - Journey choice. The harness picks a scenario's journeys by smooth
//     weighted round-robin over the scenario's iterations; the script walks
//     the same sequence with exec.scenario.iterationInTest. When the
//     weights add up to more than 1000 (after dividing by their greatest
//     common divisor), it takes blocks of each journey in turn.
//   - Users. Iteration k of VU v logs in as seeded user (v*7919+k) mod
//     count + 1, as in the harness, but with k6's VU numbers
//     (exec.vu.idInTest counts VUs over the whole test, the harness per
//     scenario), so the same iteration may log in as another user.
//   - Failures. An extraction that finds nothing fails the request in the
//     harness; k6 cannot fail a request after the fact, so the script stops
//     the journey and counts it in the extract_failures counter. (The
//     script does make k6's http_req_failed agree with the harness on the
//     rest: no response or a status of 400 and above, where k6's default
//     also fails 1xx.)
//   - Durations. per-vu-iterations without maxDuration runs without limit
//     in the harness; k6 applies its default of 10m. k6's gracefulStop and
//     gracefulRampDown (30s) are left at their defaults.
//   - Extraction. A path of plain keys and indexes ("tasks.0._id") is read
//     with res.json(path) (GJSON); numbers lose digits beyond float64
//     there, where the harness keeps them exactly. A path with characters
//     GJSON gives a meaning to is walked key by key in JavaScript instead.
//   - Recovery budgets have no k6 equivalent: the script lists them in a
//     comment, and ReadStream's recorder gives what is needed to check
//     them afterwards.
//
// # Import
//
// ReadSummaryExport reads k6's --summary-export JSON and ReadStream its
// --out json stream (NDJSON, gzip-compressed or not), into this package's
// types, for the summary and report packages to convert. Two traps of
// k6's formats are handled here, once:
//
//   - In a summary export, a threshold mapped to true was crossed (failed):
//     "thresholds": {"p(95)<50": true} is a failure. ThresholdResult.Passed
//     has the meaning its name says.
//   - A rate metric's "passes" are its non-zero values and "fails" its zero
//     values, whatever they mean: for http_req_failed, passes are failed
//     requests.
//
// What the fixtures (k6 v2.2.0) show about the stream:
//
//   - A request's points (http_reqs, http_req_duration, the other
//     http_req_* timings and http_req_failed) share one time stamp, taken
//     when the request ended: its checks follow within a fraction of a
//     millisecond while it lasted tens of milliseconds. ReadStream so takes
//     a request's start as that time minus http_req_duration (sending,
//     waiting and receiving; connecting, DNS and TLS, k6's
//     http_req_blocked, come before that start).
//   - http_reqs counts every request of the run, setup() and teardown()
//     included (the fixtures' setup registers a user: 522 requests in
//     passing/, 501 in threshold-crossed/, as their summary exports say).
//     The recorder holds them all; those of setup and teardown have no
//     scenario tag.
//   - Thresholds are declared on the whole metrics only: a threshold on a
//     sub-metric (http_req_duration{endpoint:create}) is in neither the
//     metric's declaration nor anywhere else in the stream. Take those from
//     the script, the scenario file or the summary export.
//   - data_sent and data_received are emitted once per iteration, not per
//     request: they are totals here, not in the recorder's samples.
//   - Checks are points of their own, tagged with scenario and group (and
//     the tags given to check()), not with their request. ReadStream counts
//     them exactly (Stream.Checks, which Stream.Evaluate uses) and also
//     folds each into the oldest request of the last second before it
//     whose tags agree and that has no check yet. That is exact per
//     recorder key for the scripts Export writes (one check per request,
//     tagged like it) and for the fixtures, and a best effort otherwise: a
//     request without a check can take the check of a later one of the
//     same scenario and group.
//
// ReadStream reads a line at a time and keeps a bounded window of recent
// requests (waiting for their checks) and one entry per distinct metric,
// check and recorder key, the latter at most MaxKeys: its memory does not
// grow with the length of the run.
package k6
