package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// turn is what one closed-model turn of one tool measured.
type turn struct {
	requests int64   // answers received
	errors   int64   // failed requests: transport errors and non-2xx
	rps      float64 // answers per second of the tool's run
	// p50 and p99 are the latencies as the tool reports them; zero when
	// it does not.
	p50, p99 time.Duration
	// cpu is the tool's CPU time (its rusage), wall its process's life,
	// server nginx's CPU time over the turn (0 when unknown).
	cpu, wall, server time.Duration
}

// closedTool is a tool of the closed model.
type closedTool struct {
	name   string
	engine bool // one of the harness engine's transports
	run    func(ctx context.Context) (turn, error)
}

// turnLimit bounds one turn of d: the tools stop on their own at d, so
// this only catches a hung one, also on a crowded machine.
func turnLimit(d time.Duration) time.Duration { return 2*d + time.Minute }

// closedTools are the tools of the closed model: wrk first, the reference.
func (b *bench) closedTools() []closedTool {
	c, d, url := b.cfg.Conns, b.cfg.Duration, b.targetURL()
	tools := []closedTool{
		{name: "wrk", run: func(ctx context.Context) (turn, error) {
			r, err := b.pin.tool(child{name: "wrk", path: b.peers.wrk, args: wrkArgs(b.cfg.WrkThreads, c, d, url), limit: turnLimit(d)}).run(ctx)
			if err != nil {
				return turn{}, err
			}
			t, err := parseWrk(string(r.stdout))
			t.cpu, t.wall = r.cpu, r.wall
			return t, err
		}},
		{name: "bombardier", run: func(ctx context.Context) (turn, error) {
			r, err := b.pin.tool(child{name: "bombardier", path: b.peers.bombardier, args: bombardierArgs(c, d, url), limit: turnLimit(d)}).run(ctx)
			if err != nil {
				return turn{}, err
			}
			t, err := parseBombardier(r.stdout)
			t.cpu, t.wall = r.cpu, r.wall
			return t, err
		}},
	}
	for _, tr := range []string{TransportFast, TransportStd} {
		spec := engineSpec{target: b.nginx.URL, vus: c, duration: d, http: tr}
		tools = append(tools, closedTool{name: "harness (-http " + tr + ")", engine: true, run: func(ctx context.Context) (turn, error) {
			r, err := b.runEngine(ctx, spec)
			if err != nil {
				return turn{}, err
			}
			return turn{
				requests: r.res.Requests, errors: r.res.Failures, rps: float64(r.res.Requests) / r.res.Elapsed.Seconds(),
				p50: r.res.SentP50, p99: r.res.SentP99, cpu: r.cpu, wall: r.wall,
			}, nil
		}})
	}
	tools = append(tools, closedTool{name: "vegeta", run: func(ctx context.Context) (turn, error) {
		r, cpu, wall, err := b.runVegeta(ctx, 0, c, c, d)
		t := r.closed()
		t.cpu, t.wall = cpu, wall
		return t, err
	}})
	if b.peers.k6 != "" {
		tools = append(tools, closedTool{name: "k6", run: func(ctx context.Context) (turn, error) {
			r, cpu, wall, err := b.runK6(ctx, 0, d)
			return turn{requests: r.requests, errors: r.failed, rps: r.rps, p50: r.p50, p99: r.p99, cpu: cpu, wall: wall}, err
		}})
	}
	return tools
}

// targetURL is the URL every tool sends to.
func (b *bench) targetURL() string { return b.nginx.URL + "/ping" }

// engineRun is one turn of the engine as its child process ran it.
type engineRun struct {
	res       engineResult
	cpu, wall time.Duration
}

// runEngine runs one turn of the engine in a child process.
func (b *bench) runEngine(ctx context.Context, s engineSpec) (engineRun, error) {
	r, err := b.pin.tool(child{name: "engine turn", path: b.self, args: s.args(), limit: turnLimit(s.duration)}).run(ctx)
	if err != nil {
		return engineRun{}, err
	}
	res, err := parseEngineResult(r.stdout)
	return engineRun{res: res, cpu: r.cpu, wall: r.wall}, err
}

