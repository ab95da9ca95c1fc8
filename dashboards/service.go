package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// sel is the label selector every service query shares: the instance and
// route variables.
const sel = `instance=~"$instance", route=~"$route"`

// serviceTitle is the service dashboard's title, which findings name.
const serviceTitle = "Task API"

// Service is the dashboard of the task API: traffic, errors and latency
// by route, limits and cache, the stores' pools and commands, what the
// exporters see (probes from outside, Redis, MongoDB), the Go runtime;
// with instance and route variables.
func Service() *dashboard.DashboardBuilder {
	return board("taskready-service", serviceTitle, "What the API's /metrics say: RED by route, limits, cache, MongoDB and Redis, the Go runtime; and what the exporters see: probes through the public address, Redis, MongoDB.").
		Tags([]string{"taskready", "service"}).
		WithVariable(datasourceVariable()).
		WithVariable(labelVariable("instance", "Instance", `label_values(taskapi_http_requests_total, instance)`)).
		WithVariable(labelVariable("route", "Route", `label_values(taskapi_http_requests_total{instance=~"$instance"}, route)`)).
		WithRow(row("Alerts")).
		WithPanel(firingAlerts()).
		WithRow(row("Traffic")).
		WithPanel(requestRate()).
		WithPanel(errorRatio()).
		WithPanel(latencyByRoute()).
		WithPanel(statusClasses()).
		WithPanel(inFlight()).
		WithPanel(rateLimitRejections()).
		WithRow(row("Overload")).
		WithPanel(admissionLimits()).
		WithPanel(admissionShed()).
		WithPanel(connections()).
		WithRow(row("Cache and stores")).
		WithPanel(cacheHitRatio()).
		WithPanel(mongoPool()).
		WithPanel(mongoCommandLatency()).
		WithPanel(mongoCommands()).
		WithPanel(redisPool()).
		WithPanel(redisCommandLatency()).
		WithPanel(redisCommands()).
		WithPanel(redisAvailable()).
		WithRow(row("From the exporters: uptime, Redis, MongoDB")).
		WithPanel(probeSuccess()).
		WithPanel(probeDuration()).
		WithPanel(redisMemory()).
		WithPanel(redisServer()).
		WithPanel(mongoExporter()).
		WithPanel(mongoReplicationLag()).
		WithRow(row("Go runtime")).
		WithPanel(goroutines()).
		WithPanel(memory()).
		WithPanel(cpu()).
		WithPanel(gcPauses())
}

// board is a dashboard with the settings every one here shares.
func board(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Editable().
		Refresh("5s").
		Time("now-15m", "now").
		Timezone("browser").
		Tooltip(dashboard.DashboardCursorSyncCrosshair)
}

// labelVariable is a multi-value variable over a label's values, "All"
// by default.
func labelVariable(name, label, q string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(datasource).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(all)
}

// firingAlerts is every alert firing now, one row each, from Prometheus's
// ALERTS series: the rules of deploy/prometheus/alerts.yml (harness alerts
// generate). The watchdog, which always fires, keeps the table from ever
// being empty while the rules run: an empty one means they do not.
func firingAlerts() *table.PanelBuilder {
	return table.NewPanelBuilder().
		Title("Firing alerts").
		Description("Alerts firing now, with their severity (page or ticket) and what they concern. Each has a section in docs/runbook.md (its runbook_url). " +
			"TaskAPIWatchdog always fires while Prometheus evaluates the rules: if it is missing, alerting is down.").
		Datasource(datasource).
		Span(24).
		Height(7).
		WithTarget(query(`ALERTS{alertstate="firing"}`, "").Format("table").Instant()).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]bool{"Time": true, "Value": true, "__name__": true, "alertstate": true},
			"indexByName":   map[string]int{"severity": 0, "alertname": 1, "slo": 2, "job": 3, "instance": 4},
		}}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("alertname")}).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"count"}))
}

func requestRate() *dashboardPanel {
	return graph("Requests per second by route", "Every answered request, by route template.", "reqps").
		WithTarget(query(`sum by (route) (rate(taskapi_http_requests_total{`+sel+`}[$__rate_interval]))`, "{{route}}"))
}

func errorRatio() *dashboardPanel {
	// "or on() vector(0)": no 5xx at all is a ratio of 0, not a gap.
	return graph("Server error ratio", "Share of requests answered 5xx. The API's budget is 1%.", "percentunit").
		Min(0).
		Thresholds(steps("green", 0.01, "red")).
		ThresholdsStyle(dashedThresholds()).
		WithTarget(query(`(sum(rate(taskapi_http_requests_total{`+sel+`, status_class="5xx"}[$__rate_interval])) or on() vector(0))
  / sum(rate(taskapi_http_requests_total{`+sel+`}[$__rate_interval]))`, "5xx ratio"))
}

