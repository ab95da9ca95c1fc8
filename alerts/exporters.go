package alerts

import (
	"fmt"
	"strings"
)

// What the alerts on the exporters' series tolerate. Probes are the
// users' view: a page. The stores' alerts are causes: a ticket.
const (
	// probeFor is how long every probe of a URL must fail: longer than
	// a rolling restart of one API behind nginx, shorter than users
	// wait before they call.
	probeFor   = "2m"
	probeWords = "2 minutes"
	// redisMaxShare is the share of maxmemory Redis may hold; past it,
	// with the default noeviction policy, its writes fail.
	// redisHostShare is the share of the host's memory it may hold when
	// maxmemory is 0 (unbounded): past it, the kernel kills something.
	redisMaxShare  = 0.9
	redisHostShare = 0.8
	redisFor       = "10m"
	redisWords     = "10 minutes"
	// mongoLagSeconds is how far a secondary may trail the primary:
	// writes acknowledged by the majority wait for it, and an election
	// could make it primary.
	mongoLagSeconds = 10
	mongoLagFor     = "2m"
	mongoLagWords   = "2 minutes"
	// exporterFor is how long an exporter may stay unscraped: its
	// alerts above are silent meanwhile.
	exporterFor   = "5m"
	exporterWords = "5 minutes"
)

// ExporterJobs are the scrape jobs of the compose stack's exporters
// (deploy/prometheus/prometheus.yml), which TaskAPIExporterDown watches.
var ExporterJobs = []string{"blackbox", "redis", "mongodb"}

// exportersGroup is the alerts on what the exporters see: the API from
// outside through its public address (blackbox), Redis's memory and the
// replica set's lag, and the exporters themselves.
func exportersGroup() Group {
	return Group{Name: "taskready-exporters", Rules: []Rule{
		{
			Alert: "TaskAPIProbeFailed",
			Expr:  `probe_success == 0`,
			For:   probeFor, Labels: severity(Page),
			Annotations: map[string]string{
				"summary": "{{ $labels.instance }} fails its probes from outside",
				"description": "Every probe of {{ $labels.instance }} ({{ $labels.job }}) through the public address has failed for " + probeWords +
					": no answer, a status other than 2xx, or a certificate the prober does not trust. Users see the same.",
			},
		},
		{
			Alert: "TaskAPIRedisMemoryHigh",
			Expr: fmt.Sprintf("(redis_memory_used_bytes / (redis_memory_max_bytes > 0) > %s)\nor\n"+
				"(redis_memory_used_bytes / redis_total_system_memory_bytes > %s and on (job, instance) redis_memory_max_bytes == 0)",
				number(redisMaxShare), number(redisHostShare)),
			For: redisFor, Labels: severity(Ticket),
			Annotations: map[string]string{
				"summary": "{{ $labels.instance }}: Redis holds {{ $value | humanizePercentage }} of the memory it may use",
				"description": fmt.Sprintf("Redis {{ $labels.instance }} ({{ $labels.job }}) has used {{ $value | humanizePercentage }} of its maxmemory (or, with maxmemory 0, of the host's memory) for %s "+
					"(the alert: over %s%% of maxmemory, or over %s%% of the host's memory when maxmemory is 0). "+
					"At maxmemory Redis refuses writes, or evicts keys if a policy allows it.",
					redisWords, number(100*redisMaxShare), number(100*redisHostShare)),
			},
		},
		{
			Alert: "TaskAPIMongoReplicationLag",
			Expr:  fmt.Sprintf("mongodb_mongod_replset_member_replication_lag > %d", mongoLagSeconds),
			For:   mongoLagFor, Labels: severity(Ticket),
			Annotations: map[string]string{
				"summary": "MongoDB member {{ $labels.name }} trails the primary by {{ $value | humanizeDuration }}",
				"description": fmt.Sprintf("{{ $labels.name }} ({{ $labels.state }} of {{ $labels.set }}) has trailed the primary by over %d seconds for %s. "+
					"Writes acknowledged by a majority wait for it, and an election could make a member primary without the latest writes.",
					mongoLagSeconds, mongoLagWords),
			},
		},
		{
			Alert: "TaskAPIExporterDown",
			Expr:  fmt.Sprintf(`up{job=~"%s"} == 0`, strings.Join(ExporterJobs, "|")),
			For:   exporterFor, Labels: severity(Ticket),
			Annotations: map[string]string{
				"summary": "Prometheus cannot scrape {{ $labels.job }} for {{ $labels.instance }}",
				"description": "The scrape of {{ $labels.instance }} (job {{ $labels.job }}) has failed for " + exporterWords +
					": the exporter is down or out of reach, and the alerts on what it sees (probes, Redis memory, replication lag) are silent meanwhile.",
			},
		},
	}}
}