// runVegeta runs vegeta attack (rate 0: the closed model) and reads its
// report; the CPU and wall time are the attack's alone.
func (b *bench) runVegeta(ctx context.Context, rate, workers, maxWorkers int, d time.Duration) (vegetaReport, time.Duration, time.Duration, error) {
	file := filepath.Join(b.tmp, "vegeta.bin")
	defer os.Remove(file)
	atk, err := b.pin.tool(child{
		name: "vegeta attack", path: b.peers.vegeta, args: vegetaAttackArgs(rate, workers, maxWorkers, d, file),
		stdin: strings.NewReader("GET " + b.targetURL() + "\n"), limit: turnLimit(d),
	}).run(ctx)
	if err != nil {
		return vegetaReport{}, 0, 0, err
	}
	rep, err := child{name: "vegeta report", path: b.peers.vegeta, args: []string{"report", "-type", "json", file}, limit: 2 * time.Minute}.run(ctx)
	if err != nil {
		return vegetaReport{}, 0, 0, err
	}
	r, err := parseVegeta(rep.stdout)
	return r, atk.cpu, atk.wall, err
}

// runK6 runs k6 (rate 0: the closed model) and reads its summary export.
func (b *bench) runK6(ctx context.Context, rate int, d time.Duration) (k6Result, time.Duration, time.Duration, error) {
	script, export := filepath.Join(b.tmp, "bench.js"), filepath.Join(b.tmp, "k6-summary.json")
	defer os.Remove(export)
	if err := os.WriteFile(script, []byte(k6Script(b.targetURL(), b.cfg.Conns, b.cfg.MaxVUs, rate, d)), 0o600); err != nil {
		return k6Result{}, 0, 0, err
	}
	r, err := b.pin.tool(child{
		name: "k6", path: b.peers.k6, args: []string{"run", "--quiet", "--no-color", "--summary-export", export, script},
		limit: turnLimit(d),
	}).run(ctx)
	if err != nil {
		return k6Result{}, 0, 0, err
	}
	data, err := os.ReadFile(export)
	if err != nil {
		return k6Result{}, 0, 0, fmt.Errorf("k6: %w", err)
	}
	res, err := parseK6(data)
	return res, r.cpu, r.wall, err
}

// closedModel runs every closed-model tool for Rounds rounds, in an order
// that rotates each round, and returns their turns.
func (b *bench) closedModel(ctx context.Context, cond string) (closedTable, error) {
	tools := b.closedTools()
	t := closedTable{rows: make([]closedRow, len(tools))}
	for i, tool := range tools {
		t.rows[i] = closedRow{name: tool.name, engine: tool.engine}
	}
	for round := range b.cfg.Rounds {
		for k := range tools {
			i := (k + round) % len(tools)
			b.note("%s · closed · round %d/%d · %s for %s", cond, round+1, b.cfg.Rounds, tools[i].name, b.cfg.Duration)
			srv0, srvErr0 := processCPU(b.nginx.Pid())
			tt, err := tools[i].run(ctx)
			if err != nil {
				return t, fmt.Errorf("%s, closed model, %s: %w", cond, tools[i].name, err)
			}
			if srv1, srvErr1 := processCPU(b.nginx.Pid()); srvErr0 == nil && srvErr1 == nil {
				tt.server = srv1 - srv0
			}
			if tt.requests == 0 {
				return t, fmt.Errorf("%s, closed model, %s: no answer in %s", cond, tools[i].name, b.cfg.Duration)
			}
			b.note("  %s req/s, %.1f µs CPU a request, %d errors", thousands(tt.rps), perRequest(tt.cpu, tt.requests), tt.errors)
			t.rows[i].turns = append(t.rows[i].turns, tt)
		}
	}
	return t, nil
}

// closedTable is the closed model's turns, a row per tool, wrk first.
type closedTable struct {
	rows []closedRow
}