func latencyByRoute() *dashboardPanel {
	p := graph("Latency by route (p50, p95, p99)", "From the request duration histogram, per route template.", "s")
	for _, q := range []struct{ q, name string }{{"0.5", "p50"}, {"0.95", "p95"}, {"0.99", "p99"}} {
		p.WithTarget(query(`histogram_quantile(`+q.q+`, sum by (le, route) (rate(taskapi_http_request_duration_seconds_bucket{`+sel+`}[$__rate_interval])))`, q.name+" {{route}}"))
	}
	return p
}

func statusClasses() *dashboardPanel {
	return graph("Responses by status class", "2xx, 4xx (clients' mistakes, rate limits) and 5xx (ours).", "reqps").
		WithTarget(query(`sum by (status_class) (rate(taskapi_http_requests_total{`+sel+`}[$__rate_interval]))`, "{{status_class}}"))
}

func inFlight() *dashboardPanel {
	return graph("Requests in flight", "Requests being served at scrape time, per instance.", "short").
		WithTarget(query(`sum by (instance) (taskapi_http_requests_in_flight{instance=~"$instance"})`, "{{instance}}"))
}

func rateLimitRejections() *dashboardPanel {
	return graph("Rate-limit rejections", "429s by limiter (auth, api), and requests counted by the per-instance fallback while Redis was away.", "reqps").
		WithTarget(query(`sum by (limiter) (rate(taskapi_ratelimit_rejections_total{instance=~"$instance"}[$__rate_interval]))`, "rejected {{limiter}}")).
		WithTarget(query(`sum by (limiter) (rate(taskapi_ratelimit_fallback_total{instance=~"$instance"}[$__rate_interval]))`, "fallback {{limiter}}"))
}

func admissionLimits() *dashboardPanel {
	return graph("Admission limits", "Requests each limiter (store, hash) admits at once now, its ceiling, and requests queued for a slot. A limit well under its ceiling means the limiter backed off because answers were getting slow.", "short").
		WithTarget(query(`min by (limiter) (taskapi_admission_limit{instance=~"$instance"})`, "limit {{limiter}}")).
		WithTarget(query(`max by (limiter) (taskapi_admission_ceiling{instance=~"$instance"})`, "ceiling {{limiter}}")).
		WithTarget(query(`sum by (limiter) (taskapi_admission_queued{instance=~"$instance"})`, "queued {{limiter}}"))
}

// The shed and accept-error counters are labelled and so absent until the
// first event; "or on() vector(0)" draws the calm as a zero, not a gap.
func admissionShed() *dashboardPanel {
	return graph("Load shed", "Requests refused with 503 and Retry-After by admission (queue full, deadline too near, client gone) and connections refused at MAX_CONNECTIONS. Anything above zero is the API protecting itself from more work than it can finish in time.", "reqps").
		WithTarget(query(`sum(rate(taskapi_admission_rejected_total{instance=~"$instance"}[$__rate_interval])) or on() vector(0)`, "shed by admission")).
		WithTarget(query(`sum(rate(taskapi_connections_refused_total{instance=~"$instance"}[$__rate_interval]))`, "connections refused"))
}

func connections() *dashboardPanel {
	return graph("Client connections", "Connections open per instance; read timeouts (idle or slow clients) and temporary accept errors (file descriptors exhausted) per second.", "short").
		WithTarget(query(`sum by (instance) (taskapi_connections_open{instance=~"$instance"})`, "open {{instance}}")).
		WithTarget(query(`sum(rate(taskapi_connection_timeouts_total{instance=~"$instance"}[$__rate_interval]))`, "timeouts/s")).
		WithTarget(query(`sum(rate(taskapi_accept_errors_total{instance=~"$instance"}[$__rate_interval])) or on() vector(0)`, "accept errors/s"))
}

func cacheHitRatio() *dashboardPanel {
	return graph("Profile cache hit ratio", "Hits over lookups of the profile cache; errors are lookups Redis did not answer.", "percentunit").
		Min(0).Max(1).
		WithTarget(query(`sum(rate(taskapi_cache_requests_total{instance=~"$instance", result="hit"}[$__rate_interval]))
  / sum(rate(taskapi_cache_requests_total{instance=~"$instance"}[$__rate_interval]))`, "hit ratio")).
		WithTarget(query(`sum by (result) (rate(taskapi_cache_requests_total{instance=~"$instance", result!="hit"}[$__rate_interval]))`, "{{result}} /s"))
}

