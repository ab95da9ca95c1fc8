package render

import (
	"math"
	"strconv"
	"strings"
)

// Trim formats v with at most prec decimals and no trailing zeros ("1.5",
// "12", "0"), and "n/a" for NaN and ±Inf.
func Trim(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.ContainsRune(s, '.') {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// NiceScale is an axis for values up to top in about n ticks: a step of
// 1, 2, 2.5 or 5 times a power of ten, and the top of the axis, the first
// multiple of it at or above top (1 when top is not a positive number).
func NiceScale(top float64, n int) (step, nice float64) {
	if math.IsNaN(top) || math.IsInf(top, 0) || top <= 0 {
		top = 1
	}
	raw := top / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	return step, math.Ceil(top/step-1e-9) * step
}
