package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// openRow is one tool at one rate of the open model.
type openRow struct {
	tool   string
	engine bool
	rate   int
	// achieved is the rate the requests started at, first to last, times
	// the share that succeeded.
	achieved float64
	// dropped: the engine's and k6's dropped iterations; vegeta's
	// requests due that it never sent.
	dropped  int64
	errors   int64
	requests int64
	// p50 and p99 are the engine's from each iteration's scheduled start,
	// the others' from the actual send; sentP50 is the engine's from the
	// actual send too.
	p50, p99, sentP50 time.Duration
	vusMax            int64 // 0 when the tool does not say
	cpu               time.Duration
	// valid is the engine's verdict on itself (nil for the others);
	// invalid lists its failed checks.
	valid   *bool
	invalid []string
}

// rateError is how far achieved is from the rate, as a signed share of
// it: negative when short.
func (r openRow) rateError() float64 { return (r.achieved - float64(r.rate)) / float64(r.rate) }

// openTable is the open model's rows, by rate, then tool.
type openTable struct {
	rows []openRow
	half int // half the engine's closed-model maximum
	bias int // the rate of the dispatch bias
}

// openTools are the tools of the open model, by name.
func (b *bench) openTools() []string {
	t := []string{"vegeta", "harness"}
	if b.peers.k6 != "" {
		t = append(t, "k6")
	}
	return t
}

// openModel runs every open-model tool at every rate, alternating which
// goes first.
func (b *bench) openModel(ctx context.Context, cond string, half int) (openTable, error) {
	t := openTable{half: half, bias: b.cfg.BiasRate}
	tools := b.openTools()
	for i, rate := range b.cfg.openRates(half) {
		for k := range tools {
			name := tools[(k+i)%len(tools)]
			b.note("%s · open · %d/s · %s for %s", cond, rate, name, b.cfg.OpenDuration)
			r, err := b.openTurn(ctx, name, rate)
			if err != nil {
				return t, fmt.Errorf("%s, open model at %d/s, %s: %w", cond, rate, name, err)
			}
			b.note("  achieved %s/s, %d dropped, p50 %s ms, p99 %s ms%s", thousands(r.achieved), r.dropped, ms(r.p50), ms(r.p99), r.verdictText())
			t.rows = append(t.rows, r)
		}
	}
	return t, nil
}

// openTurn runs the named tool at rate for OpenDuration.
func (b *bench) openTurn(ctx context.Context, tool string, rate int) (openRow, error) {
	d := b.cfg.OpenDuration
	row := openRow{tool: tool, rate: rate}
	switch tool {
	case "harness":
		r, err := b.runEngine(ctx, engineSpec{target: b.nginx.URL, vus: b.cfg.Conns, maxVUs: b.cfg.MaxVUs, rate: rate, duration: d, http: TransportFast})
		if err != nil {
			return row, err
		}
		res := r.res
		valid := res.Valid
		row.engine, row.valid, row.invalid = true, &valid, res.Invalid
		row.achieved = res.StartRate * okShare(res.Requests, res.Failures)
		row.requests, row.errors, row.dropped, row.vusMax, row.cpu = res.Requests, res.Failures, res.Dropped, res.VUsMax, r.cpu
		row.p50, row.p99, row.sentP50 = res.P50, res.P99, res.SentP50
	case "vegeta":
		// vegeta's own worker default (10, growing as needed), bounded
		// as the engine's VUs are.
		r, cpu, _, err := b.runVegeta(ctx, rate, 0, b.cfg.MaxVUs, d)
		if err != nil {
			return row, err
		}
		row.achieved = r.Rate * r.Success
		row.requests, row.errors, row.cpu = r.Requests, r.Requests-r.ok(), cpu
		row.dropped = max(0, int64(float64(rate)*d.Seconds())-r.Requests)
		row.p50, row.p99, row.sentP50 = r.Latencies.P50, r.Latencies.P99, r.Latencies.P50
	case "k6":
		r, cpu, _, err := b.runK6(ctx, rate, d)
		if err != nil {
			return row, err
		}
		row.achieved = r.rps * okShare(r.requests, r.failed)
		row.requests, row.errors, row.dropped, row.vusMax, row.cpu = r.requests, r.failed, r.dropped, r.vusMax, cpu
		row.p50, row.p99, row.sentP50 = r.p50, r.p99, r.p50
	default:
		return row, fmt.Errorf("no open-model tool %q", tool)
	}
	return row, nil
}

// okShare is the share of n requests that did not fail.
func okShare(n, failed int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(n-failed) / float64(n)
}