func mongoPool() *dashboardPanel {
	return graph("MongoDB pool", "Connections open and checked out, per instance; checkout wait p95.", "short").
		WithTarget(query(`sum by (instance) (taskapi_mongo_pool_connections_open{instance=~"$instance"})`, "open {{instance}}")).
		WithTarget(query(`sum by (instance) (taskapi_mongo_pool_connections_in_use{instance=~"$instance"})`, "in use {{instance}}"))
}

func mongoCommandLatency() *dashboardPanel {
	return graph("MongoDB command latency (p95)", "Round trip of each command, from the driver's command monitor.", "s").
		WithTarget(query(`histogram_quantile(0.95, sum by (le, command) (rate(taskapi_mongo_command_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`, "{{command}}")).
		WithTarget(query(`histogram_quantile(0.95, sum by (le) (rate(taskapi_mongo_pool_checkout_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`, "pool checkout"))
}

func mongoCommands() *dashboardPanel {
	return graph("MongoDB commands", "Commands per second by name and outcome.", "ops").
		WithTarget(query(`sum by (command, outcome) (rate(taskapi_mongo_commands_total{instance=~"$instance"}[$__rate_interval]))`, "{{command}} {{outcome}}"))
}

func redisPool() *dashboardPanel {
	return graph("Redis pool", "Connections in the pool and idle; pool misses mean a request had to dial.", "short").
		WithTarget(query(`sum by (instance) (taskapi_redis_pool_connections{instance=~"$instance"})`, "total {{instance}}")).
		WithTarget(query(`sum by (instance) (taskapi_redis_pool_connections_idle{instance=~"$instance"})`, "idle {{instance}}")).
		WithTarget(query(`sum by (instance) (rate(taskapi_redis_pool_misses_total{instance=~"$instance"}[$__rate_interval]))`, "misses/s {{instance}}"))
}

func redisCommandLatency() *dashboardPanel {
	return graph("Redis command latency (p95)", "Round trip of each command the API sends (cache get/set/del, the rate limiter's script), from a go-redis hook.", "s").
		WithTarget(query(`histogram_quantile(0.95, sum by (le, command) (rate(taskapi_redis_command_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`, "{{command}}"))
}

func redisCommands() *dashboardPanel {
	return graph("Redis commands", "Commands per second by name and outcome; nil is a cache miss, error a failed round trip.", "ops").
		WithTarget(query(`sum by (command, outcome) (rate(taskapi_redis_commands_total{instance=~"$instance"}[$__rate_interval]))`, "{{command}} {{outcome}}"))
}

func redisAvailable() *dashboardPanel {
	return graph("Redis available", "1 while the circuit breaker to Redis is closed; 0 means the API serves without cache and with per-instance limits.", "short").
		Min(0).Max(1).
		WithTarget(query(`min by (instance) (taskapi_redis_available{instance=~"$instance"})`, "{{instance}}"))
}

// api keeps only the series of processes that are task APIs: the runtime
// metrics carry no job a dashboard can rely on (compose, Kubernetes and
// the harness each name theirs), but only an API has in-flight requests.
const api = ` and on (instance) taskapi_http_requests_in_flight`

func goroutines() *dashboardPanel {
	return graph("Goroutines", "A count that only grows is a leak.", "short").
		WithTarget(query(`sum by (instance) (go_goroutines{instance=~"$instance"}`+api+`)`, "{{instance}}"))
}

func memory() *dashboardPanel {
	return graph("Memory", "Resident set and Go heap in use, per instance.", "bytes").
		WithTarget(query(`sum by (instance) (process_resident_memory_bytes{instance=~"$instance"}`+api+`)`, "RSS {{instance}}")).
		WithTarget(query(`sum by (instance) (go_memstats_heap_inuse_bytes{instance=~"$instance"}`+api+`)`, "heap {{instance}}"))
}

func cpu() *dashboardPanel {
	return graph("CPU", "Cores used per instance.", "short").
		WithTarget(query(`sum by (instance) (rate(process_cpu_seconds_total{instance=~"$instance"}[$__rate_interval])`+api+`)`, "{{instance}}"))
}

func gcPauses() *dashboardPanel {
	return graph("GC pauses", "The longest stop-the-world pause, per instance.", "s").
		WithTarget(query(`max by (instance) (go_gc_duration_seconds{instance=~"$instance", quantile="1"}`+api+`)`, "{{instance}}"))
}
