// Package compare decides whether a load run regressed against a baseline,
// telling a real change from the noise of one run to the next.
//
//	old, err := record.Decode(baselineFile)
//	...
//	rep, err := compare.Compare(old, cur) // cur: this run's *record.Recorder
//	...
//	rep.WriteText(os.Stdout)
//	if rep.Verdict == compare.Regression { os.Exit(1) }
//
// It compares the corrected latency percentile (p95 by default) and the
// error rate, over the whole run and for each record.Key both runs have.
// Each comparison gets a confidence interval of new-old and a verdict:
//
//	Regression    the interval lies above 0 and the estimate exceeds the
//	              threshold: for latency the larger of MinEffect (10% of
//	              the baseline) and MinAbsolute (1ms), so that 0.2ms
//	              against 0.3ms is no "50% regression"; for the error rate
//	              MinRateEffect (half a percentage point)
//	Improvement   the same, below 0
//	NoChange      the whole interval lies within ±threshold: any change is,
//	              with confidence, too small to matter (an equivalence
//	              test, so a tiny but certain change is no change)
//	Inconclusive  anything else: too noisy or too few data to tell, or a
//	              run with too few intervals or samples (the reason says)
//
// The report's verdict is Regression if any row regressed, else
// Inconclusive if any row is, else Improvement if any row improved, else
// NoChange.
//
// # Why a bootstrap of the time series
//
// Two runs of the same build differ: a p95 is one number from one run, and
// a 5% difference may be noise or not. Comparing the numbers against a
// fixed tolerance either flags noise or misses regressions; the noise has
// to be measured. Latency samples are not independent, though: a GC pause,
// a slow disk or a noisy neighbour slows every request of a few seconds,
// so a run holds fewer independent observations than requests, and an
// interval that treats requests as independent is too narrow (it calls
// noise a regression).
//
// The time series of package record keeps one histogram per second. Compare
// resamples each run's non-empty intervals with replacement in blocks of
// √n consecutive intervals (a circular block bootstrap: a block that runs
// past the end wraps around), merges the drawn intervals' histograms and
// takes the percentile and the failure rate of the merged whole. Blocks
// keep the correlation of neighbouring seconds inside them, so the spread
// of the resamples includes it. Two independent resamples, one per run,
// give one replicate of new-old; the percentiles of Resamples replicates
// bound the interval (a percentile bootstrap). Runs with fewer than 5
// non-empty intervals are inconclusive.
//
// Three adjustments keep the interval honest where the plain method is not:
//
//   - With few blocks a spread is poorly measured and its tails are thin:
//     the interval is widened as Student's t with blocks-1 degrees of
//     freedom would widen it (×3.9 at 5 intervals, ×1.37 at 40, ×1.11 at
//     300).
//   - With few blocks the block bootstrap can also come out narrower than
//     independent samples allow; the wider of the two is used.
//   - An error rate is resampled as n requests failing with probability
//     (failures+½)/(n+1): a run without failures would otherwise never
//     resample one and call 0 of 50 against 0 of 50 certain.
//
// # Keys
//
// The series is not broken down by Key, so a Key's interval comes from its
// run-wide histogram, resampled as independent requests: the p-th
// percentile of n requests drawn with replacement is the histogram's
// quantile function at the rank-th smallest of n uniforms, which follows a
// Beta distribution, so one Beta variate gives one replicate exactly,
// whatever n (no values are drawn, so none need capping). Independent
// requests miss the noise of time, so each replicate gets the run-wide
// excess added: a normal deviate with the variance by which the run-wide
// block bootstrap exceeded the independent-requests one. It is added
// rather than multiplied because a slow spell slows every Key alike: its
// share of a Key's percentile does not shrink with the Key's share of the
// requests. Latency spells are taken as proportional to the latency, error
// bursts as absolute. The report prints both excesses.
//
// # Limits
//
// A run only shows the noise within itself. What changes between runs but
// not within one (another machine, a warmer cache, a fluctuation slower
// than the run) is invisible to it. RunNoise adds it where it has been
// measured (harness calibrate: pairs of runs of one build differ by their
// own intervals plus twice its variance); otherwise MinEffect and
// MinAbsolute are the margin for it, and runs long against the system's
// slow fluctuations make the interval trustworthy. Measured on synthetic pairs of identical runs
// (100 pairs each, default options), the run-wide p95 was called changed
//
//	0%   40s at 300 requests/s, independent latencies (any row: 0%)
//	3%   20s at 30 requests/s, independent latencies (any row: 4%)
//	0%   300s, latency ±30% in 3s spells
//	5%   60s, latency ±30% in 5s spells (any row: 8%)
//	8%   300s, latency ±30% in 10s spells (any row: 13%)
//	12%  60s, latency ±30% in 10s spells (any row: 17%)
//
// where 95% confidence promises about 5%; and a +12% shift at 40s/300 was
// called a regression in 82% of pairs, +15% in all. Each row is tested at
// Confidence on its own, so the more Keys, the likelier one of them
// crosses by chance: "any row" is what the report's verdict sees.
//
// The run-wide percentile is computed from the interval histograms (1%
// precision by default), a Key's from its run-wide histogram (0.1%); both
// report a bucket's highest equivalent value, as record does. Compare needs
// recorders of the same options (record.Recorder.Compatible); a baseline
// is kept as a file with record's Encode and read back with Decode.
// Results are deterministic: the same runs, options and Seed give the same
// report.
package compare