// closedRow is one tool's turns.
type closedRow struct {
	name   string
	engine bool
	turns  []turn
}

// median is the median of the row's rates.
func (r closedRow) median() float64 {
	v := make([]float64, len(r.turns))
	for i, t := range r.turns {
		v[i] = t.rps
	}
	return median(v)
}

// cpuPerRequest is the tool's CPU over all its turns, in µs a request.
func (r closedRow) cpuPerRequest() float64 {
	var cpu time.Duration
	var n int64
	for _, t := range r.turns {
		cpu += t.cpu
		n += t.requests
	}
	return perRequest(cpu, n)
}

// serverShare is nginx's CPU over the row's turns as a share of one core;
// 0 when unknown.
func (r closedRow) serverShare() float64 {
	var srv, wall time.Duration
	for _, t := range r.turns {
		srv += t.server
		wall += t.wall
	}
	if wall <= 0 {
		return 0
	}
	return srv.Seconds() / wall.Seconds()
}

func (r closedRow) errors() int64 {
	var n int64
	for _, t := range r.turns {
		n += t.errors
	}
	return n
}

// ratio is r's median as a share of wrk's.
func (t closedTable) ratio(r closedRow) float64 {
	w := t.rows[0].median()
	if w <= 0 {
		return 0
	}
	return r.median() / w
}

// engineMax is the engine's closed-model maximum: the best median of its
// transports.
func (t closedTable) engineMax() float64 {
	var m float64
	for _, r := range t.rows {
		if r.engine {
			m = max(m, r.median())
		}
	}
	return m
}

// find is the row of the named tool, ok false without one.
func (t closedTable) find(name string) (closedRow, bool) {
	i := slices.IndexFunc(t.rows, func(r closedRow) bool { return r.name == name })
	if i < 0 {
		return closedRow{}, false
	}
	return t.rows[i], true
}

// quietRatioGoal is the share of wrk's rate the engine's closed model
// should reach on a quiet machine.
const quietRatioGoal = 0.9

// closedGoal says whether an engine row met its goal, in words.
type closedGoal func(t closedTable, r closedRow) string

// closedGoalQuiet: at least quietRatioGoal of wrk.
func closedGoalQuiet(t closedTable, r closedRow) string {
	return verdict(t.ratio(r) >= quietRatioGoal, fmt.Sprintf("≥ %.2f× wrk", quietRatioGoal))
}

// closedGoalCrowded: at least bombardier's share of wrk.
func closedGoalCrowded(t closedTable, r closedRow) string {
	bo, ok := t.find("bombardier")
	if !ok {
		return "—"
	}
	want := t.ratio(bo)
	return verdict(t.ratio(r) >= want, fmt.Sprintf("≥ bombardier's %.2f×", want))
}

// write prints t as a table, with goal's verdict beside the engine's rows.
func (t closedTable) write(w io.Writer, goal closedGoal) {
	tb := table{header: []string{"tool", "req/s (median)", "× wrk", "each round, req/s", "CPU µs/req", "nginx CPU", "failed", "goal"}}
	for _, r := range t.rows {
		rounds := make([]string, len(r.turns))
		for i, tt := range r.turns {
			rounds[i] = thousands(tt.rps)
		}
		g := ""
		if r.engine {
			g = goal(t, r)
		}
		srv := "n/a"
		if s := r.serverShare(); s > 0 {
			srv = fmt.Sprintf("%.0f%%", s*100)
		}
		name := r.name
		if r.engine {
			name = "**" + name + "**"
		}
		tb.add(name, thousands(r.median()), fmt.Sprintf("%.2f", t.ratio(r)), strings.Join(rounds, " / "),
			fmt.Sprintf("%.1f", r.cpuPerRequest()), srv, fmt.Sprint(r.errors()), g)
	}
	tb.write(w)
	fmt.Fprintln(w, "\nreq/s: answers per second of each tool's own run; CPU: the tool's process (user + system) over all its rounds; nginx CPU: share of one core during the tool's turns (nginx has one).")
}
