// Package executor runs one scenario's schedule (k6's executors) and
// streams the samples of its iterations.
//
// Each executor is one file (constant_arrival_rate.go, ...) whose
// Schedule holds the facts of the plan it makes of a scenario's fields:
// its length, its phase at an instant, its timeline, its peak VUs, its
// planned iterations and pacer (open model) and its share of the load in
// an execution segment; Plan returns a scenario's. The engine, the
// summary, the memory check and the segments read those facts rather than
// the scenario's fields.
//
// The open model (constant-arrival-rate, ramping-arrival-rate; open.go)
// starts iterations on its schedule's pacer (Paced), on a clock.Clock,
// whether or not earlier ones finished; an iteration that finds no free
// virtual user and no room to add one (MaxVUs) is dropped and counted,
// never queued, as in k6. VUs beyond the pre-allocated ones are added no
// faster than the schedule starts iterations (see growth). The closed
// model (constant-vus, ramping-vus, per-vu-iterations; closed.go) runs
// virtual users that start their next iteration when the last one ends.
package executor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskready/taskready/loadtest/journey"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/transport"
	"github.com/taskready/taskready/seed"
)

// Config is what every scenario of a run shares.
type Config struct {
	// Target is the base URL, "http://127.0.0.1:3000".
	Target string
	// File gives the journeys and the seeded users.
	File *scenario.File
	// Client is shared by every VU (keep-alive); nil means
	// http.DefaultClient, or see FastHTTP. Against a fast target net/http
	// costs several times what the fasthttp transport does per request
	// (BenchmarkEngineVsWrk), and http.DefaultClient keeps only two idle
	// connections per host, so every VU beyond two reconnects.
	Client *http.Client
	// FastHTTP, with a nil Client, has each Run send through its own
	// transport.NewClient (one pool of connections the VUs share, no cap
	// on them), whose idle connections it closes when it returns.
	FastHTTP bool
	// Sleep, if set, replaces how think time is slept (journey.Sleep).
	Sleep func(ctx context.Context, d time.Duration) error
	// Observe, if set, hears of every request the journeys send
	// (journey.Observe).
	Observe journey.Observer
	// Events, if set, hears of each iteration as it starts or is
	// dropped, so live metrics see them before Run returns its counters.
	Events Events
}

// Events hears of iterations as they happen; its methods are called from
// many goroutines at once.
type Events interface {
	// Started is called as an iteration of the named scenario begins.
	Started(scenario string)
	// Dropped is called for an open-model iteration that found no VU.
	Dropped(scenario string)
	// Finished is called as an iteration Started ends, however it
	// ended: between the two its VU is busy (the live line's active
	// VUs).
	Finished(scenario string)
}

// Counters count one scenario's iterations.
type Counters struct {
	// Iterations is how many iterations started.
	Iterations int64
	// Dropped is how many open-model iterations were due but found no
	// free VU with the pool at MaxVUs.
	Dropped int64
	// VUsMax is the most VUs that existed at once.
	VUsMax int64
}

type counters struct {
	iterations, dropped, vusMax atomic.Int64
}

func (c *counters) snapshot() Counters {
	return Counters{Iterations: c.iterations.Load(), Dropped: c.dropped.Load(), VUsMax: c.vusMax.Load()}
}

// userPrime spreads VUs over the seeded users: iteration k of VU v logs
// in as user ((v*userPrime + k) mod Count) + 1, or, for a journey with
// users of its own (scenario.Users.Journeys), From + ((v*userPrime + k)
// mod (To-From+1)).
const userPrime = 7919

