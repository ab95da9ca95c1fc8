// Package executor runs one scenario's schedule (k6's executors) and
// streams the samples of its iterations.
//
// The open model (constant-arrival-rate, ramping-arrival-rate) starts
// iterations on the schedule of pace.FromScenario, on a pace.Clock,
// whether or not earlier ones finished; an iteration that finds no free
// virtual user and no room to add one (MaxVUs) is dropped and counted,
// never queued, as in k6. VUs beyond the pre-allocated ones are added no
// faster than the schedule starts iterations (see growth). The
// closed model (constant-vus, ramping-vus, per-vu-iterations) runs virtual
// users that start their next iteration when the last one ends.
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
	"github.com/taskready/taskready/loadtest/pace"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/seed"
	"github.com/taskready/taskready/loadtest/transport"
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
// every sample to out, and returns the counters.
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
func Run(ctx context.Context, cfg Config, s scenario.Scenario, out chan<- record.Sample) (Counters, error) {
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
	switch s.Executor {
	case scenario.ConstantArrivalRate, scenario.RampingArrivalRate:
		err = r.open(ctx)
	case scenario.ConstantVUs:
		r.constantVUs(ctx)
	case scenario.PerVUIterations:
		r.perVUIterations(ctx)
	case scenario.RampingVUs:
		r.rampingVUs(ctx)
	}
	if err == nil {
		err = ctx.Err()
	}
	return r.c.snapshot(), err
}

type runner struct {
	cfg   Config
	s     scenario.Scenario
	out   chan<- record.Sample
	pick  *picker
	c     counters
	start time.Time     // the scenario's own start, after StartTime
	end   time.Duration // the schedule's length, 0 if none
	// emails caches the seeded users' emails by index-1, filled as VUs
	// meet them: formatting one per iteration was a measurable cost
	// against a fast target. nil when Users.Count is above maxCachedEmails.
	emails []atomic.Pointer[string]
	// opts are the journey options every iteration shares (Sleep).
	opts []journey.Option
}

// maxCachedEmails bounds the email cache to 8 MB of pointers; a larger
// user base formats its emails every iteration.
const maxCachedEmails = 1 << 20

func newRunner(cfg Config, s scenario.Scenario, out chan<- record.Sample) (*runner, error) {
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
	switch s.Executor {
	case scenario.ConstantArrivalRate, scenario.RampingArrivalRate:
		if s.PreAllocatedVUs < 0 || s.MaxVUs < 0 || s.PreAllocatedVUs == 0 && s.MaxVUs == 0 {
			return nil, fmt.Errorf("scenario %q: %s needs preAllocatedVUs or maxVUs", s.Name, s.Executor)
		}
		if s.MaxVUs > 0 && s.MaxVUs < s.PreAllocatedVUs {
			return nil, fmt.Errorf("scenario %q: maxVUs %d is below preAllocatedVUs %d", s.Name, s.MaxVUs, s.PreAllocatedVUs)
		}
	// 0 VUs is a scenario that runs nothing: an execution segment's share
	// of a scenario with fewer VUs than segments (package segment). Files
	// never have one: the loader wants at least 1.
	case scenario.ConstantVUs:
		if s.VUs < 0 || s.Duration <= 0 {
			return nil, fmt.Errorf("scenario %q: %s needs vus of at least 0 and a positive duration", s.Name, s.Executor)
		}
	case scenario.PerVUIterations:
		if s.VUs < 0 || s.Iterations <= 0 || s.MaxDuration < 0 {
			return nil, fmt.Errorf("scenario %q: %s needs vus of at least 0 and positive iterations", s.Name, s.Executor)
		}
	case scenario.RampingVUs:
		if len(s.Stages) == 0 || s.StartVUs < 0 {
			return nil, fmt.Errorf("scenario %q: %s needs stages", s.Name, s.Executor)
		}
		for i, st := range s.Stages {
			if st.Duration < 0 || st.Target < 0 {
				return nil, fmt.Errorf("scenario %q: stage %d: negative duration or target", s.Name, i)
			}
		}
	default:
		return nil, fmt.Errorf("scenario %q: unknown executor %q", s.Name, s.Executor)
	}
	r := &runner{cfg: cfg, s: s, out: out, pick: p, end: s.Duration}
	if n := cfg.File.Users.Count; n > 0 && n <= maxCachedEmails {
		r.emails = make([]atomic.Pointer[string], n)
	}
	if cfg.Sleep != nil {
		r.opts = []journey.Option{journey.Sleep(cfg.Sleep)}
	}
	if s.Executor == scenario.PerVUIterations {
		r.end = s.MaxDuration
	}
	if len(s.Stages) > 0 {
		r.end = 0
		for _, st := range s.Stages {
			r.end += st.Duration
		}
	}
	return r, nil
}

