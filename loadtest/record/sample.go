package record

import "time"

// Sample is one finished request as the engine reports it.
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
	// Intended is when the request should have started by the open-model
	// schedule. The zero time means "no schedule": the request started when
	// it was meant to (closed model).
	Intended time.Time
	// Start is when the request actually started.
	Start time.Time
	// Latency is the time from Start to the last byte of the response.
	Latency time.Duration
	// BytesIn and BytesOut are the response and request sizes.
	BytesIn, BytesOut int64
	// CheckPassed tells whether the step's check passed; nil when the step
	// has no check.
	CheckPassed *bool
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