// verdictText is the engine's verdict for a progress line.
func (r openRow) verdictText() string {
	if r.valid == nil {
		return ""
	}
	return ", " + r.verdict()
}

// verdict is the engine's verdict on itself.
func (r openRow) verdict() string {
	switch {
	case r.valid == nil:
		return "—"
	case *r.valid:
		return "valid"
	default:
		return "invalid (" + strings.Join(r.invalid, "; ") + ")"
	}
}

// maxShort is how far below its rate the open model may fall.
const maxShort = 0.01

// maxBias is the dispatch bias the engine should stay within.
const maxBias = 100 * time.Microsecond

// find is the row of tool at rate.
func (t openTable) find(tool string, rate int) (openRow, bool) {
	for _, r := range t.rows {
		if r.tool == tool && r.rate == rate {
			return r, true
		}
	}
	return openRow{}, false
}

// goal says whether an engine row met its goal, in words. On a quiet
// machine: within maxShort of the rate and valid, up to half the
// closed-model maximum. On a crowded one: the same with a p99 within
// twice vegeta's, or honestly invalid (the run says it could not keep up).
func (t openTable) goal(r openRow, crowded bool) string {
	if !r.engine {
		return ""
	}
	if r.rate > t.half {
		return "— (above half the max)"
	}
	kept := -r.rateError() <= maxShort
	if !crowded {
		return verdict(kept && *r.valid, fmt.Sprintf("within %.0f%% and valid", maxShort*100))
	}
	v, ok := t.find("vegeta", r.rate)
	switch {
	case ok && kept && r.p99 <= 2*v.p99:
		return "met: within 1%, p99 ≤ 2× vegeta's"
	case !*r.valid:
		return fmt.Sprintf("said so: invalid, VUs up to %d", r.vusMax)
	case !kept:
		return "missed: short, yet valid"
	default:
		return fmt.Sprintf("missed: p99 %.1f× vegeta's", float64(r.p99)/float64(max(v.p99, 1)))
	}
}

// write prints t as a table, the goals beside, and the dispatch bias.
func (t openTable) write(w io.Writer, crowded bool) {
	tb := table{header: []string{"rate/s", "tool", "achieved/s", "error", "dropped", "failed", "p50 ms", "p99 ms", "p50 as sent", "VUs max", "CPU µs/req", "verdict", "goal"}}
	for _, r := range t.rows {
		vus := "—"
		if r.vusMax > 0 {
			vus = fmt.Sprint(r.vusMax)
		}
		name := r.tool
		if r.engine {
			name = "**" + name + "**"
		}
		tb.add(thousands(float64(r.rate)), name, thousands(r.achieved), fmt.Sprintf("%+.2f%%", r.rateError()*100), fmt.Sprint(r.dropped), fmt.Sprint(r.errors),
			ms(r.p50), ms(r.p99), ms(r.sentP50), vus, fmt.Sprintf("%.1f", perRequest(r.cpu, r.requests)), r.verdict(), t.goal(r, crowded))
	}
	tb.write(w)
	fmt.Fprintf(w, "\nhalf the engine's closed-model maximum: %s/s. achieved: requests started per second, first to last, × the share that succeeded; error: achieved against the rate; dropped: the engine's and k6's dropped iterations, vegeta's requests never sent; p50/p99: the engine's timed from each iteration's scheduled start (what it reports and gates on), vegeta's and k6's from the actual send; verdict: the engine's validity (harness run exits 101 when invalid).\n",
		thousands(float64(t.half)))
	fmt.Fprintln(w)
	fmt.Fprintln(w, t.biasLine())
}

// biasLine reports the engine's dispatch bias at the bias rate: its
// median from the scheduled start minus its median as sent, what a
// late dispatch adds to every latency it reports.
func (t openTable) biasLine() string {
	e, ok := t.find("harness", t.bias)
	if !ok {
		return fmt.Sprintf("dispatch bias: no engine run at %d/s", t.bias)
	}
	bias := e.p50 - e.sentP50
	s := fmt.Sprintf("dispatch bias at %s/s: the engine's p50 from the scheduled start %s ms − as sent %s ms = **%s ms** (goal ≤ %s ms: %s)",
		thousands(float64(t.bias)), ms(e.p50), ms(e.sentP50), ms(bias), ms(maxBias), verdict(bias <= maxBias, ""))
	if v, ok := t.find("vegeta", t.bias); ok {
		s += fmt.Sprintf("; vegeta's p50 at that rate %s ms", ms(v.p50))
	}
	return s
}
