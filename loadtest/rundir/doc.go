// Package rundir writes and reads a run directory: what one run leaves
// behind. A run directory holds the run's summary (summary.json), its
// histograms (histograms/run.json), which harness compare and harness
// merge read back, and one file per report format of the registry
// (Formats). The report writers themselves live in loadtest/report; this
// package decides which of them a run directory holds and under which
// names, so that run, merge and k6 import leave the same files behind.
//
// A Run is also where a run's outcome is assembled before it is written:
// the summary as the engine, a merge or an import built it, a comparison
// with a baseline (Run.Compare), and the one decision on all of it, which
// Run.Write makes before it writes.
package rundir
