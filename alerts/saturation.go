package alerts

import "fmt"

// What the saturation alerts tolerate before they fire. They are causes,
// not symptoms: a ticket, except a MongoDB that every request needs.
const (
	// inFlightShare of an admission limiter's ceiling held on average
	// over 5 minutes, for inFlightFor: the instance is near the point
	// where it queues and then sheds.
	inFlightShare = 0.8
	inFlightFor   = "10m"
	inFlightWords = "10 minutes"
	// sustainedFor is how long a pool timeout, a fallback or shedding
	// must go on: a blip during a deploy or a failover is not a ticket.
	sustainedFor   = "5m"
	sustainedWords = "5 minutes"
	// mongoOpenFor and redisOpenFor outlast a breaker's cooldown (1s)
	// and a replica set's or Sentinel's failover (about 10s to 30s).
	mongoOpenFor   = "1m"
	mongoOpenWords = "a minute"
	redisOpenFor   = "2m"
	redisOpenWords = "2 minutes"
	// shedFallback is the share of shed requests that fires when the
	// scenario has no availability budget to take it from.
	shedFallback = 0.01
	// readinessMaxAge is how old the last readiness report may be, in
	// seconds: the backup and gate alerts judge it, and a daily run
	// (what the backup check's 26h default assumes) may be late once.
	readinessMaxAge = 2 * 24 * 3600
)

// saturationGroup is the alerts on the API's own saturation signals.
func saturationGroup(objs []Objective) Group {
	shed := shedFallback
	for _, o := range objs {
		if o.Kind == Availability {
			shed = o.Budget
		}
	}
	return Group{Name: "taskapi-saturation", Rules: []Rule{
		{
			Alert: "TaskAPIInFlightHigh",
			Expr:  fmt.Sprintf("avg_over_time(taskapi_admission_in_flight[5m]) / taskapi_admission_ceiling > %s", number(inFlightShare)),
			For:   inFlightFor, Labels: severity(Ticket),
			Annotations: map[string]string{
				"summary": "{{ $labels.instance }}: the {{ $labels.limiter }} admission limiter runs near its ceiling",
				"description": fmt.Sprintf("{{ $labels.instance }} ({{ $labels.job }}) has had {{ $value | humanizePercentage }} of the {{ $labels.limiter }} limiter's ceiling in flight, "+
					"on average over 5 minutes, for %s (the alert: over %s%%). Past its ceiling it queues requests, then refuses them with 503.", inFlightWords, number(100*inFlightShare)),
			},
		},
		{
			Alert: "TaskAPILoadShedding",
			Expr: fmt.Sprintf("sum by (job) (rate(taskapi_admission_rejected_total[5m]))\n/\nsum by (job) (rate(%s[5m]))\n> %s",
				requestsTotal, number(shed)),
			For: sustainedFor, Labels: severity(Ticket),
			Annotations: map[string]string{
				"summary": "{{ $labels.job }} is shedding load with 503s",
				"description": fmt.Sprintf("{{ $labels.job }} refused {{ $value | humanizePercentage }} of its requests with 503 and Retry-After in the last 5 minutes, and has for %s "+
					"(the alert: over %s%%, the availability budget): its admission limiters found a queue full or a deadline too near to finish in time.", sustainedWords, number(100*shed)),
			},
		},
		growing("TaskAPIMongoPoolExhausted", `taskapi_mongo_pool_checkout_failures_total{reason="timeout"}`,
			"MongoDB connection pool exhausted", "MongoDB connection checkouts timed out",
			"Every connection of its pool was busy until the request's deadline."),
		growing("TaskAPIRedisPoolExhausted", "taskapi_redis_pool_timeouts_total",
			"Redis connection pool exhausted", "waits for a Redis connection timed out",
			"Every connection of its pool was busy."),
		growing("TaskAPIRateLimitFallback", "taskapi_ratelimit_fallback_total",
			"rate limits counted per instance, Redis out of reach", "requests were counted by its per-instance rate limiter",
			"Redis did not answer, so each instance allows a client the whole budget, and N instances allow N times the limit."),
		{
			Alert: "TaskAPIRedisCircuitOpen",
			Expr:  `taskapi_redis_available == 0`,
			For:   redisOpenFor, Labels: severity(Ticket),
			Annotations: map[string]string{
				"summary":     "{{ $labels.instance }}: Redis circuit breaker open",
				"description": "{{ $labels.instance }} ({{ $labels.job }}) has found Redis unavailable for " + redisOpenWords + ": it serves without the profile cache, limits rates per instance and keeps logouts in a local deny-list.",
			},
		},
		{
			Alert: "TaskAPIMongoCircuitOpen",
			Expr:  `taskapi_mongo_available == 0`,
			For:   mongoOpenFor, Labels: severity(Page),
			Annotations: map[string]string{
				"summary":     "{{ $labels.instance }}: MongoDB circuit breaker open",
				"description": "{{ $labels.instance }} ({{ $labels.job }}) has found MongoDB unreachable for " + mongoOpenWords + ": it answers every request that needs the database with 503 and Retry-After.",
			},
		},
	}}
}

