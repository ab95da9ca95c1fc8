// Package bench measures the load engine the way a sceptic would: against
// a server nobody here wrote, beside the tools its users would pick
// instead, on a quiet machine and then on a crowded one.
//
// The target is Debian's nginx, one process with a private configuration
// in a temporary directory, answering every request with a static JSON
// body on a free loopback port. The peers are wrk, bombardier and the
// vegeta CLI (both built from the Go module proxy at fixed versions), and
// k6 when it is installed. Every tool, the engine included, runs in a
// process of its own, so each one's CPU per request is its own rusage and
// none shares the benchmark's Go runtime.
//
// The closed model gives every tool the same connections (VUs) and
// duration, in turns: the tools alternate, three rounds, in an order that
// rotates each round, so a machine whose speed drifts over minutes
// treats them alike; the median round is reported, as a ratio to wrk's.
// The open model sends fixed rates (1,000, 5,000, 12,000/s and half the
// engine's own closed-model maximum) with vegeta, the engine and k6, and
// reports the achieved rate, what was dropped, the latency percentiles,
// the engine's verdict on itself, and the engine's dispatch bias: its
// median latency timed from the scheduled start minus that timed from the
// actual send.
//
// Everything runs twice: quiet, then beside a crowding the benchmark
// starts and stops itself (one busy loop per core and a process copying
// buffers far larger than the caches), with the load average printed
// beside every table. Goals are printed beside the results; missing one is
// a finding, not a failure: Run returns an error only when the rig could
// not measure.
//
// Every process the benchmark starts is bounded in time, runs in a process
// group of its own and is killed when the benchmark returns; on Linux the
// kernel also kills it should the benchmark die first. Traffic goes only
// to the nginx on loopback.
package bench