// vu is one virtual user's identity; only the goroutine running it
// touches it.
type vu struct {
	id      int
	iter    int
	samples []record.Sample // reused by every iteration (journey.Append)
}

// iteration runs one iteration of v and sends its samples: its requests',
// then the iteration's own (record.Sample.Iteration), timed from intended
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
	for _, smp := range v.samples {
		r.out <- smp // a copy: the slice is free again once sent
	}
}

func (r *runner) phase(elapsed time.Duration) string {
	if r.s.Executor == scenario.PerVUIterations && r.s.MaxDuration == 0 && len(r.s.Stages) == 0 {
		if elapsed < 0 {
			return ""
		}
		return r.s.Phase // no end to fall after
	}
	return pace.Phase(r.s, elapsed)
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

// open runs an arrival-rate scenario: vegeta's attack loop with the
// accumulated schedule time as the pacer's elapsed time, so the number of
// iterations due is exactly the pacer's, however late the loop runs.
func (r *runner) open(ctx context.Context) error {
	pacer, err := pace.FromScenario(r.s)
	if err != nil {
		return err
	}
	maxVUs := r.s.MaxVUs
	if maxVUs == 0 {
		maxVUs = r.s.PreAllocatedVUs
	}
	// Each VU is a goroutine that waits for its next iteration's
	// intended start, rather than a goroutine per iteration: a fresh
	// goroutine grew its stack through the HTTP client's calls every
	// time, a measurable cost at high rates.
	idle := make(chan *worker, maxVUs)
	var wg sync.WaitGroup
	var workers []*worker
	defer func() {
		for _, w := range workers {
			close(w.work)
		}
		wg.Wait()
	}()
	spawn := func(id int) *worker {
		w := &worker{v: &vu{id: id}, work: make(chan time.Time, 1)}
		workers = append(workers, w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for intended := range w.work {
				r.iteration(ctx, w.v, intended, intended)
				idle <- w
			}
		}()
		return w
	}
	for i := 1; i <= r.s.PreAllocatedVUs; i++ {
		idle <- spawn(i)
	}
	made := r.s.PreAllocatedVUs
	r.c.vusMax.Store(int64(made))
	g := newGrowth()
	defer g.stop()

	// A precise clock: a timer would start iterations up to a millisecond
	// late on an idle process, and that lateness reads as the target's
	// latency (pace.Clock).
	clock := pace.NewClock()
	defer clock.Close()
	r.start = time.Now()
	var sched time.Duration
	var hits uint64
	for {
		wait, stop := pacer.Pace(sched, hits)
		if stop {
			return nil
		}
		sched += wait
		hits++
		intended := r.start.Add(sched)
		if err := clock.Wait(ctx, intended); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("scenario %q: %w", r.s.Name, err)
		}
		var w *worker
		select {
		case w = <-idle:
		default:
			if made < maxVUs {
				var err error
				if w, err = g.next(ctx, idle, pacer.Rate(sched)); err != nil {
					return nil
				}
				if w == nil {
					made++
					r.c.vusMax.Store(int64(made))
					w = spawn(made)
				}
			}
		}
		if w == nil {
			r.c.dropped.Add(1)
			if r.cfg.Events != nil {
				r.cfg.Events.Dropped(r.s.Name)
			}
			continue
		}
		w.work <- intended // never blocks: an idle worker's buffer is empty
	}
}

// worker is an open-model VU's goroutine: it runs one iteration per
// intended start sent on work, and ends when work closes.
type worker struct {
	v    *vu
	work chan time.Time
}

// growthBurst is how far ahead of the schedule's pace the open model may
// add VUs at once: 10 ms of iterations, so a dispatcher a little late on
// a busy machine is never slowed by it.
const growthBurst = 10 * time.Millisecond

// growth paces how fast the open model adds VUs beyond its
// pre-allocated ones: no faster than the schedule starts iterations,
// after a burst of growthBurst's worth. A target that slows down needs
// one more VU per iteration due, which that pace keeps up with. What it
// holds back is a burst: a dispatcher that was itself held up (a
// descheduled process, a GC pause) finds many iterations due at once, and
// starting a VU for each of them (each with its own connection to open)
// made a run on a crowded machine feed on itself, up to maxVUs and
// hundreds of milliseconds of latency that said more about the generator
// than the target. An iteration held back waits for the first VU freed
// or the next one the pace allows, at most one scheduled interval; its
// delay shows as send lag.
type growth struct {
	tokens float64 // VUs that may be added now
	last   time.Time
	timer  *time.Timer
}

func newGrowth() *growth {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &growth{tokens: -1, timer: t}
}

func (g *growth) stop() { g.timer.Stop() }

