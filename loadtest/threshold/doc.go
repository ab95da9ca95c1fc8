// Package threshold parses, validates and evaluates k6-compatible threshold
// definitions: the pass/fail gates of a load test.
//
// A threshold is written as k6 writes it, a metric selector mapped to a list
// of expressions:
//
//	thresholds:
//	  http_req_duration{endpoint:list}: ["p(95)<300", "avg<200"]
//	  http_req_failed: ["rate<0.01"]
//	  http_req_duration{phase:spike}:
//	    - threshold: "p(99)<1000"
//	      abortOnFail: true
//	      delayAbortEval: 10s
//
// ParseSelector reads the key, ParseExpression one expression, and Parse one
// list item (a string or an object) into a Threshold. Evaluate, or
// Expression.Holds, checks a threshold against aggregated statistics provided
// through the small Stats interface, and a Verdict prints as one line:
//
//	✓ http_req_duration{endpoint:list} p(95)<300  observed 212.4
//
// # Grammar
//
// Selectors (threshold keys):
//
//	selector = metric [ "{" tag { "," tag } "}" ]
//	metric   = ( letter | "_" ) { letter | digit | "_" }    ASCII, 1 to 128 characters
//	tag      = ws key ws ":" ws value ws
//	key      = bare | quoted                               no ":" in keys
//	value    = bare | quoted                               ":" allowed (amazon:us:ashburn)
//	bare     = characters other than , { } " ' and control characters;
//	           surrounding whitespace is trimmed, inner whitespace kept
//	quoted   = `"` { char but `"` , { } } `"` | "'" { char but ' , { } } "'"
//
// As in k6, whitespace is allowed around tag keys and values but not in or
// around the metric name, and quotes around a key or value are removed.
// Tags are kept sorted by key; Selector.String writes the canonical form,
// http_req_duration{endpoint:list,phase:spike}, quoting a key or value only
// when it starts or ends with whitespace or holds a quote character. Empty metric names, keys or values,
// duplicate keys, "{}" and unbalanced braces are errors.
//
// Expressions:
//
//	expression  = ws aggregation ws operator ws number ws
//	aggregation = "avg" | "min" | "med" | "max" | "p" ws "(" ws number ws ")"
//	            | "count" | "rate" | "value"
//	operator    = "<" | "<=" | ">" | ">=" | "==" | "===" | "!="
//	number      = [ "+" | "-" ] ( digits [ "." [ digits ] ] | "." digits )
//	              [ ( "e" | "E" ) [ "+" | "-" ] digits ]
//
// The aggregations a metric supports depend on its k6 type: trends (such as
// http_req_duration) avg, min, med, max and p(N); counters (iterations,
// http_reqs, dropped_iterations) count and rate; rates (checks,
// http_req_failed) rate; gauges (vus) value. Parse checks this for the k6
// built-in metrics; custom metrics are not checked. A percentile must be
// greater than 0 and at most 100 (k6 also accepts p(0); write min instead).
// Values are plain numbers: k6 thresholds carry no units (trend metrics are
// in milliseconds, rates are fractions), so "300ms", "1s" or "1%" are
// rejected with a message saying so; NaN and infinities are rejected too.
// Expression.String writes the canonical form, p(95)<300, which k6 accepts.
//
// Every syntax error is a *SyntaxError naming the column (counted in
// characters, from 1) and what is wrong there; unknown aggregations such as
// p95 or average come with a "did you mean".
//
// # Missing data
//
// Stats.Value reports ok=false when a statistic is undefined because the
// metric has no samples: the average or a percentile of an empty trend, the
// rate of an empty rate metric. Following k6, such a threshold does not
// fail: k6 skips metrics without samples while the test runs, and at the
// end counts a rate it cannot compute as passed (grafana/k6#4283). Holds
// then returns true with a NaN observed value, and the Verdict says
// "no data" rather than showing a number. A counter without samples is not
// missing data: its count is 0, and Stats should say so, as k6 does.
// (At the end of a run k6 also compares an empty trend as if every
// statistic were 0, so min>0 fails there; here it passes as no data.)
//
// # Concurrency
//
// All functions are safe for concurrent use. Selector, Expression,
// Threshold and Verdict are values that nothing in this package mutates
// after parsing; share them freely. Holds and Evaluate are as safe for
// concurrent use as the Stats implementation they are given.
package threshold