// Run executes s until its schedule ends or ctx is cancelled, sending
// every sample to out in batches, and returns the counters. Each batch
// is the receiver's: Run never touches it again unless the receiver hands
// it back with Release.
//
// Run does not close out: several scenarios of a run run at once and share
// one channel, so only the caller knows when the last of them returned
// and may close it. The caller must keep receiving from out until Run
// returns (also after cancelling ctx), since the iterations still in
// flight send their samples.
//
// When the schedule ends no new iteration starts and Run waits for those
// in flight (bounded by their steps' timeouts); every goroutine Run
// started has ended when it returns. Cancelling ctx also cuts the
// in-flight requests short; Run then returns ctx's error with the
// counters so far. s.StartTime delays the whole scenario.
func Run(ctx context.Context, cfg Config, s scenario.Scenario, out chan<- []record.Sample) (Counters, error) {
	r, err := newRunner(cfg, s, out)
	if err != nil {
		return Counters{}, err
	}
	if cfg.Client == nil && cfg.FastHTTP {
		r.cfg.Client = transport.NewClient(transport.Options{})
		defer r.cfg.Client.CloseIdleConnections()
	}
	if s.StartTime > 0 {
		if err := sleep(ctx, s.StartTime); err != nil {
			return Counters{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return Counters{}, err
	}
	err = r.sched.run(ctx, r)
	if err == nil {
		err = ctx.Err()
	}
	return r.c.snapshot(), err
}

type runner struct {
	cfg   Config
	s     scenario.Scenario
	sched Schedule
	out   chan<- []record.Sample
	pick  *picker
	c     counters
	start time.Time     // the scenario's own start, after StartTime
	end   time.Duration // the schedule's length, 0 if none
	// emails caches the seeded users' emails by index-1, filled as VUs
	// meet them: formatting one per iteration was a measurable cost
	// against a fast target. nil when Users.Count is above maxCachedEmails.
	emails []atomic.Pointer[string]
	// opts are the journey options every iteration shares (Sleep, Observe).
	opts []journey.Option
	// hooks lets the package's tests see inside a run; nil outside them.
	hooks hooks
}

// hooks are called, when set, as a run reaches the points they name.
type hooks struct {
	vuStarted   func() // an open-model VU's goroutine begins
	clockStarts func() // the open model is about to take its start time
}

// maxCachedEmails bounds the email cache to 8 MB of pointers; a larger
// user base formats its emails every iteration.
const maxCachedEmails = 1 << 20

func newRunner(cfg Config, s scenario.Scenario, out chan<- []record.Sample) (*runner, error) {
	if cfg.File == nil {
		return nil, errors.New("executor: no scenario file")
	}
	if out == nil {
		return nil, errors.New("executor: no sample channel")
	}
	p, err := newPicker(cfg.File, s)
	if err != nil {
		return nil, err
	}
	for name, rg := range cfg.File.Users.Journeys {
		if rg.From < 1 || rg.To < rg.From || rg.To > cfg.File.Users.Count {
			return nil, fmt.Errorf("executor: journey %q logs in as users %d to %d, not within the %d seeded", name, rg.From, rg.To, cfg.File.Users.Count)
		}
	}
	sched, err := Plan(s)
	if err != nil {
		return nil, err
	}
	if err := sched.validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, s: s, sched: sched, out: out, pick: p, end: sched.Length()}
	if n := cfg.File.Users.Count; n > 0 && n <= maxCachedEmails {
		r.emails = make([]atomic.Pointer[string], n)
	}
	if cfg.Sleep != nil {
		r.opts = append(r.opts, journey.Sleep(cfg.Sleep))
	}
	if cfg.Observe != nil {
		r.opts = append(r.opts, journey.Observe(cfg.Observe))
	}
	return r, nil
}

// vu is one virtual user's identity; only the goroutine running it
// touches it.
type vu struct {
	id      int
	iter    int
	samples []record.Sample // reused by every iteration (journey.Append)
	batch   []record.Sample // held for the next send (hold)
	sent    time.Time       // when the last batch was sent
}

// A VU sends its samples in batches of up to batchMax, at least every
// batchAge. A send per sample (two per request with the iteration's own)
// was, after the system calls, the engine's largest cost against a fast
// target: about 3 of 22 µs per request on 2 cores, mostly in waking the
// engine's reader for each one. A VU whose iterations take longer than
// batchAge sends after each, as before; one that finishes them faster
// holds its samples at most batchAge past their iteration's end, unless
// its next iteration then blocks (a request that hangs), and sends what
// it holds before it waits for work (the open model) or ends.
const (
	batchMax = 64
	batchAge = 20 * time.Millisecond
)

// hold adds v's last iteration's samples to its batch and sends the
// batch once it is full or batchAge after the last send.
func (r *runner) hold(v *vu) {
	v.batch = append(v.batch, v.samples...)
	if len(v.batch) >= batchMax || time.Since(v.sent) >= batchAge {
		r.send(v)
	}
}

// send sends v's batch, if any; the receiver keeps it.
func (r *runner) send(v *vu) {
	if len(v.batch) == 0 {
		return
	}
	r.out <- v.batch
	v.batch, v.sent = newBatch(), time.Now()
}

// batches holds the batches receivers handed back (Release), so that a
// fast run does not allocate a new one per VU every batchAge: that was
// three quarters of the engine's allocations against a fast target, and
// the garbage collector ran 16 times a second for it.
var batches = sync.Pool{New: func() any {
	b := make([]record.Sample, 0, batchMax)
	return &b
}}

func newBatch() []record.Sample { return (*batches.Get().(*[]record.Sample))[:0] }

// Release hands back a batch received from Run once the receiver is done
// with it, for a VU's next batch. The receiver must not touch it after;
// one it never releases is left to the garbage collector.
func Release(batch []record.Sample) {
	if cap(batch) != batchMax {
		return // not one of Run's
	}
	clear(batch) // let go of the strings it holds
	batch = batch[:0]
	batches.Put(&batch)
}

// iteration runs one iteration of v and holds its samples for the VU's
// next batch: its requests', then the iteration's own (record.Sample.Iteration), timed from intended
// (the open-model schedule's start; zero for the closed model) as k6 times
// iteration_duration, or from its actual start. An iteration cut short by
// ctx sends no sample of its own, as k6 emits none for an interrupted
// iteration. at is when it starts by the schedule (intended) or the clock.
func (r *runner) iteration(ctx context.Context, v *vu, intended, at time.Time) {
	j := r.pick.next()
	elapsed := at.Sub(r.start)
	if !intended.IsZero() && r.end > 0 && elapsed >= r.end {
		// The pacers schedule the last hit at the very end, which the
		// half-open phases put after the scenario; it belongs to the last.
		elapsed = r.end - 1
	}
	tags := journey.Tags{Scenario: r.s.Name, Phase: r.phase(elapsed)}
	opts := r.opts // shared and never appended to in place: no allocation when closed
	if !intended.IsZero() {
		opts = append(opts[:len(opts):len(opts)], journey.Intended(intended))
	}
	jv := journey.VU{ID: v.id, Iteration: v.iter, User: r.user(v, j), Client: r.cfg.Client, Target: r.cfg.Target}
	v.iter++
	r.c.iterations.Add(1)
	if r.cfg.Events != nil {
		r.cfg.Events.Started(r.s.Name)
	}
	began := at
	if !intended.IsZero() {
		began = time.Now() // at is the schedule's: the actual start may be later
	}
	v.samples = journey.Append(ctx, v.samples[:0], j, jv, tags, opts...)
	if ctx.Err() == nil {
		v.samples = append(v.samples, record.Sample{Iteration: true, Scenario: tags.Scenario, Journey: j.Name,
			Phase: tags.Phase, Intended: intended, Start: began, Latency: time.Since(began)})
	}
	r.hold(v) // copies: v.samples is free for the next iteration
	if r.cfg.Events != nil {
		r.cfg.Events.Finished(r.s.Name)
	}
}

// phase is the phase of an iteration that starts at elapsed. A schedule
// with no set end (per-vu-iterations without maxDuration) has no end for
// its phase to fall after: its iterations are all in the scenario's own.
func (r *runner) phase(elapsed time.Duration) string {
	if r.end == 0 && elapsed >= 0 {
		return r.s.Phase
	}
	return r.sched.Phase(elapsed)
}

// user is the seeded user of v's current iteration of j.
func (r *runner) user(v *vu, j *scenario.Journey) journey.User {
	u := r.cfg.File.Users
	if u.Count <= 0 {
		return journey.User{}
	}
	from, n := 1, u.Count
	if len(u.Journeys) > 0 { // no lookup for the files without ranges
		rg := u.Of(j.Name)
		from, n = rg.From, rg.To-rg.From+1
	}
	idx := from + int((int64(v.id)*userPrime+int64(v.iter))%int64(n))
	return journey.User{Index: idx, Email: r.email(idx), Password: u.Password}
}

// email is seeded user idx's email, from the cache when it holds it.
func (r *runner) email(idx int) string {
	if r.emails == nil {
		return seed.Email(r.cfg.File.Users.Prefix, idx)
	}
	p := &r.emails[idx-1]
	if e := p.Load(); e != nil {
		return *e
	}
	e := seed.Email(r.cfg.File.Users.Prefix, idx)
	p.Store(&e) // a racing VU stores an equal string: either wins
	return e
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// picker chooses journeys by smooth weighted round-robin (as nginx):
// deterministic, and with weights 3:1 every 4 picks hold 3 of one and 1 of
// the other, spread out.
type picker struct {
	mu       sync.Mutex
	journeys []*scenario.Journey
	weight   []int
	current  []int
	total    int
}

func newPicker(f *scenario.File, s scenario.Scenario) (*picker, error) {
	p := &picker{}
	for _, wj := range s.Journeys {
		if wj.Weight < 0 {
			return nil, fmt.Errorf("scenario %q: journey %q has a negative weight", s.Name, wj.Name)
		}
		j := f.Journeys[wj.Name]
		if j == nil {
			return nil, fmt.Errorf("scenario %q: no journey %q", s.Name, wj.Name)
		}
		if wj.Weight == 0 {
			continue
		}
		p.journeys = append(p.journeys, j)
		p.weight = append(p.weight, wj.Weight)
		p.total += wj.Weight
	}
	if p.total == 0 {
		return nil, fmt.Errorf("scenario %q: no journey to run", s.Name)
	}
	p.current = make([]int, len(p.weight))
	return p, nil
}

func (p *picker) next() *scenario.Journey {
	p.mu.Lock()
	defer p.mu.Unlock()
	best := 0
	for i, w := range p.weight {
		p.current[i] += w
		if p.current[i] > p.current[best] {
			best = i
		}
	}
	p.current[best] -= p.total
	return p.journeys[best]
}