// next returns a VU freed meanwhile, or nil when a new one may be added,
// for an iteration due at the given rate (iterations per second). It
// returns ctx's error if ctx ends first.
func (g *growth) next(ctx context.Context, idle <-chan *worker, rate float64) (*worker, error) {
	rate = max(rate, 1) // a pause in a ramp must not stall growth for good
	burst := max(1, rate*growthBurst.Seconds())
	now := time.Now()
	if g.tokens < 0 { // the first call: the burst is there from the start
		g.tokens = burst
	} else {
		g.tokens = min(burst, g.tokens+now.Sub(g.last).Seconds()*rate)
	}
	g.last = now
	if g.tokens >= 1 {
		g.tokens--
		return nil, nil
	}
	g.timer.Reset(time.Duration((1 - g.tokens) / rate * float64(time.Second)))
	select {
	case w := <-idle:
		g.timer.Stop()
		return w, nil
	case <-g.timer.C:
		now := time.Now()
		g.tokens = min(burst, g.tokens+now.Sub(g.last).Seconds()*rate) - 1
		g.last = now
		return nil, nil
	case <-ctx.Done():
		g.timer.Stop()
		return nil, ctx.Err()
	}
}

// loop runs v's iterations until stop is done, the scenario's end (r.end
// after r.start, if r.end > 0) or n iterations ran (n 0: no limit).
// Iterations run under ctx, so stop lets the current one end. The end is
// also checked on the clock: stop's timer may fire a little late.
func (r *runner) loop(ctx, stop context.Context, v *vu, n int) {
	for i := 0; n == 0 || i < n; i++ {
		now := time.Now()
		if stop.Err() != nil || r.end > 0 && now.Sub(r.start) >= r.end {
			return
		}
		r.iteration(ctx, v, time.Time{}, now)
	}
}

func (r *runner) constantVUs(ctx context.Context) {
	r.closed(ctx, r.s.Duration, 0)
}

func (r *runner) perVUIterations(ctx context.Context) {
	r.closed(ctx, r.s.MaxDuration, r.s.Iterations)
}

// closed runs s.VUs VUs, each for n iterations (0: no limit), starting no
// iteration after d (0: no limit).
func (r *runner) closed(ctx context.Context, d time.Duration, n int) {
	r.start = time.Now()
	stop, cancel := context.WithCancel(ctx)
	if d > 0 {
		stop, cancel = context.WithDeadline(ctx, r.start.Add(d))
	}
	defer cancel()
	r.c.vusMax.Store(int64(r.s.VUs))
	var wg sync.WaitGroup
	for i := 1; i <= r.s.VUs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop(ctx, stop, &vu{id: i}, n)
		}()
	}
	wg.Wait()
}

// change is a point of a ramping-vus schedule: from at on, vus VUs run.
type change struct {
	at  time.Duration
	vus int
}

// vuChanges lists when the VU count of a ramping-vus scenario changes.
// Within a stage from a to b VUs over d the count moves linearly and is
// truncated towards a: VU a+i (going up) starts at i·d/(b-a), and going
// down one VU stops at each i·d/(a-b). The list ends with 0 at the end.
func vuChanges(s scenario.Scenario) []change {
	out := []change{{0, s.StartVUs}}
	from := s.StartVUs
	var at time.Duration
	for _, st := range s.Stages {
		a, b := from, st.Target
		if st.Duration == 0 {
			out = append(out, change{at, b})
		} else if a != b {
			steps := b - a
			if steps < 0 {
				steps = -steps
			}
			for i := 1; i <= steps; i++ {
				x := time.Duration(int64(st.Duration) * int64(i) / int64(steps))
				n := a + i
				if b < a {
					n = a - i
				}
				out = append(out, change{at + x, n})
			}
		}
		at += st.Duration
		from = b
	}
	return append(out, change{at, 0})
}

// slot is one ramping VU: stopped by cancel, done closes when its
// goroutine ended.
type slot struct {
	v      *vu
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *runner) rampingVUs(ctx context.Context) {
	changes := vuChanges(r.s)
	r.start = time.Now()
	var slots []*slot // index i is VU i+1
	running := 0
	var wg sync.WaitGroup
	defer func() {
		for _, sl := range slots {
			if sl.cancel != nil {
				sl.cancel()
			}
		}
		wg.Wait()
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for _, ch := range changes {
		if d := time.Until(r.start.Add(ch.at)); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		for running < ch.vus {
			if running == len(slots) {
				slots = append(slots, &slot{v: &vu{id: running + 1}})
			}
			sl := slots[running]
			prev := sl.done
			stop, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			sl.cancel, sl.done = cancel, done
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(done)
				if prev != nil {
					<-prev // the slot's last goroutine finishes its iteration first
				}
				r.loop(ctx, stop, sl.v, 0)
			}()
			running++
			if int64(running) > r.c.vusMax.Load() {
				r.c.vusMax.Store(int64(running))
			}
		}
		for running > ch.vus {
			running--
			slots[running].cancel()
		}
	}
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
