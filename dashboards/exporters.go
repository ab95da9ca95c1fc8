package dashboards

// The panels on what the compose stack's exporters see: the API from
// outside through its public address (the blackbox exporter), Redis
// (redis_exporter) and the replica set (Percona's MongoDB exporter). They
// read the exporters' own metric names, not the API's, and so take no
// instance or route variable.

// mongoExporterNote is why `harness dashboards verify` leaves the MongoDB
// exporter's panels out: see unverified.
const mongoExporterNote = "no MongoDB exporter runs against the verification's stores: Debian's (a 2018 snapshot on the mgo driver) speaks a handshake that FerretDB and MongoDB 6+ refuse, " +
	"and Percona's runs from its image in the compose stack; alerts/testdata/mongodb-exporter.prom holds the series these panels read"

// unverified are the panels of the service dashboard that a verification
// run cannot show data on, by title, and why: VerifyRun reports them as
// excluded rather than failed.
var unverified = map[string]string{
	titleMongoExporter:       mongoExporterNote,
	titleMongoReplicationLag: mongoExporterNote,
}

const (
	titleMongoExporter       = "MongoDB (exporter)"
	titleMongoReplicationLag = "MongoDB replication lag"
)

func probeSuccess() *dashboardPanel {
	return graph("Probe success", "1 while the blackbox exporter's GET of the URL through the public address answers 2xx over a certificate it trusts; 0 is what users see too. TaskAPIProbeFailed pages after 2 minutes of 0.", "short").
		Min(0).Max(1).
		WithTarget(query(`min by (instance) (probe_success)`, "{{instance}}"))
}

func probeDuration() *dashboardPanel {
	return graph("Probe duration", "How long each probe took from outside, connection and TLS handshake included.", "s").
		WithTarget(query(`max by (instance) (probe_duration_seconds)`, "{{instance}}"))
}

// The limit is maxmemory, or the host's memory while maxmemory is 0: what
// TaskAPIRedisMemoryHigh compares with.
func redisMemory() *dashboardPanel {
	return graph("Redis memory", "Memory each Redis node uses, and its limit: maxmemory, or the host's memory while maxmemory is 0 (unbounded). TaskAPIRedisMemoryHigh fires at 90% of maxmemory, or 80% of the host's.", "bytes").
		WithTarget(query(`sum by (instance) (redis_memory_used_bytes)`, "used {{instance}}")).
		WithTarget(query(`sum by (instance) ((redis_memory_max_bytes > 0) or on (instance) redis_total_system_memory_bytes)`, "limit {{instance}}"))
}

func redisServer() *dashboardPanel {
	return graph("Redis clients and commands", "Clients connected to each node, and the commands it processes per second (every client's, the API's and Sentinel's).", "short").
		WithTarget(query(`sum by (instance) (redis_connected_clients)`, "clients {{instance}}")).
		WithTarget(query(`sum by (instance) (rate(redis_commands_processed_total[$__rate_interval]))`, "commands/s {{instance}}"))
}

func mongoExporter() *dashboardPanel {
	return graph(titleMongoExporter, "1 while the exporter reaches MongoDB; the connections the server has open (every client's).", "short").
		WithTarget(query(`min by (instance) (mongodb_up)`, "up {{instance}}")).
		WithTarget(query(`sum by (instance) (mongodb_connections{state="current"})`, "connections {{instance}}"))
}

func mongoReplicationLag() *dashboardPanel {
	return graph(titleMongoReplicationLag, "How far each secondary trails the primary. TaskAPIMongoReplicationLag fires after 2 minutes over 10s.", "s").
		Min(0).
		Thresholds(steps("green", 10.0, "red")).
		ThresholdsStyle(dashedThresholds()).
		WithTarget(query(`max by (name) (mongodb_mongod_replset_member_replication_lag)`, "{{name}}"))
}
