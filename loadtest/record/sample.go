package record

import "time"

// Sample is one finished request as the engine reports it, or, with
// Iteration set, one finished iteration.
//
// Per-request failures are data: a transport error is carried in Err and a
// missing response as Status 0, so one failure never stops the stream.
type Sample struct {
	// Scenario, Journey, Step, Endpoint and Phase are the tags the request
	// ran under. A Recorder keys its histograms by Scenario, Endpoint and
	// Phase (see Key); Journey and Step are carried for other consumers.
	Scenario, Journey, Step, Endpoint, Phase string
	// Method is the HTTP method.
	Method string
	// Status is the HTTP status code, 0 when no response arrived.
	Status int
	// Err is the transport error, "" if none.
	Err string
	// Check says why the step's check failed ("status 200, want 201"),
	// "" when it passed or the step has none; see Reason.
	Check string
	// Intended is when the request should have started by the open-model
	// schedule. The zero time means "no schedule": the request started when
	// it was meant to (closed model).
	Intended time.Time
	// Start is when the request actually started.
	Start time.Time
	// Latency is the time from Start to the last byte of the response.
	Latency time.Duration
	// BytesIn and BytesOut are the answer's and the request's bytes on the
	// wire (status or request line, headers and body), when the transport
	// counts them; see package journey.
	BytesIn, BytesOut int64
	// CheckPassed tells whether the step's check passed; nil when the step
	// has no check.
	CheckPassed *bool
	// Iteration marks a sample that times a whole iteration, one journey
	// run by a VU from its start to the end of its last step's think time
	// (k6's iteration_duration), rather than one request. Intended is then
	// the iteration's scheduled start (open model; zero in the closed
	// model), Start its actual start and Latency its length from Start;
	// Scenario, Journey and Phase are its tags and the request's fields are
	// zero. A Recorder keeps iterations apart from requests: they count in
	// no request statistic (see Snapshot.SelectIterations), and in the time
	// series only as iterations.
	Iteration bool
}

// CorrectedLatency is the latency timed from Intended rather than Start:
// Start-Intended+Latency, the coordinated-omission corrected latency. A
// request that left on time (or early, or that has no Intended time) has a
// corrected latency equal to its Latency.
//
// Like the rest of the package it reads wall-clock time (UnixNano), which
// is what survives encoding and what distributed workers share.
func (s Sample) CorrectedLatency() time.Duration {
	return s.corrected(s.Start.UnixNano())
}

// corrected is CorrectedLatency given s.Start.UnixNano().
func (s Sample) corrected(startNs int64) time.Duration {
	if s.Intended.IsZero() {
		return s.Latency
	}
	if delay := startNs - s.Intended.UnixNano(); delay > 0 {
		return time.Duration(delay) + s.Latency
	}
	return s.Latency
}

// DefaultFailed is the default rule for a failed request: a transport
// error, no response (status 0), or a status of 400 or more.
func DefaultFailed(s Sample) bool {
	return s.Err != "" || s.Status == 0 || s.Status >= 400
}
