// Package readiness runs readiness checks (package check) against a
// target and turns what they find into a Report: every result with its
// evidence, what the policy made of it, a score for trend tracking, and
// the gates that decide the exit code. Package report renders a Report
// for people and for CI.
//
// # Running
//
// [Run] (or [New] then [Runner.Run]) runs every check once with its own
// deadline (60s unless [WithTimeout] says otherwise), times it, and turns
// a panic into an Error result carrying the panic message and stack, so
// one broken check never takes the run down. A check that does not return
// within a short grace after its deadline is abandoned with an Error
// result: the runner cannot stop a goroutine, only stop waiting for it.
//
// Checks run concurrently ([WithConcurrency], 4 by default) unless they
// act on the environment: a check that stops a store, exhausts a rate
// limit or otherwise changes what other checks see implements
// check.Disrupter (or is wrapped by check.Disruptive) and runs alone,
// after all the others, in the order given. Results never depend on the
// order in which checks finished: the report sorts them.
//
// A run owns what its checks create: it marks it with its prefix
// ("readiness-<run id>"), gives the checks a check.Shared of its own (the
// fixture users they share, which no other run sees), and hands that
// target to [WithCleanup]'s function once the checks are done.
//
// # Policy
//
// A policy file (YAML, [LoadPolicy]) sets the thresholds the checks
// compare against (check.Policy: durations as Go durations or days,
// "8760h" or "365d"), an optional minimum score, and per-check overrides
// in the manner of ZAP's rules file and Polaris's exemptions, each with a
// required reason, owner and expiry day:
//
//	thresholds:
//	  hsts_min_age: 180d
//	  max_token_lifetime: 24h
//	min_score: 70
//	overrides:
//	  - id: headers.csp
//	    action: ignore          # still runs; shown with its reason; not scored or gated
//	    reason: JSON-only API; CSP is set by the CDN in front of it.
//	    owner: platform-team    # who answers for the waiver
//	    expires: 2027-06-30     # from this day (UTC) it no longer waives
//	  - id: limits.auth-burst
//	    action: warn            # a failure is reported as a warning and never gates
//	    reason: staging shares one egress IP, so the limit trips early.
//	    owner: alice@example.com
//	    expires: 2027-01-15
//	  - id: backup.retention
//	    action: downgrade       # counts and gates at the lower severity
//	    severity: low
//	    reason: retention is enforced by the managed service (ticket OPS-112).
//	    owner: ops
//	    expires: 2027-06-30
//
// An expired waiver is shown but no longer applied, and the report says
// so ([Report.Waivers]); one that expires within [ExpiryWarning] is a
// warning. Expiry is judged at the run's start ([WithClock]).
//
// An override naming no known check is an error that names the nearest
// known id, so that a typo cannot silently un-ignore (or fail to ignore)
// a check. Ignored checks still run: the report shows what they found, so
// an exemption that is no longer needed is visible.
//
// # Score (version [ScoreVersion])
//
// The score is a Polaris-style weighted pass ratio. Each counted result
// weighs by its effective severity (critical 10, high 5, medium 3, low 1,
// info 0); a pass earns its full weight, a warning half of it, a failure
// nothing:
//
//	earned   = Σ weight(pass) + ½ × Σ weight(warn)
//	possible = Σ weight(pass) + Σ weight(warn) + Σ weight(fail)
//	score    = floor(100 × earned / possible)
//
// Not-applicable results and errors are left out of both sums (an error
// is listed, and gates when the check is critical, but the score measures
// what was verified), as are ignored ones. With nothing to count the
// score is undefined ("n/a"), never 100. The floor keeps A+ for a run
// where everything counted passed. The letter grade uses MDN HTTP
// Observatory's bands: 100 A+, 90 A, 85 A-, 80 B+, 70 B, 65 B-, 60 C+,
// 50 C, 45 C-, 40 D+, 30 D, 25 D-, below F. The same formula gives a score
// per category. ScoreVersion changes whenever weights, bands or the
// formula change, so stored scores are compared only with their own kind.
//
// # Gates
//
// The score is for trends; the gates decide. A run fails (exit code 1)
// when:
//
//   - a check whose effective severity is critical fails or errors: an
//     error on a critical check is not a pass;
//   - a check whose effective severity is high fails (downgrade it in the
//     policy, with a reason, to let it through);
//   - a minimum score is set ([WithMinScore] or min_score) and the score is
//     below it, or undefined.
//
// A check under a "warn" override never gates, whatever it found; an
// ignored one counts for nothing. Otherwise the exit code is 0. A run that could not start (a duplicate
// check id, an override for an unknown check) has exit code 2 and a failed
// "configuration" gate. The report lists every gate with the checks that
// failed it.
package readiness