// growing is an alert on an instance's counter that grew in every
// 5-minute window for sustainedFor: pool timeouts, the rate limit
// fallback. Its description counts what happened, then says why it
// matters.
func growing(name, counter, summary, happened, why string) Rule {
	return Rule{
		Alert: name,
		Expr:  fmt.Sprintf("sum by (job, instance) (increase(%s[5m])) > 0", counter),
		For:   sustainedFor, Labels: severity(Ticket),
		Annotations: map[string]string{
			"summary": "{{ $labels.instance }}: " + summary,
			"description": "On {{ $labels.instance }} ({{ $labels.job }}), {{ $value | humanize }} " + happened +
				" in the last 5 minutes, and some in every 5 minutes for " + sustainedWords + ". " + why,
		},
	}
}

// readinessGroup is the alerts on the last readiness report, from the
// readiness.prom `harness check` writes (scraped through node_exporter's
// textfile collector or any server of the file).
func readinessGroup() Group {
	return Group{Name: "taskready-readiness", Rules: []Rule{
		{
			Alert:  "TaskAPIReadinessGateFailed",
			Expr:   `taskready_readiness_gates_passed == 0`,
			Labels: severity(Ticket),
			Annotations: map[string]string{
				"summary":     "The last readiness check failed a gate",
				"description": "The last `harness check` run ({{ $labels.job }}, {{ $labels.instance }}) failed a gate: a critical or high check failed, or the score fell under the minimum. Its readiness.html names the checks and how to fix them.",
			},
		},
		{
			Alert:  "TaskAPIBackupStale",
			Expr:   `taskready_readiness_check_status{id="backup.recent", status=~"fail|error"} == 1`,
			Labels: severity(Ticket),
			Annotations: map[string]string{
				"summary":     "No recent backup",
				"description": "The last readiness check found the newest backup older than the policy's max_backup_age (26h by default), or none at all (backup.recent: {{ $labels.status }}).",
			},
		},
		{
			Alert:  "TaskAPIReadinessReportStale",
			Expr:   fmt.Sprintf("time() - taskready_readiness_last_run_timestamp_seconds > %d", readinessMaxAge),
			Labels: severity(Ticket),
			Annotations: map[string]string{
				"summary": "The last readiness report is {{ $value | humanizeDuration }} old",
				"description": fmt.Sprintf("No `harness check` run has reported for over %d hours ({{ $labels.job }}, {{ $labels.instance }}): the backup and gate alerts judge a report that old.",
					readinessMaxAge/3600),
			},
		},
	}}
}

// watchdogGroup is the alert that always fires: its absence, in
// Alertmanager or on the dashboard, means the rules are not evaluated or
// their alerts are not delivered.
func watchdogGroup() Group {
	return Group{Name: "taskready-alerting", Rules: []Rule{{
		Alert:  "TaskAPIWatchdog",
		Expr:   "vector(1)",
		Labels: severity(None),
		Annotations: map[string]string{
			"summary":     "Alerting works: this alert always fires",
			"description": "Always firing while Prometheus evaluates these rules. Route it to a dead man's switch that raises the alarm when it stops arriving.",
		},
	}}}
}

func severity(s string) map[string]string { return map[string]string{"severity": s} }
