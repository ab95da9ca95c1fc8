package record

// The Prometheus series the harness exports while a run goes on (package
// engine registers them, package dashboards queries them): named here,
// beside the k6 metrics they mirror, so a rename reaches both.
const (
	// SeriesTargetRate is a gauge: the iterations per second the
	// open-model schedule calls for now, by scenario.
	SeriesTargetRate = "taskready_load_target_rate"
	// SeriesRequests is a counter of completed requests, by scenario,
	// endpoint, phase and status: MetricReqs, and MetricFailed by status.
	SeriesRequests = "taskready_load_requests_total"
	// SeriesRequestDuration is a histogram of MetricDuration, in seconds.
	SeriesRequestDuration = "taskready_load_request_duration_seconds"
	// SeriesPhase is 1 for the phase each scenario is in now.
	SeriesPhase = "taskready_load_phase"
	// SeriesGeneratorCPU is the harness's CPU as a share of all cores.
	SeriesGeneratorCPU = "taskready_load_generator_cpu_ratio"
	// SeriesThresholdBound is the bound of each threshold, by metric and
	// expression.
	SeriesThresholdBound = "taskready_load_threshold_bound"
	// SeriesIterations is a counter of MetricIterations, by scenario.
	SeriesIterations = "taskready_load_iterations_total"
	// SeriesDroppedIterations is a counter of dropped open-model
	// iterations, by scenario.
	SeriesDroppedIterations = "taskready_load_dropped_iterations_total"
	// SeriesFaultActive is 1 while a scenario's fault is active, by
	// fault, target and action.
	SeriesFaultActive = "taskready_load_fault_active"
)
