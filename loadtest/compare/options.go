package compare

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// Defaults of the options.
const (
	// DefaultPercentile is the latency percentile compared.
	DefaultPercentile = 95
	// DefaultMinEffect is the smallest relative latency change that counts.
	DefaultMinEffect = 0.10
	// DefaultMinAbsolute is the smallest absolute latency change that counts.
	DefaultMinAbsolute = time.Millisecond
	// DefaultMinRateEffect is the smallest error-rate change that counts, in
	// absolute terms (0.005 is half a percentage point).
	DefaultMinRateEffect = 0.005
	// DefaultConfidence is the level of the confidence intervals.
	DefaultConfidence = 0.95
	// DefaultResamples is the number of bootstrap resamples per comparison.
	DefaultResamples = 2000
)

// Option configures Compare.
type Option func(*config)

type config struct {
	percentile    float64
	minEffect     float64
	minAbsolute   time.Duration
	minRateEffect float64
	confidence    float64
	resamples     int
	seed          uint64
	runNoise      float64
}

func defaultConfig() config {
	return config{
		percentile:    DefaultPercentile,
		minEffect:     DefaultMinEffect,
		minAbsolute:   DefaultMinAbsolute,
		minRateEffect: DefaultMinRateEffect,
		confidence:    DefaultConfidence,
		resamples:     DefaultResamples,
	}
}

// Percentile sets the latency percentile compared, within (0, 100) (default 95).
func Percentile(p float64) Option { return func(c *config) { c.percentile = p } }

// MinEffect sets the smallest relative latency change, as a fraction of the
// baseline, that can be a regression or an improvement (default 0.10).
func MinEffect(rel float64) Option { return func(c *config) { c.minEffect = rel } }

// MinAbsolute sets the smallest absolute latency change that can be a
// regression or an improvement (default 1ms), so that 0.2ms against 0.3ms is
// not a 50% regression.
func MinAbsolute(d time.Duration) Option { return func(c *config) { c.minAbsolute = d } }

// MinRateEffect sets the smallest change of the error rate, as an absolute
// fraction of requests, that can be a regression or an improvement (default
// 0.005).
func MinRateEffect(abs float64) Option { return func(c *config) { c.minRateEffect = abs } }

// Confidence sets the level of the confidence intervals, within (0, 1)
// (default 0.95).
func Confidence(level float64) Option { return func(c *config) { c.confidence = level } }

// Resamples sets the number of bootstrap resamples (default 2000).
func Resamples(n int) Option { return func(c *config) { c.resamples = n } }

// RunNoise sets how much a run's latency percentile varies from one run
// of the same build to the next beyond what its own series shows, as a
// relative standard deviation (default 0): a machine slower for minutes,
// a fresh environment's luck. No run can see it in itself; harness
// calibrate measures it from pairs of runs of one build. Each latency
// row's interval then widens by it, both runs' worth.
func RunNoise(rel float64) Option { return func(c *config) { c.runNoise = rel } }

// Seed sets the seed of the resampling (default 0): the same runs, options
// and seed always give the same report.
func Seed(s uint64) Option { return func(c *config) { c.seed = s } }

// minTail is the number of resamples each tail of a confidence interval
// must hold: the interval's bounds are order statistics of the resamples,
// and fewer would make them mostly noise.
const minTail = 5

func (c config) validate() error {
	switch {
	case !(c.percentile > 0 && c.percentile < 100): // also rejects NaN
		return fmt.Errorf("compare: percentile %g is not within (0, 100)", c.percentile)
	case !(c.minEffect >= 0) || math.IsInf(c.minEffect, 0):
		return fmt.Errorf("compare: minimum effect %g is not a non-negative number", c.minEffect)
	case c.minAbsolute < 0:
		return fmt.Errorf("compare: minimum absolute change %s is negative", c.minAbsolute)
	case !(c.minRateEffect >= 0 && c.minRateEffect < 1):
		return fmt.Errorf("compare: minimum error-rate change %g is not within [0, 1)", c.minRateEffect)
	case !(c.confidence > 0 && c.confidence < 1):
		return fmt.Errorf("compare: confidence %g is not within (0, 1)", c.confidence)
	case !(c.runNoise >= 0 && c.runNoise < 1):
		return fmt.Errorf("compare: run-to-run noise %g is not within [0, 1)", c.runNoise)
	}
	if need := int(math.Ceil(2 * minTail / (1 - c.confidence))); c.resamples < need {
		return fmt.Errorf("compare: %d resamples are too few for %g confidence: at least %d", c.resamples, c.confidence, need)
	}
	return nil
}

// rng returns the random stream of one use of resampling. Deriving it from
// the seed and the use's name, rather than sharing one stream, keeps a row's
// numbers the same whichever other rows the runs have.
func (c config) rng(name ...string) *rand.Rand {
	h := fnv.New64a()
	for _, s := range name {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	return rand.New(rand.NewPCG(c.seed, h.Sum64()))
}

var errNilRecorder = errors.New("compare: nil recorder")
